//! Helpers shared by the CLI's end-to-end tests.
//! Each test binary uses some of them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `text` spoken by espeak-ng's en-us voice into `dir/name` (22,050 Hz mono WAV).
pub fn speech(dir: &Path, name: &str, text: &str) -> PathBuf {
    speech_as(dir, name, text, "en-us")
}

/// `text` spoken by the espeak-ng `voice` into `dir/name` (22,050 Hz mono WAV).
pub fn speech_as(dir: &Path, name: &str, text: &str, voice: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "140", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng (installed by .ci/run)");
    assert!(status.success());
    path
}

/// Writes 16 kHz 16-bit `channels`-channel WAV `path` from interleaved samples in [-1, 1].
pub fn write_wav(path: &Path, channels: u16, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for x in samples {
        w.write_sample((x * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}
