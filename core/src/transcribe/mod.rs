//! Transcription: 16 kHz audio in, a typed [`Transcript`] out, many calls at once on one model.

mod batch;
mod blocks;
mod builder;
mod call;
mod formats;
pub(crate) mod hooks;
mod live;
mod options;
mod pool;
mod priority;
mod schedule;
mod segments;
mod templates;
mod timeline;
mod transcript;
mod vad;
mod watch;
mod window;

use std::path::Path;
use std::sync::{Arc, Mutex};

pub use builder::{ModelRef, TranscriberBuilder, DEFAULT_MODEL};
pub use formats::Format;
pub use live::{LiveStream, PartialWeights, StreamEvent, StreamOptions, Utterance};
pub use options::{
    language, language_list, languages, CancelToken, Decoding, ProgressCallback, SegmentCallback,
    Task, TranscribeOptions, MAX_BEAMS, MAX_PROMPT_BYTES,
};
pub use transcript::{Segment, Transcript, Word};
pub use vad::{Silero, SileroRun};
pub use watch::OnCancel;

use crate::audio::{Audio, AudioSource, AudioStream, DecodeOptions};
use crate::error::{Error, Result};
use crate::model::Model;
use pool::StatePool;

struct Inner {
    model: Model,
    pool: StatePool,
    /// States of live streams' decodes, apart from batch calls' so a stream never waits
    /// behind a long file.
    live_pool: StatePool,
    /// The weights live streams' partial decodes run on.
    preview: Arc<live::Preview>,
    /// Live decodes running now; batch passes hold back for them.
    live_first: priority::LiveFirst,
    /// Live streams open now.
    live_streams: std::sync::atomic::AtomicUsize,
    /// Finds the speech to decode.
    vad: vad::Detector,
    /// Why the built-in detector is in use, when it is.
    vad_fallback: Option<String>,
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

impl Transcriber {
    /// A builder with the defaults (tiny.en, automatic device).
    pub fn builder() -> TranscriberBuilder {
        TranscriberBuilder::default()
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        &self.inner.model
    }

    /// The storage type of the weights live streams' partial decodes use now: the model's
    /// own (`f16`, …) until the copy [`PartialWeights`] asks for is ready, then its type
    /// (`q8_0`).
    pub fn partial_weights(&self) -> String {
        self.inner.preview.weights()
    }

    /// Transcribes decoded audio.
    pub fn transcribe(&self, audio: &Audio, opts: &TranscribeOptions) -> Result<Transcript> {
        let mut t = self.transcribe_samples(audio.samples(), opts)?;
        t.warnings.splice(0..0, audio.warnings().iter().cloned());
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

    /// A new call's record, with the warnings every transcript of these options carries.
    fn call(&self, opts: &TranscribeOptions) -> call::Call {
        let warnings = match &self.inner.vad_fallback {
            Some(reason) if opts.vad => vec![crate::audio::Warning::BuiltInVad {
                reason: reason.clone(),
            }],
            _ => Vec::new(),
        };
        call::Call::new(opts, warnings)
    }

    /// Checks options against the model before any work.
    fn check(&self, opts: &TranscribeOptions) -> Result<()> {
        if opts.cancelled() {
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
            if opts.language.is_none()
                && !opts.languages.is_empty()
                && !opts.languages.iter().any(|l| l == "en")
            {
                return Err(Error::InvalidArgument(format!(
                    "languages {} asked of an English-only model",
                    opts.languages.join(", ")
                )));
            }
        }
        Ok(())
    }
}
