//! What one call has produced so far, and the transcript it ends with.

use super::options::TranscribeOptions;
use super::transcript::{Segment, Transcript};
use crate::audio::{Warning, SAMPLE_RATE};

/// One call's options, language (once settled) and segments.
pub(super) struct Call {
    pub opts: TranscribeOptions,
    /// The language code and its probability, once settled on the call's first speech.
    pub language: Option<(String, f32)>,
    pub segments: Vec<Segment>,
    /// Warnings the transcript will carry.
    pub warnings: Vec<Warning>,
}

impl Call {
    pub fn new(opts: &TranscribeOptions, warnings: Vec<Warning>) -> Self {
        Self {
            opts: opts.clone(),
            language: None,
            segments: Vec::new(),
            warnings,
        }
    }

    /// The transcript of `samples` samples of input, reporting 100 % progress.
    pub fn finish(self, samples: usize) -> Transcript {
        if let Some(cb) = &self.opts.on_progress {
            cb(100);
        }
        self.finish_quietly(samples)
    }

    /// The transcript, without reporting progress.
    pub fn finish_quietly(self, samples: usize) -> Transcript {
        let opts = &self.opts;
        let (language, language_probability) = self.language.clone().unwrap_or_else(|| match &opts
            .language
        {
            Some(l) => (l.clone(), 1.0),
            None => ("en".to_string(), 0.0),
        });
        let text = self
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<String>()
            .trim()
            .to_string();
        Transcript {
            text,
            language,
            language_probability,
            duration: samples as f64 / f64::from(SAMPLE_RATE),
            task: self.opts.task,
            segments: self.segments,
            speakers: Vec::new(),
            warnings: self.warnings,
        }
    }
}
