//! Peak heap use while decoding an hour of audio, measured by a counting allocator.
//!
//! The input is a virtual 1 h 48 kHz stereo WAV (691 MB) generated on the fly by a reader, so
//! the test needs no disk. Holding the decoded original would take 1.4 GB of f32; streaming must
//! stay within a few MiB, and collecting the 16 kHz mono result within a small multiple of it.

mod common;

use std::io::{Read, Seek, SeekFrom};

use common::counting::{peak_since, start_measuring, Counting};
use stenograph::audio::{Audio, AudioSource, AudioStream, DecodeOptions};

#[global_allocator]
static ALLOC: Counting = Counting;

const RATE: u32 = 48_000;
const CHANNELS: u16 = 2;
const SECONDS: u64 = 3600;

/// A WAV file that exists only as a function of the read position: a 440 Hz tone on the left,
/// its inverse on the right.
struct VirtualWav {
    pos: u64,
    header: Vec<u8>,
    period: Vec<u8>,
    len: u64,
}

impl VirtualWav {
    fn new() -> Self {
        let data_len = SECONDS * u64::from(RATE) * u64::from(CHANNELS) * 2;
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&CHANNELS.to_le_bytes());
        h.extend_from_slice(&RATE.to_le_bytes());
        h.extend_from_slice(&(RATE * u32::from(CHANNELS) * 2).to_le_bytes());
        h.extend_from_slice(&(CHANNELS * 2).to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&(data_len as u32).to_le_bytes());
        let len = h.len() as u64 + data_len;
        Self {
            pos: 0,
            header: h,
            period: one_period(),
            len,
        }
    }

    fn byte_at(&self, pos: u64) -> u8 {
        if pos < self.header.len() as u64 {
            return self.header[pos as usize];
        }
        let offset = (pos - self.header.len() as u64) as usize;
        self.period[offset % self.period.len()]
    }
}

/// One period of the data: 1200 frames holding 11 cycles of a 440 Hz tone.
fn one_period() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1200 * 4);
    for frame in 0..1200 {
        let phase = frame as f64 / 1200.0 * 11.0;
        let v = (0.4 * (2.0 * std::f64::consts::PI * phase).sin() * 32767.0) as i16;
        bytes.extend_from_slice(&v.to_le_bytes());
        bytes.extend_from_slice(&(-v).to_le_bytes());
    }
    bytes
}

impl Read for VirtualWav {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = self.byte_at(self.pos + i as u64);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for VirtualWav {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.pos = match pos {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => (self.len as i64 + d) as u64,
            SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
        };
        Ok(self.pos)
    }
}

const MIB: usize = 1 << 20;

#[test]
fn an_hour_of_audio_in_bounded_memory() {
    let expected = SECONDS as usize * 16_000;

    // Streaming: only the pipeline's buffers are alive.
    let base = start_measuring();
    let stream = AudioStream::open(
        AudioSource::from_reader(VirtualWav::new()),
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
        AudioSource::from_reader(VirtualWav::new()),
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
