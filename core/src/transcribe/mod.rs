//! Transcription: 16 kHz audio in, a typed [`Transcript`] out, many calls at once on one model.

mod batch;
mod blocks;
mod builder;
mod call;
mod channels;
mod events;
mod formats;
pub(crate) mod hooks;
mod hotwords;
mod live;
pub(crate) mod nn;
mod options;
mod pool;
mod priority;
mod schedule;
mod segments;
mod speakers;
mod templates;
mod timeline;
mod transcript;
mod vad;
pub(crate) mod voices;
mod watch;
mod window;

use std::path::Path;
use std::sync::{Arc, Mutex};

pub use builder::{ModelRef, TranscriberBuilder, DEFAULT_MODEL};
pub use events::SoundEvents;
pub use formats::Format;
pub use hotwords::{hotword_list, hotwords, MAX_HOTWORDS, MAX_HOTWORD_CHARS, MAX_HOTWORD_TOKENS};
pub use live::{LiveStream, PartialWeights, StreamEvent, StreamOptions, Utterance};
pub use options::{
    language, language_list, languages, CancelToken, Decoding, ProgressCallback, SegmentCallback,
    Task, TranscribeOptions, MAX_BEAMS, MAX_PROMPT_BYTES,
};
pub use speakers::{speaker_name_list, speaker_names, Speakers, MAX_SPEAKER_NAME};
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

    /// Transcribes `samples` with word times, tells the speakers apart by voice
    /// ([`voices`]) and gives each word and segment its speaker.
    fn transcribe_voices(
        &self,
        samples: &[f32],
        count: Option<usize>,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let encoder = voices::voice_encoder()?;
        let mut plain = opts.clone();
        plain.speakers = Speakers::None;
        plain.word_timestamps = true;
        let mut t = self.transcribe_samples(samples, &plain)?;
        let spans = vad::speech_spans(&self.inner.vad, samples);
        let count = count.map_or(
            voices::diarize::Count::Auto,
            voices::diarize::Count::Exactly,
        );
        let turns = voices::diarize::diarize(&encoder, samples, &spans, count);
        let found = turns.iter().map(|t| t.speaker + 1).max().unwrap_or(0);
        let names = speakers::names(&opts.speaker_names, found);
        t.segments = voices::attribute::attribute(std::mem::take(&mut t.segments), &turns, &names);
        if !opts.word_timestamps {
            t.segments.iter_mut().for_each(|s| s.words.clear());
        }
        t.speakers = names;
        Ok(t)
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

    /// Transcribes decoded audio; with [`Speakers::Channels`], each of its channels (see
    /// [`transcribe_channels`](Self::transcribe_channels)).
    pub fn transcribe(&self, audio: &Audio, opts: &TranscribeOptions) -> Result<Transcript> {
        let mut t = match opts.speakers {
            Speakers::Channels => self.transcribe_channels(&audio.channels(), opts)?,
            _ => self.transcribe_samples(audio.samples(), opts)?,
        };
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
        let decode = DecodeOptions {
            separate_channels: opts.speakers == Speakers::Channels,
            ..DecodeOptions::default()
        };
        self.transcribe_stream(AudioStream::open(source, &decode)?, opts)
    }

    /// Transcribes 16 kHz mono samples (with [`Speakers::Channels`], as one channel: its
    /// speech goes to the first speaker, and the transcript says so in a warning).
    ///
    /// With a cancel token the samples are copied and transcribed on their own thread, so that
    /// `cancel()` returns control at once (see [`transcribe_stream`](Self::transcribe_stream)).
    pub fn transcribe_samples(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        if opts.speakers == Speakers::Channels {
            return self.transcribe_channels(&[samples], opts);
        }
        if let Speakers::Voices { count } = opts.speakers {
            return self.transcribe_voices(samples, count, opts);
        }
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
    ///
    /// With [`Speakers::Channels`] the stream must be opened with
    /// [`separate_channels`](DecodeOptions::separate_channels) (a mono stream may be mixed):
    /// each channel is then a speaker, as in [`transcribe_channels`](Self::transcribe_channels).
    pub fn transcribe_stream(
        &self,
        stream: AudioStream,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let by_channel = match (opts.speakers, stream.separate_channels()) {
            (Speakers::Channels, false) if stream.info().channels > 1 => {
                return Err(Error::InvalidArgument(format!(
                    "{}: speakers by channel need the stream opened with \
                     DecodeOptions::separate_channels",
                    stream.input_name()
                )))
            }
            (Speakers::Channels, _) => true,
            (Speakers::None, true) => {
                return Err(Error::InvalidArgument(format!(
                    "{}: the stream keeps its channels apart; transcribe it with speakers by \
                     channel, or open it without DecodeOptions::separate_channels",
                    stream.input_name()
                )))
            }
            (Speakers::None, false) => false,
            (Speakers::Voices { .. }, _) => {
                // The whole call is needed to group voices: decoded into memory.
                let mut samples = Vec::new();
                for chunk in stream {
                    samples.extend_from_slice(&chunk?);
                }
                return self.transcribe_samples(&samples, opts);
            }
        };
        let run = move |t: &Transcriber, opts: &TranscribeOptions| {
            if by_channel {
                t.stream_channels(stream, opts)
            } else {
                t.stream_blocks(stream, opts)
            }
        };
        if opts.cancel.is_none() {
            return run(self, opts);
        }
        self.check(opts)?;
        self.detached(opts, run)
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
        let tokens = self.hotword_tokens(opts)?.len();
        if tokens > MAX_HOTWORD_TOKENS {
            return Err(Error::InvalidArgument(format!(
                "the hotwords take {tokens} tokens; at most {MAX_HOTWORD_TOKENS}"
            )));
        }
        Ok(())
    }
}
