//! `GET /v1/realtime?intent=transcription`: live transcription over a WebSocket, speaking
//! OpenAI's Realtime transcription protocol, so its clients (the official SDKs, browser code)
//! work unchanged. Each session streams into the process's model (live decodes go before
//! queued batch work); see the README beside this crate for the events and limits.
//!
//! A session is three parts: a reader task (limits, idle and session timeouts), an engine
//! thread (protocol and transcription, [`engine::Engine`]) and a writer task; bounded channels
//! between them, so a client that stops reading its events stops its own audio being taken.

mod audio;
mod engine;
mod protocol;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use stenograph::transcribe::Transcriber;
use tokio::sync::{mpsc, watch, Notify};

use crate::api::{auth, errors::ApiError, AppState};
use crate::metrics::Metrics;
use engine::Engine;

/// The subprotocol browsers name (with the key as `openai-insecure-api-key.KEY`).
const SUBPROTOCOL: &str = "realtime";
/// The subprotocol prefix that carries the API key.
const KEY_PROTOCOL: &str = "openai-insecure-api-key.";
/// How often a session with an open stream looks for partial text between client messages.
const TICK: Duration = Duration::from_millis(20);

/// Limits of realtime sessions.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Sessions open at once in this process.
    pub max_sessions: usize,
    /// Sessions open at once per tenant.
    pub per_tenant: usize,
    /// Longest wait for a client message.
    pub idle: Duration,
    /// Longest session.
    pub max_session: Duration,
    /// Largest client message, in bytes.
    pub max_message: usize,
}

/// The realtime sessions of this process: the model they use (once loaded) and who holds
/// how many.
pub struct Hub {
    model: OnceLock<Transcriber>,
    open: Mutex<HashMap<String, usize>>,
    closed: Notify,
    limits: Limits,
    metrics: Metrics,
    stop: watch::Receiver<bool>,
}

impl Hub {
    /// Sessions with `limits`, ended when `stop` turns true.
    pub fn new(limits: Limits, metrics: Metrics, stop: watch::Receiver<bool>) -> Self {
        Hub {
            model: OnceLock::new(),
            open: Mutex::new(HashMap::new()),
            closed: Notify::new(),
            limits,
            metrics,
            stop,
        }
    }

    /// Serves sessions with `model` from now on.
    pub fn set_model(&self, model: Transcriber) {
        let _ = self.model.set(model);
    }

    /// Waits until every session has closed, or `most` has passed.
    pub async fn drained(&self, most: Duration) {
        let wait = async {
            loop {
                let notified = self.closed.notified();
                if self.total() == 0 {
                    return;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(most, wait).await.is_err() {
            tracing::warn!(
                sessions = self.total(),
                "realtime sessions still open at shutdown"
            );
        }
    }

    fn total(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// A place for one more session of `tenant`, or why there is none.
    fn admit(self: &Arc<Self>, tenant: &str) -> Result<Seat, &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = open.values().sum();
        let mine = open.get(tenant).copied().unwrap_or(0);
        if total >= self.limits.max_sessions {
            return Err("this server holds as many realtime sessions as it is set to");
        }
        if mine >= self.limits.per_tenant {
            return Err("this API key's tenant holds as many realtime sessions as it may");
        }
        *open.entry(tenant.to_string()).or_default() += 1;
        self.metrics.realtime_sessions.inc();
        Ok(Seat {
            hub: self.clone(),
            tenant: tenant.to_string(),
        })
    }
}

/// One admitted session; gives its place back when dropped.
struct Seat {
    hub: Arc<Hub>,
    tenant: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.tenant);
            }
        }
        drop(open);
        self.hub.metrics.realtime_sessions.dec();
        self.hub.closed.notify_waiters();
    }
}

/// The caller's tenant, from `Authorization: Bearer KEY` or, for browsers, the
/// `openai-insecure-api-key.KEY` subprotocol.
fn tenant(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if state.keys.is_open() {
        return Ok(auth::OPEN_TENANT.into());
    }
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::bearer);
    let from_protocol = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(KEY_PROTOCOL));
    let key = from_header.or(from_protocol).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_api_key",
            "no API key: send 'Authorization: Bearer YOUR_KEY', or from a browser the \
             subprotocol 'openai-insecure-api-key.YOUR_KEY'",
        )
    })?;
    state
        .keys
        .tenant(key)
        .map(str::to_string)
        .ok_or_else(|| ApiError::unauthorized("invalid_api_key", "incorrect API key provided"))
}

/// Opens a realtime transcription session.
pub async fn connect(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let tenant = tenant(&state, &headers)?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::invalid(
            "websocket_required",
            format!("connect with a WebSocket client: {e}"),
        )
    })?;
    match query.get("intent").map(String::as_str) {
        Some("transcription") => {}
        other => {
            return Err(ApiError::invalid(
                "unsupported_intent",
                format!(
                    "intent {other:?}: only transcription sessions are served; connect to \
                     /v1/realtime?intent=transcription"
                ),
            )
            .param("intent"))
        }
    }
    let hub = state.realtime.clone();
    let Some(model) = hub.model.get().cloned() else {
        return Err(ApiError::unavailable(
            "model_not_loaded",
            "this process serves no model for realtime sessions (yet): it is loading, or runs \
             as 'api' only; connect to a process run without a role or as 'realtime'",
        ));
    };
    let hotwords = state.db.tenant_hotwords(&tenant).await?;
    let admitted = hub.admit(&tenant);
    let limit = hub.limits.max_message;
    // Messages up to four times the limit are read and answered with an error event; a
    // larger one ends the connection.
    let hard_limit = limit.saturating_mul(4).max(64 * 1024);
    Ok(upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| async move {
            match admitted {
                Ok(seat) => session(socket, hub, model, seat, tenant, hotwords).await,
                Err(why) => refuse(socket, &hub, why).await,
            }
        }))
}

/// Sends an over-the-limit client its `error` event and closes (1013: try again later).
async fn refuse(mut socket: WebSocket, hub: &Hub, why: &str) {
    hub.metrics
        .realtime_errors
        .with_label_values(&["session_limit_reached"])
        .inc();
    let mut events = protocol::Events::new("refused");
    let e = events.error(
        "invalid_request_error",
        "session_limit_reached",
        why,
        None,
        None,
    );
    let _ = socket.send(Message::Text(e.to_string().into())).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1013,
            reason: "session limit reached".into(),
        })))
        .await;
}

/// What the reader hands the engine.
enum Command {
    /// A text message and when it arrived.
    Text(String, Instant),
    /// A message refused before parsing: error code and message.
    Refuse(&'static str, String),
    /// The session ends for `reason` (its last turn is finished first).
    End(End),
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Client,
    Idle,
    Expired,
    Shutdown,
    TooLarge,
}

impl End {
    fn label(self) -> &'static str {
        match self {
            End::Client => "client",
            End::Idle => "idle",
            End::Expired => "expired",
            End::Shutdown => "shutdown",
            End::TooLarge => "too_large",
        }
    }

    /// The error event's code and message, and the close code.
    fn notice(self, limits: &Limits) -> Option<(&'static str, String, u16)> {
        match self {
            End::Client => None,
            End::Idle => Some((
                "idle_timeout",
                format!(
                    "no client event for {} s: the session is closed",
                    limits.idle.as_secs()
                ),
                1000,
            )),
            End::Expired => Some((
                "session_expired",
                format!(
                    "the session reached its maximum length of {} s",
                    limits.max_session.as_secs()
                ),
                1000,
            )),
            End::Shutdown => Some((
                "server_shutting_down",
                "the server is shutting down; reconnect to another instance".into(),
                1001,
            )),
            End::TooLarge => Some((
                "message_too_large",
                format!(
                    "a message far over the {} KiB limit ended the session",
                    limits.max_message / 1024
                ),
                1009,
            )),
        }
    }
}

/// What the engine hands the writer.
enum Outgoing {
    Event(Value),
    Close(u16, String),
}

async fn session(
    socket: WebSocket,
    hub: Arc<Hub>,
    model: Transcriber,
    seat: Seat,
    tenant: String,
    hotwords: Vec<String>,
) {
    let session_id = engine::new_id("sess");
    tracing::info!(session = %session_id, %tenant, "realtime session opened");
    let (mut sink, mut incoming) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(64);
    let writer = tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            let sent = match out {
                Outgoing::Event(v) => sink.send(Message::Text(v.to_string().into())).await,
                Outgoing::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break;
                }
            };
            if sent.is_err() {
                break;
            }
        }
    });

    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>(16);
    let cancel = stenograph::transcribe::CancelToken::new();
    let engine = Engine::new(
        model,
        hub.metrics.clone(),
        session_id.clone(),
        cancel.clone(),
    )
    .with_hotwords(hotwords);
    let limits = hub.limits;
    let runtime = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("realtime-session".into())
        .spawn(move || run_engine(runtime, engine, cmd_rx, out_tx, limits));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a realtime session thread");
        return;
    }

    let deadline = tokio::time::Instant::now() + limits.max_session;
    let mut stop = hub.stop.clone();
    let end = loop {
        let next = tokio::select! {
            m = tokio::time::timeout(limits.idle, incoming.next()) => m,
            _ = tokio::time::sleep_until(deadline) => break End::Expired,
            _ = stop.wait_for(|s| *s) => break End::Shutdown,
        };
        let command = match next {
            Err(_) => break End::Idle,
            Ok(None) => break End::Client,
            Ok(Some(Err(e))) => {
                let text = e.to_string();
                tracing::debug!(session = %session_id, error = %text, "realtime read failed");
                if text.contains("too long") || text.contains("Space limit") {
                    break End::TooLarge;
                }
                break End::Client;
            }
            Ok(Some(Ok(message))) => match message {
                Message::Text(t) if t.len() > limits.max_message => Command::Refuse(
                    "message_too_large",
                    format!(
                        "a message of {} KiB is over the {} KiB limit: send audio in smaller \
                         appends (100 ms to 1 s each)",
                        t.len() / 1024,
                        limits.max_message / 1024
                    ),
                ),
                Message::Text(t) => Command::Text(t.to_string(), Instant::now()),
                Message::Binary(_) => Command::Refuse(
                    "binary_not_supported",
                    "binary messages are not taken: send JSON text events (audio as base64 in \
                     input_audio_buffer.append)"
                        .into(),
                ),
                Message::Close(_) => break End::Client,
                Message::Ping(_) | Message::Pong(_) => continue,
            },
        };
        if cmd_tx.send(command).await.is_err() {
            break End::Client;
        }
    };
    hub.metrics
        .realtime_sessions_ended
        .with_label_values(&[end.label()])
        .inc();
    tracing::info!(session = %session_id, reason = end.label(), "realtime session ended");
    if end == End::Client {
        // Nobody is left to read this session's text: a decode in progress stops at once.
        cancel.cancel();
    } else {
        let _ = cmd_tx.send(Command::End(end)).await;
    }
    drop(cmd_tx);
    // The engine finishes the last turn and closes; a client that is gone ends the writer.
    // The place is given back once the last event is written (a shutdown waits for it).
    let _ = writer.await;
    drop(seat);
}

/// The engine thread: handles commands in order until the session ends or the client leaves.
fn run_engine(
    runtime: tokio::runtime::Handle,
    mut engine: Engine,
    mut commands: mpsc::Receiver<Command>,
    out: mpsc::Sender<Outgoing>,
    limits: Limits,
) {
    let send = |events: Vec<Value>| {
        events
            .into_iter()
            .all(|e| out.blocking_send(Outgoing::Event(e)).is_ok())
    };
    if !send(engine.created()) {
        return;
    }
    loop {
        // While a stream is open, partial text decoded between client messages is sent as
        // soon as it is ready.
        let command = if engine.live() {
            // The timer is made inside the runtime's context.
            match runtime.block_on(async { tokio::time::timeout(TICK, commands.recv()).await }) {
                Ok(command) => command,
                Err(_) => {
                    if !send(engine.tick()) {
                        return;
                    }
                    continue;
                }
            }
        } else {
            commands.blocking_recv()
        };
        let Some(command) = command else {
            return;
        };
        let events = match command {
            Command::Text(text, at) => engine.handle(&text, at),
            Command::Refuse(code, message) => engine.refuse(code, &message),
            Command::End(end) => {
                let notice = end.notice(&limits);
                let events = engine.close(notice.as_ref().map(|(c, m, _)| (*c, m.as_str())));
                if send(events) {
                    let (code, reason) = notice
                        .map(|(c, _, close)| (close, c.to_string()))
                        .unwrap_or((1000, String::new()));
                    let _ = out.blocking_send(Outgoing::Close(code, reason));
                }
                return;
            }
        };
        if !send(events) {
            return;
        }
    }
}

/// The browser page: microphone to `/v1/realtime`, live text on screen.
pub async fn page() -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Html(include_str!("page.html")),
    )
        .into_response()
}
