//! Shared fixtures for Stenograph's benchmarks: speech in the formats users upload.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The formats benchmarked: file extension and ffmpeg encoder arguments.
pub const FORMATS: [(&str, &[&str]); 4] = [
    ("wav", &[]),
    ("mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("flac", &[]),
    ("m4a", &["-c:a", "aac", "-b:a", "128k"]),
];

fn run(tool: &str, args: &[&str]) {
    let status = Command::new(tool)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install it with .ci/run's packages): {e}"));
    assert!(status.success(), "{tool} {args:?} failed");
}

/// Creates (once) `seconds` of 44.1 kHz stereo speech in each of [`FORMATS`] under `dir`,
/// returning `(extension, path)` pairs.
pub fn speech_fixtures(dir: &Path, seconds: u32) -> Vec<(&'static str, PathBuf)> {
    std::fs::create_dir_all(dir).expect("fixture dir");
    let seed = dir.join("seed.wav");
    if !seed.exists() {
        run(
            "espeak-ng",
            &[
                "-v",
                "en-us",
                "-w",
                seed.to_str().unwrap(),
                "The quarterly numbers are in, and the team beat its target by a wide margin. \
                 Please call the customer back before noon and confirm the delivery date.",
            ],
        );
    }
    let secs = seconds.to_string();
    FORMATS
        .iter()
        .map(|(ext, args)| {
            let path = dir.join(format!("speech-{seconds}s.{ext}"));
            if !path.exists() {
                let mut all = vec!["-nostdin", "-loglevel", "error", "-y", "-stream_loop", "-1"];
                all.extend_from_slice(&["-i", seed.to_str().unwrap(), "-t", &secs]);
                all.extend_from_slice(&["-ac", "2", "-ar", "44100"]);
                all.extend_from_slice(args);
                all.push(path.to_str().unwrap());
                run("ffmpeg", &all);
            }
            (*ext, path)
        })
        .collect()
}
