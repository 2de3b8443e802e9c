//! Whisper's byte-level BPE vocabulary: from the text forms tokenizers store to raw bytes.

use std::collections::HashMap;
use std::path::Path;

/// GPT-2's reversible byte ↔ printable-character map, character → byte.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from(b'!')..=u32::from(b'~')).collect();
    printable.extend(0xA1..=0xAC);
    printable.extend(0xAE..=0xFF);
    let mut map = HashMap::with_capacity(256);
    let mut extra = 0u32;
    for b in 0..=255u32 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        map.insert(char::from_u32(c).expect("valid code point"), b as u8);
    }
    map
}

/// Decodes the regular (non-special) tokens: every line up to `<|endoftext|>`, each turned
/// back into the bytes it stands for. Returns `None` if a token has a character outside the map.
pub(crate) fn regular_tokens<'a>(
    tokens: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<Vec<u8>>> {
    let map = unicode_to_byte();
    let mut out = Vec::new();
    for t in tokens {
        if t == "<|endoftext|>" {
            return Some(out);
        }
        out.push(
            t.chars()
                .map(|c| map.get(&c).copied())
                .collect::<Option<Vec<u8>>>()?,
        );
    }
    Some(out)
}

/// Reads the tokenizer's tokens in id order from `vocabulary.txt`, `vocabulary.json`, a
/// Hugging Face `vocab.json` (token → id) or `tokenizer.json`.
pub(crate) fn read_token_list(dir: &Path) -> Result<Vec<String>, String> {
    let txt = dir.join("vocabulary.txt");
    if let Ok(text) = std::fs::read_to_string(&txt) {
        return Ok(text.lines().map(str::to_string).collect());
    }
    let json = dir.join("vocabulary.json");
    if let Ok(text) = std::fs::read_to_string(&json) {
        return serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()));
    }
    let vj = dir.join("vocab.json");
    if let Ok(text) = std::fs::read_to_string(&vj) {
        let map: HashMap<String, u64> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", vj.display()))?;
        let mut pairs: Vec<(u64, String)> = map.into_iter().map(|(k, v)| (v, k)).collect();
        pairs.sort_unstable();
        return Ok(pairs.into_iter().map(|(_, k)| k).collect());
    }
    let tok = dir.join("tokenizer.json");
    let text = std::fs::read_to_string(&tok).map_err(|_| {
        format!(
            "{} has no vocabulary.txt, vocabulary.json, vocab.json or tokenizer.json",
            dir.display()
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", tok.display()))?;
    let vocab = v["model"]["vocab"]
        .as_object()
        .ok_or_else(|| format!("{}: no model.vocab", tok.display()))?;
    let mut pairs: Vec<(u64, &str)> = vocab
        .iter()
        .filter_map(|(k, id)| Some((id.as_u64()?, k.as_str())))
        .collect();
    pairs.sort_unstable();
    Ok(pairs.into_iter().map(|(_, k)| k.to_string()).collect())
}

/// The regular tokens of the export in `dir` as raw bytes, checked against the model's
/// vocabulary size.
pub(crate) fn regular_vocab(dir: &Path, n_vocab: i32) -> Result<Vec<Vec<u8>>, String> {
    let tokens = read_token_list(dir)?;
    let vocab = regular_tokens(tokens.iter().map(String::as_str))
        .ok_or("the vocabulary has tokens outside the byte-level alphabet")?;
    if vocab.is_empty() || vocab.len() > n_vocab as usize {
        return Err(format!(
            "{} regular tokens for a vocabulary of {n_vocab}",
            vocab.len()
        ));
    }
    Ok(vocab)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode() {
        let toks = regular_tokens(["!", "Ġthe", "Ċ", "Ã©", "<|endoftext|>", "x"]).unwrap();
        assert_eq!(
            toks,
            vec![
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                vec![0xC3, 0xA9]
            ]
        );
        assert!(regular_tokens(["\u{4e00}"]).is_none());
    }
}
