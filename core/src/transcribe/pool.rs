//! A pool of whisper states over one shared model: each transcription borrows one state, so
//! concurrent calls never share mutable decoder memory and the weights exist once.

use std::sync::{Arc, Condvar, Mutex};

use whisper_rs::{WhisperContext, WhisperState};

use crate::error::{Error, Result};

struct Slots {
    idle: Vec<WhisperState>,
    created: usize,
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
            }),
            returned: Condvar::new(),
            max: max.max(1),
        }
    }

    /// Most states this pool holds.
    pub(crate) fn capacity(&self) -> usize {
        self.max
    }

    /// Borrows an idle state or creates one if under the limit; `None` when all are busy.
    pub(crate) fn try_acquire(&self) -> Result<Option<PooledState<'_>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = slots.idle.pop() {
            return Ok(Some(PooledState {
                pool: self,
                state: Some(state),
            }));
        }
        if slots.created >= self.max {
            return Ok(None);
        }
        slots.created += 1;
        drop(slots);
        self.create().map(Some)
    }

    fn create(&self) -> Result<PooledState<'_>> {
        match self.context.create_state() {
            Ok(state) => Ok(PooledState {
                pool: self,
                state: Some(state),
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
                });
            }
            if slots.created < self.max {
                slots.created += 1;
                drop(slots);
                return self.create();
            }
            slots = self.returned.wait(slots).unwrap_or_else(|e| e.into_inner());
        }
    }
}
