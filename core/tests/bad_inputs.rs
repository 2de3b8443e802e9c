//! Nasty inputs get typed errors with clear messages, never a panic.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{dir, ffmpeg, run, speech_stereo_44k, wav_header};
use stenograph::audio::{Audio, AudioSource, DecodeOptions, Truncation, Warning};
use stenograph::Error;

fn decode_bytes(bytes: Vec<u8>, name: &str) -> Result<Audio, Error> {
    Audio::decode(
        AudioSource::from_bytes(bytes).named(name),
        &DecodeOptions::default(),
    )
}

fn converted(name: &str, args: &[&str]) -> PathBuf {
    let path = dir().join(name);
    ffmpeg(speech_stereo_44k(), &path, args);
    path
}

#[test]
fn empty_inputs() {
    let err = Audio::from_bytes(Vec::new()).unwrap_err();
    assert!(matches!(err, Error::EmptyInput { .. }), "{err}");
    assert_eq!(err.to_string(), "<bytes: 0>: input is empty (0 bytes)");

    let path = dir().join("empty.wav");
    std::fs::write(&path, b"").unwrap();
    let err = Audio::from_path(&path).unwrap_err();
    assert!(matches!(err, Error::EmptyInput { .. }), "{err}");
    assert!(err.to_string().contains("empty.wav"), "{err}");

    let err = Audio::from_reader(std::io::Cursor::new(Vec::new())).unwrap_err();
    assert!(matches!(err, Error::EmptyInput { .. }), "{err}");
    let err = Audio::from_pcm_f32(Vec::new(), 16_000, 1).unwrap_err();
    assert!(matches!(err, Error::EmptyInput { .. }), "{err}");
}

#[test]
fn missing_file_names_the_path() {
    let err = Audio::from_path("/nonexistent/call.mp3").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(
        err.to_string().starts_with("/nonexistent/call.mp3: "),
        "{err}"
    );
}

#[test]
fn not_audio() {
    let png = dir().join("image.png");
    let mut args = vec!["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"];
    args.extend_from_slice(&["color=red:s=16x16", "-frames:v", "1", png.to_str().unwrap()]);
    run("ffmpeg", &args);
    let renamed = dir().join("image.mp3");
    std::fs::copy(&png, &renamed).unwrap();
    let err = Audio::from_path(&renamed).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("image.mp3: not audio"), "{err}");

    let err = decode_bytes(b"hello, this is a text file\n".repeat(100), "notes.wav").unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err}");

    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let err = decode_bytes(noise, "noise.bin").unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err}");
}

#[test]
fn absurd_wav_headers() {
    let mut data = wav_header(1_000_001, 1, 16, 2000);
    data.extend(vec![0u8; 2000]);
    let err = decode_bytes(data, "1mhz.wav").unwrap_err();
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err}");
    assert!(err.to_string().contains("1000001 Hz"), "{err}");

    let mut data = wav_header(0, 1, 16, 2000);
    data.extend(vec![0u8; 2000]);
    let err = decode_bytes(data, "0hz.wav").unwrap_err();
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err}");
    assert!(err.to_string().contains("0 Hz"), "{err}");

    let mut data = wav_header(16_000, 100, 16, 2000);
    data.extend(vec![0u8; 2000]);
    let err = decode_bytes(data, "100ch.wav").unwrap_err();
    assert!(matches!(err, Error::InvalidHeader { .. }), "{err}");
    assert!(err.to_string().contains("channel"), "{err}");

    // Exactly 1 MHz is accepted: the limit is inclusive.
    let mut data = wav_header(1_000_000, 1, 16, 200_000);
    data.extend(vec![0u8; 200_000]);
    let audio = decode_bytes(data, "ok.wav").unwrap();
    assert_eq!(audio.samples().len(), 1600);
}

#[test]
fn zero_length_audio() {
    let err = decode_bytes(wav_header(16_000, 1, 16, 0), "nothing.wav").unwrap_err();
    assert!(matches!(err, Error::NoAudio { .. }), "{err}");
    assert!(err.to_string().contains("nothing.wav"), "{err}");
}

#[test]
fn silence_is_valid_audio() {
    let audio = Audio::from_pcm_i16(vec![0; 48_000 * 2], 48_000, 2).unwrap();
    assert_eq!(audio.samples().len(), 16_000);
    assert!(audio.samples().iter().all(|&s| s == 0.0));
}

#[test]
fn wav_cut_in_half() {
    let bytes = std::fs::read(speech_stereo_44k()).unwrap();
    let half = bytes[..bytes.len() / 2].to_vec();

    let audio = decode_bytes(half.clone(), "half.wav").unwrap();
    let full = Audio::from_path(speech_stereo_44k()).unwrap();
    let ratio = audio.duration_seconds() / full.duration_seconds();
    assert!((ratio - 0.5).abs() < 0.01, "{ratio}");
    match audio.warnings() {
        [Warning::Truncated {
            decoded_seconds,
            expected_seconds: Some(expected),
            ..
        }] => {
            assert!((decoded_seconds / expected - 0.5).abs() < 0.01);
        }
        other => panic!("expected one truncation warning, got {other:?}"),
    }

    let mut strict = DecodeOptions::default();
    strict.truncation = Truncation::Error;
    let err = Audio::decode(AudioSource::from_bytes(half).named("half.wav"), &strict).unwrap_err();
    match &err {
        Error::Truncated {
            decoded_seconds, ..
        } => assert!(*decoded_seconds > 1.0),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().contains("half.wav: truncated audio"),
        "{err}"
    );
}

#[test]
fn truncated_compressed_files_keep_what_decoded() {
    for (name, args) in [
        ("t.mp3", vec![]),
        ("t.flac", vec![]),
        ("t.ogg", vec!["-c:a", "libvorbis"]),
        ("t.opus", vec!["-c:a", "libopus"]),
    ] {
        let bytes = std::fs::read(converted(name, &args)).unwrap();
        let cut = bytes[..bytes.len() * 6 / 10].to_vec();
        match decode_bytes(cut, name) {
            Ok(audio) => {
                assert!(
                    audio.duration_seconds() > 1.0,
                    "{name}: {}",
                    audio.duration_seconds()
                );
                assert!(
                    audio
                        .warnings()
                        .iter()
                        .any(|w| matches!(w, Warning::Truncated { .. })),
                    "{name}: no truncation warning: {:?}",
                    audio.warnings()
                );
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn truncated_mp4_is_a_corrupt_stream() {
    // The MP4 demuxer needs the whole media atom; a cut file is reported, not guessed at.
    let path = converted("t.m4a", &["-c:a", "aac", "-movflags", "+faststart"]);
    let bytes = std::fs::read(path).unwrap();
    let err = decode_bytes(bytes[..bytes.len() * 6 / 10].to_vec(), "t.m4a").unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().starts_with("t.m4a: corrupt audio stream"),
        "{err}"
    );
}

#[test]
fn too_long_declared_and_decoded() {
    // 44 bytes that declare 7 hours.
    let data = wav_header(16_000, 1, 16, 7 * 3600 * 16_000 * 2);
    let err = decode_bytes(data, "claims7h.wav").unwrap_err();
    match err {
        Error::TooLong {
            declared: true,
            seconds,
            ..
        } => assert_eq!(seconds, 25_200.0),
        other => panic!("{other}"),
    }
    // A stream with no declared length, over a small limit.
    let mut opts = DecodeOptions::default();
    opts.max_duration = Duration::from_secs(2);
    let bytes = std::fs::read(converted("long.ogg", &["-c:a", "libvorbis"])).unwrap();
    let err = Audio::decode(AudioSource::from_stream(std::io::Cursor::new(bytes)), &opts);
    match err.unwrap_err() {
        Error::TooLong {
            declared, seconds, ..
        } => {
            let _ = declared;
            assert!(seconds > 2.0);
        }
        other => panic!("{other}"),
    }
    let err = Audio::decode(
        AudioSource::from_pcm_f32(vec![0.0; 48_000], 16_000, 1),
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::TooLong { declared: true, .. }),
        "{err}"
    );
}

#[test]
fn unsupported_codec_is_named() {
    let path = converted("ac3.mkv", &["-c:a", "ac3"]);
    let err = Audio::from_path(&path).unwrap_err();
    match &err {
        Error::UnsupportedCodec { codec, .. } => assert_eq!(codec, "ac3"),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().contains("unsupported audio codec 'ac3'"),
        "{err}"
    );
}

#[test]
fn video_without_audio() {
    let path = dir().join("silent-film.mp4");
    let mut args = vec!["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"];
    args.extend_from_slice(&["testsrc=size=64x48:rate=5:duration=1", "-c:v", "mpeg4"]);
    args.push(path.to_str().unwrap());
    run("ffmpeg", &args);
    let err = Audio::from_path(&path).unwrap_err();
    assert!(matches!(err, Error::NoAudio { .. }), "{err}");
}

#[test]
fn bad_pcm_arguments() {
    let err = Audio::from_pcm_f32(vec![0.0; 3], 16_000, 2).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = Audio::from_pcm_f32(vec![0.0; 4], 0, 1).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = Audio::from_pcm_f32(vec![0.0; 4], 16_000, 0).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = Audio::from_pcm_f32(vec![0.0; 65], 16_000, 65).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let audio = Audio::from_pcm_f32(vec![f32::NAN, f32::INFINITY, 0.5, -0.5], 16_000, 1).unwrap();
    assert!(audio.samples().iter().all(|s| s.is_finite()));
}

/// Every prefix length and many single-byte corruptions of every format either decode or
/// return an error; none panics, and none runs away with memory (the small limit would trip).
#[test]
fn truncations_and_bit_flips_never_panic() {
    let formats = [
        ("f.wav", vec![]),
        ("f.mp3", vec![]),
        ("f.flac", vec![]),
        ("f.ogg", vec!["-c:a", "libvorbis"]),
        ("f.opus", vec!["-c:a", "libopus"]),
        ("f.m4a", vec!["-c:a", "aac"]),
        ("f.alac.m4a", vec!["-c:a", "alac"]),
        ("f.aiff", vec![]),
        ("f.webm", vec!["-c:a", "libopus"]),
        ("f.mkv", vec!["-c:a", "libvorbis"]),
        ("f.caf", vec![]),
    ];
    let mut opts = DecodeOptions::default();
    opts.max_duration = Duration::from_secs(60);
    let mut outcomes = (0usize, 0usize);
    for (name, args) in formats {
        let bytes = std::fs::read(converted(name, &args)).unwrap();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for frac in [0.0, 0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 0.999] {
            variants.push(bytes[..(bytes.len() as f64 * frac) as usize].to_vec());
        }
        let mut state = 0x9e3779b97f4a7c15u64;
        for _ in 0..40 {
            let mut v = bytes.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state % v.len() as u64) as usize;
                v[i] ^= 1 << (state >> 61);
            }
            variants.push(v);
        }
        for v in variants {
            // Header corruption may hide the format; the name's extension is a hint only.
            match Audio::decode(AudioSource::from_bytes(v).named(name), &opts) {
                Ok(a) => {
                    assert!(a.samples().iter().all(|s| s.is_finite()), "{name}");
                    outcomes.0 += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    outcomes.1 += 1;
                }
            }
        }
    }
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}

/// Found by fuzzing the C ABI: float samples near f32::MAX at a rate that needs resampling
/// overflowed the resampler's FFT into NaN, and rubato panicked.
#[test]
fn huge_float_samples_are_clamped_not_fatal() {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..44_100 {
        let x = if i % 3 == 0 { f32::MAX } else { -3.0e38 };
        w.write_sample(x).unwrap();
        w.write_sample(if i % 7 == 0 { f32::INFINITY } else { f32::NAN })
            .unwrap();
    }
    w.finalize().unwrap();
    let audio = decode_bytes(cursor.into_inner(), "huge.wav").unwrap();
    assert!((audio.duration_seconds() - 1.0).abs() < 0.01);
    assert!(audio
        .samples()
        .iter()
        .all(|s| s.is_finite() && s.abs() <= 64.0));
}

/// Found by fuzzing (`fuzz/artifacts/decode/caught-*`): a Matroska file whose Vorbis setup
/// header gives a codeword 33 bits long makes symphonia index out of bounds while it builds the
/// codebook. The core catches the panic and reports a corrupt stream, whether the stream is
/// decoded on its own thread or inline.
#[test]
fn vorbis_codebook_panic_is_a_typed_error() {
    let bytes = include_bytes!("fixtures/vorbis-codeword-33.mka").to_vec();
    for ahead in [true, false] {
        let mut opts = DecodeOptions::default();
        opts.decode_ahead = ahead;
        let source = AudioSource::from_bytes(bytes.clone()).named("codeword33.mka");
        match Audio::decode(source, &opts) {
            Err(e) => {
                assert!(e.is_input_error(), "{e}");
                assert!(e.to_string().contains("codeword33.mka"), "{e}");
            }
            Ok(audio) => panic!("decoded {} s", audio.duration_seconds()),
        }
    }
}
