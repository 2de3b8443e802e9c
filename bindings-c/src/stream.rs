//! `steno_stream`: live transcription. Audio is pushed as it arrives; every event it causes is
//! handed to the caller's callback, on the pushing thread, before the push returns.

use std::ffi::{c_char, c_void, CString};

use steno::transcribe::{CancelToken, StreamEvent, StreamOptions};

use crate::options::{opt_str, read_sized};
use crate::status::{fail, from_core, guard, guard_value, StenoStatus};
use crate::transcriber::StenoTranscriber;
use crate::transcript::{c_string, StenoSegment, StenoWord};

/// What a stream event reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StenoEventType {
    /// Someone started speaking (`at`).
    SpeechStarted = 0,
    /// The turn in progress as heard so far (`text`, `delta`, `unstable`, `start`).
    Partial = 1,
    /// The speaker stopped (`at`).
    SpeechStopped = 2,
    /// A turn's final text (`text`, `start`, `end`, `segments`, `words`).
    Final = 3,
}

/// One event, valid only during the callback (its strings and arrays included).
#[repr(C)]
pub struct StenoStreamEvent {
    /// A `steno_event_type`.
    pub kind: i32,
    /// Seconds into the stream where speech started or stopped.
    pub at: f64,
    /// Where the turn's audio starts, in seconds of the stream (partial, final).
    pub start: f64,
    /// Where a final's audio ends.
    pub end: f64,
    /// A partial's agreed words so far (they only grow), or a final's text; NULL otherwise.
    pub text: *const c_char,
    /// The agreed words new in a partial (may be empty); NULL otherwise.
    pub delta: *const c_char,
    /// A partial's words heard after the agreed ones, not agreed on yet (they may change);
    /// NULL otherwise.
    pub unstable: *const c_char,
    /// A final's segments (times in seconds of the stream), `segment_count` of them.
    pub segments: *const StenoSegment,
    /// Number of `segments`.
    pub segment_count: usize,
    /// A final's words, segment after segment (each segment's `word_count` of them; empty
    /// unless word timestamps were asked for).
    pub words: *const StenoWord,
    /// Number of `words`.
    pub word_count: usize,
}

/// Called with each event on the thread that pushed, committed or finished.
pub type StenoEventFn =
    Option<unsafe extern "C" fn(event: *const StenoStreamEvent, user_data: *mut c_void)>;

/// Settings of a live stream; start from `steno_stream_options_default()`, which sets `size`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StenoStreamOptions {
    /// `sizeof(steno_stream_options)` as the caller was compiled.
    pub size: usize,
    /// Spoken language (ISO 639-1), or NULL: English for English-only models, else detected
    /// on the first turn.
    pub language: *const c_char,
    /// Speech probability at which a turn starts (0.5).
    pub threshold: f32,
    /// Silence that ends a turn, in milliseconds (500).
    pub silence_ms: u32,
    /// Whether silence ends a turn (on); off: turns end at `steno_stream_commit`,
    /// `steno_stream_finish` or the longest-turn cut.
    pub end_on_silence: i32,
    /// Audio kept before the start of speech, in milliseconds (300).
    pub prefix_padding_ms: u32,
    /// How often partial text is decoded while someone speaks, in milliseconds (400; 0: none).
    pub partial_interval_ms: u32,
    /// Longest turn before it is cut at a pause, in milliseconds (28000).
    pub max_turn_ms: u32,
    /// Per-word timings in finals.
    pub word_timestamps: i32,
    /// Text that primes the decoder, or NULL.
    pub initial_prompt: *const c_char,
    /// Languages detection chooses from, comma-separated ISO 639-1 codes, or NULL for any.
    pub languages: *const c_char,
    /// Terms to recognise with their spelling, separated by commas or new lines, or NULL.
    pub hotwords: *const c_char,
}

/// The defaults; `size` set.
#[no_mangle]
pub extern "C" fn steno_stream_options_default() -> StenoStreamOptions {
    let d = StreamOptions::default();
    StenoStreamOptions {
        size: std::mem::size_of::<StenoStreamOptions>(),
        language: std::ptr::null(),
        threshold: d.threshold,
        silence_ms: d.silence_ms,
        end_on_silence: i32::from(d.end_on_silence),
        prefix_padding_ms: d.prefix_padding_ms,
        partial_interval_ms: d.partial_interval_ms,
        max_turn_ms: d.max_turn_ms,
        word_timestamps: i32::from(d.word_timestamps),
        initial_prompt: std::ptr::null(),
        languages: std::ptr::null(),
        hotwords: std::ptr::null(),
    }
}

/// A live stream (opaque). Free with `steno_stream_free`.
// Calls reach its fields through the raw pointer, each field on its own, so
// `steno_stream_cancel` (which reads `cancel` only) never aliases the `inner` a push uses.
pub struct StenoStream {
    inner: steno::transcribe::LiveStream,
    cancel: CancelToken,
    on_event: StenoEventFn,
    user_data: *mut c_void,
}

/// Opens a live stream on `t` with `opts` (NULL: the defaults) into `*out`; `on_event` (may be
/// NULL) receives every event with `user_data`. The transcriber must outlive the stream.
///
/// # Safety
/// `t` NULL or live; `opts` NULL or valid with NULL or NUL-terminated strings; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_new(
    t: *const StenoTranscriber,
    opts: *const StenoStreamOptions,
    on_event: StenoEventFn,
    user_data: *mut c_void,
    out: *mut *mut StenoStream,
) -> StenoStatus {
    guard(|| {
        if out.is_null() {
            return fail(StenoStatus::NullArgument, "out is NULL");
        }
        // SAFETY: writable; cleared so a failure leaves NULL.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: NULL or a live transcriber.
        let Some(t) = (unsafe { t.as_ref() }) else {
            return fail(StenoStatus::NullArgument, "transcriber is NULL");
        };
        let o = if opts.is_null() {
            steno_stream_options_default()
        } else {
            // SAFETY: the caller gives a valid `steno_stream_options` of its `size`.
            match unsafe { read_sized(opts, steno_stream_options_default()) } {
                Ok(o) => o,
                Err(status) => return status,
            }
        };
        let strings = (|| {
            // SAFETY: NULL or NUL-terminated, as documented.
            let language = unsafe { opt_str(o.language, "language")? };
            // SAFETY: as above.
            let prompt = unsafe { opt_str(o.initial_prompt, "initial_prompt")? };
            // SAFETY: as above.
            let languages = unsafe { opt_str(o.languages, "languages")? };
            // SAFETY: as above.
            let terms = unsafe { opt_str(o.hotwords, "hotwords")? };
            Ok::<_, StenoStatus>((language, prompt, languages, terms))
        })();
        let (language, prompt, languages, terms) = match strings {
            Ok(s) => s,
            Err(status) => return status,
        };
        let checked = steno::transcribe::language(language.as_deref()).and_then(|l| {
            let ls = steno::transcribe::languages(languages.as_deref().unwrap_or(""))?;
            let hot = steno::transcribe::hotwords(terms.as_deref().unwrap_or(""))?;
            Ok((l, ls, hot))
        });
        let (language, languages, hotwords) = match checked {
            Ok(l) => l,
            Err(e) => return from_core(e),
        };
        let cancel = CancelToken::new();
        let core = StreamOptions {
            language,
            languages,
            threshold: o.threshold,
            silence_ms: o.silence_ms,
            end_on_silence: o.end_on_silence != 0,
            prefix_padding_ms: o.prefix_padding_ms,
            partial_interval_ms: o.partial_interval_ms,
            max_turn_ms: o.max_turn_ms,
            word_timestamps: o.word_timestamps != 0,
            initial_prompt: prompt,
            hotwords,
            cancel: Some(cancel.clone()),
            ..StreamOptions::default()
        };
        match t.0.stream(core) {
            Ok(inner) => {
                let s = StenoStream {
                    inner,
                    cancel,
                    on_event,
                    user_data,
                };
                // SAFETY: writable, checked above.
                unsafe { out.write(Box::into_raw(Box::new(s))) };
                StenoStatus::Ok
            }
            Err(e) => from_core(e),
        }
    })
}

/// Hands every queued event to `on_event` (or drops them without one).
fn deliver(
    stream: &mut steno::transcribe::LiveStream,
    on_event: StenoEventFn,
    user_data: *mut c_void,
) {
    while let Some(ev) = stream.poll_event() {
        let Some(cb) = on_event else { continue };
        let mut strings: Vec<CString> = Vec::new();
        let mut keep = |text: &str| {
            let c = c_string(text);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let mut e = StenoStreamEvent {
            kind: 0,
            at: 0.0,
            start: 0.0,
            end: 0.0,
            text: std::ptr::null(),
            delta: std::ptr::null(),
            unstable: std::ptr::null(),
            segments: std::ptr::null(),
            segment_count: 0,
            words: std::ptr::null(),
            word_count: 0,
        };
        let (mut segments, mut words) = (Vec::new(), Vec::new());
        match &ev {
            StreamEvent::SpeechStarted { at } => {
                e.kind = StenoEventType::SpeechStarted as i32;
                e.at = *at;
            }
            StreamEvent::SpeechStopped { at } => {
                e.kind = StenoEventType::SpeechStopped as i32;
                e.at = *at;
            }
            StreamEvent::Partial {
                text,
                delta,
                unstable,
                start,
            } => {
                e.kind = StenoEventType::Partial as i32;
                e.start = *start;
                e.text = keep(text);
                e.delta = keep(delta);
                e.unstable = keep(unstable);
            }
            StreamEvent::Final(u) => {
                e.kind = StenoEventType::Final as i32;
                (e.start, e.end) = (u.start, u.end);
                e.text = keep(&u.text);
                for seg in &u.segments {
                    segments.push(StenoSegment {
                        start: seg.start,
                        end: seg.end,
                        text: keep(&seg.text),
                        avg_logprob: seg.avg_logprob,
                        no_speech_prob: seg.no_speech_prob,
                        word_count: seg.words.len(),
                    });
                    for w in &seg.words {
                        words.push(StenoWord {
                            start: w.start,
                            end: w.end,
                            text: keep(&w.word),
                            probability: w.probability,
                        });
                    }
                }
                (e.segments, e.segment_count) = (segments.as_ptr(), segments.len());
                (e.words, e.word_count) = (words.as_ptr(), words.len());
            }
        }
        // SAFETY: the caller's callback with its user data; the event, its strings and arrays
        // live until it returns.
        unsafe { cb(&e, user_data) };
    }
}

/// Runs `op` on the stream at `s`, then delivers the events it queued.
///
/// # Safety
/// `s` NULL or a live stream used by no other thread.
unsafe fn with_stream(
    s: *mut StenoStream,
    op: impl FnOnce(&mut steno::transcribe::LiveStream) -> Result<(), StenoStatus>,
) -> StenoStatus {
    guard(|| {
        if s.is_null() {
            return fail(StenoStatus::NullArgument, "stream is NULL");
        }
        // SAFETY: a live stream used by this thread alone; only its `inner` is borrowed
        // mutably (`cancel` may be read by another thread meanwhile), the rest is copied.
        let (inner, on_event, user_data) = unsafe {
            (
                &mut *std::ptr::addr_of_mut!((*s).inner),
                (*s).on_event,
                (*s).user_data,
            )
        };
        let out = op(inner);
        deliver(inner, on_event, user_data);
        match out {
            Ok(()) => StenoStatus::Ok,
            Err(status) => status,
        }
    })
}

/// Pushes the `frames` samples at `samples` with `op`.
///
/// # Safety
/// `s` NULL or a live stream used by this thread alone; `samples` NULL or `frames` readable
/// values.
unsafe fn push<T>(
    s: *mut StenoStream,
    samples: *const T,
    frames: usize,
    op: impl FnOnce(&mut steno::transcribe::LiveStream, &[T]) -> steno::Result<()>,
) -> StenoStatus {
    // SAFETY: as documented above.
    unsafe {
        with_stream(s, |s| {
            if samples.is_null() {
                return Err(fail(StenoStatus::NullArgument, "samples is NULL"));
            }
            // SAFETY: `frames` readable values.
            let pcm = std::slice::from_raw_parts(samples, frames);
            op(s, pcm).map_err(from_core)
        })
    }
}

/// Pushes `frames` mono float samples (nominally in [-1, 1]) at `sample_rate` Hz (8000 to
/// 384000; one rate per stream). Events go to the callback before this returns. The samples
/// are copied.
///
/// # Safety
/// `s` NULL or a live stream not used by another thread at the same time; `samples` NULL or
/// `frames` readable floats.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_push_pcm(
    s: *mut StenoStream,
    samples: *const f32,
    frames: usize,
    sample_rate: u32,
) -> StenoStatus {
    // SAFETY: as documented above.
    unsafe {
        push(s, samples, frames, |s, pcm| {
            s.push_pcm_f32(pcm, sample_rate)
        })
    }
}

/// [`steno_stream_push_pcm`] for 16-bit signed samples.
///
/// # Safety
/// `s` NULL or a live stream not used by another thread at the same time; `samples` NULL or
/// `frames` readable `int16_t`.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_push_pcm_i16(
    s: *mut StenoStream,
    samples: *const i16,
    frames: usize,
    sample_rate: u32,
) -> StenoStatus {
    // SAFETY: as documented above.
    unsafe {
        push(s, samples, frames, |s, pcm| {
            s.push_pcm_i16(pcm, sample_rate)
        })
    }
}

/// Ends the turn in progress now (its speech-stopped and final events follow); `*committed`
/// (may be NULL) tells whether a turn was open.
///
/// # Safety
/// `s` NULL or a live stream not used by another thread at the same time; `committed` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_commit(
    s: *mut StenoStream,
    committed: *mut bool,
) -> StenoStatus {
    // SAFETY: as documented above.
    unsafe {
        with_stream(s, |s| {
            let open = s.commit().map_err(from_core)?;
            if !committed.is_null() {
                // SAFETY: writable, as documented.
                committed.write(open);
            }
            Ok(())
        })
    }
}

/// Drops the turn in progress without decoding it.
///
/// # Safety
/// `s` NULL or a live stream not used by another thread at the same time.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_clear(s: *mut StenoStream) -> StenoStatus {
    // SAFETY: as documented above.
    unsafe {
        with_stream(s, |s| {
            s.clear();
            Ok(())
        })
    }
}

/// Ends the stream: a turn still open is decoded and its final event delivered. Later pushes
/// fail with `STENO_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `s` NULL or a live stream not used by another thread at the same time.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_finish(s: *mut StenoStream) -> StenoStatus {
    // SAFETY: as documented above.
    unsafe { with_stream(s, |s| s.finish().map_err(from_core)) }
}

/// Cancels the stream from any thread: a decode in progress stops, and the push, commit or
/// finish running it, and every later one, returns `STENO_STATUS_CANCELLED`.
///
/// # Safety
/// `s` NULL or a live stream (this call only touches its thread-safe cancel flag).
#[no_mangle]
pub unsafe extern "C" fn steno_stream_cancel(s: *const StenoStream) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: a live stream; only its cancel token (thread-safe) is borrowed.
            unsafe { &*std::ptr::addr_of!((*s).cancel) }.cancel();
        }
    });
}

/// Seconds of audio pushed so far; 0 for NULL.
///
/// # Safety
/// `s` NULL or a live stream not being pushed to by another thread.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_duration(s: *const StenoStream) -> f64 {
    guard_value(0.0, || {
        if s.is_null() {
            return 0.0;
        }
        // SAFETY: a live stream not pushed to meanwhile.
        unsafe { &*std::ptr::addr_of!((*s).inner) }.duration()
    })
}

/// Frees a stream (NULL is ignored); no event is delivered after this.
///
/// # Safety
/// `s` NULL or a stream from this library, not freed before, not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn steno_stream_free(s: *mut StenoStream) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: a stream this library handed out, freed once.
            drop(unsafe { Box::from_raw(s) });
        }
    });
}
