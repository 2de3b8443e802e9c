//! Hotwords: how often rare names and terms come out spelled right with and without them, and
//! whether the rest of the text gets worse.
//!
//! ```text
//! cargo run --release -p stenograph-benches --bin hotwords_report -- --real samples.tsv \
//!     [--seconds 300] [--models tiny.en,base] [--snr-db 30]
//! ```
//!
//! Two long inputs, each transcribed with no hotwords, with a list of terms it holds, and with
//! a list of terms nobody says in it:
//! - `names`: a sales call whose every other sentence holds one of 30 rare names (people,
//!   companies, products; each said about twice in 300 s), spoken by espeak-ng in eight
//!   English voices, band-limited
//!   to the telephone's 300–3400 Hz with pink noise `--snr-db` (30) under the speech; decoded with VAD on
//!   and with VAD off (one long pass, where whisper.cpp carries the prompt window to window).
//! - `real`: the TSV's real clips (columns `file`, `reference`) cycled to `--seconds`, clean
//!   then under noise (`real_long`); its own terms are the reference's words of nine letters
//!   or more (up to 30).
//!
//! Printed: WER; term recall (occurrences of the list's terms in the reference found in the
//! transcript, case and punctuation aside); terms of the unsaid list that the transcript
//! holds anyway (invented); seconds. Needs `espeak-ng` on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use stenograph::audio::Audio;
use stenograph::testing::eval::{word_errors, words};
use stenograph::transcribe::{TranscribeOptions, Transcriber};
use stenograph_benches::{arg, band_pass, pink_noise, real_long, rms, write_wav};

const RATE: f64 = 16_000.0;

/// Names said in the `names` call.
const SAID: [&str; 30] = [
    "Kowalczyk",
    "Siobhan",
    "Okonkwo",
    "Thibodeaux",
    "Przybylski",
    "Aoife",
    "Xiomara",
    "Szymanski",
    "Oyelaran",
    "Castellanos",
    "Nakashima",
    "Ferreira",
    "Zyxtera",
    "Quantivo",
    "Brightmesh",
    "Veltrix",
    "Orbisync",
    "Pallidon",
    "Nimbra",
    "Corvexa",
    "Tessaro",
    "Lumisphere",
    "DataHarbor",
    "Stenograph",
    "Flexipay",
    "Ardentis",
    "Qubitra",
    "Helixor",
    "Trelliswork",
    "Synaptiq",
];

/// Names nobody says in either input.
const UNSAID: [&str; 30] = [
    "Wojciechowski",
    "Nkemelu",
    "Ravindran",
    "Baptiste",
    "Ekaterina",
    "Mbeki",
    "Tsvetanova",
    "Quispe",
    "Haraldsen",
    "Dubrovnik",
    "Valderrama",
    "Iwasaki",
    "Vexigon",
    "Plumora",
    "Zentrika",
    "Kobaltix",
    "Mirabyte",
    "Quorvia",
    "Draxum",
    "Solvento",
    "Paylinx",
    "Cloudara",
    "Brivana",
    "Tenzing",
    "Omnivox",
    "Grafanix",
    "Velocita",
    "Nordhaven",
    "Axiomly",
    "Frontera",
];

/// Sentences of the `names` call: a name first, ordinary words second.
const SENTENCES: [&str; 20] = [
    "Hi, this is {0} calling from {1} about your account.",
    "Could you spell {0} for me, and is that the {1} plan?",
    "I spoke with {0} yesterday and she mentioned {1}.",
    "We are comparing your offer with {0} and {1}.",
    "Please send the signed contract to {0} at {1} by Friday.",
    "The {0} integration keeps failing when we sync with {1}.",
    "Our procurement lead {0} wants a demo of {1} next week.",
    "Last quarter {0} moved their whole team over to {1}.",
    "Can we get {0} on the call, since she owns the {1} budget?",
    "I think {0} quoted a lower price than {1} did.",
    "The invoice from {0} still lists {1} as the billing contact.",
    "Let me check with {0} whether {1} supports single sign on.",
    "Yes, {0} is our main competitor, together with {1}.",
    "Tell {0} that the {1} licences renew in March.",
    "We met {0} at the conference, right after the {1} keynote.",
    "So the pilot with {0} starts once {1} approves it.",
    "Mister {0} asked if {1} can handle twenty thousand calls a day.",
    "Our support team uses {0} and {1} every day.",
    "I will forward the notes to {0} and copy {1}.",
    "Remind me, does {0} work with {1} or against them?",
];

/// Ordinary words in the sentences' second place.
const PHRASES: [&str; 10] = [
    "the billing team",
    "our main office",
    "the new plan",
    "the sales department",
    "the head office",
    "the standard package",
    "the support desk",
    "the annual contract",
    "the finance team",
    "the mobile app",
];

/// Sentences with no name, between the ones with a name.
const ORDINARY: [&str; 10] = [
    "Thanks for taking the time to talk with me today.",
    "Could you tell me a little more about how your team works?",
    "We can send you the pricing details by email this afternoon.",
    "That sounds good, let me write that down.",
    "How many people would be using the service every day?",
    "I understand, the timing matters a lot for you.",
    "We usually start with a short trial of two weeks.",
    "Is there anything else you would like to know?",
    "I will check with my manager and get back to you tomorrow.",
    "Great, I think we are on the same page now.",
];

/// espeak-ng voices and speeds the sentences rotate through.
const VOICES: [(&str, u32); 8] = [
    ("en-us+m3", 165),
    ("en-gb+f3", 155),
    ("en-gb-scotland+m2", 160),
    ("en-029+f2", 150),
    ("en-gb-x-rp+m4", 170),
    ("en-us+f4", 160),
    ("en-gb-x-gbclan+m1", 155),
    ("en-us+m7", 175),
];

/// `text` spoken by espeak-ng, as 16 kHz samples.
fn speak(dir: &Path, text: &str, (voice, speed): (&str, u32)) -> Vec<f32> {
    let path = dir.join("sentence.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", &speed.to_string(), "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng on PATH");
    assert!(status.success(), "espeak-ng failed");
    Audio::from_path(&path)
        .expect("espeak-ng wav")
        .into_samples()
}

/// The `names` call: sentences with one of [`SAID`] each, every other sentence one of
/// [`ORDINARY`], pauses between, telephone band and noise `snr_db` under the speech; its path
/// and reference.
fn names_call(dir: &Path, seconds: f64, snr_db: f64) -> (PathBuf, String) {
    const PAUSES: [f64; 5] = [0.4, 0.9, 1.5, 0.6, 1.1];
    let (mut call, mut text, mut k) = (vec![0.0f32; 8_000], String::new(), 0usize);
    while (call.len() as f64) < seconds * RATE {
        let sentence = if k % 2 == 1 {
            ORDINARY[(k / 2) % ORDINARY.len()].to_string()
        } else {
            SENTENCES[(k / 2) % SENTENCES.len()]
                .replace("{0}", SAID[(k / 2) % SAID.len()])
                .replace("{1}", PHRASES[(k / 2) % PHRASES.len()])
        };
        call.extend(speak(dir, &sentence, VOICES[k % VOICES.len()]));
        call.extend(std::iter::repeat_n(
            0.0,
            (PAUSES[k % PAUSES.len()] * RATE) as usize,
        ));
        text.push_str(&sentence);
        text.push(' ');
        k += 1;
    }
    band_pass(&mut call);
    let level = rms(&call);
    let noise = pink_noise(call.len(), 3);
    for (s, n) in call.iter_mut().zip(noise) {
        *s += n * level * 10f32.powf(-(snr_db as f32) / 20.0);
    }
    let path = dir.join("names-call.wav");
    write_wav(&path, &call);
    (path, text)
}

/// The reference's words of nine letters or more, first seen first, at most 30.
fn long_words(reference: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(reference) {
        if w.chars().count() >= 9 && !out.contains(&w) && out.len() < 30 {
            out.push(w);
        }
    }
    out
}

/// Occurrences of `term` (its words in a row) in `text`'s words.
fn count(text: &[String], term: &str) -> usize {
    let t = words(term);
    if t.is_empty() || t.len() > text.len() {
        return 0;
    }
    text.windows(t.len()).filter(|w| *w == t.as_slice()).count()
}

/// Term occurrences of the reference found in the hypothesis, and of the reference.
fn recall(reference: &str, hypothesis: &str, terms: &[String]) -> (usize, usize) {
    let (r, h) = (words(reference), words(hypothesis));
    terms.iter().fold((0, 0), |(found, total), t| {
        let n = count(&r, t);
        (found + n.min(count(&h, t)), total + n)
    })
}

/// Occurrences in the hypothesis of terms the reference does not hold.
fn invented(reference: &str, hypothesis: &str, terms: &[String]) -> usize {
    let (r, h) = (words(reference), words(hypothesis));
    terms
        .iter()
        .map(|t| count(&h, t).saturating_sub(count(&r, t)))
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tsv = PathBuf::from(arg(&args, "--real").expect("--real TSV of real clips"));
    let seconds: f64 = arg(&args, "--seconds").map_or(300.0, |s| s.parse().expect("--seconds"));
    let models = arg(&args, "--models").unwrap_or_else(|| "tiny.en".into());
    let dir = std::env::temp_dir().join("stenograph-hotwords");
    std::fs::create_dir_all(&dir).expect("work directory");

    let said: Vec<String> = SAID.iter().map(|s| s.to_string()).collect();
    let unsaid: Vec<String> = UNSAID.iter().map(|s| s.to_string()).collect();
    let snr_db: f64 = arg(&args, "--snr-db").map_or(30.0, |s| s.parse().expect("--snr-db"));
    let (names_path, names_ref) = names_call(&dir, seconds, snr_db);
    let (real_path, real_ref) = real_long(&dir, &tsv, seconds, 0);
    let real_terms = long_words(&real_ref);
    let inputs = [
        ("names", &names_path, &names_ref, &said, true),
        ("names", &names_path, &names_ref, &said, false),
        ("real", &real_path, &real_ref, &real_terms, true),
    ];
    println!(
        "| input | model | VAD | hotwords | WER | term recall | unsaid terms written | seconds |"
    );
    println!("|---|---|---|---|---:|---:|---:|---:|");
    for model in models.split(',') {
        let t = Transcriber::builder()
            .model(model)
            .build()
            .expect("load model");
        for (name, path, reference, terms, vad) in &inputs {
            let audio = Audio::from_path(path).expect("input");
            for (list, hot) in [
                ("none", Vec::new()),
                ("its terms", terms.to_vec()),
                ("unsaid", unsaid.clone()),
            ] {
                let mut opts = TranscribeOptions::default();
                opts.vad = *vad;
                opts.language = Some("en".into());
                opts.hotwords = hot;
                let start = Instant::now();
                let text = t.transcribe(&audio, &opts).expect("transcribe").text;
                let secs = start.elapsed().as_secs_f64();
                let (errors, n) = word_errors(reference, &text);
                let (found, total) = recall(reference, &text, terms);
                println!(
                    "| {name} | {model} | {} | {list} | {:.1} % | {found}/{total} ({:.0} %) | {} | {secs:.1} |",
                    if *vad { "on" } else { "off" },
                    100.0 * errors as f64 / n.max(1) as f64,
                    100.0 * found as f64 / total.max(1) as f64,
                    invented(reference, &text, &unsaid),
                );
                std::fs::write(
                    dir.join(format!(
                        "{name}-{model}-{}-{}.txt",
                        if *vad { "vad" } else { "novad" },
                        list.replace(' ', "-")
                    )),
                    &text,
                )
                .expect("write transcript");
            }
        }
    }
}
