//! What JavaScript callers pass: audio turned into an `AudioSource`, and numbers checked to be
//! whole and in range (JavaScript numbers are doubles: nothing is wrapped or truncated).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use stenograph::audio::AudioSource;
use stenograph::Error as CoreError;

/// Raw samples: interleaved float32 PCM at any rate.
#[napi(object, object_to_js = false)]
pub struct Samples {
    /// Interleaved samples, nominally in [-1, 1].
    pub samples: Float32Array,
    /// Samples per second per channel (a whole number, 1 to 1,000,000).
    pub sample_rate: f64,
    /// Interleaved channels (default 1).
    pub channels: Option<f64>,
}

/// A whole number `name` from `min` to `max`, or `None` when not given.
pub fn whole(
    value: Option<f64>,
    name: &str,
    min: u64,
    max: u64,
) -> std::result::Result<Option<u64>, CoreError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v.fract() == 0.0 && v >= min as f64 && v <= max as f64 => {
            Ok(Some(v as u64))
        }
        Some(v) => Err(CoreError::InvalidArgument(format!(
            "{name} must be a whole number from {min} to {max}, not {v}"
        ))),
    }
}

/// A path, the bytes of an encoded file (`Buffer`/`Uint8Array`), or raw samples; copied
/// here, on the JavaScript thread, so the work can run on another.
pub fn audio_source(
    input: Either3<String, Uint8Array, Samples>,
) -> std::result::Result<AudioSource, CoreError> {
    Ok(match input {
        Either3::A(path) => AudioSource::from_path(path),
        Either3::B(bytes) => AudioSource::from_bytes(bytes.to_vec()),
        Either3::C(s) => {
            let rate = whole(Some(s.sample_rate), "sampleRate", 1, 1_000_000)?.unwrap_or(1);
            let channels = whole(s.channels, "channels", 1, u16::MAX.into())?.unwrap_or(1);
            AudioSource::from_pcm_f32(s.samples.to_vec(), rate as u32, channels as u16)
        }
    })
}
