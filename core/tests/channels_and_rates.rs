//! Stereo layouts that break naive down-mixing, and sources at the common sample rates.

mod common;

use common::{best_correlation, dir, ffmpeg, reference, rms, speech_wav, tone, write_wav_i16};
use stenograph::audio::Audio;

/// The espeak-ng speech as f32 at its own rate (22.05 kHz).
fn speech_samples() -> (Vec<f32>, u32) {
    let mut r = hound::WavReader::open(speech_wav()).unwrap();
    let rate = r.spec().sample_rate;
    let s = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    (s, rate)
}

fn interleave(l: &[f32], r: &[f32]) -> Vec<f32> {
    l.iter().zip(r).flat_map(|(&a, &b)| [a, b]).collect()
}

fn assert_like_reference(audio: &Audio, what: &str) {
    let r = reference();
    let (corr, lag) = best_correlation(r, audio.samples(), 800);
    assert!(corr > 0.97, "{what}: correlation {corr:.4} at lag {lag}");
    let db = 20.0 * (rms(audio.samples()) / rms(r)).log10();
    assert!(db.abs() < 1.0, "{what}: level {db:.2} dB off");
}

#[test]
fn speech_on_one_channel_only() {
    let (s, rate) = speech_samples();
    let silent = vec![0.0; s.len()];
    for (name, l, r) in [("left.wav", &s, &silent), ("right.wav", &silent, &s)] {
        let path = dir().join(name);
        write_wav_i16(&path, rate, 2, &interleave(l, r));
        assert_like_reference(&Audio::from_path(&path).unwrap(), name);
    }
}

#[test]
fn phase_inverted_channels() {
    let (s, rate) = speech_samples();
    let inv: Vec<f32> = s.iter().map(|x| -x).collect();
    let path = dir().join("inverted.wav");
    write_wav_i16(&path, rate, 2, &interleave(&s, &inv));
    assert_like_reference(&Audio::from_path(&path).unwrap(), "inverted.wav");

    // Through a joint-stereo MP3, where L = -R is coded as pure side signal.
    let mp3 = dir().join("inverted.mp3");
    ffmpeg(&path, &mp3, &["-b:a", "128k"]);
    assert_like_reference(&Audio::from_path(&mp3).unwrap(), "inverted.mp3");
}

#[test]
fn phase_inverted_channels_as_raw_pcm() {
    let (s, rate) = speech_samples();
    let inv: Vec<f32> = s.iter().map(|x| -x).collect();
    let audio = Audio::from_pcm_f32(interleave(&s, &inv), rate, 2).unwrap();
    assert_like_reference(&audio, "pcm");
}

#[test]
fn common_source_rates() {
    for rate in [
        8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 96_000,
    ] {
        let t = tone(rate, 1000.0, 2.0);
        let path = dir().join(format!("tone{rate}.wav"));
        write_wav_i16(&path, rate, 2, &interleave(&t, &t));
        let audio = Audio::from_path(&path).unwrap();
        let out = audio.samples();
        assert!(
            out.len().abs_diff(32_000) <= 1,
            "{rate}: {} samples",
            out.len()
        );
        // Frequency: count zero crossings in the middle second (1 kHz = 2000 per second).
        let mid = &out[8_000..24_000];
        let crossings = mid
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        assert!(
            crossings.abs_diff(2000) <= 2,
            "{rate}: {crossings} zero crossings"
        );
        // Amplitude: a 0.5 peak sine has an RMS of 0.3536.
        let db = 20.0 * (rms(mid) / (0.5 / 2f64.sqrt())).log10();
        assert!(db.abs() < 0.5, "{rate}: level {db:.2} dB");
        assert_eq!(audio.info().sample_rate, rate);
        assert_eq!(audio.info().channels, 2);
    }
}
