//! What JavaScript callers may pass as audio, turned into an `AudioSource`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use stenograph::audio::AudioSource;

/// Raw samples: interleaved float32 PCM at any rate.
#[napi(object, object_to_js = false)]
pub struct Samples {
    /// Interleaved samples, nominally in [-1, 1].
    pub samples: Float32Array,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Interleaved channels (default 1).
    pub channels: Option<u32>,
}

/// A path, the bytes of an encoded file (`Buffer`/`Uint8Array`), or raw samples; copied
/// here, on the JavaScript thread, so the work can run on another.
pub fn audio_source(input: Either3<String, Uint8Array, Samples>) -> AudioSource {
    match input {
        Either3::A(path) => AudioSource::from_path(path),
        Either3::B(bytes) => AudioSource::from_bytes(bytes.to_vec()),
        Either3::C(s) => AudioSource::from_pcm_f32(
            s.samples.to_vec(),
            s.sample_rate,
            u16::try_from(s.channels.unwrap_or(1)).unwrap_or(u16::MAX),
        ),
    }
}
