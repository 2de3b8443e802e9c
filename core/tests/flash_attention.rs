//! The decoder's flash attention on the CPU (the vendored whisper.cpp's patch 0018: the
//! cross-attention cache head by head, the fused kernel's softmax in two vectorized passes and
//! its sums in FP32) computes what the unfused attention computes: the same greedy tokens, and
//! logits equal to float rounding.

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

#[test]
fn fused_decoder_attention_equals_unfused() {
    let dir = common::dir();
    let model: PathBuf = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let text =
        "Our quarterly sales grew by twelve percent this year, and the new office opens in May.";
    let clip = Audio::from_path(speak(dir, "en-gb", text, "flash-attn"))
        .unwrap()
        .into_samples();
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
