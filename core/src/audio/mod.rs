//! The audio front end: any common audio input → 16 kHz mono f32 samples, as Whisper needs.
//!
//! Pipeline: [`AudioSource`] (path, bytes, reader or PCM) → container demuxing and decoding
//! (symphonia; Opus through libopus) → [`Downmixer`] → [`Resampler`] (rubato FFT) → samples.
//! [`AudioStream`] runs it chunk by chunk in bounded memory; [`Audio`] collects the result.

mod ahead;
mod clip;
mod decode;
mod info;
mod mix;
mod resample;
mod source;
mod stream;
mod wav;

pub use clip::{probe, Audio};
pub use info::{AudioInfo, Warning};
pub use mix::{downmix, Downmixer};
pub use resample::Resampler;
pub use source::{AudioSource, Pcm, PcmSamples};
pub use stream::{AudioStream, DecodeOptions, Truncation};
pub use wav::{WavFormat, WavSink};

/// The sample rate of everything the front end produces, in Hz.
pub const SAMPLE_RATE: u32 = 16_000;
/// Highest source sample rate accepted, in Hz; higher values are treated as a corrupt header.
pub const MAX_SAMPLE_RATE: u32 = 1_000_000;
/// Most source channels accepted; more are treated as a corrupt header.
pub const MAX_CHANNELS: usize = 64;
