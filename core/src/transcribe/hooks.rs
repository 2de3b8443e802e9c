//! whisper.cpp's abort and progress callbacks, with user data owned by the caller.
//!
//! whisper-rs 0.16's `set_abort_callback_safe` hands whisper.cpp a trampoline typed for the
//! closure while the pointer it passes is to a boxed trait object (undefined behaviour: the
//! abort check reads unrelated memory and aborts calls at random), and both `_safe` setters
//! leak their closure on every call. These trampolines take pointers to values the caller
//! keeps alive until `whisper_full` returns, and never unwind into C.

use std::cell::Cell;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use whisper_rs::whisper_rs_sys as sys;
use whisper_rs::FullParams;

use super::options::CancelToken;

/// A progress callback for one `whisper_full` call (whisper.cpp's percent, 0–100).
pub(crate) type Progress = Box<dyn Fn(i32) + Send + Sync>;

thread_local! {
    /// Whether the `whisper_full` call running on this thread was told to stop.
    static STOPPED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the `whisper_full` call on this thread is stopping because it was cancelled (its
/// "failed to encode/decode" log line is no failure then).
pub(crate) fn stopped_here() -> bool {
    STOPPED.with(Cell::get)
}

unsafe extern "C" fn abort_trampoline(user_data: *mut c_void) -> bool {
    // SAFETY: `user_data` is the `CancelToken` given to `set_abort`, alive for the call.
    let token = unsafe { &*(user_data as *const CancelToken) };
    let stop = catch_unwind(AssertUnwindSafe(|| token.is_cancelled())).unwrap_or(true);
    if stop {
        STOPPED.with(|s| s.set(true));
    }
    stop
}

unsafe extern "C" fn progress_trampoline(
    _: *mut sys::whisper_context,
    _: *mut sys::whisper_state,
    progress: c_int,
    user_data: *mut c_void,
) {
    // SAFETY: `user_data` is the `Progress` given to `set_progress`, alive for the call.
    let cb = unsafe { &*(user_data as *const Progress) };
    let _ = catch_unwind(AssertUnwindSafe(|| cb(progress)));
}

/// Makes whisper.cpp stop when `token` is cancelled.
///
/// # Safety
/// `token` must stay alive (and in place) until the `full` call using `params` returns.
pub(crate) unsafe fn set_abort(params: &mut FullParams<'_, '_>, token: &CancelToken) {
    STOPPED.with(|s| s.set(false));
    // SAFETY: the trampoline matches the user data; the caller keeps the token alive.
    unsafe {
        params.set_abort_callback(Some(abort_trampoline));
        params.set_abort_callback_user_data(token as *const CancelToken as *mut c_void);
    }
}

/// Reports whisper.cpp's progress to `cb`.
///
/// # Safety
/// `cb` must stay alive (and in place) until the `full` call using `params` returns.
pub(crate) unsafe fn set_progress(params: &mut FullParams<'_, '_>, cb: &Progress) {
    // SAFETY: the trampoline matches the user data; the caller keeps the callback alive.
    unsafe {
        params.set_progress_callback(Some(progress_trampoline));
        params.set_progress_callback_user_data(cb as *const Progress as *mut c_void);
    }
}

/// whisper.cpp's log lines to `tracing` (target `whisper_rs::whisper_logging_hook`, as
/// whisper-rs sends them), except that the error a cancelled call logs as it stops is a
/// debug line: a cancelled decode is no failure.
pub(crate) unsafe extern "C" fn whisper_log(
    level: sys::ggml_log_level,
    text: *const c_char,
    _: *mut c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes a NUL-terminated string alive for the call.
    let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy();
    let _ = catch_unwind(AssertUnwindSafe(|| {
        const TARGET: &str = "whisper_rs::whisper_logging_hook";
        let text = text.trim();
        match level {
            sys::ggml_log_level_GGML_LOG_LEVEL_ERROR if stopped_here() => {
                tracing::debug!(target: TARGET, "{text} (the call was cancelled)")
            }
            sys::ggml_log_level_GGML_LOG_LEVEL_ERROR => tracing::error!(target: TARGET, "{text}"),
            sys::ggml_log_level_GGML_LOG_LEVEL_WARN => tracing::warn!(target: TARGET, "{text}"),
            sys::ggml_log_level_GGML_LOG_LEVEL_INFO => tracing::info!(target: TARGET, "{text}"),
            sys::ggml_log_level_GGML_LOG_LEVEL_DEBUG => tracing::debug!(target: TARGET, "{text}"),
            _ => tracing::trace!(target: TARGET, "{text}"),
        }
    }));
}
