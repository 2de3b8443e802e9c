//! Writing a ggml f16 model from any source of named f32 weights.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use half::f16;

use super::ggml::{expected_tensors, Expected, GgmlWriter, Hparams, Kind};
use super::mel::mel_filters;

fn to_bytes(values: &[f32], kind: Kind) -> Vec<u8> {
    match kind {
        Kind::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        Kind::Conv | Kind::Weight => values
            .iter()
            .flat_map(|&v| f16::from_f32(v).to_le_bytes())
            .collect(),
    }
}

/// Writes `out` (through a temporary file beside it, renamed at the end): the header with the
/// computed mel filter bank and `vocab`, then every tensor the hyper-parameters call for, with
/// values from `values` — one tensor in memory at a time.
pub(crate) fn write_f16_model(
    out: &Path,
    hparams: &Hparams,
    vocab: &[Vec<u8>],
    mut values: impl FnMut(&Expected) -> Result<Vec<f32>, String>,
) -> Result<(), String> {
    let tmp = out.with_extension("partial");
    let file = File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = (|| {
        let mut w = GgmlWriter::new(
            BufWriter::with_capacity(1 << 20, file),
            hparams,
            0,
            &mel_filters(hparams.n_mels as usize),
            vocab,
        )
        .map_err(|e| e.to_string())?;
        for t in expected_tensors(hparams) {
            let v = values(&t)?;
            let n: i64 = t.ne.iter().product();
            if v.len() as i64 != n {
                return Err(format!(
                    "tensor {}: {} values, expected {n}",
                    t.name,
                    v.len()
                ));
            }
            let ttype = if t.kind == Kind::F32 { 0 } else { 1 };
            w.tensor(&t.name, &t.ne, ttype, &to_bytes(&v, t.kind))
                .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        }
        w.finish()
            .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
