//! Transcription: 16 kHz audio in, a typed [`Transcript`] out, many calls at once on one model.

mod batch;
mod formats;
mod hooks;
mod options;
mod pool;
mod segments;
mod templates;
mod transcript;
mod vad;

use std::cell::Cell;
use std::os::raw::c_void;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use whisper_rs::{FullParams, WhisperState};

pub use formats::Format;
pub use options::{
    language, CancelToken, Decoding, ProgressCallback, SegmentCallback, Task, TranscribeOptions,
    MAX_BEAMS, MAX_PROMPT_BYTES,
};
pub use transcript::{Segment, Transcript, Word};

use crate::audio::{Audio, AudioSource, AudioStream, DecodeOptions, SAMPLE_RATE};
use crate::error::{Error, Result};
use crate::model::Model;
use pool::StatePool;
use segments::{on_new_segments, Collector};

/// Where inference runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    /// The GPU when the build has a GPU back end (features `cuda`, `vulkan`, `metal`), else
    /// the CPU (default).
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// GPU number `n` (builds with a GPU back end only).
    Gpu(usize),
}

impl std::str::FromStr for Device {
    type Err = Error;

    /// "auto", "cpu", "gpu" (GPU 0) or "gpu:N" ("cuda" and "cuda:N" are accepted too).
    fn from_str(spec: &str) -> Result<Self> {
        match spec {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "gpu" | "cuda" => Ok(Device::Gpu(0)),
            other => other
                .strip_prefix("gpu:")
                .or_else(|| other.strip_prefix("cuda:"))
                .and_then(|n| n.parse().ok())
                .map(Device::Gpu)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "device must be 'auto', 'cpu', 'gpu' or 'gpu:N', not '{other}'"
                    ))
                }),
        }
    }
}

/// Whether this build has a GPU back end.
pub const GPU_BUILD: bool = cfg!(any(feature = "cuda", feature = "vulkan", feature = "metal"));

/// The model to build a [`Transcriber`] on.
#[derive(Debug)]
pub enum ModelRef {
    /// A registry name (fetched into the cache if needed), a ggml path, or an export directory.
    Name(String),
    /// An already loaded model (its device is the one it was loaded on).
    Loaded(Model),
}

impl From<&str> for ModelRef {
    fn from(s: &str) -> Self {
        ModelRef::Name(s.to_string())
    }
}

impl From<String> for ModelRef {
    fn from(s: String) -> Self {
        ModelRef::Name(s)
    }
}

impl From<&Path> for ModelRef {
    fn from(p: &Path) -> Self {
        ModelRef::Name(p.display().to_string())
    }
}

impl From<Model> for ModelRef {
    fn from(m: Model) -> Self {
        ModelRef::Loaded(m)
    }
}

/// Builds a [`Transcriber`].
#[derive(Debug)]
pub struct TranscriberBuilder {
    model: ModelRef,
    device: Device,
    states: Option<usize>,
    threads_per_state: usize,
}

/// The default model name.
pub const DEFAULT_MODEL: &str = "tiny.en";

impl Default for TranscriberBuilder {
    fn default() -> Self {
        Self {
            model: ModelRef::Name(DEFAULT_MODEL.into()),
            device: Device::Auto,
            states: None,
            threads_per_state: 1,
        }
    }
}

impl TranscriberBuilder {
    /// The model: a name, a path, or a loaded [`Model`] (default `tiny.en`).
    pub fn model(mut self, model: impl Into<ModelRef>) -> Self {
        self.model = model.into();
        self
    }

    /// Where to run (default [`Device::Auto`]).
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Most transcriptions running at once, each with its own decoder state (default: the
    /// number of CPU cores; further calls wait).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.states = Some(n.max(1));
        self
    }

    /// CPU threads inside each transcription (default 1: on small machines one thread per
    /// call and one call per core gives the most throughput).
    pub fn threads_per_call(mut self, n: usize) -> Self {
        self.threads_per_state = n.max(1);
        self
    }

    /// Loads (or fetches) the model and makes the transcriber.
    pub fn build(self) -> Result<Transcriber> {
        let gpu = match self.device {
            Device::Cpu => None,
            Device::Auto => GPU_BUILD.then_some(0),
            Device::Gpu(i) if GPU_BUILD => Some(i),
            Device::Gpu(i) => {
                return Err(Error::Device(format!(
                    "GPU {i} requested, but this build has no GPU back end (build with the cuda, vulkan or metal feature)"
                )))
            }
        };
        let model = match self.model {
            ModelRef::Loaded(m) => m,
            ModelRef::Name(name) => Model::resolve_on(&name, gpu)?,
        };
        let states = self.states.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let pool = StatePool::new(model.context().clone(), states);
        Ok(Transcriber {
            inner: Arc::new(Inner {
                model,
                pool,
                threads: self.threads_per_state,
                background: Default::default(),
            }),
        })
    }
}

struct Inner {
    model: Model,
    pool: StatePool,
    threads: usize,
    /// Threads of calls made with a cancel token; they may run on after returning
    /// `Cancelled`, until whisper.cpp ends its current pass.
    background: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// Transcribes audio with one loaded model; `Send + Sync + Clone`, and clones share the
/// weights and the pool of decoder states.
///
/// ```no_run
/// use stenograph::audio::Audio;
/// use stenograph::transcribe::{TranscribeOptions, Transcriber};
/// let t = Transcriber::builder().model("tiny.en").build()?;
/// let tr = t.transcribe(&Audio::from_path("call.mp3")?, &TranscribeOptions::default())?;
/// println!("{}", tr.to_srt());
/// # Ok::<(), stenograph::Error>(())
/// ```
#[derive(Clone)]
pub struct Transcriber {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber")
            .field("model", &self.inner.model.name())
            .field("max_concurrent", &self.inner.pool.capacity())
            .field("threads_per_call", &self.inner.threads)
            .finish()
    }
}

/// Encoder positions per second of audio (1500 for 30 s).
const POSITIONS_PER_SECOND: f64 = 50.0;
/// Positions kept beyond the audio when the encoder window is trimmed for a short clip: less
/// was measured to cause repetition loops and garbage on 1–2 s clips.
const WINDOW_PADDING: f64 = 512.0;

impl Transcriber {
    /// A builder with the defaults (tiny.en, automatic device).
    pub fn builder() -> TranscriberBuilder {
        TranscriberBuilder::default()
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        &self.inner.model
    }

    /// Waits until no call of this transcriber runs in the background. A call with a cancel
    /// token returns `Cancelled` at once while whisper.cpp finishes its current encoder pass
    /// on the call's own thread; wait here before a process exits or unloads the library.
    pub fn wait_background(&self) {
        let threads = std::mem::take(
            &mut *self
                .inner
                .background
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for t in threads {
            let _ = t.join();
        }
    }

    /// Transcribes decoded audio.
    pub fn transcribe(&self, audio: &Audio, opts: &TranscribeOptions) -> Result<Transcript> {
        let mut t = self.transcribe_samples(audio.samples(), opts)?;
        t.warnings = audio.warnings().to_vec();
        Ok(t)
    }

    /// Decodes and transcribes a file, streaming (see [`transcribe_stream`](Self::transcribe_stream)).
    pub fn transcribe_file(
        &self,
        path: impl AsRef<Path>,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let source = AudioSource::from_path(path);
        self.transcribe_stream(AudioStream::open(source, &DecodeOptions::default())?, opts)
    }

    /// whisper.cpp parameters for one chunk, before chunk-specific settings.
    fn params<'a>(
        &self,
        opts: &'a TranscribeOptions,
        language: &str,
        prompt: &'a [i32],
    ) -> FullParams<'a, 'a> {
        let mut params = templates::params(opts.decoding, language);
        params.set_n_threads(self.inner.threads as i32);
        params.set_translate(opts.task == Task::Translate);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        // No "[Music]", "(beeping)", "♪": sound-event tokens are not speech.
        params.set_suppress_nst(true);
        params.set_temperature(opts.temperature);
        params.set_temperature_inc(if opts.temperature_fallback { 0.2 } else { 0.0 });
        params.set_entropy_thold(opts.compression_ratio_threshold);
        params.set_logprob_thold(opts.logprob_threshold);
        // whisper.cpp splits segments at `max_len` only with token timestamps.
        params.set_token_timestamps(opts.word_timestamps || opts.max_segment_chars.is_some());
        // Tokens, not `set_initial_prompt`: whisper-rs never frees the C string that makes.
        params.set_tokens(prompt);
        if let Some(n) = opts.max_segment_chars {
            params.set_max_len(n.max(1) as i32);
            params.set_split_on_word(true);
        }
        if let Some(token) = &opts.cancel {
            // SAFETY: the token lives in `opts`, borrowed for as long as `params`.
            unsafe { hooks::set_abort(&mut params, token) };
        }
        params
    }

    /// The initial prompt as tokens (none without a prompt).
    fn prompt_tokens(&self, opts: &TranscribeOptions) -> Result<Vec<i32>> {
        let Some(prompt) = opts.initial_prompt.as_deref().filter(|p| !p.is_empty()) else {
            return Ok(Vec::new());
        };
        // A token covers at least one byte, so this many never overflows.
        self.inner
            .model
            .context()
            .tokenize(prompt, prompt.len() + 1)
            .map_err(|e| Error::InvalidArgument(format!("the initial prompt: {e}")))
    }

    /// Decodes one chunk on `state`; segments are numbered from `first_id` and, when
    /// `deliver` is set, handed to the segment callback as they are produced.
    fn decode_chunk(
        &self,
        state: &mut WhisperState,
        job: &Job<'_>,
        n: usize,
        first_id: usize,
        deliver: bool,
        progress_base: Option<f64>,
    ) -> Result<Vec<Segment>> {
        let opts = job.opts;
        if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled);
        }
        let chunk = job.chunks[n];
        let piece = &job.samples[chunk.start..chunk.end];
        let seconds = piece.len() as f64 / f64::from(SAMPLE_RATE);
        let prompt = self.prompt_tokens(opts)?;
        let mut params = self.params(opts, job.language, &prompt);
        // Context carries between the chunks of one call when asked, never from an earlier
        // call that used the same pooled state.
        params.set_no_context(n == 0 || !opts.condition_on_previous_text);
        if seconds <= 30.0 {
            // One window: encode only the positions the chunk needs, plus padding.
            let positions = (seconds * POSITIONS_PER_SECOND + WINDOW_PADDING).ceil() as i32;
            params.set_audio_ctx(positions.min(1500));
        }
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
        if let Some(cb) = &progress {
            // SAFETY: `progress` outlives the call to `full` below.
            unsafe { hooks::set_progress(&mut params, cb) };
        }
        let mut collector = Box::new(Collector {
            segments: Vec::new(),
            raw: None,
            first_id,
            max_compression_ratio: opts.compression_ratio_threshold,
            temperature: opts.temperature,
            word_timestamps: opts.word_timestamps,
            on_segment: if deliver {
                opts.on_segment.clone()
            } else {
                None
            },
            cancel: opts.cancel.clone(),
            offset: (job.offset + chunk.start) as f64 / f64::from(SAMPLE_RATE),
            end: (job.offset + chunk.end) as f64 / f64::from(SAMPLE_RATE),
        });
        // SAFETY: the collector outlives the call to `full`, which is the only user of the
        // pointer; the callback never unwinds.
        unsafe {
            params.set_new_segment_callback(Some(on_new_segments));
            params.set_new_segment_callback_user_data(
                collector.as_mut() as *mut Collector as *mut c_void
            );
        }
        let result = state.full(params, piece);
        if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled);
        }
        result.map_err(|e| Error::Inference(format!("whisper.cpp failed: {e}")))?;
        Ok(std::mem::take(&mut collector.segments))
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
            done += chunk.end - chunk.start;
        }
        Ok(segments)
    }

    /// Runs `work(state, i)` for every `i < n` on every pooled state free now (the caller's
    /// included), each state on its own thread; the results in order of `i`.
    fn on_free_states<T: Send>(
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
            out.samples_done += job.chunks[n].end - job.chunks[n].start;
            out.flush(job.opts);
            Ok(())
        })?;
        let out = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(out.segments)
    }

    /// Transcribes 16 kHz mono samples.
    ///
    /// With a cancel token the samples are copied and transcribed on their own thread, so that
    /// `cancel()` returns control at once (see [`transcribe_stream`](Self::transcribe_stream)).
    pub fn transcribe_samples(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        if opts.cancel.is_some() {
            self.check(opts)?;
            let owned = samples.to_vec();
            return self.detached(opts, move |t, opts| t.samples_here(&owned, opts));
        }
        self.samples_here(samples, opts)
    }

    /// [`transcribe_samples`](Self::transcribe_samples) on the calling thread.
    fn samples_here(&self, samples: &[f32], opts: &TranscribeOptions) -> Result<Transcript> {
        self.check(opts)?;
        let mut call = Call::new(opts);
        if !samples.is_empty() {
            let mut state = self.inner.pool.acquire()?;
            self.decode_block(&mut state, samples, 0, (0.0, 1.0), &mut call)?;
        }
        Ok(call.finish(samples.len(), opts))
    }

    /// Transcribes a decoding stream block by block: at most 10 minutes of 16 kHz audio (plus
    /// the speech running across a block's end) is held at a time, whatever the input's length.
    ///
    /// With a cancel token the work runs on its own thread and this call returns
    /// `Error::Cancelled` within a few milliseconds of `cancel()`: whisper.cpp only stops between
    /// encoder passes, so the decoder state finishes its current pass (up to about a second and
    /// a half for a full window of tiny.en on one core) in the background before it returns to
    /// the pool. No callback is called once the token is cancelled.
    pub fn transcribe_stream(
        &self,
        stream: AudioStream,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        if opts.cancel.is_none() {
            return self.stream_blocks(stream, opts);
        }
        self.check(opts)?;
        self.detached(opts, move |t, opts| t.stream_blocks(stream, opts))
    }

    /// Runs `work` on its own thread while this one watches `opts.cancel` (which must be set):
    /// a cancelled call returns `Error::Cancelled` within milliseconds, while whisper.cpp
    /// finishes its current pass in the background and gives its state back to the pool.
    pub(crate) fn detached<T: Send + 'static>(
        &self,
        opts: &TranscribeOptions,
        work: impl FnOnce(&Transcriber, &TranscribeOptions) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if WATCHED.with(Cell::get) {
            // Already on a watched call's own thread: its caller watches the token.
            return work(self, opts);
        }
        let token = opts.cancel.clone().unwrap_or_default();
        let opts = opts.clone();
        self.run_watched(&token, OnCancel::Return, || false, move |t| work(t, &opts))
    }

    /// Runs `work` with this transcriber on a thread of its own while the calling thread
    /// waits, asking `interrupt` about every 10 ms (on the calling thread) whether to stop:
    /// when it says so, or when `token` is cancelled from anywhere, `token` is cancelled and
    /// the call returns `Error::Cancelled` — at once with [`OnCancel::Return`] (whisper.cpp
    /// finishes its current pass in the background, see
    /// [`wait_background`](Self::wait_background)), or once `work` has stopped with
    /// [`OnCancel::WaitForWork`]. This is how every binding cancels: Python's Ctrl-C, a C abort
    /// callback, a token. Give `work` the same token in its options, so that it stops early.
    pub fn run_watched<T: Send + 'static>(
        &self,
        token: &CancelToken,
        on_cancel: OnCancel,
        mut interrupt: impl FnMut() -> bool,
        work: impl FnOnce(&Transcriber) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        use std::sync::mpsc::RecvTimeoutError;
        let (tx, rx) = std::sync::mpsc::channel();
        let t = self.clone();
        let handle = std::thread::Builder::new()
            .name("stenograph-call".into())
            .spawn(move || {
                WATCHED.with(|w| w.set(true));
                let _ = tx.send(work(&t));
            })
            .map_err(|e| Error::Inference(format!("cannot start a transcription thread: {e}")))?;
        {
            let mut threads = self
                .inner
                .background
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            threads.retain(|h| !h.is_finished());
            threads.push(handle);
        }
        let failed = || Error::Inference("the transcription thread failed".into());
        loop {
            match rx.recv_timeout(CANCEL_POLL) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Disconnected) => return Err(failed()),
                Err(RecvTimeoutError::Timeout) => {
                    if !token.is_cancelled() && !interrupt() {
                        continue;
                    }
                    token.cancel();
                    if on_cancel == OnCancel::WaitForWork {
                        // The work stops at its next check (at most one encoder pass).
                        let _ = rx.recv();
                    }
                    return Err(Error::Cancelled);
                }
            }
        }
    }

    /// [`transcribe_stream`](Self::transcribe_stream) on the calling thread.
    fn stream_blocks(
        &self,
        mut stream: AudioStream,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        self.check(opts)?;
        let expected = stream
            .info()
            .duration_seconds
            .map(|s| (s * f64::from(SAMPLE_RATE)) as usize);
        let mut call = Call::new(opts);
        let mut state = self.inner.pool.acquire()?;
        // Room for a block and the chunk that completes it, allocated once.
        let mut block: Vec<f32> = Vec::with_capacity(BLOCK + BLOCK_SLACK);
        let mut block_start = 0usize;
        let mut ended = false;
        while !ended || !block.is_empty() {
            while !ended && block.len() < BLOCK {
                match stream.next() {
                    Some(chunk) => {
                        let chunk = chunk?;
                        block.reserve_exact(chunk.len());
                        block.extend_from_slice(&chunk);
                    }
                    None => ended = true,
                }
            }
            // Speech running into the block's end is kept for the next block, unless it fills
            // the whole block.
            let mut keep = block.len();
            if !ended && opts.vad {
                if let Some(last) = vad::speech_spans(&block).last() {
                    if last.end + 2 * vad::PAD >= block.len() && last.start > 0 {
                        keep = last.start;
                    }
                }
            }
            let total = expected.unwrap_or(0).max(block_start + block.len()) as f64;
            let progress = (block_start as f64 / total, keep as f64 / total);
            self.decode_block(&mut state, &block[..keep], block_start, progress, &mut call)?;
            block.drain(..keep);
            block_start += keep;
            if ended && keep == 0 {
                break;
            }
        }
        let mut t = call.finish(block_start + block.len(), opts);
        t.warnings = stream.warnings().to_vec();
        Ok(t)
    }

    /// Checks options against the model before any work.
    fn check(&self, opts: &TranscribeOptions) -> Result<()> {
        if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled);
        }
        opts.validate()?;
        let info = self.inner.model.info();
        if !info.multilingual {
            if opts.task == Task::Translate {
                return Err(Error::InvalidArgument(
                    "translation needs a multilingual model; this one is English-only".into(),
                ));
            }
            if let Some(l) = opts.language.as_deref().filter(|l| *l != "en") {
                return Err(Error::InvalidArgument(format!(
                    "language '{l}' asked of an English-only model"
                )));
            }
        }
        Ok(())
    }

    /// Decodes one block of audio starting at sample `offset` of the input: finds its speech,
    /// settles the language on the first speech of the call, and appends the segments.
    fn decode_block(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        offset: usize,
        progress: (f64, f64),
        call: &mut Call,
    ) -> Result<()> {
        let opts = call.opts.clone();
        // The stretches to decode: detected speech in chunks of at most 30 s, or everything.
        let chunks = if opts.vad {
            vad::chunks(samples, &vad::speech_spans(samples))
        } else if samples.is_empty() {
            Vec::new()
        } else {
            vec![vad::Span {
                start: 0,
                end: samples.len(),
            }]
        };
        if chunks.is_empty() {
            return Ok(());
        }
        if call.language.is_none() {
            call.language = Some(self.language(state, samples, chunks[0], &opts)?);
        }
        let language = call.language.clone().map(|(l, _)| l).unwrap_or_default();
        let job = Job {
            samples,
            chunks: &chunks,
            opts: &opts,
            language: &language,
            total: chunks.iter().map(|c| c.end - c.start).sum(),
            offset,
            first_id: call.segments.len(),
            progress,
        };
        let mut segments = if opts.condition_on_previous_text || chunks.len() == 1 {
            self.decode_in_order(state, &job)?
        } else {
            self.decode_in_parallel(state, &job)?
        };
        call.segments.append(&mut segments);
        Ok(())
    }

    /// The language given, implied by an English-only model, or detected on `chunk`.
    fn language(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        chunk: vad::Span,
        opts: &TranscribeOptions,
    ) -> Result<(String, f32)> {
        let threads = self.inner.threads;
        Ok(
            match (&opts.language, self.inner.model.info().multilingual) {
                (Some(l), _) => (l.clone(), 1.0),
                (None, false) => ("en".to_string(), 1.0),
                (None, true) => {
                    let head = &samples[chunk.start..chunk.end.min(chunk.start + vad::MAX_CHUNK)];
                    state
                        .pcm_to_mel(head, threads)
                        .and_then(|_| state.lang_detect(0, threads))
                        .map(|(id, probs)| {
                            let code = whisper_rs::get_lang_str(id).unwrap_or("en").to_string();
                            (code, probs.get(id as usize).copied().unwrap_or(0.0))
                        })
                        .map_err(|e| Error::Inference(format!("language detection failed: {e}")))?
                }
            },
        )
    }
}

/// After a watched call is cancelled: return at once, or once its work has stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCancel {
    /// Return `Error::Cancelled` at once; the work stops in the background.
    Return,
    /// Return `Error::Cancelled` once the work has stopped (nothing of the call runs after it
    /// returns: no callback, no use of the caller's data).
    WaitForWork,
}

thread_local! {
    /// Set on a watched call's own thread, where calls need no thread of their own.
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

/// How often a cancellable call checks its token while its work runs on another thread.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Samples of 16 kHz audio decoded per block of a stream: 10 minutes (38 MB).
const BLOCK: usize = 600 * SAMPLE_RATE as usize;
/// Room beyond [`BLOCK`] for the stream chunk that fills it (decoded chunks are far shorter).
const BLOCK_SLACK: usize = 2 * SAMPLE_RATE as usize;

/// What a call has produced so far.
struct Call {
    opts: TranscribeOptions,
    language: Option<(String, f32)>,
    segments: Vec<Segment>,
}

impl Call {
    fn new(opts: &TranscribeOptions) -> Self {
        Self {
            opts: opts.clone(),
            language: None,
            segments: Vec::new(),
        }
    }

    /// The transcript of `samples` samples of input.
    fn finish(self, samples: usize, opts: &TranscribeOptions) -> Transcript {
        if let Some(cb) = &opts.on_progress {
            cb(100);
        }
        self.finish_quietly(samples)
    }

    /// The transcript, without reporting progress.
    fn finish_quietly(self, samples: usize) -> Transcript {
        let opts = &self.opts;
        let (language, language_probability) = self.language.clone().unwrap_or_else(|| match &opts
            .language
        {
            Some(l) => (l.clone(), 1.0),
            None => ("en".to_string(), 0.0),
        });
        let text = self
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<String>()
            .trim()
            .to_string();
        Transcript {
            text,
            language,
            language_probability,
            duration: samples as f64 / f64::from(SAMPLE_RATE),
            task: self.opts.task,
            segments: self.segments,
            warnings: Vec::new(),
        }
    }
}

/// One call's audio and settings, shared by the threads decoding its chunks.
struct Job<'a> {
    samples: &'a [f32],
    chunks: &'a [vad::Span],
    opts: &'a TranscribeOptions,
    language: &'a str,
    /// Samples in all chunks.
    total: usize,
    /// Where `samples` starts in the input, in samples.
    offset: usize,
    /// Id of the first segment this job produces.
    first_id: usize,
    /// (start, width) of this job's share of the call's progress, as fractions.
    progress: (f64, f64),
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
