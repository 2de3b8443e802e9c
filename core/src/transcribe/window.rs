//! One whisper.cpp pass over a stretch of audio: parameters from the options, callbacks
//! installed, the result read back. Every decode (a call's chunk, a batch's packed window)
//! goes through [`Transcriber::run_window`].

use std::os::raw::c_void;

use whisper_rs::{FullParams, WhisperState};

use super::events::SoundEvents;
use super::hooks;
use super::hotwords;
use super::options::{Task, TranscribeOptions};
use super::segments::{on_new_segments, Collector};
use super::templates;
use super::Transcriber;
use crate::audio::SAMPLE_RATE;
use crate::error::{Error, Result};

/// Encoder positions per second of audio (1500 for 30 s).
const POSITIONS_PER_SECOND: f64 = 50.0;
/// Positions kept beyond the audio when the encoder window is trimmed for a short clip: less
/// was measured to cause repetition loops and garbage on 1–2 s clips.
const WINDOW_PADDING: f64 = 512.0;
/// The same for a live stream's partial decodes, which run often and whose words must agree
/// twice before they count: 384 took the gap between partials with four streams from 0.80 s
/// to 0.63 s (p90) with as few agreed words changed by the final text; 256 made agreed words
/// wrong more often.
const PARTIAL_PADDING: f64 = 384.0;

/// What one pass decodes, beyond the call's options.
pub(super) struct Pass<'a> {
    /// 16 kHz mono samples; 30 s or less is one window, encoded only as far as needed.
    pub audio: &'a [f32],
    /// The language to decode in.
    pub language: &'a str,
    /// Whether the previous pass's text on this state is context (never across calls).
    pub keep_context: bool,
    /// Token timestamps even without word timestamps (to place packed segments).
    pub token_timestamps: bool,
    /// whisper.cpp's progress, 0–100, for this pass.
    pub progress: Option<hooks::Progress>,
    /// A live stream's decode (batch passes wait for these, see [`super::priority`]).
    pub live: bool,
    /// A live stream's partial decode (encoded with [`PARTIAL_PADDING`]).
    pub partial: bool,
}

impl Transcriber {
    /// Decodes `pass` on `state`; `collector` receives the segments as whisper.cpp produces
    /// them and is handed back when the pass ends.
    pub(super) fn run_window(
        &self,
        state: &mut WhisperState,
        opts: &TranscribeOptions,
        pass: Pass<'_>,
        collector: Collector,
    ) -> Result<Collector> {
        if !pass.live {
            self.inner
                .live_first
                .yield_to_live(super::priority::MAX_BATCH_WAIT);
        }
        if opts.cancelled() {
            return Err(Error::Cancelled);
        }
        let prompt = self.prompt_tokens(opts)?;
        let mut params = self.params(opts, pass.language, &prompt);
        params.set_no_context(!pass.keep_context);
        if pass.token_timestamps {
            params.set_token_timestamps(true);
        }
        let seconds = pass.audio.len() as f64 / f64::from(SAMPLE_RATE);
        if seconds <= 30.0 {
            // One window: encode only the positions the audio needs, plus padding.
            let padding = if pass.partial {
                PARTIAL_PADDING
            } else {
                WINDOW_PADDING
            };
            let positions = (seconds * POSITIONS_PER_SECOND + padding).ceil() as i32;
            params.set_audio_ctx(positions.min(1500));
        }
        if let Some(cb) = &pass.progress {
            // SAFETY: `pass` outlives the call to `full` below.
            unsafe { hooks::set_progress(&mut params, cb) };
        }
        let mut collector = Box::new(collector);
        // SAFETY: the collector outlives the call to `full`, which is the only user of the
        // pointer; the callback never unwinds.
        unsafe {
            params.set_new_segment_callback(Some(on_new_segments));
            params.set_new_segment_callback_user_data(
                collector.as_mut() as *mut Collector as *mut c_void
            );
        }
        let result = state.full(params, pass.audio);
        if opts.cancelled() {
            return Err(Error::Cancelled);
        }
        result.map_err(|e| Error::Inference(format!("whisper.cpp failed: {e}")))?;
        Ok(*collector)
    }

    /// whisper.cpp parameters for one pass, before pass-specific settings.
    fn params<'a>(
        &self,
        opts: &'a TranscribeOptions,
        language: &str,
        prompt: &'a [i32],
    ) -> FullParams<'a, 'a> {
        let mut params = templates::params(opts.decoding, language);
        params.set_n_threads(self.inner.threads as i32);
        params.set_translate(opts.task == Task::Translate);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        // Sound annotations ("(laughs)", "[Music]") are let through unless suppressed: where
        // they are forbidden Whisper invents words instead (see `events`).
        params.set_suppress_nst(opts.sound_events == SoundEvents::Suppress);
        params.set_temperature(opts.temperature);
        params.set_temperature_inc(if opts.temperature_fallback { 0.2 } else { 0.0 });
        params.set_entropy_thold(opts.compression_ratio_threshold);
        params.set_logprob_thold(opts.logprob_threshold);
        // whisper.cpp splits segments at `max_len` only with token timestamps.
        params.set_token_timestamps(opts.word_timestamps || opts.max_segment_chars.is_some());
        // Tokens, not `set_initial_prompt`: whisper-rs never frees the C string that makes.
        params.set_tokens(prompt);
        if let Some(n) = opts.max_segment_chars {
            params.set_max_len(n.max(1) as i32);
            params.set_split_on_word(true);
        }
        if let Some(token) = &opts.cancel {
            // SAFETY: the token lives in `opts`, borrowed for as long as `params`.
            unsafe { hooks::set_abort(&mut params, token) };
        }
        params
    }

    /// The prompt of every window: the hotwords' list, then the initial prompt (none without
    /// either).
    fn prompt_tokens(&self, opts: &TranscribeOptions) -> Result<Vec<i32>> {
        let initial = match opts.initial_prompt.as_deref().filter(|p| !p.is_empty()) {
            Some(prompt) => self.tokens(prompt, "the initial prompt")?,
            None => Vec::new(),
        };
        Ok(hotwords::prompt(self.hotword_tokens(opts)?, initial))
    }

    /// The hotwords' list as prompt tokens (none without hotwords).
    pub(super) fn hotword_tokens(&self, opts: &TranscribeOptions) -> Result<Vec<i32>> {
        let Some(text) = hotwords::prompt_text(&opts.hotwords) else {
            return Ok(Vec::new());
        };
        let beg = self.inner.model.context().token_beg();
        Ok(hotwords::framed(beg, self.tokens(&text, "the hotwords")?))
    }

    /// `text` in the model's tokens; `what` names it in an error.
    fn tokens(&self, text: &str, what: &str) -> Result<Vec<i32>> {
        // A token covers at least one byte, so this many never overflows.
        self.inner
            .model
            .context()
            .tokenize(text, text.len() + 1)
            .map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))
    }
}
