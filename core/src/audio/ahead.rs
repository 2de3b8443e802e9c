//! Decoding on a helper thread, a few packets ahead of mixing and resampling.
//!
//! Decoding a compressed stream and resampling it cost about the same, so overlapping them on
//! two cores nearly halves the wall time of a conversion. The queue between them holds at most
//! [`DEPTH`] packets, so memory stays bounded. A panic inside a codec is confined to the helper
//! thread and reported as a broken stream.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};

use super::decode::{ContainerDecoder, Step};
use crate::error::Result;

/// Packets decoded ahead of the consumer.
const DEPTH: usize = 8;

/// One message from the decoding thread.
pub(crate) enum Event {
    /// Planar audio at `rate` Hz.
    Audio { rate: u32, planes: Vec<Vec<f32>> },
    /// The stream is over: cleanly (`broken: None`) or not.
    End {
        broken: Option<String>,
        skipped: usize,
    },
}

/// The consumer's end of a decode-ahead thread. Dropping it stops the thread at its next packet.
pub(crate) struct DecodeAhead {
    /// `None` only while dropping: closing it stops the thread at its next send.
    events: Option<Receiver<Result<Event>>>,
    recycle: Sender<Vec<Vec<f32>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for DecodeAhead {
    /// Stops the decoding thread and waits for it (at most one packet), so nothing of a
    /// decode outlives it.
    fn drop(&mut self) {
        self.events.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl DecodeAhead {
    /// Moves `decoder` to a new thread; gives it back if no thread can be started.
    pub(crate) fn spawn(
        decoder: Box<ContainerDecoder>,
    ) -> std::result::Result<Self, Box<ContainerDecoder>> {
        let (tx, events) = sync_channel(DEPTH);
        let (recycle, recycled) = channel::<Vec<Vec<f32>>>();
        // The decoder is handed over through a slot, so it can be recovered if spawning fails.
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(decoder)));
        let thread_slot = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("stenograph-decode".into())
            .spawn(move || {
                let taken = thread_slot.lock().map(|mut s| s.take()).ok().flatten();
                let Some(mut decoder) = taken else { return };
                loop {
                    let spare = recycled.try_recv().unwrap_or_default();
                    let event = next_event(&mut decoder, spare);
                    let last = !matches!(event, Ok(Event::Audio { .. }));
                    if tx.send(event).is_err() || last {
                        break;
                    }
                }
            });
        match spawned {
            Ok(thread) => Ok(Self {
                events: Some(events),
                recycle,
                thread: Some(thread),
            }),
            Err(_) => {
                let decoder = slot.lock().ok().and_then(|mut s| s.take());
                Err(decoder.expect("the thread never started, so the decoder is still here"))
            }
        }
    }

    /// The next event; a vanished thread counts as a broken stream.
    pub(crate) fn next(&self) -> Result<Event> {
        let received = self.events.as_ref().map(Receiver::recv);
        received.and_then(|r| r.ok()).unwrap_or_else(|| {
            Ok(Event::End {
                broken: Some("the decoder stopped unexpectedly".into()),
                skipped: 0,
            })
        })
    }

    /// Hands planes back for reuse.
    pub(crate) fn recycle(&self, planes: Vec<Vec<f32>>) {
        let _ = self.recycle.send(planes);
    }
}

/// Decodes the next packet on the calling thread, turning a codec panic into a broken stream.
/// `spare` is an emptied set of planes to decode into, saving an allocation.
pub(crate) fn next_event(decoder: &mut ContainerDecoder, spare: Vec<Vec<f32>>) -> Result<Event> {
    let step = catch_unwind(AssertUnwindSafe(|| decoder.next_step()))
        .unwrap_or_else(|_| Ok(Step::Broken("the codec failed on malformed data".into())))?;
    Ok(match step {
        Step::Audio { rate } => Event::Audio {
            rate,
            planes: decoder.take_planes(spare),
        },
        Step::End => Event::End {
            broken: None,
            skipped: decoder.skipped_packets(),
        },
        Step::Broken(reason) => Event::End {
            broken: Some(reason),
            skipped: decoder.skipped_packets(),
        },
    })
}
