//! Loading, checking and quantizing ggml models, on the project's own random-weight model:
//! every bad file is a typed error before whisper.cpp sees it.

use std::path::{Path, PathBuf};

use stenograph::model::{Model, ModelSize, QuantType};
use stenograph::testing::{whisper_context, write_random_model};
use stenograph::Error;
use whisper_rs::{FullParams, SamplingStrategy};

fn random_model(dir: &Path) -> PathBuf {
    let path = dir.join("random.bin");
    write_random_model(&path, 1).unwrap();
    path
}

/// Runs a full greedy decode; the random model produces noise text, but must not fail.
fn run_inference(model: &Model) {
    let mut state = whisper_context(model).create_state().unwrap();
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(1);
    p.set_language(Some("en"));
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    p.set_max_tokens(8);
    p.set_single_segment(true);
    let audio: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.07).sin() * 0.3).collect();
    state.full(p, &audio).unwrap();
}

#[test]
fn random_model_loads_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = random_model(dir.path());
    let info = Model::inspect(&path).unwrap();
    assert_eq!(info.size, ModelSize::Other);
    assert!(!info.multilingual);
    assert_eq!((info.n_mels, info.tensor_type.as_str()), (80, "f16"));
    assert_eq!(info.hparams.n_audio_layer, 2);
    let model = Model::load(&path).unwrap();
    assert_eq!(model.info(), &info);
    run_inference(&model);

    let bytes = std::fs::read(&path).unwrap();
    let from_bytes = Model::from_bytes(&bytes).unwrap();
    assert_eq!(from_bytes.info().hparams, info.hparams);
    // Clones share one context.
    let clone = model.clone();
    assert!(std::sync::Arc::ptr_eq(
        whisper_context(&model),
        whisper_context(&clone)
    ));
}

#[test]
fn missing_and_foreign_files() {
    let err = Model::load("/nonexistent/ggml-tiny.bin").unwrap_err();
    assert!(matches!(err, Error::ModelNotFound { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "/nonexistent/ggml-tiny.bin: model file not found"
    );

    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, hint) in [
        (
            "gguf.bin",
            b"GGUF\x03\0\0\0rest of a gguf file".to_vec(),
            "GGUF",
        ),
        ("ct2.bin", [6u8, 0, 0, 0, 12, 0].to_vec(), "CTranslate2"),
        ("audio.wav", b"RIFF\0\0\0\0WAVEfmt ".to_vec(), "wrong magic"),
        ("tiny.bin", b"lm".to_vec(), "too short"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = Model::load(&path).unwrap_err();
        assert!(matches!(err, Error::NotAModel { .. }), "{name}: {err}");
        assert!(err.to_string().contains(hint), "{name}: {err}");
    }
}

#[test]
fn truncated_models_at_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(random_model(dir.path())).unwrap();
    for cut in [
        10,
        48,
        60,
        1000,
        65_000,
        200_000,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let err = Model::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(err, Error::ModelTruncated { .. }),
            "cut {cut}: {err}"
        );
        assert!(err.to_string().contains("truncated model"), "{err}");
    }
}

#[test]
fn unsupported_tensor_type_and_bad_headers() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(random_model(dir.path())).unwrap();

    // The first tensor header follows the mel filters and vocabulary; find it by its name.
    let name = b"encoder.positional_embedding";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    let type_field = at - 8 - 12 + 8; // n_dims, name_len, ttype, ne[2], name
    let mut bad = bytes.clone();
    bad[type_field..type_field + 4].copy_from_slice(&4i32.to_le_bytes()); // a removed ggml type
    let err = Model::from_bytes(&bad).unwrap_err();
    match &err {
        Error::UnsupportedTensorType {
            tensor, type_id, ..
        } => {
            assert_eq!(tensor, "encoder.positional_embedding");
            assert_eq!(*type_id, 4);
        }
        other => panic!("{other}"),
    }

    // Absurd hyper-parameters: 2^30 vocabulary entries.
    let mut bad = bytes.clone();
    bad[4..8].copy_from_slice(&(1i32 << 30).to_le_bytes());
    let err = Model::from_bytes(&bad).unwrap_err();
    assert!(matches!(err, Error::InvalidModel { .. }), "{err}");

    // A tensor with the wrong shape.
    let mut bad = bytes.clone();
    bad[at - 8..at - 4].copy_from_slice(&32i32.to_le_bytes());
    let err = Model::from_bytes(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidModel { .. } | Error::ModelTruncated { .. }
        ),
        "{err}"
    );
}

#[test]
fn bit_flips_never_reach_whisper_cpp_as_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(random_model(dir.path())).unwrap();
    // Flip bytes in the header, the vocabulary and tensor headers; weights may change freely.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..200 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut v = bytes.clone();
        let i = (state % 700_000) as usize;
        v[i] ^= 0xff;
        // Either it is rejected with a typed error or it is a structurally valid model.
        if let Ok(model) = Model::from_bytes(&v) {
            assert_eq!(model.info().hparams.n_vocab, 51_864);
        }
    }
}

#[test]
fn quantized_models_are_smaller_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let f16 = random_model(dir.path());
    let f16_bytes = Model::inspect(&f16).unwrap().file_bytes;
    // Weights shrink by 34/64, 24/64, 22/64 and 18/64; the f32 parts stay.
    let mut last = f16_bytes;
    for t in [
        QuantType::Q8_0,
        QuantType::Q5_1,
        QuantType::Q5_0,
        QuantType::Q4_0,
    ] {
        let out = dir.path().join(format!("random-{t}.bin"));
        let info = Model::quantize(&f16, &out, t).unwrap();
        assert_eq!(info.tensor_type, t.name());
        let ratio = info.file_bytes as f64 / f16_bytes as f64;
        assert!(
            ratio < 0.62 && info.file_bytes < last,
            "{t}: {ratio:.2} of f16"
        );
        last = info.file_bytes;
        let model = Model::load(&out).unwrap();
        run_inference(&model);
    }
    // k-quants need rows of 256; this model's are 64 wide.
    let err = Model::quantize(&f16, dir.path().join("k.bin"), QuantType::Q4K).unwrap_err();
    assert!(err.to_string().contains("multiple of its block"), "{err}");
    // Quantizing a quantized model is refused.
    let q = dir.path().join("random-q8_0.bin");
    let err = Model::quantize(&q, dir.path().join("qq.bin"), QuantType::Q4_0).unwrap_err();
    assert!(err.to_string().contains("already quantized"), "{err}");
    assert!("q9_9".parse::<QuantType>().is_err());
    assert_eq!("Q5_1".parse::<QuantType>().unwrap(), QuantType::Q5_1);
}

#[test]
fn a_missing_model_path_is_a_missing_file() {
    for missing in [
        "/nonexistent.bin",
        "models/nowhere/ggml-tiny.en.bin",
        "tiny-local.gguf",
    ] {
        match stenograph::model::Model::resolve(missing) {
            Err(stenograph::Error::ModelNotFound { path }) => {
                assert_eq!(path, std::path::Path::new(missing))
            }
            other => panic!("{missing}: {other:?}"),
        }
    }
    // A name that is neither a file nor in the registry is still an unknown name.
    assert!(matches!(
        stenograph::model::Model::resolve("tiny.xx"),
        Err(stenograph::Error::UnknownModel { .. })
    ));
}
