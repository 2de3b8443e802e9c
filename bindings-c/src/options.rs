//! `steno_options`: the C view of transcription options, and its conversion.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use steno::transcribe::{language, Decoding, Task, TranscribeOptions};

use crate::status::{fail, from_core, StenoStatus};

/// Called with the percent done (0–100), from any thread.
pub type StenoProgressFn = Option<unsafe extern "C" fn(percent: i32, user_data: *mut c_void)>;
/// Polled about every 10 ms on the calling thread; returning true cancels the call.
pub type StenoAbortFn = Option<unsafe extern "C" fn(user_data: *mut c_void) -> bool>;

/// Options of one transcription; start from `steno_options_default()`. Flags are `int`:
/// zero is false, anything else true.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StenoOptions {
    /// Spoken language (ISO 639-1, e.g. "en"), or NULL to detect it (multilingual models).
    pub language: *const c_char,
    /// Translate to English (multilingual models).
    pub translate: i32,
    /// Text that primes the decoder (names, jargon), or NULL.
    pub initial_prompt: *const c_char,
    /// Beam search with this many beams, at most 8; 0 or 1 is greedy decoding (default).
    pub beam_size: u32,
    /// Per-word timings (steno_transcript_word).
    pub word_timestamps: i32,
    /// Decode detected speech only (default on).
    pub vad: i32,
    /// Sampling temperature of the first decode, 0 (default) to 1.
    pub temperature: f32,
    /// Re-decode at higher temperatures when a window fails Whisper's checks (default on).
    pub temperature_fallback: i32,
    /// Prime each window with the text before it (default off).
    pub condition_on_previous_text: i32,
    /// Split segments longer than this many characters at word boundaries; 0: no limit.
    pub max_segment_chars: u32,
    /// Progress callback, or NULL.
    pub on_progress: StenoProgressFn,
    /// Abort callback, or NULL.
    pub should_abort: StenoAbortFn,
    /// Passed to both callbacks.
    pub user_data: *mut c_void,
}

/// The defaults: detect the language, greedy decoding, VAD and temperature fallback on, no
/// callbacks.
#[no_mangle]
pub extern "C" fn steno_options_default() -> StenoOptions {
    StenoOptions {
        language: std::ptr::null(),
        translate: 0,
        initial_prompt: std::ptr::null(),
        beam_size: 0,
        word_timestamps: 0,
        vad: 1,
        temperature: 0.0,
        temperature_fallback: 1,
        condition_on_previous_text: 0,
        max_segment_chars: 0,
        on_progress: None,
        should_abort: None,
        user_data: std::ptr::null_mut(),
    }
}

/// The caller's `user_data`, handed to callbacks on other threads as the API documents.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: the header documents that the progress callback may run on any thread; the caller
// owns what `user_data` points to and its synchronisation.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// A NUL-terminated UTF-8 string argument, or `None` for NULL.
///
/// # Safety
/// `p`, when not NULL, must point to a NUL-terminated string.
pub unsafe fn opt_str(p: *const c_char, what: &str) -> Result<Option<String>, StenoStatus> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(|s| Some(s.to_string())).map_err(|_| {
        fail(
            StenoStatus::InvalidUtf8,
            format!("{what} is not valid UTF-8"),
        )
    })
}

/// Core options from `opts` (NULL: the defaults).
///
/// # Safety
/// `opts`, when not NULL, must point to a `steno_options` whose strings are NULL or
/// NUL-terminated.
pub unsafe fn core_options(
    opts: *const StenoOptions,
) -> Result<(TranscribeOptions, StenoAbortFn, *mut c_void), StenoStatus> {
    let o = if opts.is_null() {
        steno_options_default()
    } else {
        // SAFETY: the caller gives a valid `steno_options`.
        unsafe { *opts }
    };
    // SAFETY: as documented for `opts`.
    let given_language = unsafe { opt_str(o.language, "language")? };
    let mut out = TranscribeOptions {
        language: language(given_language.as_deref()).map_err(from_core)?,
        // SAFETY: as documented for `opts`.
        initial_prompt: unsafe { opt_str(o.initial_prompt, "initial_prompt")? },
        task: if o.translate != 0 {
            Task::Translate
        } else {
            Task::Transcribe
        },
        decoding: Decoding::from_beam_size(o.beam_size as usize).map_err(from_core)?,
        word_timestamps: o.word_timestamps != 0,
        vad: o.vad != 0,
        temperature: o.temperature,
        temperature_fallback: o.temperature_fallback != 0,
        condition_on_previous_text: o.condition_on_previous_text != 0,
        max_segment_chars: (o.max_segment_chars > 0).then_some(o.max_segment_chars as usize),
        ..TranscribeOptions::default()
    };
    out.validate().map_err(from_core)?;
    if let Some(cb) = o.on_progress {
        let user = UserData(o.user_data);
        out.on_progress = Some(Arc::new(move |p: u8| {
            let user = user;
            // SAFETY: the caller's callback, with the caller's user data.
            unsafe { cb(i32::from(p), user.0) }
        }));
    }
    Ok((out, o.should_abort, o.user_data))
}
