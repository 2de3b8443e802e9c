//! Rendering a transcript as text, SRT, WebVTT, JSON, OpenAI's verbose JSON and TSV: the one
//! list of output formats, with their names, content types and file extensions.

use std::str::FromStr;

use serde_json::json;

use super::transcript::Transcript;
use crate::{Error, Result};

/// An output format of a transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The text on one line.
    Text,
    /// OpenAI's `json`: `{"text": …}`.
    Json,
    /// OpenAI's `verbose_json`: task, language, duration, text, segments, words.
    VerboseJson,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// Tab-separated start and end (ms) and text, with a header line.
    Tsv,
    /// OpenAI's `diarized_json`: task, duration, text, and segments with speakers.
    DiarizedJson,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 7] = [
        Format::Text,
        Format::Json,
        Format::VerboseJson,
        Format::Srt,
        Format::Vtt,
        Format::Tsv,
        Format::DiarizedJson,
    ];

    /// Its name (`text`, `json`, `verbose_json`, `srt`, `vtt`, `tsv`, `diarized_json`), as
    /// OpenAI's `response_format` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::VerboseJson => "verbose_json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Tsv => "tsv",
            Format::DiarizedJson => "diarized_json",
        }
    }

    /// The HTTP content type of a transcript in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; charset=utf-8",
            Format::Json | Format::VerboseJson | Format::DiarizedJson => "application/json",
            Format::Srt => "application/x-subrip",
            Format::Vtt => "text/vtt; charset=utf-8",
            Format::Tsv => "text/tab-separated-values; charset=utf-8",
        }
    }

    /// The file extension of a transcript in this format (`txt`, `json`, …).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json | Format::VerboseJson | Format::DiarizedJson => "json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Tsv => "tsv",
        }
    }

    /// The names of every format, comma-separated, for messages.
    pub fn names() -> String {
        Format::ALL.map(Format::as_str).join(", ")
    }
}

impl FromStr for Format {
    type Err = Error;

    /// A format by its name (any case; `txt` is `text`).
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .or((name == "txt").then_some(Format::Text))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "format must be one of {}, not '{s}'",
                    Format::names()
                ))
            })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The transcript in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Json => self.to_json(),
            Format::VerboseJson => self.to_verbose_json(),
            Format::Srt => self.to_srt(),
            Format::Vtt => self.to_vtt(),
            Format::Tsv => self.to_tsv(),
            Format::DiarizedJson => self.to_diarized_json(),
        }
    }

    /// The plain text, one line; with speakers, one line per turn (`agent: …`).
    pub fn to_text(&self) -> String {
        if self.speakers.is_empty() {
            return format!("{}\n", self.text);
        }
        self.turns()
            .into_iter()
            .map(|(speaker, text)| format!("{speaker}: {text}\n"))
            .collect()
    }

    /// The text turn by turn: consecutive segments of one speaker joined, with the speaker's
    /// name (empty for segments without one).
    pub fn turns(&self) -> Vec<(String, String)> {
        let mut turns: Vec<(String, String)> = Vec::new();
        for s in &self.segments {
            let speaker = s.speaker.clone().unwrap_or_default();
            let text = s.text.trim();
            match turns.last_mut() {
                Some((who, said)) if *who == speaker => {
                    said.push(' ');
                    said.push_str(text);
                }
                _ => turns.push((speaker, text.to_string())),
            }
        }
        turns
    }

    /// SubRip subtitles; with speakers, each cue starts with a WebVTT voice tag (`<v agent>`).
    ///
    /// ```
    /// # use stenograph::transcribe::Transcript;
    /// // A transcript stored as JSON earlier (`serde_json::to_string(&t)`).
    /// let t: Transcript = serde_json::from_str(r#"{"text": "Hi.", "language": "en",
    ///     "language_probability": 1.0, "duration": 1.5, "segments": [{"id": 0, "start": 0.0,
    ///     "end": 1.5, "text": " Hi.", "tokens": [], "avg_logprob": 0.0,
    ///     "compression_ratio": 1.0, "no_speech_prob": 0.0, "words": []}]}"#).unwrap();
    /// assert_eq!(t.to_srt(), "1\n00:00:00,000 --> 00:00:01,500\nHi.\n\n");
    /// ```
    pub fn to_srt(&self) -> String {
        self.segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}\n{} --> {}\n{}{}\n\n",
                    i + 1,
                    timestamp(s.start, ','),
                    timestamp(s.end, ','),
                    voice(s),
                    s.text.trim()
                )
            })
            .collect()
    }

    /// WebVTT subtitles; with speakers, each cue starts with a voice tag (`<v agent>`).
    pub fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for s in &self.segments {
            out.push_str(&format!(
                "{} --> {}\n{}{}\n\n",
                timestamp(s.start, '.'),
                timestamp(s.end, '.'),
                voice(s),
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
    /// segments, and words when they were asked for; with speakers, `speakers` and each
    /// segment's and word's `speaker` (and `overlap` on segments said over another speaker).
    pub fn to_verbose_json(&self) -> String {
        self.verbose_json_value().to_string()
    }

    fn verbose_json_value(&self) -> serde_json::Value {
        let lang_id = whisper_rs::get_lang_id(&self.language);
        let language = lang_id
            .and_then(whisper_rs::get_lang_str_full)
            .unwrap_or(self.language.as_str());
        let segments: Vec<_> = self
            .segments
            .iter()
            .map(|s| {
                let mut seg = json!({
                    "id": s.id,
                    "seek": (s.start * 100.0).round() as u64,
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "tokens": s.tokens,
                    "avg_logprob": s.avg_logprob,
                    "temperature": s.temperature,
                    "compression_ratio": s.compression_ratio,
                    "no_speech_prob": s.no_speech_prob,
                });
                if let Some(speaker) = &s.speaker {
                    seg["speaker"] = json!(speaker);
                }
                if s.overlap {
                    seg["overlap"] = json!(true);
                }
                seg
            })
            .collect();
        let mut v = json!({
            "task": self.task.as_str(),
            "language": language,
            "duration": self.duration,
            "text": self.text,
            "segments": segments,
        });
        let words: Vec<_> = self
            .segments
            .iter()
            .flat_map(|s| &s.words)
            .map(|w| {
                let mut word = json!({ "word": w.word.trim(), "start": w.start, "end": w.end });
                if let Some(speaker) = &w.speaker {
                    word["speaker"] = json!(speaker);
                }
                word
            })
            .collect();
        if !words.is_empty() {
            v["words"] = serde_json::Value::Array(words);
        }
        if !self.speakers.is_empty() {
            v["speakers"] = json!(self.speakers);
        }
        v
    }

    /// Tab-separated `start`, `end` (milliseconds) and `text`, with a header line; with
    /// speakers, a `speaker` column before the text.
    pub fn to_tsv(&self) -> String {
        let with_speakers = !self.speakers.is_empty();
        let mut out = String::from(if with_speakers {
            "start\tend\tspeaker\ttext\n"
        } else {
            "start\tend\ttext\n"
        });
        let clean = |t: &str| t.trim().replace(['\t', '\n'], " ");
        for s in &self.segments {
            let speaker = if with_speakers {
                format!("{}\t", clean(s.speaker.as_deref().unwrap_or_default()))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{}\t{}\t{speaker}{}\n",
                (s.start * 1000.0).round() as u64,
                (s.end * 1000.0).round() as u64,
                clean(&s.text)
            ));
        }
        out
    }

    /// OpenAI's `diarized_json` response: task, duration, text, and segments (`seg_0`, …)
    /// with start, end, text and speaker (`A` for a transcript without speakers).
    pub fn to_diarized_json(&self) -> String {
        let segments: Vec<_> = self
            .segments
            .iter()
            .map(|s| {
                json!({
                    "type": "transcript.text.segment",
                    "id": format!("seg_{}", s.id),
                    "start": s.start,
                    "end": s.end,
                    "text": s.text.trim(),
                    "speaker": s.speaker.as_deref().unwrap_or("A"),
                })
            })
            .collect();
        json!({
            "task": "transcribe",
            "duration": self.duration,
            "text": self.text,
            "segments": segments,
        })
        .to_string()
    }
}

/// A cue's voice tag (`<v agent>`), or nothing for a segment without a speaker.
fn voice(s: &super::transcript::Segment) -> String {
    match &s.speaker {
        Some(name) => format!("<v {}>", name.replace(['<', '>', '\n'], " ")),
        None => String::new(),
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
            temperature: 0.0,
            compression_ratio: 1.1,
            no_speech_prob: 0.01,
            words: vec![Word {
                word: " Hello".into(),
                start,
                end,
                probability: 0.9,
                speaker: None,
                overlap: false,
                token_count: 2,
            }],
            speaker: None,
            overlap: false,
        };
        Transcript {
            text: "Hello there. General Kenobi.".into(),
            language: "en".into(),
            language_probability: 1.0,
            duration: 3725.5,
            task: crate::transcribe::Task::Transcribe,
            segments: vec![
                seg(0, 0.0, 1.25, " Hello there."),
                seg(1, 3723.0, 3725.5, " General Kenobi."),
            ],
            speakers: vec![],
            warnings: vec![],
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
    fn speakers_in_every_format() {
        let mut t = sample();
        t.speakers = vec!["agent".into(), "customer".into()];
        t.segments[0].speaker = Some("agent".into());
        t.segments[0].words[0].speaker = Some("agent".into());
        t.segments[1].speaker = Some("customer".into());
        let mut again = t.segments[1].clone();
        again.id = 2;
        again.text = " Yes.".into();
        t.segments.push(again);
        assert_eq!(
            t.to_text(),
            "agent: Hello there.\ncustomer: General Kenobi. Yes.\n"
        );
        assert!(t.to_srt().contains("00:00:01,250\n<v agent>Hello there.\n"));
        assert!(t.to_vtt().contains("00:00:01.250\n<v agent>Hello there.\n"));
        assert_eq!(
            t.to_tsv().lines().take(2).collect::<Vec<_>>(),
            ["start\tend\tspeaker\ttext", "0\t1250\tagent\tHello there."]
        );
        let v: serde_json::Value = serde_json::from_str(&t.to_verbose_json()).unwrap();
        assert_eq!(v["speakers"], json!(["agent", "customer"]));
        assert_eq!(v["segments"][1]["speaker"], "customer");
        assert_eq!(v["words"][0]["speaker"], "agent");
        let d: serde_json::Value = serde_json::from_str(&t.to_diarized_json()).unwrap();
        assert_eq!(d["task"], "transcribe");
        assert_eq!(
            d["segments"][0],
            json!({"type": "transcript.text.segment", "id": "seg_0", "start": 0.0,
                   "end": 1.25, "text": "Hello there.", "speaker": "agent"})
        );
        let j: serde_json::Value = serde_json::to_value(&t).unwrap();
        assert_eq!(j["speakers"], json!(["agent", "customer"]));
        assert_eq!(j["segments"][0]["speaker"], "agent");
        assert!(j["segments"][0].get("overlap").is_none());
        // Without speakers nothing changes shape.
        let plain = serde_json::to_value(sample()).unwrap();
        assert!(plain.get("speakers").is_none());
        assert!(plain["segments"][0].get("speaker").is_none());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&sample().to_diarized_json()).unwrap()
                ["segments"][0]["speaker"],
            "A"
        );
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
        assert_eq!(v["segments"][0]["temperature"], 0.0);
        let translated = Transcript {
            task: crate::transcribe::Task::Translate,
            ..t
        };
        let v: serde_json::Value =
            serde_json::from_str(&translated.render(Format::VerboseJson)).unwrap();
        assert_eq!(v["task"], "translate");
    }

    #[test]
    fn verbose_json_numbers_read_back_exactly() {
        // serde_json parses floats correctly rounded only with `float_roundtrip`; without it
        // some values (this one among them) come back one unit in the last place off.
        let mut t = sample();
        let values = (0..20_000).map(|i| -0.234_157_35_f32 + i as f32 * 1.3e-6);
        for v in values {
            t.segments[0].avg_logprob = v;
            let json: serde_json::Value = serde_json::from_str(&t.to_verbose_json()).unwrap();
            let back = json["segments"][0]["avg_logprob"].as_f64().unwrap();
            assert_eq!(back.to_bits(), f64::from(v).to_bits(), "{v}");
        }
    }

    #[test]
    fn formats_by_name() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string().to_uppercase().parse::<Format>().unwrap(), f);
        }
        assert_eq!("txt".parse::<Format>().unwrap(), Format::Text);
        let e = "docx".parse::<Format>().unwrap_err();
        assert!(e.to_string().contains("verbose_json"), "{e}");
        assert_eq!(Format::Srt.content_type(), "application/x-subrip");
        let t = sample();
        for f in Format::ALL {
            assert!(!t.render(f).is_empty(), "{f}");
        }
    }
}
