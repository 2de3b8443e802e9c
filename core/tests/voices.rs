//! Speakers told apart by voice: two espeak-ng voices taking turns come back as two speakers,
//! each sentence's words given to the voice that said it; a count given is kept; a bad count
//! is refused.

mod common;

use common::dir;
use common::speech::{speak, SENTENCES};
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
