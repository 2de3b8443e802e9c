//! Peak heap use while decoding an hour of audio, measured by a counting allocator.
//!
//! The input is a virtual 1 h 48 kHz stereo WAV (691 MB) generated on the fly by a reader, so
//! the test needs no disk. Holding the decoded original would take 1.4 GB of f32; streaming must
//! stay within a few MiB, and collecting the 16 kHz mono result within a small multiple of it.

mod common;

use common::counting::{peak_since, start_measuring, Counting};
use common::virtual_wav::VirtualWav;
use stenograph::audio::{Audio, AudioSource, AudioStream, DecodeOptions};

#[global_allocator]
static ALLOC: Counting = Counting;

const RATE: u32 = 48_000;
const CHANNELS: u16 = 2;
const SECONDS: u64 = 3600;

/// The virtual hour: a 440 Hz tone on the left, its inverse on the right.
fn virtual_wav() -> VirtualWav {
    let period = one_period();
    VirtualWav::new(RATE, CHANNELS, SECONDS, move |i| period[i % period.len()])
}

/// One period of the data: 1200 frames holding 11 cycles of a 440 Hz tone, interleaved.
fn one_period() -> Vec<i16> {
    let mut samples = Vec::with_capacity(1200 * 2);
    for frame in 0..1200 {
        let phase = frame as f64 / 1200.0 * 11.0;
        let v = (0.4 * (2.0 * std::f64::consts::PI * phase).sin() * 32767.0) as i16;
        samples.extend_from_slice(&[v, -v]);
    }
    samples
}

const MIB: usize = 1 << 20;

#[test]
fn an_hour_of_audio_in_bounded_memory() {
    let expected = SECONDS as usize * 16_000;

    // Streaming: only the pipeline's buffers are alive.
    let base = start_measuring();
    let stream = AudioStream::open(
        AudioSource::from_reader(virtual_wav()),
        &DecodeOptions::default(),
    )
    .unwrap();
    let mut total = 0usize;
    let mut level = 0.0f64;
    for chunk in stream {
        let chunk = chunk.unwrap();
        total += chunk.len();
        level = level.max(chunk.iter().fold(0.0f32, |m, &x| m.max(x.abs())) as f64);
    }
    let streaming_peak = peak_since(base);
    assert_eq!(total, expected);
    // The inverted channels did not cancel: the tone is at full level.
    assert!((level - 0.4).abs() < 0.02, "peak level {level}");
    assert!(
        streaming_peak < 8 * MIB,
        "streaming peak {:.1} MiB",
        streaming_peak as f64 / MIB as f64
    );

    // Collected: the 16 kHz mono result (230 MB) plus growth slack, never the 1.4 GB original.
    let base = start_measuring();
    let audio = Audio::decode(
        AudioSource::from_reader(virtual_wav()),
        &DecodeOptions::default(),
    )
    .unwrap();
    let output_bytes = audio.samples().len() * 4;
    let collected_peak = peak_since(base);
    assert_eq!(audio.samples().len(), expected);
    assert!(
        collected_peak < output_bytes * 2 + 16 * MIB,
        "collected peak {:.1} MiB for {:.1} MiB of output",
        collected_peak as f64 / MIB as f64,
        output_bytes as f64 / MIB as f64
    );
    eprintln!(
        "1 h 48 kHz stereo: streaming peak {:.1} MiB, collected peak {:.1} MiB ({:.1} MiB output)",
        streaming_peak as f64 / MIB as f64,
        collected_peak as f64 / MIB as f64,
        output_bytes as f64 / MIB as f64
    );
}
