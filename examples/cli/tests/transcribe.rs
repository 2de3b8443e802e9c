//! `stenograph transcribe` end to end with the real tiny.en (fetched into the default cache).

use std::process::Command;

fn speech(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "140", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng (installed by .ci/run)");
    assert!(status.success());
    path
}

/// `a.wav` and `b.wav`, one sentence each.
fn two_clips(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    (
        speech(
            dir,
            "a.wav",
            "Please call the customer back before noon tomorrow.",
        ),
        speech(
            dir,
            "b.wav",
            "The meeting has been moved to Thursday afternoon.",
        ),
    )
}

#[test]
fn transcribes_files_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_clips(dir.path());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_stenograph"))
            .arg("transcribe")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let a_str = a.to_str().unwrap();
    let text = run(&[a_str]);
    assert!(text.to_lowercase().contains("customer back"), "{text}");
    let srt = run(&[a_str, "-f", "srt"]);
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:0"), "{srt}");
    let vtt = run(&[a_str, "-f", "vtt"]);
    assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
    let v: serde_json::Value =
        serde_json::from_str(&run(&[a_str, "-f", "verbose_json", "--word-timestamps"])).unwrap();
    assert_eq!(v["language"], "english");
    assert!(v["words"].as_array().unwrap().len() >= 8);
    let tsv = run(&[a_str, "-f", "tsv"]);
    assert!(tsv.starts_with("start\tend\ttext\n"), "{tsv}");

    // Two files, two jobs, into a directory.
    let out = dir.path().join("out");
    run(&[
        a_str,
        b.to_str().unwrap(),
        "--jobs",
        "2",
        "-f",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    let b_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("b.json")).unwrap()).unwrap();
    assert!(
        b_json["text"].as_str().unwrap().contains("Thursday"),
        "{b_json}"
    );
    assert!(out.join("a.json").exists());
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.mp3");
    std::fs::write(&bad, "just text").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .args(["transcribe", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.mp3: not audio"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn batch_transcribes_each_file_and_reports_the_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_clips(dir.path());
    let junk = dir.path().join("notes.wav");
    std::fs::write(&junk, b"these are not the samples you are looking for").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .args(["transcribe", "--batch"])
        .args([&a, &junk, &b])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("notes.wav"), "{stderr}");
    let a_at = stdout.find("a.wav <==").expect("a's transcript");
    let b_at = stdout.find("b.wav <==").expect("b's transcript");
    assert!(a_at < b_at && !stdout.contains("notes.wav"), "{stdout}");
    assert!(
        stdout[a_at..b_at].to_lowercase().contains("customer back"),
        "{stdout}"
    );
    assert!(stdout[b_at..].contains("Thursday"), "{stdout}");
}
