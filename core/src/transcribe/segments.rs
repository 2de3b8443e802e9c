//! Reading segments out of a whisper state as whisper.cpp produces them.
//!
//! whisper.cpp calls back after each new segment; the callback turns it into a [`Segment`]
//! (text, tokens, probabilities, timing, words) and hands it to the caller's callback. The
//! transcript is made of exactly the segments delivered, so both always agree.

use std::ffi::CStr;
use std::io::Write;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use flate2::write::ZlibEncoder;
use flate2::Compression;
use whisper_rs::whisper_rs_sys as sys;

use super::events::{self, SoundEvents};
use super::options::{CancelToken, SegmentCallback, TranscribeOptions};
use super::timeline::{Edge, Timeline};
use super::transcript::{Segment, Word};
use super::vad;

/// State shared with the segment callback for one `whisper_full` call.
pub(crate) struct Collector {
    pub segments: Vec<Segment>,
    /// When set, segments are kept as whisper.cpp gave them (window time, every token) for
    /// the caller to split and place; nothing is built or delivered.
    pub raw: Option<Vec<RawSegment>>,
    /// Id of the first segment this collector produces.
    pub first_id: usize,
    /// Segments whose text compresses better than this are repetition loops and are dropped.
    pub max_compression_ratio: f32,
    /// What becomes of sound annotations ("(laughs)", "♪").
    pub sound_events: SoundEvents,
    /// The call's first-decode temperature, recorded on each segment.
    pub temperature: f32,
    pub word_timestamps: bool,
    pub on_segment: Option<SegmentCallback>,
    /// The call's cancel token: no segment is delivered once it is cancelled.
    pub cancel: Option<CancelToken>,
    /// Where the window's audio lies in the original: timestamps are moved there.
    pub timeline: Timeline,
    /// Start and end (seconds of the original) of segments that were sound annotations only
    /// and so dropped.
    pub annotated: Vec<(f64, f64)>,
}

impl Collector {
    /// A collector for audio placed in the original by `timeline`, with the call's filters and
    /// token; it keeps built segments and delivers none.
    pub fn new(opts: &TranscribeOptions, timeline: Timeline) -> Self {
        Self {
            segments: Vec::new(),
            raw: None,
            first_id: 0,
            max_compression_ratio: opts.compression_ratio_threshold,
            sound_events: opts.sound_events,
            temperature: opts.temperature,
            word_timestamps: opts.word_timestamps,
            on_segment: None,
            cancel: opts.cancel.clone(),
            timeline,
            annotated: Vec::new(),
        }
    }
}

/// One text token of a segment, times in centiseconds of the decoded window.
#[derive(Clone, Debug)]
pub(crate) struct RawToken {
    pub id: i32,
    pub bytes: Vec<u8>,
    pub t0: i64,
    pub t1: i64,
    pub p: f32,
    pub plog: f32,
}

/// A segment as whisper.cpp produced it: window times in centiseconds, text tokens only.
#[derive(Clone, Debug)]
pub(crate) struct RawSegment {
    pub t0: i64,
    pub t1: i64,
    pub no_speech_prob: f32,
    pub tokens: Vec<RawToken>,
}

/// Size of `text` over its zlib-compressed size, as Whisper's fallback check computes it.
pub(crate) fn compression_ratio(text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    let _ = z.write_all(text.as_bytes());
    let compressed = z.finish().map(|v| v.len()).unwrap_or(text.len());
    text.len() as f32 / compressed.max(1) as f32
}

/// The callback whisper.cpp calls with the number of segments just added.
///
/// # Safety
/// `user_data` must point to a live `Collector`, and `ctx`/`state` be the running call's.
pub(crate) unsafe extern "C" fn on_new_segments(
    ctx: *mut sys::whisper_context,
    state: *mut sys::whisper_state,
    n_new: c_int,
    user_data: *mut c_void,
) {
    // Nothing may unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees the pointers (see above).
        let collector = unsafe { &mut *(user_data as *mut Collector) };
        let total = unsafe { sys::whisper_full_n_segments_from_state(state) };
        for i in (total - n_new).max(0)..total {
            let mut raw = unsafe { read_raw(ctx, state, i) };
            let mut annotation = false;
            if collector.sound_events != SoundEvents::Keep {
                let said = |tokens: &[RawToken]| {
                    let bytes: Vec<u8> = tokens.iter().flat_map(|t| t.bytes.clone()).collect();
                    events::has_words(&String::from_utf8_lossy(&bytes))
                };
                let before = said(&raw.tokens);
                raw.tokens = events::strip(raw.tokens);
                annotation = before && !said(&raw.tokens);
            }
            if let Some(out) = collector.raw.as_mut() {
                out.push(raw);
                continue;
            }
            let timeline = &collector.timeline;
            // Joined stretches are speech with `PAD` of quiet on each side.
            let snap = vad::PAD as f64 / f64::from(crate::audio::SAMPLE_RATE);
            let to_s = |t: i64, edge: Edge| timeline.original(t as f64 / 100.0, edge, snap);
            let mut segment = build_segment(
                &raw.tokens,
                to_s(raw.t0, Edge::Start),
                to_s(raw.t1, Edge::End),
                raw.no_speech_prob,
                &to_s,
                collector.word_timestamps,
            );
            if annotation {
                collector.annotated.push((segment.start, segment.end));
                continue;
            }
            if !keep(
                &segment,
                collector.max_compression_ratio,
                collector.sound_events,
            ) {
                continue;
            }
            segment.id = collector.first_id + collector.segments.len();
            segment.temperature = collector.temperature;
            let cancelled = collector
                .cancel
                .as_ref()
                .is_some_and(CancelToken::is_cancelled);
            if let (Some(cb), false) = (&collector.on_segment, cancelled) {
                cb(&segment);
            }
            collector.segments.push(segment);
        }
    }));
}

/// Whether a decoded segment is speech worth keeping: a word in it (a letter or digit; any
/// text when sound annotations are kept), not a repetition loop that survived the temperature
/// fallback, and not Whisper's "no speech" case (no-speech probability over 0.6 with a mean
/// log-probability under −1, the rule Whisper's own decoder applies).
pub(crate) fn keep(segment: &Segment, max_compression_ratio: f32, events: SoundEvents) -> bool {
    let text = segment.text.trim();
    !text.is_empty()
        && (events == SoundEvents::Keep || events::has_words(text))
        && segment.compression_ratio <= max_compression_ratio
        && !(segment.no_speech_prob > 0.6 && segment.avg_logprob < -1.0)
}

/// Reads segment `i` of `state`: its window times and its text tokens.
///
/// # Safety
/// `ctx`/`state` must be a live context and a state that has run `whisper_full`, and `i` one
/// of its segment indices.
unsafe fn read_raw(
    ctx: *mut sys::whisper_context,
    state: *mut sys::whisper_state,
    i: c_int,
) -> RawSegment {
    // SAFETY (whole function): `i` is a valid segment index of `state`, token indices are
    // below the segment's token count, and returned strings live as long as the state.
    unsafe {
        let eot = sys::whisper_token_eot(ctx);
        let n_tokens = sys::whisper_full_n_tokens_from_state(state, i);
        let mut tokens = Vec::with_capacity(n_tokens.max(0) as usize);
        for j in 0..n_tokens {
            let data = sys::whisper_full_get_token_data_from_state(state, i, j);
            if data.id >= eot {
                continue;
            }
            let p = sys::whisper_full_get_token_text_from_state(ctx, state, i, j);
            let bytes = if p.is_null() {
                Vec::new()
            } else {
                CStr::from_ptr(p).to_bytes().to_vec()
            };
            tokens.push(RawToken {
                id: data.id,
                bytes,
                t0: data.t0,
                t1: data.t1,
                p: data.p,
                plog: data.plog,
            });
        }
        RawSegment {
            t0: sys::whisper_full_get_segment_t0_from_state(state, i),
            t1: sys::whisper_full_get_segment_t1_from_state(state, i),
            no_speech_prob: sys::whisper_full_get_segment_no_speech_prob_from_state(state, i),
            tokens,
        }
    }
}

/// Builds a segment (id 0) from text tokens; `to_s` turns token centiseconds (a word's start
/// or end) into seconds of the original audio.
pub(crate) fn build_segment(
    tokens: &[RawToken],
    start: f64,
    end: f64,
    no_speech_prob: f32,
    to_s: &dyn Fn(i64, Edge) -> f64,
    word_timestamps: bool,
) -> Segment {
    let bytes: Vec<u8> = tokens
        .iter()
        .flat_map(|t| t.bytes.iter().copied())
        .collect();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut words: Vec<Word> = Vec::new();
    if word_timestamps {
        let mut word_bytes: Vec<u8> = Vec::new();
        let mut word_probs: Vec<f32> = Vec::new();
        let finish = |words: &mut Vec<Word>, bytes: &mut Vec<u8>, probs: &mut Vec<f32>| {
            if let Some(w) = words.last_mut() {
                w.word = String::from_utf8_lossy(bytes).into_owned();
                w.probability = probs.iter().sum::<f32>() / probs.len().max(1) as f32;
                w.token_count = probs.len();
            }
            bytes.clear();
            probs.clear();
        };
        for t in tokens {
            if t.bytes.first() == Some(&b' ') || words.is_empty() {
                finish(&mut words, &mut word_bytes, &mut word_probs);
                let start = to_s(t.t0, Edge::Start);
                words.push(Word {
                    word: String::new(),
                    start,
                    end: to_s(t.t1, Edge::End).max(start),
                    probability: 0.0,
                    speaker: None,
                    overlap: false,
                    token_count: 0,
                });
            } else if let Some(w) = words.last_mut() {
                w.end = to_s(t.t1, Edge::End).max(w.start);
            }
            word_bytes.extend_from_slice(&t.bytes);
            word_probs.push(t.p);
        }
        finish(&mut words, &mut word_bytes, &mut word_probs);
        // Token times can stray past the segment's own (the last word most): keep each word
        // inside its segment.
        let last = end.max(start);
        for w in &mut words {
            w.start = w.start.clamp(start, last);
            w.end = w.end.clamp(w.start, last);
        }
    }
    Segment {
        id: 0,
        start,
        end: end.max(start),
        compression_ratio: compression_ratio(&text),
        text,
        avg_logprob: if tokens.is_empty() {
            0.0
        } else {
            tokens.iter().map(|t| t.plog).sum::<f32>() / tokens.len() as f32
        },
        tokens: tokens.iter().map(|t| t.id).collect(),
        temperature: 0.0,
        no_speech_prob,
        words,
        speaker: None,
        overlap: false,
    }
}

#[cfg(test)]
mod tests {
    use super::compression_ratio;

    #[test]
    fn repetition_compresses_well() {
        let normal = "The meeting has been moved to Thursday afternoon, please confirm.";
        let looped = "Thank you. ".repeat(20);
        assert!(
            compression_ratio(normal) < 1.5,
            "{}",
            compression_ratio(normal)
        );
        assert!(
            compression_ratio(&looped) > 2.4,
            "{}",
            compression_ratio(&looped)
        );
        assert_eq!(compression_ratio(""), 0.0);
    }
}
