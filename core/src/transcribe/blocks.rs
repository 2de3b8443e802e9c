//! A call's audio in blocks: at most 10 minutes held at a time, each block's speech found,
//! the language settled on the first speech, the chunks decoded.

use whisper_rs::WhisperState;

use super::call::Call;
use super::options::TranscribeOptions;
use super::schedule::Job;
use super::transcript::Transcript;
use super::vad;
use super::Transcriber;
use crate::audio::{AudioStream, SAMPLE_RATE};
use crate::error::{Error, Result};

/// Samples of 16 kHz audio decoded per block of a stream: 10 minutes (38 MB).
pub(super) const BLOCK: usize = 600 * SAMPLE_RATE as usize;
/// Room beyond [`BLOCK`] for the stream chunk that fills it (decoded chunks are far shorter).
const BLOCK_SLACK: usize = 2 * SAMPLE_RATE as usize;

/// One input's audio waiting to be decoded.
pub(super) struct Pending {
    /// The samples not decoded yet.
    pub block: Vec<f32>,
    /// Where `block` starts in the input, in samples.
    pub start: usize,
}

/// The 16 kHz samples a stream's header declares, when it declares its length.
pub(super) fn expected_samples(stream: &AudioStream) -> Option<usize> {
    stream
        .info()
        .duration_seconds
        .map(|s| (s * f64::from(SAMPLE_RATE)) as usize)
}

impl Pending {
    /// Room for a block and the chunk that completes it, allocated once.
    pub fn new() -> Self {
        Self {
            block: Vec::with_capacity(BLOCK + BLOCK_SLACK),
            start: 0,
        }
    }

    /// Appends decoded samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.block.reserve_exact(samples.len());
        self.block.extend_from_slice(samples);
    }

    /// Samples of input received so far.
    pub fn end(&self) -> usize {
        self.start + self.block.len()
    }
}

impl Transcriber {
    /// Samples held in memory, as one block, on the calling thread.
    pub(super) fn samples_here(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        self.check(opts)?;
        let mut call = self.call(opts);
        if !samples.is_empty() {
            let mut state = self.inner.pool.acquire()?;
            self.decode_block(&mut state, samples, None, 0, (0.0, 1.0), &mut call)?;
        }
        Ok(call.finish(samples.len()))
    }

    /// A decoding stream, block by block, on the calling thread.
    pub(super) fn stream_blocks(
        &self,
        mut stream: AudioStream,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        self.check(opts)?;
        let expected = expected_samples(&stream);
        let mut call = self.call(opts);
        let mut state = self.inner.pool.acquire()?;
        let mut pending = Pending::new();
        let mut ended = false;
        loop {
            while !ended && pending.block.len() < BLOCK {
                match stream.next() {
                    Some(chunk) => pending.push(&chunk?),
                    None => ended = true,
                }
            }
            let total = expected.unwrap_or(0).max(pending.end()) as f64;
            let decoded = self.decode_pending(&mut state, &mut pending, ended, total, &mut call)?;
            if ended && (decoded == 0 || pending.block.is_empty()) {
                break;
            }
        }
        let mut t = call.finish(pending.end());
        t.warnings.splice(0..0, stream.warnings().iter().cloned());
        Ok(t)
    }

    /// Decodes the speech of `pending` that is complete (all of it once the input has
    /// `ended`) and drops it from the block; returns how many samples were decoded.
    pub(super) fn decode_pending(
        &self,
        state: &mut WhisperState,
        pending: &mut Pending,
        ended: bool,
        total: f64,
        call: &mut Call,
    ) -> Result<usize> {
        let block = &pending.block;
        // Speech running into the block's end is kept for the next block, unless it fills
        // the whole block.
        // The detectors are causal, so the spans before the one kept are those of the
        // block's first `keep` samples.
        let mut keep = block.len();
        let mut speech = None;
        if call.opts.vad {
            let mut spans = vad::speech_spans(&self.inner.vad, block);
            if let Some(&last) = spans.last() {
                if !ended && last.end + 2 * vad::PAD >= block.len() && last.start > 0 {
                    keep = last.start;
                    spans.pop();
                }
            }
            speech = Some(spans);
        }
        let progress = (pending.start as f64 / total, keep as f64 / total);
        self.decode_block(state, &block[..keep], speech, pending.start, progress, call)?;
        pending.block.drain(..keep);
        pending.start += keep;
        Ok(keep)
    }

    /// The spoken language of 16 kHz mono `samples` and its probability, without transcribing:
    /// detected on the first 30 s of the speech the VAD finds (of the audio, with `opts.vad`
    /// off), among `opts.languages` when there are any; a given `opts.language` or an
    /// English-only model answers without detecting. `None` when there is no speech.
    pub fn detect_language(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<Option<(String, f32)>> {
        self.check(opts)?;
        let (_, chunks) = self.chunks(samples, None, opts);
        let Some(first) = chunks.first() else {
            return Ok(None);
        };
        let mut state = self.inner.pool.acquire()?;
        self.language(&mut state, &first.audio(samples), opts)
            .map(Some)
    }

    /// The stretches of `samples` to decode: detected speech (`speech`, or found now) in
    /// chunks of at most 30 s, or everything with VAD off.
    fn chunks(
        &self,
        samples: &[f32],
        speech: Option<Vec<vad::Span>>,
        opts: &TranscribeOptions,
    ) -> (Vec<vad::Span>, Vec<vad::Chunk>) {
        let speech = match speech {
            Some(found) => found,
            None if opts.vad => vad::speech_spans(&self.inner.vad, samples),
            None => Vec::new(),
        };
        let chunks = if opts.vad {
            vad::speech_chunks(samples, &speech)
        } else if samples.is_empty() {
            Vec::new()
        } else {
            vec![vad::Chunk::whole(vad::Span {
                start: 0,
                end: samples.len(),
            })]
        };
        (speech, chunks)
    }

    /// Decodes one block of audio starting at sample `offset` of the input: finds its speech
    /// (unless `speech` holds it already), settles the language on the first speech of the
    /// call, and appends the segments.
    pub(super) fn decode_block(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        speech: Option<Vec<vad::Span>>,
        offset: usize,
        progress: (f64, f64),
        call: &mut Call,
    ) -> Result<()> {
        let opts = call.opts.clone();
        let (speech, chunks) = self.chunks(samples, speech, &opts);
        if chunks.is_empty() {
            return Ok(());
        }
        if call.language.is_none() {
            let first = chunks[0].audio(samples);
            call.language = Some(self.language(state, &first, &opts)?);
        }
        let language = call.language.clone().map(|(l, _)| l).unwrap_or_default();
        let job = Job {
            samples,
            chunks: &chunks,
            speech: opts.vad.then_some(speech.as_slice()),
            opts: &opts,
            language: &language,
            total: chunks.iter().map(vad::Chunk::len).sum(),
            offset,
            first_id: call.segments.len(),
            progress,
        };
        let mut segments = self.decode_job(state, &job)?;
        call.segments.append(&mut segments);
        Ok(())
    }

    /// The language given, implied by an English-only model, or detected on the first 30 s of
    /// `speech` (among `opts.languages` when there are any; its probability is then its share
    /// of theirs).
    pub(super) fn language(
        &self,
        state: &mut WhisperState,
        speech: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<(String, f32)> {
        let threads = self.inner.threads;
        Ok(
            match (&opts.language, self.inner.model.info().multilingual) {
                (Some(l), _) => (l.clone(), 1.0),
                (None, false) => ("en".to_string(), 1.0),
                // One candidate is the answer: nothing to detect.
                (None, true) if opts.languages.len() == 1 => (opts.languages[0].clone(), 1.0),
                (None, true) => {
                    let head = &speech[..speech.len().min(vad::MAX_CHUNK)];
                    state
                        .pcm_to_mel(head, threads)
                        .and_then(|_| state.lang_detect(0, threads))
                        .map(|(id, probs)| detected(id, &probs, &opts.languages))
                        .map_err(|e| Error::Inference(format!("language detection failed: {e}")))?
                }
            },
        )
    }
}

/// The language whisper.cpp found most likely (`best`, with `probs` by language id), or the
/// most likely of `candidates` when there are any, with its share of their probability.
fn detected(best: i32, probs: &[f32], candidates: &[String]) -> (String, f32) {
    let prob = |id: i32| probs.get(id as usize).copied().unwrap_or(0.0);
    let ids: Vec<i32> = candidates
        .iter()
        .filter_map(|c| whisper_rs::get_lang_id(c))
        .collect();
    if ids.is_empty() {
        let code = whisper_rs::get_lang_str(best).unwrap_or("en").to_string();
        return (code, prob(best));
    }
    let total: f32 = ids.iter().map(|&id| prob(id)).sum();
    let pick = ids
        .iter()
        .copied()
        .max_by(|a, b| prob(*a).total_cmp(&prob(*b)))
        .expect("not empty");
    let code = whisper_rs::get_lang_str(pick).unwrap_or("en").to_string();
    let share = if total > 0.0 { prob(pick) / total } else { 0.0 };
    (code, share)
}
