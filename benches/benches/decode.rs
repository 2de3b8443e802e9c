//! Criterion: decode + down-mix + resample to 16 kHz mono, in process, per format.
//! Throughput is reported in bytes of input; each fixture holds 30 s of 44.1 kHz stereo speech.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stenograph::audio::{AudioSource, AudioStream, DecodeOptions};
use stenograph_benches::speech_fixtures;

fn decode(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("stenograph-bench-fixtures");
    let mut group = c.benchmark_group("decode_to_16k_mono");
    group.sample_size(10);
    for (ext, path) in speech_fixtures(&dir, 30) {
        let bytes = std::fs::read(&path).unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(ext, |b| {
            b.iter(|| {
                let source = AudioSource::from_bytes(bytes.clone()).named(path.to_str().unwrap());
                let stream = AudioStream::open(source, &DecodeOptions::default()).unwrap();
                stream.map(|c| c.unwrap().len()).sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
