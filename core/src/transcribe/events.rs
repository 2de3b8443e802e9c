//! Sound events: what Whisper hears that is not speech.
//!
//! Whisper was trained on subtitles that annotate sounds — "(laughs)", "[Music]", "*coughs*",
//! "♪" — and writes such an annotation where a window holds laughter, a cough, music or
//! noise. Forbid those tokens (whisper.cpp's `suppress_nst`) and it must write something
//! else there: measured on real recordings, laughter became "Ha ha ha ha.", "I love you." or
//! "lol", a scream "NOOOOO!", and music still leaked as "♪♪♪♪♪" spelled in byte tokens. So by
//! default the annotations are let through and then taken out of the text ([`strip`]), and a
//! segment left without a letter or digit is dropped.

use super::segments::RawToken;

/// What becomes of the sounds Whisper annotates instead of transcribing (laughter, coughs,
/// music, noise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SoundEvents {
    /// Let Whisper annotate them, then remove the annotations: no text for what nobody said
    /// (default).
    #[default]
    Drop,
    /// Let Whisper annotate them and keep the annotations in the text ("(laughs)",
    /// "[Music]").
    Keep,
    /// Forbid the annotation tokens while decoding, as whisper.cpp's `suppress_nst` does
    /// (what is left of them is still removed).
    Suppress,
}

impl SoundEvents {
    /// `"drop"`, `"keep"` or `"suppress"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SoundEvents::Drop => "drop",
            SoundEvents::Keep => "keep",
            SoundEvents::Suppress => "suppress",
        }
    }
}

impl std::str::FromStr for SoundEvents {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "drop" => Ok(SoundEvents::Drop),
            "keep" => Ok(SoundEvents::Keep),
            "suppress" => Ok(SoundEvents::Suppress),
            other => Err(crate::Error::InvalidArgument(format!(
                "sound events must be 'drop', 'keep' or 'suppress', not '{other}'"
            ))),
        }
    }
}

impl std::fmt::Display for SoundEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Characters that stand for music, never for a spoken word.
const MUSIC: [char; 4] = ['♩', '♪', '♫', '♬'];

/// Punctuation a removed annotation can leave stranded.
const STRANDED: [char; 6] = ['.', ',', '!', '?', ';', ':'];

/// `tokens` without the bytes of sound annotations: spans in `()`, `[]`, `{}` or `**` (an
/// unclosed bracket runs to the end, a closing one never opened from the start, a lone `*`
/// stays), music symbols, bytes that are not UTF-8 (a symbol cut
/// short), dialogue dashes, and the space or punctuation each removal strands. Tokens left
/// without bytes are dropped; the others keep their times and probabilities.
pub(crate) fn strip(tokens: Vec<RawToken>) -> Vec<RawToken> {
    let bytes: Vec<u8> = tokens
        .iter()
        .flat_map(|t| t.bytes.iter().copied())
        .collect();
    let removed = annotations(&bytes);
    if !removed.iter().any(|&r| r) {
        return tokens;
    }
    let mut at = 0;
    let mut out = Vec::with_capacity(tokens.len());
    for mut t in tokens {
        let n = t.bytes.len();
        let keep: Vec<u8> = t
            .bytes
            .iter()
            .zip(&removed[at..at + n])
            .filter(|(_, &r)| !r)
            .map(|(&b, _)| b)
            .collect();
        at += n;
        if !keep.is_empty() {
            t.bytes = keep;
            out.push(t);
        }
    }
    out
}

/// Which bytes of `bytes` belong to annotations (see [`strip`]).
fn annotations(bytes: &[u8]) -> Vec<bool> {
    let mut removed = vec![false; bytes.len()];
    // Characters with their byte offsets; bytes that are not UTF-8 go.
    let mut chars: Vec<(usize, char)> = Vec::new();
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        chars.extend(chunk.valid().char_indices().map(|(i, c)| (at + i, c)));
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() && at > 0 && bytes[at - 1] == b' ' {
            removed[at - 1] = true;
        }
        removed[at..at + chunk.invalid().len()].fill(true);
        at += chunk.invalid().len();
    }
    let end_of = |k: usize| chars.get(k + 1).map_or(bytes.len(), |&(i, _)| i);
    let mut k = 0;
    while k < chars.len() {
        let (here, c) = (k, chars[k].1);
        if matches!(c, ')' | ']' | '}') {
            // A closing bracket never opened: the annotation began before the segment did.
            k = 0;
        }
        let from = chars[k].0;
        let close = match c {
            '(' => Some(')'),
            '[' => Some(']'),
            '{' => Some('}'),
            '*' => Some('*'),
            _ => None,
        };
        let last = if let Some(close) = close {
            // The span to its closing mark; an unclosed bracket runs to the end (a lone `*`
            // stays).
            match chars[k + 1..].iter().position(|&(_, x)| x == close) {
                Some(n) => k + 1 + n,
                None if c == '*' => {
                    k += 1;
                    continue;
                }
                None => chars.len() - 1,
            }
        } else if matches!(c, ')' | ']' | '}') {
            here
        } else if MUSIC.contains(&c) || is_dialogue_dash(&chars, k) {
            k
        } else {
            k += 1;
            continue;
        };
        removed[from..end_of(last)].fill(true);
        // The space before the annotation goes with it, and punctuation after it when the
        // text before already ends a clause (or there is none).
        if from > 0 && bytes[from - 1] == b' ' {
            removed[from - 1] = true;
        }
        let before = chars[..k]
            .iter()
            .rev()
            .find(|&&(i, x)| !removed[i] && x != ' ')
            .map(|&(_, x)| x);
        let mut next = last + 1;
        while next < chars.len()
            && STRANDED.contains(&chars[next].1)
            && before.is_none_or(|b| STRANDED.contains(&b))
        {
            removed[chars[next].0..end_of(next)].fill(true);
            next += 1;
        }
        k = next;
    }
    removed
}

/// Whether `chars[k]` is a dash that opens a line of dialogue ("- No, no."): at the start or
/// after a space, followed by a space or the end.
fn is_dialogue_dash(chars: &[(usize, char)], k: usize) -> bool {
    chars[k].1 == '-'
        && (k == 0 || chars[k - 1].1 == ' ')
        && chars.get(k + 1).is_none_or(|&(_, c)| c == ' ')
}

/// Whether `text` holds a word: a letter or a digit.
pub(crate) fn has_words(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens of `pieces`, one each, times in order.
    fn tokens(pieces: &[&[u8]]) -> Vec<RawToken> {
        pieces
            .iter()
            .enumerate()
            .map(|(i, b)| RawToken {
                id: i as i32,
                bytes: b.to_vec(),
                t0: i as i64 * 10,
                t1: i as i64 * 10 + 10,
                p: 0.9,
                plog: -0.1,
            })
            .collect()
    }

    fn text(tokens: &[RawToken]) -> String {
        String::from_utf8(tokens.iter().flat_map(|t| t.bytes.clone()).collect()).unwrap()
    }

    fn stripped(pieces: &[&str]) -> String {
        let bytes: Vec<&[u8]> = pieces.iter().map(|p| p.as_bytes()).collect();
        text(&strip(tokens(&bytes)))
    }

    #[test]
    fn annotations_go_and_speech_stays() {
        assert_eq!(stripped(&[" (", "laugh", "s", ")"]), "");
        assert_eq!(stripped(&[" [", "Music", "]"]), "");
        assert_eq!(stripped(&[" *", "Sc", "reams", "*"]), "");
        assert_eq!(stripped(&[" ♪", "♪"]), "");
        assert_eq!(stripped(&[" Yes", ".", " (", "laughs", ")", "."]), " Yes.");
        assert_eq!(
            stripped(&[" I", " said", " [", "laughter", "]", " that's", " fine", "."]),
            " I said that's fine."
        );
        assert_eq!(stripped(&[" (", "upbeat", " music"]), "", "unclosed");
        assert_eq!(stripped(&[" In", "aud", "ible", " ]"]), "", "never opened");
        assert_eq!(
            stripped(&[" (", "sigh", "s", ")", " fine", " ]", " Yes", "."]),
            " Yes.",
            "never opened, after a closed one"
        );
        assert_eq!(stripped(&[" -", " No", ",", " no", "."]), " No, no.");
        assert_eq!(
            stripped(&[" A", " well", "-", "known", " 3", "*", "4", " rate", "."]),
            " A well-known 3*4 rate.",
            "hyphens inside words and a lone star stay"
        );
        assert_eq!(
            stripped(&[" The", " quarter", "."]),
            " The quarter.",
            "speech untouched"
        );
    }

    #[test]
    fn symbols_cut_into_byte_tokens_go() {
        // "♪" is E2 99 AA; Whisper spells it in byte tokens, and may stop half-way.
        let cut: Vec<&[u8]> = vec![b" \xe2\x99", b"\xaa\xe2\x99\xaa", b" \xe2\x99"];
        assert_eq!(text(&strip(tokens(&cut))), "");
        let kept = strip(tokens(&[b" Hello", b" \xe2\x99", b"\xaa"]));
        assert_eq!(text(&kept), " Hello");
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].t0, kept[0].t1), (0, 10), "times kept");
    }

    #[test]
    fn words_need_a_letter_or_digit() {
        assert!(has_words(" Ja."));
        assert!(has_words(" 42"));
        assert!(has_words(" Ça va"));
        assert!(!has_words(" ..."));
        assert!(!has_words(" ♪ ♪"));
        assert!(!has_words(""));
    }

    #[test]
    fn modes_parse() {
        for m in [SoundEvents::Drop, SoundEvents::Keep, SoundEvents::Suppress] {
            assert_eq!(m.as_str().parse::<SoundEvents>().unwrap(), m);
        }
        assert!("mute".parse::<SoundEvents>().is_err());
        assert_eq!(SoundEvents::default(), SoundEvents::Drop);
    }
}
