//! The whisper.cpp ggml model file: hyper-parameters, mel filters, vocabulary, tensors.
//!
//! A file is scanned and checked in full here (every tensor header, name, shape, type and data
//! length) before whisper.cpp is allowed to see it, so a damaged or foreign file becomes a typed
//! error instead of an abort inside C++.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use serde::Serialize;
use whisper_rs::whisper_rs_sys as sys;

/// `ggml` in little-endian: the first four bytes of every whisper.cpp model.
pub const MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp stores `ftype + 1000 * quantization_version` in the header.
const QNT_VERSION_FACTOR: i32 = 1000;
/// The quantization format version ggml writes today.
pub(crate) const QNT_VERSION: i32 = 2;

/// Whisper's architecture hyper-parameters, as stored in a ggml header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Hparams {
    /// Vocabulary size including special tokens (51864 English-only, 51865+ multilingual).
    pub n_vocab: i32,
    /// Encoder positions (1500 for 30 s).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder layers.
    pub n_audio_layer: i32,
    /// Decoder positions (448).
    pub n_text_ctx: i32,
    /// Decoder width.
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder layers.
    pub n_text_layer: i32,
    /// Mel bands of the input spectrogram (80, or 128 for large-v3).
    pub n_mels: i32,
    /// Weight storage type code (`ggml_ftype`), without the quantization version.
    pub ftype: i32,
}

impl Hparams {
    fn fields(&self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    /// Checks that every value is in the range a real Whisper model can have.
    pub(crate) fn check(&self) -> Result<(), String> {
        let f = self.fields();
        if f[..10].iter().any(|&v| v <= 0) {
            return Err(format!("non-positive hyper-parameter in {self:?}"));
        }
        let limits = [
            (self.n_vocab, 1 << 20, "n_vocab"),
            (self.n_audio_ctx, 1 << 16, "n_audio_ctx"),
            (self.n_audio_state, 1 << 14, "n_audio_state"),
            (self.n_audio_layer, 256, "n_audio_layer"),
            (self.n_text_ctx, 1 << 16, "n_text_ctx"),
            (self.n_text_state, 1 << 14, "n_text_state"),
            (self.n_text_layer, 256, "n_text_layer"),
            (self.n_mels, 512, "n_mels"),
        ];
        for (v, max, name) in limits {
            if v > max {
                return Err(format!("{name} = {v} is larger than any Whisper model"));
            }
        }
        if self.n_audio_state % self.n_audio_head != 0 || self.n_text_state % self.n_text_head != 0
        {
            return Err("attention heads do not divide the model width".into());
        }
        Ok(())
    }
}

/// A tensor type whisper.cpp can load, by `ggml_type` code.
pub(crate) fn type_name(ttype: u32) -> Option<&'static str> {
    Some(match ttype {
        0 => "f32",
        1 => "f16",
        2 => "q4_0",
        3 => "q4_1",
        6 => "q5_0",
        7 => "q5_1",
        8 => "q8_0",
        10 => "q2_k",
        11 => "q3_k",
        12 => "q4_k",
        13 => "q5_k",
        14 => "q6_k",
        30 => "bf16",
        _ => return None,
    })
}

/// The tensor type a header `ftype` stores its weight matrices in.
pub(crate) fn weight_type(ftype: i32) -> Option<u32> {
    Some(match ftype {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 3,
        7 => 8,
        8 => 6,
        9 => 7,
        10 => 10,
        11 => 11,
        12 => 12,
        13 => 13,
        14 => 14,
        24 => 30,
        _ => return None,
    })
}

/// Bytes of a tensor of type `ttype` with dimensions `ne` (ggml order), if the shape fits it.
pub(crate) fn tensor_bytes(ttype: u32, ne: &[i64]) -> Option<u64> {
    type_name(ttype)?;
    // SAFETY: `ttype` is one of the supported types above, whose traits have non-zero sizes.
    let (block, row) = unsafe {
        let block = sys::ggml_blck_size(ttype as sys::ggml_type);
        if block <= 0 || ne[0] % block != 0 {
            return None;
        }
        (
            block,
            sys::ggml_row_size(ttype as sys::ggml_type, ne[0]) as u64,
        )
    };
    let _ = block;
    ne[1..]
        .iter()
        .try_fold(row, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))
}

/// One tensor's place in a file.
#[derive(Clone, Debug)]
pub(crate) struct TensorEntry {
    pub name: String,
    /// Dimensions in ggml order (fastest-varying first).
    pub ne: Vec<i64>,
    pub ttype: u32,
    pub offset: u64,
    pub nbytes: u64,
}

/// The structure of a checked ggml model file.
#[derive(Clone, Debug)]
pub(crate) struct GgmlLayout {
    pub hparams: Hparams,
    /// Offset of the first byte after the mel filters and vocabulary.
    pub tensors_offset: u64,
    pub tensors: Vec<TensorEntry>,
}

/// Why a file is not a loadable model.
#[derive(Debug)]
pub(crate) enum ScanError {
    NotAModel(String),
    Truncated(String),
    UnsupportedType { tensor: String, ttype: u32 },
    Invalid(String),
}

fn read_i32<R: Read>(r: &mut R) -> io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

fn eof_as(e: io::Error, what: &str) -> ScanError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ScanError::Truncated(format!("the file ends inside {what}"))
    } else {
        ScanError::Invalid(format!("reading {what}: {e}"))
    }
}

/// What a file that is not ggml probably is, for the error message.
fn identify(magic: [u8; 4]) -> String {
    match &magic {
        b"GGUF" => "a GGUF file, not a whisper.cpp ggml model".into(),
        b"PK\x03\x04" => {
            "a zip archive (a PyTorch checkpoint or a wheel?), not a ggml model".into()
        }
        [6, 0, 0, 0] | [5, 0, 0, 0] => {
            "looks like a CTranslate2 model.bin: convert it with `stenograph model import`".into()
        }
        _ => format!("wrong magic {:02x?}, expected \"lmgg\"", magic),
    }
}

/// Reads and checks a whole model file's structure without reading the weights.
pub(crate) fn scan<R: Read + Seek>(r: &mut R, len: u64) -> Result<GgmlLayout, ScanError> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(|_| {
        ScanError::NotAModel(format!("{len} bytes is too short for a model header"))
    })?;
    if u32::from_le_bytes(magic) != MAGIC {
        return Err(ScanError::NotAModel(identify(magic)));
    }
    let mut f = [0i32; 11];
    for v in &mut f {
        *v = read_i32(r).map_err(|e| eof_as(e, "the header"))?;
    }
    let hparams = Hparams {
        n_vocab: f[0],
        n_audio_ctx: f[1],
        n_audio_state: f[2],
        n_audio_head: f[3],
        n_audio_layer: f[4],
        n_text_ctx: f[5],
        n_text_state: f[6],
        n_text_head: f[7],
        n_text_layer: f[8],
        n_mels: f[9],
        ftype: f[10] % QNT_VERSION_FACTOR,
    };
    hparams.check().map_err(ScanError::Invalid)?;
    let wtype = weight_type(hparams.ftype).ok_or_else(|| ScanError::UnsupportedType {
        tensor: "(file type)".into(),
        ttype: hparams.ftype as u32,
    })?;

    // Mel filters.
    let n_mel = read_i32(r).map_err(|e| eof_as(e, "the mel filters"))?;
    let n_fft = read_i32(r).map_err(|e| eof_as(e, "the mel filters"))?;
    if !(1..=512).contains(&n_mel) || !(1..=4096).contains(&n_fft) {
        return Err(ScanError::Invalid(format!(
            "mel filter bank of {n_mel} x {n_fft} is not plausible"
        )));
    }
    skip(r, len, n_mel as u64 * n_fft as u64 * 4, "the mel filters")?;

    // Vocabulary.
    let n_tokens = read_i32(r).map_err(|e| eof_as(e, "the vocabulary"))?;
    if !(0..=hparams.n_vocab).contains(&n_tokens) {
        return Err(ScanError::Invalid(format!(
            "{n_tokens} vocabulary entries for n_vocab {}",
            hparams.n_vocab
        )));
    }
    for _ in 0..n_tokens {
        let l = read_i32(r).map_err(|e| eof_as(e, "the vocabulary"))?;
        if !(0..=4096).contains(&l) {
            return Err(ScanError::Invalid(format!("vocabulary entry of {l} bytes")));
        }
        skip(r, len, l as u64, "the vocabulary")?;
    }
    let tensors_offset = r
        .stream_position()
        .map_err(|e| ScanError::Invalid(e.to_string()))?;

    // Tensors, to the end of the file.
    let mut tensors = Vec::new();
    let mut pos = tensors_offset;
    while pos < len {
        let n_dims = read_i32(r).map_err(|e| eof_as(e, "a tensor header"))?;
        let name_len = read_i32(r).map_err(|e| eof_as(e, "a tensor header"))?;
        let ttype = read_i32(r).map_err(|e| eof_as(e, "a tensor header"))?;
        if !(1..=4).contains(&n_dims) || !(1..=256).contains(&name_len) {
            return Err(ScanError::Invalid(format!(
                "tensor #{} header has {n_dims} dims and a {name_len}-byte name",
                tensors.len()
            )));
        }
        let mut ne = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = read_i32(r).map_err(|e| eof_as(e, "a tensor header"))?;
            if d <= 0 {
                return Err(ScanError::Invalid(format!("tensor dimension {d}")));
            }
            ne.push(i64::from(d));
        }
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name)
            .map_err(|e| eof_as(e, "a tensor name"))?;
        let name = String::from_utf8(name)
            .map_err(|_| ScanError::Invalid("tensor name is not UTF-8".into()))?;
        let ttype = ttype as u32;
        if type_name(ttype).is_none() {
            return Err(ScanError::UnsupportedType {
                tensor: name,
                ttype,
            });
        }
        let nbytes = tensor_bytes(ttype, &ne).ok_or_else(|| {
            ScanError::Invalid(format!("tensor {name}: shape {ne:?} does not fit its type"))
        })?;
        let offset = r
            .stream_position()
            .map_err(|e| ScanError::Invalid(e.to_string()))?;
        skip(r, len, nbytes, &format!("tensor {name}"))?;
        pos = offset + nbytes;
        tensors.push(TensorEntry {
            name,
            ne,
            ttype,
            offset,
            nbytes,
        });
    }
    check_tensors(&hparams, wtype, &tensors)?;
    Ok(GgmlLayout {
        hparams,
        tensors_offset,
        tensors,
    })
}

/// Moves `n` bytes on, checking they are in the file. Short distances (a vocabulary entry) are
/// read past, so a buffered reader keeps its buffer instead of refilling it after a seek.
fn skip<R: Read + Seek>(r: &mut R, len: u64, n: u64, what: &str) -> Result<(), ScanError> {
    let pos = r
        .stream_position()
        .map_err(|e| ScanError::Invalid(e.to_string()))?;
    let end = pos.checked_add(n).filter(|&e| e <= len).ok_or_else(|| {
        ScanError::Truncated(format!(
            "{what} needs {n} bytes at offset {pos}, the file has {len}"
        ))
    })?;
    if n <= 4096 {
        let read = std::io::copy(&mut r.by_ref().take(n), &mut std::io::sink())
            .map_err(|e| ScanError::Invalid(e.to_string()))?;
        if read == n {
            return Ok(());
        }
    }
    r.seek(SeekFrom::Start(end))
        .map_err(|e| ScanError::Invalid(e.to_string()))?;
    Ok(())
}

/// Checks the tensor set against what the hyper-parameters require: every tensor present once,
/// with the right shape, in a type whisper.cpp accepts for it.
fn check_tensors(h: &Hparams, wtype: u32, tensors: &[TensorEntry]) -> Result<(), ScanError> {
    let expected = expected_tensors(h);
    let by_name: HashMap<&str, &TensorEntry> =
        tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    if by_name.len() != tensors.len() {
        return Err(ScanError::Invalid("a tensor appears twice".into()));
    }
    for t in tensors {
        if !expected.iter().any(|e| e.name == t.name) {
            return Err(ScanError::Invalid(format!("unexpected tensor {}", t.name)));
        }
    }
    for e in &expected {
        let t = by_name
            .get(e.name.as_str())
            .ok_or_else(|| ScanError::Truncated(format!("tensor {} is missing", e.name)))?;
        if t.ne != e.ne {
            return Err(ScanError::Invalid(format!(
                "tensor {} has shape {:?}, expected {:?}",
                e.name, t.ne, e.ne
            )));
        }
        let ok = match e.kind {
            Kind::F32 => t.ttype == 0,
            Kind::Conv => t.ttype == if wtype == 0 { 0 } else { 1 },
            Kind::Weight => t.ttype == wtype,
        };
        if !ok {
            return Err(ScanError::UnsupportedType {
                tensor: e.name.clone(),
                ttype: t.ttype,
            });
        }
    }
    Ok(())
}

/// How a tensor is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Always f32: biases, norms, positional embeddings.
    F32,
    /// Convolution kernels: f16 (f32 in an all-f32 file).
    Conv,
    /// Weight matrices: the file's weight type (f16, or a quantized type).
    Weight,
}

/// A tensor a model of given hyper-parameters must contain.
#[derive(Clone, Debug)]
pub(crate) struct Expected {
    pub name: String,
    pub ne: Vec<i64>,
    pub kind: Kind,
}

/// Every tensor whisper.cpp loads for these hyper-parameters, with its ggml shape.
pub(crate) fn expected_tensors(h: &Hparams) -> Vec<Expected> {
    let (a, t) = (i64::from(h.n_audio_state), i64::from(h.n_text_state));
    let mut v = Vec::new();
    let mut add = |name: String, ne: &[i64], kind: Kind| {
        v.push(Expected {
            name,
            ne: ne.to_vec(),
            kind,
        })
    };
    add(
        "encoder.positional_embedding".into(),
        &[a, i64::from(h.n_audio_ctx)],
        Kind::F32,
    );
    add(
        "encoder.conv1.weight".into(),
        &[3, i64::from(h.n_mels), a],
        Kind::Conv,
    );
    add("encoder.conv1.bias".into(), &[1, a], Kind::F32);
    add("encoder.conv2.weight".into(), &[3, a, a], Kind::Conv);
    add("encoder.conv2.bias".into(), &[1, a], Kind::F32);
    add("encoder.ln_post.weight".into(), &[a], Kind::F32);
    add("encoder.ln_post.bias".into(), &[a], Kind::F32);
    for i in 0..h.n_audio_layer {
        let p = format!("encoder.blocks.{i}");
        block_tensors(&mut add, &p, a, "attn");
        mlp_tensors(&mut add, &p, a);
    }
    add(
        "decoder.positional_embedding".into(),
        &[t, i64::from(h.n_text_ctx)],
        Kind::F32,
    );
    add(
        "decoder.token_embedding.weight".into(),
        &[t, i64::from(h.n_vocab)],
        Kind::Weight,
    );
    add("decoder.ln.weight".into(), &[t], Kind::F32);
    add("decoder.ln.bias".into(), &[t], Kind::F32);
    for i in 0..h.n_text_layer {
        let p = format!("decoder.blocks.{i}");
        block_tensors(&mut add, &p, t, "attn");
        block_tensors(&mut add, &p, t, "cross_attn");
        mlp_tensors(&mut add, &p, t);
    }
    v
}

fn block_tensors(add: &mut impl FnMut(String, &[i64], Kind), p: &str, d: i64, attn: &str) {
    add(format!("{p}.{attn}_ln.weight"), &[d], Kind::F32);
    add(format!("{p}.{attn}_ln.bias"), &[d], Kind::F32);
    add(format!("{p}.{attn}.query.weight"), &[d, d], Kind::Weight);
    add(format!("{p}.{attn}.query.bias"), &[d], Kind::F32);
    add(format!("{p}.{attn}.key.weight"), &[d, d], Kind::Weight);
    add(format!("{p}.{attn}.value.weight"), &[d, d], Kind::Weight);
    add(format!("{p}.{attn}.value.bias"), &[d], Kind::F32);
    add(format!("{p}.{attn}.out.weight"), &[d, d], Kind::Weight);
    add(format!("{p}.{attn}.out.bias"), &[d], Kind::F32);
}

fn mlp_tensors(add: &mut impl FnMut(String, &[i64], Kind), p: &str, d: i64) {
    add(format!("{p}.mlp_ln.weight"), &[d], Kind::F32);
    add(format!("{p}.mlp_ln.bias"), &[d], Kind::F32);
    add(format!("{p}.mlp.0.weight"), &[d, 4 * d], Kind::Weight);
    add(format!("{p}.mlp.0.bias"), &[4 * d], Kind::F32);
    add(format!("{p}.mlp.2.weight"), &[4 * d, d], Kind::Weight);
    add(format!("{p}.mlp.2.bias"), &[d], Kind::F32);
}

/// Writes a ggml model: header, then tensors one at a time.
pub(crate) struct GgmlWriter<W: Write> {
    w: W,
}

impl<W: Write> GgmlWriter<W> {
    /// Writes the magic, hyper-parameters, mel filters (`n_mels` x 201) and vocabulary.
    pub(crate) fn new(
        mut w: W,
        h: &Hparams,
        qnt_version: i32,
        mel_filters: &[f32],
        vocab: &[Vec<u8>],
    ) -> io::Result<Self> {
        w.write_all(&MAGIC.to_le_bytes())?;
        let mut f = h.fields();
        f[10] += qnt_version * QNT_VERSION_FACTOR;
        for v in f {
            w.write_all(&v.to_le_bytes())?;
        }
        let n_fft = mel_filters.len() / h.n_mels as usize;
        w.write_all(&h.n_mels.to_le_bytes())?;
        w.write_all(&(n_fft as i32).to_le_bytes())?;
        for x in mel_filters {
            w.write_all(&x.to_le_bytes())?;
        }
        w.write_all(&(vocab.len() as i32).to_le_bytes())?;
        for t in vocab {
            w.write_all(&(t.len() as i32).to_le_bytes())?;
            w.write_all(t)?;
        }
        Ok(Self { w })
    }

    /// Writes one tensor; `ne` in ggml order, `data` already in type `ttype`.
    pub(crate) fn tensor(
        &mut self,
        name: &str,
        ne: &[i64],
        ttype: u32,
        data: &[u8],
    ) -> io::Result<()> {
        self.w.write_all(&(ne.len() as i32).to_le_bytes())?;
        self.w.write_all(&(name.len() as i32).to_le_bytes())?;
        self.w.write_all(&(ttype as i32).to_le_bytes())?;
        for &d in ne {
            self.w.write_all(&(d as i32).to_le_bytes())?;
        }
        self.w.write_all(name.as_bytes())?;
        self.w.write_all(data)
    }

    /// Flushes and returns the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}
