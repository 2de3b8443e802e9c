//! A pool of whisper states over one shared model: each transcription borrows one state, so
//! concurrent calls never share mutable decoder memory and the weights exist once.

use std::sync::{Arc, Condvar, Mutex};

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
}

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
            self.pool.returned.notify_one();
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

    /// [`Self::try_acquire`] for work that gives the state up when another caller has to wait
    /// for one: `token` is cancelled then (the work stops at whisper.cpp's next check).
    pub(crate) fn try_acquire_preemptible(
        &self,
        token: &CancelToken,
    ) -> Result<Option<PooledState<'_>>> {
        let Some(mut state) = self.try_acquire()? else {
            return Ok(None);
        };
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.borrows += 1;
        let n = slots.borrows;
        slots.preemptible.push((n, token.clone()));
        state.preemptible = Some(n);
        Ok(Some(state))
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
                self.returned.notify_one();
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
