//! # Stenograph
//!
//! Embeddable speech-to-text. This crate turns any common audio input into the 16 kHz mono
//! samples Whisper needs ([`audio`]), with one typed [`Error`] for everything that can fail.
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
mod error;
pub mod eval;
pub mod model;

pub use error::{Error, Result};
