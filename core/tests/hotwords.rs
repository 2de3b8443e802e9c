//! Hotwords with tiny.en on espeak-ng speech: rare names come out spelled as listed, also in a
//! window far into a long input (VAD on and off) and in a live stream, names nobody says are
//! not written, and every refusal.

mod common;

use std::sync::OnceLock;

use common::dir;
use common::speech::{speak, SENTENCES};
use stenograph::audio::Audio;
use stenograph::testing::eval::words;
use stenograph::transcribe::{
    StreamEvent, StreamOptions, TranscribeOptions, Transcriber, MAX_HOTWORD_TOKENS,
};
use stenograph::Error;

/// A sales call's sentence full of names Whisper has never seen spelled.
const NAMES: &str = "Good morning, this is Siobhan Kowalczyk from Zyxtera. I wanted to follow up \
    on the Quantivo renewal with Mister Okonkwo before Thursday. Our competitor Brightmesh \
    offered Nakamura Logistics a lower price, but Stenograph still wins on accuracy.";
/// The names in [`NAMES`].
const TERMS: [&str; 7] = [
    "Siobhan Kowalczyk",
    "Zyxtera",
    "Quantivo",
    "Okonkwo",
    "Brightmesh",
    "Nakamura Logistics",
    "Stenograph",
];
/// Names nobody says in these tests.
const UNSAID: [&str; 6] = [
    "Wojciechowski",
    "Vexigon",
    "Plumora",
    "Nkemelu",
    "Zentrika",
    "Haraldsen",
];

fn transcriber() -> &'static Transcriber {
    static T: OnceLock<Transcriber> = OnceLock::new();
    T.get_or_init(|| Transcriber::builder().model("tiny.en").build().unwrap())
}

fn names_speech() -> &'static [f32] {
    static S: OnceLock<Vec<f32>> = OnceLock::new();
    S.get_or_init(|| {
        Audio::from_path(speak(dir(), "en-us", NAMES, "hotwords-names"))
            .unwrap()
            .into_samples()
    })
}

/// Ordinary sentences, about `seconds` of them with short pauses.
fn other_speech(seconds: f64) -> Vec<f32> {
    let one: Vec<Vec<f32>> = SENTENCES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Audio::from_path(speak(dir(), "en-us", s, &format!("hotwords-other-{i}")))
                .unwrap()
                .into_samples()
        })
        .collect();
    let mut out = Vec::new();
    for s in one.iter().cycle() {
        if out.len() as f64 >= seconds * 16_000.0 {
            break;
        }
        out.extend_from_slice(s);
        out.extend(std::iter::repeat_n(0.0, 8_000));
    }
    out
}

fn list(terms: &[&str]) -> Vec<String> {
    terms.iter().map(|t| t.to_string()).collect()
}

/// How many of `terms` the text holds, each as its words in a row.
fn spelled(text: &str, terms: &[&str]) -> usize {
    let said = words(text);
    terms
        .iter()
        .filter(|t| {
            let w = words(t);
            said.windows(w.len()).any(|x| x == w.as_slice())
        })
        .count()
}

fn text(samples: &[f32], opts: &TranscribeOptions) -> String {
    transcriber()
        .transcribe(
            &Audio::from_pcm_f32(samples.to_vec(), 16_000, 1).unwrap(),
            opts,
        )
        .unwrap()
        .text
}

#[test]
fn listed_names_come_out_spelled() {
    let plain = text(names_speech(), &TranscribeOptions::default());
    let mut opts = TranscribeOptions::default();
    opts.hotwords = list(&TERMS);
    let biased = text(names_speech(), &opts);
    assert!(spelled(&plain, &TERMS) <= 1, "{plain}");
    assert!(spelled(&biased, &TERMS) >= 3, "{biased}");
    // The words around the names are heard as well as without.
    for w in ["morning", "follow", "thursday", "competitor", "accuracy"] {
        assert!(words(&biased).iter().any(|x| x == w), "{w}: {biased}");
    }
}

#[test]
fn a_window_far_into_a_long_input_gets_them_with_vad_on_and_off() {
    // 40 s of other speech first: the names fall in a later chunk (VAD on) and in the second
    // 30 s window of one long pass (VAD off).
    let mut samples = other_speech(40.0);
    samples.extend_from_slice(names_speech());
    samples.extend(std::iter::repeat_n(0.0, 16_000));
    let with = |vad: bool, hot: &[&str], prompt: Option<String>| {
        let mut opts = TranscribeOptions::default();
        opts.vad = vad;
        opts.hotwords = list(hot);
        opts.initial_prompt = prompt;
        text(&samples, &opts)
    };
    let names_prompt = Some(format!("{}.", TERMS.join(", ")));
    for vad in [true, false] {
        let plain = with(vad, &[], None);
        assert!(spelled(&plain, &TERMS) <= 1, "vad {vad}: {plain}");
        // The initial prompt reaches a window past the first 30 s too.
        let primed = with(vad, &[], names_prompt.clone());
        assert!(spelled(&primed, &TERMS) >= 2, "vad {vad}: {primed}");
        let biased = with(vad, &TERMS, None);
        if vad {
            assert!(spelled(&biased, &TERMS) >= 2, "{biased}");
        }
        // Whatever the second decode did, no speech is lost to it: with VAD off tiny.en,
        // prompted, skipped 16 s of this input, and the plain text was kept.
        let (p, b) = (words(&plain).len(), words(&biased).len());
        assert!(b * 100 >= p * 95, "vad {vad}: {plain}\n{biased}");
    }
}

#[test]
fn names_nobody_says_are_not_written() {
    let samples = other_speech(20.0);
    let mut opts = TranscribeOptions::default();
    opts.hotwords = list(&UNSAID);
    let biased = text(&samples, &opts);
    assert_eq!(spelled(&biased, &UNSAID), 0, "{biased}");
    let plain = text(&samples, &TranscribeOptions::default());
    let (errors, n) = stenograph::testing::eval::word_errors(&plain, &biased);
    assert!(errors * 20 <= n, "{plain}\n{biased}");
    // Nor into silence and noise decoded with VAD off.
    let mut noise: Vec<f32> = vec![0.0; 16_000 * 5];
    let mut x = 7u32;
    noise.extend((0..16_000 * 5).map(|_| {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (x >> 8) as f32 / (1u32 << 24) as f32 * 0.02 - 0.01
    }));
    opts.vad = false;
    let heard = text(&noise, &opts);
    assert_eq!(spelled(&heard, &UNSAID), 0, "{heard}");
}

#[test]
fn a_live_stream_gets_them_too() {
    let opts = StreamOptions {
        hotwords: list(&TERMS),
        ..StreamOptions::default()
    };
    let mut s = transcriber().stream(opts).unwrap();
    let mut pcm: Vec<f32> = names_speech().to_vec();
    pcm.extend(std::iter::repeat_n(0.0, 16_000));
    let mut finals = String::new();
    for piece in pcm.chunks(1_600) {
        s.push_pcm_f32(piece, 16_000).unwrap();
        while let Some(e) = s.poll_event() {
            if let StreamEvent::Final(u) = e {
                finals.push_str(&u.text);
            }
        }
    }
    s.finish().unwrap();
    while let Some(e) = s.poll_event() {
        if let StreamEvent::Final(u) = e {
            finals.push_str(&u.text);
        }
    }
    assert!(spelled(&finals, &TERMS) >= 3, "{finals}");
}

#[test]
fn bad_lists_are_refused_with_the_reason() {
    let t = transcriber();
    let audio = Audio::from_pcm_f32(vec![0.0; 16_000], 16_000, 1).unwrap();
    let refused = |terms: Vec<String>| {
        let mut opts = TranscribeOptions::default();
        opts.hotwords = terms;
        match t.transcribe(&audio, &opts) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{other:?}"),
        }
    };
    // Within the count, over the token budget.
    let long: Vec<String> = (0..60)
        .map(|i| format!("Xqzvyl{i}Wbrkt Pqoxz{i}"))
        .collect();
    let m = refused(long);
    assert!(
        m.contains("tokens") && m.contains(&MAX_HOTWORD_TOKENS.to_string()),
        "{m}"
    );
    assert!(refused(list(&["Acme, Inc."])).contains("comma"));
    assert!(refused(list(&["bell\u{7}"])).contains("control character"));
    assert!(refused(vec!["x".repeat(65)]).contains("longer than 64"));
    let e = t
        .stream(StreamOptions {
            hotwords: list(&["a,b"]),
            ..StreamOptions::default()
        })
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    // Blank and repeated terms are not errors.
    let mut opts = TranscribeOptions::default();
    opts.hotwords = list(&[" ", "Zyxtera", "Zyxtera "]);
    assert!(t.transcribe(&audio, &opts).is_ok());
}
