//! `stenograph transcribe` end to end with the real tiny.en (fetched into the default cache).

mod common;

use std::process::Command;

use common::{speech, speech_as, write_wav};

/// `stenograph transcribe ARGS…`.
fn transcribe<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .arg("transcribe")
        .args(args)
        .output()
        .unwrap()
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

#[test]
fn outputs_keep_their_whole_stem_and_never_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_clips(dir.path());
    let part1 = dir.path().join("call.part1.wav");
    let part2 = dir.path().join("call.part2.wav");
    std::fs::rename(&a, &part1).unwrap();
    std::fs::rename(&b, &part2).unwrap();
    let out = dir.path().join("out");
    let run = |files: &[&std::path::Path]| {
        let mut args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
        args.extend([std::ffi::OsStr::new("-o"), out.as_os_str()]);
        transcribe(args)
    };
    let done = run(&[&part1, &part2]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let one = std::fs::read_to_string(out.join("call.part1.txt")).unwrap();
    let two = std::fs::read_to_string(out.join("call.part2.txt")).unwrap();
    assert!(one.to_lowercase().contains("customer back"), "{one}");
    assert!(two.contains("Thursday"), "{two}");

    // Two inputs that would write one file: refused before anything is written.
    let other_dir = dir.path().join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let twin = other_dir.join("call.part1.wav");
    std::fs::copy(&part2, &twin).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    let refused = run(&[&part1, &twin]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("would both be written"), "{err}");
    assert!(!out.join("call.part1.txt").exists());
}

#[test]
fn bad_options_get_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = two_clips(dir.path());
    for (args, expected) in [
        (&["--beam-size", "9"][..], "beam size must be at most 8"),
        (
            &["--language", "english"][..],
            "unknown language code 'english'",
        ),
        (
            &["--task", "summarise"][..],
            "task must be 'transcribe' or 'translate'",
        ),
        (
            &["--format", "docx"][..],
            "format must be one of text, json",
        ),
        (&["--task", "translate"][..], "English-only"),
        (&["--languages", "en,xx"][..], "unknown language code 'xx'"),
        (&["--languages", "de,fr"][..], "English-only"),
        (
            &["--device", "gpu:x"][..],
            "device must be 'auto', 'cpu', 'gpu' or 'gpu:N'",
        ),
        (
            &["--sound-events", "mute"][..],
            "sound events must be 'drop', 'keep' or 'suppress'",
        ),
    ] {
        let out = transcribe(std::iter::once(a.as_os_str()).chain(args.iter().map(|s| s.as_ref())));
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    if !stenograph::GPU_BUILD {
        let out = transcribe([a.as_os_str(), "--device".as_ref(), "gpu".as_ref()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("this build has no GPU back end"), "{err}");
    }
    // Greedy by beam size 1, and the old spellings of the flags still work.
    for args in [
        &[
            "--beam-size",
            "1",
            "--initial-prompt",
            "Acme",
            "--device",
            "cpu",
        ][..],
        &["--beam", "2", "--prompt", "Acme", "--language", "EN"][..],
        &["--languages", "de,EN"][..],
        &["--sound-events", "keep"][..],
        &["--sound-events", "Suppress"][..],
    ] {
        let out = transcribe(std::iter::once(a.as_os_str()).chain(args.iter().map(|s| s.as_ref())));
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn speakers_by_channel_name_each_turn() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_clips(dir.path());
    let read = |p: &std::path::Path| {
        stenograph::audio::Audio::from_path(p)
            .unwrap()
            .into_samples()
    };
    let (a, b) = (read(&a), read(&b));
    // `a` on the left, then `b` on the right, each leaking into the other at -26 dB.
    let n = a.len() + 8_000 + b.len();
    let mut left = vec![0.0f32; n];
    let mut right = vec![0.0f32; n];
    left[..a.len()].copy_from_slice(&a);
    right[a.len() + 8_000..].copy_from_slice(&b);
    let call = dir.path().join("call.wav");
    let frames: Vec<f32> = left
        .iter()
        .zip(&right)
        .flat_map(|(l, r)| [l + 0.05 * r, r + 0.05 * l])
        .collect();
    write_wav(&call, 2, &frames);
    let out = transcribe([
        call.as_os_str(),
        "--speakers".as_ref(),
        "channels".as_ref(),
        "--speaker-names".as_ref(),
        "agent,customer".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let turns: Vec<&str> = text.lines().collect();
    assert_eq!(turns.len(), 2, "{text}");
    assert!(
        turns[0].starts_with("agent: ") && turns[0].contains("customer back"),
        "{text}"
    );
    assert!(
        turns[1].starts_with("customer: ") && turns[1].contains("Thursday"),
        "{text}"
    );
    let out = transcribe([
        call.as_os_str(),
        "--speakers".as_ref(),
        "channels".as_ref(),
        "-f".as_ref(),
        "diarized_json".as_ref(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let speakers: Vec<&str> = json["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["speaker"].as_str().unwrap())
        .collect();
    assert_eq!(speakers.first(), Some(&"SPEAKER_0"), "{json}");
    assert_eq!(speakers.last(), Some(&"SPEAKER_1"), "{json}");
    for (args, expected) in [
        (
            &["--speakers", "everyone"][..],
            "speakers must be 'none', 'channels'",
        ),
        (
            &["--speakers", "channels", "--speaker-names", "a,a"][..],
            "speaker name 'a' is given twice",
        ),
        (
            &["--speakers", "channels", "--batch"][..],
            "does not combine with --batch",
        ),
    ] {
        let out =
            transcribe(std::iter::once(call.as_os_str()).chain(args.iter().map(|s| s.as_ref())));
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn speakers_by_voice_in_a_mono_file() {
    let dir = tempfile::tempdir().unwrap();
    // Four sentences, two voices taking turns, half a second apart.
    let turns = [
        (
            "en-us",
            "Please call the customer back before noon tomorrow.",
            "noon",
        ),
        (
            "en-us+f3",
            "Our quarterly sales grew by twelve percent this year.",
            "quarterly",
        ),
        (
            "en-us",
            "Turn left at the second light and park behind the bank.",
            "bank",
        ),
        (
            "en-us+f3",
            "The meeting has been moved to Thursday afternoon.",
            "Thursday",
        ),
    ];
    let mut call = vec![0.0f32; 8_000];
    for (i, (voice, text, _)) in turns.iter().enumerate() {
        let clip = speech_as(dir.path(), &format!("t{i}.wav"), text, voice);
        let clip = stenograph::audio::Audio::from_path(clip).unwrap();
        call.extend(clip.into_samples());
        call.extend(std::iter::repeat_n(0.0, 8_000));
    }
    let path = dir.path().join("mono-call.wav");
    write_wav(&path, 1, &call);
    for count in ["auto", "2"] {
        let out = transcribe([
            path.as_os_str(),
            "--speakers".as_ref(),
            count.as_ref(),
            "--speaker-names".as_ref(),
            "agent,customer".as_ref(),
        ]);
        assert!(
            out.status.success(),
            "{count}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        // Who said each sentence's key word: the name its line starts with.
        let said_by = |word: &str| {
            text.lines()
                .find(|l| l.contains(word))
                .and_then(|l| l.split_once(": "))
                .map(|(name, _)| name.to_string())
                .unwrap_or_else(|| panic!("{count}: no line with {word:?} in {text}"))
        };
        let who: Vec<String> = turns.iter().map(|(_, _, key)| said_by(key)).collect();
        assert_eq!(who[0], who[2], "{count}: {text}");
        assert_eq!(who[1], who[3], "{count}: {text}");
        assert_ne!(who[0], who[1], "{count}: {text}");
        assert!(
            who.iter().all(|n| n == "agent" || n == "customer"),
            "{count}: {text}"
        );
    }
    for (count, expected) in [("0", "from 1 to 32, not 0"), ("33", "from 1 to 32, not 33")] {
        let out = transcribe([path.as_os_str(), "--speakers".as_ref(), count.as_ref()]);
        assert!(!out.status.success(), "{count}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{count}: {err}");
    }
}

#[test]
fn hotwords_from_the_command_line_and_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let clip = speech(
        dir.path(),
        "names.wav",
        "Good morning, this is Siobhan Kowalczyk from Zyxtera. I wanted to follow up on the \
         Quantivo renewal with Mister Okonkwo before Thursday. Our competitor Brightmesh \
         offered Nakamura Logistics a lower price, but Stenograph still wins on accuracy.",
    );
    let terms = [
        "Kowalczyk",
        "Zyxtera",
        "Quantivo",
        "Okonkwo",
        "Brightmesh",
        "Nakamura Logistics",
        "Stenograph",
    ];
    let spelled = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        (terms.iter().filter(|t| text.contains(*t)).count(), text)
    };
    let (plain, text) = spelled(&transcribe([&clip]));
    assert!(plain <= 1, "{text}");
    let with_file = || {
        transcribe([
            clip.as_os_str(),
            "--hotwords".as_ref(),
            "Kowalczyk, Zyxtera".as_ref(),
            "--hotwords-file".as_ref(),
            dir.path().join("terms.txt").as_os_str(),
        ])
    };
    // The file does not exist yet: refused with its path.
    let out = with_file();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("terms.txt"));
    std::fs::write(
        dir.path().join("terms.txt"),
        "Quantivo\n\nOkonkwo\nBrightmesh, Nakamura Logistics\nStenograph\n",
    )
    .unwrap();
    let (given, text) = spelled(&with_file());
    assert!(given >= 2, "{text}");
    let out = transcribe([
        clip.as_os_str(),
        "--hotwords".as_ref(),
        "x".repeat(65).as_ref(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than 64"));
}
