//! Turns of speech in a live stream, frame by frame from the VAD's scores: where one starts
//! (with some audio kept before it), where it ends after enough silence, and where a turn too
//! long for one decoder window is cut.

/// Speech shorter than this is a click or a cough: no text is decoded for it (160 ms).
const MIN_SPEECH: usize = 2_560;
/// Quiet audio kept after a turn's last speech (250 ms), as the batch path pads its spans.
pub(super) const TAIL: usize = 4_000;
/// A turn at its longest length is cut at its quietest frame within this much before (5 s).
const CUT_SEARCH: usize = 80_000;

/// What a frame changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// Speech started at sample `at`; the turn's audio starts at `from` (prefix kept).
    Started { at: usize, from: usize },
    /// The turn from `from` ended: its last speech ends at `at`, its audio at `until`.
    /// `speech` is false when it held too little speech to decode.
    Stopped {
        from: usize,
        at: usize,
        until: usize,
        speech: bool,
    },
    /// The turn from `from` grew too long and was cut at `at`: `from..at` is decoded, and
    /// the turn goes on from `at`.
    Cut { from: usize, at: usize },
}

/// A turn in progress.
#[derive(Debug)]
struct Open {
    /// First sample of its audio (the prefix included).
    from: usize,
    /// End of its last frame of speech.
    speech_end: usize,
    /// Samples of speech in it.
    speech: usize,
    /// Frames of silence since its last speech.
    silence: usize,
    /// Scores of its frames, from `from` rounded down to a frame.
    scores: Vec<f32>,
    /// Frame index of `scores[0]`.
    first_frame: usize,
}

/// The turn detector's settings and state.
#[derive(Debug)]
pub(super) struct Turns {
    /// Samples per score.
    frame: usize,
    /// Score at which speech starts, and below which it counts as paused.
    on: f32,
    off: f32,
    /// Frames of silence that end a turn.
    end_frames: usize,
    /// Samples kept before the start of speech.
    prefix: usize,
    /// Longest turn, in samples.
    max_turn: usize,
    open: Option<Open>,
}

impl Turns {
    /// A detector over scores of `frame` samples each.
    pub fn new(
        frame: usize,
        on: f32,
        off: f32,
        silence: usize,
        prefix: usize,
        max_turn: usize,
    ) -> Self {
        Self {
            frame,
            on,
            off,
            end_frames: silence.div_ceil(frame).max(1),
            prefix,
            max_turn,
            open: None,
        }
    }

    /// Where the open turn's audio starts, if a turn is open.
    pub fn open_from(&self) -> Option<usize> {
        self.open.as_ref().map(|o| o.from)
    }

    /// Samples of silence since the open turn's last speech (0 when no turn is open).
    pub fn silence(&self) -> usize {
        self.open.as_ref().map_or(0, |o| o.silence * self.frame)
    }

    /// The open turn's audio as a silence that goes on would end it (`from`, `until`), once
    /// [`TAIL`] of silence has followed its last speech: its final text can be decoded then.
    /// `None` before that, with no turn open, or when it holds too little speech to decode.
    pub fn settled(&self) -> Option<(usize, usize)> {
        let o = self.open.as_ref()?;
        (o.silence * self.frame >= TAIL && o.speech >= MIN_SPEECH)
            .then_some((o.from, o.speech_end + TAIL))
    }

    /// Takes the score of frame `index` (samples `index * frame ..`); `floor` is the first
    /// sample still held (a turn's prefix cannot reach before it).
    pub fn frame(&mut self, index: usize, score: f32, floor: usize) -> Option<Change> {
        let (start, end) = (index * self.frame, (index + 1) * self.frame);
        let Some(open) = self.open.as_mut() else {
            if score < self.on {
                return None;
            }
            let from = start.saturating_sub(self.prefix).max(floor);
            self.open = Some(Open {
                from,
                speech_end: end,
                speech: self.frame,
                silence: 0,
                scores: vec![score],
                first_frame: index,
            });
            return Some(Change::Started { at: start, from });
        };
        open.scores.push(score);
        if score >= self.off {
            open.silence = 0;
            open.speech_end = end;
            open.speech += self.frame;
        } else {
            open.silence += 1;
            if open.silence >= self.end_frames {
                let until = (open.speech_end + TAIL).min(end);
                let change = Change::Stopped {
                    from: open.from,
                    at: open.speech_end,
                    until,
                    speech: open.speech >= MIN_SPEECH,
                };
                self.open = None;
                return Some(change);
            }
        }
        if end - open.from < self.max_turn {
            return None;
        }
        // Too long for one window: cut at the quietest frame of the last few seconds.
        let search = (CUT_SEARCH / self.frame).min(open.scores.len() - 1).max(1);
        let first = open.scores.len() - search;
        let quietest = (first..open.scores.len())
            .min_by(|&a, &b| open.scores[a].total_cmp(&open.scores[b]))
            .unwrap_or(open.scores.len() - 1);
        let at = ((open.first_frame + quietest) * self.frame).max(open.from + self.frame);
        let change = Change::Cut {
            from: open.from,
            at,
        };
        let kept = quietest.min(open.scores.len());
        open.scores.drain(..kept);
        open.first_frame += kept;
        open.from = at;
        open.speech = open.speech.min(end - at);
        Some(change)
    }

    /// Forgets the open turn, if any; returns whether one was open.
    pub fn discard(&mut self) -> bool {
        self.open.take().is_some()
    }

    /// Ends the open turn at sample `end` (the end of the stream), if one is open.
    pub fn close(&mut self, end: usize) -> Option<Change> {
        let open = self.open.take()?;
        Some(Change::Stopped {
            from: open.from,
            at: open.speech_end.min(end),
            until: (open.speech_end + TAIL).min(end),
            speech: open.speech >= MIN_SPEECH,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds scores (one per 512 samples) and collects the changes.
    fn run(turns: &mut Turns, scores: &[f32]) -> Vec<(usize, Change)> {
        scores
            .iter()
            .enumerate()
            .filter_map(|(i, &s)| turns.frame(i, s, 0).map(|c| (i, c)))
            .collect()
    }

    fn detector() -> Turns {
        // 500 ms of silence ends a turn, 300 ms of prefix, 10 s turns at most.
        Turns::new(512, 0.5, 0.35, 8_000, 4_800, 160_000)
    }

    #[test]
    fn a_turn_starts_with_its_prefix_and_ends_after_the_silence() {
        let mut t = detector();
        let mut scores = vec![0.1; 20];
        scores.extend(vec![0.9; 40]);
        // A dip above the lower threshold does not pause the speech.
        scores.extend(vec![0.4; 5]);
        scores.extend(vec![0.9; 10]);
        scores.extend(vec![0.1; 40]);
        let changes = run(&mut t, &scores);
        assert_eq!(
            changes[0],
            (
                20,
                Change::Started {
                    at: 20 * 512,
                    from: 20 * 512 - 4_800
                }
            )
        );
        // 16 frames of silence (8,192 samples >= 8,000) end it.
        let speech_end = 75 * 512;
        assert_eq!(
            changes[1],
            (
                75 + 15,
                Change::Stopped {
                    from: 20 * 512 - 4_800,
                    at: speech_end,
                    until: speech_end + TAIL,
                    speech: true
                }
            )
        );
        assert_eq!(changes.len(), 2);
        assert_eq!(t.open_from(), None);
    }

    #[test]
    fn a_turn_is_settled_once_its_tail_of_silence_has_come() {
        let mut t = detector();
        let mut scores = vec![0.1; 20];
        scores.extend(vec![0.9; 40]);
        run(&mut t, &scores);
        let (from, speech_end) = (20 * 512 - 4_800, 60 * 512);
        // 7 frames of silence (3,584 samples) are less than the tail, 8 are not.
        for i in 60..67 {
            t.frame(i, 0.1, 0);
            assert_eq!(t.settled(), None);
        }
        t.frame(67, 0.1, 0);
        assert_eq!(t.settled(), Some((from, speech_end + TAIL)));
        // The turn that silence ends has that audio.
        let mut stopped = None;
        for i in 68..80 {
            stopped = stopped.or(t.frame(i, 0.1, 0));
        }
        assert_eq!(
            stopped,
            Some(Change::Stopped {
                from,
                at: speech_end,
                until: speech_end + TAIL,
                speech: true
            })
        );
        // Speech again before the end: not settled until its own tail of silence.
        let mut t = detector();
        run(&mut t, &scores);
        for i in 60..68 {
            t.frame(i, 0.1, 0);
        }
        t.frame(68, 0.9, 0);
        assert_eq!(t.settled(), None);
        // A click holds too little speech to settle.
        let mut t = detector();
        let mut click = vec![0.9; 2];
        click.extend(vec![0.0; 10]);
        run(&mut t, &click);
        assert_eq!(t.settled(), None);
    }

    #[test]
    fn a_click_is_a_turn_without_speech_to_decode() {
        let mut t = detector();
        let mut scores = vec![0.9; 2];
        scores.extend(vec![0.0; 30]);
        let changes = run(&mut t, &scores);
        assert!(matches!(changes[0].1, Change::Started { from: 0, .. }));
        assert!(matches!(
            changes[1].1,
            Change::Stopped { speech: false, .. }
        ));
    }

    #[test]
    fn a_monologue_is_cut_at_its_quietest_moment_and_goes_on() {
        let mut t = detector();
        let mut scores = vec![0.9; 400];
        // The quietest frame, inside the last 5 s before the 10 s limit (frame 312).
        scores[290] = 0.36;
        let changes = run(&mut t, &scores);
        assert_eq!(
            changes[1],
            (
                312,
                Change::Cut {
                    from: 0,
                    at: 290 * 512
                }
            )
        );
        assert_eq!(t.open_from(), Some(290 * 512));
        // Still open at the end of the stream: closing ends it there.
        let end = 400 * 512;
        assert!(matches!(
            t.close(end),
            Some(Change::Stopped { from, at, until, speech: true }) if from >= 290 * 512 && at == end && until == end
        ));
        // No turn was ever longer than the limit.
        for (_, c) in &changes {
            if let Change::Cut { from, at } = c {
                assert!(at - from <= 160_000);
            }
        }
    }
}
