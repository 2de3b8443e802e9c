//! `Transcriber`: a loaded model; every call runs off the JavaScript thread and settles a
//! promise.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, UnknownReturnValue};
use napi_derive::napi;
use stenograph::audio::{Audio, AudioSource, AudioStream, DecodeOptions};
use stenograph::transcribe::{self as core, CancelToken, Decoding, MAX_BEAMS};
use stenograph::Device;

use crate::callbacks::Callbacks;
use crate::errors::{to_js, Failure};
use crate::input::{absent, audio_source, check_fields, object, string, whole, Kind};
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
    /// Languages detection chooses from (ISO 639-1 codes, e.g. `["en", "de", "fr"]`); any when
    /// omitted.
    pub languages: Option<Vec<String>>,
    /// "transcribe" (default) or "translate".
    pub task: Option<String>,
    /// Text that primes the decoder (names, jargon).
    pub initial_prompt: Option<String>,
    /// Terms to recognise with their spelling in every window (customers, products).
    pub hotwords: Option<Vec<String>>,
    /// Beam search with this many beams, 2–8; 0 or 1 is greedy decoding (default).
    pub beam_size: Option<f64>,
    /// Per-word timings in `segments[].words`.
    pub word_timestamps: Option<bool>,
    /// Decode detected speech only (default true).
    pub vad: Option<bool>,
    /// Laughter, coughs, music and noise that Whisper annotates ("(laughs)", "[Music]"):
    /// "drop" them from the text (default), "keep" the annotations, or "suppress" them while
    /// decoding (as whisper.cpp does).
    #[napi(ts_type = "'drop' | 'keep' | 'suppress'")]
    pub sound_events: Option<String>,
    /// Sampling temperature of the first decode, 0 (default) to 1.
    pub temperature: Option<f64>,
    /// Re-decode at higher temperatures when a window fails Whisper's checks (default true).
    pub temperature_fallback: Option<bool>,
    /// Prime each window with the text before it (default false).
    pub condition_on_previous_text: Option<bool>,
    /// Split segments longer than this many characters at word boundaries.
    pub max_segment_chars: Option<f64>,
    /// "channels": each channel of a multi-channel recording is a speaker (call-centre
    /// stereo); "auto" or a count ("2"): speakers told apart by voice; "none" (default).
    pub speakers: Option<String>,
    /// Speakers' names in channel order (default `SPEAKER_0`, `SPEAKER_1`, …).
    pub speaker_names: Option<Vec<String>>,
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

/// The fields of `TranscribeOptions` and their types.
const OPTION_FIELDS: [(&str, Kind); 18] = [
    ("language", Kind::String),
    ("languages", Kind::Array),
    ("task", Kind::String),
    ("initialPrompt", Kind::String),
    ("hotwords", Kind::Array),
    ("beamSize", Kind::Number),
    ("wordTimestamps", Kind::Boolean),
    ("vad", Kind::Boolean),
    ("soundEvents", Kind::String),
    ("temperature", Kind::Number),
    ("temperatureFallback", Kind::Boolean),
    ("conditionOnPreviousText", Kind::Boolean),
    ("maxSegmentChars", Kind::Number),
    ("speakers", Kind::String),
    ("speakerNames", Kind::Array),
    ("signal", Kind::Object),
    ("onProgress", Kind::Function),
    ("onSegment", Kind::Function),
];

/// Core options from JavaScript's, parsed and checked by the core; the signal, if any,
/// cancels `token`; a callback that throws cancels it too and leaves its exception in
/// `calls`.
fn core_options(
    env: &Env,
    given: Option<&Unknown<'_>>,
    token: &CancelToken,
    calls: &Arc<Callbacks>,
) -> std::result::Result<core::TranscribeOptions, Failure> {
    let mut out = core::TranscribeOptions::default();
    out.cancel = Some(token.clone());
    let Some(given) = given.filter(|g| !absent(g)) else {
        return Ok(out);
    };
    check_fields(&object(given, "options")?, "options", &OPTION_FIELDS)?;
    // SAFETY: an object whose fields have the types checked above.
    let o = unsafe { TranscribeOptions::from_napi_value(env.raw(), given.raw()) }
        .map_err(|e| Failure::Type(format!("options: {}", e.reason)))?;
    if let Some(signal) = &o.signal {
        crate::signal::follow(env, signal, token)?;
    }
    if let Some(task) = o.task.as_deref() {
        out.task = task.parse()?;
    }
    out.language = core::language(o.language.as_deref())?;
    out.languages = core::language_list(o.languages.as_deref().unwrap_or_default())?;
    out.initial_prompt = o.initial_prompt.clone();
    out.hotwords = core::hotword_list(o.hotwords.as_deref().unwrap_or_default())?;
    let beams = whole(o.beam_size, "beamSize", 0, MAX_BEAMS as u64)?.unwrap_or(1);
    out.decoding = Decoding::from_beam_size(beams as usize)?;
    // Anything not given keeps the core's default (`out` starts from them).
    out.word_timestamps = o.word_timestamps.unwrap_or(out.word_timestamps);
    out.vad = o.vad.unwrap_or(out.vad);
    if let Some(events) = o.sound_events.as_deref() {
        out.sound_events = events.parse()?;
    }
    out.temperature = o.temperature.map_or(out.temperature, |t| t as f32);
    out.temperature_fallback = o.temperature_fallback.unwrap_or(out.temperature_fallback);
    out.condition_on_previous_text = o
        .condition_on_previous_text
        .unwrap_or(out.condition_on_previous_text);
    out.max_segment_chars =
        whole(o.max_segment_chars, "maxSegmentChars", 1, u32::MAX.into())?.map(|n| n as usize);
    if let Some(speakers) = o.speakers.as_deref() {
        out.speakers = speakers.parse()?;
    }
    out.speaker_names = core::speaker_name_list(o.speaker_names.as_deref().unwrap_or_default())?;
    out.validate()?;
    if let Some(cb) = o.on_progress {
        let (calls, token) = (calls.clone(), token.clone());
        out.on_progress = Some(Arc::new(move |p: u8| calls.call(&cb, u32::from(p), &token)));
    }
    if let Some(cb) = o.on_segment {
        let (calls, token) = (calls.clone(), token.clone());
        out.on_segment = Some(Arc::new(move |s: &core::Segment| {
            calls.call(&cb, Segment::from(s), &token)
        }));
    }
    Ok(out)
}

/// One loaded model serving any number of concurrent calls (one copy of the weights).
#[napi]
pub struct Transcriber {
    inner: core::Transcriber,
    model: String,
    /// Set by `close()`: calls are refused from then on.
    closed: bool,
}

/// Waits on a worker thread until no cancelled call of a transcriber still runs.
pub struct Close(core::Transcriber);

impl Task for Close {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        self.0.wait_background();
        Ok(())
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

/// What `load` was given, checked.
struct LoadArgs {
    model: String,
    device: Option<String>,
    max_concurrent: Option<u64>,
    threads_per_call: Option<u64>,
}

/// Loads a model on a worker thread; without `args`, rejects with `failure`.
pub struct Load {
    args: Option<LoadArgs>,
    failure: Option<Failure>,
}

impl Task for Load {
    type Output = core::Transcriber;
    type JsValue = Transcriber;

    fn compute(&mut self) -> Result<Self::Output> {
        let built = match &self.args {
            None => return Err(Error::from_reason("invalid arguments")),
            Some(a) => (|| {
                let mut b = core::Transcriber::builder().model(a.model.as_str());
                if let Some(d) = a.device.as_deref() {
                    b = b.device(d.parse::<Device>()?);
                }
                if let Some(n) = a.max_concurrent {
                    b = b.max_concurrent(n as usize);
                }
                if let Some(n) = a.threads_per_call {
                    b = b.threads_per_call(n as usize);
                }
                b.build()
            })()
            .map_err(Failure::from),
        };
        built.map_err(|e| {
            self.failure = Some(e);
            Error::from_reason("load failed")
        })
    }

    fn resolve(&mut self, _: Env, inner: Self::Output) -> Result<Self::JsValue> {
        let model = self.args.take().map(|a| a.model).unwrap_or_default();
        Ok(Transcriber {
            inner,
            model,
            closed: false,
        })
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Self::JsValue> {
        Err(self.failure.take().map_or(err, |e| to_js(&env, e)))
    }
}

/// What a transcription task works on.
enum Work {
    One(AudioSource),
    Batch(Vec<AudioSource>),
}

/// Transcribes on a worker thread; rejects with the core's error, an argument's, or what a
/// callback threw.
pub struct Transcribe {
    transcriber: core::Transcriber,
    /// The input and options, or why they were refused.
    call: Option<std::result::Result<(Work, core::TranscribeOptions), Failure>>,
    failure: Option<Failure>,
    calls: Arc<Callbacks>,
    is_batch: bool,
}

impl Transcribe {
    /// A call on `transcriber` of `work` with `options` (both checked, on the JavaScript
    /// thread).
    fn new(
        env: &Env,
        transcriber: &core::Transcriber,
        work: impl FnOnce() -> std::result::Result<Work, Failure>,
        options: Option<&Unknown<'_>>,
        is_batch: bool,
    ) -> Self {
        let (token, calls) = (CancelToken::new(), Arc::<Callbacks>::default());
        let call = work().and_then(|w| Ok((w, core_options(env, options, &token, &calls)?)));
        Transcribe {
            transcriber: transcriber.clone(),
            call: Some(call),
            failure: None,
            calls,
            is_batch,
        }
    }

    fn run(&mut self) -> std::result::Result<Vec<core::Transcript>, Failure> {
        let (work, opts) = match self.call.take() {
            Some(call) => call?,
            None => return Ok(Vec::new()),
        };
        Ok(match work {
            Work::One(source) => {
                let mut decode = DecodeOptions::default();
                decode.separate_channels = opts.speakers == core::Speakers::Channels;
                let stream = AudioStream::open(source, &decode)?;
                vec![self.transcriber.transcribe_stream(stream, &opts)?]
            }
            Work::Batch(sources) => {
                let audio = sources
                    .into_iter()
                    .map(|s| Audio::decode(s, &DecodeOptions::default()))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let mut transcripts = self.transcriber.transcribe_batch(&audio, &opts)?;
                for (t, a) in transcripts.iter_mut().zip(&audio) {
                    t.warnings.splice(0..0, a.warnings().iter().cloned());
                }
                transcripts
            }
        })
    }
}

impl Task for Transcribe {
    type Output = Vec<core::Transcript>;
    type JsValue = Either<Transcript, Vec<Transcript>>;

    fn compute(&mut self) -> Result<Self::Output> {
        let out = self.run();
        // What the last callbacks throw still rejects the call.
        self.calls.settle();
        match out {
            Ok(_) if self.calls.threw() => Err(Error::from_reason("a callback threw")),
            Ok(out) => Ok(out),
            Err(e) => {
                self.failure = Some(e);
                Err(Error::from_reason("transcription failed"))
            }
        }
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
        if let Some(e) = self.calls.take_thrown() {
            return Err(e);
        }
        Err(self.failure.take().map_or(err, |e| to_js(&env, e)))
    }
}

#[napi]
impl Transcriber {
    /// Loads a model (registry name, fetched into the cache on first use, or a ggml path)
    /// without blocking the event loop.
    #[napi(ts_return_type = "Promise<Transcriber>")]
    pub fn load(
        env: Env,
        #[napi(ts_arg_type = "string")] model: Unknown<'_>,
        #[napi(ts_arg_type = "LoadOptions | undefined | null")] options: Option<Unknown<'_>>,
    ) -> AsyncTask<Load> {
        let args = (|| -> std::result::Result<LoadArgs, Failure> {
            let model = string(&model, "model")?;
            let mut args = LoadArgs {
                model,
                device: None,
                max_concurrent: None,
                threads_per_call: None,
            };
            let Some(o) = options.as_ref().filter(|o| !absent(o)) else {
                return Ok(args);
            };
            let obj = object(o, "options")?;
            check_fields(
                &obj,
                "options",
                &[
                    ("device", Kind::String),
                    ("maxConcurrent", Kind::Number),
                    ("threadsPerCall", Kind::Number),
                ],
            )?;
            // SAFETY: an object whose fields have the types checked above.
            let o = unsafe { LoadOptions::from_napi_value(env.raw(), o.raw()) }
                .map_err(|e| Failure::Type(format!("options: {}", e.reason)))?;
            args.device = o.device;
            args.max_concurrent = whole(o.max_concurrent, "maxConcurrent", 1, 4096)?;
            args.threads_per_call = whole(o.threads_per_call, "threadsPerCall", 1, 1024)?;
            Ok(args)
        })();
        let (args, failure) = match args {
            Ok(a) => (Some(a), None),
            Err(f) => (None, Some(f)),
        };
        AsyncTask::new(Load { args, failure })
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

    /// Refuses further calls, and resolves once no cancelled call of this transcriber still
    /// runs in the background (whisper.cpp finishing a pass), so the process may exit safely.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&mut self) -> AsyncTask<Close> {
        self.closed = true;
        AsyncTask::new(Close(self.inner.clone()))
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// The refusal of a call on a closed transcriber.
    fn refuse_if_closed(&self) -> std::result::Result<(), Failure> {
        if self.closed {
            return Err(
                stenograph::Error::InvalidArgument("the transcriber is closed".into()).into(),
            );
        }
        Ok(())
    }

    /// Transcribes a path, the bytes of an encoded file, or raw samples, off the JavaScript
    /// thread. Every failure, a wrong argument included, rejects the promise.
    #[napi(ts_return_type = "Promise<Transcript>")]
    pub fn transcribe(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string | Uint8Array | ArrayBuffer | Samples")] input: Unknown<'_>,
        #[napi(ts_arg_type = "TranscribeOptions | undefined | null")] options: Option<Unknown<'_>>,
    ) -> AsyncTask<Transcribe> {
        let work = || {
            self.refuse_if_closed()?;
            Ok(Work::One(audio_source(&env, &input)?))
        };
        AsyncTask::new(Transcribe::new(
            &env,
            &self.inner,
            work,
            options.as_ref(),
            false,
        ))
    }

    /// Starts a live transcription: push audio as it arrives, read turns of speech as events.
    /// Throws a `TypeError`/`RangeError` for a wrong option and the core's error for an
    /// invalid one.
    #[napi]
    pub fn stream(
        &self,
        env: Env,
        #[napi(ts_arg_type = "StreamOptions | undefined | null")] options: Option<Unknown<'_>>,
    ) -> Result<crate::stream::LiveStream> {
        self.refuse_if_closed()
            .and_then(|()| crate::stream::LiveStream::open(&env, &self.inner, options.as_ref()))
            .map_err(|f| to_js(&env, f))
    }

    /// Transcribes several inputs in one go, short recordings sharing decoder windows;
    /// transcripts in input order. `onSegment` is refused for a batch.
    #[napi(ts_return_type = "Promise<Transcript[]>")]
    pub fn transcribe_batch(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Array<string | Uint8Array | ArrayBuffer | Samples>")] inputs: Unknown<
            '_,
        >,
        #[napi(ts_arg_type = "TranscribeOptions | undefined | null")] options: Option<Unknown<'_>>,
    ) -> AsyncTask<Transcribe> {
        let work = || {
            self.refuse_if_closed()?;
            if !inputs.is_array().unwrap_or(false) {
                return Err(Failure::Type("inputs must be an array".into()));
            }
            // SAFETY: an array, checked above.
            let array: Array = unsafe { inputs.cast() }.map_err(|e| Failure::Type(e.reason))?;
            let sources = (0..array.len())
                .map(|i| {
                    let item: Unknown = array
                        .get(i)
                        .map_err(|e| Failure::Type(e.reason))?
                        .ok_or_else(|| Failure::Type(format!("inputs[{i}] is missing")))?;
                    audio_source(&env, &item)
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(Work::Batch(sources))
        };
        AsyncTask::new(Transcribe::new(
            &env,
            &self.inner,
            work,
            options.as_ref(),
            true,
        ))
    }
}
