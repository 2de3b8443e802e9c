//! `Stream`: a live transcription pushed from any thread, its events read by polling or by
//! iterating (`for ev in stream`, waiting for each event without the interpreter's lock).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};
use stenograph::transcribe::{LiveStream, StreamEvent};

use crate::errors::{invalid, to_py};
use crate::transcript::PySegment;

/// What a live stream reports: `type` is "speech_started", "partial", "speech_stopped" or
/// "final"; the other fields are set where that kind has them.
#[pyclass(module = "stenograph", name = "StreamEvent", frozen, get_all)]
#[derive(Clone)]
pub struct PyStreamEvent {
    /// The event's kind.
    #[pyo3(name = "type")]
    kind: &'static str,
    /// Seconds into the stream (speech_started, speech_stopped).
    at: Option<f64>,
    /// The turn's stable words so far (partial), or its final text (final).
    text: Option<String>,
    /// The stable words new in this partial (may be empty).
    delta: Option<String>,
    /// The words heard after the stable ones, not agreed on yet (partial; may change).
    unstable: Option<String>,
    /// Where the turn's audio starts, in seconds (partial, final).
    start: Option<f64>,
    /// Where the turn's audio ends, in seconds (final).
    end: Option<f64>,
    /// The final's segments, times in seconds of the stream.
    segments: Vec<PySegment>,
}

#[pymethods]
impl PyStreamEvent {
    fn __repr__(&self) -> String {
        match (self.at, &self.text) {
            (Some(at), _) => format!("StreamEvent({}, at={at:.2})", self.kind),
            (None, Some(text)) => format!("StreamEvent({}, {text:?})", self.kind),
            _ => format!("StreamEvent({})", self.kind),
        }
    }
}

impl From<StreamEvent> for PyStreamEvent {
    fn from(ev: StreamEvent) -> Self {
        let empty = Self {
            kind: "",
            at: None,
            text: None,
            delta: None,
            unstable: None,
            start: None,
            end: None,
            segments: Vec::new(),
        };
        match ev {
            StreamEvent::SpeechStarted { at } => Self {
                kind: "speech_started",
                at: Some(at),
                ..empty
            },
            StreamEvent::SpeechStopped { at } => Self {
                kind: "speech_stopped",
                at: Some(at),
                ..empty
            },
            StreamEvent::Partial {
                text,
                delta,
                unstable,
                start,
            } => Self {
                kind: "partial",
                text: Some(text),
                delta: Some(delta),
                unstable: Some(unstable),
                start: Some(start),
                ..empty
            },
            StreamEvent::Final(u) => Self {
                kind: "final",
                text: Some(u.text),
                start: Some(u.start),
                end: Some(u.end),
                segments: u.segments.iter().map(PySegment::from).collect(),
                ..empty
            },
        }
    }
}

/// The stream and whether `finish()` was called, behind one lock.
struct Shared {
    stream: LiveStream,
    finished: bool,
}

/// A live transcription from `Transcriber.stream(...)`: `push()` audio as it arrives (from
/// any thread), read events with `poll()` or by iterating, `finish()` at the end.
#[pyclass(module = "stenograph", name = "Stream", frozen)]
pub struct PyStream {
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl PyStream {
    pub fn new(stream: LiveStream) -> Self {
        Self {
            shared: Arc::new((
                Mutex::new(Shared {
                    stream,
                    finished: false,
                }),
                Condvar::new(),
            )),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Samples from what Python passes: 16-bit little-endian PCM as `bytes`, `bytearray` or
/// `memoryview`; a NumPy float32 or int16 array (one dimension); or a list of floats.
enum Samples {
    I16(Vec<i16>),
    F32(Vec<f32>),
}

fn samples(obj: &Bound<'_, PyAny>) -> PyResult<Samples> {
    let pcm16 = |bytes: &[u8]| -> PyResult<Samples> {
        if !bytes.len().is_multiple_of(2) {
            return Err(invalid(format!(
                "{} bytes of 16-bit PCM: an odd count",
                bytes.len()
            )));
        }
        Ok(Samples::I16(
            bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ))
    };
    if let Ok(b) = obj.cast::<PyBytes>() {
        return pcm16(b.as_bytes());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return pcm16(&b.to_vec());
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let bytes = obj.call_method0("tobytes")?;
        return pcm16(bytes.cast::<PyBytes>()?.as_bytes());
    }
    if obj.hasattr("dtype")? && obj.hasattr("shape")? {
        let dtype: String = obj.getattr("dtype")?.str()?.extract()?;
        let ndim: usize = obj.getattr("ndim")?.extract()?;
        if ndim != 1 {
            return Err(invalid(format!(
                "a live stream takes mono samples: a 1-D array, not {ndim}-D"
            )));
        }
        return match dtype.as_str() {
            "float32" => Ok(Samples::F32(obj.call_method0("tolist")?.extract()?)),
            "int16" => Ok(Samples::I16(obj.call_method0("tolist")?.extract()?)),
            other => Err(invalid(format!(
                "samples of dtype {other}: float32 or int16 are taken"
            ))),
        };
    }
    obj.extract::<Vec<f32>>().map(Samples::F32).map_err(|_| {
        invalid("audio must be 16-bit PCM bytes, a float32/int16 array or a list of floats")
    })
}

#[pymethods]
impl PyStream {
    /// Adds mono audio at `sample_rate` Hz (16-bit PCM bytes, a NumPy float32/int16 array,
    /// or a list of floats): scores it, and decodes the turns it ends (without the
    /// interpreter's lock). Raises `InvalidArgument` once finished, at a changed rate, or
    /// while too many events are unread (nothing is taken then: read, then push again).
    #[pyo3(signature = (audio, sample_rate = 16_000))]
    fn push(&self, py: Python<'_>, audio: &Bound<'_, PyAny>, sample_rate: u32) -> PyResult<()> {
        let samples = samples(audio)?;
        let out = py.detach(|| {
            let mut s = self.lock();
            let out = match &samples {
                Samples::I16(v) => s.stream.push_pcm_i16(v, sample_rate),
                Samples::F32(v) => s.stream.push_pcm_f32(v, sample_rate),
            };
            self.shared.1.notify_all();
            out
        });
        out.map_err(to_py)
    }

    /// Ends the stream: a turn still open is decoded and its words become final. Iteration
    /// stops once its events are read.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let out = py.detach(|| {
            let mut s = self.lock();
            let out = s.stream.finish();
            s.finished = true;
            self.shared.1.notify_all();
            out
        });
        out.map_err(to_py)
    }

    /// Ends the turn in progress now (its `speech_stopped` and final text follow); returns
    /// whether a turn was open. For streams made with `end_on_silence=False`, this is how
    /// turns end.
    fn commit(&self, py: Python<'_>) -> PyResult<bool> {
        let out = py.detach(|| {
            let mut s = self.lock();
            let out = s.stream.commit();
            self.shared.1.notify_all();
            out
        });
        out.map_err(to_py)
    }

    /// Drops the turn in progress without decoding it; returns whether one was open.
    fn clear(&self) -> bool {
        self.lock().stream.clear()
    }

    /// The next event if one is waiting, else `None`.
    fn poll(&self) -> Option<PyStreamEvent> {
        self.lock().stream.poll_event().map(PyStreamEvent::from)
    }

    /// Whether `finish()` was called.
    #[getter]
    fn finished(&self) -> bool {
        self.lock().finished
    }

    /// Seconds of audio pushed so far.
    #[getter]
    fn duration(&self) -> f64 {
        self.lock().stream.duration()
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Waits (without the interpreter's lock) for the next event; stops after `finish()`
    /// once every event is read. Ctrl-C raises `KeyboardInterrupt`.
    fn __next__(&self, py: Python<'_>) -> PyResult<PyStreamEvent> {
        loop {
            let next = py.detach(|| {
                let (lock, ready) = &*self.shared;
                let mut s = lock.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(ev) = s.stream.poll_event() {
                    return Some(Some(ev));
                }
                if s.finished {
                    return Some(None);
                }
                let (mut s, _) = ready
                    .wait_timeout(s, Duration::from_millis(20))
                    .unwrap_or_else(|p| p.into_inner());
                match s.stream.poll_event() {
                    Some(ev) => Some(Some(ev)),
                    None if s.finished => Some(None),
                    None => None,
                }
            });
            match next {
                Some(Some(ev)) => return Ok(ev.into()),
                Some(None) => return Err(PyStopIteration::new_err(())),
                None => py.check_signals()?,
            }
        }
    }

    fn __repr__(&self) -> String {
        let s = self.lock();
        format!(
            "Stream(duration={:.2}, finished={})",
            s.stream.duration(),
            s.finished
        )
    }
}
