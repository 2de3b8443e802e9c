//! The vendored whisper.cpp's log-mel spectrogram (its FFT is patch 0016) against Whisper's
//! recipe computed here in double precision: the same window's logits from either spectrogram.

mod common;

use std::path::Path;

use common::raw::{cosine, cpu_context, prompt_logits};
use common::speech::speak;
use realfft::RealFftPlanner;
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::testing::mel_filters;
use whisper_rs::whisper_rs_sys as sys;

const N_FFT: usize = 400;
const HOP: usize = 160;
const N_MELS: usize = 80;

/// Whisper's log-mel spectrogram laid out as whisper.cpp holds it (`n_mels` rows of frames,
/// 30 s of zeros padded after the audio, 200 reflected samples before it), in f64; `shift`
/// moves the window that many samples (a wrong spectrogram, for the check to tell apart).
fn reference(samples: &[f32], shift: usize) -> (Vec<f32>, usize) {
    let mut padded = vec![0.0f64; samples.len() + 30 * 16_000 + N_FFT];
    for i in 0..N_FFT / 2 {
        padded[i] = f64::from(samples[N_FFT / 2 - i]);
    }
    for (i, &x) in samples.iter().enumerate() {
        padded[N_FFT / 2 + i] = f64::from(x);
    }
    let n_len = (padded.len() - N_FFT) / HOP;
    let filters = mel_filters(N_MELS);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
    let hann: Vec<f64> = (0..N_FFT)
        .map(|i| 0.5 * (1.0 - (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()))
        .collect();
    let mut mel = vec![0.0f64; N_MELS * n_len];
    let mut frame = fft.make_input_vec();
    let mut bins = fft.make_output_vec();
    for i in 0..n_len {
        for (j, f) in frame.iter_mut().enumerate() {
            *f = padded.get(i * HOP + j + shift).copied().unwrap_or(0.0) * hann[j];
        }
        fft.process(&mut frame, &mut bins).unwrap();
        for m in 0..N_MELS {
            let power: f64 = bins
                .iter()
                .enumerate()
                .map(|(k, c)| f64::from(filters[m * (N_FFT / 2 + 1) + k]) * c.norm_sqr())
                .sum();
            mel[m * n_len + i] = power.max(1e-10).log10();
        }
    }
    let floor = mel.iter().copied().fold(f64::MIN, f64::max) - 8.0;
    let mel = mel
        .iter()
        .map(|&v| ((v.max(floor) + 4.0) / 4.0) as f32)
        .collect();
    (mel, n_len)
}

/// The logits after the prompt (start of transcript, no timestamps) over the window whose
/// spectrogram whisper.cpp computes from `clip` (`mel` None) or is given.
fn logits(model: &Path, clip: &[f32], mel: Option<(&[f32], usize)>) -> Vec<f32> {
    let ctx = cpu_context(model);
    // SAFETY: plain C calls on the live context and a new state; every result is checked
    // before use, and `prompt_logits` frees both.
    let state = unsafe {
        let state = sys::whisper_init_state(ctx);
        assert!(!state.is_null());
        let rc = match mel {
            None => {
                sys::whisper_pcm_to_mel_with_state(ctx, state, clip.as_ptr(), clip.len() as i32, 1)
            }
            Some((m, n_len)) => {
                sys::whisper_set_mel_with_state(ctx, state, m.as_ptr(), n_len as i32, N_MELS as i32)
            }
        };
        assert_eq!(rc, 0);
        assert_eq!(sys::whisper_encode_with_state(ctx, state, 0, 1), 0);
        state
    };
    prompt_logits(ctx, state)
}

#[allow(unused_unsafe)]
fn set_env_f32_products() {
    // SAFETY: no other thread runs in this test binary yet.
    unsafe { std::env::set_var("GGML_BLAS_BF16", "0") };
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn spectrogram_matches_whispers_recipe() {
    // The encoder's f32 products in f32 (not bf16), read once per process: the logits then
    // follow the spectrogram closely enough to tell a right one from a slightly wrong one.
    // This binary's only test sets it before anything loads.
    set_env_f32_products();
    let model = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let wav = speak(
        common::dir(),
        "en-us",
        "The quarterly report is due on Friday, please send it before noon.",
        "spectrogram",
    );
    let clip = Audio::from_path(wav).unwrap().into_samples();
    let ours = logits(&model, &clip, None);
    let (mel, n_len) = reference(&clip, 0);
    let theirs = logits(&model, &clip, Some((&mel, n_len)));
    // A spectrogram off by one sample is a wrong one: it must be told apart.
    let (off, _) = reference(&clip, 1);
    let wrong = logits(&model, &clip, Some((&off, n_len)));
    let (d, d_wrong) = (max_diff(&ours, &theirs), max_diff(&wrong, &theirs));
    let range = theirs.iter().copied().fold(f32::MIN, f32::max)
        - theirs.iter().copied().fold(f32::MAX, f32::min);
    eprintln!(
        "logits range {range:.2}: whisper.cpp's spectrogram off by {d:.2e}, a one-sample shift by {d_wrong:.2e}; cosine {:.8}",
        cosine(&ours, &theirs)
    );
    // A shift by one sample of 160 per frame barely changes the spectrogram; it still moves
    // the logits several times more than the difference left (the encoder's f16 weights).
    assert!(d < 5e-4 * range, "{d} of {range}");
    assert!(d * 5.0 < d_wrong, "{d} against {d_wrong}");
    assert_eq!(
        stenograph::testing::greedy_token(&ours),
        stenograph::testing::greedy_token(&theirs)
    );
}
