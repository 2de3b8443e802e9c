//! CPU kernels changed by the vendored patches or the build, checked against the formulas they
//! implement: ggml's GELU and its matrix products (llamafile's tiled kernels) through ggml's own
//! graph API, whisper.cpp's log-softmax over the vocabulary through the token probabilities
//! `whisper_full` reports.

mod common;

use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use whisper_rs::whisper_rs_sys as sys;

/// A ggml context owning 16 MiB for a test's tensors; freed by [`compute_and_free`].
fn ggml_context() -> *mut sys::ggml_context {
    // SAFETY: a plain allocation by ggml, checked before use.
    let ctx = unsafe {
        sys::ggml_init(sys::ggml_init_params {
            mem_size: 16 << 20,
            mem_buffer: std::ptr::null_mut(),
            no_alloc: false,
        })
    };
    assert!(!ctx.is_null());
    ctx
}

/// Computes `y` (an f32 tensor of `n` values in `ctx`) on the CPU backend ggml's registry
/// picks for this CPU (the portable build's best variant, as whisper.cpp's graphs run) with
/// `threads` threads, returns its values and frees `ctx`.
///
/// # Safety
/// `ctx` is a live context from [`ggml_context`] that holds `y`; it is not used afterwards.
unsafe fn compute_and_free(
    ctx: *mut sys::ggml_context,
    y: *mut sys::ggml_tensor,
    n: usize,
    threads: i32,
) -> Vec<f32> {
    let graph = sys::ggml_new_graph(ctx);
    sys::ggml_build_forward_expand(graph, y);
    let backend = sys::ggml_backend_init_by_type(
        sys::ggml_backend_dev_type_GGML_BACKEND_DEVICE_TYPE_CPU,
        std::ptr::null(),
    );
    assert!(!backend.is_null());
    let reg = sys::ggml_backend_dev_backend_reg(sys::ggml_backend_get_device(backend));
    let set_threads =
        sys::ggml_backend_reg_get_proc_address(reg, c"ggml_backend_set_n_threads".as_ptr());
    assert!(!set_threads.is_null());
    let set_threads: unsafe extern "C" fn(sys::ggml_backend_t, i32) =
        std::mem::transmute(set_threads);
    set_threads(backend, threads);
    assert_eq!(
        sys::ggml_backend_graph_compute(backend, graph),
        sys::ggml_status_GGML_STATUS_SUCCESS
    );
    sys::ggml_backend_free(backend);
    let out = std::slice::from_raw_parts(sys::ggml_get_data_f32(y), n).to_vec();
    sys::ggml_free(ctx);
    out
}

/// ggml's GELU (tanh form) over `xs`, computed by the CPU backend on one thread.
fn ggml_gelu(xs: &[f32]) -> Vec<f32> {
    // SAFETY: a ggml context owning its memory; tensors and graph live in it until it is
    // freed at the end; every pointer is checked before use.
    unsafe {
        let ctx = ggml_context();
        let x = sys::ggml_new_tensor_1d(ctx, sys::ggml_type_GGML_TYPE_F32, xs.len() as i64);
        assert!(!x.is_null());
        std::slice::from_raw_parts_mut(sys::ggml_get_data_f32(x), xs.len()).copy_from_slice(xs);
        let y = sys::ggml_gelu(ctx, x);
        compute_and_free(ctx, y, xs.len(), 1)
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
    // ggml without vector exp (a CPU backend without AVX2 and FMA, other architectures)
    // reads an f16 table.
    let used = stenograph::cpu_backend().features;
    let has = |f: &str| used.iter().any(|u| u == f);
    let vector = cfg!(target_arch = "x86_64") && (has("AVX512") || (has("AVX2") && has("FMA")));
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

/// A small deterministic generator of values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// `rows` rows of `k` values stored as ggml type `ty` (q8_0 or f16), and what they hold read
/// back as f32.
fn stored(ty: sys::ggml_type, xs: &[f32], rows: usize, k: usize) -> (Vec<u8>, Vec<f32>) {
    // SAFETY: the buffers are sized by ggml's own row size for `ty`.
    unsafe {
        let mut bytes = vec![0u8; sys::ggml_row_size(ty, k as i64) * rows];
        if ty == sys::ggml_type_GGML_TYPE_F16 {
            sys::ggml_fp32_to_fp16_row(xs.as_ptr(), bytes.as_mut_ptr().cast(), xs.len() as i64);
            let back = bytes
                .chunks_exact(2)
                .map(|h| sys::ggml_fp16_to_fp32(u16::from_le_bytes([h[0], h[1]])))
                .collect();
            return (bytes, back);
        }
        assert_eq!(ty, sys::ggml_type_GGML_TYPE_Q8_0);
        let written = sys::ggml_quantize_chunk(
            ty,
            xs.as_ptr(),
            bytes.as_mut_ptr().cast(),
            0,
            rows as i64,
            k as i64,
            std::ptr::null(),
        );
        assert_eq!(written, bytes.len());
        // A q8_0 block: an f16 scale, then 32 signed bytes.
        let back = bytes
            .chunks_exact(34)
            .flat_map(|b| {
                let d = sys::ggml_fp16_to_fp32(u16::from_le_bytes([b[0], b[1]]));
                b[2..].iter().map(move |&q| d * q as i8 as f32)
            })
            .collect();
        (bytes, back)
    }
}

/// ggml's product of `m` weight rows stored as `ty` with `n` f32 activation rows (all `k` long),
/// computed by the CPU backend on two threads: `n × m` results, row by row.
fn ggml_product(ty: sys::ggml_type, w: &[u8], x: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    // SAFETY: as in `ggml_gelu`; the tensors' sizes are those of the slices copied into them.
    unsafe {
        let ctx = ggml_context();
        let a = sys::ggml_new_tensor_2d(ctx, ty, k as i64, m as i64);
        let b = sys::ggml_new_tensor_2d(ctx, sys::ggml_type_GGML_TYPE_F32, k as i64, n as i64);
        assert!(!a.is_null() && !b.is_null());
        std::slice::from_raw_parts_mut(sys::ggml_get_data(a).cast::<u8>(), w.len())
            .copy_from_slice(w);
        std::slice::from_raw_parts_mut(sys::ggml_get_data_f32(b), x.len()).copy_from_slice(x);
        let y = sys::ggml_mul_mat(ctx, a, b);
        compute_and_free(ctx, y, m * n, 2)
    }
}

#[test]
fn matrix_products_match_their_operands() {
    // The build gives ggml's CPU backend llamafile's tiled kernels unless GGML_LLAMAFILE=OFF.
    let tiled = !matches!(
        option_env!("GGML_LLAMAFILE")
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("OFF" | "0" | "FALSE" | "NO")
    );
    // SAFETY: a plain query of the build.
    assert_eq!(unsafe { sys::ggml_cpu_has_llamafile() } == 1, tiled);
    let (m, k) = (72, 384);
    for ty in [sys::ggml_type_GGML_TYPE_Q8_0, sys::ggml_type_GGML_TYPE_F16] {
        let (w, w_back) = stored(ty, &values(m * k, 1), m, k);
        // One activation row (a greedy decoder), and several (beams, batched tokens), including
        // counts that leave a partial tile.
        for n in [1, 2, 3, 5, 6, 8, 13] {
            let x = values(n * k, 7 + n as u64);
            // ggml converts the activations to the weights' dot-product type first.
            let (_, x_back) = stored(ty, &x, n, k);
            let got = ggml_product(ty, &w, &x, m, n, k);
            for j in 0..n {
                for i in 0..m {
                    let (wr, xr) = (&w_back[i * k..][..k], &x_back[j * k..][..k]);
                    let exact: f64 = wr.iter().zip(xr).map(|(a, b)| *a as f64 * *b as f64).sum();
                    let scale: f64 = wr
                        .iter()
                        .zip(xr)
                        .map(|(a, b)| (*a as f64 * *b as f64).abs())
                        .sum();
                    let g = got[j * m + i] as f64;
                    assert!(
                        (g - exact).abs() <= 2e-5 * scale + 1e-6,
                        "type {ty}, {n} rows: result ({j}, {i}) {g} against {exact}"
                    );
                }
            }
        }
    }
}

/// ggml's `soft_max_ext` of `rows` rows of `x` (`n` wide) with scale `scale` and, when given,
/// an additive f32 mask of the same shape, on the CPU backend with two threads.
fn ggml_softmax(x: &[f32], mask: Option<&[f32]>, n: usize, rows: usize, scale: f32) -> Vec<f32> {
    // SAFETY: as in `ggml_gelu`; the tensors' sizes are those of the slices copied into them.
    unsafe {
        let ctx = ggml_context();
        let f32t = sys::ggml_type_GGML_TYPE_F32;
        let a = sys::ggml_new_tensor_2d(ctx, f32t, n as i64, rows as i64);
        std::slice::from_raw_parts_mut(sys::ggml_get_data_f32(a), x.len()).copy_from_slice(x);
        let m = match mask {
            Some(mask) => {
                let m = sys::ggml_new_tensor_2d(ctx, f32t, n as i64, rows as i64);
                std::slice::from_raw_parts_mut(sys::ggml_get_data_f32(m), mask.len())
                    .copy_from_slice(mask);
                m
            }
            None => std::ptr::null_mut(),
        };
        let y = sys::ggml_soft_max_ext(ctx, a, m, scale, 0.0);
        compute_and_free(ctx, y, x.len(), 2)
    }
}

#[test]
fn softmax_matches_its_formula() {
    // Rows as wide as a trimmed encoder window's attention (not a multiple of 16) and a
    // decoder's causal mask.
    let (n, rows, scale) = (1_037, 6, 0.125f32);
    let x: Vec<f32> = values(n * rows, 3).iter().map(|v| v * 40.0).collect();
    let causal: Vec<f32> = (0..rows)
        .flat_map(|r| {
            (0..n).map(move |i| {
                if i <= 500 + r * 100 {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            })
        })
        .collect();
    for mask in [None, Some(causal.as_slice())] {
        let y = ggml_softmax(&x, mask, n, rows, scale);
        for r in 0..rows {
            let z: Vec<f64> = (0..n)
                .map(|i| {
                    x[r * n + i] as f64 * scale as f64 + mask.map_or(0.0, |m| m[r * n + i] as f64)
                })
                .collect();
            let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
            for i in 0..n {
                let expected = (z[i] - max).exp() / sum;
                let got = y[r * n + i] as f64;
                assert!(
                    (got - expected).abs() <= 2e-6 * expected + 1e-9,
                    "row {r} entry {i} (mask {}): {got} against {expected}",
                    mask.is_some()
                );
            }
        }
    }
}
