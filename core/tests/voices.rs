//! Speakers told apart by voice: two espeak-ng voices taking turns come back as two speakers,
//! each sentence's words given to the voice that said it; a count given is kept; a bad count
//! is refused; the voice encoder gives the embeddings of a numpy + librosa reading of the same
//! checkpoint.

mod common;

use std::process::Command;

use common::speech::{speak, SENTENCES};
use common::{dir, parity_python};
use stenograph::audio::Audio;
use stenograph::transcribe::{Speakers, TranscribeOptions, Transcriber};

#[test]
fn two_voices_taking_turns_are_two_speakers() {
    let voices = ["en-us", "en-us+f3"];
    let mut audio = vec![0.0f32; 8_000];
    let mut turns = Vec::new();
    for (i, sentence) in SENTENCES.iter().enumerate() {
        let voice = voices[i % 2];
        let path = speak(dir(), voice, sentence, &format!("voices-{i}"));
        let clip = Audio::from_path(path).unwrap().into_samples();
        let start = audio.len() as f64 / 16_000.0;
        audio.extend(&clip);
        turns.push((start, audio.len() as f64 / 16_000.0, i % 2));
        audio.extend(std::iter::repeat_n(0.0, 8_000));
    }
    let t = Transcriber::builder().model("tiny.en").build().unwrap();
    let audio = Audio::from_pcm_f32(audio, 16_000, 1).unwrap();
    for (speakers, names) in [
        (Speakers::Voices { count: None }, vec![]),
        (
            Speakers::Voices { count: Some(2) },
            vec!["agent".to_string(), "customer".to_string()],
        ),
    ] {
        let mut opts = TranscribeOptions::default();
        opts.speakers = speakers;
        opts.speaker_names = names.clone();
        opts.word_timestamps = true;
        let got = t.transcribe(&audio, &opts).unwrap();
        assert_eq!(got.speakers.len(), 2, "{speakers:?}: {:?}", got.speakers);
        if !names.is_empty() {
            assert_eq!(got.speakers, names);
        }
        // Words inside a turn, by who the turn's voice is; the two labellings may be swapped.
        let mut same = [0usize; 2];
        let mut total = 0;
        for s in &got.segments {
            for w in &s.words {
                let mid = (w.start + w.end) / 2.0;
                let Some(&(_, _, voice)) = turns.iter().find(|(a, b, _)| *a <= mid && mid <= *b)
                else {
                    continue;
                };
                let Some(k) = got
                    .speakers
                    .iter()
                    .position(|n| Some(n) == w.speaker.as_ref())
                else {
                    continue;
                };
                total += 1;
                same[usize::from(k == voice)] += 1;
            }
        }
        let right = same[0].max(same[1]);
        assert!(
            total >= 30 && right * 10 >= total * 9,
            "{speakers:?}: {right} of {total} words with their voice"
        );
    }
}

#[test]
fn counts_are_checked() {
    assert_eq!(
        "auto".parse::<Speakers>().unwrap(),
        Speakers::Voices { count: None }
    );
    assert_eq!(
        "3".parse::<Speakers>().unwrap(),
        Speakers::Voices { count: Some(3) }
    );
    assert_eq!(Speakers::Voices { count: Some(3) }.to_string(), "3");
    assert_eq!(Speakers::Voices { count: None }.to_string(), "auto");
    for bad in ["0", "33", "99999999999999999999", "two"] {
        assert!(bad.parse::<Speakers>().is_err(), "{bad}");
    }
}

#[test]
fn voice_embeddings_match_a_numpy_reading_of_the_checkpoint() {
    let weights = stenograph::model::fetch_speaker_weights(&Default::default()).unwrap();
    let clips: Vec<_> = [("en-us", SENTENCES[0]), ("en-us+f3", SENTENCES[1])]
        .iter()
        .enumerate()
        .map(|(i, (voice, text))| speak(dir(), voice, text, &format!("parity-{i}")))
        .collect();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity/voice_encoder.py");
    let out = Command::new(parity_python())
        .arg(script)
        .arg(&weights)
        .args(&clips)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), clips.len(), "{printed}");
    let mut ours = Vec::new();
    for (clip, line) in clips.iter().zip(&lines) {
        let theirs: Vec<f32> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        let samples = Audio::from_path(clip).unwrap().into_samples();
        let mine = stenograph::testing::voice_embedding(&samples).unwrap();
        assert_eq!(mine.len(), theirs.len());
        let worst = mine
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-5,
            "{}: largest difference {worst}",
            clip.display()
        );
        ours.push(mine);
    }
    // Two voices are two points: not the same embedding.
    let alike: f32 = ours[0].iter().zip(&ours[1]).map(|(a, b)| a * b).sum();
    assert!(alike < 0.95, "two voices {alike} alike");
}
