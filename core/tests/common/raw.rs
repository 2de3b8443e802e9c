//! whisper.cpp's C API straight from the vendored library: backend lookups and one window's
//! logits, for tests of what the patched kernels compute.

use std::ffi::{c_char, CStr, CString};
use std::path::Path;

use whisper_rs::whisper_rs_sys as sys;

/// The string returned by the BLAS backend's function `name` (a proc address that reports
/// which kernel runs a kind of product), or `None` when the backend or the function is absent.
pub fn blas_report(name: &CStr) -> Option<String> {
    // SAFETY: registry lookups by name; the function, when there, returns a static string.
    unsafe {
        let reg = sys::ggml_backend_reg_by_name(c"BLAS".as_ptr());
        if reg.is_null() {
            return None;
        }
        let f = sys::ggml_backend_reg_get_proc_address(reg, name.as_ptr());
        if f.is_null() {
            return None;
        }
        let f: extern "C" fn() -> *const c_char = std::mem::transmute(f);
        Some(CStr::from_ptr(f()).to_string_lossy().into_owned())
    }
}

/// Whether this build has the oneDNN kernels: whisper-rs-sys's build script turns them on for
/// a native x86-64 build when oneDNN's header is installed (scripts/setup.sh installs
/// libdnnl-dev); GGML_BLAS_DNNL=ON|OFF at build time decides instead.
pub fn built_with_onednn() -> bool {
    match option_env!("GGML_BLAS_DNNL") {
        Some(v) => matches!(v.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE" | "YES"),
        None => cfg!(target_arch = "x86_64") && Path::new("/usr/include/dnnl.h").exists(),
    }
}

/// A model loaded for the CPU without flash attention and without a state; the caller frees
/// it with `whisper_free`.
pub fn cpu_context(model: &Path) -> *mut sys::whisper_context {
    cpu_context_with(model, false)
}

/// A model loaded for the CPU, with or without flash attention, without a state; the caller
/// frees it with `whisper_free`.
pub fn cpu_context_with(model: &Path, flash_attn: bool) -> *mut sys::whisper_context {
    let path = CString::new(model.to_str().unwrap()).unwrap();
    // SAFETY: plain C calls on valid arguments.
    let ctx = unsafe {
        let mut params = sys::whisper_context_default_params();
        params.use_gpu = false;
        params.flash_attn = flash_attn;
        sys::whisper_init_from_file_with_params_no_state(path.as_ptr(), params)
    };
    assert!(!ctx.is_null(), "{} loads", model.display());
    ctx
}

/// A new state of `ctx` with `clip` (16 kHz mono, at most 30 s) encoded; the caller frees it
/// with `whisper_free_state`.
pub fn encoded_state(ctx: *mut sys::whisper_context, clip: &[f32]) -> *mut sys::whisper_state {
    // SAFETY: `ctx` is a live context; every result is checked before use.
    unsafe {
        let state = sys::whisper_init_state(ctx);
        assert!(!state.is_null());
        let n = clip.len() as i32;
        assert_eq!(
            sys::whisper_pcm_to_mel_with_state(ctx, state, clip.as_ptr(), n, 1),
            0
        );
        assert_eq!(sys::whisper_encode_with_state(ctx, state, 0, 1), 0);
        state
    }
}

/// The logits after the prompt (start of transcript, no timestamps) over one encoded window.
pub fn first_logits(model: &Path, clip: &[f32]) -> Vec<f32> {
    let ctx = cpu_context(model);
    let state = encoded_state(ctx, clip);
    prompt_logits(ctx, state)
}

/// The logits after the prompt (start of transcript, no timestamps) over the window `state`
/// has encoded; frees `state` and then `ctx`.
pub fn prompt_logits(ctx: *mut sys::whisper_context, state: *mut sys::whisper_state) -> Vec<f32> {
    // SAFETY: plain C calls on the live context and state; every result is checked before
    // use, and both are freed once.
    unsafe {
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

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}
