//! What a transcription should do, and the one place its options are parsed and checked:
//! every binding, the CLI and the server go through [`Task::from_str`],
//! [`Decoding::from_beam_size`], [`language`] and [`TranscribeOptions::validate`].

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::events::SoundEvents;
use super::speakers::{speaker_name_list, Speakers};
use super::transcript::Segment;
use crate::{Error, Result};

/// Transcribe in the spoken language, or translate to English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Text in the language spoken (default).
    #[default]
    Transcribe,
    /// English text whatever the language spoken (multilingual models only).
    Translate,
}

impl Task {
    /// `"transcribe"` or `"translate"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Transcribe => "transcribe",
            Task::Translate => "translate",
        }
    }
}

impl FromStr for Task {
    type Err = Error;

    /// `transcribe` or `translate` (any case).
    ///
    /// ```
    /// use stenograph::transcribe::Task;
    /// assert_eq!("Translate".parse::<Task>().unwrap(), Task::Translate);
    /// assert!("summarise".parse::<Task>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "transcribe" => Ok(Task::Transcribe),
            "translate" => Ok(Task::Translate),
            other => Err(Error::InvalidArgument(format!(
                "task must be 'transcribe' or 'translate', not '{other}'"
            ))),
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most beams a beam search may use (whisper.cpp's `WHISPER_MAX_DECODERS`).
pub const MAX_BEAMS: usize = 8;

/// How tokens are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decoding {
    /// The most likely token each step (fastest).
    Greedy,
    /// Beam search with this many beams, 2 to [`MAX_BEAMS`] (whisper.cpp's default is 5).
    Beam(usize),
}

impl Decoding {
    /// The decoding for a beam size as users give it: 0 or 1 is greedy, 2 to [`MAX_BEAMS`] a
    /// beam search.
    ///
    /// ```
    /// use stenograph::transcribe::Decoding;
    /// assert_eq!(Decoding::from_beam_size(1).unwrap(), Decoding::Greedy);
    /// assert_eq!(Decoding::from_beam_size(5).unwrap(), Decoding::Beam(5));
    /// assert!(Decoding::from_beam_size(9).is_err());
    /// ```
    pub fn from_beam_size(beams: usize) -> Result<Self> {
        match beams {
            0 | 1 => Ok(Decoding::Greedy),
            n if n <= MAX_BEAMS => Ok(Decoding::Beam(n)),
            n => Err(Error::InvalidArgument(format!(
                "beam size must be at most {MAX_BEAMS}, not {n}"
            ))),
        }
    }

    /// The beam size: 1 for greedy decoding.
    pub fn beam_size(self) -> usize {
        match self {
            Decoding::Greedy => 1,
            Decoding::Beam(n) => n,
        }
    }
}

/// Checks a language given by a user: an ISO 639-1 code Whisper knows (`en`, `de`, …), in any
/// case, or `auto` (or nothing) to detect it. Returns the code, lower-case, or `None` for
/// detection.
///
/// ```
/// use stenograph::transcribe::language;
/// assert_eq!(language(Some("EN")).unwrap().as_deref(), Some("en"));
/// assert_eq!(language(Some("auto")).unwrap(), None);
/// assert!(language(Some("english")).is_err());
/// assert!(language(Some("e\0n")).is_err());
/// ```
pub fn language(given: Option<&str>) -> Result<Option<String>> {
    let Some(code) = given
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "auto")
    else {
        return Ok(None);
    };
    if code.contains('\0') {
        return Err(Error::InvalidArgument(
            "the language contains a NUL character".into(),
        ));
    }
    let code = code.to_ascii_lowercase();
    // Codes are 2–3 ASCII letters (anything else, a NUL included, never reaches whisper.cpp);
    // whisper.cpp also knows full names ("english"): only its codes are accepted here.
    let letters = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
    let known = letters
        .then(|| whisper_rs::get_lang_id(&code).and_then(whisper_rs::get_lang_str))
        .flatten();
    if known != Some(code.as_str()) {
        return Err(Error::InvalidArgument(format!(
            "unknown language code '{code}': use an ISO 639-1 code such as 'en', or 'auto'"
        )));
    }
    Ok(Some(code))
}

/// Checks the languages detection may choose from, given by a user as one string, separated
/// by commas or spaces: ISO 639-1 codes Whisper knows, in any case. Returns them lower-case,
/// each once, in the order given; an empty string is an empty list (any language).
///
/// ```
/// use stenograph::transcribe::languages;
/// assert_eq!(languages("en, DE,fr de").unwrap(), ["en", "de", "fr"]);
/// assert!(languages("").unwrap().is_empty());
/// assert!(languages("en,auto").is_err());
/// assert!(languages("en,klingon").is_err());
/// ```
pub fn languages(given: &str) -> Result<Vec<String>> {
    let items: Vec<&str> = given
        .split([',', ' '])
        .filter(|c| !c.trim().is_empty())
        .collect();
    language_list(&items)
}

/// Checks languages detection may choose from, one code per item (as [`language`] takes
/// them; `auto` is refused). Returns them lower-case, each once, in the order given.
///
/// ```
/// use stenograph::transcribe::language_list;
/// assert_eq!(language_list(&["FR", "en", "fr"]).unwrap(), ["fr", "en"]);
/// assert!(language_list(&["en,de"]).is_err());
/// ```
pub fn language_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Some(code) = language(Some(item.as_ref()))? else {
            return Err(Error::InvalidArgument(
                "a list of languages holds codes, not 'auto' or empty items".into(),
            ));
        };
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

/// Shares a stop request with a running transcription; clones share the flag.
///
/// ```
/// let token = stenograph::transcribe::CancelToken::new();
/// let other = token.clone();
/// other.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
    /// A token this one also follows: cancelled when it is.
    parent: Option<Arc<AtomicBool>>,
}

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token of its own that is also cancelled when `parent` (if any) is.
    pub(crate) fn child_of(parent: Option<&CancelToken>) -> Self {
        Self {
            flag: Arc::default(),
            parent: parent.map(|p| p.flag.clone()),
        }
    }

    /// Asks the transcriptions holding this token to stop; they return `Error::Cancelled`.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called (on this token or the one it follows).
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
            || self
                .parent
                .as_ref()
                .is_some_and(|p| p.load(Ordering::SeqCst))
    }
}

/// A progress callback: percent done, 0–100.
pub type ProgressCallback = Arc<dyn Fn(u8) + Send + Sync>;
/// A callback that receives each segment as soon as it is decoded.
pub type SegmentCallback = Arc<dyn Fn(&Segment) + Send + Sync>;

/// Options of one transcription. Fields are added over time (`#[non_exhaustive]`): start from
/// the default and set what you need.
///
/// ```
/// use stenograph::transcribe::{Decoding, TranscribeOptions};
/// let mut opts = TranscribeOptions::default();
/// opts.language = Some("en".into());
/// opts.decoding = Decoding::Beam(5);
/// opts.word_timestamps = true;
/// assert!(opts.temperature_fallback);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct TranscribeOptions {
    /// Spoken language as an ISO 639-1 code (`en`, `de`, …); `None` detects it (English-only
    /// models always use `en`).
    pub language: Option<String>,
    /// Languages detection chooses from (ISO 639-1 codes: a team's markets, `en`, `de`, `fr`);
    /// empty (default): any language Whisper knows. Unused when `language` is set.
    pub languages: Vec<String>,
    /// Transcribe or translate to English.
    pub task: Task,
    /// Text that primes the decoder: names, jargon, spelling and punctuation style.
    pub initial_prompt: Option<String>,
    /// Terms to recognise with their spelling (customers' names, products, competitors), in
    /// every window of the call (see [`hotwords`](super::hotwords)); empty (default): none.
    pub hotwords: Vec<String>,
    /// Greedy or beam search (default greedy).
    pub decoding: Decoding,
    /// Sampling temperature of the first decode, 0.0 (default, most likely tokens) to 1.0.
    pub temperature: f32,
    /// Re-decode at temperatures 0.2, 0.4, … 1.0 when a window fails the checks below
    /// (default on).
    pub temperature_fallback: bool,
    /// Fallback when a window's text compresses better than this ratio (a repetition loop;
    /// default 2.4).
    pub compression_ratio_threshold: f32,
    /// Fallback when a window's mean token log-probability is below this (default −1.0).
    pub logprob_threshold: f32,
    /// Per-word start/end times and probabilities (default off).
    pub word_timestamps: bool,
    /// Prime each window with the text of the previous ones in the same call. Off (default):
    /// a window that goes wrong cannot pull the next ones into its errors or loops, and the
    /// windows of one long input are decoded in parallel on the pool's free states. Never
    /// carries over between calls.
    pub condition_on_previous_text: bool,
    /// Decode only detected speech (default on): silence, noise and music then give no text,
    /// and long inputs are cut at pauses into windows of at most 30 s.
    pub vad: bool,
    /// Laughter, coughs, music and noise that Whisper annotates ("(laughs)", "[Music]"):
    /// removed from the text (default), kept, or suppressed while decoding (see
    /// [`SoundEvents`]).
    pub sound_events: SoundEvents,
    /// Longest segment in characters, split at word boundaries (default: whisper's own
    /// segmentation).
    pub max_segment_chars: Option<usize>,
    /// Who said what: [`Speakers::Channels`] transcribes each channel of a multi-channel
    /// recording as its own speaker, [`Speakers::Voices`] tells speakers apart by voice
    /// (default [`Speakers::None`]).
    pub speakers: Speakers,
    /// Names of the speakers in channel order, or by voice in the order first heard (`agent`,
    /// `customer`); speakers beyond the list are `SPEAKER_<n>` (see [`speaker_names`]).
    pub speaker_names: Vec<String>,
    /// Called with the percentage done.
    pub on_progress: Option<ProgressCallback>,
    /// Called with each segment as it is produced.
    pub on_segment: Option<SegmentCallback>,
    /// Stops the transcription when cancelled.
    pub cancel: Option<CancelToken>,
}

/// Longest initial prompt, in bytes (Whisper reads at most 224 tokens of it).
pub const MAX_PROMPT_BYTES: usize = 4096;

impl TranscribeOptions {
    /// Whether this call's token has been cancelled: callbacks stay silent from then on.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }

    /// Checks every option that does not depend on the model: the language, the beam size,
    /// the temperature and thresholds, the prompt, the segment length. The transcriber checks
    /// the rest (an English-only model and translation) when a call starts.
    ///
    /// ```
    /// use stenograph::transcribe::TranscribeOptions;
    /// let mut bad = TranscribeOptions::default();
    /// bad.temperature = 1.5;
    /// assert!(bad.validate().is_err());
    /// assert!(TranscribeOptions::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.language {
            if language(Some(l))?.as_deref() != Some(l.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "language must be a lower-case ISO 639-1 code, not '{l}'"
                )));
            }
        }
        for l in &self.languages {
            if language(Some(l))?.as_deref() != Some(l.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "languages must be lower-case ISO 639-1 codes, not '{l}'"
                )));
            }
        }
        if let Decoding::Beam(n) = self.decoding {
            Decoding::from_beam_size(n)?;
        }
        if !(0.0..=1.0).contains(&self.temperature) {
            return Err(Error::InvalidArgument(format!(
                "temperature must be between 0 and 1, not {}",
                self.temperature
            )));
        }
        for (what, v) in [
            (
                "compression_ratio_threshold",
                self.compression_ratio_threshold,
            ),
            ("logprob_threshold", self.logprob_threshold),
        ] {
            if !v.is_finite() {
                return Err(Error::InvalidArgument(format!(
                    "{what} must be a finite number, not {v}"
                )));
            }
        }
        if let Some(p) = &self.initial_prompt {
            if p.contains('\0') {
                return Err(Error::InvalidArgument(
                    "the initial prompt contains a NUL character".into(),
                ));
            }
            if p.len() > MAX_PROMPT_BYTES {
                return Err(Error::InvalidArgument(format!(
                    "the initial prompt is {} bytes; at most {MAX_PROMPT_BYTES}",
                    p.len()
                )));
            }
        }
        super::hotwords::hotword_list(&self.hotwords)?;
        if self.max_segment_chars == Some(0) {
            return Err(Error::InvalidArgument(
                "max_segment_chars must be at least 1".into(),
            ));
        }
        if speaker_name_list(&self.speaker_names)? != self.speaker_names {
            return Err(Error::InvalidArgument(
                "speaker_names must be trimmed and each name given once".into(),
            ));
        }
        Ok(())
    }
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            language: None,
            languages: Vec::new(),
            task: Task::Transcribe,
            initial_prompt: None,
            hotwords: Vec::new(),
            decoding: Decoding::Greedy,
            temperature: 0.0,
            temperature_fallback: true,
            compression_ratio_threshold: 2.4,
            logprob_threshold: -1.0,
            word_timestamps: false,
            condition_on_previous_text: false,
            vad: true,
            sound_events: SoundEvents::Drop,
            max_segment_chars: None,
            speakers: Speakers::None,
            speaker_names: Vec::new(),
            on_progress: None,
            on_segment: None,
            cancel: None,
        }
    }
}

impl std::fmt::Debug for TranscribeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscribeOptions")
            .field("language", &self.language)
            .field("languages", &self.languages)
            .field("task", &self.task)
            .field("initial_prompt", &self.initial_prompt)
            .field("hotwords", &self.hotwords)
            .field("decoding", &self.decoding)
            .field("temperature", &self.temperature)
            .field("temperature_fallback", &self.temperature_fallback)
            .field("word_timestamps", &self.word_timestamps)
            .field("vad", &self.vad)
            .field("sound_events", &self.sound_events)
            .field("max_segment_chars", &self.max_segment_chars)
            .field("speakers", &self.speakers)
            .field("speaker_names", &self.speaker_names)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_codes_whatever_the_caller_sends() {
        assert_eq!(language(Some(" De ")).unwrap().as_deref(), Some("de"));
        assert_eq!(language(Some("yue")).unwrap().as_deref(), Some("yue"));
        assert_eq!(language(None).unwrap(), None);
        assert_eq!(language(Some("")).unwrap(), None);
        for bad in [
            "english", "en-US", "e", "ñ", "日本", "e\0n", "xx", "enn", "12",
        ] {
            assert!(language(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn beam_sizes_and_tasks() {
        assert_eq!(Decoding::from_beam_size(0).unwrap(), Decoding::Greedy);
        assert_eq!(Decoding::from_beam_size(8).unwrap().beam_size(), 8);
        assert!(Decoding::from_beam_size(9).is_err());
        assert_eq!(" TRANSCRIBE".parse::<Task>().unwrap(), Task::Transcribe);
        assert_eq!(Task::Translate.to_string(), "translate");
        let bad = TranscribeOptions {
            logprob_threshold: f32::NAN,
            ..TranscribeOptions::default()
        };
        assert!(bad.validate().is_err());
        let bad = TranscribeOptions {
            max_segment_chars: Some(0),
            ..TranscribeOptions::default()
        };
        assert!(bad.validate().is_err());
        let bad = TranscribeOptions {
            language: Some("EN".into()),
            ..TranscribeOptions::default()
        };
        assert!(bad.validate().is_err(), "options hold the normalised code");
    }
}
