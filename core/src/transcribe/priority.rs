//! Live streams before batch work: a live decode takes a state from its own pool (never
//! waiting behind a long batch call), and batch passes hold back their next window while
//! live decodes run, for a bounded time so batch work is slowed, never stopped.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Longest a batch pass waits for live decodes before it starts its window anyway.
pub(super) const MAX_BATCH_WAIT: Duration = Duration::from_secs(2);

/// Counts live decodes in progress.
#[derive(Default)]
pub(super) struct LiveFirst {
    active: Mutex<usize>,
    idle: Condvar,
}

/// A live decode in progress; ends when dropped.
pub(super) struct LiveDecode<'a>(&'a LiveFirst);

impl Drop for LiveDecode<'_> {
    fn drop(&mut self) {
        let mut active = self.0.active.lock().unwrap_or_else(|e| e.into_inner());
        *active -= 1;
        if *active == 0 {
            self.0.idle.notify_all();
        }
    }
}

impl LiveFirst {
    /// Marks a live decode as running until the guard is dropped.
    pub(super) fn enter(&self) -> LiveDecode<'_> {
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        LiveDecode(self)
    }

    /// Waits until no live decode runs, or `most` has passed; returns how long it waited.
    pub(super) fn yield_to_live(&self, most: Duration) -> Duration {
        let started = Instant::now();
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        while *active > 0 {
            let left = most.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            active = self
                .idle
                .wait_timeout(active, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn batch_waits_for_live_decodes_and_no_longer_than_its_bound() {
        let gate = Arc::new(LiveFirst::default());
        assert!(gate.yield_to_live(Duration::from_secs(5)) < Duration::from_millis(50));

        let live = gate.clone();
        let running = std::thread::spawn(move || {
            let _decode = live.enter();
            std::thread::sleep(Duration::from_millis(300));
        });
        std::thread::sleep(Duration::from_millis(50));
        let waited = gate.yield_to_live(Duration::from_secs(5));
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
        assert!(waited < Duration::from_secs(4), "{waited:?}");
        running.join().unwrap();

        let _stuck = gate.enter();
        let waited = gate.yield_to_live(Duration::from_millis(200));
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2));
    }
}
