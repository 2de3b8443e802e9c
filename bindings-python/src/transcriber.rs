//! `Transcriber` and `CancelToken`: options in, the call run off the interpreter's lock, typed
//! transcripts out.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use stenograph::audio::{Audio, DecodeOptions};
use stenograph::transcribe::{
    hotword_list, language, language_list, speaker_name_list, CancelToken, Decoding, OnCancel,
    Speakers, StreamOptions, TranscribeOptions, Transcriber, MAX_BEAMS,
};

use crate::errors::to_py;
use crate::input::{audio_source, whole};
use crate::stream::PyStream;
use crate::transcript::{PySegment, PyTranscript};

/// Stops a transcription from any thread: pass it as `cancel=` and call `cancel()`.
#[pyclass(module = "stenograph", name = "CancelToken", frozen)]
#[derive(Clone, Default)]
pub struct PyCancelToken(CancelToken);

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Asks every transcription holding this token to stop (`Cancelled` within about a second).
    fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// One loaded model serving any number of threads; each call gets its own decoder state.
#[pyclass(module = "stenograph", name = "Transcriber", frozen, subclass)]
pub struct PyTranscriber {
    inner: Transcriber,
    /// The model as the caller named it.
    model: String,
    /// Set by `close()`: calls are refused from then on.
    closed: std::sync::atomic::AtomicBool,
}

impl PyTranscriber {
    /// The transcriber, unless it was closed.
    fn open(&self) -> PyResult<&Transcriber> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(to_py(stenograph::Error::InvalidArgument(
                "the transcriber is closed".into(),
            )));
        }
        Ok(&self.inner)
    }
}

/// The first exception a Python callback raised during a call.
type Failure = Arc<Mutex<Option<PyErr>>>;

/// Runs `work` through the core's watched call without the interpreter's lock, checking for
/// signals about every 10 ms: Ctrl-C cancels the work and raises `KeyboardInterrupt`.
fn run_interruptible<T: Send + 'static>(
    py: Python<'_>,
    transcriber: &Transcriber,
    cancel: &CancelToken,
    work: impl FnOnce(&Transcriber) -> stenograph::Result<T> + Send + 'static,
) -> PyResult<stenograph::Result<T>> {
    let mut interrupted: Option<PyErr> = None;
    let out = py.detach(|| {
        transcriber.run_watched(
            cancel,
            OnCancel::Return,
            || {
                Python::attach(|py| match py.check_signals() {
                    Ok(()) => false,
                    Err(e) => {
                        interrupted.get_or_insert(e);
                        true
                    }
                })
            },
            work,
        )
    });
    match interrupted {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Options, as the keyword arguments of `transcribe` give them.
struct Args<'a, 'py> {
    language: Option<String>,
    languages: Option<Vec<String>>,
    task: Option<String>,
    initial_prompt: Option<String>,
    hotwords: Option<Vec<String>>,
    beam_size: Option<&'a Bound<'py, PyAny>>,
    word_timestamps: Option<bool>,
    vad: Option<bool>,
    sound_events: Option<String>,
    temperature: Option<f32>,
    temperature_fallback: Option<bool>,
    condition_on_previous_text: Option<bool>,
    max_segment_chars: Option<&'a Bound<'py, PyAny>>,
    speakers: Option<String>,
    speaker_names: Option<Vec<String>>,
    on_progress: Option<Py<PyAny>>,
    on_segment: Option<Py<PyAny>>,
    cancel: Option<PyCancelToken>,
}

impl Args<'_, '_> {
    /// Core options, parsed and checked by the core, with Python callbacks wrapped: a callback
    /// that raises cancels the call, and its exception is what the call raises.
    fn options(self) -> PyResult<(TranscribeOptions, Failure)> {
        let task = match self.task.as_deref() {
            Some(t) => t.parse().map_err(to_py)?,
            None => TranscribeOptions::default().task,
        };
        let beams = whole(self.beam_size, "beam_size", 0, MAX_BEAMS as u64)?.unwrap_or(1);
        let decoding = Decoding::from_beam_size(beams as usize).map_err(to_py)?;
        let max_segment_chars = whole(
            self.max_segment_chars,
            "max_segment_chars",
            1,
            u32::MAX.into(),
        )?;
        let cancel = self.cancel.map(|c| c.0).unwrap_or_default();
        let failure: Failure = Arc::new(Mutex::new(None));
        let fail = {
            let (failure, cancel) = (failure.clone(), cancel.clone());
            move |e: PyErr| {
                let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
                cancel.cancel();
            }
        };
        let on_progress = self.on_progress.map(|cb| {
            let fail = fail.clone();
            Arc::new(move |p: u8| {
                Python::attach(|py| {
                    if let Err(e) = cb.call1(py, (p,)) {
                        fail(e);
                    }
                })
            }) as stenograph::transcribe::ProgressCallback
        });
        let on_segment = self.on_segment.map(|cb| {
            let fail = fail.clone();
            Arc::new(move |s: &stenograph::transcribe::Segment| {
                Python::attach(|py| {
                    if let Err(e) = cb.call1(py, (PySegment::from(s),)) {
                        fail(e);
                    }
                })
            }) as stenograph::transcribe::SegmentCallback
        });
        // Anything not given keeps the core's default.
        let mut opts = TranscribeOptions::default();
        opts.language = language(self.language.as_deref()).map_err(to_py)?;
        opts.languages = language_list(&self.languages.unwrap_or_default()).map_err(to_py)?;
        opts.task = task;
        opts.initial_prompt = self.initial_prompt;
        opts.hotwords = hotword_list(&self.hotwords.unwrap_or_default()).map_err(to_py)?;
        opts.decoding = decoding;
        opts.temperature = self.temperature.unwrap_or(opts.temperature);
        opts.temperature_fallback = self
            .temperature_fallback
            .unwrap_or(opts.temperature_fallback);
        opts.word_timestamps = self.word_timestamps.unwrap_or(opts.word_timestamps);
        opts.condition_on_previous_text = self
            .condition_on_previous_text
            .unwrap_or(opts.condition_on_previous_text);
        opts.vad = self.vad.unwrap_or(opts.vad);
        if let Some(s) = self.sound_events.as_deref() {
            opts.sound_events = s.parse().map_err(to_py)?;
        }
        opts.max_segment_chars = max_segment_chars.map(|n| n as usize);
        if let Some(s) = self.speakers.as_deref() {
            opts.speakers = s.parse().map_err(to_py)?;
        }
        opts.speaker_names =
            speaker_name_list(&self.speaker_names.unwrap_or_default()).map_err(to_py)?;
        opts.on_progress = on_progress;
        opts.on_segment = on_segment;
        opts.cancel = Some(cancel);
        opts.validate().map_err(to_py)?;
        Ok((opts, failure))
    }
}

/// The `sample_rate` argument: samples per second, 1 Hz to 1 MHz.
fn sample_rate_arg(rate: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u32>> {
    Ok(whole(rate, "sample_rate", 1, 1_000_000)?.map(|n| n as u32))
}

/// A call's result: a callback's exception first, then the core's error.
fn finish<T>(out: stenograph::Result<T>, failure: &Failure) -> PyResult<T> {
    if let Some(e) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    out.map_err(to_py)
}

#[pymethods]
impl PyTranscriber {
    /// Loads `model` (a registry name, fetched into the cache on first use, or a ggml file
    /// path) on `device` ('auto', 'cpu', 'gpu', 'gpu:N'). `max_concurrent` caps the calls
    /// running at once (default: CPU cores); `threads_per_call` sets CPU threads per call
    /// (default 1).
    #[new]
    #[pyo3(signature = (model = "tiny.en", device = "auto", max_concurrent = None, threads_per_call = None))]
    fn new(
        py: Python<'_>,
        model: &str,
        device: &str,
        max_concurrent: Option<&Bound<'_, PyAny>>,
        threads_per_call: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let device: stenograph::Device = device.parse().map_err(to_py)?;
        let max_concurrent = whole(max_concurrent, "max_concurrent", 1, 4096)?.map(|n| n as usize);
        let threads_per_call =
            whole(threads_per_call, "threads_per_call", 1, 1024)?.map(|n| n as usize);
        let name = model.to_string();
        let built = py.detach(|| {
            let mut b = Transcriber::builder().model(name.as_str()).device(device);
            if let Some(n) = max_concurrent {
                b = b.max_concurrent(n);
            }
            if let Some(n) = threads_per_call {
                b = b.threads_per_call(n);
            }
            b.build()
        });
        built
            .map(|inner| Self {
                inner,
                model: name,
                closed: Default::default(),
            })
            .map_err(to_py)
    }

    /// The model as given: a registry name or a path.
    #[getter]
    fn model(&self) -> &str {
        &self.model
    }

    /// A live transcription (see `Stream`): push audio as it arrives, read turns of speech as
    /// events, partial text while someone speaks and final text when they stop. Durations are
    /// in milliseconds; anything not given keeps the core's default.
    #[pyo3(signature = (
        *, language = None, languages = None, threshold = None, silence_ms = None, end_on_silence = None, prefix_padding_ms = None,
        partial_interval_ms = None, max_turn_ms = None, word_timestamps = None,
        initial_prompt = None, hotwords = None, max_pending_events = None, cancel = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &self,
        language: Option<String>,
        languages: Option<Vec<String>>,
        threshold: Option<f32>,
        silence_ms: Option<&Bound<'_, PyAny>>,
        end_on_silence: Option<bool>,
        prefix_padding_ms: Option<&Bound<'_, PyAny>>,
        partial_interval_ms: Option<&Bound<'_, PyAny>>,
        max_turn_ms: Option<&Bound<'_, PyAny>>,
        word_timestamps: Option<bool>,
        initial_prompt: Option<String>,
        hotwords: Option<Vec<String>>,
        max_pending_events: Option<&Bound<'_, PyAny>>,
        cancel: Option<PyCancelToken>,
    ) -> PyResult<PyStream> {
        let d = StreamOptions::default();
        let ms = |v, name, default: u32| -> PyResult<u32> {
            Ok(whole(v, name, 0, u32::MAX.into())?.map_or(default, |n| n as u32))
        };
        let opts = StreamOptions {
            language: stenograph::transcribe::language(language.as_deref()).map_err(to_py)?,
            languages: language_list(&languages.unwrap_or_default()).map_err(to_py)?,
            threshold: threshold.unwrap_or(d.threshold),
            silence_ms: ms(silence_ms, "silence_ms", d.silence_ms)?,
            end_on_silence: end_on_silence.unwrap_or(d.end_on_silence),
            prefix_padding_ms: ms(prefix_padding_ms, "prefix_padding_ms", d.prefix_padding_ms)?,
            partial_interval_ms: ms(
                partial_interval_ms,
                "partial_interval_ms",
                d.partial_interval_ms,
            )?,
            max_turn_ms: ms(max_turn_ms, "max_turn_ms", d.max_turn_ms)?,
            word_timestamps: word_timestamps.unwrap_or(d.word_timestamps),
            initial_prompt,
            hotwords: hotword_list(&hotwords.unwrap_or_default()).map_err(to_py)?,
            max_pending_events: whole(max_pending_events, "max_pending_events", 1, 1 << 20)?
                .map_or(d.max_pending_events, |n| n as usize),
            cancel: cancel.map(|c| c.0),
        };
        let stream = self.open()?.stream(opts).map_err(to_py)?;
        Ok(PyStream::new(stream))
    }

    /// Whether the model knows languages other than English.
    #[getter]
    fn multilingual(&self) -> bool {
        self.inner.model().info().multilingual
    }

    /// Transcribes `audio`: a path, `bytes`, a binary file object, or a float32/int16 sample
    /// array with `sample_rate`. The interpreter's lock is released while it runs.
    #[pyo3(signature = (
        audio, *, sample_rate = None, language = None, languages = None, task = None,
        initial_prompt = None, hotwords = None, beam_size = None, word_timestamps = None, vad = None,
        sound_events = None, temperature = None, temperature_fallback = None, condition_on_previous_text = None,
        max_segment_chars = None, speakers = None, speaker_names = None, on_progress = None,
        on_segment = None, cancel = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn transcribe(
        &self,
        py: Python<'_>,
        audio: &Bound<'_, PyAny>,
        sample_rate: Option<&Bound<'_, PyAny>>,
        language: Option<String>,
        languages: Option<Vec<String>>,
        task: Option<String>,
        initial_prompt: Option<String>,
        hotwords: Option<Vec<String>>,
        beam_size: Option<&Bound<'_, PyAny>>,
        word_timestamps: Option<bool>,
        vad: Option<bool>,
        sound_events: Option<String>,
        temperature: Option<f32>,
        temperature_fallback: Option<bool>,
        condition_on_previous_text: Option<bool>,
        max_segment_chars: Option<&Bound<'_, PyAny>>,
        speakers: Option<String>,
        speaker_names: Option<Vec<String>>,
        on_progress: Option<Py<PyAny>>,
        on_segment: Option<Py<PyAny>>,
        cancel: Option<PyCancelToken>,
    ) -> PyResult<PyTranscript> {
        let source = audio_source(audio, sample_rate_arg(sample_rate)?)?;
        let (opts, failure) = Args {
            language,
            languages,
            task,
            initial_prompt,
            hotwords,
            beam_size,
            word_timestamps,
            vad,
            sound_events,
            temperature,
            temperature_fallback,
            condition_on_previous_text,
            max_segment_chars,
            speakers,
            speaker_names,
            on_progress,
            on_segment,
            cancel,
        }
        .options()?;
        let token = opts.cancel.clone().unwrap_or_default();
        let mut decode = DecodeOptions::default();
        decode.separate_channels = opts.speakers == Speakers::Channels;
        let out = run_interruptible(py, self.open()?, &token, move |t| {
            let stream = stenograph::audio::AudioStream::open(source, &decode)?;
            t.transcribe_stream(stream, &opts)
        })?;
        finish(out, &failure).map(PyTranscript)
    }

    /// Transcribes several inputs (any `transcribe` accepts) in one go, short recordings
    /// sharing decoder windows; transcripts in input order. Options as for `transcribe`,
    /// without `on_segment`.
    #[pyo3(signature = (
        audios, *, sample_rate = None, language = None, languages = None, task = None,
        initial_prompt = None, hotwords = None, beam_size = None, word_timestamps = None, vad = None,
        sound_events = None, temperature = None, temperature_fallback = None, condition_on_previous_text = None,
        max_segment_chars = None, on_progress = None, cancel = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn transcribe_batch(
        &self,
        py: Python<'_>,
        audios: Vec<Bound<'_, PyAny>>,
        sample_rate: Option<&Bound<'_, PyAny>>,
        language: Option<String>,
        languages: Option<Vec<String>>,
        task: Option<String>,
        initial_prompt: Option<String>,
        hotwords: Option<Vec<String>>,
        beam_size: Option<&Bound<'_, PyAny>>,
        word_timestamps: Option<bool>,
        vad: Option<bool>,
        sound_events: Option<String>,
        temperature: Option<f32>,
        temperature_fallback: Option<bool>,
        condition_on_previous_text: Option<bool>,
        max_segment_chars: Option<&Bound<'_, PyAny>>,
        on_progress: Option<Py<PyAny>>,
        cancel: Option<PyCancelToken>,
    ) -> PyResult<Vec<PyTranscript>> {
        let sample_rate = sample_rate_arg(sample_rate)?;
        let sources = audios
            .iter()
            .map(|a| audio_source(a, sample_rate))
            .collect::<PyResult<Vec<_>>>()?;
        let (opts, failure) = Args {
            language,
            languages,
            task,
            initial_prompt,
            hotwords,
            beam_size,
            word_timestamps,
            vad,
            sound_events,
            temperature,
            temperature_fallback,
            condition_on_previous_text,
            max_segment_chars,
            speakers: None,
            speaker_names: None,
            on_progress,
            on_segment: None,
            cancel,
        }
        .options()?;
        let token = opts.cancel.clone().unwrap_or_default();
        let out = run_interruptible(py, self.open()?, &token, move |t| {
            let audio = sources
                .into_iter()
                .map(|s| Audio::decode(s, &DecodeOptions::default()))
                .collect::<stenograph::Result<Vec<_>>>()?;
            let mut transcripts = t.transcribe_batch(&audio, &opts)?;
            for (t, a) in transcripts.iter_mut().zip(&audio) {
                t.warnings.splice(0..0, a.warnings().iter().cloned());
            }
            Ok(transcripts)
        })?;
        finish(out, &failure).map(|v| v.into_iter().map(PyTranscript).collect())
    }

    /// Refuses further calls and waits (without the interpreter's lock) until no cancelled
    /// call of this transcriber still runs in the background, so the process may exit safely.
    /// Also what `with Transcriber(...) as t:` does at the end of the block.
    fn close(&self, py: Python<'_>) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        py.detach(|| self.inner.wait_background());
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("Transcriber(model={:?})", self.model)
    }
}
