//! Importing CTranslate2 Whisper exports (faster-whisper's format) into ggml f16 files.
//!
//! The export is read through an index of its variables, then written tensor by tensor: only
//! one variable's data is in memory at a time, whatever the model's size.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use half::{bf16, f16};

use super::convert::write_f16_model;
use super::ggml::Hparams;
use super::vocab::regular_vocab;

/// A variable's place in `model.bin`.
#[derive(Clone, Debug)]
struct Var {
    shape: Vec<u64>,
    dtype: u8,
    offset: u64,
    nbytes: u64,
}

impl Var {
    fn elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// The variables and aliases of a `model.bin`.
struct Index {
    spec: String,
    vars: HashMap<String, Var>,
    aliases: HashMap<String, String>,
}

impl Index {
    fn get(&self, name: &str) -> Option<(&str, &Var)> {
        let target = self.aliases.get(name).map_or(name, String::as_str);
        self.vars
            .get_key_value(target)
            .map(|(k, v)| (k.as_str(), v))
    }
}

/// `model.bin`, or `model.bin.part1`, `.part2`, … read as one stream.
struct Parts {
    files: Vec<(File, u64)>,
    pos: u64,
    len: u64,
}

impl Parts {
    fn open(dir: &Path) -> Result<Self, String> {
        let single = dir.join("model.bin");
        let mut paths: Vec<PathBuf> = Vec::new();
        if single.is_file() {
            paths.push(single);
        } else {
            for i in 1.. {
                let p = dir.join(format!("model.bin.part{i}"));
                if !p.is_file() {
                    break;
                }
                paths.push(p);
            }
        }
        if paths.is_empty() {
            return Err(format!(
                "{} holds no model.bin (nor model.bin.part1, …)",
                dir.display()
            ));
        }
        let mut files = Vec::new();
        let mut len = 0;
        for p in paths {
            let f = File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let l = f.metadata().map_err(|e| e.to_string())?.len();
            len += l;
            files.push((f, l));
        }
        Ok(Self { files, pos: 0, len })
    }
}

impl Read for Parts {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut start = 0;
        for (f, l) in &mut self.files {
            if self.pos < start + *l {
                let within = self.pos - start;
                f.seek(SeekFrom::Start(within))?;
                let n = (buf.len() as u64).min(*l - within) as usize;
                let got = f.read(&mut buf[..n])?;
                self.pos += got as u64;
                return Ok(got);
            }
            start += *l;
        }
        Ok(0)
    }
}

impl Seek for Parts {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if new < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

fn u8_<R: Read>(r: &mut R) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

fn u16_<R: Read>(r: &mut R) -> io::Result<u16> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    Ok(u16::from_le_bytes(b))
}

fn u32_<R: Read>(r: &mut R) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn string<R: Read>(r: &mut R) -> io::Result<String> {
    let n = u16_(r)? as usize;
    let mut b = vec![0u8; n];
    r.read_exact(&mut b)?;
    if b.last() == Some(&0) {
        b.pop();
    }
    String::from_utf8(b)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "name is not UTF-8"))
}

fn dtype_size(dtype: u8) -> Option<u64> {
    Some(match dtype {
        0 | 3 => 4,
        1 => 1,
        2 | 4 | 5 => 2,
        _ => return None,
    })
}

fn read_index<R: Read + Seek>(r: &mut R, len: u64) -> Result<Index, String> {
    let eof = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            "model.bin is truncated".to_string()
        } else {
            format!("reading model.bin: {e}")
        }
    };
    let version = u32_(r).map_err(eof)?;
    if !(5..=6).contains(&version) {
        return Err(format!(
            "CTranslate2 binary version {version} is not supported (5 and 6 are)"
        ));
    }
    let spec = string(r).map_err(eof)?;
    let _revision = u32_(r).map_err(eof)?;
    let n = u32_(r).map_err(eof)?;
    if n > 100_000 {
        return Err(format!("{n} variables is not plausible"));
    }
    let mut vars = HashMap::new();
    for _ in 0..n {
        let name = string(r).map_err(eof)?;
        let rank = u8_(r).map_err(eof)?;
        if rank > 4 {
            return Err(format!("{name}: rank {rank}"));
        }
        let mut shape = Vec::with_capacity(rank as usize);
        for _ in 0..rank {
            shape.push(u64::from(u32_(r).map_err(eof)?));
        }
        let dtype = u8_(r).map_err(eof)?;
        let nbytes = u64::from(u32_(r).map_err(eof)?);
        let size = dtype_size(dtype).ok_or_else(|| format!("{name}: unknown data type {dtype}"))?;
        let var = Var {
            shape,
            dtype,
            offset: r.stream_position().map_err(|e| e.to_string())?,
            nbytes,
        };
        if var.elements() * size != nbytes {
            return Err(format!("{name}: {nbytes} bytes for shape {:?}", var.shape));
        }
        if var.offset + nbytes > len {
            return Err("model.bin is truncated".into());
        }
        r.seek(SeekFrom::Current(nbytes as i64)).map_err(eof)?;
        vars.insert(name, var);
    }
    let mut aliases = HashMap::new();
    if r.stream_position().map_err(|e| e.to_string())? < len {
        let n = u32_(r).map_err(eof)?;
        for _ in 0..n.min(100_000) {
            let alias = string(r).map_err(eof)?;
            let target = string(r).map_err(eof)?;
            aliases.insert(alias, target);
        }
    }
    Ok(Index {
        spec,
        vars,
        aliases,
    })
}

/// Reads a variable as f32, dequantizing int8 weights with their `_scale` (one per row).
fn read_f32<R: Read + Seek>(r: &mut R, index: &Index, name: &str) -> Result<Vec<f32>, String> {
    let (target, var) = index
        .get(name)
        .ok_or_else(|| format!("variable {name} is missing"))?;
    let mut raw = vec![0u8; var.nbytes as usize];
    r.seek(SeekFrom::Start(var.offset))
        .and_then(|_| r.read_exact(&mut raw))
        .map_err(|e| format!("reading {target}: {e}"))?;
    let values: Vec<f32> = match var.dtype {
        0 => raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        4 => raw
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        5 => raw
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        1 => {
            let scale = read_f32(r, index, &format!("{target}_scale"))?;
            let rows = scale.len().max(1);
            let cols = raw.len() / rows;
            raw.iter()
                .enumerate()
                .map(|(i, &q)| f32::from(q as i8) / scale[(i / cols).min(rows - 1)])
                .collect()
        }
        2 => raw
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
            .collect(),
        3 => raw
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
            .collect(),
        d => return Err(format!("{target}: unknown data type {d}")),
    };
    Ok(values)
}

fn shape_of<'a>(index: &'a Index, name: &str) -> Result<&'a [u64], String> {
    index
        .get(name)
        .map(|(_, v)| v.shape.as_slice())
        .ok_or_else(|| format!("variable {name} is missing"))
}

fn count_layers(index: &Index, prefix: &str) -> i32 {
    (0..)
        .take_while(|i| {
            let p = format!("{prefix}/layer_{i}/");
            index.vars.keys().any(|k| k.starts_with(&p))
        })
        .count() as i32
}

fn heads<R: Read + Seek>(r: &mut R, index: &Index, name: &str, width: i32) -> i32 {
    read_f32(r, index, name)
        .ok()
        .and_then(|v| v.first().copied())
        .map(|h| h as i32)
        .filter(|&h| h > 0 && width % h == 0)
        .unwrap_or(width / 64)
}

/// Where a ggml tensor's data lives in a CTranslate2 export: a variable, and for fused
/// projections which of its equal row blocks.
fn source(name: &str) -> Option<(String, usize, usize)> {
    let (stack, rest) = name.split_once('.')?;
    let whole = |v: String| Some((v, 0, 1));
    let ln = |p: &str, field: &str| {
        let f = if field == "weight" { "gamma" } else { "beta" };
        format!("{p}/{f}")
    };
    match rest {
        "positional_embedding" => return whole(format!("{stack}/position_encodings/encodings")),
        "token_embedding.weight" => return whole("decoder/embeddings/weight".into()),
        "ln_post.weight" | "ln_post.bias" | "ln.weight" | "ln.bias" => {
            let field = rest.rsplit('.').next()?;
            return whole(ln(&format!("{stack}/layer_norm"), field));
        }
        _ => {}
    }
    if let Some(conv) = rest.strip_prefix("conv") {
        let (n, field) = conv.split_once('.')?;
        return whole(format!("encoder/conv{n}/{field}"));
    }
    let rest = rest.strip_prefix("blocks.")?;
    let (layer, rest) = rest.split_once('.')?;
    let base = format!("{stack}/layer_{layer}");
    let (module, field) = rest.rsplit_once('.')?;
    let linear = |m: &str, i: u32| format!("{base}/{m}/linear_{i}/{field}");
    Some(match module {
        "attn_ln" => (
            ln(&format!("{base}/self_attention/layer_norm"), field),
            0,
            1,
        ),
        "cross_attn_ln" => (ln(&format!("{base}/attention/layer_norm"), field), 0, 1),
        "mlp_ln" => (ln(&format!("{base}/ffn/layer_norm"), field), 0, 1),
        "mlp.0" => (linear("ffn", 0), 0, 1),
        "mlp.2" => (linear("ffn", 1), 0, 1),
        "attn.query" => (linear("self_attention", 0), 0, 3),
        "attn.key" => (linear("self_attention", 0), 1, 3),
        "attn.value" => (linear("self_attention", 0), 2, 3),
        "attn.out" => (linear("self_attention", 1), 0, 1),
        "cross_attn.query" => (linear("attention", 0), 0, 1),
        "cross_attn.key" => (linear("attention", 1), 0, 2),
        "cross_attn.value" => (linear("attention", 1), 1, 2),
        "cross_attn.out" => (linear("attention", 2), 0, 1),
        _ => return None,
    })
}

/// Converts the CTranslate2 export in `dir` to a ggml f16 model at `out` (written to a
/// temporary file beside it, then renamed). Returns the hyper-parameters.
pub(crate) fn import(dir: &Path, out: &Path) -> Result<Hparams, String> {
    let mut parts = Parts::open(dir)?;
    let len = parts.len;
    let mut r = BufReader::with_capacity(1 << 20, parts.by_ref());
    let index = read_index(&mut r, len)?;
    if index.spec != "WhisperSpec" {
        return Err(format!(
            "model.bin holds a {}, not a Whisper model",
            if index.spec.is_empty() {
                "model of unknown kind"
            } else {
                &index.spec
            }
        ));
    }
    let emb = shape_of(&index, "decoder/embeddings/weight")?.to_vec();
    let enc_pos = shape_of(&index, "encoder/position_encodings/encodings")?.to_vec();
    let dec_pos = shape_of(&index, "decoder/position_encodings/encodings")?.to_vec();
    let conv1 = shape_of(&index, "encoder/conv1/weight")?.to_vec();
    if emb.len() != 2 || enc_pos.len() != 2 || dec_pos.len() != 2 || conv1.len() != 3 {
        return Err("unexpected embedding or convolution shapes".into());
    }
    let n_audio_state = enc_pos[1] as i32;
    let n_text_state = emb[1] as i32;
    let hparams = Hparams {
        n_vocab: emb[0] as i32,
        n_audio_ctx: enc_pos[0] as i32,
        n_audio_state,
        n_audio_head: heads(&mut r, &index, "encoder/num_heads", n_audio_state),
        n_audio_layer: count_layers(&index, "encoder"),
        n_text_ctx: dec_pos[0] as i32,
        n_text_state,
        n_text_head: heads(&mut r, &index, "decoder/num_heads", n_text_state),
        n_text_layer: count_layers(&index, "decoder"),
        n_mels: conv1[1] as i32,
        ftype: 1,
    };
    hparams.check()?;

    let vocab = regular_vocab(dir, hparams.n_vocab)?;

    write_f16_model(out, &hparams, &vocab, |t| {
        let (var, part, parts) =
            source(&t.name).ok_or_else(|| format!("no source for tensor {}", t.name))?;
        let values = read_f32(&mut r, &index, &var)?;
        let n: i64 = t.ne.iter().product();
        let per_part = values.len() / parts;
        if per_part as i64 != n {
            return Err(format!(
                "{var}: {} values, tensor {} needs {n} x {parts}",
                values.len(),
                t.name
            ));
        }
        Ok(values[part * per_part..(part + 1) * per_part].to_vec())
    })?;
    Ok(hparams)
}
