//! Language detection on real speech: how often Whisper's detector names the language spoken,
//! among every language it knows and among the languages a caller names (`languages`), on
//! whole clips and on the first seconds of their speech (short clips are where detection goes
//! wrong).
//!
//! ```text
//! cargo run --release -p stenograph-benches --bin language_report -- --dir DIR \
//!     [--model base] [--among en,de,fr,es,pt] [--seconds 1.5,3,0]
//! ```
//!
//! `DIR` holds clips named `NAME-LANG-N.EXT`, `LANG` the ISO 639-1 code of the language spoken
//! (any format the library decodes), for instance the FLEURS clips (CC BY 4.0) of
//! `sebastian-software/cuttledoc` (`packages/cuttledoc/fixtures/fleurs-*.ogg`, ten each of
//! en, de, fr, es and pt). `--seconds` lists the lengths tried, from 200 ms before the speech
//! starts (an energy threshold), 0 for the whole clip.
//! Prints a table: per length and language, right answers among all languages and among the
//! candidates, and the wrong answers given.

use std::collections::BTreeMap;

use stenograph::audio::Audio;
use stenograph::transcribe::{languages, TranscribeOptions, Transcriber};
use stenograph_benches::arg;

/// Right answers and the wrong ones given, for one length and language.
#[derive(Default)]
struct Tally {
    clips: usize,
    right_any: usize,
    right_among: usize,
    wrong_any: BTreeMap<String, usize>,
    wrong_among: BTreeMap<String, usize>,
}

fn wrongs(m: &BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(l, n)| format!("{l}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where speech starts, near enough for cutting its first seconds: 200 ms before the first
/// 20 ms frame whose RMS reaches 0.02 (-34 dBFS; the clips' leading silence is quieter).
fn speech_start(samples: &[f32]) -> usize {
    const FRAME: usize = 320;
    samples
        .chunks(FRAME)
        .position(|f| (f.iter().map(|x| x * x).sum::<f32>() / f.len() as f32).sqrt() >= 0.02)
        .map_or(0, |i| (i * FRAME).saturating_sub(3_200))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = arg(&args, "--dir").expect("--dir DIR of NAME-LANG-N clips");
    let model = arg(&args, "--model").unwrap_or_else(|| "base".into());
    let among = languages(&arg(&args, "--among").unwrap_or_else(|| "en,de,fr,es,pt".into()))
        .expect("--among");
    let lengths: Vec<f64> = arg(&args, "--seconds")
        .unwrap_or_else(|| "1.5,3,0".into())
        .split(',')
        .map(|s| s.parse().expect("--seconds"))
        .collect();
    let mut clips: Vec<(String, Vec<f32>)> = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("--dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e != "txt" && e != "md"))
        .collect();
    names.sort();
    for path in names {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let Some(lang) = stem.split('-').nth(1) else {
            continue;
        };
        if let Ok(audio) = Audio::from_path(&path) {
            clips.push((lang.to_string(), audio.into_samples()));
        }
    }
    let t = Transcriber::builder()
        .model(model.as_str())
        .build()
        .expect("model");
    eprintln!(
        "{} clips, model {model}, candidates {}",
        clips.len(),
        among.join(",")
    );
    let any = TranscribeOptions::default();
    let mut restricted = TranscribeOptions::default();
    restricted.languages = among.clone();
    let mut table: BTreeMap<(u64, String), Tally> = BTreeMap::new();
    for &secs in &lengths {
        for (lang, samples) in &clips {
            let from = if secs > 0.0 { speech_start(samples) } else { 0 };
            let n = if secs > 0.0 {
                ((secs * 16_000.0) as usize).min(samples.len() - from)
            } else {
                samples.len()
            };
            let head = &samples[from..from + n];
            let tally = table
                .entry(((secs * 10.0) as u64, lang.clone()))
                .or_default();
            tally.clips += 1;
            let free = t.detect_language(head, &any).expect("detect");
            let chosen = t.detect_language(head, &restricted).expect("detect");
            let free = free.map_or_else(|| "none".into(), |(l, _)| l);
            let chosen = chosen.map_or_else(|| "none".into(), |(l, _)| l);
            if free == *lang {
                tally.right_any += 1;
            } else {
                *tally.wrong_any.entry(free).or_default() += 1;
            }
            if chosen == *lang {
                tally.right_among += 1;
            } else {
                *tally.wrong_among.entry(chosen).or_default() += 1;
            }
        }
    }
    println!(
        "| clip length | language | clips | right, any language | wrong answers | right, among {} | wrong answers |",
        among.join(", ")
    );
    println!("|---|---|---:|---:|---|---:|---|");
    let mut totals: BTreeMap<u64, (usize, usize, usize)> = BTreeMap::new();
    for ((tenths, lang), tally) in &table {
        let length = if *tenths == 0 {
            "whole".to_string()
        } else {
            format!("{:.1} s", *tenths as f64 / 10.0)
        };
        println!(
            "| {length} | {lang} | {} | {} | {} | {} | {} |",
            tally.clips,
            tally.right_any,
            wrongs(&tally.wrong_any),
            tally.right_among,
            wrongs(&tally.wrong_among)
        );
        let total = totals.entry(*tenths).or_default();
        total.0 += tally.clips;
        total.1 += tally.right_any;
        total.2 += tally.right_among;
    }
    for (tenths, (clips, any, among)) in totals {
        let length = if tenths == 0 {
            "whole".to_string()
        } else {
            format!("{:.1} s", tenths as f64 / 10.0)
        };
        println!("| {length} | all | {clips} | {any} | | {among} | |");
    }
}
