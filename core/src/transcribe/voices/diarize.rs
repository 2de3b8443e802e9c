//! Who spoke when, from voices alone: the detected speech cut into overlapping 1.5 s windows,
//! each embedded by the voice encoder, the windows grouped by speaker (a given count, or as
//! many as the voices part), and every stretch of speech labelled by the windows over it.

use super::cluster::{cluster, Stop};
use super::encoder::{unit, VoiceEncoder, DIM};
use crate::transcribe::vad::Span;

/// Length of a window, in samples: 1.5 s.
const WINDOW: usize = 24_000;
/// Step between windows: 0.5 s.
const STEP: usize = 8_000;
/// Shortest stretch of speech given a window of its own: 0.3 s.
const MIN_SPAN: usize = 4_800;
/// Most windows clustered; beyond, every k-th is, and the rest join the nearest group.
const MAX_CLUSTERED: usize = 2_000;
/// Two groups are one voice when their windows' mean similarity is at least this.
pub(crate) const SAME_VOICE: f32 = 0.60;
/// Without a count, groups of fewer windows than this share of the call, or than
/// [`MIN_WINDOWS`], are not speakers.
const MIN_SHARE: f64 = 0.03;
/// See [`MIN_SHARE`]: 4 windows, 3 s of speech.
const MIN_WINDOWS: usize = 4;
/// Label resolution: 10 ms.
const FRAME: usize = 160;

/// How many speakers to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Count {
    /// As many as the voices part.
    Auto,
    /// This many (at most; fewer when there are fewer windows).
    Exactly(usize),
}

/// A stretch of one speaker, in samples of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Turn {
    pub start: usize,
    pub end: usize,
    pub speaker: usize,
}

/// The turns of `samples` (16 kHz) over its `speech`, speakers numbered by first turn.
pub(crate) fn diarize(
    encoder: &VoiceEncoder,
    samples: &[f32],
    speech: &[Span],
    count: Count,
) -> Vec<Turn> {
    let windows = windows(speech);
    if windows.is_empty() {
        return Vec::new();
    }
    let stretches: Vec<&[f32]> = windows
        .iter()
        .map(|w| &samples[w.start..w.end.min(samples.len())])
        .collect();
    let embeddings: Vec<f32> = encoder.embed_many(&stretches).concat();
    let labels = group(&embeddings, count);
    turns(&windows, &labels, speech)
}

/// Windows over the speech: each span of at least [`MIN_SPAN`] cut into [`WINDOW`]s every
/// [`STEP`], the last one ending with the span; a shorter span is one window.
fn windows(speech: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for s in speech {
        let len = s.end - s.start;
        if len < MIN_SPAN {
            continue;
        }
        if len <= WINDOW {
            out.push(*s);
            continue;
        }
        let mut at = s.start;
        while at + WINDOW < s.end {
            out.push(Span {
                start: at,
                end: at + WINDOW,
            });
            at += STEP;
        }
        out.push(Span {
            start: s.end - WINDOW,
            end: s.end,
        });
    }
    out
}

/// Speaker of each window: clustered (every k-th window when there are many), then each
/// window given the group whose mean embedding it is nearest.
fn group(embeddings: &[f32], count: Count) -> Vec<usize> {
    let n = embeddings.len() / DIM;
    let every = n.div_ceil(MAX_CLUSTERED).max(1);
    let picked: Vec<usize> = (0..n).step_by(every).collect();
    let sample: Vec<f32> = picked
        .iter()
        .flat_map(|&i| embeddings[i * DIM..(i + 1) * DIM].iter().copied())
        .collect();
    let stop = match count {
        Count::Auto => Stop::Similarity(SAME_VOICE),
        Count::Exactly(k) => Stop::Count(k.max(1)),
    };
    let labels = cluster(&sample, DIM, stop);
    let k = labels.iter().max().map_or(0, |m| m + 1);
    // Without a count, a group of a few windows is a stray (a cough, a laugh, a voice
    // caught mid-change), not a speaker: its windows go to the nearest real group.
    let mut sizes = vec![0usize; k];
    labels.iter().for_each(|&l| sizes[l] += 1);
    let least = (picked.len() as f64 * MIN_SHARE).ceil() as usize;
    let keep: Vec<bool> = sizes
        .iter()
        .map(|&s| count != Count::Auto || s >= least.max(MIN_WINDOWS))
        .collect();
    let keep = if keep.iter().any(|&k| k) {
        keep
    } else {
        vec![true; k]
    };
    let mut centres = vec![0.0f32; k * DIM];
    for (&i, &l) in picked.iter().zip(&labels) {
        for (c, v) in centres[l * DIM..(l + 1) * DIM]
            .iter_mut()
            .zip(&embeddings[i * DIM..(i + 1) * DIM])
        {
            *c += v;
        }
    }
    for c in centres.chunks_mut(DIM) {
        unit(c);
    }
    (0..n)
        .map(|i| {
            let e = &embeddings[i * DIM..(i + 1) * DIM];
            (0..k)
                .filter(|&c| keep[c])
                .max_by(|&a, &b| {
                    let s = |c: usize| -> f32 {
                        centres[c * DIM..(c + 1) * DIM]
                            .iter()
                            .zip(e)
                            .map(|(x, y)| x * y)
                            .sum()
                    };
                    s(a).total_cmp(&s(b))
                })
                .unwrap_or(0)
        })
        .collect()
}

/// Turns from labelled windows: every 10 ms frame of speech takes the label most windows over
/// it carry (the nearest window's where none does), runs of one label become turns, and
/// speakers are renumbered by first turn.
fn turns(windows: &[Span], labels: &[usize], speech: &[Span]) -> Vec<Turn> {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut out: Vec<Turn> = Vec::new();
    for s in speech {
        let mut frame = s.start;
        while frame < s.end {
            let end = (frame + FRAME).min(s.end);
            let mid = (frame + end) / 2;
            let mut votes = vec![0usize; k];
            for (w, &l) in windows.iter().zip(labels) {
                if w.start <= mid && mid < w.end {
                    votes[l] += 1;
                }
            }
            let label = match (0..k).max_by_key(|&l| votes[l]) {
                Some(l) if votes[l] > 0 => l,
                _ => windows
                    .iter()
                    .zip(labels)
                    .min_by_key(|(w, _)| w.start.abs_diff(mid).min(w.end.abs_diff(mid)))
                    .map_or(0, |(_, &l)| l),
            };
            match out.last_mut() {
                Some(t) if t.speaker == label && t.end == frame => t.end = end,
                _ => out.push(Turn {
                    start: frame,
                    end,
                    speaker: label,
                }),
            }
            frame = end;
        }
    }
    let mut names: Vec<usize> = Vec::new();
    for t in &mut out {
        t.speaker = match names.iter().position(|&x| x == t.speaker) {
            Some(i) => i,
            None => {
                names.push(t.speaker);
                names.len() - 1
            }
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_each_span_to_its_end() {
        let w = windows(&[
            Span {
                start: 0,
                end: 3_000,
            },
            Span {
                start: 10_000,
                end: 20_000,
            },
            Span {
                start: 40_000,
                end: 80_000,
            },
        ]);
        assert_eq!(
            w[0],
            Span {
                start: 10_000,
                end: 20_000
            }
        );
        assert_eq!(
            w[1],
            Span {
                start: 40_000,
                end: 64_000
            }
        );
        assert_eq!(
            w.last(),
            Some(&Span {
                start: 56_000,
                end: 80_000
            })
        );
        assert_eq!(w.len(), 1 + 3);
    }

    #[test]
    fn frames_take_the_label_most_windows_give() {
        let speech = [Span {
            start: 0,
            end: 48_000,
        }];
        let w = windows(&speech);
        // Windows at 0, 0.5, 1.0, 1.5 s: the first two one voice, the rest another.
        let labels = [1, 1, 0, 0];
        assert_eq!(w.len(), 4);
        let t = turns(&w, &labels, &speech);
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!((t[0].speaker, t[1].speaker), (0, 1));
        assert_eq!(t[0].start, 0);
        assert_eq!(t[1].end, 48_000);
        assert!(t[0].end > 16_000 && t[0].end < 32_000, "{t:?}");
    }
}
