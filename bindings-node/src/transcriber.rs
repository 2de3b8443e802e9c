//! `Transcriber`: a loaded model; every call runs off the JavaScript thread and settles a
//! promise.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use std::sync::Mutex;

use napi::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi_derive::napi;
use stenograph::audio::{Audio, AudioSource, AudioStream, DecodeOptions};
use stenograph::transcribe::{self as core, CancelToken, Decoding, Device, MAX_BEAMS};

use crate::errors::to_js;
use crate::input::{audio_source, whole, Samples};
use crate::transcript::{Segment, Transcript};

/// How to load a model.
#[napi(object, object_to_js = false)]
pub struct LoadOptions {
    /// "auto" (default), "cpu", "gpu" or "gpu:N".
    pub device: Option<String>,
    /// Most calls running at once (default: CPU cores).
    pub max_concurrent: Option<f64>,
    /// CPU threads per call (default 1).
    pub threads_per_call: Option<f64>,
}

/// Options of one transcription.
#[napi(object, object_to_js = false)]
pub struct TranscribeOptions<'env> {
    /// Spoken language (ISO 639-1, any case); detected when omitted or "auto" (multilingual
    /// models).
    pub language: Option<String>,
    /// "transcribe" (default) or "translate".
    pub task: Option<String>,
    /// Text that primes the decoder (names, jargon).
    pub initial_prompt: Option<String>,
    /// Beam search with this many beams, 2–8; 0 or 1 is greedy decoding (default).
    pub beam_size: Option<f64>,
    /// Per-word timings in `segments[].words`.
    pub word_timestamps: Option<bool>,
    /// Decode detected speech only (default true).
    pub vad: Option<bool>,
    /// Sampling temperature of the first decode, 0 (default) to 1.
    pub temperature: Option<f64>,
    /// Re-decode at higher temperatures when a window fails Whisper's checks (default true).
    pub temperature_fallback: Option<bool>,
    /// Prime each window with the text before it (default false).
    pub condition_on_previous_text: Option<bool>,
    /// Split segments longer than this many characters at word boundaries.
    pub max_segment_chars: Option<f64>,
    /// Cancels the call: the promise rejects with an `AbortError` (`code`
    /// `ERR_STENOGRAPH_CANCELLED`).
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'env>>,
    /// Called with the percent done (0–100).
    #[napi(ts_type = "(percent: number) => void")]
    pub on_progress: Option<ThreadsafeFunction<u32, UnknownReturnValue, u32, Status, false>>,
    /// Called with each segment as it is produced (not for batches).
    #[napi(ts_type = "(segment: Segment) => void")]
    pub on_segment: Option<ThreadsafeFunction<Segment, UnknownReturnValue, Segment, Status, false>>,
}

/// `EventTarget.prototype.addEventListener(type, listener)`.
type AddEventListener<'env> =
    Function<'env, FnArgs<(&'env str, Function<'env, (), ()>)>, Unknown<'env>>;

/// The first exception a JavaScript callback threw during a call: the call is cancelled and its
/// promise rejects with that exception.
type Thrown = Arc<Mutex<Option<Error>>>;

/// Core options from JavaScript's; the signal, if any, cancels `token`; a callback that throws
/// cancels it too and leaves its exception in `thrown`. Option errors are returned as core
/// errors so that they reject the promise like any other.
fn core_options(
    env: &Env,
    opts: Option<TranscribeOptions<'_>>,
    token: &CancelToken,
    thrown: &Thrown,
) -> Result<std::result::Result<core::TranscribeOptions, stenograph::Error>> {
    let mut out = core::TranscribeOptions {
        cancel: Some(token.clone()),
        ..core::TranscribeOptions::default()
    };
    let Some(o) = opts else {
        return Ok(Ok(out));
    };
    if let Some(signal) = &o.signal {
        if signal
            .get_named_property::<bool>("aborted")
            .unwrap_or(false)
        {
            token.cancel();
        } else {
            let t = token.clone();
            let listener = env.create_function_from_closure::<(), (), _>("onAbort", move |_| {
                t.cancel();
                Ok(())
            })?;
            let add: AddEventListener = signal.get_named_property("addEventListener")?;
            add.apply(signal, ("abort", listener).into())?;
        }
    }
    // Parsed and checked by the core; an error rejects the call's promise.
    let parsed = (|| -> std::result::Result<(), stenograph::Error> {
        if let Some(task) = o.task.as_deref() {
            out.task = task.parse()?;
        }
        out.language = core::language(o.language.as_deref())?;
        out.initial_prompt = o.initial_prompt.clone();
        let beams = whole(o.beam_size, "beamSize", 0, MAX_BEAMS as u64)?.unwrap_or(1);
        out.decoding = Decoding::from_beam_size(beams as usize)?;
        out.word_timestamps = o.word_timestamps.unwrap_or(false);
        out.vad = o.vad.unwrap_or(true);
        out.temperature = o.temperature.unwrap_or(0.0) as f32;
        out.temperature_fallback = o.temperature_fallback.unwrap_or(true);
        out.condition_on_previous_text = o.condition_on_previous_text.unwrap_or(false);
        out.max_segment_chars =
            whole(o.max_segment_chars, "maxSegmentChars", 1, u32::MAX.into())?.map(|n| n as usize);
        out.validate()
    })();
    if let Err(e) = parsed {
        return Ok(Err(e));
    }
    // Runs on the JavaScript thread after each callback: an exception it threw is caught here.
    let caught = {
        let (thrown, token) = (thrown.clone(), token.clone());
        move |ret: Result<UnknownReturnValue>, _: Env| -> Result<()> {
            if let Err(e) = ret {
                thrown
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                token.cancel();
            }
            Ok(())
        }
    };
    if let Some(cb) = o.on_progress {
        let caught = caught.clone();
        out.on_progress = Some(Arc::new(move |p: u8| {
            cb.call_with_return_value(
                u32::from(p),
                ThreadsafeFunctionCallMode::NonBlocking,
                caught.clone(),
            );
        }));
    }
    if let Some(cb) = o.on_segment {
        out.on_segment = Some(Arc::new(move |s: &core::Segment| {
            cb.call_with_return_value(
                Segment::from(s),
                ThreadsafeFunctionCallMode::NonBlocking,
                caught.clone(),
            );
        }));
    }
    Ok(Ok(out))
}

/// One loaded model serving any number of concurrent calls (one copy of the weights).
#[napi]
pub struct Transcriber {
    inner: core::Transcriber,
    model: String,
}

/// Loads a model on a worker thread.
pub struct Load {
    model: String,
    options: Option<LoadOptions>,
    failure: Option<stenograph::Error>,
}

impl Task for Load {
    type Output = core::Transcriber;
    type JsValue = Transcriber;

    fn compute(&mut self) -> Result<Self::Output> {
        let built = (|| {
            let o = self.options.as_ref();
            let mut b = core::Transcriber::builder().model(self.model.as_str());
            if let Some(d) = o.and_then(|o| o.device.as_deref()) {
                b = b.device(d.parse::<Device>()?);
            }
            if let Some(n) = whole(o.and_then(|o| o.max_concurrent), "maxConcurrent", 1, 4096)? {
                b = b.max_concurrent(n as usize);
            }
            if let Some(n) = whole(
                o.and_then(|o| o.threads_per_call),
                "threadsPerCall",
                1,
                1024,
            )? {
                b = b.threads_per_call(n as usize);
            }
            b.build()
        })();
        built.map_err(|e| {
            self.failure = Some(e);
            Error::from_reason("load failed")
        })
    }

    fn resolve(&mut self, _: Env, inner: Self::Output) -> Result<Self::JsValue> {
        Ok(Transcriber {
            inner,
            model: std::mem::take(&mut self.model),
        })
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Self::JsValue> {
        Err(self.failure.take().map_or(err, |e| to_js(&env, &e)))
    }
}

/// What a transcription task works on (an input the caller gave wrongly is its error).
enum Work {
    One(std::result::Result<AudioSource, stenograph::Error>),
    Batch(Vec<std::result::Result<AudioSource, stenograph::Error>>),
}

/// Transcribes on a worker thread; rejects with the core's error.
pub struct Transcribe {
    transcriber: core::Transcriber,
    work: Option<Work>,
    options: std::result::Result<core::TranscribeOptions, stenograph::Error>,
    failure: Option<stenograph::Error>,
    thrown: Thrown,
    is_batch: bool,
}

impl Transcribe {
    fn run(&mut self) -> std::result::Result<Vec<core::Transcript>, stenograph::Error> {
        let opts = self.options.as_ref().map_err(clone_error)?;
        match self.work.take() {
            Some(Work::One(source)) => {
                let stream = AudioStream::open(source?, &DecodeOptions::default())?;
                Ok(vec![self.transcriber.transcribe_stream(stream, opts)?])
            }
            Some(Work::Batch(sources)) => {
                let audio = sources
                    .into_iter()
                    .map(|s| Audio::decode(s?, &DecodeOptions::default()))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let mut transcripts = self.transcriber.transcribe_batch(&audio, opts)?;
                for (t, a) in transcripts.iter_mut().zip(&audio) {
                    t.warnings = a.warnings().to_vec();
                }
                Ok(transcripts)
            }
            None => Ok(Vec::new()),
        }
    }
}

/// The option errors `core_options` found, given back when the task runs.
fn clone_error(e: &stenograph::Error) -> stenograph::Error {
    stenograph::Error::InvalidArgument(match e {
        stenograph::Error::InvalidArgument(m) => m.clone(),
        other => other.to_string(),
    })
}

impl Task for Transcribe {
    type Output = Vec<core::Transcript>;
    type JsValue = Either<Transcript, Vec<Transcript>>;

    fn compute(&mut self) -> Result<Self::Output> {
        self.run().map_err(|e| {
            self.failure = Some(e);
            Error::from_reason("transcription failed")
        })
    }

    fn resolve(&mut self, _: Env, out: Self::Output) -> Result<Self::JsValue> {
        let mut all: Vec<Transcript> = out.into_iter().map(|inner| Transcript { inner }).collect();
        Ok(if self.is_batch || all.len() != 1 {
            Either::B(all)
        } else {
            Either::A(all.remove(0))
        })
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Self::JsValue> {
        if let Some(e) = self.thrown.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        Err(self.failure.take().map_or(err, |e| to_js(&env, &e)))
    }
}

#[napi]
impl Transcriber {
    /// Loads a model (registry name, fetched into the cache on first use, or a ggml path)
    /// without blocking the event loop.
    #[napi(ts_return_type = "Promise<Transcriber>")]
    pub fn load(model: String, options: Option<LoadOptions>) -> AsyncTask<Load> {
        AsyncTask::new(Load {
            model,
            options,
            failure: None,
        })
    }

    /// The model as given: a registry name or a path.
    #[napi(getter)]
    pub fn model(&self) -> String {
        self.model.clone()
    }

    /// Whether the model knows languages other than English.
    #[napi(getter)]
    pub fn multilingual(&self) -> bool {
        self.inner.model().info().multilingual
    }

    /// Transcribes a path, the bytes of an encoded file, or raw samples, off the JavaScript
    /// thread.
    #[napi(ts_return_type = "Promise<Transcript>")]
    pub fn transcribe(
        &self,
        env: Env,
        input: Either3<String, Uint8Array, Samples>,
        options: Option<TranscribeOptions<'_>>,
    ) -> Result<AsyncTask<Transcribe>> {
        let (token, thrown) = (CancelToken::new(), Thrown::default());
        Ok(AsyncTask::new(Transcribe {
            transcriber: self.inner.clone(),
            work: Some(Work::One(audio_source(input))),
            options: core_options(&env, options, &token, &thrown)?,
            failure: None,
            thrown,
            is_batch: false,
        }))
    }

    /// Transcribes several inputs in one go, short recordings sharing decoder windows;
    /// transcripts in input order. `onSegment` is refused for a batch.
    #[napi(ts_return_type = "Promise<Transcript[]>")]
    pub fn transcribe_batch(
        &self,
        env: Env,
        inputs: Vec<Either3<String, Uint8Array, Samples>>,
        options: Option<TranscribeOptions<'_>>,
    ) -> Result<AsyncTask<Transcribe>> {
        let (token, thrown) = (CancelToken::new(), Thrown::default());
        Ok(AsyncTask::new(Transcribe {
            transcriber: self.inner.clone(),
            work: Some(Work::Batch(inputs.into_iter().map(audio_source).collect())),
            options: core_options(&env, options, &token, &thrown)?,
            failure: None,
            thrown,
            is_batch: true,
        }))
    }
}
