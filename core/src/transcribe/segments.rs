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

use super::options::SegmentCallback;
use super::transcript::{Segment, Word};

/// State shared with the segment callback for one `whisper_full` call.
pub(crate) struct Collector {
    pub segments: Vec<Segment>,
    /// Id of the first segment this collector produces.
    pub first_id: usize,
    /// Segments whose text compresses better than this are repetition loops and are dropped.
    pub max_compression_ratio: f32,
    pub word_timestamps: bool,
    pub on_segment: Option<SegmentCallback>,
    /// Seconds added to every timestamp (where this audio starts in the original).
    pub offset: f64,
    /// End of the audio in the original's seconds: no timestamp goes past it (a trimmed
    /// encoder window lets the last timestamp token overshoot).
    pub end: f64,
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
            let segment = unsafe { read_segment(ctx, state, i, collector) };
            if !keep(&segment, collector.max_compression_ratio) {
                continue;
            }
            if let Some(cb) = &collector.on_segment {
                cb(&segment);
            }
            collector.segments.push(segment);
        }
    }));
}

/// Whether a decoded segment is speech worth keeping: not empty, not a repetition loop that
/// survived the temperature fallback, and not Whisper's "no speech" case (no-speech probability
/// over 0.6 with a mean log-probability under −1, the rule Whisper's own decoder applies).
fn keep(segment: &Segment, max_compression_ratio: f32) -> bool {
    let text = segment.text.trim();
    !text.is_empty()
        && segment.compression_ratio <= max_compression_ratio
        && !(segment.no_speech_prob > 0.6 && segment.avg_logprob < -1.0)
}

/// Builds segment `i` of `state`.
unsafe fn read_segment(
    ctx: *mut sys::whisper_context,
    state: *mut sys::whisper_state,
    i: c_int,
    collector: &Collector,
) -> Segment {
    let cs_to_s = |t: i64| ((t * 10) as f64 / 1000.0 + collector.offset).min(collector.end);
    // SAFETY (whole function): `i` is a valid segment index of `state`, token indices are
    // below the segment's token count, and returned strings live as long as the state.
    let (t0, t1, text, no_speech, n_tokens, eot) = unsafe {
        let text = sys::whisper_full_get_segment_text_from_state(state, i);
        let text = if text.is_null() {
            String::new()
        } else {
            CStr::from_ptr(text).to_string_lossy().into_owned()
        };
        (
            sys::whisper_full_get_segment_t0_from_state(state, i),
            sys::whisper_full_get_segment_t1_from_state(state, i),
            text,
            sys::whisper_full_get_segment_no_speech_prob_from_state(state, i),
            sys::whisper_full_n_tokens_from_state(state, i),
            sys::whisper_token_eot(ctx),
        )
    };
    let mut tokens = Vec::new();
    let mut logprob_sum = 0.0f32;
    let mut words: Vec<Word> = Vec::new();
    let mut word_probs: Vec<f32> = Vec::new();
    for j in 0..n_tokens {
        let data = unsafe { sys::whisper_full_get_token_data_from_state(state, i, j) };
        if data.id >= eot {
            continue;
        }
        tokens.push(data.id);
        logprob_sum += data.plog;
        if collector.word_timestamps {
            let piece = unsafe {
                let p = sys::whisper_full_get_token_text_from_state(ctx, state, i, j);
                if p.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            let starts_word = piece.starts_with(' ') || words.is_empty();
            if starts_word {
                if let Some(w) = words.last_mut() {
                    w.probability = word_probs.iter().sum::<f32>() / word_probs.len() as f32;
                }
                word_probs.clear();
                words.push(Word {
                    word: piece,
                    start: cs_to_s(data.t0),
                    end: cs_to_s(data.t1),
                    probability: 0.0,
                });
            } else if let Some(w) = words.last_mut() {
                w.word.push_str(&piece);
                w.end = cs_to_s(data.t1);
            }
            word_probs.push(data.p);
        }
    }
    if let Some(w) = words.last_mut() {
        w.probability = word_probs.iter().sum::<f32>() / word_probs.len().max(1) as f32;
    }
    Segment {
        id: collector.first_id + collector.segments.len(),
        start: cs_to_s(t0),
        end: cs_to_s(t1),
        compression_ratio: compression_ratio(&text),
        text,
        avg_logprob: if tokens.is_empty() {
            0.0
        } else {
            logprob_sum / tokens.len() as f32
        },
        tokens,
        no_speech_prob: no_speech,
        words,
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
