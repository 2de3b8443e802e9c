//! Partial decodes of a turn in progress, each on a thread of its own: a push never waits for
//! one, and a turn's final decode never waits behind one (dropping the run cancels it). The
//! same thread runs a turn's final decode early, while the silence that may end it goes on.

use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::transcribe::transcript::Segment;
use crate::transcribe::{CancelToken, TranscribeOptions, Transcriber};

/// What a partial decode gives back: its segments (`None`: no decoder state was free, or a
/// final decode took it), and the language it settled on.
type Answer = Result<(Option<Vec<Segment>>, Option<String>)>;

/// A final decode of a turn's audio started before the turn ended: stream samples
/// `from..until`, segment ids from `first_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Settles {
    pub from: usize,
    pub until: usize,
    pub first_id: usize,
}

/// A partial decode in flight (or an early final one).
pub(super) struct PartialRun {
    /// The turn it decodes (the stream's count of turns when it started).
    pub turn: u64,
    /// Set for a final decode started early: what it decodes.
    pub settles: Option<Settles>,
    /// Stream samples received when it started, and when that was.
    pub received: usize,
    pub started: Instant,
    cancel: CancelToken,
    done: Receiver<Answer>,
}

/// How a partial decode ended, seen from the stream.
pub(super) enum Outcome {
    /// Still decoding.
    Running,
    /// Text of the turn it started on, and the language it used.
    Text(Vec<Segment>, Option<String>),
    /// No text: no state was free, it yielded to a final decode, or it failed (partial text
    /// is a preview: the turn's final decode reports a real failure).
    Nothing,
}

impl PartialRun {
    /// Starts decoding `audio` (stream samples from `from` on) with `opts`, cancelled with
    /// the stream's own cancellation too: as partial text (one pass, no temperature
    /// fallback), or as the final text `settles` describes.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        transcriber: &Transcriber,
        audio: Vec<f32>,
        from: usize,
        opts: &TranscribeOptions,
        mut language: Option<String>,
        turn: u64,
        received: usize,
        settles: Option<Settles>,
    ) -> Result<Self> {
        let cancel = CancelToken::child_of(opts.cancel.as_ref());
        let opts = TranscribeOptions {
            cancel: Some(cancel.clone()),
            temperature_fallback: opts.temperature_fallback && settles.is_some(),
            ..opts.clone()
        };
        let first_id = settles.map_or(0, |s| s.first_id);
        let (tx, done) = sync_channel(1);
        let t = transcriber.clone();
        std::thread::Builder::new()
            .name("stenograph-partial".into())
            .spawn(move || {
                let answer = t
                    .decode_turn(
                        &audio,
                        from,
                        first_id,
                        &opts,
                        &mut language,
                        settles.is_some(),
                    )
                    .map(|segments| (segments, language));
                let _ = tx.send(answer);
            })
            .map_err(|e| Error::Inference(format!("cannot start a partial decode: {e}")))?;
        Ok(Self {
            turn,
            settles,
            received,
            started: Instant::now(),
            cancel,
            done,
        })
    }

    /// Whether it has ended, and with what; `wait` waits for it to end.
    pub fn outcome(&self, wait: bool) -> Outcome {
        let answer = if wait {
            self.done.recv().map_err(|_| TryRecvError::Disconnected)
        } else {
            self.done.try_recv()
        };
        match answer {
            Err(TryRecvError::Empty) => Outcome::Running,
            Ok(Ok((Some(segments), language))) => Outcome::Text(segments, language),
            Ok(_) | Err(TryRecvError::Disconnected) => Outcome::Nothing,
        }
    }
}

impl Drop for PartialRun {
    /// A run no longer wanted stops at its next check and gives its state back.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
