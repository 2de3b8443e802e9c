//! One realtime session's work, on its own thread: client events in, server events out. The
//! audio goes to a [`LiveStream`]; its turns become conversation items (`speech_started`,
//! transcription deltas while the person speaks, `speech_stopped`, `committed`, `completed`).

use std::collections::VecDeque;
use std::time::Instant;

use serde_json::{json, Value};
use stenograph::transcribe::{CancelToken, LiveStream, StreamEvent, StreamOptions, Transcriber};

use super::audio;
use super::protocol::{Events, Settings, Shape, INTERIM};
use crate::metrics::Metrics;

/// The open turn: a conversation item being spoken.
#[derive(Debug)]
struct Item {
    id: String,
    /// The deltas sent for it so far, joined.
    text: String,
}

/// A turn that ended and whose final text may follow.
#[derive(Debug)]
struct Ended {
    id: String,
    /// Where its speech ended, in seconds of the session, when silence ended it.
    speech_end: Option<f64>,
}

/// A session's protocol state and live stream.
pub struct Engine {
    transcriber: Transcriber,
    metrics: Metrics,
    events: Events,
    session_id: String,
    settings: Settings,
    stream: Option<LiveStream>,
    /// Seconds of audio taken by the streams before the current one (a settings change
    /// starts a new stream; times go on).
    offset: f64,
    item: Option<Item>,
    ended: Option<Ended>,
    previous_item: Option<String>,
    /// (seconds of session audio received, when the message carrying them arrived).
    arrivals: VecDeque<(f64, Instant)>,
    /// Events to send.
    out: Vec<Value>,
    /// Stops the session's decodes (the client is gone).
    cancel: CancelToken,
    /// The tenant's default hotwords, in every turn.
    hotwords: Vec<String>,
}

/// Most arrival times kept (older ones are dropped; a turn is at most ~30 s of messages).
const MAX_ARRIVALS: usize = 4_096;

impl Engine {
    /// A session on `transcriber` with default settings; `cancel` stops its decodes.
    pub fn new(
        transcriber: Transcriber,
        metrics: Metrics,
        session_id: String,
        cancel: CancelToken,
    ) -> Self {
        Engine {
            transcriber,
            metrics,
            events: Events::new(&session_id),
            session_id,
            settings: Settings::default(),
            stream: None,
            offset: 0.0,
            item: None,
            ended: None,
            previous_item: None,
            arrivals: VecDeque::new(),
            out: Vec::new(),
            cancel,
            hotwords: Vec::new(),
        }
    }

    /// The same session with `hotwords` (the tenant's defaults) in every turn.
    pub fn with_hotwords(mut self, hotwords: Vec<String>) -> Self {
        self.hotwords = hotwords;
        self
    }

    /// `session.created`, the first event of a session.
    pub fn created(&mut self) -> Vec<Value> {
        let session = self.settings.to_json(&self.session_id, Shape::Current);
        vec![self
            .events
            .make("session.created", json!({ "session": session }))]
    }

    /// Handles one client message that arrived at `at`; returns the events to send.
    pub fn handle(&mut self, text: &str, at: Instant) -> Vec<Value> {
        let event: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                self.error(
                    "invalid_json",
                    "a client event must be a JSON object",
                    None,
                    None,
                );
                return self.take();
            }
            Err(e) => {
                self.error(
                    "invalid_json",
                    &format!("the message is not JSON: {e}"),
                    None,
                    None,
                );
                return self.take();
            }
        };
        let id = event.get("event_id").and_then(Value::as_str);
        match event.get("type").and_then(Value::as_str) {
            Some("session.update") => self.update(&event, Shape::Current, id),
            Some("transcription_session.update") => self.update(&event, Shape::Earlier, id),
            Some("input_audio_buffer.append") => self.append(&event, at, id),
            Some("input_audio_buffer.commit") => self.commit(id),
            Some("input_audio_buffer.clear") => {
                if let Some(s) = self.stream.as_mut() {
                    s.clear();
                }
                self.item = None;
                let cleared = self.events.make("input_audio_buffer.cleared", json!({}));
                self.out.push(cleared);
            }
            Some(other) => self.error(
                "unknown_event",
                &format!(
                    "unknown or unsupported event type '{other}': a transcription session takes \
                     session.update, transcription_session.update and \
                     input_audio_buffer.append / commit / clear"
                ),
                Some("type"),
                id,
            ),
            None => self.error(
                "missing_type",
                "a client event needs a string 'type'",
                Some("type"),
                id,
            ),
        }
        self.take()
    }

    /// Whether a live stream is open (its partial text can be ready between messages).
    pub fn live(&self) -> bool {
        self.stream.is_some()
    }

    /// Events ready without a new client message: partial text decoded meanwhile.
    pub fn tick(&mut self) -> Vec<Value> {
        self.drain(false);
        self.take()
    }

    /// An error event for a message the session could not take (too large, binary).
    pub fn refuse(&mut self, code: &str, message: &str) -> Vec<Value> {
        self.error(code, message, None, None);
        self.take()
    }

    /// Ends the session: the turn in progress is finished and its final text sent, followed
    /// by an error event saying why the session ends (`code`), if given.
    pub fn close(&mut self, reason: Option<(&str, &str)>) -> Vec<Value> {
        self.end_stream();
        if let Some((code, message)) = reason {
            let e = self
                .events
                .error("invalid_request_error", code, message, None, None);
            self.metrics
                .realtime_errors
                .with_label_values(&[code])
                .inc();
            self.out.push(e);
        }
        self.take()
    }

    fn take(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.out)
    }

    fn error(&mut self, code: &str, message: &str, param: Option<&str>, client: Option<&str>) {
        self.metrics
            .realtime_errors
            .with_label_values(&[code])
            .inc();
        let e = self
            .events
            .error("invalid_request_error", code, message, param, client);
        self.out.push(e);
    }

    fn update(&mut self, event: &Value, shape: Shape, id: Option<&str>) {
        let Some(session) = event.get("session") else {
            self.error(
                "missing_session",
                "the update needs a 'session' object",
                Some("session"),
                id,
            );
            return;
        };
        match self.settings.update(session, shape) {
            Err(bad) => self.error(bad.code, &bad.message, Some(&bad.param), id),
            Ok(next) => {
                if next != self.settings {
                    // New settings start a new stream; the turn in progress is finished first.
                    self.end_stream();
                    self.settings = next;
                }
                let kind = match shape {
                    Shape::Current => "session.updated",
                    Shape::Earlier => "transcription_session.updated",
                };
                let session = self.settings.to_json(&self.session_id, shape);
                let e = self.events.make(kind, json!({ "session": session }));
                self.out.push(e);
            }
        }
    }

    fn options(&self) -> StreamOptions {
        let s = &self.settings;
        let mut o = StreamOptions {
            language: s.language.clone(),
            languages: s.languages.clone(),
            initial_prompt: s.prompt.clone(),
            hotwords: self.hotwords.clone(),
            cancel: Some(self.cancel.clone()),
            ..StreamOptions::default()
        };
        match &s.vad {
            Some(v) => {
                o.threshold = v.threshold;
                o.prefix_padding_ms = v.prefix_padding_ms;
                o.silence_ms = v.silence_duration_ms;
            }
            None => o.end_on_silence = false,
        }
        o
    }

    fn append(&mut self, event: &Value, at: Instant, id: Option<&str>) {
        let Some(text) = event.get("audio").and_then(Value::as_str) else {
            self.error(
                "missing_audio",
                "input_audio_buffer.append needs 'audio': base64 of the session's audio format",
                Some("audio"),
                id,
            );
            return;
        };
        let samples = match audio::decode(text, self.settings.encoding) {
            Ok(s) => s,
            Err(e) => {
                let code = match e {
                    audio::BadAudio::Base64(_) => "invalid_base64",
                    audio::BadAudio::OddLength(_) => "invalid_audio",
                };
                self.error(code, &e.to_string(), Some("audio"), id);
                return;
            }
        };
        if samples.is_empty() {
            return;
        }
        if self.stream.is_none() {
            match self.transcriber.stream(self.options()) {
                Ok(s) => self.stream = Some(s),
                Err(e) => {
                    self.error("invalid_session", &e.to_string(), None, id);
                    return;
                }
            }
        }
        let rate = self.settings.encoding.rate();
        let started = Instant::now();
        let pushed = self.stream.as_mut().map(|s| s.push_pcm_i16(&samples, rate));
        self.metrics
            .realtime_compute_seconds
            .inc_by(started.elapsed().as_secs_f64());
        self.metrics
            .realtime_audio_seconds
            .inc_by(samples.len() as f64 / f64::from(rate));
        let received = self.offset + self.stream.as_ref().map_or(0.0, LiveStream::duration);
        self.arrivals.push_back((received, at));
        if self.arrivals.len() > MAX_ARRIVALS {
            self.arrivals.pop_front();
        }
        match pushed {
            Some(Ok(())) => self.drain(false),
            Some(Err(e)) => {
                self.drain(false);
                self.error("transcription_failed", &e.to_string(), None, id);
            }
            None => {}
        }
    }

    fn commit(&mut self, id: Option<&str>) {
        let committed = match self.stream.as_mut().map(LiveStream::commit) {
            Some(Ok(true)) => true,
            Some(Ok(false)) | None => false,
            Some(Err(e)) => {
                self.error("transcription_failed", &e.to_string(), None, id);
                return;
            }
        };
        if !committed {
            self.error(
                "input_audio_buffer_commit_empty",
                "no speech in the buffer to commit",
                None,
                id,
            );
            return;
        }
        self.drain(true);
    }

    /// Finishes the current stream (its last turn becomes final) and moves the session's
    /// clock past it.
    fn end_stream(&mut self) {
        let Some(s) = self.stream.as_mut() else {
            return;
        };
        let started = Instant::now();
        let finished = s.finish();
        self.metrics
            .realtime_compute_seconds
            .inc_by(started.elapsed().as_secs_f64());
        self.drain(false);
        let s = self.stream.take().expect("checked above");
        if let Err(e) = finished {
            self.error("transcription_failed", &e.to_string(), None, None);
        }
        self.offset += s.duration();
        self.item = None;
    }

    /// Turns the stream's events into server events. `committing`: the client ended the
    /// turn (no `speech_stopped` then).
    fn drain(&mut self, committing: bool) {
        let manual = self.settings.vad.is_none();
        let prefix = self
            .settings
            .vad
            .as_ref()
            .map_or(0.0, |v| f64::from(v.prefix_padding_ms) / 1000.0);
        let offset = self.offset;
        let ms = |t: f64| ((offset + t) * 1000.0).round().max(0.0) as u64;
        while let Some(ev) = self.stream.as_mut().and_then(LiveStream::poll_event) {
            match ev {
                StreamEvent::SpeechStarted { at } => {
                    self.start_item(if manual {
                        None
                    } else {
                        Some(ms((at - prefix).max(0.0)))
                    });
                }
                // A delta carries agreed words only: OpenAI's deltas are never taken back.
                // The words heard after them go out only in interim events, when asked for.
                StreamEvent::Partial {
                    delta, unstable, ..
                } => {
                    let interim = self.settings.interim();
                    if delta.is_empty() && !interim {
                        continue;
                    }
                    if self.item.is_none() {
                        self.start_item(None);
                    }
                    let item = self.item.as_mut().expect("started above");
                    let id = item.id.clone();
                    if !delta.is_empty() {
                        let piece = if item.text.is_empty() {
                            delta
                        } else {
                            format!(" {delta}")
                        };
                        item.text.push_str(&piece);
                        let e = self.events.make(
                            "conversation.item.input_audio_transcription.delta",
                            json!({"item_id": id, "content_index": 0, "delta": piece}),
                        );
                        self.out.push(e);
                    }
                    if interim {
                        let stable = item.text.clone();
                        let transcript = match (stable.is_empty(), unstable.is_empty()) {
                            (_, true) => stable.clone(),
                            (true, false) => unstable.clone(),
                            (false, false) => format!("{stable} {unstable}"),
                        };
                        let e = self.events.make(
                            INTERIM,
                            json!({
                                "item_id": id,
                                "content_index": 0,
                                "transcript": transcript,
                                "stable": stable,
                                "unstable": unstable,
                            }),
                        );
                        self.out.push(e);
                    }
                }
                StreamEvent::SpeechStopped { at } => {
                    self.settle_ended();
                    let id = match self.item.take() {
                        Some(item) => item.id,
                        None => new_id("item"),
                    };
                    if !manual && !committing {
                        let e = self.events.make(
                            "input_audio_buffer.speech_stopped",
                            json!({"audio_end_ms": ms(at), "item_id": id}),
                        );
                        self.out.push(e);
                    }
                    self.committed(&id);
                    self.ended = Some(Ended {
                        id,
                        speech_end: (!manual && !committing).then_some(offset + at),
                    });
                }
                StreamEvent::Final(u) => {
                    let seconds = u.end - u.start;
                    match self.ended.take() {
                        Some(ended) => {
                            self.completed(&ended.id, &u.text, seconds);
                            if let Some(end) = ended.speech_end {
                                self.observe_latency(end);
                            }
                        }
                        None => {
                            // A long turn cut at a pause: its first part is an item of its own,
                            // and the speech goes on in a new one.
                            let id = match self.item.take() {
                                Some(item) => item.id,
                                None => new_id("item"),
                            };
                            self.committed(&id);
                            self.completed(&id, &u.text, seconds);
                            self.start_item((!manual).then(|| ms(u.end)));
                        }
                    }
                }
            }
        }
        self.settle_ended();
    }

    /// A turn that ended without final text (too little speech) is completed empty.
    fn settle_ended(&mut self) {
        if let Some(ended) = self.ended.take() {
            self.completed(&ended.id, "", 0.0);
        }
    }

    fn start_item(&mut self, started_ms: Option<u64>) {
        let id = new_id("item");
        if let Some(ms) = started_ms {
            let e = self.events.make(
                "input_audio_buffer.speech_started",
                json!({"audio_start_ms": ms, "item_id": id}),
            );
            self.out.push(e);
        }
        self.item = Some(Item {
            id,
            text: String::new(),
        });
    }

    fn committed(&mut self, id: &str) {
        let e = self.events.make(
            "input_audio_buffer.committed",
            json!({"item_id": id, "previous_item_id": self.previous_item}),
        );
        self.out.push(e);
        self.previous_item = Some(id.to_string());
    }

    fn completed(&mut self, id: &str, transcript: &str, seconds: f64) {
        let e = self.events.make(
            "conversation.item.input_audio_transcription.completed",
            json!({
                "item_id": id,
                "content_index": 0,
                "transcript": transcript,
                "usage": {"type": "duration", "seconds": (seconds * 1000.0).round() / 1000.0},
            }),
        );
        self.out.push(e);
    }

    /// Records the time from the arrival of the audio where speech ended to now.
    fn observe_latency(&mut self, speech_end: f64) {
        while self.arrivals.len() > 1 && self.arrivals[1].0 < speech_end {
            self.arrivals.pop_front();
        }
        if let Some(&(_, at)) = self.arrivals.iter().find(|(s, _)| *s >= speech_end) {
            self.metrics
                .realtime_final_latency
                .observe(at.elapsed().as_secs_f64());
        }
    }
}

/// `prefix_` and a random id.
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::now_v7().simple().to_string()[12..]
    )
}
