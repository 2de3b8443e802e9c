//! CTranslate2 import on exports made here: one file or split parts, f32/f16/int8 weights,
//! each vocabulary format, and broken exports.

use std::path::Path;

use stenograph::model::{Model, ModelSize};
use stenograph::Error;

const D: u32 = 64;
const LAYERS: u32 = 1;

/// Variables of a tiny Whisper in CTranslate2's layout.
fn variables() -> Vec<(String, Vec<u32>)> {
    let mut v: Vec<(String, Vec<u32>)> = vec![
        ("encoder/conv1/weight".into(), vec![D, 80, 3]),
        ("encoder/conv1/bias".into(), vec![D]),
        ("encoder/conv2/weight".into(), vec![D, D, 3]),
        ("encoder/conv2/bias".into(), vec![D]),
        ("encoder/position_encodings/encodings".into(), vec![1500, D]),
        ("encoder/layer_norm/gamma".into(), vec![D]),
        ("encoder/layer_norm/beta".into(), vec![D]),
        ("decoder/embeddings/weight".into(), vec![51_864, D]),
        ("decoder/position_encodings/encodings".into(), vec![448, D]),
        ("decoder/layer_norm/gamma".into(), vec![D]),
        ("decoder/layer_norm/beta".into(), vec![D]),
    ];
    let ln = |v: &mut Vec<(String, Vec<u32>)>, p: String| {
        v.push((format!("{p}/gamma"), vec![D]));
        v.push((format!("{p}/beta"), vec![D]));
    };
    let lin = |v: &mut Vec<(String, Vec<u32>)>, p: String, out: u32, inp: u32| {
        v.push((format!("{p}/weight"), vec![out, inp]));
        v.push((format!("{p}/bias"), vec![out]));
    };
    for stack in ["encoder", "decoder"] {
        for i in 0..LAYERS {
            let b = format!("{stack}/layer_{i}");
            lin(&mut v, format!("{b}/self_attention/linear_0"), 3 * D, D);
            lin(&mut v, format!("{b}/self_attention/linear_1"), D, D);
            ln(&mut v, format!("{b}/self_attention/layer_norm"));
            lin(&mut v, format!("{b}/ffn/linear_0"), 4 * D, D);
            lin(&mut v, format!("{b}/ffn/linear_1"), D, 4 * D);
            ln(&mut v, format!("{b}/ffn/layer_norm"));
            if stack == "decoder" {
                lin(&mut v, format!("{b}/attention/linear_0"), D, D);
                lin(&mut v, format!("{b}/attention/linear_1"), 2 * D, D);
                lin(&mut v, format!("{b}/attention/linear_2"), D, D);
                ln(&mut v, format!("{b}/attention/layer_norm"));
            }
        }
    }
    v
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16 + 1).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

/// A `model.bin` (binary version 6) with deterministic weights; `int8` stores matrices as int8
/// with per-row scales. The decoder's output projection is an alias of the embeddings.
fn model_bin(spec: &str, int8: bool) -> Vec<u8> {
    let vars = variables();
    let mut out = Vec::new();
    out.extend_from_slice(&6u32.to_le_bytes());
    string(&mut out, spec);
    out.extend_from_slice(&3u32.to_le_bytes());
    let scales: Vec<_> = vars.iter().filter(|(_, s)| int8 && s.len() == 2).collect();
    out.extend_from_slice(&((vars.len() + scales.len() + 2) as u32).to_le_bytes());
    let mut x = 1u32;
    for (name, shape) in &vars {
        let n: u32 = shape.iter().product();
        let quantized = int8 && shape.len() == 2;
        string(&mut out, name);
        out.push(shape.len() as u8);
        for d in shape {
            out.extend_from_slice(&d.to_le_bytes());
        }
        if quantized {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
            for _ in 0..n {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                out.push((x >> 24) as u8);
            }
        } else {
            out.push(0);
            out.extend_from_slice(&(n * 4).to_le_bytes());
            for _ in 0..n {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let v = ((x >> 16) as f32 / 65_536.0 - 0.5) * 0.1;
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    for (name, shape) in scales {
        string(&mut out, &format!("{name}_scale"));
        out.push(1);
        out.extend_from_slice(&shape[0].to_le_bytes());
        out.push(0);
        out.extend_from_slice(&(shape[0] * 4).to_le_bytes());
        for _ in 0..shape[0] {
            out.extend_from_slice(&500.0f32.to_le_bytes());
        }
    }
    for (name, value) in [("encoder/num_heads", 2i32), ("decoder/num_heads", 2)] {
        string(&mut out, name);
        out.push(0);
        out.push(3);
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&1u32.to_le_bytes());
    string(&mut out, "decoder/projection/weight");
    string(&mut out, "decoder/embeddings/weight");
    out
}

/// The byte-level vocabulary's text forms: single bytes, filler, then the special tokens.
fn vocabulary() -> Vec<String> {
    let mut printable: Vec<u32> = (33..=126).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut extra = 256;
    let mut tokens = Vec::new();
    for b in 0..=255u32 {
        if printable.contains(&b) {
            tokens.push(char::from_u32(b).unwrap().to_string());
        } else {
            printable.push(b);
            tokens.push(char::from_u32(extra).unwrap().to_string());
            extra += 1;
        }
    }
    tokens.extend((256..50_256).map(|i| format!("t{i}")));
    tokens.push("<|endoftext|>".into());
    tokens.extend((50_257..51_864).map(|i| format!("<|special{i}|>")));
    tokens
}

fn export(dir: &Path, int8: bool, parts: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let bin = model_bin("WhisperSpec", int8);
    if parts == 1 {
        std::fs::write(dir.join("model.bin"), &bin).unwrap();
    } else {
        for (i, chunk) in bin.chunks(bin.len().div_ceil(parts)).enumerate() {
            std::fs::write(dir.join(format!("model.bin.part{}", i + 1)), chunk).unwrap();
        }
    }
    std::fs::write(dir.join("vocabulary.txt"), vocabulary().join("\n")).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
}

#[test]
fn single_file_and_split_parts_import_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("one"), dir.path().join("split"));
    export(&a, false, 1);
    export(&b, false, 3);
    let (out_a, out_b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    let info = Model::import_ct2(&a, &out_a).unwrap();
    Model::import_ct2(&b, &out_b).unwrap();
    assert_eq!(
        std::fs::read(&out_a).unwrap(),
        std::fs::read(&out_b).unwrap()
    );
    assert_eq!(info.size, ModelSize::Other);
    assert_eq!(info.tensor_type, "f16");
    assert_eq!(
        (info.hparams.n_audio_head, info.hparams.n_text_layer),
        (2, 1)
    );
    Model::load(&out_a).unwrap();
}

#[test]
fn int8_weights_are_dequantized() {
    let dir = tempfile::tempdir().unwrap();
    export(&dir.path().join("q"), true, 1);
    let out = dir.path().join("q.bin");
    let info = Model::import_ct2(dir.path().join("q"), &out).unwrap();
    assert_eq!(info.tensor_type, "f16");
    Model::load(&out).unwrap();
}

#[test]
fn vocabulary_from_tokenizer_json() {
    let dir = tempfile::tempdir().unwrap();
    let (txt, json) = (dir.path().join("txt"), dir.path().join("json"));
    export(&txt, false, 1);
    export(&json, false, 1);
    std::fs::remove_file(json.join("vocabulary.txt")).unwrap();
    let vocab: serde_json::Map<String, serde_json::Value> = vocabulary()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, serde_json::Value::from(i)))
        .collect();
    let tokenizer = serde_json::json!({ "model": { "vocab": vocab } });
    std::fs::write(json.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    Model::import_ct2(&txt, &a).unwrap();
    Model::import_ct2(&json, &b).unwrap();
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

#[test]
fn broken_exports_are_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    let case = |name: &str, f: &dyn Fn(&Path)| {
        let d = dir.path().join(name);
        export(&d, false, 1);
        f(&d);
        let err = Model::import_ct2(&d, &out).unwrap_err();
        assert!(matches!(err, Error::Import { .. }), "{name}: {err}");
        assert!(!out.exists(), "{name}: no output is left behind");
        err.to_string()
    };
    let e = case("truncated", &|d| {
        let bin = std::fs::read(d.join("model.bin")).unwrap();
        std::fs::write(d.join("model.bin"), &bin[..bin.len() / 2]).unwrap();
    });
    assert!(e.contains("truncated"), "{e}");
    let e = case("other-spec", &|d| {
        std::fs::write(d.join("model.bin"), model_bin("TransformerSpec", false)).unwrap();
    });
    assert!(e.contains("TransformerSpec"), "{e}");
    let e = case("no-vocab", &|d| {
        std::fs::remove_file(d.join("vocabulary.txt")).unwrap()
    });
    assert!(e.contains("vocabulary"), "{e}");
    let e = case("no-model", &|d| {
        std::fs::remove_file(d.join("model.bin")).unwrap()
    });
    assert!(e.contains("no model.bin"), "{e}");
    let e = case("old-version", &|d| {
        let mut bin = std::fs::read(d.join("model.bin")).unwrap();
        bin[0] = 2;
        std::fs::write(d.join("model.bin"), bin).unwrap();
    });
    assert!(e.contains("version 2"), "{e}");
}

/// A transformers checkpoint of the same tiny architecture; each tensor's values encode its
/// index, so the test can check where every value lands.
fn hf_checkpoint(dir: &Path, prefix: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let mut tensors: Vec<(String, Vec<u32>)> = vec![
        ("encoder.conv1.weight".into(), vec![D, 80, 3]),
        ("encoder.conv1.bias".into(), vec![D]),
        ("encoder.conv2.weight".into(), vec![D, D, 3]),
        ("encoder.conv2.bias".into(), vec![D]),
        ("encoder.embed_positions.weight".into(), vec![1500, D]),
        ("encoder.layer_norm.weight".into(), vec![D]),
        ("encoder.layer_norm.bias".into(), vec![D]),
        ("decoder.embed_tokens.weight".into(), vec![51_864, D]),
        ("decoder.embed_positions.weight".into(), vec![448, D]),
        ("decoder.layer_norm.weight".into(), vec![D]),
        ("decoder.layer_norm.bias".into(), vec![D]),
    ];
    for stack in ["encoder", "decoder"] {
        let l = format!("{stack}.layers.0");
        let attns: &[&str] = if stack == "decoder" {
            &["self_attn", "encoder_attn"]
        } else {
            &["self_attn"]
        };
        for a in attns {
            for p in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                tensors.push((format!("{l}.{a}.{p}.weight"), vec![D, D]));
                if p != "k_proj" {
                    tensors.push((format!("{l}.{a}.{p}.bias"), vec![D]));
                }
            }
            tensors.push((format!("{l}.{a}_layer_norm.weight"), vec![D]));
            tensors.push((format!("{l}.{a}_layer_norm.bias"), vec![D]));
        }
        tensors.push((format!("{l}.fc1.weight"), vec![4 * D, D]));
        tensors.push((format!("{l}.fc1.bias"), vec![4 * D]));
        tensors.push((format!("{l}.fc2.weight"), vec![D, 4 * D]));
        tensors.push((format!("{l}.fc2.bias"), vec![D]));
        tensors.push((format!("{l}.final_layer_norm.weight"), vec![D]));
        tensors.push((format!("{l}.final_layer_norm.bias"), vec![D]));
    }
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (i, (name, shape)) in tensors.iter().enumerate() {
        let n: u32 = shape.iter().product();
        let start = data.len();
        for k in 0..n {
            let v = i as f32 + (k % 7) as f32 / 8.0;
            data.extend_from_slice(&v.to_le_bytes());
        }
        header.insert(
            format!("{prefix}{name}"),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let header = serde_json::Value::Object(header).to_string();
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&data);
    std::fs::write(dir.join("model.safetensors"), file).unwrap();
    let vocab: serde_json::Map<String, serde_json::Value> = vocabulary()
        .into_iter()
        .take(50_257)
        .enumerate()
        .map(|(i, t)| (t, serde_json::Value::from(i)))
        .collect();
    std::fs::write(
        dir.join("vocab.json"),
        serde_json::Value::Object(vocab).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"encoder_attention_heads": 4, "decoder_attention_heads": 4}"#,
    )
    .unwrap();
    // Where each tensor's values came from, for the checks below.
    let index: Vec<String> = tensors.into_iter().map(|(n, _)| n).collect();
    std::fs::write(dir.join("order.txt"), index.join("\n")).unwrap();
}

/// The f32 values of a 1-D f32 tensor in a ggml file.
fn ggml_f32(file: &[u8], name: &str, len: usize) -> Vec<f32> {
    let at = file
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .unwrap()
        + name.len();
    file[at..at + 4 * len]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn transformers_checkpoints_import() {
    let dir = tempfile::tempdir().unwrap();
    for prefix in ["model.", ""] {
        let ckpt = dir.path().join(format!("hf{prefix}"));
        hf_checkpoint(&ckpt, prefix);
        let out = dir.path().join("hf.bin");
        let info = Model::import(&ckpt, &out).unwrap();
        assert_eq!(
            (info.hparams.n_audio_head, info.hparams.n_text_head),
            (4, 4)
        );
        assert_eq!(info.hparams.n_vocab, 51_864);
        Model::load(&out).unwrap();
        // Biases land under their ggml names with their values.
        let order = std::fs::read_to_string(ckpt.join("order.txt")).unwrap();
        let index = |hf: &str| order.lines().position(|l| l == hf).unwrap() as f32;
        let bytes = std::fs::read(&out).unwrap();
        for (ggml, hf) in [
            (
                "decoder.blocks.0.cross_attn.value.bias",
                "decoder.layers.0.encoder_attn.v_proj.bias",
            ),
            (
                "encoder.blocks.0.mlp_ln.weight",
                "encoder.layers.0.final_layer_norm.weight",
            ),
            ("decoder.ln.bias", "decoder.layer_norm.bias"),
        ] {
            let v = ggml_f32(&bytes, ggml, D as usize);
            assert_eq!(v[0], index(hf), "{ggml}");
            assert_eq!(v[1], index(hf) + 0.125, "{ggml}");
        }
    }
}
