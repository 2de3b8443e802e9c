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

/// English sentences for accuracy measurements.
pub const SENTENCES: [&str; 8] = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call the customer back before noon tomorrow.",
    "Our quarterly sales grew faster than anyone expected.",
    "She had your dark suit in greasy wash water all year.",
    "Turn left at the second light and park behind the bank.",
    "The meeting has been moved to Thursday afternoon.",
    "I would like to cancel my subscription and get a refund.",
    "Can you send me the invoice for last month again?",
];

/// Speaks each of [`SENTENCES`] with espeak-ng and returns (16 kHz samples, text) pairs.
pub fn speech_set(dir: &Path) -> Vec<(Vec<f32>, &'static str)> {
    std::fs::create_dir_all(dir).expect("fixture dir");
    SENTENCES
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let wav = dir.join(format!("sentence{i}.wav"));
            run(
                "espeak-ng",
                &[
                    "-v",
                    "en-us",
                    "-s",
                    "140",
                    "-w",
                    wav.to_str().unwrap(),
                    text,
                ],
            );
            let audio = stenograph::audio::Audio::from_path(&wav).expect("decode speech");
            (audio.into_samples(), *text)
        })
        .collect()
}

/// Greedy English transcription on one thread.
pub fn transcribe(model: &stenograph::model::Model, samples: &[f32]) -> String {
    use whisper_rs::{FullParams, SamplingStrategy};
    let mut state = stenograph::testing::whisper_context(model)
        .create_state()
        .expect("whisper state");
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_language(Some("en"));
    p.set_n_threads(1);
    p.set_no_context(true);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    state.full(p, samples).expect("inference");
    state
        .as_iter()
        .map(|s| s.to_str_lossy().expect("segment text").into_owned())
        .collect::<String>()
        .trim()
        .to_string()
}
