//! Status codes, the per-thread last error, and the panic boundary every export goes through.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Result of every fallible call. Numbers are stable across versions.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StenoStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// An argument or option is out of range or does not fit the model.
    InvalidArgument = 3,
    /// The audio could not be decoded (empty, truncated, corrupt, not audio, unsupported).
    Decode = 4,
    /// The model could not be found, checked or loaded.
    Model = 5,
    /// The model could not be downloaded or verified.
    Download = 6,
    /// The call was cancelled by its abort callback.
    Cancelled = 7,
    /// whisper.cpp failed.
    Inference = 8,
    /// The device asked for is not available.
    Device = 9,
    /// A file could not be read or written.
    Io = 10,
    /// An index was past the end.
    OutOfRange = 11,
    /// A bug inside Stenograph (a Rust panic), stopped at the boundary.
    Panic = 12,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
    static LAST_CODE: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` and `code` as this thread's last error and returns `status`.
fn record(status: StenoStatus, code: &str, message: String) -> StenoStatus {
    let text = message.replace('\0', " ");
    LAST_ERROR.with(|e| *e.borrow_mut() = CString::new(text).ok());
    LAST_CODE.with(|c| *c.borrow_mut() = CString::new(code).unwrap_or_default());
    status
}

/// Records `message` as this thread's last error (a failure of the C layer itself, whose code
/// is the status's own name) and returns `status`.
pub fn fail(status: StenoStatus, message: impl Into<String>) -> StenoStatus {
    let code = match status {
        StenoStatus::Ok => "",
        StenoStatus::NullArgument => "null_argument",
        StenoStatus::InvalidUtf8 => "invalid_utf8",
        StenoStatus::OutOfRange => "out_of_range",
        StenoStatus::Panic => "panic",
        StenoStatus::Decode => "decode",
        StenoStatus::Model => "model",
        StenoStatus::Download => "download",
        StenoStatus::Cancelled => "cancelled",
        StenoStatus::Inference => "inference",
        StenoStatus::Device => "device",
        StenoStatus::Io => "io",
        StenoStatus::InvalidArgument => "invalid_argument",
    };
    record(status, code, message.into())
}

/// The status for a core error (its category, as the core decides it), with its message and
/// code recorded.
pub fn from_core(e: steno::Error) -> StenoStatus {
    use steno::ErrorCategory as C;
    let status = match e.category() {
        C::Decode => StenoStatus::Decode,
        C::Model => StenoStatus::Model,
        C::Download => StenoStatus::Download,
        C::Cancelled => StenoStatus::Cancelled,
        C::Inference => StenoStatus::Inference,
        C::Device => StenoStatus::Device,
        C::InvalidArgument => StenoStatus::InvalidArgument,
        C::Io => StenoStatus::Io,
        _ => StenoStatus::Inference,
    };
    record(status, e.code(), e.to_string())
}

/// Runs `f`, turning a panic into `StenoStatus::Panic`: nothing unwinds into C.
pub fn guard(f: impl FnOnce() -> StenoStatus) -> StenoStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(StenoStatus::Ok) => {
            LAST_ERROR.with(|e| *e.borrow_mut() = None);
            LAST_CODE.with(|c| *c.borrow_mut() = CString::default());
            StenoStatus::Ok
        }
        Ok(status) => status,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            fail(StenoStatus::Panic, format!("internal error: {what}"))
        }
    }
}

/// Runs `f` for a value-returning accessor, giving `fallback` on a panic.
pub fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Copies this thread's last error message into `buf` (`len` bytes, NUL-terminated,
/// truncated to fit) and returns the length the whole message needs, NUL included; 0 when
/// there is none. `buf` may be NULL (with any `len`) to ask for the length only.
///
/// # Safety
/// `buf`, when not NULL, must point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn steno_last_error_message(buf: *mut c_char, len: usize) -> usize {
    guard_value(0, || {
        LAST_ERROR.with(|e| {
            let e = e.borrow();
            let Some(msg) = e.as_ref() else {
                if !buf.is_null() && len > 0 {
                    // SAFETY: the caller gives `len` >= 1 writable bytes.
                    unsafe { *buf = 0 };
                }
                return 0;
            };
            let bytes = msg.as_bytes_with_nul();
            if !buf.is_null() && len > 0 {
                let n = (bytes.len() - 1).min(len - 1);
                // SAFETY: `n + 1 <= len` bytes are written into the caller's buffer.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buf, n);
                    *buf.add(n) = 0;
                }
            }
            bytes.len()
        })
    })
}

/// The fine-grained code of this thread's last error: the library's own name of the failure
/// ("truncated", "unknown_format", "checksum_mismatch", …, the names Python's `Error.code`
/// gives), or the status's name for failures of the C layer ("null_argument",
/// "out_of_range", …); "" after a success. Never NULL; valid until this thread's next call
/// into the library.
#[no_mangle]
pub extern "C" fn steno_last_error_code() -> *const c_char {
    guard_value(c"".as_ptr(), || LAST_CODE.with(|c| c.borrow().as_ptr()))
}

/// A static, NUL-terminated name for a `steno_status` value ("STENO_STATUS_DECODE", ...);
/// "STENO_STATUS_UNKNOWN" for any other number. Never NULL.
#[no_mangle]
pub extern "C" fn steno_status_name(status: i32) -> *const c_char {
    let name: &'static [u8] = match status {
        0 => b"STENO_STATUS_OK\0",
        1 => b"STENO_STATUS_NULL_ARGUMENT\0",
        2 => b"STENO_STATUS_INVALID_UTF8\0",
        3 => b"STENO_STATUS_INVALID_ARGUMENT\0",
        4 => b"STENO_STATUS_DECODE\0",
        5 => b"STENO_STATUS_MODEL\0",
        6 => b"STENO_STATUS_DOWNLOAD\0",
        7 => b"STENO_STATUS_CANCELLED\0",
        8 => b"STENO_STATUS_INFERENCE\0",
        9 => b"STENO_STATUS_DEVICE\0",
        10 => b"STENO_STATUS_IO\0",
        11 => b"STENO_STATUS_OUT_OF_RANGE\0",
        12 => b"STENO_STATUS_PANIC\0",
        _ => b"STENO_STATUS_UNKNOWN\0",
    };
    name.as_ptr().cast()
}
