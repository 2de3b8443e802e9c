//! Speakers told apart by their voices: a speaker embedding per stretch of speech, grouped.

pub(crate) mod attribute;
pub(crate) mod cluster;
pub(crate) mod diarize;
pub(crate) mod encoder;
pub(crate) mod torch_file;

use std::sync::{Arc, Mutex};

use encoder::VoiceEncoder;

use crate::error::{Error, Result};
use crate::model::{fetch_speaker_weights, FetchOptions};

/// The voice encoder, loaded once per process on first use (`$STENOGRAPH_SPEAKER_MODEL`, the
/// cache, or Resemblyzer's wheel on PyPI).
pub(crate) fn voice_encoder() -> Result<Arc<VoiceEncoder>> {
    static LOADED: Mutex<Option<Arc<VoiceEncoder>>> = Mutex::new(None);
    let mut slot = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = slot.as_ref() {
        return Ok(e.clone());
    }
    let path = fetch_speaker_weights(&FetchOptions::default())?;
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let encoder = VoiceEncoder::from_checkpoint(&bytes).map_err(|reason| Error::InvalidModel {
        model: path.display().to_string(),
        reason,
    })?;
    let encoder = Arc::new(encoder);
    *slot = Some(encoder.clone());
    Ok(encoder)
}
