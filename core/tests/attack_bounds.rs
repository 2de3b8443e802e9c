//! Limits under attack: small inputs that declare hours of audio, gigabytes of metadata or
//! absurd dimensions are refused with a typed input error, and the heap never holds more than
//! [`BOUND`] while they are read (a counting allocator measures the peak).

mod common;

use common::counting::{peak_since, start_measuring, Counting};
use stenograph::audio::{probe, Audio, AudioSource, DecodeOptions};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most heap any of these inputs may take, decoder state included.
const BOUND: usize = 16 << 20;

fn chunk(id: &[u8; 4], declared: u32, body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend(declared.to_le_bytes());
    c.extend(body);
    c
}

fn fmt_body(rate: u32, channels: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(1u16.to_le_bytes());
    b.extend(channels.to_le_bytes());
    b.extend(rate.to_le_bytes());
    b.extend((rate * 2 * u32::from(channels)).to_le_bytes());
    b.extend((2 * channels).to_le_bytes());
    b.extend(16u16.to_le_bytes());
    b
}

/// A RIFF file whose size agrees with what its chunks declare (saturating at 4 GB), as a
/// consistent liar would write it.
fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let declared = chunks.iter().fold(4u64, |n, c| {
        n + 8 + u64::from(u32::from_le_bytes([c[4], c[5], c[6], c[7]]))
    });
    let mut w = b"RIFF".to_vec();
    w.extend((declared.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    w.extend(b"WAVE");
    w.extend(body);
    w
}

/// Two MP3 frames (MPEG-1 layer III, 32 kb/s, 32 kHz, 144 bytes each) with silent bodies.
fn mp3_frames() -> Vec<u8> {
    let mut f = vec![0xFF, 0xFB, 0x18, 0xC4];
    f.resize(144, 0);
    f.repeat(2)
}

/// The adversarial inputs: a name and the bytes.
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let fmt = chunk(b"fmt ", 16, &fmt_body(16_000, 1));
    let mut out = vec![
        (
            "WAV declaring 7 hours",
            riff(&[fmt.clone(), chunk(b"data", 7 * 3600 * 32_000, &[0; 64])]),
        ),
        (
            "WAV declaring the most data a RIFF size can",
            riff(&[fmt.clone(), chunk(b"data", u32::MAX, &[0; 64])]),
        ),
        (
            "WAV with a 4 GB LIST chunk",
            riff(&[
                fmt.clone(),
                chunk(b"LIST", 0xFFFF_FFF0, b"INFOISFT"),
                chunk(b"data", 64, &[0; 64]),
            ]),
        ),
        (
            "WAV with a 4 GB fmt chunk",
            riff(&[chunk(b"fmt ", 0xFFFF_FFF0, &fmt_body(16_000, 1))]),
        ),
        (
            "WAV with 65535 channels",
            riff(&[
                chunk(b"fmt ", 16, &fmt_body(16_000, 65_535)),
                chunk(b"data", 64, &[0; 64]),
            ]),
        ),
        (
            "WAV at 4 GHz",
            riff(&[
                chunk(b"fmt ", 16, &fmt_body(4_000_000_000, 1)),
                chunk(b"data", 64, &[0; 64]),
            ]),
        ),
    ];
    // ID3v2 tag declaring 256 MB (the largest synchsafe size), then one MP3 frame.
    let mut id3 = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f".to_vec();
    id3.extend(mp3_frames());
    out.push(("MP3 behind a 256 MB ID3 tag", id3));
    // An ID3v2.3 tag of 100 bytes whose one frame declares 2 GB.
    let mut id3 = b"ID3\x03\x00\x00\x00\x00\x00\x64APIC\x7f\xff\xff\xff\x00\x00".to_vec();
    id3.resize(10 + 100, 0);
    id3.extend(mp3_frames());
    out.push(("MP3 with a 2 GB ID3 frame", id3));
    // FLAC: STREAMINFO for 7 days of 16 kHz mono, then a 16 MB picture block cut short.
    let mut flac = b"fLaC".to_vec();
    flac.extend([0x00, 0x00, 0x00, 34]);
    let mut info = vec![0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0];
    let frames: u64 = 7 * 24 * 3600 * 16_000;
    // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total frames.
    let packed: u64 = (16_000u64 << 44) | (15u64 << 36) | frames;
    info.extend(packed.to_be_bytes());
    info.extend([0u8; 16]);
    flac.extend(info);
    flac.extend([0x86, 0xFF, 0xFF, 0xFF]);
    flac.extend(3u32.to_be_bytes());
    flac.extend(u32::MAX.to_be_bytes());
    out.push(("FLAC declaring a week and a 16 MB picture", flac));
    // MP4: a file-type box, then a movie box declaring 2^62 bytes.
    let mut mp4 = Vec::new();
    mp4.extend(20u32.to_be_bytes());
    mp4.extend(b"ftypisom\x00\x00\x02\x00isom");
    mp4.extend(1u32.to_be_bytes());
    mp4.extend(b"moov");
    mp4.extend((1u64 << 62).to_be_bytes());
    mp4.extend(b"\x00\x00\x00\x10mvhd\x00\x00\x00\x00\x00\x00\x00\x00");
    out.push(("MP4 with a 2^62-byte movie box", mp4));
    // MP4: a sample-size table declaring four billion entries.
    let stsz = [
        &20u32.to_be_bytes()[..],
        b"stsz",
        &[0; 4],
        &[0; 4],
        &u32::MAX.to_be_bytes(),
    ]
    .concat();
    let mut boxed = stsz;
    for name in [&b"stbl"[..], b"minf", b"mdia", b"trak", b"moov"] {
        let mut b = ((boxed.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend(name);
        b.extend(boxed);
        boxed = b;
    }
    let mut mp4 = Vec::new();
    mp4.extend(20u32.to_be_bytes());
    mp4.extend(b"ftypisom\x00\x00\x02\x00isom");
    mp4.extend(boxed);
    out.push(("MP4 with a four-billion-entry sample table", mp4));
    // Matroska: an EBML header, then a segment and a tracks element of near-2^56 bytes.
    let mut mkv = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F];
    mkv.extend([0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01]);
    mkv.extend([0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08]);
    mkv.extend([0x42, 0x82, 0x88]);
    mkv.extend(b"matroska");
    mkv.extend([0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]);
    mkv.extend([
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    ]);
    mkv.extend([
        0x16, 0x54, 0xAE, 0x6B, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    ]);
    mkv.extend([0xAE, 0x01, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF]);
    out.push(("Matroska with exabyte elements", mkv));
    out
}

#[test]
fn declared_hours_gigabytes_and_absurd_dimensions_fail_fast_in_bounded_memory() {
    let mut report = Vec::new();
    for (name, bytes) in inputs() {
        assert!(
            bytes.len() < 1024,
            "{name}: the attack itself must be small"
        );
        let base = start_measuring();
        let decoded = Audio::decode(
            AudioSource::from_bytes(bytes.clone()),
            &DecodeOptions::default(),
        );
        let probed = probe(AudioSource::from_bytes(bytes));
        let peak = peak_since(base);
        let outcome = match &decoded {
            Err(e) => format!("{}: {e}", e.code()),
            Ok(a) => format!("{:.3} s of audio", a.duration_seconds()),
        };
        report.push(format!("{name}: peak {} KiB; {outcome}", peak >> 10));
        match decoded {
            Err(e) => assert!(e.is_input_error(), "{name}: not an input error: {e}"),
            // Whatever decodes is the little audio actually present, not what was declared.
            Ok(audio) => assert!(
                audio.duration_seconds() < 1.0,
                "{name}: {} s",
                audio.duration_seconds()
            ),
        }
        if let Err(e) = probed {
            assert!(e.is_input_error(), "{name}: probe: not an input error: {e}");
        }
        assert!(peak < BOUND, "{name}: peak heap {} MiB", peak >> 20);
    }
    println!("{}", report.join("\n"));
}
