//! Many inputs in one go: the speech of short inputs packed into shared 30 s windows.
//!
//! A whisper window costs one encoder pass, whatever part of it holds speech. A 3 s clip
//! alone pays for at least 512 + 150 encoder positions; packed with others it pays for its
//! own 150 plus a share of the padding. Each input's speech chunks (found by the VAD) are laid
//! out with half a second of silence between them, whisper.cpp decodes the window (ending a
//! segment at nearly every such pause), and each segment goes back to the input whose stretch
//! it overlaps most, its timestamps mapped to that input's timeline (see [`place`]).

use whisper_rs::WhisperState;

use super::schedule::{MAX_TAIL_PASSES, MIN_MISSED_SPEECH};
use super::segments::{build_segment, keep, Collector, RawSegment};
use super::timeline::{Edge, Timeline};
use super::transcript::Segment;
use super::window::Pass;
use super::{vad, TranscribeOptions, Transcriber, Transcript};
use crate::audio::SAMPLE_RATE;
use crate::error::{Error, Result};

/// Samples in one whisper window (30 s).
const WINDOW: usize = 30 * SAMPLE_RATE as usize;
/// Silence between two stretches sharing a window (0.5 s), on top of the VAD's padding.
const GAP: usize = SAMPLE_RATE as usize / 2;

/// One input's stretch placed in a window.
#[derive(Clone, Copy, Debug)]
struct Placement {
    input: usize,
    /// The stretch, in samples of the input.
    span: vad::Span,
    /// Where it starts in the window, in samples.
    at: usize,
}

impl Placement {
    /// Window centiseconds to seconds of the input, kept inside the stretch.
    fn input_seconds(&self, t: i64) -> f64 {
        let rate = f64::from(SAMPLE_RATE);
        let s = t as f64 / 100.0 - self.at as f64 / rate + self.span.start as f64 / rate;
        s.clamp(self.span.start as f64 / rate, self.span.end as f64 / rate)
    }

    /// Distance in samples from window position `x` to this stretch (0 inside it).
    fn distance(&self, x: usize) -> usize {
        let end = self.at + (self.span.end - self.span.start);
        if x < self.at {
            self.at - x
        } else {
            x.saturating_sub(end)
        }
    }
}

/// A window's stretches in the order they are laid out.
#[derive(Debug, Default)]
struct Window {
    pieces: Vec<Placement>,
    /// Samples used, gaps included.
    used: usize,
}

/// Lays out `stretches` (input, span) in windows: longest first, each into the least filled
/// window it fits, so the windows come out balanced across `min_windows` states; then each
/// window in input order.
fn pack(stretches: &[(usize, vad::Span)], min_windows: usize) -> Vec<Window> {
    let total: usize = stretches.iter().map(|(_, s)| s.end - s.start + GAP).sum();
    let wanted = min_windows.max(total.div_ceil(WINDOW)).min(stretches.len());
    let mut windows: Vec<Window> = (0..wanted).map(|_| Window::default()).collect();
    let mut order: Vec<&(usize, vad::Span)> = stretches.iter().collect();
    order.sort_by_key(|(input, s)| (std::cmp::Reverse(s.end - s.start), *input, s.start));
    for &(input, span) in order {
        let len = span.end - span.start;
        let need = |w: &Window| len + if w.used > 0 { GAP } else { 0 };
        let best = windows
            .iter_mut()
            .filter(|w| w.used + need(w) <= WINDOW)
            .min_by_key(|w| w.used);
        let window = match best {
            Some(w) => w,
            None => {
                windows.push(Window::default());
                windows.last_mut().expect("just pushed")
            }
        };
        window.used += need(window);
        window.pieces.push(Placement { input, span, at: 0 });
    }
    windows.retain(|w| !w.pieces.is_empty());
    for w in &mut windows {
        w.pieces.sort_by_key(|p| (p.input, p.span.start));
        let mut at = 0;
        for p in &mut w.pieces {
            p.at = at;
            at += p.span.end - p.span.start + GAP;
        }
    }
    windows
}

impl Transcriber {
    /// Transcribes several inputs (16 kHz mono samples, e.g. [`Audio`](crate::audio::Audio)s)
    /// in one go and returns their transcripts in the same order.
    ///
    /// Built for many short recordings (voice notes, call snippets): the speech of several
    /// inputs shares 30 s windows, so a 3 s clip no longer pays for a window of its own, and
    /// the windows are decoded on every free state. Packing needs a known language (given in
    /// `opts`, or an English-only model), VAD on and `condition_on_previous_text` off; other
    /// options transcribe each input on its own, still spread over the free states. Progress
    /// counts windows (or inputs); `on_segment` is refused, since segments here belong to
    /// several transcripts: use [`transcribe`](Self::transcribe) per input to stream them.
    pub fn transcribe_batch<A: AsRef<[f32]> + Sync>(
        &self,
        inputs: &[A],
        opts: &TranscribeOptions,
    ) -> Result<Vec<Transcript>> {
        self.check(opts)?;
        if opts.speakers != super::Speakers::None {
            return Err(Error::InvalidArgument(
                "speakers apply to one recording: transcribe each input on its own to tell \
                 its speakers apart"
                    .into(),
            ));
        }
        if opts.on_segment.is_some() {
            return Err(Error::InvalidArgument(
                "on_segment is not available for a batch: its segments belong to several \
                 transcripts; transcribe each input to receive segments as they are produced"
                    .into(),
            ));
        }
        if opts.cancel.is_some() {
            // Owned copies on their own thread: `cancel()` returns control at once.
            let owned: Vec<Vec<f32>> = inputs.iter().map(|a| a.as_ref().to_vec()).collect();
            return self.detached(opts, move |t, opts| t.batch_here(&owned, opts));
        }
        self.batch_here(inputs, opts)
    }

    /// [`transcribe_batch`](Self::transcribe_batch) on the calling thread.
    fn batch_here<A: AsRef<[f32]> + Sync>(
        &self,
        inputs: &[A],
        opts: &TranscribeOptions,
    ) -> Result<Vec<Transcript>> {
        let language = match (&opts.language, self.inner.model.info().multilingual) {
            (Some(l), _) => Some(l.clone()),
            (None, false) => Some("en".to_string()),
            (None, true) => None,
        };
        match language {
            Some(language) if opts.vad && !opts.condition_on_previous_text => {
                self.packed(inputs, opts, &language)
            }
            _ => self.one_by_one(inputs, opts),
        }
    }

    /// Each input on its own, the inputs spread over the free states.
    fn one_by_one<A: AsRef<[f32]> + Sync>(
        &self,
        inputs: &[A],
        opts: &TranscribeOptions,
    ) -> Result<Vec<Transcript>> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let single = TranscribeOptions {
            on_progress: None,
            ..opts.clone()
        };
        let done = std::sync::atomic::AtomicUsize::new(0);
        let mut first = self.inner.pool.acquire()?;
        let out = self.on_free_states(&mut first, inputs.len(), |state, i| {
            let samples = inputs[i].as_ref();
            let mut call = self.call(&single);
            if !samples.is_empty() {
                self.decode_block(state, samples, None, 0, (0.0, 1.0), &mut call)?;
            }
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            report(opts, n, inputs.len());
            Ok(call.finish(samples.len()))
        })?;
        if let Some(cb) = &opts.on_progress {
            cb(100);
        }
        Ok(out)
    }

    /// The inputs' speech packed into shared windows.
    fn packed<A: AsRef<[f32]> + Sync>(
        &self,
        inputs: &[A],
        opts: &TranscribeOptions,
        language: &str,
    ) -> Result<Vec<Transcript>> {
        let stretches: Vec<(usize, vad::Span)> = inputs
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                let samples = a.as_ref();
                vad::chunks(samples, &vad::speech_spans(&self.inner.vad, samples))
                    .into_iter()
                    .map(move |c| (i, c))
            })
            .collect();
        let windows = pack(&stretches, self.inner.pool.capacity());
        let mut per_input: Vec<Vec<Segment>> = vec![Vec::new(); inputs.len()];
        if !windows.is_empty() {
            let done = std::sync::atomic::AtomicUsize::new(0);
            let mut first = self.inner.pool.acquire()?;
            let decoded = self.on_free_states(&mut first, windows.len(), |state, w| {
                let raw = self.decode_window(state, inputs, &windows[w], opts, language)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                report(opts, n, windows.len());
                Ok(raw)
            })?;
            for (window, raw) in windows.iter().zip(decoded) {
                place(window, &raw, opts, &mut per_input);
            }
        }
        if let Some(cb) = &opts.on_progress {
            cb(100);
        }
        Ok(inputs
            .iter()
            .zip(per_input)
            .map(|(a, mut segments)| {
                segments.sort_by(|a, b| a.start.total_cmp(&b.start));
                for (id, s) in segments.iter_mut().enumerate() {
                    s.id = id;
                }
                let mut call = self.call(opts);
                call.language = Some((language.to_string(), 1.0));
                call.segments = segments;
                call.finish_quietly(a.as_ref().len())
            })
            .collect())
    }

    /// Decodes one packed window; its segments as whisper.cpp produced them.
    fn decode_window<A: AsRef<[f32]>>(
        &self,
        state: &mut WhisperState,
        inputs: &[A],
        window: &Window,
        opts: &TranscribeOptions,
        language: &str,
    ) -> Result<Vec<RawSegment>> {
        let mut audio = Vec::with_capacity(window.used);
        for p in &window.pieces {
            audio.resize(p.at, 0.0);
            audio.extend_from_slice(&inputs[p.input].as_ref()[p.span.start..p.span.end]);
        }
        let mut raw = self.decode_raw(state, &audio, opts, language)?;
        // As for a call's chunks: stretches after the window's last segment that whisper
        // skipped as silence (a lone closing timestamp) are decoded again, times shifted back.
        for _ in 0..MAX_TAIL_PASSES {
            let Some(end_cs) = raw
                .iter()
                .filter(|s| !s.tokens.is_empty())
                .map(|s| s.t1.max(s.t0))
                .max()
            else {
                break;
            };
            let covered =
                ((end_cs.max(0) as usize) * (SAMPLE_RATE as usize / 100)).min(audio.len());
            let missed: usize = window
                .pieces
                .iter()
                .map(|p| (p.at + p.span.end - p.span.start).saturating_sub(p.at.max(covered)))
                .sum();
            if missed < MIN_MISSED_SPEECH {
                break;
            }
            let shift = (covered / (SAMPLE_RATE as usize / 100)) as i64;
            let mut more = self.decode_raw(state, &audio[covered..], opts, language)?;
            if more.iter().all(|s| s.tokens.is_empty()) {
                break;
            }
            for s in &mut more {
                s.t0 += shift;
                s.t1 += shift;
                for t in &mut s.tokens {
                    t.t0 += shift;
                    t.t1 += shift;
                }
            }
            raw.extend(more);
        }
        Ok(raw)
    }

    /// One pass over packed audio; its segments as whisper.cpp produced them (window time).
    fn decode_raw(
        &self,
        state: &mut WhisperState,
        audio: &[f32],
        opts: &TranscribeOptions,
        language: &str,
    ) -> Result<Vec<RawSegment>> {
        let seconds = audio.len() as f64 / f64::from(SAMPLE_RATE);
        let collector = Collector {
            raw: Some(Vec::new()),
            word_timestamps: true,
            ..Collector::new(opts, Timeline::shifted(0.0, seconds))
        };
        let pass = Pass {
            audio,
            language,
            keep_context: false,
            token_timestamps: true,
            progress: None,
            live: false,
            partial: false,
        };
        let collector = self.run_window(state, opts, pass, collector)?;
        Ok(collector.raw.unwrap_or_default())
    }
}

/// Progress of a batch: `done` of `total` units finished.
fn report(opts: &TranscribeOptions, done: usize, total: usize) {
    if let (Some(cb), false) = (&opts.on_progress, opts.cancelled()) {
        cb((done * 100 / total.max(1)).min(99) as u8);
    }
}

/// Least overlap, in samples, for a segment to be split with a second stretch (1 s).
const SPLIT_OVERLAP: usize = SAMPLE_RATE as usize;

/// Gives a window's segments to the inputs they came from and adds them, in each input's
/// time, to `per_input`.
///
/// whisper.cpp ends a segment at each pause between stretches nearly always, but its
/// timestamps drift by a few tenths of a second, token timestamps more than segment ones. So a
/// segment goes whole to the stretch it overlaps most (each stretch counted to the middle of
/// the gaps around it); only a segment overlapping a second stretch by a second or more is
/// split, token by token, at the stretch nearest each token, in time order.
fn place(
    window: &Window,
    raw: &[RawSegment],
    opts: &TranscribeOptions,
    per_input: &mut [Vec<Segment>],
) {
    let cs = |t: i64| (t.max(0) as usize) * (SAMPLE_RATE as usize / 100);
    let overlap = |p: &Placement, t0: usize, t1: usize| {
        let start = p.at.saturating_sub(GAP / 2);
        let end = p.at + (p.span.end - p.span.start) + GAP / 2;
        t1.min(end).saturating_sub(t0.max(start))
    };
    for seg in raw.iter().filter(|s| !s.tokens.is_empty()) {
        let (t0, t1) = (cs(seg.t0), cs(seg.t1.max(seg.t0)));
        let mid = (t0 + t1) / 2;
        let best = (0..window.pieces.len())
            .max_by_key(|&k| {
                let p = &window.pieces[k];
                (overlap(p, t0, t1), std::cmp::Reverse(p.distance(mid)))
            })
            .unwrap_or(0);
        let candidates: Vec<usize> = (0..window.pieces.len())
            .filter(|&k| k == best || overlap(&window.pieces[k], t0, t1) >= SPLIT_OVERLAP)
            .collect();
        // Each token's stretch: the nearest candidate, never earlier than the previous token's.
        let mut owners = Vec::with_capacity(seg.tokens.len());
        let mut floor = 0;
        for t in &seg.tokens {
            let mid = (cs(t.t0) + cs(t.t1)) / 2;
            let k = if candidates.len() == 1 {
                0
            } else {
                (0..candidates.len())
                    .min_by_key(|&c| window.pieces[candidates[c]].distance(mid))
                    .unwrap_or(0)
            };
            floor = floor.max(k);
            owners.push(candidates[floor]);
        }
        let mut from = 0;
        while from < seg.tokens.len() {
            let k = owners[from];
            let to = (from..seg.tokens.len())
                .find(|&j| owners[j] != k)
                .unwrap_or(seg.tokens.len());
            let tokens = &seg.tokens[from..to];
            let p = window.pieces[k];
            let to_s = |t: i64, _: Edge| p.input_seconds(t);
            // A segment that stays whole keeps whisper's own segment times.
            let (start, end) = if from == 0 && to == seg.tokens.len() {
                (to_s(seg.t0, Edge::Start), to_s(seg.t1, Edge::End))
            } else {
                (
                    to_s(tokens[0].t0, Edge::Start),
                    to_s(tokens[tokens.len() - 1].t1, Edge::End),
                )
            };
            let mut segment = build_segment(
                tokens,
                start,
                end,
                seg.no_speech_prob,
                &to_s,
                opts.word_timestamps,
            );
            segment.temperature = opts.temperature;
            if keep(
                &segment,
                opts.compression_ratio_threshold,
                opts.sound_events,
            ) {
                per_input[p.input].push(segment);
            }
            from = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, secs: f64) -> vad::Span {
        vad::Span {
            start,
            end: start + (secs * 16_000.0) as usize,
        }
    }

    #[test]
    fn stretches_fill_balanced_windows_in_input_order() {
        let stretches: Vec<_> = (0..10).map(|i| (i, span(0, 4.0))).collect();
        let windows = pack(&stretches, 2);
        // 10 × (4 s + 0.5 s) = 45 s: two windows of 5 stretches each.
        assert_eq!(windows.len(), 2);
        for w in &windows {
            assert_eq!(w.pieces.len(), 5);
            assert!(w.used <= WINDOW);
            assert!(w.pieces.windows(2).all(|p| p[0].input < p[1].input));
            assert!(w
                .pieces
                .windows(2)
                .all(|p| p[1].at == p[0].at + 4 * 16_000 + GAP));
        }
    }

    #[test]
    fn long_stretches_get_their_own_window() {
        // Nothing fits beside 29 s or 28 s: three windows.
        let stretches = vec![(0, span(0, 29.0)), (1, span(0, 2.0)), (2, span(0, 28.0))];
        let windows = pack(&stretches, 1);
        assert_eq!(windows.len(), 3);
        assert!(windows
            .iter()
            .all(|w| w.used <= WINDOW && w.pieces.len() == 1));
        // 2 s fits beside 20 s, the less filled window.
        let stretches = vec![(0, span(0, 20.0)), (1, span(0, 2.0)), (2, span(0, 25.0))];
        let windows = pack(&stretches, 1);
        assert_eq!(windows.len(), 2);
        let inputs: Vec<Vec<usize>> = windows
            .iter()
            .map(|w| w.pieces.iter().map(|p| p.input).collect())
            .collect();
        assert!(
            inputs.contains(&vec![0, 1]) && inputs.contains(&vec![2]),
            "{inputs:?}"
        );
    }

    #[test]
    fn never_more_windows_than_stretches() {
        let windows = pack(&[(0, span(0, 1.0))], 8);
        assert_eq!(windows.len(), 1);
        assert!(pack(&[], 4).is_empty());
    }

    #[test]
    fn times_map_back_to_the_input_and_stay_in_the_stretch() {
        let p = Placement {
            input: 3,
            span: span(32_000, 4.0), // 2 s .. 6 s of the input
            at: 80_000,              // 5 s into the window
        };
        assert!((p.input_seconds(600) - 3.0).abs() < 1e-9);
        assert!((p.input_seconds(0) - 2.0).abs() < 1e-9);
        assert!((p.input_seconds(3_000) - 6.0).abs() < 1e-9);
        assert_eq!(p.distance(80_000), 0);
        assert_eq!(p.distance(70_000), 10_000);
        assert_eq!(p.distance(80_000 + 64_000 + 5), 5);
    }
}
