//! The transcript types as Python classes (read-only views of the core's).

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::to_py;

/// One word with its timing.
#[pyclass(module = "stenograph", name = "Word", frozen, get_all)]
#[derive(Clone)]
pub struct PyWord {
    /// The word, with its leading space if it had one.
    word: String,
    /// Start in seconds from the beginning of the audio.
    start: f64,
    /// End in seconds.
    end: f64,
    /// Mean probability of its tokens.
    probability: f32,
    /// Who said it, when speakers were asked for.
    speaker: Option<String>,
    /// Said while another speaker was talking.
    overlap: bool,
}

#[pymethods]
impl PyWord {
    fn __repr__(&self) -> String {
        format!(
            "Word({:?}, start={:.2}, end={:.2}, probability={:.2})",
            self.word, self.start, self.end, self.probability
        )
    }
}

/// A stretch of speech and its text.
#[pyclass(module = "stenograph", name = "Segment", frozen, get_all)]
#[derive(Clone)]
pub struct PySegment {
    /// Position in the transcript, from 0.
    id: usize,
    /// Start in seconds from the beginning of the audio.
    start: f64,
    /// End in seconds.
    end: f64,
    /// The text, with Whisper's leading space.
    text: String,
    /// Token ids, special tokens excluded.
    tokens: Vec<i32>,
    /// Mean log-probability of the tokens.
    avg_logprob: f32,
    /// Sampling temperature of the window's first decode.
    temperature: f32,
    /// Text size over its zlib-compressed size.
    compression_ratio: f32,
    /// Probability that the window holds no speech.
    no_speech_prob: f32,
    /// Words with timings (empty unless word timestamps were asked for).
    words: Vec<PyWord>,
    /// Who said it, when speakers were asked for.
    speaker: Option<String>,
    /// Some of it was said while another speaker was talking.
    overlap: bool,
}

#[pymethods]
impl PySegment {
    fn __repr__(&self) -> String {
        format!(
            "Segment(id={}, start={:.2}, end={:.2}, text={:?})",
            self.id, self.start, self.end, self.text
        )
    }
}

impl From<&stenograph::transcribe::Segment> for PySegment {
    fn from(s: &stenograph::transcribe::Segment) -> Self {
        Self {
            id: s.id,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            tokens: s.tokens.clone(),
            avg_logprob: s.avg_logprob,
            temperature: s.temperature,
            compression_ratio: s.compression_ratio,
            no_speech_prob: s.no_speech_prob,
            words: s
                .words
                .iter()
                .map(|w| PyWord {
                    word: w.word.clone(),
                    start: w.start,
                    end: w.end,
                    probability: w.probability,
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
#[pyclass(module = "stenograph", name = "Transcript", frozen)]
pub struct PyTranscript(pub stenograph::transcribe::Transcript);

#[pymethods]
impl PyTranscript {
    /// All segments' text, trimmed.
    #[getter]
    fn text(&self) -> &str {
        &self.0.text
    }

    /// Language of the text (ISO 639-1), given or detected.
    #[getter]
    fn language(&self) -> &str {
        &self.0.language
    }

    /// Probability of the detected language (1.0 when it was given).
    #[getter]
    fn language_probability(&self) -> f32 {
        self.0.language_probability
    }

    /// Length of the audio in seconds.
    #[getter]
    fn duration(&self) -> f64 {
        self.0.duration
    }

    /// "transcribe", or "translate" when the text is an English translation.
    #[getter]
    fn task(&self) -> &'static str {
        self.0.task.as_str()
    }

    /// The speakers' names in channel order, when speakers were asked for (else empty).
    #[getter]
    fn speakers(&self) -> Vec<String> {
        self.0.speakers.clone()
    }

    /// The text turn by turn: (speaker, text) pairs, consecutive segments of one speaker
    /// joined.
    fn turns(&self) -> Vec<(String, String)> {
        self.0.turns()
    }

    /// Problems decoding the input that were tolerated (e.g. "truncated: …" when the file was
    /// cut off and the text covers only what was there).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.0.warnings.iter().map(ToString::to_string).collect()
    }

    /// The transcript in `format`: "text", "json", "verbose_json", "srt", "vtt", "tsv" or
    /// "diarized_json".
    fn render(&self, format: &str) -> PyResult<String> {
        let format: stenograph::transcribe::Format = format.parse().map_err(to_py)?;
        Ok(self.0.render(format))
    }

    /// The segments in order.
    #[getter]
    fn segments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.0.segments.iter().map(PySegment::from))
    }

    /// Plain text, one segment per line.
    fn to_text(&self) -> String {
        self.0.to_text()
    }

    /// SubRip subtitles.
    fn to_srt(&self) -> String {
        self.0.to_srt()
    }

    /// WebVTT subtitles.
    fn to_vtt(&self) -> String {
        self.0.to_vtt()
    }

    /// The whole transcript as JSON: `to_dict()` as a string (what Node's `JSON.stringify`
    /// gives). OpenAI's `json` response, `{"text": ...}`, is `render("json")`.
    fn to_json(&self) -> String {
        self.0.to_verbose_json()
    }

    /// OpenAI's `verbose_json` response as a string.
    fn to_verbose_json(&self) -> String {
        self.0.to_verbose_json()
    }

    /// Tab-separated start, end (milliseconds) and text.
    fn to_tsv(&self) -> String {
        self.0.to_tsv()
    }

    /// OpenAI's `verbose_json` shape as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.0.to_verbose_json(),))
    }

    fn __repr__(&self) -> String {
        format!(
            "Transcript(language={:?}, task={:?}, duration={:.2}, segments={}, warnings={}, text={:?})",
            self.0.language,
            self.0.task.as_str(),
            self.0.duration,
            self.0.segments.len(),
            self.0.warnings.len(),
            self.0.text
        )
    }
}
