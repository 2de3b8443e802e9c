//! Nothing invented: no text on the sounds a call holds besides speech (network tones, DTMF,
//! noise, clicks, hum, music), with VAD on and off, although Whisper annotates some of them
//! (kept when asked); speech between such sounds heard as well as between silences, in every
//! sound-events mode.

mod common;

use std::sync::OnceLock;

use common::dir;
use common::speech::{speak, SENTENCES};
use stenograph::audio::Audio;
use stenograph::testing::eval::words;
use stenograph::testing::signals;
use stenograph::transcribe::{SoundEvents, TranscribeOptions, Transcriber};

fn transcriber() -> &'static Transcriber {
    static T: OnceLock<Transcriber> = OnceLock::new();
    T.get_or_init(|| Transcriber::builder().model("tiny.en").build().unwrap())
}

fn options(vad: bool, events: SoundEvents) -> TranscribeOptions {
    let mut opts = TranscribeOptions::default();
    opts.vad = vad;
    opts.sound_events = events;
    opts
}

fn text(samples: Vec<f32>, opts: &TranscribeOptions) -> String {
    let audio = Audio::from_pcm_f32(samples, 16_000, 1).unwrap();
    transcriber().transcribe(&audio, opts).unwrap().text
}

#[test]
fn no_text_on_tones_noise_or_music() {
    let mut written = Vec::new();
    let mut annotated = Vec::new();
    for vad in [true, false] {
        for (name, samples) in signals::non_speech() {
            if !vad {
                // What Whisper itself writes there: "(phone ringing)", "(beep)", ….
                let kept = text(samples.clone(), &options(vad, SoundEvents::Keep));
                if kept.contains(['(', '[', '*', '♪']) {
                    annotated.push(kept);
                }
            }
            let got = text(samples, &options(vad, SoundEvents::Drop));
            if !got.trim().is_empty() {
                written.push(format!("{name} (VAD {vad}): {got:?}"));
            }
        }
    }
    assert!(
        written.is_empty(),
        "text on non-speech:\n{}",
        written.join("\n")
    );
    assert!(
        annotated.len() >= 2,
        "annotations kept with VAD off: {annotated:?}"
    );
}

/// The test sentences with `between(i)` after sentence `i`, and their reference.
fn sentences_with(between: impl Fn(usize) -> Vec<f32>) -> (Vec<f32>, String) {
    let mut audio = Vec::new();
    let mut reference = String::new();
    for (i, sentence) in SENTENCES.iter().take(4).enumerate() {
        let path = speak(dir(), "en-us", sentence, &format!("sound-events-{i}"));
        audio.extend(Audio::from_path(path).unwrap().into_samples());
        audio.extend(std::iter::repeat_n(0.0, 8_000));
        audio.extend(between(i));
        audio.extend(std::iter::repeat_n(0.0, 8_000));
        reference.push_str(sentence);
        reference.push(' ');
    }
    (audio, reference)
}

/// Words of the reference found in `got`, and words of `got` not in the reference.
fn found_and_extra(reference: &str, got: &str) -> (usize, usize) {
    let (want, got) = (words(reference), words(got));
    (
        want.iter().filter(|w| got.contains(w)).count(),
        got.iter().filter(|w| !want.contains(w)).count(),
    )
}

#[test]
fn speech_between_sounds_keeps_its_words_and_nothing_else() {
    let sounds = signals::non_speech();
    let cut = |i: usize| {
        let sound = &sounds[(3 * i + 1) % sounds.len()].1;
        sound[..sound.len().min(6 * 16_000)].to_vec()
    };
    // The same speech with silence where the sounds go: what the model hears of it.
    let (quiet, reference) = sentences_with(|i| vec![0.0; cut(i).len()]);
    let base = text(quiet, &options(true, SoundEvents::Drop));
    let (found0, extra0) = found_and_extra(&reference, &base);
    let (audio, _) = sentences_with(cut);
    for events in [SoundEvents::Drop, SoundEvents::Keep, SoundEvents::Suppress] {
        let got = text(audio.clone(), &options(true, events));
        let (found, extra) = found_and_extra(&reference, &got);
        assert!(
            found + 2 >= found0,
            "{events:?}: {found} words heard, {found0} without the sounds: {got:?} / {base:?}"
        );
        if events != SoundEvents::Keep {
            assert!(
                extra <= extra0 + 1,
                "{events:?}: {extra} words nobody said, {extra0} without the sounds: \
                 {got:?} / {base:?}"
            );
        }
    }
}
