//! The decoder's flash attention on the CPU (the vendored whisper.cpp's patch 0018: the
//! cross-attention cache head by head, the fused kernel's softmax in two vectorized passes and
//! its sums in FP32) computes what the unfused attention computes: the same greedy tokens, and
//! logits equal to float rounding, also when several tokens are decoded in one step (query
//! rows attended together over one head's keys and values, as a beam search's decoders are).

mod common;

use std::path::{Path, PathBuf};

use common::raw::{cpu_context_with, encoded_state};
use common::speech::speak;
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::testing::greedy_token;
use whisper_rs::whisper_rs_sys as sys;

/// Longest greedy run.
const MAX_STEPS: usize = 60;

/// The greedy run over `clip` with or without flash attention: each step's token and logits.
fn greedy_run(model: &Path, clip: &[f32], flash_attn: bool) -> Vec<(i32, Vec<f32>)> {
    let ctx = cpu_context_with(model, flash_attn);
    let state = encoded_state(ctx, clip);
    let mut steps = Vec::new();
    // SAFETY: plain C calls on the live context and state; every result is checked before use,
    // and both are freed once.
    unsafe {
        let n_vocab = sys::whisper_n_vocab(ctx) as usize;
        let eot = sys::whisper_token_eot(ctx);
        let mut tokens = vec![sys::whisper_token_sot(ctx), sys::whisper_token_not(ctx)];
        let mut n_past = 0;
        while steps.len() < MAX_STEPS {
            let new = &tokens[n_past..];
            let rc = sys::whisper_decode_with_state(
                ctx,
                state,
                new.as_ptr(),
                new.len() as i32,
                n_past as i32,
                1,
            );
            assert_eq!(rc, 0);
            let all = sys::whisper_get_logits_from_state(state);
            let last = std::slice::from_raw_parts(all.add((new.len() - 1) * n_vocab), n_vocab);
            n_past = tokens.len();
            let token = greedy_token(last);
            steps.push((token, last.to_vec()));
            if token == eot {
                break;
            }
            tokens.push(token);
        }
        sys::whisper_free_state(state);
        sys::whisper_free(ctx);
    }
    steps
}

/// tiny.en's weights, and `text` spoken by espeak-ng's `voice` as 16 kHz samples.
fn model_and_speech(voice: &str, text: &str, name: &str) -> (PathBuf, Vec<f32>) {
    let model = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let clip = Audio::from_path(speak(common::dir(), voice, text, name))
        .unwrap()
        .into_samples();
    (model, clip)
}

#[test]
fn fused_decoder_attention_equals_unfused() {
    let (model, clip) = model_and_speech(
        "en-gb",
        "Our quarterly sales grew by twelve percent this year, and the new office opens in May.",
        "flash-attn",
    );
    let plain = greedy_run(&model, &clip, false);
    let fused = greedy_run(&model, &clip, true);
    assert!(plain.len() > 10, "{} steps", plain.len());
    let plain_tokens: Vec<i32> = plain.iter().map(|s| s.0).collect();
    let fused_tokens: Vec<i32> = fused.iter().map(|s| s.0).collect();
    assert_eq!(fused_tokens, plain_tokens);
    for (i, ((_, a), (_, b))) in plain.iter().zip(&fused).enumerate() {
        let top = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            diff <= 2e-3 * top,
            "step {i}: logits differ by {diff} (largest {top})"
        );
    }
}

/// The logits of the last of `tokens` decoded in one step after the encoded `clip`; the
/// earlier rows reach them through the keys and values of the layers above the first.
fn one_step(model: &Path, clip: &[f32], tokens: &[i32], flash_attn: bool) -> Vec<f32> {
    let ctx = cpu_context_with(model, flash_attn);
    let state = encoded_state(ctx, clip);
    // SAFETY: plain C calls on the live context and state; the last row's logits are read
    // within the vocabulary's bounds, and both are freed once.
    unsafe {
        let n_vocab = sys::whisper_n_vocab(ctx) as usize;
        let rc =
            sys::whisper_decode_with_state(ctx, state, tokens.as_ptr(), tokens.len() as i32, 0, 1);
        assert_eq!(rc, 0);
        let all = sys::whisper_get_logits_from_state(state);
        let last =
            std::slice::from_raw_parts(all.add((tokens.len() - 1) * n_vocab), n_vocab).to_vec();
        sys::whisper_free_state(state);
        sys::whisper_free(ctx);
        last
    }
}

#[test]
fn fused_attention_over_many_rows_equals_unfused() {
    let (model, clip) = model_and_speech(
        "en-us",
        "Please send the signed contract to our office in Denver before Friday afternoon.",
        "flash-attn-rows",
    );
    let greedy: Vec<i32> = greedy_run(&model, &clip, false)
        .iter()
        .map(|s| s.0)
        .collect();
    assert!(greedy.len() >= 14, "{} tokens", greedy.len());
    // SAFETY: a context is created to read two token ids and freed at once.
    let prompt = unsafe {
        let ctx = cpu_context_with(&model, false);
        let ids = [sys::whisper_token_sot(ctx), sys::whisper_token_not(ctx)];
        sys::whisper_free(ctx);
        ids
    };
    // 3 to 15 rows in one step: tiles of one to six rows of a head, under the causal mask in
    // the self-attention and unmasked in the cross-attention
    for n in [3, 5, 6, 7, 8, 12, 13, 15] {
        let tokens: Vec<i32> = prompt.iter().chain(&greedy[..n - 2]).copied().collect();
        let plain = one_step(&model, &clip, &tokens, false);
        let fused = one_step(&model, &clip, &tokens, true);
        let top = plain.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = plain
            .iter()
            .zip(&fused)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            diff <= 2e-3 * top,
            "{n} rows: logits differ by {diff} (largest {top})"
        );
        // the last row saw the tokens before it: it predicts the greedy run's next token
        assert_eq!(greedy_token(&fused), greedy[n - 2], "{n} rows");
        assert_eq!(greedy_token(&plain), greedy[n - 2], "{n} rows");
    }
}
