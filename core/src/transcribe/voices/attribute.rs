//! Words to speakers: each word goes to the turn it overlaps most, and a segment is cut where
//! its words change speaker.

use super::diarize::Turn;
use crate::transcribe::transcript::{Segment, Word};

/// `segments` with every word and segment given its speaker's name from `turns` (samples of
/// 16 kHz audio), segments cut at speaker changes and renumbered.
pub(crate) fn attribute(segments: Vec<Segment>, turns: &[Turn], names: &[String]) -> Vec<Segment> {
    let rate = 16_000.0;
    let speaker_at = |start: f64, end: f64| -> Option<usize> {
        let (a, b) = ((start * rate) as usize, (end * rate).ceil() as usize);
        let mut best: Option<(usize, usize)> = None;
        for t in turns {
            let overlap = t.end.min(b.max(a + 1)).saturating_sub(t.start.max(a));
            if overlap > 0 && best.is_none_or(|(_, o)| overlap > o) {
                best = Some((t.speaker, overlap));
            }
        }
        best.map(|(s, _)| s).or_else(|| {
            // Between turns: the nearest.
            let mid = ((start + end) / 2.0 * rate) as usize;
            turns
                .iter()
                .min_by_key(|t| t.start.abs_diff(mid).min(t.end.abs_diff(mid)))
                .map(|t| t.speaker)
        })
    };
    let name = |s: usize| {
        names
            .get(s)
            .cloned()
            .unwrap_or_else(|| format!("SPEAKER_{s}"))
    };
    let mut out: Vec<Segment> = Vec::new();
    for seg in segments {
        if seg.words.is_empty() {
            let mut seg = seg;
            seg.speaker = speaker_at(seg.start, seg.end).map(name);
            out.push(seg);
            continue;
        }
        let who: Vec<Option<usize>> = seg
            .words
            .iter()
            .map(|w| speaker_at(w.start, w.end))
            .collect();
        let mut from = 0;
        let mut token_at = 0;
        while from < seg.words.len() {
            let to = (from..seg.words.len())
                .find(|&j| who[j] != who[from])
                .unwrap_or(seg.words.len());
            let words: Vec<Word> = seg.words[from..to]
                .iter()
                .cloned()
                .map(|mut w| {
                    w.speaker = who[from].map(name);
                    w
                })
                .collect();
            let tokens: usize = words.iter().map(|w| w.token_count).sum();
            let mut part = seg.clone();
            part.text = words.iter().map(|w| w.word.as_str()).collect();
            part.start = words[0].start;
            part.end = words[words.len() - 1].end;
            part.tokens = seg.tokens
                [token_at.min(seg.tokens.len())..(token_at + tokens).min(seg.tokens.len())]
                .to_vec();
            part.speaker = who[from].map(name);
            part.words = words;
            token_at += tokens;
            out.push(part);
            from = to;
        }
    }
    for (i, s) in out.iter_mut().enumerate() {
        s.id = i;
    }
    out
}
