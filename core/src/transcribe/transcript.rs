//! The typed result of a transcription.

use serde::{Deserialize, Serialize};

use super::Task;
use crate::audio::Warning;

/// One word with its timing, from token-level timestamps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Word {
    /// The word as decoded, with its leading space if it had one.
    pub word: String,
    /// Start in seconds from the beginning of the original audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// Mean probability of the word's tokens.
    pub probability: f32,
    /// Who said it, when speakers were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// Said while another speaker was talking (speakers from channels).
    #[serde(default, skip_serializing_if = "is_false")]
    pub overlap: bool,
    /// How many of the segment's tokens make up the word.
    #[serde(skip)]
    pub(crate) token_count: usize,
}

/// A stretch of speech and its text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Segment {
    /// Position in the transcript, from 0.
    pub id: usize,
    /// Start in seconds from the beginning of the original audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// The text, with whisper's leading space.
    pub text: String,
    /// Token ids, special tokens excluded.
    pub tokens: Vec<i32>,
    /// Mean log-probability of the tokens.
    pub avg_logprob: f32,
    /// Sampling temperature of the window's first decode (whisper.cpp re-decodes a window
    /// that fails its checks at higher temperatures without reporting which one it kept).
    #[serde(default)]
    pub temperature: f32,
    /// Size of the text over its zlib-compressed size: high values mean repetition.
    pub compression_ratio: f32,
    /// Probability that the window holds no speech.
    pub no_speech_prob: f32,
    /// Words with timings (empty unless word timestamps were asked for).
    pub words: Vec<Word>,
    /// Who said it, when speakers were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// Some of it was said while another speaker was talking (speakers from channels).
    #[serde(default, skip_serializing_if = "is_false")]
    pub overlap: bool,
}

/// A finished transcription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transcript {
    /// All segments' text, trimmed.
    pub text: String,
    /// Language of the text (ISO 639-1), given or detected.
    pub language: String,
    /// Probability of the detected language (1.0 when it was given).
    pub language_probability: f32,
    /// Length of the audio in seconds.
    pub duration: f64,
    /// Whether the text is a transcription or a translation to English.
    #[serde(default)]
    pub task: Task,
    /// The segments in order.
    pub segments: Vec<Segment>,
    /// The speakers' names in channel order, when speakers were asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speakers: Vec<String>,
    /// Problems decoding the input that were tolerated (e.g. a file cut off early: the text
    /// covers only what was there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
