//! Criterion: latency of one transcription with tiny.en (model loaded once) on a 3 s clip, a
//! 30 s clip and a 10-minute file of espeak-ng speech.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stenograph::transcribe::{TranscribeOptions, Transcriber};
use stenograph_benches::speech_set;

/// Speech clips joined with 0.5 s pauses until `seconds` long.
fn speech_of(clips: &[Vec<f32>], seconds: f64) -> Vec<f32> {
    let mut out = Vec::new();
    for c in clips.iter().cycle() {
        if out.len() as f64 / 16_000.0 >= seconds {
            break;
        }
        out.extend_from_slice(c);
        out.extend(std::iter::repeat_n(0.0, 8_000));
    }
    out.truncate((seconds * 16_000.0) as usize);
    out
}

fn latency(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("stenograph-bench-speech");
    let clips: Vec<Vec<f32>> = speech_set(&dir).into_iter().map(|(s, _)| s).collect();
    let t = Transcriber::builder()
        .model("tiny.en")
        .build()
        .expect("tiny.en");
    let opts = TranscribeOptions::default();
    let mut group = c.benchmark_group("transcribe_tiny_en");
    group.sample_size(10);
    for (name, seconds, time) in [("3s", 3.0, 10), ("30s", 30.0, 30), ("10min", 600.0, 300)] {
        let audio = speech_of(&clips, seconds);
        group.measurement_time(Duration::from_secs(time));
        group.throughput(Throughput::Elements(seconds as u64));
        group.bench_function(name, |b| {
            b.iter(|| t.transcribe_samples(&audio, &opts).expect("transcribe"))
        });
    }
    group.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
