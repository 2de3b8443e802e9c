//! Voice activity detection: which parts of the audio hold speech, gathered into decoder
//! windows of at most 30 s of speech.
//!
//! whisper.cpp's own VAD does not run under `whisper_full_with_state`, and Whisper invents text
//! ("Thank you.", "you") for silence, noise and music; so only detected speech is decoded.
//! Detection is the Silero VAD network ([`Silero`], 32 ms chunks), or, where its weights are
//! not to be had, the smaller pure-Rust `earshot` network (16 ms frames), which misses quiet
//! speech under noise that Silero finds.

mod onnx;
mod silero;

use std::borrow::Cow;
use std::sync::Arc;

use earshot::Detector as Earshot;
pub use silero::{Silero, SileroRun};

/// Speech shorter than this is dropped as a click or cough: 160 ms.
const MIN_SPEECH: usize = 2_560;
/// Silence shorter than this does not end a span: about half a second (31 earshot frames).
const MIN_SILENCE: usize = 7_936;
/// Audio kept around each span, in samples: 250 ms, so word edges are not clipped.
pub(crate) const PAD: usize = 4_000;
/// Longest chunk handed to the decoder: one 30 s window.
pub(crate) const MAX_CHUNK: usize = 30 * 16_000;

/// A stretch of the input, in samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// The network that scores frames for speech.
#[derive(Clone, Debug)]
pub(crate) enum Detector {
    /// Silero VAD v6.
    Silero(Arc<Silero>),
    /// earshot, built in.
    Earshot,
}

/// Frame scores and how to read them.
struct Scores {
    /// Speech score of each frame.
    scores: Vec<f32>,
    /// Samples per frame.
    frame: usize,
    /// Score at which speech starts.
    on: f32,
    /// Score below which speech that has started counts as paused.
    off: f32,
}

/// earshot's frame: 16 ms at 16 kHz.
const EARSHOT_FRAME: usize = 256;

/// Frames fed to earshot before scoring (2 s): it adapts to the background first, so a steady
/// hum or tone at the start is not taken for speech while it adapts.
const WARM_UP_FRAMES: usize = 125;

/// earshot's score of every 16 ms frame.
fn earshot_scores(samples: &[f32]) -> Vec<f32> {
    let mut detector = Earshot::default();
    let mut frame = [0.0f32; EARSHOT_FRAME];
    for c in samples.chunks(EARSHOT_FRAME).take(WARM_UP_FRAMES) {
        frame[..c.len()].copy_from_slice(c);
        frame[c.len()..].fill(0.0);
        detector.predict_f32(&frame);
    }
    samples
        .chunks(EARSHOT_FRAME)
        .map(|c| {
            frame[..c.len()].copy_from_slice(c);
            frame[c.len()..].fill(0.0);
            detector.predict_f32(&frame)
        })
        .collect()
}

impl Detector {
    fn scores(&self, samples: &[f32]) -> Scores {
        match self {
            // Silero's own recipe: start at 0.5, hold the span until the score drops below
            // 0.35.
            Detector::Silero(net) => Scores {
                scores: net.probabilities(samples),
                frame: silero::CHUNK,
                on: 0.5,
                off: 0.35,
            },
            Detector::Earshot => Scores {
                scores: earshot_scores(samples),
                frame: EARSHOT_FRAME,
                on: 0.5,
                off: 0.5,
            },
        }
    }
}

/// Frame scores over audio that arrives in pieces (a live stream).
pub(crate) enum ScoreRun {
    Silero(Box<silero::SileroRun>),
    Earshot {
        detector: Box<Earshot>,
        /// Samples not yet a whole frame.
        pending: Vec<f32>,
    },
}

impl ScoreRun {
    /// A run of `detector` from the start of a stream.
    pub fn new(detector: &Detector) -> Self {
        match detector {
            Detector::Silero(net) => {
                ScoreRun::Silero(Box::new(silero::SileroRun::new(net.clone())))
            }
            Detector::Earshot => ScoreRun::Earshot {
                detector: Box::default(),
                pending: Vec::new(),
            },
        }
    }

    /// Samples per score.
    pub fn frame(&self) -> usize {
        match self {
            ScoreRun::Silero(_) => silero::CHUNK,
            ScoreRun::Earshot { .. } => EARSHOT_FRAME,
        }
    }

    /// The score below which speech that has started counts as paused, for speech that
    /// starts at `on` (Silero's recipe: 0.15 lower; earshot: the same).
    pub fn off(&self, on: f32) -> f32 {
        match self {
            ScoreRun::Silero(_) => (on - 0.15).max(0.01),
            ScoreRun::Earshot { .. } => on,
        }
    }

    /// Adds 16 kHz samples; the scores of the frames they complete, in order.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        match self {
            ScoreRun::Silero(run) => run.push(samples),
            ScoreRun::Earshot { detector, pending } => {
                pending.extend_from_slice(samples);
                let whole = pending.len() / EARSHOT_FRAME * EARSHOT_FRAME;
                let scores = pending[..whole]
                    .chunks_exact(EARSHOT_FRAME)
                    .map(|f| detector.predict_f32(f))
                    .collect();
                pending.drain(..whole);
                scores
            }
        }
    }
}

/// Spans of speech, padded, merged where they touch.
pub(crate) fn speech_spans(detector: &Detector, samples: &[f32]) -> Vec<Span> {
    let Scores {
        scores,
        frame,
        on,
        off,
    } = detector.scores(samples);
    let (min_speech, min_silence) = (MIN_SPEECH.div_ceil(frame), MIN_SILENCE.div_ceil(frame));
    let mut spans: Vec<Span> = Vec::new();
    let mut start: Option<usize> = None;
    let mut silence = 0;
    for (i, &s) in scores.iter().enumerate() {
        match start {
            None if s >= on => {
                start = Some(i);
                silence = 0;
            }
            None => {}
            Some(_) if s >= off => silence = 0,
            Some(st) => {
                silence += 1;
                if silence >= min_silence {
                    let end = i + 1 - silence;
                    if end - st >= min_speech {
                        spans.push(Span { start: st, end });
                    }
                    start = None;
                    silence = 0;
                }
            }
        }
    }
    if let Some(st) = start {
        let end = scores.len() - silence;
        if end - st >= min_speech {
            spans.push(Span { start: st, end });
        }
    }
    // Frames to samples, padded and merged.
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        let span = Span {
            start: (s.start * frame).saturating_sub(PAD),
            end: (s.end * frame + PAD).min(samples.len()),
        };
        match out.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => out.push(span),
        }
    }
    out
}

/// Samples of speech in `spans` that fall inside `within`.
pub(crate) fn speech_in(spans: &[Span], within: Span) -> usize {
    spans
        .iter()
        .map(|s| {
            s.end
                .min(within.end)
                .saturating_sub(s.start.max(within.start))
        })
        .sum()
}

/// Speech spans cut to at most 30 s each: a longer span is cut at its quietest 16 ms frame in
/// the last 5 s before the limit.
fn pieces(samples: &[f32], spans: &[Span]) -> Vec<Span> {
    let mut pieces: Vec<Span> = Vec::new();
    for s in spans {
        let mut start = s.start;
        while s.end - start > MAX_CHUNK {
            let search = (start + MAX_CHUNK - 5 * 16_000)..(start + MAX_CHUNK);
            let cut = search
                .step_by(EARSHOT_FRAME)
                .min_by(|&a, &b| {
                    let e = |i: usize| {
                        samples[i..(i + EARSHOT_FRAME).min(samples.len())]
                            .iter()
                            .map(|x| x * x)
                            .sum::<f32>()
                    };
                    e(a).total_cmp(&e(b))
                })
                .unwrap_or(start + MAX_CHUNK);
            pieces.push(Span { start, end: cut });
            start = cut;
        }
        pieces.push(Span { start, end: s.end });
    }
    pieces
}

/// Groups speech spans into stretches of at most 30 s (gaps included), each starting and
/// ending at span edges where possible (see [`pieces`]).
pub(crate) fn chunks(samples: &[f32], spans: &[Span]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for p in pieces(samples, spans) {
        match out.last_mut() {
            Some(last) if p.end - last.start <= MAX_CHUNK => last.end = p.end,
            _ => out.push(p),
        }
    }
    out
}

/// What one decoder window holds: stretches of the input decoded back to back, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// The stretches, in order, none overlapping.
    pub pieces: Vec<Span>,
}

impl Chunk {
    /// A chunk of one stretch.
    pub fn whole(span: Span) -> Self {
        Self { pieces: vec![span] }
    }

    /// From the start of the first stretch to the end of the last.
    pub fn extent(&self) -> Span {
        Span {
            start: self.pieces.first().map_or(0, |p| p.start),
            end: self.pieces.last().map_or(0, |p| p.end),
        }
    }

    /// Samples decoded: the stretches' lengths.
    pub fn len(&self) -> usize {
        self.pieces.iter().map(|p| p.end - p.start).sum()
    }

    /// The chunk's audio: its stretches of `samples`, joined.
    pub fn audio<'a>(&self, samples: &'a [f32]) -> Cow<'a, [f32]> {
        match self.pieces.as_slice() {
            [one] => Cow::Borrowed(&samples[one.start..one.end]),
            pieces => Cow::Owned(
                pieces
                    .iter()
                    .flat_map(|p| samples[p.start..p.end].iter().copied())
                    .collect(),
            ),
        }
    }

    /// What is left of the chunk from sample `at` of the input on.
    pub fn from(&self, at: usize) -> Self {
        self.within(Span {
            start: at,
            end: usize::MAX,
        })
    }

    /// The part of the chunk inside `span` of the input.
    pub fn within(&self, span: Span) -> Self {
        Self {
            pieces: self
                .pieces
                .iter()
                .filter(|p| p.end > span.start && p.start < span.end)
                .map(|p| Span {
                    start: p.start.max(span.start),
                    end: p.end.min(span.end),
                })
                .collect(),
        }
    }
}

/// Groups speech spans into decoder windows of at most 30 s of speech: the silence between
/// spans is left out (each span keeps its [`PAD`] on both sides, so joined spans are parted by
/// half a second or more), and one window holds as much speech as fits.
pub(crate) fn speech_chunks(samples: &[f32], spans: &[Span]) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    for p in pieces(samples, spans) {
        match out.last_mut() {
            Some(last) if last.len() + (p.end - p.start) <= MAX_CHUNK => last.pieces.push(p),
            _ => out.push(Chunk::whole(p)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_holds_no_speech_and_a_tone_little() {
        assert!(speech_spans(&Detector::Earshot, &vec![0.0; 16_000 * 5]).is_empty());
        // A steady tone can pass for speech while the detector adapts to it (well under a
        // second after the warm-up); the decoder then finds no words in it.
        let tone: Vec<f32> = (0..16_000 * 10)
            .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin())
            .collect();
        let flagged: usize = speech_spans(&Detector::Earshot, &tone)
            .iter()
            .map(|s| s.end - s.start)
            .sum();
        assert!(
            flagged < 16_000 * 3 / 2,
            "{flagged} samples of tone taken for speech"
        );
    }

    #[test]
    fn long_speech_is_cut_into_windows() {
        let samples = vec![0.1f32; 16_000 * 70];
        let spans = [Span {
            start: 0,
            end: samples.len(),
        }];
        let c = chunks(&samples, &spans);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|s| s.end - s.start <= MAX_CHUNK));
        assert_eq!(c[0].start, 0);
        assert_eq!(c.last().unwrap().end, samples.len());
        assert!(c.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn speech_is_counted_inside_a_stretch() {
        let spans = [
            Span { start: 0, end: 100 },
            Span {
                start: 200,
                end: 300,
            },
        ];
        assert_eq!(
            speech_in(
                &spans,
                Span {
                    start: 50,
                    end: 250
                }
            ),
            100
        );
        assert_eq!(
            speech_in(
                &spans,
                Span {
                    start: 100,
                    end: 200
                }
            ),
            0
        );
        assert_eq!(
            speech_in(
                &spans,
                Span {
                    start: 0,
                    end: 1000
                }
            ),
            200
        );
    }

    #[test]
    fn short_spans_are_packed() {
        let samples = vec![0.0f32; 16_000 * 60];
        let spans = [
            Span {
                start: 0,
                end: 32_000,
            },
            Span {
                start: 80_000,
                end: 112_000,
            },
            Span {
                start: 600_000,
                end: 640_000,
            },
        ];
        assert_eq!(
            chunks(&samples, &spans),
            vec![
                Span {
                    start: 0,
                    end: 112_000
                },
                Span {
                    start: 600_000,
                    end: 640_000
                }
            ]
        );
    }

    #[test]
    fn speech_chunks_leave_the_silence_out() {
        let samples = vec![0.0f32; 16_000 * 120];
        let span = |a: f64, b: f64| Span {
            start: (a * 16_000.0) as usize,
            end: (b * 16_000.0) as usize,
        };
        // 12 s + 12 s fit one window across a 20 s pause; the third span would take it past
        // 30 s of speech, so it starts the next.
        let spans = [span(0.0, 12.0), span(32.0, 44.0), span(50.0, 60.0)];
        let c = speech_chunks(&samples, &spans);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].pieces, vec![spans[0], spans[1]]);
        assert_eq!(c[0].len(), 24 * 16_000);
        assert_eq!(c[0].extent(), span(0.0, 44.0));
        assert_eq!(c[1], Chunk::whole(spans[2]));
        assert!(c.iter().all(|c| c.len() <= MAX_CHUNK));
        // A span longer than a window is still cut into windows.
        let long = speech_chunks(&samples, &[span(0.0, 70.0)]);
        assert_eq!(long.len(), 3);
        assert!(long
            .iter()
            .all(|c| c.len() <= MAX_CHUNK && c.pieces.len() == 1));
    }

    #[test]
    fn what_is_left_of_a_chunk() {
        let a = Span { start: 0, end: 100 };
        let b = Span {
            start: 300,
            end: 400,
        };
        let c = Chunk { pieces: vec![a, b] };
        assert_eq!(
            c.from(50).pieces,
            vec![
                Span {
                    start: 50,
                    end: 100
                },
                b
            ]
        );
        assert_eq!(c.from(200).pieces, vec![b]);
        assert_eq!(c.from(350).len(), 50);
        assert!(c.from(400).pieces.is_empty());
    }
}
