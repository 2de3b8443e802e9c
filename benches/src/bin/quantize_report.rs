//! Quantized models against their f16 original: file size, load time, inference speed and WER
//! on espeak-ng speech. Prints a Markdown table.
//!
//! Usage: `cargo run --release -p stenograph-benches --bin quantize_report -- [MODEL...]`
//! (default: tiny.en; models are fetched into the cache).

use std::time::Instant;

use stenograph::model::{FetchOptions, Model, QuantType};
use stenograph::testing::eval::{wer, words};
use stenograph_benches::{speech_set, transcribe};

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let names = if names.is_empty() {
        vec!["tiny.en".to_string()]
    } else {
        names
    };
    let dir = std::env::temp_dir().join("stenograph-quantize-report");
    std::fs::create_dir_all(&dir).unwrap();
    let set = speech_set(&dir.join("speech"));
    let audio_seconds: f64 = set.iter().map(|(s, _)| s.len() as f64 / 16_000.0).sum();
    println!(
        "{} espeak-ng sentences, {audio_seconds:.1} s of audio, greedy, 1 thread\n",
        set.len()
    );
    println!("| model | type | size MB | load ms | transcribe s | × real time | WER vs text | words changed vs f16 |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for name in names {
        let f16 = Model::fetch_file(&name, &FetchOptions::default()).expect("fetch");
        let mut reference_out: Option<Vec<String>> = None;
        let variants = [
            None,
            Some(QuantType::Q8_0),
            Some(QuantType::Q5_1),
            Some(QuantType::Q5_0),
            Some(QuantType::Q4_0),
        ];
        for q in variants {
            let path = match q {
                None => f16.clone(),
                Some(t) => {
                    let out = dir.join(format!("{name}-{t}.bin"));
                    Model::quantize(&f16, &out, t).expect("quantize");
                    out
                }
            };
            let load_ms = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    drop(Model::load(&path).expect("load"));
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .fold(f64::MAX, f64::min);
            let model = Model::load(&path).expect("load");
            let t = Instant::now();
            let out: Vec<String> = set.iter().map(|(s, _)| transcribe(&model, s)).collect();
            let secs = t.elapsed().as_secs_f64();
            let w = wer(set
                .iter()
                .map(|(_, r)| *r)
                .zip(out.iter().map(String::as_str)));
            let changed = match &reference_out {
                None => 0.0,
                Some(f16_out) => wer(f16_out
                    .iter()
                    .map(String::as_str)
                    .zip(out.iter().map(String::as_str))),
            };
            let _ = words;
            println!(
                "| {name} | {} | {:.1} | {load_ms:.0} | {secs:.2} | {:.1} | {:.1}% | {:.1}% |",
                q.map_or("f16", QuantType::name),
                model.info().file_bytes as f64 / 1e6,
                audio_seconds / secs,
                w * 100.0,
                changed * 100.0
            );
            if reference_out.is_none() {
                reference_out = Some(out);
            }
        }
    }
}
