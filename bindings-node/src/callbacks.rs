//! A call's JavaScript callbacks: queued for the JavaScript thread from a worker thread, the
//! first exception one throws cancels the call, and the call settles only after the callbacks
//! it queued have run (so what the last one threw still rejects the call).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use stenograph::transcribe::CancelToken;

/// How long a finished call waits for its queued callbacks to run; only a JavaScript thread
/// blocked for longer (or shutting down) makes it settle without them.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// What a call's callbacks did so far.
#[derive(Default)]
struct State {
    /// The first exception a callback threw.
    thrown: Option<Error>,
    /// Callbacks queued that have not run yet.
    queued: usize,
}

/// The callbacks of one call; shared by the worker thread and the JavaScript thread.
#[derive(Default)]
pub struct Callbacks {
    state: Mutex<State>,
    ran: Condvar,
}

impl Callbacks {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `cb(value)` on the JavaScript thread; an exception it throws is kept and cancels
    /// `token`.
    pub fn call<T: 'static + JsValuesTupleIntoVec>(
        self: &Arc<Self>,
        cb: &ThreadsafeFunction<T, UnknownReturnValue, T, Status, false>,
        value: T,
        token: &CancelToken,
    ) {
        self.state().queued += 1;
        let (me, token) = (self.clone(), token.clone());
        let status = cb.call_with_return_value(
            value,
            ThreadsafeFunctionCallMode::NonBlocking,
            move |ret: Result<UnknownReturnValue>, _: Env| {
                let mut state = me.state();
                if let Err(e) = ret {
                    state.thrown.get_or_insert(e);
                    token.cancel();
                }
                state.queued -= 1;
                me.ran.notify_all();
                Ok(())
            },
        );
        if status != Status::Ok {
            self.state().queued -= 1;
            self.ran.notify_all();
        }
    }

    /// Waits (on a worker thread) until every queued callback has run, up to `SETTLE_LIMIT`.
    pub fn settle(&self) {
        let _ = self
            .ran
            .wait_timeout_while(self.state(), SETTLE_LIMIT, |state| state.queued > 0);
    }

    /// Whether a callback threw.
    pub fn threw(&self) -> bool {
        self.state().thrown.is_some()
    }

    /// The first exception a callback threw, taken out.
    pub fn take_thrown(&self) -> Option<Error> {
        self.state().thrown.take()
    }
}
