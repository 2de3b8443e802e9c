//! f32 products on oneDNN's sgemm (vendored patch 0021: with oneDNN built in, the BLAS
//! backend's sgemm, which takes an f16 model's weight products, is oneDNN's, whose kernels
//! follow the CPU's instruction sets rather than a table of CPU models): on exactly where
//! oneDNN is built in, and an f16 model computes what it computes on the BLAS library's sgemm.
//! The reference runs in a child process of this test binary with `GGML_BLAS_DNNL_SGEMM=0`,
//! which the backend reads once per process.

mod common;

use std::path::{Path, PathBuf};

use common::raw::{blas_report, built_with_onednn, cosine, first_logits};
use common::speech::{speak, speech_set, transcribe};
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::testing::greedy_token;

/// Set in the child process: the file to write its results into.
const CHILD: &str = "STENOGRAPH_SGEMM_CHILD";

/// The first logits over one clip and the speech set's transcripts, with tiny.en f16.
fn results(model: &Path) -> (Vec<f32>, Vec<String>) {
    let clip = Audio::from_path(speak(
        common::dir(),
        "en-us",
        "The quarterly renewal covers forty seats and the analytics add-on.",
        "sgemm-logits",
    ))
    .unwrap()
    .into_samples();
    let logits = first_logits(model, &clip);
    let loaded = Model::load(model).unwrap();
    let texts = speech_set(common::dir())
        .iter()
        .map(|(wav, _)| transcribe(&loaded, wav).replace('\n', " "))
        .collect();
    (logits, texts)
}

#[test]
fn sgemm_runs_on_onednn_where_it_is_built_in() {
    let found = blas_report(c"ggml_backend_blas_sgemm");
    assert_eq!(found.is_some(), built_with_onednn(), "sgemm: {found:?}");
    if let Some(name) = found {
        let wanted = std::env::var("GGML_BLAS_DNNL_SGEMM").map_or(true, |v| v != "0");
        assert_eq!(name == "oneDNN sgemm", wanted, "{name}");
    }
}

#[test]
fn onednn_sgemm_computes_what_blas_sgemm_does() {
    let model: PathBuf = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let (logits, texts) = results(&model);
    if let Some(file) = std::env::var_os(CHILD) {
        let mut out: Vec<u8> = logits.iter().flat_map(|x| x.to_le_bytes()).collect();
        out.extend(texts.join("\n").into_bytes());
        std::fs::write(file, out).unwrap();
        return;
    }
    if !built_with_onednn() {
        return;
    }
    let file = common::dir().join("sgemm-reference.bin");
    common::rerun_in_child(
        "onednn_sgemm_computes_what_blas_sgemm_does",
        &[
            (CHILD, file.as_os_str()),
            ("GGML_BLAS_DNNL_SGEMM", "0".as_ref()),
        ],
    );
    let bytes = std::fs::read(&file).unwrap();
    let (head, tail) = bytes.split_at(logits.len() * 4);
    let ref_logits: Vec<f32> = head
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let ref_texts: Vec<&str> = std::str::from_utf8(tail).unwrap().split('\n').collect();

    assert_eq!(greedy_token(&logits), greedy_token(&ref_logits));
    // Both are f32 sums of the same products, in another order.
    let c = cosine(&logits, &ref_logits);
    assert!(c > 0.99999, "logits: cosine {c:.7}");
    assert_eq!(texts, ref_texts);
}
