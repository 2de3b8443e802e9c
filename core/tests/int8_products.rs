//! q8_0 models on the vendored whisper.cpp's int8 GEMM (patch 0006: the BLAS backend runs
//! products with q8_0 weights as oneDNN u8 x s8 GEMMs with per-row scales): built whenever
//! oneDNN is installed, and what it computes tracks the f16 model.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::raw::{blas_report, built_with_onednn, cosine, first_logits};
use common::speech::{speak, speech_set, transcribe};
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model, QuantType};
use stenograph::testing::eval::wer;
use stenograph::testing::greedy_token;

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

#[test]
fn builds_with_onednn_have_int8_products() {
    let expected = built_with_onednn();
    let found = blas_report(c"ggml_backend_blas_int8_gemm");
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
