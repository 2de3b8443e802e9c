//! Partial decodes of a turn in progress, each on a thread of its own: a push never waits for
//! one, and a turn's final decode never waits behind one (dropping the run cancels it).

use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::transcribe::transcript::Segment;
use crate::transcribe::{CancelToken, TranscribeOptions, Transcriber};

/// What a partial decode gives back: its segments (`None`: no decoder state was free, or a
/// final decode took it), and the language it settled on.
type Answer = Result<(Option<Vec<Segment>>, Option<String>)>;

/// A partial decode in flight.
pub(super) struct PartialRun {
    /// The turn it decodes (the stream's count of turns when it started).
    pub turn: u64,
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
    /// Starts decoding `audio` (stream samples from `from` on) with `opts` (one pass, no
    /// temperature fallback), cancelled with the stream's own cancellation too.
    pub fn start(
        transcriber: &Transcriber,
        audio: Vec<f32>,
        from: usize,
        opts: &TranscribeOptions,
        mut language: Option<String>,
        turn: u64,
        received: usize,
    ) -> Result<Self> {
        let cancel = CancelToken::child_of(opts.cancel.as_ref());
        let opts = TranscribeOptions {
            cancel: Some(cancel.clone()),
            temperature_fallback: false,
            ..opts.clone()
        };
        let (tx, done) = sync_channel(1);
        let t = transcriber.clone();
        std::thread::Builder::new()
            .name("stenograph-partial".into())
            .spawn(move || {
                let answer = t
                    .decode_turn(&audio, from, 0, &opts, &mut language, false)
                    .map(|segments| (segments, language));
                let _ = tx.send(answer);
            })
            .map_err(|e| Error::Inference(format!("cannot start a partial decode: {e}")))?;
        Ok(Self {
            turn,
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
