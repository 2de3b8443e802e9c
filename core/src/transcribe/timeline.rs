//! Times in a decoded window back on the original timeline: a window holds stretches of the
//! input joined back to back (the silence between them left out), so each stretch has its own
//! offset.

use super::vad::Span;

/// Which end of a stretch of text a time marks: the two differ on a seam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    Start,
    End,
}

/// Where the stretches of one decoded window lie in the original audio.
#[derive(Clone, Debug)]
pub(crate) struct Timeline {
    /// (start in the window, start in the original), seconds, one per stretch, in order.
    starts: Vec<(f64, f64)>,
    /// End of the audio in the original's seconds: no time goes past it (a trimmed encoder
    /// window lets the last timestamp token overshoot).
    end: f64,
}

impl Timeline {
    /// One stretch: window time plus `offset`, up to `end` (seconds).
    pub fn shifted(offset: f64, end: f64) -> Self {
        Self {
            starts: vec![(0.0, offset)],
            end,
        }
    }

    /// The stretches `pieces` (samples of an input that starts at sample `offset` of the
    /// original, `rate` samples per second) joined in order.
    pub fn joined(pieces: &[Span], offset: usize, rate: f64) -> Self {
        let mut at = 0usize;
        let starts = pieces
            .iter()
            .map(|p| {
                let start = (at as f64 / rate, (offset + p.start) as f64 / rate);
                at += p.end - p.start;
                start
            })
            .collect();
        let end = pieces.last().map_or(0, |p| p.end);
        Self {
            starts,
            end: (offset + end) as f64 / rate,
        }
    }

    /// `t` seconds into the window, in the original's seconds. Each stretch is speech with
    /// `snap` seconds of its quiet edge on both sides: a start in the quiet end of a stretch
    /// moves to the start of the next, an end in the quiet start of a stretch to the end of
    /// the one before (a time on the seam itself counts as in the quiet part).
    pub fn original(&self, t: f64, edge: Edge, snap: f64) -> f64 {
        let n = self.starts.len();
        let i = self.starts.iter().rposition(|&(w, _)| w <= t).unwrap_or(0);
        let (w, o) = match edge {
            Edge::Start => match self.starts.get(i + 1) {
                Some(&next) if next.0 - t <= snap => return next.1.min(self.end),
                _ => self.starts.get(i).copied(),
            },
            Edge::End if i > 0 && i < n && t - self.starts[i].0 <= snap => {
                // The end of stretch i - 1.
                let (w, o) = self.starts[i - 1];
                return (o + (self.starts[i].0 - w)).min(self.end);
            }
            Edge::End => self.starts.get(i).copied(),
        }
        .unwrap_or((0.0, 0.0));
        (o + (t - w)).min(self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_stretches_keep_their_own_offsets() {
        let pieces = [
            Span {
                start: 100,
                end: 300,
            },
            Span {
                start: 1_000,
                end: 1_100,
            },
        ];
        let t = Timeline::joined(&pieces, 50, 100.0);
        let at = |s, edge| t.original(s, edge, 0.25);
        assert_eq!(at(0.0, Edge::Start), 1.5);
        assert_eq!(at(1.0, Edge::End), 2.5);
        assert_eq!(at(1.0, Edge::Start), 2.5);
        // On the seam or in the quiet edge around it: the end of the first stretch, or the
        // start of the second.
        assert_eq!(at(2.0, Edge::End), 3.5);
        assert_eq!(at(2.1, Edge::End), 3.5);
        assert_eq!(at(2.0, Edge::Start), 10.5);
        assert_eq!(at(1.8, Edge::Start), 10.5);
        assert!((at(1.7, Edge::Start) - 3.2).abs() < 1e-9);
        assert!((at(2.5, Edge::End) - 11.0).abs() < 1e-9);
        // Past the audio: its end.
        assert_eq!(at(9.0, Edge::End), 11.5);
    }

    #[test]
    fn one_stretch_is_a_shift() {
        let t = Timeline::shifted(10.0, 40.0);
        assert_eq!(t.original(0.0, Edge::Start, 0.25), 10.0);
        assert_eq!(t.original(0.1, Edge::End, 0.25), 10.1);
        assert_eq!(t.original(12.5, Edge::End, 0.25), 22.5);
        assert_eq!(t.original(31.0, Edge::Start, 0.25), 40.0);
    }
}
