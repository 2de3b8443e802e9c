//! Any bytes through the audio front end (every container and codec the core reads): an
//! error or audio, never a panic out of the API, and memory within libFuzzer's RSS limit.
//! Codec-library panics the core catches are recorded, not fatal (see `panics.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use steno::audio::{Audio, AudioSource, DecodeOptions};

mod panics;

fuzz_target!(|data: &[u8]| panics::run("decode", data, || {
    let source = AudioSource::from_bytes(data.to_vec());
    if let Ok(audio) = Audio::decode(source, &DecodeOptions::default()) {
        assert!(audio.samples().iter().all(|s| s.is_finite()));
        assert!(audio.duration_seconds() >= 0.0);
    }
    let _ = steno::audio::probe(AudioSource::from_bytes(data.to_vec()));
}));
