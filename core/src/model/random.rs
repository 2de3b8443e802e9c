//! A small random-weight model made by Stenograph itself, for tests of loading and inference
//! mechanics where accuracy does not matter.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use half::f16;

use super::ggml::{expected_tensors, GgmlWriter, Hparams, Kind};
use super::mel::mel_filters;
use crate::error::{Error, Result};

/// Writes a random-weight ggml model with Whisper's vocabulary layout (English-only, 51864
/// tokens) but two layers of width 64: about 8 MB, loads in milliseconds. `seed` makes the
/// weights reproducible.
pub fn write_random_model(path: impl AsRef<Path>, seed: u64) -> Result<()> {
    let path = path.as_ref();
    let h = Hparams {
        n_vocab: 51_864,
        n_audio_ctx: 1500,
        n_audio_state: 64,
        n_audio_head: 2,
        n_audio_layer: 2,
        n_text_ctx: 448,
        n_text_state: 64,
        n_text_head: 2,
        n_text_layer: 2,
        n_mels: 80,
        ftype: 1,
    };
    // Byte-level vocabulary: the 256 single bytes, then filler tokens up to the regular count.
    let mut vocab: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    vocab.extend((256..50_256).map(|i| format!("t{i}").into_bytes()));
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
    };
    let io = |source| Error::Write { source };
    let file = File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut w =
        GgmlWriter::new(BufWriter::new(file), &h, 0, &mel_filters(80), &vocab).map_err(io)?;
    for t in expected_tensors(&h) {
        let n: i64 = t.ne.iter().product();
        let (ttype, data): (u32, Vec<u8>) = match t.kind {
            Kind::F32 => (0, (0..n).flat_map(|_| next().to_le_bytes()).collect()),
            Kind::Conv | Kind::Weight => (
                1,
                (0..n)
                    .flat_map(|_| f16::from_f32(next()).to_le_bytes())
                    .collect(),
            ),
        };
        w.tensor(&t.name, &t.ne, ttype, &data).map_err(io)?;
    }
    w.finish().map_err(io)?;
    Ok(())
}
