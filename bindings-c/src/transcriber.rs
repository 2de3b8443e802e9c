//! `steno_transcriber`: a loaded model, and the calls that transcribe with it.

use std::ffi::{c_char, c_void};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

use steno::audio::{AudioSource, AudioStream, DecodeOptions};
use steno::transcribe::{CancelToken, Device, Transcriber, DEFAULT_MODEL};

use crate::options::{core_options, opt_str, StenoOptions};
use crate::status::{fail, from_core, guard, StenoStatus};
use crate::transcript::StenoTranscript;

/// A loaded model (opaque), usable from many threads at once. Free with
/// `steno_transcriber_free`.
pub struct StenoTranscriber(Transcriber);

/// Loads `model` (a registry name such as "tiny.en", fetched into the cache on first use, or
/// a ggml file path; NULL: the default model) on `device` ("auto", "cpu", "gpu", "gpu:N";
/// NULL: "auto") into `*out`.
///
/// # Safety
/// `model` and `device` must be NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcriber_new(
    model: *const c_char,
    device: *const c_char,
    out: *mut *mut StenoTranscriber,
) -> StenoStatus {
    guard(|| {
        if out.is_null() {
            return fail(StenoStatus::NullArgument, "out is NULL");
        }
        // SAFETY: `out` is writable; cleared first so a failure leaves NULL.
        unsafe { out.write(std::ptr::null_mut()) };
        let run = || -> Result<StenoTranscriber, StenoStatus> {
            // SAFETY: NULL or NUL-terminated, as documented.
            let model = unsafe { opt_str(model, "model")? }.unwrap_or(DEFAULT_MODEL.into());
            // SAFETY: NULL or NUL-terminated, as documented.
            let device = unsafe { opt_str(device, "device")? }.unwrap_or("auto".into());
            let t = Transcriber::builder()
                .model(model)
                .device(device.parse::<Device>().map_err(from_core)?)
                .build()
                .map_err(from_core)?;
            Ok(StenoTranscriber(t))
        };
        match run() {
            Ok(t) => {
                // SAFETY: `out` is writable.
                unsafe { out.write(Box::into_raw(Box::new(t))) };
                StenoStatus::Ok
            }
            Err(status) => status,
        }
    })
}

/// Frees a transcriber (NULL is ignored). Calls still running on it must have returned;
/// the background work of cancelled calls is waited for (at most one encoder pass), so the
/// model is unloaded when this returns and the process may exit safely.
///
/// # Safety
/// `t` must be NULL or a transcriber from this library, not freed before.
#[no_mangle]
pub unsafe extern "C" fn steno_transcriber_free(t: *mut StenoTranscriber) {
    crate::status::guard_value((), || {
        if !t.is_null() {
            // SAFETY: a transcriber this library handed out, freed once.
            let t = unsafe { Box::from_raw(t) };
            t.0.wait_background();
            drop(t);
        }
    });
}

/// Transcribes `source` with the options at `opts` into `*out`: on the calling thread, or,
/// with an abort callback, on a worker thread while this one polls the callback.
///
/// # Safety
/// `t` must be NULL or a live transcriber, `opts` NULL or valid, `out` NULL or writable.
unsafe fn transcribe(
    t: *const StenoTranscriber,
    source: impl FnOnce() -> Result<AudioSource, StenoStatus>,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    guard(|| {
        if out.is_null() {
            return fail(StenoStatus::NullArgument, "out is NULL");
        }
        // SAFETY: `out` is writable; cleared first so a failure leaves NULL.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: NULL or a live transcriber.
        let Some(t) = (unsafe { t.as_ref() }) else {
            return fail(StenoStatus::NullArgument, "transcriber is NULL");
        };
        let source = match source() {
            Ok(s) => s,
            Err(status) => return status,
        };
        // SAFETY: NULL or a valid `steno_options`.
        let (mut core, should_abort, user_data) = match unsafe { core_options(opts) } {
            Ok(o) => o,
            Err(status) => return status,
        };
        let run = |core: &steno::transcribe::TranscribeOptions| {
            AudioStream::open(source, &DecodeOptions::default())
                .and_then(|stream| t.0.transcribe_stream(stream, core))
        };
        let result = match should_abort {
            None => run(&core),
            Some(cb) => {
                let token = CancelToken::new();
                core.cancel = Some(token.clone());
                with_abort(cb, user_data, &token, || run(&core))
            }
        };
        match result {
            Ok(tr) => {
                // SAFETY: `out` is writable.
                unsafe { out.write(Box::into_raw(Box::new(StenoTranscript::new(tr)))) };
                StenoStatus::Ok
            }
            Err(e) => from_core(e),
        }
    })
}

/// Runs `work` on a scoped thread while the calling thread polls `cb` every 10 ms,
/// cancelling `token` when it returns true.
fn with_abort<T: Send>(
    cb: unsafe extern "C" fn(*mut c_void) -> bool,
    user_data: *mut c_void,
    token: &CancelToken,
    work: impl FnOnce() -> T + Send,
) -> T {
    std::thread::scope(|scope| {
        let (tx, rx) = channel();
        let handle = scope.spawn(move || {
            let out = work();
            let _ = tx.send(());
            out
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                // SAFETY: the caller's callback, on the caller's thread, with its user data.
                Err(RecvTimeoutError::Timeout) => {
                    if !token.is_cancelled() && unsafe { cb(user_data) } {
                        token.cancel();
                    }
                }
            }
        }
        match handle.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Transcribes the audio file at `path` (any common format) into `*out`.
///
/// # Safety
/// `t` NULL or live; `path` NULL or NUL-terminated; `opts` NULL (defaults) or valid; `out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_file(
    t: *const StenoTranscriber,
    path: *const c_char,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        // SAFETY: NULL or NUL-terminated.
        match unsafe { opt_str(path, "path")? } {
            Some(p) => Ok(AudioSource::from_path(p)),
            None => Err(fail(StenoStatus::NullArgument, "path is NULL")),
        }
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, opts, out) }
}

/// Transcribes the `len` bytes at `data` (an encoded file: WAV, MP3, FLAC, Ogg, M4A, ...)
/// into `*out`. The bytes are copied; the caller keeps them.
///
/// # Safety
/// `t` NULL or live; `data` NULL or `len` readable bytes; `opts` NULL or valid; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_memory(
    t: *const StenoTranscriber,
    data: *const u8,
    len: usize,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        if data.is_null() {
            return Err(fail(StenoStatus::NullArgument, "data is NULL"));
        }
        // SAFETY: `len` readable bytes at `data`.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
        Ok(AudioSource::from_bytes(bytes))
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, opts, out) }
}

/// Transcribes `frames` frames of interleaved float PCM (`channels` channels at
/// `sample_rate` Hz, nominally in [-1, 1]) at `samples` into `*out`. The samples are copied.
///
/// # Safety
/// `t` NULL or live; `samples` NULL or `frames * channels` readable floats; `opts` NULL or
/// valid; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_pcm(
    t: *const StenoTranscriber,
    samples: *const f32,
    frames: usize,
    sample_rate: u32,
    channels: u16,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        if samples.is_null() {
            return Err(fail(StenoStatus::NullArgument, "samples is NULL"));
        }
        let Some(n) = frames.checked_mul(usize::from(channels)) else {
            return Err(fail(
                StenoStatus::InvalidArgument,
                "frames * channels overflows",
            ));
        };
        // SAFETY: `frames * channels` readable floats at `samples`.
        let pcm = unsafe { std::slice::from_raw_parts(samples, n) }.to_vec();
        Ok(AudioSource::from_pcm_f32(pcm, sample_rate, channels))
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, opts, out) }
}
