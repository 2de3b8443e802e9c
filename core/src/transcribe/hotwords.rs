//! Hotwords: terms (customers' names, products, competitors) that bias recognition towards
//! their spelling in every window of a call.
//!
//! The terms go into the decoder's prompt as a list, framed as a timestamped segment of earlier
//! text ([`framed`]), ahead of the initial prompt, in every window whisper.cpp decodes: each
//! VAD chunk is its own pass with the prompt, and inside a long pass (VAD off) whisper.cpp
//! carries the prompt into every 30 s window as a fixed prefix before the previous window's
//! text (vendored patch 0024). Whisper copies the spellings it is shown where the audio fits
//! them. A prompt of names also costs: on long real recordings it made tiny.en skip stretches
//! of speech and write names nobody said. So a chunk is decoded without the terms first, and
//! again with them only where Whisper was unsure of its text ([`unsure`]); each stretch of
//! the second text replaces the first only if it spells more of the terms and otherwise says
//! the same ([`chosen`], [`better`]). Live streams, packed batches and calls that carry context from chunk to chunk
//! decode each window once, with the terms.

use super::transcript::Segment;
use crate::error::{Error, Result};

/// Most hotwords one call takes.
pub const MAX_HOTWORDS: usize = 100;
/// Longest hotword, in characters.
pub const MAX_HOTWORD_CHARS: usize = 64;
/// Most tokens the hotwords' list may take in the prompt (Whisper's prompt holds 223; the rest
/// is left to the initial prompt). About 50 two-token names.
pub const MAX_HOTWORD_TOKENS: usize = 150;
/// Most prompt tokens whisper.cpp uses (half the decoder's 448-token context, less the
/// `<|startofprev|>` marker).
pub(super) const PROMPT_TOKENS: usize = 223;

/// Checks hotwords given as one string, separated by commas or new lines (`Kowalczyk,
/// Stenograph, Zyxel`); items are trimmed and empty ones skipped.
///
/// ```
/// use stenograph::transcribe::hotwords;
/// assert_eq!(hotwords("Kowalczyk, Zyxel\nAcme Cloud").unwrap(), ["Kowalczyk", "Zyxel", "Acme Cloud"]);
/// assert!(hotwords(" ").unwrap().is_empty());
/// assert!(hotwords("bad\u{7}bell").is_err());
/// ```
pub fn hotwords(given: &str) -> Result<Vec<String>> {
    let items: Vec<&str> = given.split([',', '\n']).collect();
    hotword_list(&items)
}

/// Checks hotwords, one per item: trimmed (empty items and repeats are dropped), at most
/// [`MAX_HOTWORD_CHARS`] characters each, no control characters or commas (they separate the
/// list), at most [`MAX_HOTWORDS`] of them. The token budget ([`MAX_HOTWORD_TOKENS`]) depends
/// on the model's vocabulary and is checked when a call starts.
pub fn hotword_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let term = item.as_ref().trim();
        if term.is_empty() || out.iter().any(|t| t == term) {
            continue;
        }
        if term.chars().count() > MAX_HOTWORD_CHARS {
            return Err(Error::InvalidArgument(format!(
                "hotword '{term}' is longer than {MAX_HOTWORD_CHARS} characters"
            )));
        }
        if term.chars().any(|c| c.is_control() || c == ',') {
            return Err(Error::InvalidArgument(format!(
                "hotword {term:?} holds a control character or a comma"
            )));
        }
        out.push(term.to_string());
    }
    if out.len() > MAX_HOTWORDS {
        return Err(Error::InvalidArgument(format!(
            "{} hotwords; at most {MAX_HOTWORDS}",
            out.len()
        )));
    }
    Ok(out)
}

/// The text the hotwords put in the prompt: the terms as a comma-separated list (none when
/// there are none).
pub(super) fn prompt_text<S: AsRef<str>>(terms: &[S]) -> Option<String> {
    let list = hotword_list(terms).ok()?;
    (!list.is_empty()).then(|| format!(" {}.", list.join(", ")))
}

/// Mean token log-probability under which a segment's text is unsure: Whisper's guess at a
/// name it has never seen spelled. On real speech 12 % of segments fall under it (tiny.en, 900
/// s of read speech, half of it under noise), on a call full of rare names 93 %.
const UNSURE_LOGPROB: f32 = -0.3;
/// Words one decode of a stretch may say more than the other away from the terms (speech
/// skipped, or words added): a share of the stretch's words, and a few words.
const STRAY: (f64, usize) = (0.1, 2);
/// Words away from the terms the two decodes may hear differently, one for one.
const SWAPPED: (f64, usize) = (0.25, 2);
/// Words of the plain text a term may stand for beyond its own (a name Whisper did not know
/// comes out as several words: "Nakamura Logistics" as "now come your logistics").
const TERM_SPAN: usize = 4;

/// Whether any of a chunk's segments is unsure enough for the hotwords to be worth a second
/// decode.
pub(super) fn unsure(segments: &[Segment]) -> bool {
    segments.iter().any(|s| s.avg_logprob < UNSURE_LOGPROB)
}

/// Segment ends of the two decodes this close (seconds) mark the same place in the audio.
const SAME_END: f64 = 0.5;

/// A chunk's text from its decode without hotwords (`plain`) and with them (`biased`): the
/// two are cut where both have a segment ending at the same moment, and each stretch keeps
/// the biased segments only where they are [`better`].
pub(super) fn chosen(plain: Vec<Segment>, biased: Vec<Segment>, terms: &[String]) -> Vec<Segment> {
    let mut out = Vec::with_capacity(plain.len());
    let (mut p0, mut b0, mut j) = (0, 0, 0);
    for i in 0..plain.len() {
        let end = plain[i].end;
        while j < biased.len() && biased[j].end < end - SAME_END {
            j += 1;
        }
        let last = i + 1 == plain.len();
        let shared = j < biased.len() && (biased[j].end - end).abs() <= SAME_END;
        if !(shared || last) {
            continue;
        }
        let b1 = if last { biased.len() } else { j + 1 };
        let (p, b) = (&plain[p0..=i], &biased[b0..b1.max(b0)]);
        if better(b, p, terms) {
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(p);
        }
        (p0, b0) = (i + 1, b1.max(b0));
        j = b0;
    }
    out
}

/// Whether a stretch decoded with hotwords (`biased`) is to replace the same stretch decoded
/// without them (`plain`): it spells more of the terms, and where the two texts differ it is
/// for a term (a term standing for at most [`TERM_SPAN`] more words of the plain text), apart
/// from a few words said more or less ([`STRAY`]) or heard differently ([`SWAPPED`]). Speech
/// the biased decode skipped, or words it added away from the terms, keep the plain text.
pub(super) fn better(biased: &[Segment], plain: &[Segment], terms: &[String]) -> bool {
    let text = |segs: &[Segment]| -> Vec<String> {
        segs.iter().flat_map(|s| normalized(&s.text)).collect()
    };
    let (b, p) = (text(biased), text(plain));
    let terms: Vec<Vec<String>> = terms.iter().map(|t| normalized(t)).collect();
    if occurrences(&b, &terms) <= occurrences(&p, &terms) {
        return false;
    }
    // Where the terms are in the biased text.
    let spans: Vec<std::ops::Range<usize>> = terms
        .iter()
        .filter(|t| !t.is_empty() && t.len() <= b.len())
        .flat_map(|t| {
            (0..=b.len() - t.len())
                .filter(|&k| b[k..k + t.len()] == t[..])
                .map(|k| k..k + t.len())
        })
        .collect();
    let (mut stray, mut swapped) = (0usize, 0usize);
    for (pi, bi) in differences(&p, &b) {
        let for_a_term = spans
            .iter()
            .any(|t| t.start <= bi.end && bi.start <= t.end && (t.start < bi.end || bi.is_empty()));
        if for_a_term {
            if pi.len() > bi.len() + TERM_SPAN {
                return false;
            }
        } else {
            stray += pi.len().abs_diff(bi.len());
            swapped += pi.len().min(bi.len());
        }
    }
    let allowed = |(share, few): (f64, usize)| (p.len() as f64 * share).ceil() as usize + few;
    stray <= allowed(STRAY) && swapped <= allowed(SWAPPED)
}

/// The stretches where `a` and `b` differ (ranges into each, either may be empty), between the
/// words of their longest common subsequence.
fn differences(
    a: &[String],
    b: &[String],
) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    // lcs[i][j]: longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut out, mut i, mut j, mut from) = (Vec::new(), 0, 0, (0, 0));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            if from != (i, j) {
                out.push((from.0..i, from.1..j));
            }
            i += 1;
            j += 1;
            from = (i, j);
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    if from != (a.len(), b.len()) {
        out.push((from.0..a.len(), from.1..b.len()));
    }
    out
}

/// Lower-case words without punctuation (apostrophes and hyphens kept inside a word).
fn normalized(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Occurrences of the terms (each as its normalized words in a row) in `words`.
fn occurrences(words: &[String], terms: &[Vec<String>]) -> usize {
    terms
        .iter()
        .filter(|t| !t.is_empty() && t.len() <= words.len())
        .map(|t| {
            words
                .windows(t.len())
                .filter(|w| *w == t.as_slice())
                .count()
        })
        .sum()
}

/// Timestamp steps (0.02 s each) of the end of the hotwords' list in the prompt: 2 s.
const LIST_END: i32 = 100;

/// The list's tokens framed as a timestamped segment of earlier text (`<|0.00|> list
/// <|2.00|>`, `beg` being `<|0.00|>`), the form Whisper's prompts take from a previous window.
/// A bare list makes Whisper put fewer timestamps in what follows: base on 300 s of real
/// speech then gave segments up to 49 s long and skipped a 30 s stretch (WER 5.0 % → 13.7 %
/// with a list of names nobody says; 5.3 % framed).
pub(super) fn framed(beg: i32, list: Vec<i32>) -> Vec<i32> {
    let mut out = Vec::with_capacity(list.len() + 2);
    out.push(beg);
    out.extend(list);
    out.push(beg + LIST_END);
    out
}

/// The prompt of every window: the hotwords' tokens, then as much of the end of the initial
/// prompt as fits in whisper.cpp's [`PROMPT_TOKENS`].
pub(super) fn prompt(hotwords: Vec<i32>, initial: Vec<i32>) -> Vec<i32> {
    let room = PROMPT_TOKENS.saturating_sub(hotwords.len());
    let skip = initial.len().saturating_sub(room);
    let mut out = hotwords;
    out.extend_from_slice(&initial[skip..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed_and_repeats_dropped() {
        assert_eq!(
            hotwords(" Kowalczyk ,,Zyxel, Kowalczyk\n\n Acme Cloud ").unwrap(),
            ["Kowalczyk", "Zyxel", "Acme Cloud"]
        );
        assert_eq!(hotword_list(&["a", " a ", ""]).unwrap(), ["a"]);
    }

    #[test]
    fn bad_terms_are_refused_with_the_reason() {
        let long = "x".repeat(MAX_HOTWORD_CHARS + 1);
        let e = hotwords(&long).unwrap_err().to_string();
        assert!(e.contains("longer than 64"), "{e}");
        let e = hotword_list(&["tab\there"]).unwrap_err().to_string();
        assert!(e.contains("control character"), "{e}");
        let e = hotword_list(&["Acme, Inc."]).unwrap_err().to_string();
        assert!(e.contains("comma"), "{e}");
        let many: Vec<String> = (0..=MAX_HOTWORDS).map(|i| format!("t{i}")).collect();
        let e = hotword_list(&many).unwrap_err().to_string();
        assert!(e.contains("101 hotwords"), "{e}");
        assert_eq!(hotword_list(&many[..MAX_HOTWORDS]).unwrap().len(), 100);
    }

    #[test]
    fn the_prompt_text_lists_the_terms() {
        assert_eq!(
            prompt_text(&["Kowalczyk", "Zyxel"]).as_deref(),
            Some(" Kowalczyk, Zyxel.")
        );
        assert_eq!(prompt_text::<&str>(&[]), None);
        assert_eq!(prompt_text(&[" "]), None);
    }

    fn segment(text: &str, avg_logprob: f32) -> Segment {
        Segment {
            id: 0,
            start: 0.0,
            end: 1.0,
            text: text.into(),
            tokens: Vec::new(),
            avg_logprob,
            temperature: 0.0,
            compression_ratio: 1.0,
            no_speech_prob: 0.0,
            words: Vec::new(),
            speaker: None,
            overlap: false,
        }
    }

    #[test]
    fn only_unsure_text_is_decoded_again() {
        assert!(!unsure(&[
            segment(" Fine.", -0.05),
            segment(" Sure.", -0.2)
        ]));
        assert!(unsure(&[
            segment(" Fine.", -0.05),
            segment(" Carl Klit.", -0.8)
        ]));
        assert!(!unsure(&[]));
    }

    #[test]
    fn the_biased_text_must_spell_more_terms_and_say_as_much() {
        let terms = vec!["Kowalczyk".to_string(), "Nakamura Logistics".to_string()];
        let plain = [segment(
            " This is Carl Klit from now come your logistics today.",
            -0.9,
        )];
        let good = [segment(
            " This is Kowalczyk from Nakamura Logistics today.",
            -0.5,
        )];
        assert!(better(&good, &plain, &terms));
        // A term that is also in the plain text gains nothing.
        assert!(!better(&plain, &plain, &terms));
        // Speech skipped, or words added, are not worth a name.
        let short = [segment(" Kowalczyk.", -0.2)];
        assert!(!better(&short, &plain, &terms));
        let long = [segment(
            " This is Kowalczyk from Nakamura Logistics today, and then it goes on and on and on.",
            -0.4,
        )];
        assert!(!better(&long, &plain, &terms));
        let call = " We met at the conference in March and agreed on a pilot for the support \
                    team, then talked about the price";
        let plain = [segment(&format!("{call} with Carl Klit today."), -0.7)];
        let named = [segment(&format!("{call} with Kowalczyk today."), -0.6)];
        assert!(better(&named, &plain, &terms));
        let skipped = [segment(
            " We met at the conference with Kowalczyk today.",
            -0.6,
        )];
        assert!(!better(&skipped, &plain, &terms));
        assert_eq!(
            normalized(" Kowalczyk's, right-mesh!"),
            ["kowalczyk's", "right-mesh"]
        );
        let w = |s: &str| normalized(s);
        assert_eq!(
            differences(&w("a b c d"), &w("a x c")),
            [(1..2, 1..2), (3..4, 3..3)]
        );
        assert!(differences(&w("a b"), &w("a b")).is_empty());
    }

    fn timed(text: &str, start: f64, end: f64) -> Segment {
        Segment {
            start,
            end,
            ..segment(text, -0.5)
        }
    }

    #[test]
    fn each_stretch_keeps_the_better_decode() {
        let terms = vec!["Kowalczyk".to_string()];
        let plain = vec![
            timed(" This is Carl Klit calling.", 0.0, 2.0),
            timed(" We met at the conference in March.", 2.5, 5.0),
            timed(" Then we agreed on a pilot for the team.", 5.5, 8.0),
            timed(" Ask Carl Klit about it.", 8.5, 10.0),
        ];
        let biased = vec![
            timed(" This is Kowalczyk calling.", 0.0, 2.1),
            // Skipped the next sentence, ending where the plain decode's third one does.
            timed(" Then we agreed on a pilot.", 2.5, 7.8),
            timed(" Ask Kowalczyk about it.", 8.4, 10.0),
        ];
        let texts: Vec<String> = chosen(plain, biased, &terms)
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(
            texts,
            [
                " This is Kowalczyk calling.",
                " We met at the conference in March.",
                " Then we agreed on a pilot for the team.",
                " Ask Kowalczyk about it.",
            ]
        );
        assert!(chosen(Vec::new(), Vec::new(), &terms).is_empty());
        let only_plain = vec![timed(" Hello.", 0.0, 1.0)];
        assert_eq!(chosen(only_plain.clone(), Vec::new(), &terms), only_plain);
    }

    #[test]
    fn the_list_is_framed_by_timestamps() {
        assert_eq!(framed(50_363, vec![7, 8]), [50_363, 7, 8, 50_463]);
    }

    #[test]
    fn the_initial_prompt_keeps_its_end_after_the_hotwords() {
        assert_eq!(prompt(vec![1, 2], vec![3, 4]), [1, 2, 3, 4]);
        let initial: Vec<i32> = (0..300).collect();
        let p = prompt(vec![-1; 23], initial);
        assert_eq!(p.len(), PROMPT_TOKENS);
        assert_eq!(&p[..23], &[-1; 23]);
        assert_eq!(p[23], 100);
        assert_eq!(*p.last().unwrap(), 299);
        assert_eq!(prompt(Vec::new(), vec![5]), [5]);
    }
}
