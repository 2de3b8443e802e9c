//! The transcript as JavaScript sees it.

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// One word with its timing.
#[napi(object)]
pub struct Word {
    /// The word, with its leading space if it had one.
    pub word: String,
    /// Start in seconds from the beginning of the audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// Mean probability of its tokens.
    pub probability: f64,
    /// Who said it, when speakers were asked for.
    pub speaker: Option<String>,
    /// Said while another speaker was talking.
    pub overlap: bool,
}

/// A stretch of speech and its text.
#[napi(object)]
pub struct Segment {
    /// Position in the transcript, from 0.
    pub id: u32,
    /// Start in seconds from the beginning of the audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// The text, with Whisper's leading space.
    pub text: String,
    /// Token ids, special tokens excluded.
    pub tokens: Vec<i32>,
    /// Mean log-probability of the tokens.
    pub avg_logprob: f64,
    /// Sampling temperature of the window's first decode.
    pub temperature: f64,
    /// Text size over its zlib-compressed size.
    pub compression_ratio: f64,
    /// Probability that the window holds no speech.
    pub no_speech_prob: f64,
    /// Words with timings (empty unless word timestamps were asked for).
    pub words: Vec<Word>,
    /// Who said it, when speakers were asked for.
    pub speaker: Option<String>,
    /// Some of it was said while another speaker was talking.
    pub overlap: bool,
}

impl From<&stenograph::transcribe::Segment> for Segment {
    fn from(s: &stenograph::transcribe::Segment) -> Self {
        Self {
            id: s.id as u32,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            tokens: s.tokens.clone(),
            avg_logprob: f64::from(s.avg_logprob),
            temperature: f64::from(s.temperature),
            compression_ratio: f64::from(s.compression_ratio),
            no_speech_prob: f64::from(s.no_speech_prob),
            words: s
                .words
                .iter()
                .map(|w| Word {
                    word: w.word.clone(),
                    start: w.start,
                    end: w.end,
                    probability: f64::from(w.probability),
                    speaker: w.speaker.clone(),
                    overlap: w.overlap,
                })
                .collect(),
            speaker: s.speaker.clone(),
            overlap: s.overlap,
        }
    }
}

/// A finished transcription.
#[napi]
pub struct Transcript {
    pub(crate) inner: stenograph::transcribe::Transcript,
}

#[napi]
impl Transcript {
    /// All segments' text, trimmed.
    #[napi(getter)]
    pub fn text(&self) -> String {
        self.inner.text.clone()
    }

    /// Language of the text (ISO 639-1), given or detected.
    #[napi(getter)]
    pub fn language(&self) -> String {
        self.inner.language.clone()
    }

    /// Probability of the detected language (1 when it was given).
    #[napi(getter)]
    pub fn language_probability(&self) -> f64 {
        f64::from(self.inner.language_probability)
    }

    /// Length of the audio in seconds.
    #[napi(getter)]
    pub fn duration(&self) -> f64 {
        self.inner.duration
    }

    /// The segments in order.
    #[napi(getter)]
    pub fn segments(&self) -> Vec<Segment> {
        self.inner.segments.iter().map(Segment::from).collect()
    }

    /// The speakers' names in channel order, when speakers were asked for (else empty).
    #[napi(getter)]
    pub fn speakers(&self) -> Vec<String> {
        self.inner.speakers.clone()
    }

    /// The text turn by turn: `[speaker, text]` pairs, consecutive segments of one speaker
    /// joined.
    #[napi(ts_return_type = "Array<[string, string]>")]
    pub fn turns(&self) -> Vec<Vec<String>> {
        self.inner
            .turns()
            .into_iter()
            .map(|(who, said)| vec![who, said])
            .collect()
    }

    /// "transcribe", or "translate" when the text is an English translation.
    #[napi(getter)]
    pub fn task(&self) -> String {
        self.inner.task.as_str().to_string()
    }

    /// Problems decoding the input that were tolerated (e.g. "truncated: …" when the file was
    /// cut off and the text covers only what was there).
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        self.inner
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The transcript in `format`: "text", "json", "verbose_json", "srt", "vtt", "tsv" or
    /// "diarized_json".
    #[napi]
    pub fn render(&self, env: Env, format: String) -> Result<String> {
        let format: stenograph::transcribe::Format = format
            .parse()
            .map_err(|e: stenograph::Error| crate::errors::to_js(&env, e.into()))?;
        Ok(self.inner.render(format))
    }

    /// Plain text, one segment per line.
    #[napi]
    pub fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// SubRip subtitles.
    #[napi]
    pub fn to_srt(&self) -> String {
        self.inner.to_srt()
    }

    /// WebVTT subtitles.
    #[napi]
    pub fn to_vtt(&self) -> String {
        self.inner.to_vtt()
    }

    /// Tab-separated start, end (milliseconds) and text.
    #[napi]
    pub fn to_tsv(&self) -> String {
        self.inner.to_tsv()
    }

    /// OpenAI's `verbose_json` shape (also what `JSON.stringify` writes).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.inner.to_verbose_json())
            .map_err(|e| Error::from_reason(e.to_string()))
    }
}
