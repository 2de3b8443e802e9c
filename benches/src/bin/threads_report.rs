//! How to spend the cores: decoder states (calls at once) against threads inside each call.
//! Transcribes the same clips under each configuration and prints a Markdown table.
//!
//! Usage: `cargo run --release -p stenograph-benches --bin threads_report -- [MODEL]`
//! (default tiny.en).

use std::sync::Mutex;
use std::time::Instant;

use stenograph::transcribe::{TranscribeOptions, Transcriber};
use stenograph_benches::speech_set;

fn main() {
    let model = std::env::args().nth(1).unwrap_or_else(|| "tiny.en".into());
    let dir = std::env::temp_dir().join("stenograph-threads-report");
    let set = speech_set(&dir);
    let clips: Vec<Vec<f32>> = set.iter().map(|(s, _)| s.clone()).collect();
    let clips: Vec<Vec<f32>> = clips.iter().chain(&clips).cloned().collect();
    let audio: f64 = clips.iter().map(|c| c.len() as f64 / 16_000.0).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{model}, {} clips, {audio:.0} s of audio, {cores} cores\n",
        clips.len()
    );
    println!("| calls at once (states) | threads per call | wall s | × real time |");
    println!("|---:|---:|---:|---:|");
    let mut configs = vec![(1, 1), (1, cores)];
    if cores > 1 {
        configs.push((cores, 1));
    }
    for (states, threads) in configs {
        let t = Transcriber::builder()
            .model(model.as_str())
            .max_concurrent(states)
            .threads_per_call(threads)
            .build()
            .expect("transcriber");
        let opts = TranscribeOptions::default();
        t.transcribe_samples(&clips[0], &opts).expect("warm-up");
        let next = Mutex::new(0usize);
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..states {
                s.spawn(|| loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(c) = clips.get(i) else { break };
                    t.transcribe_samples(c, &opts).expect("transcribe");
                });
            }
        });
        let wall = start.elapsed().as_secs_f64();
        println!("| {states} | {threads} | {wall:.2} | {:.1} |", audio / wall);
    }
}
