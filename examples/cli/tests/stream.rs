//! `stenograph stream` end to end with the real tiny.en: a file, and raw audio on stdin.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::speech;
use serde_json::Value;

const SAID: &str = "Please call the customer back before noon tomorrow.";

/// `SAID` from espeak-ng, with a second of silence after it, as 16 kHz mono 16-bit samples.
fn said(dir: &std::path::Path) -> (std::path::PathBuf, Vec<i16>) {
    let raw = speech(dir, "said-22k.wav", SAID);
    let mut samples = stenograph::audio::Audio::from_path(&raw)
        .unwrap()
        .into_samples();
    samples.extend(std::iter::repeat_n(0.0, 16_000));
    let pcm = samples.iter().map(|&x| (x * 32_767.0) as i16).collect();
    (raw, pcm)
}

/// The JSON events printed, one per line.
fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The event types in order, and the final text.
fn check(events: &[Value]) {
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"speech_started"), "{types:?}");
    let stopped = types.iter().position(|t| *t == "speech_stopped").unwrap();
    assert_eq!(types[stopped + 1..], ["final"], "{types:?}");
    let text = events.last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(text.contains("customer back before noon"), "{text}");
    let start = events[0]["at"].as_f64().unwrap();
    assert!(start > 0.0 && start < 0.6, "{start}");
}

#[test]
fn streams_a_file_and_stdin_as_json_events() {
    let dir = tempfile::tempdir().unwrap();
    let (file, pcm) = said(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .arg("stream")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(&events(&out.stdout));

    let mut child = Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .args(["stream", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut stdin = child.stdin.take().unwrap();
    // Odd-sized writes: a sample may be split between two reads.
    for piece in bytes.chunks(3_333) {
        stdin.write_all(piece).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(&events(&out.stdout));

    // Not audio: an error, exit 1.
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"not audio at all").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .arg("stream")
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
}
