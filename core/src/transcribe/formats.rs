//! Rendering a transcript as text, SRT, WebVTT, JSON, OpenAI's verbose JSON and TSV.

use serde_json::json;

use super::transcript::Transcript;

/// `HH:MM:SS{sep}mmm`.
fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

impl Transcript {
    /// The plain text, one line.
    pub fn to_text(&self) -> String {
        format!("{}\n", self.text)
    }

    /// SubRip subtitles.
    ///
    /// ```
    /// # use stenograph::transcribe::{Segment, Transcript};
    /// let t = Transcript { text: "Hi.".into(), language: "en".into(), language_probability: 1.0,
    ///     duration: 1.5, segments: vec![Segment { id: 0, start: 0.0, end: 1.5, text: " Hi.".into(),
    ///     tokens: vec![], avg_logprob: 0.0, compression_ratio: 1.0, no_speech_prob: 0.0, words: vec![] }] };
    /// assert_eq!(t.to_srt(), "1\n00:00:00,000 --> 00:00:01,500\nHi.\n\n");
    /// ```
    pub fn to_srt(&self) -> String {
        self.segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}\n{} --> {}\n{}\n\n",
                    i + 1,
                    timestamp(s.start, ','),
                    timestamp(s.end, ','),
                    s.text.trim()
                )
            })
            .collect()
    }

    /// WebVTT subtitles.
    pub fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for s in &self.segments {
            out.push_str(&format!(
                "{} --> {}\n{}\n\n",
                timestamp(s.start, '.'),
                timestamp(s.end, '.'),
                s.text.trim()
            ));
        }
        out
    }

    /// OpenAI's `json` response: `{"text": …}`.
    pub fn to_json(&self) -> String {
        json!({ "text": self.text }).to_string()
    }

    /// OpenAI's `verbose_json` response: task, language (English name), duration, text,
    /// segments, and words when they were asked for.
    pub fn to_verbose_json(&self) -> String {
        self.verbose_json_value(false).to_string()
    }

    /// [`to_verbose_json`](Self::to_verbose_json) for a translation (`task: "translate"`).
    pub fn to_verbose_json_translation(&self) -> String {
        self.verbose_json_value(true).to_string()
    }

    fn verbose_json_value(&self, translated: bool) -> serde_json::Value {
        let lang_id = whisper_rs::get_lang_id(&self.language);
        let language = lang_id
            .and_then(whisper_rs::get_lang_str_full)
            .unwrap_or(self.language.as_str());
        let segments: Vec<_> = self
            .segments
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "seek": (s.start * 100.0).round() as u64,
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "tokens": s.tokens,
                    "avg_logprob": s.avg_logprob,
                    "compression_ratio": s.compression_ratio,
                    "no_speech_prob": s.no_speech_prob,
                })
            })
            .collect();
        let mut v = json!({
            "task": if translated { "translate" } else { "transcribe" },
            "language": language,
            "duration": self.duration,
            "text": self.text,
            "segments": segments,
        });
        let words: Vec<_> = self
            .segments
            .iter()
            .flat_map(|s| &s.words)
            .map(|w| json!({ "word": w.word.trim(), "start": w.start, "end": w.end }))
            .collect();
        if !words.is_empty() {
            v["words"] = serde_json::Value::Array(words);
        }
        v
    }

    /// Tab-separated `start`, `end` (milliseconds) and `text`, with a header line.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from("start\tend\ttext\n");
        for s in &self.segments {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                (s.start * 1000.0).round() as u64,
                (s.end * 1000.0).round() as u64,
                s.text.trim().replace(['\t', '\n'], " ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::{Segment, Word};

    fn sample() -> Transcript {
        let seg = |id, start, end, text: &str| Segment {
            id,
            start,
            end,
            text: text.into(),
            tokens: vec![1, 2],
            avg_logprob: -0.2,
            compression_ratio: 1.1,
            no_speech_prob: 0.01,
            words: vec![Word {
                word: " Hello".into(),
                start,
                end,
                probability: 0.9,
            }],
        };
        Transcript {
            text: "Hello there. General Kenobi.".into(),
            language: "en".into(),
            language_probability: 1.0,
            duration: 3725.5,
            segments: vec![
                seg(0, 0.0, 1.25, " Hello there."),
                seg(1, 3723.0, 3725.5, " General Kenobi."),
            ],
        }
    }

    #[test]
    fn subtitles() {
        let t = sample();
        assert_eq!(
            t.to_srt(),
            "1\n00:00:00,000 --> 00:00:01,250\nHello there.\n\n2\n01:02:03,000 --> 01:02:05,500\nGeneral Kenobi.\n\n"
        );
        assert!(t
            .to_vtt()
            .starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nHello there.\n"));
        assert_eq!(
            t.to_tsv().lines().nth(2),
            Some("3723000\t3725500\tGeneral Kenobi.")
        );
        assert_eq!(t.to_text(), "Hello there. General Kenobi.\n");
    }

    #[test]
    fn json_shapes() {
        let t = sample();
        let j: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
        assert_eq!(j, json!({ "text": "Hello there. General Kenobi." }));
        let v: serde_json::Value = serde_json::from_str(&t.to_verbose_json()).unwrap();
        assert_eq!(v["task"], "transcribe");
        assert_eq!(v["language"], "english");
        assert_eq!(v["duration"], 3725.5);
        assert_eq!(v["segments"][1]["start"], 3723.0);
        assert_eq!(v["segments"][1]["tokens"], json!([1, 2]));
        assert_eq!(
            v["words"][0],
            json!({ "word": "Hello", "start": 0.0, "end": 1.25 })
        );
    }
}
