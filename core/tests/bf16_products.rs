//! f32 products in bf16 (vendored patch 0008: on CPUs with AVX512-BF16 the BLAS backend runs
//! the encoder's f32 products, attention and convolutions, as oneDNN bf16 matmuls with f32
//! accumulation): present exactly where the CPU has the instructions, and what they compute
//! tracks the f32 products. The f32 reference runs in a child process of this test binary
//! with `GGML_BLAS_BF16=0`, which the backend reads once per process.

mod common;

use std::path::{Path, PathBuf};

use common::raw::{blas_report, built_with_onednn, cosine, first_logits};
use common::speech::{speak, speech_set, transcribe};
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::testing::eval::wer;
use stenograph::testing::greedy_token;

/// Set in the child process: the directory to write its results into.
const CHILD: &str = "STENOGRAPH_BF16_CHILD";

fn cpu_has_bf16() -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("flags"))
                .any(|l| l.split_whitespace().any(|f| f == "avx512_bf16"))
        })
        .unwrap_or(false)
}

fn bf16_wanted() -> bool {
    std::env::var("GGML_BLAS_BF16").map_or(true, |v| v != "0")
}

/// What this process computes: the first logits over one clip, and the speech set's
/// transcripts with their references.
fn results(model: &Path) -> (Vec<f32>, Vec<(String, String)>) {
    let clip = Audio::from_path(speak(
        common::dir(),
        "en-us",
        "Please send the signed contract to our office in Denver before Friday.",
        "bf16-logits",
    ))
    .unwrap()
    .into_samples();
    let logits = first_logits(model, &clip);
    let loaded = Model::load(model).unwrap();
    let texts = speech_set(common::dir())
        .iter()
        .map(|(wav, text)| (text.to_string(), transcribe(&loaded, wav)))
        .collect();
    (logits, texts)
}

fn write_results(dir: &Path, (logits, texts): &(Vec<f32>, Vec<(String, String)>)) {
    let bytes: Vec<u8> = logits.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(dir.join("logits.f32"), bytes).unwrap();
    let lines: Vec<String> = texts.iter().map(|(_, h)| h.replace('\n', " ")).collect();
    std::fs::write(dir.join("texts.txt"), lines.join("\n")).unwrap();
}

fn read_results(dir: &Path) -> (Vec<f32>, Vec<String>) {
    let bytes = std::fs::read(dir.join("logits.f32")).unwrap();
    let logits = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let texts = std::fs::read_to_string(dir.join("texts.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (logits, texts)
}

#[test]
fn f32_products_run_in_bf16_where_the_cpu_has_it() {
    let found = blas_report(c"ggml_backend_blas_f32_gemm");
    assert_eq!(found.is_some(), built_with_onednn(), "f32 GEMM: {found:?}");
    if let Some(name) = found {
        let bf16 = cpu_has_bf16() && bf16_wanted();
        assert_eq!(name.starts_with("oneDNN bf16"), bf16, "{name}");
    }
}

#[test]
fn bf16_products_track_f32_products() {
    let model: PathBuf = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    if let Some(dir) = std::env::var_os(CHILD) {
        write_results(Path::new(&dir), &results(&model));
        return;
    }
    let (logits, texts) = results(&model);
    let dir = common::dir().join("bf16-reference");
    std::fs::create_dir_all(&dir).unwrap();
    common::rerun_in_child(
        "bf16_products_track_f32_products",
        &[(CHILD, dir.as_os_str()), ("GGML_BLAS_BF16", "0".as_ref())],
    );
    let (ref_logits, ref_texts) = read_results(&dir);
    assert_eq!(ref_texts.len(), texts.len());

    assert_eq!(
        greedy_token(&logits),
        greedy_token(&ref_logits),
        "first token"
    );
    let c = cosine(&logits, &ref_logits);
    assert!(
        c > 0.999,
        "logits with bf16 against f32 products: cosine {c:.6}"
    );

    let w = wer(texts.iter().map(|(r, h)| (r.as_str(), h.as_str())));
    let w_ref = wer(texts
        .iter()
        .zip(&ref_texts)
        .map(|((r, _), h)| (r.as_str(), h.as_str())));
    // At most about two more words wrong of the set's 56.
    assert!(
        w <= w_ref + 0.04 && w < 0.3,
        "WER with bf16 {w:.3} against f32 {w_ref:.3}: {texts:?}"
    );
}
