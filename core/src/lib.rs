//! # Stenograph
//!
//! Embeddable speech-to-text: any common audio input ([`audio`]) and a Whisper model
//! ([`model`]) in, a typed transcript ([`transcribe`]) out, with one typed [`Error`] for
//! everything that can fail.
//!
//! ```no_run
//! use stenograph::audio::Audio;
//! let audio = Audio::from_path("call.mp3")?;
//! assert_eq!(stenograph::audio::SAMPLE_RATE, 16_000);
//! println!("{} samples", audio.samples().len());
//! # Ok::<(), stenograph::Error>(())
//! ```

#![warn(missing_docs)]

pub mod audio;
mod device;
mod error;
pub mod model;
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;
pub mod transcribe;

pub use device::{cpu_backend, gpus, CpuBackend, Device, Gpu, GPU_BUILD};
pub use error::{Error, ErrorCategory, Result};

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
