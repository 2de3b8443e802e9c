//! Quantizing ggml models with ggml's own quantization functions.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::str::FromStr;

use half::f16;
use whisper_rs::whisper_rs_sys as sys;

use super::ggml::{expected_tensors, scan, tensor_bytes, Kind, ScanError, MAGIC, QNT_VERSION};
use super::scan_error;
use crate::error::{Error, Result};

/// Target types for [`Model::quantize`](super::Model::quantize).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantType {
    /// 8-bit, blocks of 32: nearly lossless, about half the size of f16.
    Q8_0,
    /// 5-bit with offset, blocks of 32.
    Q5_1,
    /// 5-bit, blocks of 32.
    Q5_0,
    /// 4-bit with offset, blocks of 32.
    Q4_1,
    /// 4-bit, blocks of 32.
    Q4_0,
    /// 6-bit k-quant (widths must be multiples of 256).
    Q6K,
    /// 5-bit k-quant (widths must be multiples of 256).
    Q5K,
    /// 4-bit k-quant (widths must be multiples of 256).
    Q4K,
    /// 3-bit k-quant (widths must be multiples of 256).
    Q3K,
    /// 2-bit k-quant (widths must be multiples of 256).
    Q2K,
}

impl QuantType {
    /// Every type, strongest first.
    pub const ALL: [QuantType; 10] = [
        QuantType::Q8_0,
        QuantType::Q5_1,
        QuantType::Q5_0,
        QuantType::Q4_1,
        QuantType::Q4_0,
        QuantType::Q6K,
        QuantType::Q5K,
        QuantType::Q4K,
        QuantType::Q3K,
        QuantType::Q2K,
    ];

    /// The name used on the command line and in file names: `q8_0`, `q4_k`, …
    pub fn name(self) -> &'static str {
        match self {
            QuantType::Q8_0 => "q8_0",
            QuantType::Q5_1 => "q5_1",
            QuantType::Q5_0 => "q5_0",
            QuantType::Q4_1 => "q4_1",
            QuantType::Q4_0 => "q4_0",
            QuantType::Q6K => "q6_k",
            QuantType::Q5K => "q5_k",
            QuantType::Q4K => "q4_k",
            QuantType::Q3K => "q3_k",
            QuantType::Q2K => "q2_k",
        }
    }

    /// (`ggml_type`, `ggml_ftype`) codes.
    fn codes(self) -> (u32, i32) {
        match self {
            QuantType::Q8_0 => (8, 7),
            QuantType::Q5_1 => (7, 9),
            QuantType::Q5_0 => (6, 8),
            QuantType::Q4_1 => (3, 3),
            QuantType::Q4_0 => (2, 2),
            QuantType::Q6K => (14, 14),
            QuantType::Q5K => (13, 13),
            QuantType::Q4K => (12, 12),
            QuantType::Q3K => (11, 11),
            QuantType::Q2K => (10, 10),
        }
    }
}

impl std::fmt::Display for QuantType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuantType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        QuantType::ALL
            .into_iter()
            .find(|t| t.name() == lower)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown quantization type '{s}'; one of: {}",
                    QuantType::ALL.map(QuantType::name).join(", ")
                ))
            })
    }
}

/// Rows of a weight matrix converted at a time.
const ROWS_PER_BLOCK: usize = 1024;

/// Reads a tensor stored as f32 or f16 into f32 values.
fn read_values(r: &mut impl Read, ttype: u32, n: usize) -> std::io::Result<Vec<f32>> {
    let width = if ttype == 0 { 4 } else { 2 };
    let mut raw = vec![0u8; n * width];
    r.read_exact(&mut raw)?;
    Ok(if ttype == 0 {
        raw.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        raw.chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()
    })
}

/// The model file `input`, buffered, and its length.
fn open(input: &Path) -> Result<(BufReader<File>, u64)> {
    let file = File::open(input).map_err(|source| Error::Io {
        path: input.to_path_buf(),
        source,
    })?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((BufReader::with_capacity(1 << 20, file), len))
}

/// Writes a quantized copy of the ggml model `input` to `output` (through a temporary file
/// beside it, renamed when complete).
pub(crate) fn quantize(input: &Path, output: &Path, to: QuantType) -> Result<()> {
    let (mut r, len) = open(input)?;
    let tmp = output.with_extension("partial");
    let out = File::create(&tmp).map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 20, out);
        quantize_stream(&mut r, len, &input.display().to_string(), &mut w, to)?;
        w.flush().map_err(|source| Error::Write { source })?;
        std::fs::rename(&tmp, output).map_err(|source| Error::Io {
            path: output.to_path_buf(),
            source,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A quantized copy of the ggml model file `input`, in memory.
pub(crate) fn quantize_to_vec(input: &Path, to: QuantType) -> Result<Vec<u8>> {
    let (mut r, len) = open(input)?;
    let mut out = Vec::with_capacity(len as usize / 2);
    quantize_stream(&mut r, len, &input.display().to_string(), &mut out, to)?;
    Ok(out)
}

/// Reads the ggml model `r` (`len` bytes, called `name` in errors) and writes it to `w` with
/// its weight matrices in `to`.
fn quantize_stream<R: Read + Seek, W: Write>(
    r: &mut R,
    len: u64,
    name: &str,
    w: &mut W,
    to: QuantType,
) -> Result<()> {
    let layout = scan(r, len).map_err(|e| scan_error(name, e))?;
    if !matches!(layout.hparams.ftype, 0 | 1) {
        return Err(Error::InvalidArgument(format!(
            "{name} is already quantized; quantize an f16 or f32 model"
        )));
    }
    let (qtype, qftype) = to.codes();
    let kinds: std::collections::HashMap<String, Kind> = expected_tensors(&layout.hparams)
        .into_iter()
        .map(|e| (e.name, e.kind))
        .collect();
    for t in &layout.tensors {
        if kinds.get(&t.name) == Some(&Kind::Weight) && tensor_bytes(qtype, &t.ne).is_none() {
            return Err(Error::InvalidArgument(format!(
                "{to} needs rows whose length is a multiple of its block; tensor {} has rows of {}",
                t.name, t.ne[0]
            )));
        }
    }

    let io_err = |source| Error::Write { source };
    // Header with the new file type, then mel filters and vocabulary as they are.
    let mut h = layout.hparams;
    h.ftype = qftype + QNT_VERSION * 1000;
    w.write_all(&MAGIC.to_le_bytes()).map_err(io_err)?;
    for v in [
        h.n_vocab,
        h.n_audio_ctx,
        h.n_audio_state,
        h.n_audio_head,
        h.n_audio_layer,
        h.n_text_ctx,
        h.n_text_state,
        h.n_text_head,
        h.n_text_layer,
        h.n_mels,
        h.ftype,
    ] {
        w.write_all(&v.to_le_bytes()).map_err(io_err)?;
    }
    r.seek(SeekFrom::Start(48)).map_err(io_err)?;
    let mut between = (&mut *r).take(layout.tensors_offset - 48);
    std::io::copy(&mut between, w).map_err(io_err)?;

    for t in &layout.tensors {
        r.seek(SeekFrom::Start(t.offset)).map_err(io_err)?;
        let quantized = kinds.get(&t.name) == Some(&Kind::Weight);
        let ttype = if quantized { qtype } else { t.ttype };
        w.write_all(&(t.ne.len() as i32).to_le_bytes())
            .map_err(io_err)?;
        w.write_all(&(t.name.len() as i32).to_le_bytes())
            .map_err(io_err)?;
        w.write_all(&(ttype as i32).to_le_bytes()).map_err(io_err)?;
        for &d in &t.ne {
            w.write_all(&(d as i32).to_le_bytes()).map_err(io_err)?;
        }
        w.write_all(t.name.as_bytes()).map_err(io_err)?;
        if !quantized {
            let mut data = (&mut *r).take(t.nbytes);
            let copied = std::io::copy(&mut data, w).map_err(io_err)?;
            if copied != t.nbytes {
                return Err(scan_error(
                    name,
                    ScanError::Truncated(format!("tensor {} ends early", t.name)),
                ));
            }
            continue;
        }
        // A block of rows at a time, so the f32 copy stays small for any model size.
        let width = t.ne[0];
        let row_bytes = tensor_bytes(qtype, &t.ne[..1]).expect("checked above") as usize;
        let mut rows_left = (t.ne.iter().product::<i64>() / width) as usize;
        let mut data = vec![0u8; row_bytes * ROWS_PER_BLOCK.min(rows_left)];
        while rows_left > 0 {
            let rows = ROWS_PER_BLOCK.min(rows_left);
            let values = read_values(r, t.ttype, rows * width as usize).map_err(io_err)?;
            let out = &mut data[..rows * row_bytes];
            // SAFETY: `values` holds rows x width f32s and `out` the exact byte size ggml
            // computes for that many rows of `qtype`; no importance matrix is passed.
            let written = unsafe {
                sys::ggml_quantize_chunk(
                    qtype as sys::ggml_type,
                    values.as_ptr(),
                    out.as_mut_ptr().cast(),
                    0,
                    rows as i64,
                    width,
                    std::ptr::null(),
                )
            };
            debug_assert_eq!(written, out.len());
            w.write_all(out).map_err(io_err)?;
            rows_left -= rows;
        }
    }
    Ok(())
}
