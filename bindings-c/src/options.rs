//! `steno_options`: the C view of transcription options, and its conversion. The struct
//! starts with its own size, set by `steno_options_default()`: a caller compiled against an
//! older header passes a smaller size, and the fields it does not know keep their defaults, so
//! adding an option at the end never breaks a compiled caller.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use steno::transcribe::{
    hotwords, language, languages, speaker_names, Decoding, Segment, Task, TranscribeOptions,
};

use crate::status::{fail, from_core, StenoStatus};
use crate::transcript::{c_string, StenoSegment};

/// Called with the percent done (0–100), from any thread.
pub type StenoProgressFn = Option<unsafe extern "C" fn(percent: i32, user_data: *mut c_void)>;
/// Polled about every 10 ms on the calling thread; returning true cancels the call.
pub type StenoAbortFn = Option<unsafe extern "C" fn(user_data: *mut c_void) -> bool>;
/// Called with each segment as it is produced, from any thread; the segment and its text are
/// valid only during the call.
pub type StenoSegmentFn =
    Option<unsafe extern "C" fn(segment: *const StenoSegment, user_data: *mut c_void)>;

/// Transcribe in the spoken language, or translate to English.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StenoTask {
    /// Text in the language spoken (default).
    Transcribe = 0,
    /// English text whatever the language spoken (multilingual models).
    Translate = 1,
}

/// Options of one transcription; start from `steno_options_default()`, which sets `size`.
/// Flags are `int`: zero is false, anything else true.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StenoOptions {
    /// `sizeof(steno_options)` as the caller was compiled (set by `steno_options_default()`).
    pub size: usize,
    /// Spoken language (ISO 639-1, any case, e.g. "en"), or NULL or "auto" to detect it
    /// (multilingual models).
    pub language: *const c_char,
    /// A `steno_task`: transcribe (default) or translate to English (multilingual models).
    pub task: i32,
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
    /// Passed to every callback.
    pub user_data: *mut c_void,
    /// Segment callback, or NULL.
    pub on_segment: StenoSegmentFn,
    /// Languages detection chooses from, comma-separated ISO 639-1 codes (e.g. "en,de,fr"), or
    /// NULL for any.
    pub languages: *const c_char,
    /// "channels": each channel of a multi-channel recording is a speaker; "auto" or a count
    /// ("2"): speakers told apart by voice; "none" or NULL: no speakers.
    pub speakers: *const c_char,
    /// Speakers' names in channel order, comma-separated ("agent,customer"), or NULL for
    /// SPEAKER_0, SPEAKER_1, ….
    pub speaker_names: *const c_char,
    /// Terms to recognise with their spelling in every window (customers, products),
    /// separated by commas or new lines ("Kowalczyk,Zyxtera"), or NULL for none.
    pub hotwords: *const c_char,
    /// Laughter, coughs, music and noise that Whisper annotates ("(laughs)", "[Music]"):
    /// "drop" (or NULL, the default) removes them from the text, "keep" keeps the
    /// annotations, "suppress" forbids them while decoding (as whisper.cpp does).
    pub sound_events: *const c_char,
}

/// The defaults: detect the language, greedy decoding, VAD and temperature fallback on, no
/// callbacks; `size` set.
#[no_mangle]
pub extern "C" fn steno_options_default() -> StenoOptions {
    let d = TranscribeOptions::default();
    StenoOptions {
        size: std::mem::size_of::<StenoOptions>(),
        language: std::ptr::null(),
        task: match d.task {
            Task::Translate => StenoTask::Translate as i32,
            _ => StenoTask::Transcribe as i32,
        },
        initial_prompt: std::ptr::null(),
        beam_size: d.decoding.beam_size() as u32,
        word_timestamps: i32::from(d.word_timestamps),
        vad: i32::from(d.vad),
        temperature: d.temperature,
        temperature_fallback: i32::from(d.temperature_fallback),
        condition_on_previous_text: i32::from(d.condition_on_previous_text),
        max_segment_chars: d.max_segment_chars.map_or(0, |n| n as u32),
        on_progress: None,
        should_abort: None,
        user_data: std::ptr::null_mut(),
        on_segment: None,
        languages: std::ptr::null(),
        speakers: std::ptr::null(),
        speaker_names: std::ptr::null(),
        hotwords: std::ptr::null(),
        sound_events: std::ptr::null(),
    }
}

/// A struct that starts with its own size (`steno_options`, `steno_transcriber_options`) as
/// this library knows it: the caller's fields, as many as its `size` covers, over `defaults`.
/// A size past this library's struct (a newer header) or short of the first field is refused.
///
/// # Safety
/// `p` must point to at least `size` readable bytes, `size` being its first field, and `T`
/// must be a `repr(C)` struct whose first field is that `usize` and whose every bit pattern
/// the caller could have written is valid.
pub unsafe fn read_sized<T: Copy>(p: *const T, defaults: T) -> Result<T, StenoStatus> {
    // SAFETY: the first field is always there.
    let size = unsafe { p.cast::<usize>().read_unaligned() };
    let ours = std::mem::size_of::<T>();
    let name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("options");
    if size <= std::mem::size_of::<usize>() || size > ours {
        return Err(fail(
            StenoStatus::InvalidArgument,
            format!(
                "{name}.size is {size}: start from its _default() function (this library's is \
                 {ours} bytes)"
            ),
        ));
    }
    let mut out = defaults;
    // SAFETY: `size` bytes are readable at `p` and fit in `out`; the prefix holds whole
    // fields of the caller's (older or equal) layout.
    unsafe {
        std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&mut out as *mut T).cast::<u8>(), size)
    };
    // SAFETY: `out` starts with its `usize` size, as `T`'s contract says.
    unsafe { (&mut out as *mut T).cast::<usize>().write(ours) };
    Ok(out)
}

/// The caller's `user_data`, handed to callbacks on other threads as the API documents.
#[derive(Clone, Copy)]
pub struct UserData(pub *mut c_void);
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
        // SAFETY: the caller gives a valid `steno_options` of its `size`.
        unsafe { read_sized(opts, steno_options_default())? }
    };
    // SAFETY: as documented for `opts`.
    let given_language = unsafe { opt_str(o.language, "language")? };
    let mut out = TranscribeOptions::default();
    out.language = language(given_language.as_deref()).map_err(from_core)?;
    // SAFETY: as documented for `opts`.
    let given_languages = unsafe { opt_str(o.languages, "languages")? };
    out.languages = languages(given_languages.as_deref().unwrap_or("")).map_err(from_core)?;
    // SAFETY: as documented for `opts`.
    if let Some(speakers) = unsafe { opt_str(o.speakers, "speakers")? } {
        out.speakers = speakers.parse().map_err(from_core)?;
    }
    // SAFETY: as documented for `opts`.
    let names = unsafe { opt_str(o.speaker_names, "speaker_names")? };
    out.speaker_names = speaker_names(names.as_deref().unwrap_or("")).map_err(from_core)?;
    // SAFETY: as documented for `opts`.
    out.initial_prompt = unsafe { opt_str(o.initial_prompt, "initial_prompt")? };
    // SAFETY: as documented for `opts`.
    let terms = unsafe { opt_str(o.hotwords, "hotwords")? };
    out.hotwords = hotwords(terms.as_deref().unwrap_or("")).map_err(from_core)?;
    // SAFETY: as documented for `opts`.
    if let Some(events) = unsafe { opt_str(o.sound_events, "sound_events")? } {
        out.sound_events = events.parse().map_err(from_core)?;
    }
    out.task = match o.task {
        t if t == StenoTask::Transcribe as i32 => Task::Transcribe,
        t if t == StenoTask::Translate as i32 => Task::Translate,
        other => {
            return Err(fail(
                StenoStatus::InvalidArgument,
                format!("{other} is not a steno_task"),
            ))
        }
    };
    out.decoding = Decoding::from_beam_size(o.beam_size as usize).map_err(from_core)?;
    out.word_timestamps = o.word_timestamps != 0;
    out.vad = o.vad != 0;
    out.temperature = o.temperature;
    out.temperature_fallback = o.temperature_fallback != 0;
    out.condition_on_previous_text = o.condition_on_previous_text != 0;
    out.max_segment_chars = (o.max_segment_chars > 0).then_some(o.max_segment_chars as usize);
    out.validate().map_err(from_core)?;
    if let Some(cb) = o.on_progress {
        let user = UserData(o.user_data);
        out.on_progress = Some(Arc::new(move |p: u8| {
            let user = user;
            // SAFETY: the caller's callback, with the caller's user data.
            unsafe { cb(i32::from(p), user.0) }
        }));
    }
    if let Some(cb) = o.on_segment {
        let user = UserData(o.user_data);
        out.on_segment = Some(Arc::new(move |s: &Segment| {
            let user = user;
            let text = c_string(&s.text);
            let seg = StenoSegment {
                start: s.start,
                end: s.end,
                text: text.as_ptr(),
                avg_logprob: s.avg_logprob,
                no_speech_prob: s.no_speech_prob,
                word_count: s.words.len(),
            };
            // SAFETY: the caller's callback, with the caller's user data; `seg` and its text
            // live until it returns.
            unsafe { cb(&seg, user.0) }
        }));
    }
    Ok((out, o.should_abort, o.user_data))
}
