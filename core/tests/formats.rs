//! Every supported container and codec decodes to the same 16 kHz mono speech.

mod common;

use std::path::{Path, PathBuf};

use common::{best_correlation, dir, ffmpeg, reference, run, speech_stereo_44k, speech_wav};
use stenograph::audio::{probe, Audio, AudioSource, SAMPLE_RATE};

/// Decodes `path` and checks it against the reference speech: same length (within codec
/// padding), same waveform (correlation at the best small lag), and the expected metadata.
fn check(path: &Path, container: &str, codec: &str, min_corr: f64) {
    let audio = Audio::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r = reference();
    let got = audio.samples();
    let pad = (0.1 * f64::from(SAMPLE_RATE)) as usize; // encoder priming and final-frame padding
    assert!(
        got.len() + 2 >= r.len() && got.len() <= r.len() + pad,
        "{}: {} samples, reference {}",
        path.display(),
        got.len(),
        r.len()
    );
    let (corr, lag) = best_correlation(r, got, 800);
    eprintln!(
        "{}: corr {corr:.4} lag {lag} len {} ref {}",
        path.display(),
        got.len(),
        r.len()
    );
    assert!(
        corr >= min_corr,
        "{}: correlation {corr:.4} at lag {lag}",
        path.display()
    );
    let info = audio.info();
    assert_eq!(info.container, container, "{}", path.display());
    assert_eq!(info.codec, codec, "{}", path.display());
    assert!(
        audio.warnings().is_empty(),
        "{}: {:?}",
        path.display(),
        audio.warnings()
    );
}

fn converted(name: &str, args: &[&str]) -> PathBuf {
    let path = dir().join(name);
    ffmpeg(speech_stereo_44k(), &path, args);
    path
}

fn sox_converted(name: &str, args: &[&str]) -> PathBuf {
    let path = dir().join(name);
    let mut all = vec![speech_wav().to_str().unwrap()];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    run("sox", &all);
    path
}

#[test]
fn wav_sample_formats() {
    let cases = [
        (
            "u8.wav",
            vec!["-e", "unsigned-integer", "-b", "8"],
            "pcm_u8",
            0.99,
        ),
        (
            "s16.wav",
            vec!["-e", "signed-integer", "-b", "16"],
            "pcm_s16le",
            0.9999,
        ),
        (
            "s24.wav",
            vec!["-e", "signed-integer", "-b", "24"],
            "pcm_s24le",
            0.9999,
        ),
        (
            "s32.wav",
            vec!["-e", "signed-integer", "-b", "32"],
            "pcm_s32le",
            0.9999,
        ),
        (
            "f32.wav",
            vec!["-e", "floating-point", "-b", "32"],
            "pcm_f32le",
            0.9999,
        ),
        (
            "f64.wav",
            vec!["-e", "floating-point", "-b", "64"],
            "pcm_f64le",
            0.9999,
        ),
        ("mulaw.wav", vec!["-e", "mu-law"], "pcm_mulaw", 0.995),
        ("alaw.wav", vec!["-e", "a-law"], "pcm_alaw", 0.995),
    ];
    for (name, args, codec, min_corr) in cases {
        let path = sox_converted(name, &args);
        let info = probe(AudioSource::from_path(&path)).unwrap();
        assert_eq!(info.codec, codec, "{name}");
        check(&path, "wave", codec, min_corr);
    }
}

#[test]
fn lossless_containers() {
    check(&converted("s.aiff", &[]), "aiff", "pcm_s16be", 0.9999);
    check(&converted("s.flac", &[]), "flac", "flac", 0.9999);
    check(
        &converted("s.caf", &["-c:a", "pcm_s16le"]),
        "caf",
        "pcm_s16le",
        0.9999,
    );
    check(
        &converted("alac.m4a", &["-c:a", "alac"]),
        "isomp4",
        "alac",
        0.9999,
    );
}

#[test]
fn lossy_codecs() {
    check(&converted("s.mp3", &["-b:a", "128k"]), "mp3", "mp3", 0.97);
    check(
        &converted("s.ogg", &["-c:a", "libvorbis"]),
        "ogg",
        "vorbis",
        0.97,
    );
    check(
        &converted("aac.m4a", &["-c:a", "aac", "-b:a", "128k"]),
        "isomp4",
        "aac",
        0.97,
    );
    check(
        &converted("s.mkv", &["-c:a", "libvorbis"]),
        "matroska",
        "vorbis",
        0.97,
    );
    check(
        &converted("vorbis.webm", &["-c:a", "libvorbis"]),
        "matroska",
        "vorbis",
        0.97,
    );
}

#[test]
fn opus_in_ogg_and_webm() {
    check(
        &converted("s.opus", &["-c:a", "libopus", "-b:a", "64k"]),
        "ogg",
        "opus",
        0.9,
    );
    check(
        &converted("opus.webm", &["-c:a", "libopus", "-b:a", "64k"]),
        "matroska",
        "opus",
        0.9,
    );
    // What phones and messengers send: mono, low bit rate, VoIP mode.
    check(
        &converted(
            "voip.ogg",
            &[
                "-c:a",
                "libopus",
                "-ac",
                "1",
                "-b:a",
                "16k",
                "-application",
                "voip",
            ],
        ),
        "ogg",
        "opus",
        0.8,
    );
}

#[test]
fn video_tracks_are_ignored() {
    let path = dir().join("video.mp4");
    let mut args = vec!["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"];
    args.extend_from_slice(&["testsrc=size=64x48:rate=5", "-i"]);
    args.push(speech_stereo_44k().to_str().unwrap());
    args.extend_from_slice(&["-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "mpeg4"]);
    args.extend_from_slice(&["-c:a", "aac", path.to_str().unwrap()]);
    run("ffmpeg", &args);
    check(&path, "isomp4", "aac", 0.97);
}

#[test]
fn every_input_kind_gives_the_same_samples() {
    let path = converted("kinds.flac", &[]);
    let from_path = Audio::from_path(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let from_bytes = Audio::from_bytes(bytes.clone()).unwrap();
    let from_reader = Audio::from_reader(std::io::Cursor::new(bytes.clone())).unwrap();
    let from_stream = Audio::decode(
        AudioSource::from_stream(std::io::Cursor::new(bytes)),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(from_path.samples(), from_bytes.samples());
    assert_eq!(from_path.samples(), from_reader.samples());
    assert_eq!(from_path.samples(), from_stream.samples());

    // Raw PCM: the original WAV's samples as f32 and as i16.
    let mut wav = hound::WavReader::open(speech_wav()).unwrap();
    let rate = wav.spec().sample_rate;
    let pcm16: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let pcm32: Vec<f32> = pcm16.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let a16 = Audio::from_pcm_i16(pcm16, rate, 1).unwrap();
    let a32 = Audio::from_pcm_f32(pcm32, rate, 1).unwrap();
    assert_eq!(a16.samples(), reference());
    assert_eq!(a32.samples(), reference());
    assert_eq!(a16.info().container, "pcm");
}

#[test]
fn bytes_without_a_name_are_detected_by_content() {
    for (name, args) in [
        ("sniff.mp3", vec![]),
        ("sniff.ogg", vec!["-c:a", "libopus"]),
        ("sniff.m4a", vec!["-c:a", "aac"]),
    ] {
        let bytes = std::fs::read(converted(name, &args)).unwrap();
        let audio = Audio::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(audio.duration_seconds() > 3.0, "{name}");
    }
}

#[test]
fn metadata_without_decoding() {
    let path = converted("meta.flac", &[]);
    let info = probe(AudioSource::from_path(&path)).unwrap();
    assert_eq!(info.sample_rate, 44_100);
    assert_eq!(info.channels, 2);
    assert_eq!(info.bits_per_sample, Some(16));
    let expected = hound::WavReader::open(speech_wav()).unwrap().duration() as f64 / 22_050.0;
    let got = info.duration_seconds.unwrap();
    assert!((got - expected).abs() < 0.01, "{got} vs {expected}");
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["container"], "flac");
}

#[test]
fn other_codecs_and_containers() {
    check(
        &converted("ms.wav", &["-c:a", "adpcm_ms"]),
        "wave",
        "adpcm_ms",
        0.97,
    );
    check(
        &converted("ima.wav", &["-c:a", "adpcm_ima_wav"]),
        "wave",
        "adpcm_ima_wav",
        0.97,
    );
    check(&converted("s.mp2", &["-c:a", "mp2"]), "mp2", "mp2", 0.97);
    check(&converted("s.aac", &["-c:a", "aac"]), "aac", "aac", 0.97);
    check(
        &converted("flac.oga", &["-c:a", "flac"]),
        "ogg",
        "flac",
        0.9999,
    );
    check(
        &converted("flac.mkv", &["-c:a", "flac"]),
        "matroska",
        "flac",
        0.9999,
    );
    check(
        &converted("aac.mkv", &["-c:a", "aac"]),
        "matroska",
        "aac",
        0.97,
    );
    check(
        &converted("pcm.mkv", &["-c:a", "pcm_s16le"]),
        "matroska",
        "pcm_s16le",
        0.9999,
    );
}
