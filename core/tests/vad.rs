//! Speech detection: the Silero network against faster-whisper's own ONNX Runtime run of the
//! same weights, quiet speech under noise, and VAD weights that do not load.

mod common;

use std::path::Path;
use std::process::Command;

use common::{parity_python, reference, rms};
use stenograph::model::{fetch_vad_weights, FetchOptions};
use stenograph::transcribe::{Silero, SileroRun, Transcriber};
use stenograph::Error;

fn silero() -> Silero {
    let path = fetch_vad_weights(&FetchOptions::default()).expect("Silero weights from PyPI");
    Silero::load(&path).unwrap()
}

/// Deterministic noise, roughly pink (white noise through a one-pole low-pass), at `level` RMS.
fn noise(len: usize, level: f32, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut lp = 0.0f32;
    let raw: Vec<f32> = (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let white = (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            lp = 0.9 * lp + 0.1 * white;
            lp + 0.05 * white
        })
        .collect();
    let k = level / rms(&raw) as f32;
    raw.iter().map(|v| v * k).collect()
}

/// `speech` scaled to `level` RMS.
fn at_level(speech: &[f32], level: f32) -> Vec<f32> {
    let k = level / rms(speech) as f32;
    speech.iter().map(|v| v * k).collect()
}

/// Share of the samples in `from..to` that the spans of `probs` (0.5 on, 0.35 off) cover.
fn covered(probs: &[f32], from: usize, to: usize) -> f64 {
    let mut on = false;
    let mut hit = 0;
    for (i, &p) in probs.iter().enumerate() {
        on = if on { p >= 0.35 } else { p >= 0.5 };
        let (a, b) = (i * 512, (i + 1) * 512);
        if on {
            hit += b.min(to).saturating_sub(a.max(from));
        }
    }
    hit as f64 / (to - from) as f64
}

#[test]
fn probabilities_match_faster_whisper() {
    let speech = reference();
    let mut audio = vec![0.0f32; 8_000];
    audio.extend(at_level(speech, 0.1));
    audio.extend(noise(24_000, 0.01, 1));
    let quiet: Vec<f32> = at_level(speech, 0.02)
        .iter()
        .zip(noise(speech.len(), 0.01, 2))
        .map(|(s, n)| s + n)
        .collect();
    audio.extend(quiet);
    audio.extend(vec![0.0f32; 1_000]);

    let ours = silero().probabilities(&audio);
    let path = common::dir().join("vad-input.f32");
    let bytes: Vec<u8> = audio.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&path, bytes).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity/silero_probabilities.py");
    let out = Command::new(parity_python())
        .arg(script)
        .arg(&path)
        .output()
        .expect("run faster-whisper's VAD");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<f32> = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(ours.len(), audio.len().div_ceil(512));
    assert_eq!(ours.len(), theirs.len());
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    eprintln!("{} chunks, largest difference {worst:e}", ours.len());
    assert!(worst < 1e-4, "probabilities differ by up to {worst}");
    // The comparison means something only if the probabilities span speech and non-speech.
    let max = ours.iter().copied().fold(0.0f32, f32::max);
    let min = ours.iter().copied().fold(1.0f32, f32::min);
    assert!(max > 0.9 && min < 0.1, "probabilities {min}..{max}");
}

#[test]
fn quiet_speech_under_noise_is_found_and_noise_alone_is_not() {
    let speech = reference();
    let net = silero();
    // Speech 6 dB below the noise around it: the level of a quiet voice on a noisy line.
    let level = 0.05;
    let mut audio = noise(3 * 16_000, level, 3);
    let from = audio.len();
    audio.extend(
        at_level(speech, level / 2.0)
            .iter()
            .zip(noise(speech.len(), level, 4))
            .map(|(s, n)| s + n),
    );
    let to = audio.len();
    audio.extend(noise(3 * 16_000, level, 5));
    let probs = net.probabilities(&audio);
    let speech_found = covered(&probs, from, to);
    let noise_taken = covered(&probs, 16_000, from) + covered(&probs, to + 16_000, audio.len());
    eprintln!("speech covered {speech_found:.2}, noise taken {noise_taken:.2}");
    assert!(speech_found > 0.8, "{speech_found:.2} of the speech found");
    assert!(noise_taken < 0.05, "{noise_taken:.2} of the noise taken");

    assert!(net
        .probabilities(&vec![0.0; 16_000])
        .iter()
        .all(|&p| p < 0.1));
    assert!(net.probabilities(&[]).is_empty());
}

#[test]
fn audio_in_pieces_scores_as_the_whole() {
    let speech = reference();
    let net = std::sync::Arc::new(silero());
    let mut audio = noise(16_000, 0.01, 7);
    audio.extend_from_slice(speech);
    audio.extend(noise(40_000, 0.01, 8));
    let whole = net.probabilities(&audio);
    let mut run = SileroRun::new(net.clone());
    let mut pieces = Vec::new();
    let mut at = 0;
    // Pieces of 1 to 9,000 samples, as a live stream sends them.
    for size in [1usize, 511, 512, 513, 9_000, 160, 3_200].iter().cycle() {
        if at >= audio.len() {
            break;
        }
        let end = (at + size).min(audio.len());
        pieces.extend(run.push(&audio[at..end]));
        at = end;
    }
    // The last partial chunk waits for more audio; everything before it is scored the same.
    assert_eq!(pieces.len(), audio.len() / 512);
    let diff = whole
        .iter()
        .zip(&pieces)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-5, "{diff}");
    assert!(pieces.iter().any(|&p| p > 0.9) && pieces.iter().any(|&p| p < 0.1));
}

#[test]
fn weights_that_do_not_load_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.onnx");
    assert!(matches!(
        Silero::load(&missing),
        Err(Error::ModelNotFound { .. })
    ));
    let text = dir.path().join("text.onnx");
    std::fs::write(&text, "not a network").unwrap();
    let err = Silero::load(&text).unwrap_err();
    assert!(matches!(err, Error::InvalidModel { .. }), "{err}");
    // Whisper weights are not VAD weights either.
    let whisper = stenograph::model::Model::resolve("tiny.en").unwrap();
    let err = Transcriber::builder()
        .model(whisper.clone())
        .vad_weights(&text)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("Silero"), "{err}");
    let ggml = stenograph::model::cache_dir(None).join("ggml-tiny.en.bin");
    assert!(ggml.is_file());
    let err = Silero::load(&ggml).unwrap_err();
    assert!(matches!(err, Error::InvalidModel { .. }), "{err}");
}
