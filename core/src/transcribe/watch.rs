//! Cancellation: a call's work runs on a thread of its own while the caller's thread watches
//! a token (and, for the bindings, an interrupt such as Ctrl-C or a C abort callback).

use std::cell::Cell;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use super::options::{CancelToken, TranscribeOptions};
use super::Transcriber;
use crate::error::{Error, Result};

/// After a watched call is cancelled: return at once, or once its work has stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCancel {
    /// Return `Error::Cancelled` at once; the work stops in the background.
    Return,
    /// Return `Error::Cancelled` once the work has stopped (nothing of the call runs after it
    /// returns: no callback, no use of the caller's data).
    WaitForWork,
}

thread_local! {
    /// Set on a watched call's own thread, where calls need no thread of their own.
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

/// How often a cancellable call checks its token while its work runs on another thread.
const CANCEL_POLL: Duration = Duration::from_millis(10);

impl Transcriber {
    /// Waits until no call of this transcriber runs in the background. A call with a cancel
    /// token returns `Cancelled` at once while whisper.cpp finishes its current encoder pass
    /// on the call's own thread; wait here before a process exits or unloads the library.
    pub fn wait_background(&self) {
        let threads = std::mem::take(
            &mut *self
                .inner
                .background
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for t in threads {
            let _ = t.join();
        }
    }

    /// Runs `work` on its own thread while this one watches `opts.cancel` (which must be set):
    /// a cancelled call returns `Error::Cancelled` within milliseconds, while whisper.cpp
    /// finishes its current pass in the background and gives its state back to the pool.
    pub(crate) fn detached<T: Send + 'static>(
        &self,
        opts: &TranscribeOptions,
        work: impl FnOnce(&Transcriber, &TranscribeOptions) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if WATCHED.with(Cell::get) {
            // Already on a watched call's own thread: its caller watches the token.
            return work(self, opts);
        }
        let token = opts.cancel.clone().unwrap_or_default();
        let opts = opts.clone();
        self.run_watched(&token, OnCancel::Return, || false, move |t| work(t, &opts))
    }

    /// Runs `work` with this transcriber on a thread of its own while the calling thread
    /// waits, asking `interrupt` about every 10 ms (on the calling thread) whether to stop:
    /// when it says so, or when `token` is cancelled from anywhere, `token` is cancelled and
    /// the call returns `Error::Cancelled` — at once with [`OnCancel::Return`] (whisper.cpp
    /// finishes its current pass in the background, see
    /// [`wait_background`](Self::wait_background)), or once `work` has stopped with
    /// [`OnCancel::WaitForWork`]. This is how every binding cancels: Python's Ctrl-C, a C abort
    /// callback, a token. Give `work` the same token in its options, so that it stops early.
    pub fn run_watched<T: Send + 'static>(
        &self,
        token: &CancelToken,
        on_cancel: OnCancel,
        mut interrupt: impl FnMut() -> bool,
        work: impl FnOnce(&Transcriber) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = self.clone();
        let handle = std::thread::Builder::new()
            .name("stenograph-call".into())
            .spawn(move || {
                WATCHED.with(|w| w.set(true));
                let _ = tx.send(work(&t));
            })
            .map_err(|e| Error::Inference(format!("cannot start a transcription thread: {e}")))?;
        {
            let mut threads = self
                .inner
                .background
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            threads.retain(|h| !h.is_finished());
            threads.push(handle);
        }
        let failed = || Error::Inference("the transcription thread failed".into());
        loop {
            match rx.recv_timeout(CANCEL_POLL) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Disconnected) => return Err(failed()),
                Err(RecvTimeoutError::Timeout) => {
                    if !token.is_cancelled() && !interrupt() {
                        continue;
                    }
                    token.cancel();
                    if on_cancel == OnCancel::WaitForWork {
                        // The work stops at its next check (at most one encoder pass).
                        let _ = rx.recv();
                    }
                    return Err(Error::Cancelled);
                }
            }
        }
    }
}
