//! `steno_transcript`: a finished transcription and its accessors.

use std::ffi::{c_char, CString};

use steno::transcribe::Transcript;

use crate::status::{fail, guard, guard_value, StenoStatus};

/// A finished transcription (opaque). Free with `steno_transcript_free`.
pub struct StenoTranscript {
    inner: Transcript,
    text: CString,
    language: CString,
    /// Each segment's text and its words' texts.
    strings: Vec<(CString, Vec<CString>)>,
    /// Each warning's message.
    warnings: Vec<CString>,
    /// Each speaker's name.
    speakers: Vec<CString>,
}

/// A C string of `s` (interior NULs, which Whisper never produces, become spaces).
pub fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl StenoTranscript {
    pub fn new(inner: Transcript) -> Self {
        let strings = inner
            .segments
            .iter()
            .map(|s| {
                (
                    c_string(&s.text),
                    s.words.iter().map(|w| c_string(&w.word)).collect(),
                )
            })
            .collect();
        Self {
            text: c_string(&inner.text),
            language: c_string(&inner.language),
            strings,
            warnings: inner
                .warnings
                .iter()
                .map(|w| c_string(&w.to_string()))
                .collect(),
            speakers: inner.speakers.iter().map(|s| c_string(s)).collect(),
            inner,
        }
    }

    /// Index of `name` among the transcript's speakers, -1 for none.
    fn speaker_index(&self, name: Option<&String>) -> i32 {
        name.and_then(|n| self.inner.speakers.iter().position(|s| s == n))
            .map_or(-1, |i| i as i32)
    }
}

/// Number of speakers (0 unless speakers were asked for); 0 for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_speaker_count(tr: *const StenoTranscript) -> usize {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }.map_or(0, |t| t.speakers.len())
}

/// Speaker `index`'s name (owned by the transcript), or NULL when `tr` is NULL or `index` is
/// past the end.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_speaker(
    tr: *const StenoTranscript,
    index: usize,
) -> *const c_char {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }
        .and_then(|t| t.speakers.get(index))
        .map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Who said segment `segment` (word `word` of it, or the whole segment when `word` is
/// `SIZE_MAX`): `*speaker` gets the speaker's index (see `steno_transcript_speaker`), -1
/// without speakers; `*overlap` 1 when it was said over another speaker. Either pointer may
/// be NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript; `speaker` and `overlap` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_said_by(
    tr: *const StenoTranscript,
    segment: usize,
    word: usize,
    speaker: *mut i32,
    overlap: *mut i32,
) -> StenoStatus {
    guard(|| {
        // SAFETY: NULL or a live transcript.
        let Some(t) = (unsafe { tr.as_ref() }) else {
            return fail(StenoStatus::NullArgument, "transcript is NULL");
        };
        let Some(s) = t.inner.segments.get(segment) else {
            return fail(
                StenoStatus::OutOfRange,
                format!("segment {segment} of {}", t.inner.segments.len()),
            );
        };
        let (name, over) = if word == usize::MAX {
            (s.speaker.as_ref(), s.overlap)
        } else {
            match s.words.get(word) {
                Some(w) => (w.speaker.as_ref(), w.overlap),
                None => {
                    return fail(
                        StenoStatus::OutOfRange,
                        format!("word {word} of segment {segment}"),
                    )
                }
            }
        };
        // SAFETY: each pointer is NULL or writable.
        unsafe {
            if let Some(out) = speaker.as_mut() {
                *out = t.speaker_index(name);
            }
            if let Some(out) = overlap.as_mut() {
                *out = i32::from(over);
            }
        }
        StenoStatus::Ok
    })
}

/// One segment; `text` belongs to the transcript.
#[repr(C)]
pub struct StenoSegment {
    /// Start in seconds from the beginning of the audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// The text (UTF-8, NUL-terminated), with Whisper's leading space.
    pub text: *const c_char,
    /// Mean log-probability of its tokens.
    pub avg_logprob: f32,
    /// Probability that the window holds no speech.
    pub no_speech_prob: f32,
    /// Words in this segment (0 unless word timestamps were asked for).
    pub word_count: usize,
}

/// One word; `text` belongs to the transcript.
#[repr(C)]
pub struct StenoWord {
    /// Start in seconds from the beginning of the audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// The word (UTF-8, NUL-terminated), with its leading space if it had one.
    pub text: *const c_char,
    /// Mean probability of its tokens.
    pub probability: f32,
}

/// Output formats of `steno_transcript_format`.
#[repr(C)]
#[derive(Clone, Copy)]
pub enum StenoFormat {
    /// Plain text, one segment per line.
    Text = 0,
    /// `{"text": ...}`.
    Json = 1,
    /// OpenAI's `verbose_json`.
    VerboseJson = 2,
    /// SubRip subtitles.
    Srt = 3,
    /// WebVTT subtitles.
    Vtt = 4,
    /// Tab-separated start, end (milliseconds), speaker (with speakers) and text.
    Tsv = 5,
    /// OpenAI's `diarized_json`: segments with speakers.
    DiarizedJson = 6,
}

/// The core's format for a `steno_format` value.
fn format_of(value: i32) -> Option<steno::transcribe::Format> {
    use steno::transcribe::Format;
    Some(match value {
        0 => Format::Text,
        1 => Format::Json,
        2 => Format::VerboseJson,
        3 => Format::Srt,
        4 => Format::Vtt,
        5 => Format::Tsv,
        6 => Format::DiarizedJson,
        _ => return None,
    })
}

/// The HTTP content type of a transcript in `format` (a `steno_format` value), a static
/// string; "" for a value that is not a `steno_format`.
#[no_mangle]
pub extern "C" fn steno_format_content_type(format: i32) -> *const c_char {
    static TYPES: std::sync::OnceLock<Vec<CString>> = std::sync::OnceLock::new();
    guard_value(c"".as_ptr(), || {
        let types = TYPES.get_or_init(|| {
            (0..)
                .map_while(format_of)
                .map(|f| c_string(f.content_type()))
                .collect()
        });
        usize::try_from(format)
            .ok()
            .and_then(|i| types.get(i))
            .map_or(c"".as_ptr(), |t| t.as_ptr())
    })
}

/// The transcript behind `tr`, after checking it and the `out` pointer are not NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
unsafe fn with_out<'a, T>(
    tr: *const StenoTranscript,
    out: *mut T,
) -> Result<&'a StenoTranscript, StenoStatus> {
    // SAFETY: NULL or a live transcript.
    let t = unsafe { tr.as_ref() }
        .ok_or_else(|| fail(StenoStatus::NullArgument, "transcript is NULL"))?;
    if out.is_null() {
        return Err(fail(StenoStatus::NullArgument, "out is NULL"));
    }
    Ok(t)
}

/// Frees a transcript (NULL is ignored).
///
/// # Safety
/// `tr` must be NULL or a transcript from this library, not freed before.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_free(tr: *mut StenoTranscript) {
    guard_value((), || {
        if !tr.is_null() {
            // SAFETY: a transcript this library handed out, freed once.
            drop(unsafe { Box::from_raw(tr) });
        }
    });
}

/// The whole text (UTF-8, NUL-terminated, owned by the transcript); "" for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_text(tr: *const StenoTranscript) -> *const c_char {
    // SAFETY: NULL or a live transcript.
    match unsafe { tr.as_ref() } {
        Some(t) => t.text.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The language (ISO 639-1, owned by the transcript); "" for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_language(tr: *const StenoTranscript) -> *const c_char {
    // SAFETY: NULL or a live transcript.
    match unsafe { tr.as_ref() } {
        Some(t) => t.language.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Probability of the detected language (1 when it was given); 0 for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_language_probability(tr: *const StenoTranscript) -> f32 {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }.map_or(0.0, |t| t.inner.language_probability)
}

/// Length of the audio in seconds; 0 for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_duration(tr: *const StenoTranscript) -> f64 {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }.map_or(0.0, |t| t.inner.duration)
}

/// "transcribe", or "translate" when the text is an English translation (a static string);
/// "" for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_task(tr: *const StenoTranscript) -> *const c_char {
    // SAFETY: NULL or a live transcript.
    match unsafe { tr.as_ref() }.map(|t| t.inner.task) {
        Some(steno::transcribe::Task::Translate) => c"translate".as_ptr(),
        Some(_) => c"transcribe".as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Number of warnings: problems decoding the input that were tolerated (a file cut off
/// early: the text covers only what was there); 0 for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_warning_count(tr: *const StenoTranscript) -> usize {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }.map_or(0, |t| t.warnings.len())
}

/// Warning `index` ("truncated: …"; owned by the transcript), or NULL when `tr` is NULL or
/// `index` is past the end.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_warning(
    tr: *const StenoTranscript,
    index: usize,
) -> *const c_char {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }
        .and_then(|t| t.warnings.get(index))
        .map_or(std::ptr::null(), |w| w.as_ptr())
}

/// Number of segments; 0 for NULL.
///
/// # Safety
/// `tr` must be NULL or a live transcript.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_segment_count(tr: *const StenoTranscript) -> usize {
    // SAFETY: NULL or a live transcript.
    unsafe { tr.as_ref() }.map_or(0, |t| t.inner.segments.len())
}

/// Segment `index` into `*out`.
///
/// # Safety
/// `tr` must be NULL or a live transcript; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_segment(
    tr: *const StenoTranscript,
    index: usize,
    out: *mut StenoSegment,
) -> StenoStatus {
    guard(|| {
        // SAFETY: NULL or a live transcript.
        let t = match unsafe { with_out(tr, out) } {
            Ok(t) => t,
            Err(status) => return status,
        };
        let Some(s) = t.inner.segments.get(index) else {
            return fail(
                StenoStatus::OutOfRange,
                format!("segment {index} of {}", t.inner.segments.len()),
            );
        };
        // SAFETY: `out` is writable (checked non-NULL; the caller guarantees the rest).
        unsafe {
            out.write(StenoSegment {
                start: s.start,
                end: s.end,
                text: t.strings[index].0.as_ptr(),
                avg_logprob: s.avg_logprob,
                no_speech_prob: s.no_speech_prob,
                word_count: s.words.len(),
            })
        };
        StenoStatus::Ok
    })
}

/// Word `word` of segment `segment` into `*out`.
///
/// # Safety
/// `tr` must be NULL or a live transcript; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_word(
    tr: *const StenoTranscript,
    segment: usize,
    word: usize,
    out: *mut StenoWord,
) -> StenoStatus {
    guard(|| {
        // SAFETY: NULL or a live transcript.
        let t = match unsafe { with_out(tr, out) } {
            Ok(t) => t,
            Err(status) => return status,
        };
        let Some(w) = t
            .inner
            .segments
            .get(segment)
            .and_then(|s| s.words.get(word))
        else {
            return fail(
                StenoStatus::OutOfRange,
                format!("word {word} of segment {segment}"),
            );
        };
        // SAFETY: `out` is writable.
        unsafe {
            out.write(StenoWord {
                start: w.start,
                end: w.end,
                text: t.strings[segment].1[word].as_ptr(),
                probability: w.probability,
            })
        };
        StenoStatus::Ok
    })
}

/// The transcript in `format` (a `steno_format` value) as a new string in `*out`, which the
/// caller frees with `steno_string_free`.
///
/// # Safety
/// `tr` must be NULL or a live transcript; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcript_format(
    tr: *const StenoTranscript,
    format: i32,
    out: *mut *mut c_char,
) -> StenoStatus {
    guard(|| {
        // SAFETY: NULL or a live transcript.
        let t = match unsafe { with_out(tr, out) } {
            Ok(t) => t,
            Err(status) => return status,
        };
        let Some(f) = format_of(format) else {
            return fail(
                StenoStatus::InvalidArgument,
                format!("{format} is not a steno_format"),
            );
        };
        let text = t.inner.render(f);
        // SAFETY: `out` is writable.
        unsafe { out.write(c_string(&text).into_raw()) };
        StenoStatus::Ok
    })
}

/// Frees a string this library returned through `char **out` (NULL is ignored).
///
/// # Safety
/// `s` must be NULL or such a string, not freed before.
#[no_mangle]
pub unsafe extern "C" fn steno_string_free(s: *mut c_char) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: a string from `CString::into_raw`, freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    });
}
