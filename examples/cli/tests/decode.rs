//! `stenograph decode` end to end, as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn stenograph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .args(args)
        .output()
        .expect("run stenograph")
}

/// A 44.1 kHz stereo WAV holding `seconds` of a 440 Hz tone.
fn tone_wav(path: &Path, seconds: f64) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(44_100.0 * seconds) as usize {
        let v = (0.3 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 44_100.0).sin() * 32767.0)
            as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn decodes_to_16k_mono_wav() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.wav"), dir.path().join("out.wav"));
    tone_wav(&input, 3.0);
    let out = stenograph(&[
        "decode",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader = hound::WavReader::open(&output).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    assert_eq!(reader.duration(), 48_000);

    let out = stenograph(&[
        "decode",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--float",
    ]);
    assert!(out.status.success());
    let spec = hound::WavReader::open(&output).unwrap().spec();
    assert_eq!(
        (spec.bits_per_sample, spec.sample_format),
        (32, hound::SampleFormat::Float)
    );
}

#[test]
fn info_prints_metadata_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    tone_wav(&input, 2.0);
    let out = stenograph(&["decode", input.to_str().unwrap(), "--info"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["container"], "wave");
    assert_eq!(json["codec"], "pcm_s16le");
    assert_eq!(json["sample_rate"], 44_100);
    assert_eq!(json["channels"], 2);
    assert_eq!(json["frames"], 88_200);
    assert_eq!(json["duration_seconds"], 2.0);
}

#[test]
fn raw_samples_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    tone_wav(&input, 1.0);
    let out = stenograph(&["decode", input.to_str().unwrap(), "-o", "-", "--raw"]);
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 16_000 * 4);
    let out = stenograph(&["decode", input.to_str().unwrap(), "-o", "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --raw for stdout"));
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.mp3");
    std::fs::write(&input, "not audio at all, just some text\n".repeat(50)).unwrap();
    let output = dir.path().join("out.wav");
    let out = stenograph(&[
        "decode",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("notes.mp3: not audio"), "{stderr}");
    assert!(!output.exists(), "no partial output is left behind");
}

#[test]
fn truncation_warns_or_fails_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.wav"), dir.path().join("out.wav"));
    tone_wav(&input, 4.0);
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let (i, o) = (input.to_str().unwrap(), output.to_str().unwrap());

    let out = stenograph(&["decode", i, "-o", o]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("truncated"),
        "{stderr}"
    );
    // Half the file minus half the 44-byte header: 11 frames short of 2 s at 44.1 kHz.
    assert_eq!(hound::WavReader::open(&output).unwrap().duration(), 31_998);

    let out = stenograph(&["decode", i, "-o", o, "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated audio"));
}

#[test]
fn max_seconds_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.wav"), dir.path().join("out.wav"));
    tone_wav(&input, 3.0);
    let (i, o) = (input.to_str().unwrap(), output.to_str().unwrap());
    let out = stenograph(&["decode", i, "-o", o, "--max-seconds", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit of 2.0 s"));
}
