//! Importing Hugging Face transformers Whisper checkpoints (`model.safetensors`, or shards
//! listed in `model.safetensors.index.json`) into ggml f16 files.
//!
//! The safetensors header (a length and a JSON table) is parsed here rather than with the
//! `safetensors` crate, whose API works on a whole file held in memory or mapped; reading each
//! tensor on its own keeps one tensor in memory at a time.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use half::{bf16, f16};

use super::convert::write_f16_model;
use super::ggml::Hparams;
use super::vocab::regular_vocab;

/// Where a tensor's bytes are.
struct Entry {
    file: PathBuf,
    dtype: String,
    shape: Vec<u64>,
    offset: u64,
    len: u64,
}

/// Whether `dir` looks like a transformers checkpoint.
pub(crate) fn is_checkpoint(dir: &Path) -> bool {
    dir.join("model.safetensors").is_file() || dir.join("model.safetensors.index.json").is_file()
}

fn dtype_size(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F32" => 4,
        "F16" | "BF16" => 2,
        _ => return None,
    })
}

/// Reads one safetensors file's table of contents.
fn read_table(path: &Path, entries: &mut HashMap<String, Entry>) -> Result<(), String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file_len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|_| format!("{}: too short for safetensors", path.display()))?;
    let n = u64::from_le_bytes(n);
    if n > 100 << 20 || n + 8 > file_len {
        return Err(format!("{}: header of {n} bytes", path.display()));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|e| e.to_string())?;
    let table: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| format!("{}: header is not JSON: {e}", path.display()))?;
    let data_start = 8 + n;
    for (name, v) in table {
        if name == "__metadata__" {
            continue;
        }
        let dtype = v["dtype"].as_str().unwrap_or("").to_string();
        let shape: Vec<u64> = v["shape"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_u64()).collect())
            .unwrap_or_default();
        let offsets: Vec<u64> = v["data_offsets"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_u64()).collect())
            .unwrap_or_default();
        let [start, end] = offsets[..] else {
            return Err(format!("{name}: bad data_offsets"));
        };
        let size =
            dtype_size(&dtype).ok_or_else(|| format!("{name}: unsupported dtype {dtype}"))?;
        let expected = shape.iter().product::<u64>() * size;
        if end < start || end - start != expected || data_start + end > file_len {
            return Err(format!(
                "{name}: data does not fit its shape {shape:?} or the file"
            ));
        }
        entries.insert(
            name,
            Entry {
                file: path.to_path_buf(),
                dtype,
                shape,
                offset: data_start + start,
                len: end - start,
            },
        );
    }
    Ok(())
}

fn read_entries(dir: &Path) -> Result<HashMap<String, Entry>, String> {
    let mut entries = HashMap::new();
    let single = dir.join("model.safetensors");
    if single.is_file() {
        read_table(&single, &mut entries)?;
        return Ok(entries);
    }
    let index = dir.join("model.safetensors.index.json");
    let text = std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", index.display()))?;
    let mut shards: Vec<&str> = json["weight_map"]
        .as_object()
        .ok_or_else(|| format!("{}: no weight_map", index.display()))?
        .values()
        .filter_map(|v| v.as_str())
        .collect();
    shards.sort_unstable();
    shards.dedup();
    for shard in shards {
        if shard.contains('/') || shard.contains("..") {
            return Err(format!("shard name {shard} leaves the directory"));
        }
        read_table(&dir.join(shard), &mut entries)?;
    }
    Ok(entries)
}

fn read_f32(e: &Entry) -> Result<Vec<f32>, String> {
    let mut f = File::open(&e.file).map_err(|err| format!("{}: {err}", e.file.display()))?;
    let mut raw = vec![0u8; e.len as usize];
    f.seek(SeekFrom::Start(e.offset))
        .and_then(|_| f.read_exact(&mut raw))
        .map_err(|err| format!("{}: {err}", e.file.display()))?;
    Ok(match e.dtype.as_str() {
        "F32" => raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        "F16" => raw
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        _ => raw
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
    })
}

/// The transformers name of a ggml tensor (without the optional `model.` prefix).
fn hf_name(name: &str) -> Option<String> {
    let (stack, rest) = name.split_once('.')?;
    let simple = match rest {
        "positional_embedding" => Some("embed_positions.weight".to_string()),
        "token_embedding.weight" => Some("embed_tokens.weight".to_string()),
        "ln_post.weight" | "ln.weight" => Some("layer_norm.weight".to_string()),
        "ln_post.bias" | "ln.bias" => Some("layer_norm.bias".to_string()),
        _ if rest.starts_with("conv") => Some(rest.to_string()),
        _ => None,
    };
    if let Some(s) = simple {
        return Some(format!("{stack}.{s}"));
    }
    let rest = rest.strip_prefix("blocks.")?;
    let (layer, rest) = rest.split_once('.')?;
    let (module, field) = rest.rsplit_once('.')?;
    let m = match module {
        "attn_ln" => "self_attn_layer_norm".to_string(),
        "cross_attn_ln" => "encoder_attn_layer_norm".to_string(),
        "mlp_ln" => "final_layer_norm".to_string(),
        "mlp.0" => "fc1".to_string(),
        "mlp.2" => "fc2".to_string(),
        _ => {
            let (attn, proj) = module.split_once('.')?;
            let a = if attn == "attn" {
                "self_attn"
            } else {
                "encoder_attn"
            };
            let p = match proj {
                "query" => "q_proj",
                "key" => "k_proj",
                "value" => "v_proj",
                "out" => "out_proj",
                _ => return None,
            };
            format!("{a}.{p}")
        }
    };
    Some(format!("{stack}.layers.{layer}.{m}.{field}"))
}

/// Converts a transformers Whisper checkpoint in `dir` to a ggml f16 model at `out`.
pub(crate) fn import(dir: &Path, out: &Path) -> Result<Hparams, String> {
    let entries = read_entries(dir)?;
    let get = |name: &str| {
        entries
            .get(&format!("model.{name}"))
            .or_else(|| entries.get(name))
            .ok_or_else(|| format!("tensor {name} is missing"))
    };
    let config: serde_json::Value = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let count = |stack: &str| {
        (0..)
            .take_while(|i| get(&format!("{stack}.layers.{i}.fc1.weight")).is_ok())
            .count() as i32
    };
    let emb = &get("decoder.embed_tokens.weight")?.shape;
    let enc_pos = &get("encoder.embed_positions.weight")?.shape;
    let dec_pos = &get("decoder.embed_positions.weight")?.shape;
    let conv1 = &get("encoder.conv1.weight")?.shape;
    if emb.len() != 2 || enc_pos.len() != 2 || dec_pos.len() != 2 || conv1.len() != 3 {
        return Err("unexpected embedding or convolution shapes".into());
    }
    let heads = |key: &str, width: i32| {
        config[key]
            .as_i64()
            .map(|h| h as i32)
            .filter(|&h| h > 0 && width % h == 0)
            .unwrap_or(width / 64)
    };
    let (a, t) = (enc_pos[1] as i32, emb[1] as i32);
    let hparams = Hparams {
        n_vocab: emb[0] as i32,
        n_audio_ctx: enc_pos[0] as i32,
        n_audio_state: a,
        n_audio_head: heads("encoder_attention_heads", a),
        n_audio_layer: count("encoder"),
        n_text_ctx: dec_pos[0] as i32,
        n_text_state: t,
        n_text_head: heads("decoder_attention_heads", t),
        n_text_layer: count("decoder"),
        n_mels: conv1[1] as i32,
        ftype: 1,
    };
    hparams.check()?;
    let vocab = regular_vocab(dir, hparams.n_vocab)?;

    write_f16_model(out, &hparams, &vocab, |t| {
        let name = hf_name(&t.name).ok_or_else(|| format!("no source for tensor {}", t.name))?;
        read_f32(get(&name)?)
    })?;
    Ok(hparams)
}

#[cfg(test)]
mod tests {
    use super::hf_name;

    #[test]
    fn names() {
        let cases = [
            (
                "encoder.positional_embedding",
                "encoder.embed_positions.weight",
            ),
            ("encoder.conv2.bias", "encoder.conv2.bias"),
            ("encoder.ln_post.weight", "encoder.layer_norm.weight"),
            ("decoder.ln.bias", "decoder.layer_norm.bias"),
            (
                "decoder.token_embedding.weight",
                "decoder.embed_tokens.weight",
            ),
            (
                "encoder.blocks.3.attn.key.weight",
                "encoder.layers.3.self_attn.k_proj.weight",
            ),
            (
                "decoder.blocks.0.cross_attn.out.bias",
                "decoder.layers.0.encoder_attn.out_proj.bias",
            ),
            (
                "decoder.blocks.1.cross_attn_ln.weight",
                "decoder.layers.1.encoder_attn_layer_norm.weight",
            ),
            (
                "encoder.blocks.0.mlp.2.weight",
                "encoder.layers.0.fc2.weight",
            ),
            (
                "encoder.blocks.0.mlp_ln.bias",
                "encoder.layers.0.final_layer_norm.bias",
            ),
        ];
        for (ggml, hf) in cases {
            assert_eq!(hf_name(ggml).as_deref(), Some(hf), "{ggml}");
        }
    }
}
