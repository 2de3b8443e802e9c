//! Helpers for this workspace's tests, benchmarks and fuzzers (feature `test-support`): not a
//! stable API, and absent from normal builds.

pub mod eval;
pub mod signals;

use std::path::Path;
use std::sync::Arc;

use whisper_rs::WhisperContext;

use crate::error::Result;
use crate::model::{FetchOptions, Model};

pub use crate::model::random::write_random_model;

/// Whisper's mel filters for a 400-point FFT of 16 kHz audio: `n_mels` rows of 201 weights.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    crate::model::mel::mel_filters(n_mels)
}

/// Downloads `url` to `dest` with the same machinery as [`Model::fetch_file`]: resumes a
/// partial download left at `dest` + `.partial`, retries broken connections, and keeps the file
/// only if its SHA-256 is `sha256`.
pub fn download_file(url: &str, dest: &Path, sha256: &str, opts: &FetchOptions) -> Result<()> {
    crate::model::download_file(url, dest, sha256, opts)
}

/// The voice embedding of a whole utterance (16 kHz mono samples) by the encoder speakers by
/// voice use: its partials averaged, as Resemblyzer's `embed_utterance`; unit length.
pub fn voice_embedding(samples: &[f32]) -> Result<Vec<f32>> {
    let encoder = crate::transcribe::voices::voice_encoder()?;
    Ok(encoder.embed_many(&[samples]).swap_remove(0))
}

/// The model's whisper.cpp context, for baselines that drive whisper.cpp directly.
pub fn whisper_context(model: &Model) -> &Arc<WhisperContext> {
    model.context()
}

/// The index of the largest logit (the first of equals): greedy decoding's next token.
///
/// ```
/// assert_eq!(stenograph::testing::greedy_token(&[0.1, 2.0, -1.0, 2.0]), 1);
/// ```
pub fn greedy_token(logits: &[f32]) -> i32 {
    let mut best = 0;
    for (i, v) in logits.iter().enumerate() {
        if *v > logits[best] {
            best = i;
        }
    }
    best as i32
}
