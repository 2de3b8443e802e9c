//! Language detection restricted to the languages a caller names, with the multilingual base
//! model on short espeak-ng clips in four languages: the language chosen is always one of the
//! candidates, the right one among them, with its share of their probability; the restriction
//! reaches live streams; detection alone answers as a transcription does; bad lists and lists an English-only model cannot serve are refused.

mod common;

use std::sync::OnceLock;

use common::dir;
use common::speech::speak;
use stenograph::audio::Audio;
use stenograph::transcribe::{
    language_list, languages, StreamEvent, StreamOptions, TranscribeOptions, Transcriber,
};
use stenograph::Error;

/// (espeak-ng voice, ISO 639-1 code, a short sentence.)
const CLIPS: [(&str, &str, &str); 4] = [
    ("fr", "fr", "Merci beaucoup, à demain."),
    ("de", "de", "Wir sehen uns am Donnerstag im Büro."),
    ("pt", "pt", "Obrigado, vamos falar amanhã de manhã."),
    ("en-us", "en", "Please call me back tomorrow."),
];

fn base() -> &'static Transcriber {
    static T: OnceLock<Transcriber> = OnceLock::new();
    T.get_or_init(|| Transcriber::builder().model("base").build().unwrap())
}

fn clip(i: usize) -> Audio {
    let (voice, code, text) = CLIPS[i];
    Audio::from_path(speak(dir(), voice, text, &format!("lang-{code}"))).unwrap()
}

fn detect(audio: &Audio, candidates: &[&str]) -> (String, f32) {
    let mut opts = TranscribeOptions::default();
    opts.languages = language_list(candidates).unwrap();
    let t = base().transcribe(audio, &opts).unwrap();
    (t.language, t.language_probability)
}

#[test]
fn detection_chooses_among_the_languages_given() {
    let markets = ["en", "de", "fr", "pt"];
    let (mut right_free, mut right_among) = (0, 0);
    for (i, (_, code, _)) in CLIPS.iter().enumerate() {
        let audio = clip(i);
        let (free, p_free) = detect(&audio, &[]);
        let (among, p_among) = detect(&audio, &markets);
        eprintln!(
            "{code}: any language {free} ({p_free:.2}), among {markets:?} {among} ({p_among:.2})"
        );
        right_free += usize::from(free == *code);
        right_among += usize::from(among == *code);
        assert!(markets.contains(&among.as_str()), "{among}");
        // Its share of the candidates' probability: at least what it has among all.
        assert!(p_among > 0.0 && p_among <= 1.0 + 1e-6, "{p_among}");
        // The most likely language of all, when it is a candidate, stays the choice.
        if markets.contains(&free.as_str()) {
            assert_eq!(among, free);
            assert!(p_among + 1e-6 >= p_free, "{p_among} < {p_free}");
        }
        // Candidates that leave the spoken language out: still one of them.
        let others: Vec<&str> = markets.iter().copied().filter(|l| l != code).collect();
        let (forced, _) = detect(&audio, &others);
        assert!(
            others.contains(&forced.as_str()),
            "{forced} not in {others:?}"
        );
        // One candidate is the answer, with all of the candidates' probability.
        let (only, p_only) = detect(&audio, &[code]);
        assert_eq!((only.as_str(), (p_only * 1e3).round()), (*code, 1e3));
    }
    // Short synthetic clips fool the detector (German heard as Swedish, Portuguese as
    // Hungarian); naming the markets takes back some of them.
    assert!(right_among > right_free, "{right_among} vs {right_free}");
}

#[test]
fn the_language_alone_is_what_a_transcription_detects() {
    let mut opts = TranscribeOptions::default();
    opts.languages = language_list(&["en", "de", "fr", "pt"]).unwrap();
    // The same answer on every call, whatever the decoder state did before (a transcription
    // encodes only the positions a short window needs).
    for i in [1, 3] {
        let audio = clip(i);
        let mut answers = Vec::new();
        for _ in 0..3 {
            let t = base().transcribe_samples(audio.samples(), &opts).unwrap();
            answers.push((t.language, t.language_probability));
            let (code, p) = base()
                .detect_language(audio.samples(), &opts)
                .unwrap()
                .unwrap();
            answers.push((code, p));
        }
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    }
    // No speech, no language; a language given is the answer.
    assert_eq!(
        base().detect_language(&vec![0.0; 32_000], &opts).unwrap(),
        None
    );
    opts.language = Some("pt".into());
    let given = base().detect_language(clip(1).samples(), &opts).unwrap();
    assert_eq!(given, Some(("pt".to_string(), 1.0)));
}

/// The final texts of a stream among `candidates` that hears `pcm` (16 kHz).
fn stream_finals(candidates: &[&str], pcm: &[f32]) -> Vec<String> {
    let opts = StreamOptions {
        languages: language_list(candidates).unwrap(),
        ..StreamOptions::default()
    };
    let mut s = base().stream(opts).unwrap();
    s.push_pcm_f32(pcm, 16_000).unwrap();
    s.finish().unwrap();
    std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            StreamEvent::Final(u) => Some(u.text),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stream_detects_among_the_languages_given() {
    let audio = clip(0);
    let mut padded = vec![0.0f32; 8_000];
    padded.extend_from_slice(audio.samples());
    padded.extend(std::iter::repeat_n(0.0, 16_000));
    // The French clip decoded as German or Portuguese is other text than decoded as French.
    let among = stream_finals(&["de", "pt"], &padded);
    let french = stream_finals(&["fr"], &padded);
    assert_eq!(among.len(), 1, "{among:?}");
    assert_eq!(french.len(), 1, "{french:?}");
    assert!(french[0].to_lowercase().contains("merci"), "{french:?}");
    assert_ne!(among, french);
}

#[test]
fn bad_lists_and_lists_an_english_only_model_cannot_serve_are_refused() {
    assert_eq!(languages(" EN, de ,fr,de").unwrap(), ["en", "de", "fr"]);
    for bad in ["en,xx", "auto", "en;de", "english"] {
        assert!(
            matches!(languages(bad), Err(Error::InvalidArgument(_))),
            "{bad}"
        );
    }
    let mut opts = TranscribeOptions::default();
    opts.languages = vec!["EN".into()];
    assert!(matches!(opts.validate(), Err(Error::InvalidArgument(_))));

    let english = Transcriber::builder().model("tiny.en").build().unwrap();
    let audio = clip(3);
    let mut opts = TranscribeOptions::default();
    opts.languages = vec!["de".into(), "fr".into()];
    let err = english.transcribe(&audio, &opts).unwrap_err();
    assert!(err.to_string().contains("English-only"), "{err}");
    opts.languages = vec!["de".into(), "en".into()];
    let t = english.transcribe(&audio, &opts).unwrap();
    assert_eq!(t.language, "en");
}
