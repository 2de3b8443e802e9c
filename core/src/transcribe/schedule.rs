//! Decoding a block's chunks: in order on one state (context carries over, segments arrive as
//! decoded), or spread over every free state and released in timeline order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use whisper_rs::WhisperState;

use super::events::SoundEvents;
use super::hooks;
use super::hotwords;
use super::options::TranscribeOptions;
use super::segments::Collector;
use super::timeline::Timeline;
use super::transcript::Segment;
use super::vad;
use super::window::Pass;
use super::Transcriber;
use crate::audio::SAMPLE_RATE;
use crate::error::{Error, Result};

/// Speech (in samples) left after a window's last segment that is decoded again: 1 s.
pub(super) const MIN_MISSED_SPEECH: usize = SAMPLE_RATE as usize;
/// Extra passes over one window's undecoded tail.
pub(super) const MAX_TAIL_PASSES: usize = 3;
/// Detected speech (in samples) under one dropped sound annotation that has it decoded again:
/// 4 s, longer than a laugh or a cough.
const ANNOTATED_SPEECH: usize = 4 * SAMPLE_RATE as usize;

/// A chunk's final segments numbered from `first_id` and, when `deliver`, handed to the
/// caller's `on_segment` (none once the call is cancelled).
fn settle(segments: &mut [Segment], first_id: usize, deliver: bool, opts: &TranscribeOptions) {
    for (k, s) in segments.iter_mut().enumerate() {
        s.id = first_id + k;
    }
    if let (true, Some(cb), false) = (deliver, &opts.on_segment, opts.cancelled()) {
        segments.iter().for_each(|s| cb(s));
    }
}

/// One block's audio and settings, shared by the threads decoding its chunks.
pub(super) struct Job<'a> {
    pub samples: &'a [f32],
    pub chunks: &'a [vad::Chunk],
    /// The detected speech the chunks were made from (with VAD): speech after a chunk's last
    /// segment is decoded again.
    pub speech: Option<&'a [vad::Span]>,
    pub opts: &'a TranscribeOptions,
    pub language: &'a str,
    /// Samples in all chunks.
    pub total: usize,
    /// Where `samples` starts in the input, in samples.
    pub offset: usize,
    /// Id of the first segment this job produces.
    pub first_id: usize,
    /// (start, width) of this job's share of the call's progress, as fractions.
    pub progress: (f64, f64),
}

/// Chunks decoded out of order, released in timeline order.
struct Ordered {
    done: Vec<Option<Vec<Segment>>>,
    flushed: usize,
    segments: Vec<Segment>,
    samples_done: usize,
    total: usize,
    first_id: usize,
    progress: (f64, f64),
}

impl Ordered {
    /// Moves every chunk whose predecessors are all in to the output, numbering and
    /// delivering its segments; reports progress by chunks completed.
    fn flush(&mut self, opts: &TranscribeOptions) {
        while let Some(Some(segs)) = self.done.get_mut(self.flushed).map(Option::take) {
            for mut s in segs {
                s.id = self.first_id + self.segments.len();
                if let (Some(cb), false) = (&opts.on_segment, opts.cancelled()) {
                    cb(&s);
                }
                self.segments.push(s);
            }
            self.flushed += 1;
        }
        if let (Some(cb), false) = (&opts.on_progress, opts.cancelled()) {
            let local = self.samples_done as f64 / self.total.max(1) as f64;
            let (start, width) = self.progress;
            cb(((start + width * local) * 100.0).floor().min(99.0) as u8);
        }
    }
}

impl Transcriber {
    /// The job's chunks: in order on `state` when context carries over (or there is one), else
    /// on every free state.
    pub(super) fn decode_job(
        &self,
        state: &mut WhisperState,
        job: &Job<'_>,
    ) -> Result<Vec<Segment>> {
        if job.opts.condition_on_previous_text || job.chunks.len() == 1 {
            self.decode_in_order(state, job)
        } else {
            self.decode_in_parallel(state, job)
        }
    }

    /// Decodes chunk `n` on `state`; segments are numbered from `first_id` and, when
    /// `deliver` is set, handed to the segment callback as they are produced.
    ///
    /// With hotwords, the chunk is decoded without them first; where Whisper is unsure of
    /// that text ([`hotwords::unsure`]) it is decoded again with them, and each stretch of
    /// the second text is kept only if it spells more of the hotwords and otherwise says the
    /// same ([`hotwords::chosen`]): a prompt of names can make Whisper skip speech or write a
    /// name nobody said, and this keeps both out of the stretches the names do not help.
    /// With `condition_on_previous_text` the chunk is decoded once, with the hotwords.
    fn decode_chunk(
        &self,
        state: &mut WhisperState,
        job: &Job<'_>,
        n: usize,
        first_id: usize,
        deliver: bool,
        progress_base: Option<f64>,
    ) -> Result<Vec<Segment>> {
        // With context carried from chunk to chunk a second decode would see its own chunk's
        // text as context: such calls decode once, with the hotwords.
        if job.opts.hotwords.is_empty() || job.opts.condition_on_previous_text {
            return self.decode_chunk_once(state, job, n, first_id, deliver, progress_base);
        }
        let mut plain_opts = job.opts.clone();
        plain_opts.hotwords.clear();
        let plain_job = Job {
            opts: &plain_opts,
            ..*job
        };
        let plain = self.decode_chunk_once(state, &plain_job, n, first_id, false, progress_base)?;
        let mut chosen = if hotwords::unsure(&plain) {
            let biased = self.decode_chunk_once(state, job, n, first_id, false, None)?;
            hotwords::chosen(plain, biased, &job.opts.hotwords)
        } else {
            plain
        };
        settle(&mut chosen, first_id, deliver, job.opts);
        Ok(chosen)
    }

    /// [`Self::decode_chunk`] with the job's options as they are.
    fn decode_chunk_once(
        &self,
        state: &mut WhisperState,
        job: &Job<'_>,
        n: usize,
        first_id: usize,
        deliver: bool,
        progress_base: Option<f64>,
    ) -> Result<Vec<Segment>> {
        let opts = job.opts;
        let chunk = &job.chunks[n];
        // Context carries between the chunks of one call when asked.
        let keep_context = n > 0 && opts.condition_on_previous_text;
        // Where annotations are checked (below), segments are delivered once that is done.
        let checked = job.speech.is_some() && opts.sound_events == SoundEvents::Drop;
        let as_decoded = deliver && !checked;
        let first = self.decode_span(
            state,
            job,
            chunk,
            first_id,
            as_decoded,
            keep_context,
            progress_base,
        )?;
        let (mut segments, mut annotated) = (first.segments, first.annotated);
        // Whisper can end a window early ("single timestamp ending": it takes the rest for
        // silence) and so drop whole sentences of clear speech. Speech found after the last
        // segment is decoded on its own, a few times at most.
        let Some(speech) = job.speech else {
            return Ok(segments);
        };
        for _ in 0..MAX_TAIL_PASSES {
            let Some(last) = segments.last() else { break };
            let rate = f64::from(SAMPLE_RATE);
            let extent = chunk.extent();
            let covered = ((last.end * rate).round() as usize)
                .saturating_sub(job.offset)
                .clamp(extent.start, extent.end);
            let tail = chunk.from(covered);
            if vad::speech_in(speech, tail.extent()) < MIN_MISSED_SPEECH {
                break;
            }
            let next_id = first_id + segments.len();
            let more = self.decode_span(state, job, &tail, next_id, as_decoded, false, None)?;
            annotated.extend(more.annotated);
            if more.segments.is_empty() {
                break;
            }
            segments.extend(more.segments);
        }
        if checked {
            segments.extend(self.spoken_over(state, job, chunk, speech, &annotated)?);
            segments.sort_by(|a, b| a.start.total_cmp(&b.start));
            settle(&mut segments, first_id, deliver, opts);
        }
        Ok(segments)
    }

    /// The text of stretches Whisper wrote off as one sound annotation although they hold
    /// [`ANNOTATED_SPEECH`] or more of detected speech: "[BLANK_AUDIO]" over 20 s of a
    /// clear sentence was measured. Each is decoded again with annotations suppressed (so a
    /// long enough laugh can come back as words, as without the check).
    fn spoken_over(
        &self,
        state: &mut WhisperState,
        job: &Job<'_>,
        chunk: &vad::Chunk,
        speech: &[vad::Span],
        annotated: &[(f64, f64)],
    ) -> Result<Vec<Segment>> {
        let mut suppressed = job.opts.clone();
        suppressed.sound_events = SoundEvents::Suppress;
        let again = Job {
            opts: &suppressed,
            ..*job
        };
        let rate = f64::from(SAMPLE_RATE);
        let mut out = Vec::new();
        for &(start, end) in annotated {
            let at = |t: f64| ((t * rate).round() as usize).saturating_sub(job.offset);
            let span = vad::Span {
                start: at(start),
                end: at(end),
            };
            let part = chunk.within(span);
            if part.pieces.is_empty() || vad::speech_in(speech, part.extent()) < ANNOTATED_SPEECH {
                continue;
            }
            out.extend(
                self.decode_span(state, &again, &part, 0, false, false, None)?
                    .segments,
            );
        }
        Ok(out)
    }

    /// Decodes `chunk` (stretches of the job's samples, joined) as one pass; see
    /// [`Self::decode_chunk`].
    #[allow(clippy::too_many_arguments)]
    fn decode_span(
        &self,
        state: &mut WhisperState,
        job: &Job<'_>,
        chunk: &vad::Chunk,
        first_id: usize,
        deliver: bool,
        keep_context: bool,
        progress_base: Option<f64>,
    ) -> Result<Collector> {
        let opts = job.opts;
        let audio = chunk.audio(job.samples);
        let piece: &[f32] = &audio;
        let progress: Option<hooks::Progress> = match (opts.on_progress.clone(), progress_base) {
            (Some(cb), Some(before)) => {
                let weight = piece.len() as f64 / job.total as f64;
                let (start, width) = job.progress;
                Some(Box::new(move |p: i32| {
                    let local = before + weight * f64::from(p.clamp(0, 100)) / 100.0;
                    cb(((start + width * local) * 100.0).floor().min(99.0) as u8)
                }))
            }
            _ => None,
        };
        let rate = f64::from(SAMPLE_RATE);
        let collector = Collector {
            first_id,
            on_segment: opts.on_segment.clone().filter(|_| deliver),
            ..Collector::new(opts, Timeline::joined(&chunk.pieces, job.offset, rate))
        };
        let pass = Pass {
            audio: piece,
            language: job.language,
            keep_context,
            token_timestamps: false,
            progress,
            live: false,
            partial: false,
        };
        self.run_window(state, opts, pass, collector)
    }

    /// One state, chunk after chunk: context can carry over, segments arrive as decoded.
    fn decode_in_order(&self, state: &mut WhisperState, job: &Job<'_>) -> Result<Vec<Segment>> {
        let mut segments = Vec::new();
        let mut done = 0usize;
        for (n, chunk) in job.chunks.iter().enumerate() {
            let base = done as f64 / job.total as f64;
            let first_id = job.first_id + segments.len();
            let mut seg = self.decode_chunk(state, job, n, first_id, true, Some(base))?;
            segments.append(&mut seg);
            done += chunk.len();
        }
        Ok(segments)
    }

    /// Independent chunks on every pooled state free now; segments are delivered in timeline
    /// order as soon as all earlier chunks are in.
    fn decode_in_parallel(&self, first: &mut WhisperState, job: &Job<'_>) -> Result<Vec<Segment>> {
        let shared = Mutex::new(Ordered {
            done: vec![None; job.chunks.len()],
            flushed: 0,
            segments: Vec::new(),
            samples_done: 0,
            total: job.total,
            first_id: job.first_id,
            progress: job.progress,
        });
        self.on_free_states(first, job.chunks.len(), |state, n| {
            let segs = self.decode_chunk(state, job, n, 0, false, None)?;
            let mut out = shared.lock().unwrap_or_else(|e| e.into_inner());
            out.done[n] = Some(segs);
            out.samples_done += job.chunks[n].len();
            out.flush(job.opts);
            Ok(())
        })?;
        let out = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(out.segments)
    }

    /// Runs `work(state, i)` for every `i < n` on every pooled state free now (the caller's
    /// included), each state on its own thread; the results in order of `i`.
    pub(super) fn on_free_states<T: Send>(
        &self,
        first: &mut WhisperState,
        n: usize,
        work: impl Fn(&mut WhisperState, usize) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let mut extra = Vec::new();
        while extra.len() + 1 < n {
            match self.inner.pool.try_acquire()? {
                Some(s) => extra.push(s),
                None => break,
            }
        }
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let run = |state: &mut WhisperState| -> Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        return Ok(());
                    }
                    let out = work(state, i)?;
                    done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(out);
                }
            };
            let handles: Vec<_> = extra
                .into_iter()
                .map(|mut s| scope.spawn(move || run(&mut s)))
                .collect();
            let mut results = vec![run(first)];
            results.extend(handles.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Inference("a decoding thread failed".into())))
            }));
            results
        });
        for r in results {
            r?;
        }
        let done = done.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(done.into_iter().flatten().collect())
    }
}
