//! What a transcription should do.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::transcript::Segment;

/// Transcribe in the spoken language, or translate to English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Task {
    /// Text in the language spoken (default).
    #[default]
    Transcribe,
    /// English text whatever the language spoken (multilingual models only).
    Translate,
}

/// How tokens are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decoding {
    /// The most likely token each step (fastest).
    Greedy,
    /// Beam search with this many beams, 1 to 8 (whisper.cpp's default is 5).
    Beam(usize),
}

/// Shares a stop request with a running transcription; clones share the flag.
///
/// ```
/// let token = stenograph::transcribe::CancelToken::new();
/// let other = token.clone();
/// other.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the transcriptions holding this token to stop; they return `Error::Cancelled`.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A progress callback: percent done, 0–100.
pub type ProgressCallback = Arc<dyn Fn(u8) + Send + Sync>;
/// A callback that receives each segment as soon as it is decoded.
pub type SegmentCallback = Arc<dyn Fn(&Segment) + Send + Sync>;

/// Options of one transcription.
///
/// ```
/// use stenograph::transcribe::{Decoding, TranscribeOptions};
/// let opts = TranscribeOptions {
///     language: Some("en".into()),
///     decoding: Decoding::Beam(5),
///     word_timestamps: true,
///     ..TranscribeOptions::default()
/// };
/// assert!(opts.temperature_fallback);
/// ```
#[derive(Clone)]
pub struct TranscribeOptions {
    /// Spoken language as an ISO 639-1 code (`en`, `de`, …); `None` detects it (English-only
    /// models always use `en`).
    pub language: Option<String>,
    /// Transcribe or translate to English.
    pub task: Task,
    /// Text that primes the decoder: names, jargon, spelling and punctuation style.
    pub initial_prompt: Option<String>,
    /// Greedy or beam search (default greedy).
    pub decoding: Decoding,
    /// Sampling temperature of the first decode, 0.0 (default, most likely tokens) to 1.0.
    pub temperature: f32,
    /// Re-decode at temperatures 0.2, 0.4, … 1.0 when a window fails the checks below
    /// (default on).
    pub temperature_fallback: bool,
    /// Fallback when a window's text compresses better than this ratio (a repetition loop;
    /// default 2.4).
    pub compression_ratio_threshold: f32,
    /// Fallback when a window's mean token log-probability is below this (default −1.0).
    pub logprob_threshold: f32,
    /// Per-word start/end times and probabilities (default off).
    pub word_timestamps: bool,
    /// Prime each window with the text of the previous ones in the same call. Off (default):
    /// a window that goes wrong cannot pull the next ones into its errors or loops, and the
    /// windows of one long input are decoded in parallel on the pool's free states. Never
    /// carries over between calls.
    pub condition_on_previous_text: bool,
    /// Decode only detected speech (default on): silence, noise and music then give no text,
    /// and long inputs are cut at pauses into windows of at most 30 s.
    pub vad: bool,
    /// Longest segment in characters, split at word boundaries (default: whisper's own
    /// segmentation).
    pub max_segment_chars: Option<usize>,
    /// Called with the percentage done.
    pub on_progress: Option<ProgressCallback>,
    /// Called with each segment as it is produced.
    pub on_segment: Option<SegmentCallback>,
    /// Stops the transcription when cancelled.
    pub cancel: Option<CancelToken>,
}

impl TranscribeOptions {
    /// Whether this call's token has been cancelled: callbacks stay silent from then on.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            language: None,
            task: Task::Transcribe,
            initial_prompt: None,
            decoding: Decoding::Greedy,
            temperature: 0.0,
            temperature_fallback: true,
            compression_ratio_threshold: 2.4,
            logprob_threshold: -1.0,
            word_timestamps: false,
            condition_on_previous_text: false,
            vad: true,
            max_segment_chars: None,
            on_progress: None,
            on_segment: None,
            cancel: None,
        }
    }
}

impl std::fmt::Debug for TranscribeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscribeOptions")
            .field("language", &self.language)
            .field("task", &self.task)
            .field("initial_prompt", &self.initial_prompt)
            .field("decoding", &self.decoding)
            .field("temperature", &self.temperature)
            .field("temperature_fallback", &self.temperature_fallback)
            .field("word_timestamps", &self.word_timestamps)
            .field("vad", &self.vad)
            .field("max_segment_chars", &self.max_segment_chars)
            .finish_non_exhaustive()
    }
}
