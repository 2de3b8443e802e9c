//! A pool of whisper states over one shared model: each transcription borrows one state, so
//! concurrent calls never share mutable decoder memory and the weights exist once.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use whisper_rs::{WhisperContext, WhisperState};

use super::options::CancelToken;
use crate::error::{Error, Result};

struct Slots {
    idle: Vec<WhisperState>,
    created: usize,
    /// Callers blocked in [`StatePool::acquire`]; [`StatePool::try_acquire`] leaves states
    /// to them.
    waiting: usize,
    /// Work that gives its state up when someone has to wait for one, by borrow number.
    preemptible: Vec<(u64, CancelToken)>,
    /// Borrows handed out (numbers them).
    borrows: u64,
    /// Callers of [`StatePool::acquire_preemptible_within`] in line, by ticket, first come
    /// first served.
    line: VecDeque<u64>,
    /// Tickets handed out.
    tickets: u64,
}

/// How often a caller waiting in line checks whether its work is still wanted.
const LINE_CHECK: Duration = Duration::from_millis(20);

/// At most `max` states, created on first need and reused afterwards; callers beyond `max`
/// wait for a state to come back.
pub(crate) struct StatePool {
    context: Arc<WhisperContext>,
    slots: Mutex<Slots>,
    returned: Condvar,
    max: usize,
}

/// A borrowed state; goes back to the pool when dropped.
pub(crate) struct PooledState<'a> {
    pool: &'a StatePool,
    state: Option<WhisperState>,
    /// Its number among the preemptible borrows, if it is one.
    preemptible: Option<u64>,
}

impl std::ops::Deref for PooledState<'_> {
    type Target = WhisperState;

    fn deref(&self) -> &WhisperState {
        self.state.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for PooledState<'_> {
    fn deref_mut(&mut self) -> &mut WhisperState {
        self.state.as_mut().expect("present until drop")
    }
}

impl Drop for PooledState<'_> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            let mut slots = self.pool.slots.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = self.preemptible {
                slots.preemptible.retain(|(k, _)| *k != n);
            }
            slots.idle.push(state);
            // Callers of `acquire` and the caller first in line may both be waiting.
            self.pool.returned.notify_all();
        }
    }
}

impl StatePool {
    pub(crate) fn new(context: Arc<WhisperContext>, max: usize) -> Self {
        Self {
            context,
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                created: 0,
                waiting: 0,
                preemptible: Vec::new(),
                borrows: 0,
                line: VecDeque::new(),
                tickets: 0,
            }),
            returned: Condvar::new(),
            max: max.max(1),
        }
    }

    /// Most states this pool holds.
    pub(crate) fn capacity(&self) -> usize {
        self.max
    }

    /// Borrows an idle state or creates one if under the limit; `None` when all are busy or
    /// another caller is waiting for one.
    pub(crate) fn try_acquire(&self) -> Result<Option<PooledState<'_>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.waiting > 0 {
            return Ok(None);
        }
        if let Some(state) = slots.idle.pop() {
            return Ok(Some(PooledState {
                pool: self,
                state: Some(state),
                preemptible: None,
            }));
        }
        if slots.created >= self.max {
            return Ok(None);
        }
        slots.created += 1;
        drop(slots);
        self.create().map(Some)
    }

    /// Borrows a state for work that gives it up when a caller of [`Self::acquire`] has to
    /// wait for one (`token` is cancelled then, and the work stops at whisper.cpp's next
    /// check). Waits up to `patience`, in line with the other callers of this method (first
    /// come, first served; callers of [`Self::acquire`] go before the line); `None` when no
    /// state came in time or `token` was cancelled meanwhile.
    pub(crate) fn acquire_preemptible_within(
        &self,
        token: &CancelToken,
        patience: Duration,
    ) -> Result<Option<PooledState<'_>>> {
        let deadline = Instant::now() + patience;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.tickets += 1;
        let ticket = slots.tickets;
        slots.line.push_back(ticket);
        let mut create = false;
        let state = loop {
            let now = Instant::now();
            if token.is_cancelled() || now >= deadline {
                break None;
            }
            if slots.line.front() == Some(&ticket) && slots.waiting == 0 {
                if let Some(state) = slots.idle.pop() {
                    break Some(state);
                }
                if slots.created < self.max {
                    slots.created += 1;
                    create = true;
                    break None;
                }
            }
            let wait = (deadline - now).min(LINE_CHECK);
            slots = self
                .returned
                .wait_timeout(slots, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        slots.line.retain(|&t| t != ticket);
        // The next in line may take a state now.
        self.returned.notify_all();
        let mut borrowed = match (state, create) {
            (Some(state), _) => PooledState {
                pool: self,
                state: Some(state),
                preemptible: None,
            },
            (None, true) => {
                drop(slots);
                let state = self.create()?;
                slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
                state
            }
            (None, false) => return Ok(None),
        };
        slots.borrows += 1;
        let n = slots.borrows;
        slots.preemptible.push((n, token.clone()));
        borrowed.preemptible = Some(n);
        Ok(Some(borrowed))
    }

    fn create(&self) -> Result<PooledState<'_>> {
        match self.context.create_state() {
            Ok(state) => Ok(PooledState {
                pool: self,
                state: Some(state),
                preemptible: None,
            }),
            Err(e) => {
                let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
                slots.created -= 1;
                self.returned.notify_all();
                Err(Error::Inference(format!(
                    "cannot create a decoder state (out of memory?): {e}"
                )))
            }
        }
    }

    /// Borrows an idle state, creates one if under the limit, else waits for one.
    pub(crate) fn acquire(&self) -> Result<PooledState<'_>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(state) = slots.idle.pop() {
                return Ok(PooledState {
                    pool: self,
                    state: Some(state),
                    preemptible: None,
                });
            }
            if slots.created < self.max {
                slots.created += 1;
                drop(slots);
                return self.create();
            }
            // Preemptible work (partial decodes) stops and hands its state over.
            for (_, token) in &slots.preemptible {
                token.cancel();
            }
            slots.waiting += 1;
            slots = self.returned.wait(slots).unwrap_or_else(|e| e.into_inner());
            slots.waiting -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use super::*;
    use crate::model::{FetchOptions, Model};

    /// A pool of one tiny.en state.
    fn pool() -> StatePool {
        let path = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
        let model = Model::load(&path).unwrap();
        StatePool::new(model.context().clone(), 1)
    }

    #[test]
    fn preemptible_work_waits_in_line_behind_work_that_must_run() {
        let pool = pool();
        let held = pool.acquire().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::scope(|s| {
            for i in 0..3 {
                let (pool, tx) = (&pool, tx.clone());
                s.spawn(move || {
                    let token = CancelToken::new();
                    let state = pool
                        .acquire_preemptible_within(&token, Duration::from_secs(20))
                        .unwrap();
                    assert!(state.is_some(), "waiter {i} got no state");
                    tx.send(format!("preemptible {i}")).unwrap();
                    thread::sleep(Duration::from_millis(20));
                });
                thread::sleep(Duration::from_millis(50));
            }
            // Work that must run comes last and goes first.
            let (pool, tx) = (&pool, tx.clone());
            s.spawn(move || {
                let _state = pool.acquire().unwrap();
                tx.send("must run".to_string()).unwrap();
                thread::sleep(Duration::from_millis(20));
            });
            thread::sleep(Duration::from_millis(50));
            drop(held);
        });
        let order: Vec<String> = rx.try_iter().collect();
        assert_eq!(
            order,
            [
                "must run",
                "preemptible 0",
                "preemptible 1",
                "preemptible 2"
            ]
        );
    }

    #[test]
    fn preemptible_work_gives_up_when_cancelled_out_of_patience_or_needed() {
        let pool = pool();
        let held = pool.acquire().unwrap();
        let token = CancelToken::new();
        let start = Instant::now();
        let none = pool.acquire_preemptible_within(&token, Duration::from_millis(100));
        assert!(none.unwrap().is_none());
        assert!(start.elapsed() >= Duration::from_millis(100));
        thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(Duration::from_millis(50));
                token.cancel();
            });
            let none = pool.acquire_preemptible_within(&token, Duration::from_secs(60));
            assert!(none.unwrap().is_none(), "a cancelled waiter got a state");
        });
        drop(held);

        // A state lent to preemptible work is asked back when other work waits for it.
        let token = CancelToken::new();
        let lent = pool
            .acquire_preemptible_within(&token, Duration::from_secs(1))
            .unwrap()
            .expect("an idle state");
        thread::scope(|s| {
            let waiter = s.spawn(|| pool.acquire().map(|_| ()));
            while !token.is_cancelled() {
                thread::sleep(Duration::from_millis(5));
            }
            drop(lent);
            waiter.join().unwrap().unwrap();
        });
    }
}
