//! `LiveStream`: live transcription. Each push, commit, clear or finish runs off the JavaScript
//! thread, in the order they were called, and resolves with the events it produced; `stream.js`
//! (installed at load) turns those into `for await` iteration and listeners.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use stenograph::transcribe::{self as core, CancelToken};

use crate::errors::{to_js, Failure};
use crate::input::{absent, check_fields, object, whole, Kind};
use crate::transcript::Segment;

/// Options of a live stream; anything not given keeps the core's default.
#[napi(object, object_to_js = false)]
pub struct StreamOptions<'env> {
    /// Spoken language (ISO 639-1); English for English-only models, else detected on the
    /// first turn.
    pub language: Option<String>,
    /// Languages detection chooses from (ISO 639-1 codes); any when omitted.
    pub languages: Option<Vec<String>>,
    /// Speech probability at which a turn starts (0.5).
    pub threshold: Option<f64>,
    /// Silence that ends a turn, in milliseconds (500).
    pub silence_ms: Option<f64>,
    /// Whether silence ends a turn (true); when false, turns end at `commit()`, `finish()` or
    /// the longest-turn cut.
    pub end_on_silence: Option<bool>,
    /// Audio kept before the start of speech, in milliseconds (300).
    pub prefix_padding_ms: Option<f64>,
    /// How often partial text is decoded while someone speaks, in milliseconds (400; 0 for
    /// none).
    pub partial_interval_ms: Option<f64>,
    /// Longest turn before it is cut at a pause, in milliseconds (28000).
    pub max_turn_ms: Option<f64>,
    /// Per-word timings in final segments.
    pub word_timestamps: Option<bool>,
    /// Text that primes the decoder (names, jargon).
    pub initial_prompt: Option<String>,
    /// Terms to recognise with their spelling in every window (customers, products).
    pub hotwords: Option<Vec<String>>,
    /// Events held unread before a push is refused (256).
    pub max_pending_events: Option<f64>,
    /// Cancels the stream: a decode in progress stops and every later call rejects with an
    /// `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'env>>,
}

const STREAM_FIELDS: [(&str, Kind); 13] = [
    ("language", Kind::String),
    ("languages", Kind::Array),
    ("threshold", Kind::Number),
    ("silenceMs", Kind::Number),
    ("endOnSilence", Kind::Boolean),
    ("prefixPaddingMs", Kind::Number),
    ("partialIntervalMs", Kind::Number),
    ("maxTurnMs", Kind::Number),
    ("wordTimestamps", Kind::Boolean),
    ("initialPrompt", Kind::String),
    ("hotwords", Kind::Array),
    ("maxPendingEvents", Kind::Number),
    ("signal", Kind::Object),
];

/// What a live stream reports: `type` is `speech_started`, `partial`, `speech_stopped` or
/// `final`; the other fields are set where that kind has them (times in seconds of the stream).
#[napi(object)]
pub struct StreamEvent {
    /// `speech_started`, `partial`, `speech_stopped` or `final`.
    #[napi(
        js_name = "type",
        ts_type = "'speech_started' | 'partial' | 'speech_stopped' | 'final'"
    )]
    pub kind: String,
    /// When speech started or stopped.
    pub at: Option<f64>,
    /// A partial's words agreed so far in the turn (they only grow), or a final's text.
    pub text: Option<String>,
    /// The stable words new in this partial (may be empty).
    pub delta: Option<String>,
    /// A partial's words heard after the stable ones, not agreed on yet (they may change).
    pub unstable: Option<String>,
    /// Where the turn's audio starts (partial, final).
    pub start: Option<f64>,
    /// Where a final's audio ends.
    pub end: Option<f64>,
    /// A final's segments (ids counting from the stream's start).
    pub segments: Option<Vec<Segment>>,
}

impl From<core::StreamEvent> for StreamEvent {
    fn from(e: core::StreamEvent) -> Self {
        let mut out = StreamEvent {
            kind: String::new(),
            at: None,
            text: None,
            delta: None,
            unstable: None,
            start: None,
            end: None,
            segments: None,
        };
        match e {
            core::StreamEvent::SpeechStarted { at } => {
                out.kind = "speech_started".into();
                out.at = Some(at);
            }
            core::StreamEvent::Partial {
                text,
                delta,
                unstable,
                start,
            } => {
                out.kind = "partial".into();
                (out.text, out.delta, out.start) = (Some(text), Some(delta), Some(start));
                out.unstable = Some(unstable);
            }
            core::StreamEvent::SpeechStopped { at } => {
                out.kind = "speech_stopped".into();
                out.at = Some(at);
            }
            core::StreamEvent::Final(u) => {
                out.kind = "final".into();
                (out.text, out.start, out.end) = (Some(u.text), Some(u.start), Some(u.end));
                out.segments = Some(u.segments.iter().map(Segment::from).collect());
            }
        }
        out
    }
}

/// The stream and the order its calls run in. The JavaScript thread never takes the lock
/// (a decode may hold it): tickets and the duration are atomics.
struct Shared {
    state: Mutex<State>,
    turn: Condvar,
    /// Tickets handed out, one per call in call order.
    issued: AtomicU64,
    /// Seconds pushed, as `f64` bits.
    duration: AtomicU64,
}

struct State {
    stream: core::LiveStream,
    /// The next ticket to run.
    serving: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `op` once every earlier call has run; gives back the events queued by then.
    fn in_turn<T>(
        &self,
        ticket: u64,
        op: impl FnOnce(&mut core::LiveStream) -> stenograph::Result<T>,
    ) -> (stenograph::Result<T>, Vec<StreamEvent>) {
        let mut s = self.lock();
        while s.serving != ticket {
            s = self.turn.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        let out = op(&mut s.stream);
        self.duration
            .store(s.stream.duration().to_bits(), Ordering::Relaxed);
        let events = std::iter::from_fn(|| s.stream.poll_event())
            .map(StreamEvent::from)
            .collect();
        s.serving += 1;
        drop(s);
        self.turn.notify_all();
        (out, events)
    }
}

/// What a call does.
enum Op {
    Push(Samples16Or32, u32),
    Commit,
    Clear,
    Finish,
}

enum Samples16Or32 {
    I16(Vec<i16>),
    F32(Vec<f32>),
}

/// One call of a stream, off the JavaScript thread; refused arguments reject it.
pub struct Step {
    shared: Arc<Shared>,
    ticket: u64,
    op: std::result::Result<Op, Option<Failure>>,
    failure: Option<Failure>,
}

impl Task for Step {
    type Output = Vec<StreamEvent>;
    type JsValue = Vec<StreamEvent>;

    fn compute(&mut self) -> Result<Vec<StreamEvent>> {
        let (op, refused) = match std::mem::replace(&mut self.op, Err(None)) {
            Ok(op) => (Some(op), None),
            Err(f) => (None, f),
        };
        let (out, events) = self.shared.in_turn(self.ticket, |s| match op {
            // A refused argument still takes its turn, so later calls are not held up.
            None => Ok(()),
            Some(Op::Push(Samples16Or32::I16(v), rate)) => s.push_pcm_i16(&v, rate),
            Some(Op::Push(Samples16Or32::F32(v), rate)) => s.push_pcm_f32(&v, rate),
            Some(Op::Commit) => s.commit().map(drop),
            Some(Op::Clear) => {
                s.clear();
                Ok(())
            }
            Some(Op::Finish) => s.finish(),
        });
        if let Some(f) = refused {
            self.failure = Some(f);
            return Err(Error::from_reason("invalid arguments"));
        }
        out.map(|()| events).map_err(|e| {
            self.failure = Some(e.into());
            Error::from_reason("stream call failed")
        })
    }

    fn resolve(&mut self, _: Env, events: Vec<StreamEvent>) -> Result<Vec<StreamEvent>> {
        Ok(events)
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Vec<StreamEvent>> {
        Err(self.failure.take().map_or(err, |f| to_js(&env, f)))
    }
}

/// A live transcription from `Transcriber.stream()`: push audio as it arrives, read events by
/// `for await (const ev of stream)`, with `stream.on(type, listener)`, or from what each call
/// resolves with; `finish()` at the end.
#[napi]
pub struct LiveStream {
    shared: Arc<Shared>,
}

impl LiveStream {
    /// A stream on `transcriber` with `options` checked here, on the JavaScript thread.
    pub fn open(
        env: &Env,
        transcriber: &core::Transcriber,
        options: Option<&Unknown<'_>>,
    ) -> std::result::Result<Self, Failure> {
        let d = core::StreamOptions::default();
        let mut opts = core::StreamOptions::default();
        if let Some(given) = options.filter(|g| !absent(g)) {
            check_fields(&object(given, "options")?, "options", &STREAM_FIELDS)?;
            // SAFETY: an object whose fields have the types checked above.
            let o = unsafe { StreamOptions::from_napi_value(env.raw(), given.raw()) }
                .map_err(|e| Failure::Type(format!("options: {}", e.reason)))?;
            let ms = |v: Option<f64>, name: &str, default: u32| {
                whole(v, name, 0, u32::MAX.into()).map(|n| n.map_or(default, |n| n as u32))
            };
            opts.language = core::language(o.language.as_deref())?;
            opts.languages = core::language_list(o.languages.as_deref().unwrap_or_default())?;
            opts.threshold = o.threshold.map_or(d.threshold, |t| t as f32);
            opts.silence_ms = ms(o.silence_ms, "silenceMs", d.silence_ms)?;
            opts.end_on_silence = o.end_on_silence.unwrap_or(d.end_on_silence);
            opts.prefix_padding_ms =
                ms(o.prefix_padding_ms, "prefixPaddingMs", d.prefix_padding_ms)?;
            opts.partial_interval_ms = ms(
                o.partial_interval_ms,
                "partialIntervalMs",
                d.partial_interval_ms,
            )?;
            opts.max_turn_ms = ms(o.max_turn_ms, "maxTurnMs", d.max_turn_ms)?;
            opts.word_timestamps = o.word_timestamps.unwrap_or(d.word_timestamps);
            opts.initial_prompt = o.initial_prompt;
            opts.hotwords = core::hotword_list(o.hotwords.as_deref().unwrap_or_default())?;
            opts.max_pending_events = whole(o.max_pending_events, "maxPendingEvents", 1, 1 << 20)?
                .map_or(d.max_pending_events, |n| n as usize);
            if let Some(signal) = &o.signal {
                let token = CancelToken::new();
                crate::signal::follow(env, signal, &token)?;
                opts.cancel = Some(token);
            }
        }
        let stream = transcriber.stream(opts)?;
        Ok(LiveStream {
            shared: Arc::new(Shared {
                state: Mutex::new(State { stream, serving: 0 }),
                turn: Condvar::new(),
                issued: AtomicU64::new(0),
                duration: AtomicU64::new(0f64.to_bits()),
            }),
        })
    }

    fn step(&self, op: std::result::Result<Op, Failure>) -> AsyncTask<Step> {
        let ticket = self.shared.issued.fetch_add(1, Ordering::SeqCst);
        AsyncTask::new(Step {
            shared: self.shared.clone(),
            ticket,
            op: op.map_err(Some),
            failure: None,
        })
    }
}

/// Mono samples from what JavaScript passes: an `Int16Array`, a `Float32Array`, or 16-bit
/// little-endian PCM bytes (`Buffer`, `Uint8Array`, `ArrayBuffer`).
fn samples(env: &Env, audio: &Unknown<'_>) -> std::result::Result<Samples16Or32, Failure> {
    let wrong = || {
        Failure::Type(
            "audio must be an Int16Array, a Float32Array, or 16-bit PCM bytes (Buffer, \
             Uint8Array, ArrayBuffer)"
                .into(),
        )
    };
    let pcm16 = |bytes: &[u8]| {
        if !bytes.len().is_multiple_of(2) {
            return Err(Failure::Core(stenograph::Error::InvalidArgument(format!(
                "{} bytes of 16-bit PCM: an odd count",
                bytes.len()
            ))));
        }
        Ok(Samples16Or32::I16(
            bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ))
    };
    // SAFETY (each conversion): napi checks the value's actual type and fails otherwise.
    if let Ok(a) = unsafe { Int16Array::from_napi_value(env.raw(), audio.raw()) } {
        return Ok(Samples16Or32::I16(a.to_vec()));
    }
    if let Ok(a) = unsafe { Float32Array::from_napi_value(env.raw(), audio.raw()) } {
        return Ok(Samples16Or32::F32(a.to_vec()));
    }
    if let Ok(a) = unsafe { Uint8Array::from_napi_value(env.raw(), audio.raw()) } {
        return pcm16(&a);
    }
    if audio.is_arraybuffer().unwrap_or(false) {
        let a =
            unsafe { ArrayBuffer::from_napi_value(env.raw(), audio.raw()) }.map_err(|_| wrong())?;
        return pcm16(&a);
    }
    Err(wrong())
}

#[napi]
impl LiveStream {
    /// Adds mono audio at `sampleRate` Hz (default 16000): an `Int16Array`, a `Float32Array`,
    /// or 16-bit PCM bytes. Resolves with the events it produced (also delivered to `for
    /// await` and listeners). Rejects once finished, at a changed rate, while too many events
    /// are unread (nothing is taken then), or with an `AbortError` once the signal aborted.
    #[napi(ts_return_type = "Promise<StreamEvent[]>")]
    pub fn push(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Int16Array | Float32Array | Uint8Array | ArrayBuffer")]
        audio: Unknown<'_>,
        sample_rate: Option<f64>,
    ) -> AsyncTask<Step> {
        let op = (|| {
            let rate = whole(sample_rate, "sampleRate", 1, 1_000_000)?.unwrap_or(16_000) as u32;
            Ok(Op::Push(samples(&env, &audio)?, rate))
        })();
        self.step(op)
    }

    /// Ends the turn in progress now: its `speech_stopped` and `final` follow. Resolves with
    /// the events it produced (none when no turn was open).
    #[napi(ts_return_type = "Promise<StreamEvent[]>")]
    pub fn commit(&self) -> AsyncTask<Step> {
        self.step(Ok(Op::Commit))
    }

    /// Drops the turn in progress without decoding it.
    #[napi(ts_return_type = "Promise<StreamEvent[]>")]
    pub fn clear(&self) -> AsyncTask<Step> {
        self.step(Ok(Op::Clear))
    }

    /// Ends the stream: a turn still open is decoded and its words become final. Iteration
    /// ends once its events are read.
    #[napi(ts_return_type = "Promise<StreamEvent[]>")]
    pub fn finish(&self) -> AsyncTask<Step> {
        self.step(Ok(Op::Finish))
    }

    /// Seconds of audio pushed so far (of the calls that have run).
    #[napi(getter)]
    pub fn duration(&self) -> f64 {
        f64::from_bits(self.shared.duration.load(Ordering::Relaxed))
    }
}
