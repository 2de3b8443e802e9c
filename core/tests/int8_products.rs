//! q8_0 models on the vendored whisper.cpp's int8 GEMM (patch 0006: the BLAS backend runs
//! products with q8_0 weights as oneDNN u8 x s8 GEMMs with per-row scales): built whenever
//! oneDNN is installed, and what it computes tracks the f16 model.

mod common;

use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::speech::{speak, speech_set, transcribe};
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model, QuantType};
use stenograph::testing::eval::wer;
use stenograph::testing::greedy_token;
use whisper_rs::whisper_rs_sys as sys;

/// What the BLAS backend reports for its int8 products, or `None` when it has none.
fn int8_gemm() -> Option<String> {
    // SAFETY: registry lookups by name; the function, when there, returns a static string.
    unsafe {
        let reg = sys::ggml_backend_reg_by_name(c"BLAS".as_ptr());
        if reg.is_null() {
            return None;
        }
        let f =
            sys::ggml_backend_reg_get_proc_address(reg, c"ggml_backend_blas_int8_gemm".as_ptr());
        if f.is_null() {
            return None;
        }
        let f: extern "C" fn() -> *const c_char = std::mem::transmute(f);
        Some(CStr::from_ptr(f()).to_string_lossy().into_owned())
    }
}

/// tiny.en and its q8_0 quantization (made once per test binary).
fn models() -> &'static (PathBuf, PathBuf) {
    static MODELS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    MODELS.get_or_init(|| {
        let f16 = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
        let q8 = common::dir().join("tiny.en-q8_0-int8-test.bin");
        Model::quantize(&f16, &q8, QuantType::Q8_0).unwrap();
        (f16, q8)
    })
}

/// The logits after the prompt (start of transcript, no timestamps) over one encoded window.
fn first_logits(model: &Path, clip: &[f32]) -> Vec<f32> {
    let path = CString::new(model.to_str().unwrap()).unwrap();
    // SAFETY: plain C calls on valid arguments; every result is checked before use, and the
    // state and context are freed once.
    unsafe {
        let mut params = sys::whisper_context_default_params();
        params.use_gpu = false;
        params.flash_attn = false;
        let ctx = sys::whisper_init_from_file_with_params_no_state(path.as_ptr(), params);
        assert!(!ctx.is_null());
        let state = sys::whisper_init_state(ctx);
        assert!(!state.is_null());
        let n = clip.len() as i32;
        assert_eq!(
            sys::whisper_pcm_to_mel_with_state(ctx, state, clip.as_ptr(), n, 1),
            0
        );
        assert_eq!(sys::whisper_encode_with_state(ctx, state, 0, 1), 0);
        let prompt = [sys::whisper_token_sot(ctx), sys::whisper_token_not(ctx)];
        assert_eq!(
            sys::whisper_decode_with_state(ctx, state, prompt.as_ptr(), 2, 0, 1),
            0
        );
        let n_vocab = sys::whisper_n_vocab(ctx) as usize;
        let logits = sys::whisper_get_logits_from_state(state);
        let last = std::slice::from_raw_parts(logits.add(n_vocab), n_vocab).to_vec();
        sys::whisper_free_state(state);
        sys::whisper_free(ctx);
        last
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn builds_with_onednn_have_int8_products() {
    // whisper-rs-sys's build script turns them on for a native x86-64 build when oneDNN's
    // header is installed (scripts/setup.sh installs libdnnl-dev); GGML_BLAS_DNNL=ON|OFF at
    // build time decides instead.
    let expected = match option_env!("GGML_BLAS_DNNL") {
        Some(v) => matches!(v.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE" | "YES"),
        None => cfg!(target_arch = "x86_64") && Path::new("/usr/include/dnnl.h").exists(),
    };
    let found = int8_gemm();
    assert_eq!(found.is_some(), expected, "int8 GEMM: {found:?}");
    if let Some(name) = found {
        assert!(name.starts_with("oneDNN int8 GEMM"), "{name}");
    }
}

#[test]
fn q8_0_logits_track_the_f16_model() {
    let (f16, q8) = models();
    let clip = Audio::from_path(speak(
        common::dir(),
        "en-gb",
        "Our quarterly sales grew by twelve percent, and the new office opens in May.",
        "int8-logits",
    ))
    .unwrap()
    .into_samples();
    let a = first_logits(f16, &clip);
    let b = first_logits(q8, &clip);
    assert_eq!(greedy_token(&a), greedy_token(&b), "the same first token");
    let c = cosine(&a, &b);
    assert!(c > 0.995, "logits of q8_0 against f16: cosine {c:.5}");
}

#[test]
fn q8_0_transcribes_as_well_as_f16() {
    let (f16, q8) = models();
    let (f16, q8) = (Model::load(f16).unwrap(), Model::load(q8).unwrap());
    let set = speech_set(common::dir());
    let mut pairs_f16 = Vec::new();
    let mut pairs_q8 = Vec::new();
    for (wav, text) in &set {
        pairs_f16.push((*text, transcribe(&f16, wav)));
        pairs_q8.push((*text, transcribe(&q8, wav)));
    }
    let w16 = wer(pairs_f16.iter().map(|(r, h)| (*r, h.as_str())));
    let w8 = wer(pairs_q8.iter().map(|(r, h)| (*r, h.as_str())));
    // At most about two more words wrong of the set's 56.
    assert!(
        w8 <= w16 + 0.04 && w8 < 0.3,
        "WER q8_0 {w8:.3} against f16 {w16:.3}: {pairs_q8:?}"
    );
}
