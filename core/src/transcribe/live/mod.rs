//! Live transcription: audio pushed as it arrives (any rate, any piece size), turns of speech
//! found by the VAD as they happen, partial text while someone speaks (words two decodes agree
//! on, never taken back, and the words heard after them, which may still change) and final
//! text with timestamps when they stop.
//!
//! Each push scores the new audio in the pushing thread and ends or cuts turns (decoding them
//! there, on a pooled state shared with the transcriber's other calls); at the partial cadence
//! the turn so far is decoded on a thread of its own. A stream holds at most one turn's audio (a turn is
//! cut at its quietest moment before it outgrows one 30 s window) and a bounded queue of events.

mod agreement;
mod partial;
mod preview;
mod turns;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::segments::Collector;
use super::timeline::Timeline;
use super::transcript::Segment;
use super::vad::ScoreRun;
use super::window::Pass;
use super::{TranscribeOptions, Transcriber};
use crate::audio::{Resampler, SAMPLE_RATE};
use crate::error::{Error, Result};
use agreement::Agreement;
use partial::{Outcome, PartialRun, Settles};
pub use preview::PartialWeights;
pub(crate) use preview::Preview;
use turns::{Change, Turns, TAIL};

/// Speech a turn's first partial decode waits for, in milliseconds.
const FIRST_PARTIAL_MS: u32 = 300;
/// Partial decodes of a turn's first [`EARLY_TURN_MS`] come at most this far apart, in
/// milliseconds: two decodes have to agree on a word before it is sent, and its first words
/// are when a listener waits most.
const EARLY_INTERVAL_MS: u32 = 250;
/// How long into a turn's speech partial decodes come at the early cadence, in milliseconds.
const EARLY_TURN_MS: u32 = 1_300;
/// Silence after which a partial decode starts only to settle words heard before it, in
/// milliseconds.
const PARTIAL_SILENCE_MS: u32 = 200;
/// How long a partial decode waits in line for a decoder state, in milliseconds: the audio it
/// decodes grows no older than this before it starts.
const PARTIAL_PATIENCE_MS: u64 = 300;
/// How soon a partial decode that found no free decoder state is tried again, in milliseconds.
const RETRY_MS: u32 = 100;
/// Audio past a partial decode's start after which a caller pushing faster than real time
/// waits for it, in milliseconds.
const PARTIAL_LAG_MS: u32 = 1_000;

/// Settings of a live stream.
#[derive(Clone, Debug)]
pub struct StreamOptions {
    /// Spoken language (ISO 639-1); `None`: English for English-only models, else detected
    /// on the first turn.
    pub language: Option<String>,
    /// Languages detection chooses from (ISO 639-1 codes); empty: any Whisper knows.
    pub languages: Vec<String>,
    /// Speech probability at which a turn starts (0.5).
    pub threshold: f32,
    /// Silence that ends a turn, in milliseconds (500).
    pub silence_ms: u32,
    /// Whether silence ends a turn (true). When false, a turn ends only at
    /// [`LiveStream::commit`], [`LiveStream::finish`] or when cut at its longest length.
    pub end_on_silence: bool,
    /// Audio kept before the detected start of speech, in milliseconds (300).
    pub prefix_padding_ms: u32,
    /// How often a turn in progress is decoded for partial text, in milliseconds (400; during
    /// a turn's first 1.3 s of speech at most 250; three quarters of it while the transcriber
    /// has no more than twice as many open streams as decoder states for them; 0 for no
    /// partial text).
    pub partial_interval_ms: u32,
    /// Longest turn before it is cut at its quietest moment, in milliseconds (28,000; 2,000
    /// to 29,000).
    pub max_turn_ms: u32,
    /// Per-word timings in final segments.
    pub word_timestamps: bool,
    /// Text that primes the decoder (names, jargon).
    pub initial_prompt: Option<String>,
    /// Terms to recognise with their spelling, in every turn (see
    /// [`hotwords`](crate::transcribe::hotwords)).
    pub hotwords: Vec<String>,
    /// Events a stream holds unread before a push is refused (256).
    pub max_pending_events: usize,
    /// Cancels the stream: a decode in progress stops, and this and every later push,
    /// commit or finish fails with [`Error::Cancelled`].
    pub cancel: Option<super::CancelToken>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            language: None,
            languages: Vec::new(),
            threshold: 0.5,
            silence_ms: 500,
            end_on_silence: true,
            prefix_padding_ms: 300,
            partial_interval_ms: 400,
            max_turn_ms: 28_000,
            word_timestamps: false,
            initial_prompt: None,
            hotwords: Vec::new(),
            max_pending_events: 256,
            cancel: None,
        }
    }
}

/// A turn's final text: what was said between its start and end, in seconds of the stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Utterance {
    /// Start of its audio, in seconds of the stream.
    pub start: f64,
    /// End of its audio, in seconds of the stream.
    pub end: f64,
    /// Its text (the segments' texts joined).
    pub text: String,
    /// Its segments, timestamps in seconds of the stream, ids counting from the stream's start.
    pub segments: Vec<Segment>,
}

/// What a live stream reports, in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// Someone started speaking, `at` seconds into the stream.
    SpeechStarted {
        /// Seconds into the stream.
        at: f64,
    },
    /// The turn in progress as heard so far, after each partial decode that changed it: `text`
    /// holds the words two decodes agreed on (it only grows), `delta` those new in this event
    /// (often none), `unstable` what the latest decode heard after them (a later event may
    /// change or drop it; the turn's final text settles it).
    Partial {
        /// The turn's stable words so far.
        text: String,
        /// The stable words new in this event (may be empty).
        delta: String,
        /// The words heard after the stable ones, not agreed on yet (may be empty).
        unstable: String,
        /// Where the turn's audio starts, in seconds of the stream.
        start: f64,
    },
    /// The speaker stopped, their last speech ending `at` seconds into the stream.
    SpeechStopped {
        /// Seconds into the stream.
        at: f64,
    },
    /// A turn's final text (after `SpeechStopped`, or when a long turn is cut at a pause).
    Final(Utterance),
}

/// A live transcription: push audio, poll events, finish. Made by [`Transcriber::stream`].
///
/// ```no_run
/// use stenograph::transcribe::{StreamEvent, StreamOptions, Transcriber};
/// let t = Transcriber::builder().model("tiny.en").build()?;
/// let mut s = t.stream(StreamOptions::default())?;
/// let chunk = vec![0i16; 1_600]; // 100 ms at 16 kHz, from a microphone or a call
/// s.push_pcm_i16(&chunk, 16_000)?;
/// s.finish()?;
/// while let Some(ev) = s.poll_event() {
///     if let StreamEvent::Final(u) = ev {
///         println!("{:.1}–{:.1} {}", u.start, u.end, u.text);
///     }
/// }
/// # Ok::<(), stenograph::Error>(())
/// ```
pub struct LiveStream {
    transcriber: Transcriber,
    opts: StreamOptions,
    decode: TranscribeOptions,
    language: Option<String>,
    /// Resampler for the input's rate (made on the first push at a rate other than 16 kHz).
    resampler: Option<Resampler>,
    vad: ScoreRun,
    turns: Turns,
    /// 16 kHz audio from sample `base` of the stream on (the open turn's, or the prefix).
    audio: Vec<f32>,
    base: usize,
    /// 16 kHz samples received, and frames scored.
    received: usize,
    frames: usize,
    /// Stream sample at which the open turn's next partial decode is due.
    partial_due: usize,
    /// Stream sample at which the open turn's speech started (or where it was cut).
    speech_at: usize,
    /// The partial decode in flight, if any (or the open turn's final decode, started early).
    partial_run: Option<PartialRun>,
    /// What the open turn's early final decode decoded, and its segments (`None`: it gave
    /// nothing, and the turn's end decodes its text again).
    settled: Option<(Settles, Option<Vec<Segment>>)>,
    /// Turns started so far (a cut starts a new one): partial text of an older turn is
    /// dropped.
    turn: u64,
    agreement: Agreement,
    /// The unstable words of the turn's last partial event.
    unstable: String,
    events: VecDeque<StreamEvent>,
    next_id: usize,
    finished: bool,
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.transcriber
            .inner
            .live_streams
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for LiveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveStream")
            .field("received", &self.received)
            .field("pending_events", &self.events.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Transcriber {
    /// Starts a live transcription on this transcriber's model and states.
    pub fn stream(&self, opts: StreamOptions) -> Result<LiveStream> {
        let decode = TranscribeOptions {
            language: opts.language.clone(),
            languages: opts.languages.clone(),
            word_timestamps: opts.word_timestamps,
            initial_prompt: opts.initial_prompt.clone(),
            hotwords: opts.hotwords.clone(),
            cancel: opts.cancel.clone(),
            ..TranscribeOptions::default()
        };
        self.check(&decode)?;
        let bad = |what: &str| Err(Error::InvalidArgument(format!("stream option {what}")));
        if !(0.01..=0.99).contains(&opts.threshold) {
            return bad("threshold must be between 0.01 and 0.99");
        }
        if !(2_000..=29_000).contains(&opts.max_turn_ms) {
            return bad("max_turn_ms must be between 2000 and 29000");
        }
        if !(100..=10_000).contains(&opts.silence_ms) || opts.prefix_padding_ms > 2_000 {
            return bad("silence_ms must be 100 to 10000 and prefix_padding_ms at most 2000");
        }
        if opts.max_pending_events == 0 {
            return bad("max_pending_events must be at least 1");
        }
        self.inner.preview.prepare();
        let vad = ScoreRun::new(&self.inner.vad);
        let ms = |v: u32| v as usize * SAMPLE_RATE as usize / 1000;
        let turns = Turns::new(
            vad.frame(),
            opts.threshold,
            vad.off(opts.threshold),
            if opts.end_on_silence {
                ms(opts.silence_ms)
            } else {
                usize::MAX
            },
            ms(opts.prefix_padding_ms),
            ms(opts.max_turn_ms),
        );
        self.inner.live_streams.fetch_add(1, Ordering::Relaxed);
        let language = match (&opts.language, self.inner.model.info().multilingual) {
            (Some(l), _) => Some(l.clone()),
            (None, false) => Some("en".to_string()),
            (None, true) => None,
        };
        Ok(LiveStream {
            transcriber: self.clone(),
            opts,
            decode,
            language,
            resampler: None,
            vad,
            turns,
            audio: Vec::new(),
            base: 0,
            received: 0,
            frames: 0,
            partial_due: 0,
            speech_at: 0,
            partial_run: None,
            settled: None,
            turn: 0,
            agreement: Agreement::default(),
            unstable: String::new(),
            events: VecDeque::new(),
            next_id: 0,
            finished: false,
        })
    }

    /// Decodes one turn's audio (at most 30 s) starting at sample `offset` of a stream;
    /// settles the language on the first turn when it is not known. A `final` decode waits
    /// for a decoder state; a partial one waits in line for one up to [`PARTIAL_PATIENCE_MS`]
    /// and gives `None` when none came, or when a final decode needs its state while it runs
    /// (it stops then: partial text yields to final text), and makes one pass (no temperature
    /// fallback).
    fn decode_turn(
        &self,
        samples: &[f32],
        offset: usize,
        first_id: usize,
        opts: &TranscribeOptions,
        language: &mut Option<String>,
        final_text: bool,
    ) -> Result<Option<Vec<Segment>>> {
        let mut state = if final_text {
            self.inner.live_pool.acquire()?
        } else {
            let token = opts
                .cancel
                .as_ref()
                .ok_or_else(|| Error::Inference("a partial decode needs its own token".into()))?;
            let patience = std::time::Duration::from_millis(PARTIAL_PATIENCE_MS);
            match self
                .inner
                .live_pool
                .acquire_preemptible_within(token, patience)
            {
                Ok(Some(state)) => state,
                Ok(None) | Err(Error::Cancelled) => return Ok(None),
                Err(e) => return Err(e),
            }
        };
        let _first = self.inner.live_first.enter();
        // A partial decode runs on the lighter copy of the weights when there is one; the
        // live pool's state it holds keeps its place among the live decodes.
        let mut light = match self.inner.preview.pool() {
            Some(pool) if !final_text => Some(pool.acquire()?),
            _ => None,
        };
        let state: &mut whisper_rs::WhisperState = match light.as_mut() {
            Some(light) => light,
            None => &mut state,
        };
        let lang = match language {
            Some(l) => l.clone(),
            None => {
                let (l, _) = self.language(state, samples, opts)?;
                *language = Some(l.clone());
                l
            }
        };
        let rate = f64::from(SAMPLE_RATE);
        let start = offset as f64 / rate;
        let collector = Collector {
            first_id,
            ..Collector::new(
                opts,
                Timeline::shifted(start, start + samples.len() as f64 / rate),
            )
        };
        let pass = Pass {
            audio: samples,
            language: &lang,
            keep_context: false,
            token_timestamps: false,
            progress: None,
            live: true,
            partial: !final_text,
        };
        match self.run_window(state, opts, pass, collector) {
            Ok(c) => Ok(Some(c.segments)),
            // A partial decode stopped: a final one needed its state, or it is not wanted.
            Err(Error::Cancelled) if !final_text => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl LiveStream {
    /// Adds mono samples at `rate` Hz (any piece size); scores them, and decodes the turns
    /// they end and, at the partial cadence, the turn in progress. Refused once finished, at
    /// a rate different from the first push's, or while `max_pending_events` events are
    /// unread (nothing is taken then: poll, then push the same samples again).
    pub fn push_pcm_f32(&mut self, samples: &[f32], rate: u32) -> Result<()> {
        self.check_cancelled()?;
        if self.finished {
            return Err(Error::InvalidArgument("the stream is finished".into()));
        }
        if self.events.len() >= self.opts.max_pending_events {
            return Err(Error::InvalidArgument(format!(
                "{} stream events unread: poll them before pushing more audio",
                self.events.len()
            )));
        }
        if !(8_000..=384_000).contains(&rate) {
            return Err(Error::InvalidArgument(format!(
                "sample rate {rate} Hz: 8000 to 384000 Hz are taken"
            )));
        }
        if samples.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidArgument(
                "samples hold NaN or infinity".into(),
            ));
        }
        let changed = |before: u32| {
            Err(Error::InvalidArgument(format!(
                "sample rate {rate} Hz after {before} Hz: a stream keeps one rate"
            )))
        };
        let mut pcm = Vec::new();
        match self.resampler.as_mut() {
            None if rate == SAMPLE_RATE => pcm.extend_from_slice(samples),
            None if self.received > 0 => return changed(SAMPLE_RATE),
            None => {
                let mut r = Resampler::low_latency(rate)
                    .ok_or_else(|| Error::InvalidArgument(format!("sample rate {rate} Hz")))?;
                r.push(samples, &mut pcm);
                self.resampler = Some(r);
            }
            Some(r) if r.input_rate() == rate => r.push(samples, &mut pcm),
            Some(r) => return changed(r.input_rate()),
        }
        self.ingest(&pcm)
    }

    /// [`push_pcm_f32`](Self::push_pcm_f32) for 16-bit samples.
    pub fn push_pcm_i16(&mut self, samples: &[i16], rate: u32) -> Result<()> {
        let f: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32_768.0).collect();
        self.push_pcm_f32(&f, rate)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<StreamEvent> {
        self.take_partial(0);
        self.events.pop_front()
    }

    /// Ends the stream: the audio still buffered is scored and a turn in progress ends and
    /// is decoded (its last words become final). Further pushes are refused.
    pub fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.check_cancelled()?;
        let mut tail = Vec::new();
        if let Some(r) = self.resampler.as_mut() {
            r.finish(&mut tail);
        }
        self.ingest(&tail)?;
        self.finished = true;
        if let Some(change) = self.turns.close(self.received) {
            self.apply(change)?;
        }
        Ok(())
    }

    /// Ends the turn in progress now, as if its speaker had stopped: `SpeechStopped` and its
    /// final text (if it held enough speech) are queued. Returns whether a turn was open.
    pub fn commit(&mut self) -> Result<bool> {
        self.check_cancelled()?;
        if self.finished {
            return Err(Error::InvalidArgument("the stream is finished".into()));
        }
        match self.turns.close(self.received) {
            Some(change) => {
                self.apply(change)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Drops the turn in progress and its audio without decoding it (no events are queued);
    /// speech pushed afterwards starts a new turn. Returns whether a turn was open.
    pub fn clear(&mut self) -> bool {
        let open = self.turns.discard();
        self.new_turn();
        self.release(self.received);
        open
    }

    fn check_cancelled(&self) -> Result<()> {
        if self.decode.cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    /// Seconds of audio received (at 16 kHz).
    pub fn duration(&self) -> f64 {
        self.received as f64 / f64::from(SAMPLE_RATE)
    }

    /// Takes 16 kHz audio: scores it, applies the turn changes, decodes a partial when due,
    /// and lets go of audio no turn needs.
    fn ingest(&mut self, pcm: &[f32]) -> Result<()> {
        self.take_partial(pcm.len());
        self.audio.extend_from_slice(pcm);
        self.received += pcm.len();
        for score in self.vad.push(pcm) {
            let index = self.frames;
            self.frames += 1;
            if let Some(change) = self.turns.frame(index, score, self.base) {
                self.apply(change)?;
            }
        }
        let early_final = self.opts.end_on_silence && self.samples_of(self.opts.silence_ms) > TAIL;
        if early_final {
            self.start_early_final()?;
        }
        // While the speaker pauses nothing new is said: a partial decode runs then only to
        // settle the words the previous one heard last (a turn that ends meanwhile cancels it),
        // unless the turn's final decode, started early, settles them.
        if let Some(from) = self.turns.open_from() {
            let speaking = self.turns.silence() < self.samples_of(PARTIAL_SILENCE_MS);
            let idle = self.partial_run.is_none();
            if self.opts.partial_interval_ms > 0
                && self.received >= self.partial_due
                && (speaking || (!early_final && !self.agreement.tail().is_empty()))
                && idle
            {
                self.start_partial(from)?;
            }
        }
        // Keep the open turn's audio, or the prefix a turn starting now would take.
        let keep_from = self.turns.open_from().unwrap_or_else(|| {
            self.received
                .saturating_sub(self.opts.prefix_padding_ms as usize * SAMPLE_RATE as usize / 1000)
        });
        self.release(keep_from);
        Ok(())
    }

    /// Starts the open turn's final decode once enough silence has followed its speech that
    /// the audio a turn-ending silence gives it is all here: when the silence goes on, its
    /// text is final without waiting for a decode; when speech comes back first, it is
    /// partial text. A partial decode in flight is dropped for it.
    fn start_early_final(&mut self) -> Result<()> {
        let Some((from, until)) = self.turns.settled() else {
            return Ok(());
        };
        let settles = Settles {
            from,
            until,
            first_id: self.next_id,
        };
        let started = self.settled.as_ref().map(|(s, _)| *s).or_else(|| {
            self.partial_run
                .as_ref()
                .filter(|r| r.turn == self.turn)
                .and_then(|r| r.settles)
        });
        if started == Some(settles) {
            return Ok(());
        }
        self.settled = None;
        self.partial_run = None;
        self.launch(from, until, Some(settles))
    }

    /// Starts decoding the open turn's audio `from..until` on a thread of its own: partial
    /// text, or the final text `settles` describes.
    fn launch(&mut self, from: usize, until: usize, settles: Option<Settles>) -> Result<()> {
        let audio = self.slice(from, until).to_vec();
        self.partial_run = Some(PartialRun::start(
            &self.transcriber,
            audio,
            from,
            &self.decode,
            self.language.clone(),
            self.turn,
            self.received,
            settles,
        )?);
        Ok(())
    }

    /// The final segments of the open turn's audio `from..until`, if its early final decode
    /// (see [`Self::start_early_final`]) decoded just that: waits for it if it still runs.
    fn take_settled(&mut self, from: usize, until: usize) -> Option<Vec<Segment>> {
        let wanted = |s: &Settles| s.from == from && s.until == until && s.first_id == self.next_id;
        if let Some((s, segments)) = self.settled.take() {
            return segments.filter(|_| wanted(&s));
        }
        let run = self.partial_run.take()?;
        if run.turn != self.turn || !run.settles.as_ref().is_some_and(wanted) {
            return None;
        }
        match run.outcome(true) {
            Outcome::Text(segments, language) => {
                if self.language.is_none() {
                    self.language = language;
                }
                Some(segments)
            }
            Outcome::Running | Outcome::Nothing => None,
        }
    }

    /// `ms` milliseconds in 16 kHz samples.
    fn samples_of(&self, ms: u32) -> usize {
        ms as usize * SAMPLE_RATE as usize / 1000
    }

    /// Speech a turn's first partial decode waits for: [`FIRST_PARTIAL_MS`], or the partial
    /// interval when that is shorter. Two decodes have to agree on a word before it is sent,
    /// so the first one comes early.
    fn first_partial(&self) -> usize {
        self.samples_of(self.opts.partial_interval_ms.min(FIRST_PARTIAL_MS))
    }

    /// Drops audio before stream sample `at`.
    fn release(&mut self, at: usize) {
        if at > self.base {
            let n = (at - self.base).min(self.audio.len());
            self.audio.drain(..n);
            self.base += n;
        }
    }

    /// The audio of stream samples `from..until`.
    fn slice(&self, from: usize, until: usize) -> &[f32] {
        let a = from.saturating_sub(self.base).min(self.audio.len());
        let b = until.saturating_sub(self.base).clamp(a, self.audio.len());
        &self.audio[a..b]
    }

    /// Acts on a turn change: events, and the final decode of a turn that ended or was cut.
    fn apply(&mut self, change: Change) -> Result<()> {
        let rate = f64::from(SAMPLE_RATE);
        match change {
            Change::Started { at, .. } => {
                self.new_turn();
                self.speech_at = at;
                self.partial_due = at + self.first_partial();
                self.events.push_back(StreamEvent::SpeechStarted {
                    at: at as f64 / rate,
                });
            }
            Change::Stopped {
                from,
                at,
                until,
                speech,
            } => {
                self.events.push_back(StreamEvent::SpeechStopped {
                    at: at as f64 / rate,
                });
                let early = self.take_settled(from, until);
                self.new_turn();
                match early {
                    Some(segments) if speech => self.push_final(from, until, segments),
                    _ if speech => self.final_text(from, until)?,
                    _ => {}
                }
                self.release(until);
            }
            Change::Cut { from, at } => {
                self.new_turn();
                self.final_text(from, at)?;
                self.speech_at = at;
                self.partial_due = at + self.first_partial();
                self.release(at);
            }
        }
        Ok(())
    }

    /// Decodes stream samples `from..until` and queues their final text, if there is any.
    fn final_text(&mut self, from: usize, until: usize) -> Result<()> {
        let audio = self.slice(from, until).to_vec();
        let segments = self
            .transcriber
            .decode_turn(
                &audio,
                from,
                self.next_id,
                &self.decode,
                &mut self.language,
                true,
            )?
            .unwrap_or_default();
        self.push_final(from, until, segments);
        Ok(())
    }

    /// Queues the final text of stream samples `from..until`, if there is any.
    fn push_final(&mut self, from: usize, until: usize, segments: Vec<Segment>) {
        self.next_id += segments.len();
        if segments.is_empty() {
            return;
        }
        let rate = f64::from(SAMPLE_RATE);
        let text = segments
            .iter()
            .map(|s| s.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        self.events.push_back(StreamEvent::Final(Utterance {
            start: from as f64 / rate,
            end: until as f64 / rate,
            text,
            segments,
        }));
    }

    /// Ends the partial text of the turn so far (a partial decode in flight is cancelled) for
    /// a turn that starts, ends or is cut.
    fn new_turn(&mut self) {
        self.partial_run = None;
        self.settled = None;
        self.turn += 1;
        self.agreement = Agreement::default();
        self.unstable.clear();
    }

    /// Starts decoding the open turn so far on a thread of its own, which waits in line with
    /// the other streams' partial decodes for a decoder state. When none comes within
    /// [`PARTIAL_PATIENCE_MS`] (every state busy or wanted for final text) it gives nothing
    /// and is tried again soon: under load, partial text thins out and final text stays on
    /// time. While the transcriber has no more than twice as many open streams as live
    /// decoder states, the next one is due after three quarters of the partial interval.
    fn start_partial(&mut self, from: usize) -> Result<()> {
        self.launch(from, self.received, None)?;
        let early = self.received < self.speech_at + self.samples_of(EARLY_TURN_MS);
        let inner = &self.transcriber.inner;
        let uncontended =
            inner.live_streams.load(Ordering::Relaxed) <= 2 * inner.live_pool.capacity();
        let interval = if early {
            self.opts.partial_interval_ms.min(EARLY_INTERVAL_MS)
        } else if uncontended {
            self.opts.partial_interval_ms * 3 / 4
        } else {
            self.opts.partial_interval_ms
        };
        self.partial_due = self.received + self.samples_of(interval);
        Ok(())
    }

    /// Takes the result of a partial decode that has ended: a partial event is queued when
    /// it agreed on new words or heard the unstable ones differently. With `arriving` samples about to be taken, a caller
    /// pushing audio much faster than real time (a file) waits for a partial decode that is
    /// [`PARTIAL_LAG_MS`] behind, so it gets partial text too; a live caller never waits.
    fn take_partial(&mut self, arriving: usize) {
        let Some(run) = &self.partial_run else {
            return;
        };
        let behind = (self.received + arriving).saturating_sub(run.received);
        let wall = run.started.elapsed().as_secs_f64() * f64::from(SAMPLE_RATE);
        let wait = behind >= self.samples_of(PARTIAL_LAG_MS) && behind as f64 > 2.0 * wall;
        let outcome = run.outcome(wait);
        let turn = run.turn;
        let settles = run.settles.filter(|_| turn == self.turn);
        let segments = match outcome {
            Outcome::Running => return,
            Outcome::Nothing => {
                self.partial_run = None;
                if let Some(s) = settles {
                    self.settled = Some((s, None));
                }
                self.partial_due = self
                    .partial_due
                    .min(self.received + self.samples_of(RETRY_MS));
                return;
            }
            Outcome::Text(segments, language) => {
                self.partial_run = None;
                if self.language.is_none() {
                    self.language = language;
                }
                if let Some(s) = settles {
                    self.settled = Some((s, Some(segments.clone())));
                }
                segments
            }
        };
        // (An early final decode's text is partial text only where partial text is wanted.)
        if turn != self.turn || self.opts.partial_interval_ms == 0 {
            return;
        }
        let Some(from) = self.turns.open_from() else {
            return;
        };
        let text = segments
            .iter()
            .map(|s| s.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        let delta = self.agreement.update(&text);
        let unstable = self.agreement.tail().join(" ");
        if !delta.is_empty() || unstable != self.unstable {
            self.unstable.clone_from(&unstable);
            self.events.push_back(StreamEvent::Partial {
                text: self.agreement.text(),
                delta: delta.join(" "),
                unstable,
                start: from as f64 / f64::from(SAMPLE_RATE),
            });
        }
    }
}
