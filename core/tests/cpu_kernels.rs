//! CPU kernels changed by the vendored patches, checked against the formulas they implement:
//! ggml's GELU through ggml's own graph API, whisper.cpp's log-softmax over the vocabulary
//! through the token probabilities `whisper_full` reports.

mod common;

use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use whisper_rs::whisper_rs_sys as sys;

/// ggml's GELU (tanh form) over `xs`, computed by the CPU backend on one thread.
fn ggml_gelu(xs: &[f32]) -> Vec<f32> {
    // SAFETY: a ggml context owning its memory; tensors and graph live in it until it is
    // freed at the end; every pointer is checked before use.
    unsafe {
        let ctx = sys::ggml_init(sys::ggml_init_params {
            mem_size: 16 << 20,
            mem_buffer: std::ptr::null_mut(),
            no_alloc: false,
        });
        assert!(!ctx.is_null());
        let x = sys::ggml_new_tensor_1d(ctx, sys::ggml_type_GGML_TYPE_F32, xs.len() as i64);
        assert!(!x.is_null());
        std::slice::from_raw_parts_mut(sys::ggml_get_data_f32(x), xs.len()).copy_from_slice(xs);
        let y = sys::ggml_gelu(ctx, x);
        let graph = sys::ggml_new_graph(ctx);
        sys::ggml_build_forward_expand(graph, y);
        assert_eq!(
            sys::ggml_graph_compute_with_ctx(ctx, graph, 1),
            sys::ggml_status_GGML_STATUS_SUCCESS
        );
        let out = std::slice::from_raw_parts(sys::ggml_get_data_f32(y), xs.len()).to_vec();
        sys::ggml_free(ctx);
        out
    }
}

fn gelu_reference(x: f64) -> f64 {
    let z = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
    0.5 * x * (1.0 + z.tanh())
}

#[test]
fn gelu_matches_its_formula() {
    // Rows a multiple of 16 long take the vector path wherever there is one.
    let xs: Vec<f32> = (0..24_000).map(|i| -12.0 + i as f32 * 0.001).collect();
    let ys = ggml_gelu(&xs);
    // ggml without vector exp (no AVX2/FMA, other architectures) reads an f16 table.
    let vector = cfg!(target_arch = "x86_64") && {
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    };
    let tolerance = if vector { 2e-6 } else { 2e-3 };
    let mut worst = (0.0f64, 0.0f32);
    for (&x, &y) in xs.iter().zip(&ys) {
        let err = (y as f64 - gelu_reference(x as f64)).abs() / (x.abs() as f64).max(1.0);
        if err > worst.0 {
            worst = (err, x);
        }
    }
    assert!(
        worst.0 <= tolerance,
        "largest error {:.2e} at x = {} (tolerance {tolerance:.0e})",
        worst.0,
        worst.1
    );
    // Far out the function is 0 and x.
    let far = ggml_gelu(
        &[-100.0; 16]
            .iter()
            .chain(&[100.0; 16])
            .copied()
            .collect::<Vec<_>>(),
    );
    assert!(far[..16].iter().all(|y| *y == 0.0), "{far:?}");
    assert!(far[16..].iter().all(|y| *y == 100.0), "{far:?}");
}

#[test]
fn token_probabilities_are_the_softmax_of_the_logits() {
    let path = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let model = Model::load(path).unwrap();
    let audio = Audio::from_path(common::speech_wav()).unwrap();
    let mut state = stenograph::testing::whisper_context(&model)
        .create_state()
        .unwrap();
    state
        .full(common::speech::parity_params(), audio.samples())
        .unwrap();
    let mut probs = Vec::new();
    for segment in state.as_iter() {
        for j in 0..segment.n_tokens() {
            let d = segment.get_token(j).unwrap().token_data();
            // Each token's probability is exp of its log-probability, and both are those of a
            // distribution: log p <= 0, 0 < p <= 1.
            assert!(d.plog <= 0.0, "log p {} > 0", d.plog);
            assert!(d.p > 0.0 && d.p <= 1.0, "p {}", d.p);
            let expected = (d.plog as f64).exp();
            assert!(
                (d.p as f64 - expected).abs() <= 4e-7 * expected + 1e-37,
                "p {} against exp(log p) {expected}",
                d.p
            );
            probs.push(d.p);
        }
    }
    assert!(probs.len() >= 10, "{} tokens", probs.len());
    // Clear synthetic speech: the greedy tokens are mostly sure ones, as they are only with the
    // logits normalized over the whole vocabulary.
    probs.sort_by(f32::total_cmp);
    let median = probs[probs.len() / 2];
    assert!(median > 0.5, "median token probability {median}: {probs:?}");
}
