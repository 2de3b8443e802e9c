//! `/v1/realtime?intent=transcription` end to end with real WebSocket clients (and the official
//! OpenAI SDK): OpenAI's event sequence for each turn of speech, deltas while speaking, bad
//! frames answered with `error` events, authentication, session limits, idle sessions,
//! disconnects mid-turn, shutdown, and many sessions at once.

mod common;

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// The interim transcript event, and the `include` entry that asks for it.
const INTERIM: &str = "stenograph.input_audio_transcription.interim";

const KEY: &str = "key-realtime-1234";
const OTHER_KEY: &str = "key-realtime-5678";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn server(dir: &Path, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        (
            "STENOGRAPH_DATA_DIR",
            dir.join("data").display().to_string(),
        ),
        (
            "STENOGRAPH_API_KEYS",
            format!("{KEY}:alpha,{OTHER_KEY}:beta"),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let server = Server::all(&env, free_port(), dir.join("server.log"));
    // Sessions are taken once the model is loaded.
    let ready = format!("{}/readyz", server.url());
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !std::process::Command::new("curl")
        .args(["-sf", "-o", "/dev/null", &ready])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Connects with `key` in the Authorization header (or none).
async fn open(port: u16, key: Option<&str>) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://127.0.0.1:{port}/v1/realtime?intent=transcription")
        .into_client_request()
        .unwrap();
    if let Some(k) = key {
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {k}")).unwrap(),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// The next server event (skipping pings), or `None` when the connection closed or nothing
/// came within `wait`.
async fn next(ws: &mut Ws, wait: Duration) -> Option<Value> {
    next_or_why(ws, wait).await.ok()
}

/// The next event, or why none came: a timeout, a close frame, or the connection's end.
async fn next_or_why(ws: &mut Ws, wait: Duration) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(other))) => return Err(format!("{other:?}")),
            Ok(Some(Err(e))) => return Err(format!("read error: {e}")),
            Ok(None) => return Err("the connection ended".into()),
            Err(_) => return Err(format!("nothing for {wait:?}")),
        }
    }
}

/// Waits for an event of `kind`, returning it and every event before it.
async fn until(ws: &mut Ws, kind: &str) -> Vec<Value> {
    until_or(ws, kind, String::new).await
}

/// `until`, adding `context()` (e.g. the server's log) to the failure.
async fn until_or(ws: &mut Ws, kind: &str, context: impl Fn() -> String) -> Vec<Value> {
    let mut seen = Vec::new();
    let why = loop {
        match next_or_why(ws, Duration::from_secs(60)).await {
            Ok(e) => {
                let done = e["type"] == kind;
                seen.push(e);
                if done {
                    return seen;
                }
            }
            Err(why) => break why,
        }
    };
    panic!("no {kind} event ({why}); got {seen:#?}\n{}", context());
}

async fn send(ws: &mut Ws, event: Value) {
    ws.send(Message::Text(event.to_string().into()))
        .await
        .unwrap();
}

/// 16-bit samples of a WAV file, resampled (linearly) to 24 kHz.
fn pcm24k(path: &Path) -> Vec<i16> {
    let mut r = hound::WavReader::open(path).unwrap();
    let rate = r.spec().sample_rate as f64;
    let src: Vec<f64> = r.samples::<i16>().map(|s| f64::from(s.unwrap())).collect();
    let n = (src.len() as f64 * 24_000.0 / rate) as usize;
    (0..n)
        .map(|i| {
            let pos = i as f64 * rate / 24_000.0;
            let j = pos as usize;
            let next = src.get(j + 1).copied().unwrap_or(src[j]);
            (src[j] + (next - src[j]) * (pos - j as f64)) as i16
        })
        .collect()
}

/// Phrases spoken with `pause` seconds of silence before each and after the last: the
/// samples at 24 kHz and where each phrase lies, in ms.
fn conversation(dir: &Path, phrases: &[&str], pause: f64) -> (Vec<i16>, Vec<(u64, u64)>) {
    let gap = vec![0i16; (pause * 24_000.0) as usize];
    let mut pcm = Vec::new();
    let mut placed = Vec::new();
    for (i, p) in phrases.iter().enumerate() {
        pcm.extend(&gap);
        let start = pcm.len() as u64 / 24;
        pcm.extend(pcm24k(&speak(dir, &format!("rt{i}"), p)));
        placed.push((start, pcm.len() as u64 / 24));
    }
    pcm.extend(&gap);
    (pcm, placed)
}

fn append(samples: &[i16]) -> Value {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    json!({"type": "input_audio_buffer.append", "audio": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

/// Sends `pcm` in 100 ms appends.
async fn send_audio(ws: &mut Ws, pcm: &[i16]) {
    for piece in pcm.chunks(2_400) {
        send(ws, append(piece)).await;
    }
}

fn completed(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["type"] == "conversation.item.input_audio_transcription.completed")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_turn_follows_openais_event_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &[]);
    let phrases = [PHRASES[1], PHRASES[2], PHRASES[3]];
    let (pcm, placed) = conversation(dir.path(), &phrases, 1.2);

    let mut ws = open(server.port, Some(KEY)).await.unwrap();
    let created = next(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert_eq!(created["type"], "session.created", "{created}");
    assert_eq!(created["session"]["type"], "transcription");
    assert_eq!(
        created["session"]["audio"]["input"]["format"]["rate"],
        24_000
    );
    // The earlier protocol's update is answered in its own shape.
    send(
        &mut ws,
        json!({"type": "transcription_session.update", "session": {
            "input_audio_format": "pcm16",
            "input_audio_transcription": {"model": "whisper-1", "language": "en"},
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500, "prefix_padding_ms": 300, "threshold": 0.5},
            // Interim transcripts too (an extension: clients that do not ask get none).
            "include": [INTERIM],
        }}),
    )
    .await;
    let updated = next(&mut ws, Duration::from_secs(10)).await.unwrap();
    assert_eq!(updated["session"]["include"], json!([INTERIM]), "{updated}");
    assert_eq!(
        updated["type"], "transcription_session.updated",
        "{updated}"
    );
    assert_eq!(
        updated["session"]["input_audio_transcription"]["language"],
        "en"
    );

    send_audio(&mut ws, &pcm).await;
    let mut events = Vec::new();
    while completed(&events).len() < phrases.len() {
        events.extend(
            until(
                &mut ws,
                "conversation.item.input_audio_transcription.completed",
            )
            .await,
        );
    }
    let ids: std::collections::HashSet<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len(), "event ids are unique");

    // Per turn: speech_started, deltas, speech_stopped, committed, completed, one item id.
    let mut previous: Option<String> = None;
    let mut heard_ahead = false;
    for (n, phrase) in phrases.iter().enumerate() {
        let done = completed(&events)[n];
        let item = done["item_id"].as_str().unwrap();
        let of_item: Vec<&Value> = events.iter().filter(|e| e["item_id"] == item).collect();
        let kinds: Vec<&str> = of_item
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds.first(),
            Some(&"input_audio_buffer.speech_started"),
            "{kinds:?}"
        );
        let stopped = kinds
            .iter()
            .position(|k| *k == "input_audio_buffer.speech_stopped")
            .unwrap();
        assert_eq!(
            &kinds[stopped..],
            [
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.input_audio_transcription.completed"
            ],
            "{kinds:?}"
        );
        let deltas: String = of_item
            .iter()
            .filter(|e| e["type"] == "conversation.item.input_audio_transcription.delta")
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        // Text arrives while the person is still speaking (the long phrases at least).
        if phrase.split(' ').count() >= 9 {
            assert!(!deltas.is_empty(), "no delta while speaking: {kinds:?}");
        }
        // Each interim transcript: the deltas sent so far, then the words heard after them.
        let mut sent = String::new();
        for e in &of_item[..stopped] {
            if e["type"] == "conversation.item.input_audio_transcription.delta" {
                sent.push_str(e["delta"].as_str().unwrap());
            } else if e["type"] == INTERIM {
                let (stable, unstable) = (
                    e["stable"].as_str().unwrap(),
                    e["unstable"].as_str().unwrap(),
                );
                assert_eq!(stable, sent, "{e}");
                let transcript = e["transcript"].as_str().unwrap();
                assert!(
                    transcript.starts_with(stable) && transcript.ends_with(unstable),
                    "{e}"
                );
                heard_ahead |= !unstable.is_empty();
            }
        }
        assert!(kinds.contains(&INTERIM), "{kinds:?}");
        let transcript = done["transcript"].as_str().unwrap();
        assert!(matches(transcript, phrase), "{transcript} / {phrase}");
        assert_eq!(done["usage"]["type"], "duration");
        let committed = of_item[stopped + 1];
        assert_eq!(
            committed["previous_item_id"].as_str().map(String::from),
            previous
        );
        previous = Some(item.to_string());
        // Times on the session's clock, near where the phrase lies.
        let (start, end) = placed[n];
        let started = of_item[0]["audio_start_ms"].as_u64().unwrap();
        let stop = of_item[stopped]["audio_end_ms"].as_u64().unwrap();
        assert!(
            started + 700 >= start && started <= start + 400,
            "{started} vs {start}"
        );
        assert!(stop + 700 >= end && stop <= end + 700, "{stop} vs {end}");
    }
    assert!(heard_ahead, "no interim words beyond the deltas");
    // No text for the silence after the last turn.
    send_audio(&mut ws, &vec![0i16; 48_000]).await;
    send(
        &mut ws,
        json!({"type": "input_audio_buffer.commit", "event_id": "c-last"}),
    )
    .await;
    let e = until(&mut ws, "error").await;
    let e = e.last().unwrap();
    assert_eq!(e["error"]["code"], "input_audio_buffer_commit_empty", "{e}");
    assert_eq!(e["error"]["event_id"], "c-last");

    let page = server.metrics().await;
    assert_eq!(metric(&page, "stenograph_realtime_sessions"), Some(1.0));
    assert!(metric(&page, "stenograph_realtime_final_latency_seconds_count").unwrap() >= 3.0);
    assert!(metric(&page, "stenograph_realtime_audio_seconds_total").unwrap() > 8.0);
    drop(ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_frames_get_error_events_and_the_session_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &[("STENOGRAPH_REALTIME_MAX_MESSAGE_KB", "64")]);
    let mut ws = open(server.port, Some(KEY)).await.unwrap();
    until(&mut ws, "session.created").await;

    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let cases: Vec<(Message, &str)> = vec![
        (Message::Text("not json".into()), "invalid_json"),
        (Message::Text("[1, 2]".into()), "invalid_json"),
        (Message::Text(r#"{"no": "type"}"#.into()), "missing_type"),
        (Message::Text(r#"{"type": "response.create"}"#.into()), "unknown_event"),
        (Message::Text(json!({"type": "input_audio_buffer.append", "audio": "%%%"}).to_string().into()), "invalid_base64"),
        (Message::Text(json!({"type": "input_audio_buffer.append", "audio": b64(&[1, 2, 3])}).to_string().into()), "invalid_audio"),
        (Message::Text(json!({"type": "input_audio_buffer.append"}).to_string().into()), "missing_audio"),
        (Message::Text(json!({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}}).to_string().into()), "invalid_value"),
        (Message::Text(json!({"type": "session.update", "session": {"type": "transcription", "include": ["item.input_audio_transcription.everything"]}}).to_string().into()), "invalid_value"),
        (Message::Text(json!({"type": "input_audio_buffer.commit"}).to_string().into()), "input_audio_buffer_commit_empty"),
        (Message::Binary(vec![0u8; 64].into()), "binary_not_supported"),
        (Message::Text(json!({"type": "input_audio_buffer.append", "audio": b64(&vec![0u8; 100_000])}).to_string().into()), "message_too_large"),
    ];
    for (message, code) in cases {
        ws.send(message).await.unwrap();
        let e = next(&mut ws, Duration::from_secs(10)).await.unwrap();
        assert_eq!(e["type"], "error", "{e}");
        assert_eq!(e["error"]["code"], code, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().len() > 10, "{e}");
        assert_eq!(e["error"]["type"], "invalid_request_error");
    }
    // The session still transcribes, in G.711 μ-law as phone systems send it.
    send(&mut ws, json!({"type": "session.update", "session": {"type": "transcription", "audio": {"input": {"format": {"type": "audio/pcmu"}, "turn_detection": null}}}})).await;
    let updated = until(&mut ws, "session.updated").await;
    let updated = updated.last().unwrap();
    assert_eq!(
        updated["session"]["audio"]["input"]["turn_detection"],
        Value::Null
    );
    let mut r = hound::WavReader::open(speak(dir.path(), "mulaw", PHRASES[3])).unwrap();
    let rate = r.spec().sample_rate as usize;
    let linear: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    let narrow: Vec<u8> = (0..linear.len() * 8_000 / rate)
        .map(|i| mulaw(linear[i * rate / 8_000]))
        .collect();
    for piece in narrow.chunks(800) {
        send(
            &mut ws,
            json!({"type": "input_audio_buffer.append", "audio": b64(piece)}),
        )
        .await;
    }
    // No server VAD: nothing ends the turn until the commit.
    send(&mut ws, json!({"type": "input_audio_buffer.commit"})).await;
    let events = until(
        &mut ws,
        "conversation.item.input_audio_transcription.completed",
    )
    .await;
    assert!(
        !events
            .iter()
            .any(|e| e["type"] == "input_audio_buffer.speech_started"),
        "no VAD events without turn detection: {events:#?}"
    );
    assert!(events
        .iter()
        .any(|e| e["type"] == "input_audio_buffer.committed"));
    let text = events.last().unwrap()["transcript"].as_str().unwrap();
    assert!(matches(text, PHRASES[3]), "{text}");

    // A message far over the limit ends the connection; the server goes on.
    let huge = json!({"type": "input_audio_buffer.append", "audio": b64(&vec![0u8; 400_000])});
    let _ = ws.send(Message::Text(huge.to_string().into())).await;
    let mut closed = false;
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                closed = true;
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Err(_) => break,
        }
    }
    assert!(
        closed,
        "the connection stays open after a message 6x the limit"
    );
    let mut ws = open(server.port, Some(KEY)).await.unwrap();
    until(&mut ws, "session.created").await;
}

/// G.711 μ-law encoding of one sample (the ITU-T algorithm).
fn mulaw(sample: i16) -> u8 {
    let sign = if sample < 0 { 0x80u8 } else { 0 };
    let magnitude = (i32::from(sample).abs().min(32_635) + 0x84) as u32;
    let exponent = (31 - magnitude.leading_zeros()).saturating_sub(7).min(7);
    let mantissa = ((magnitude >> (exponent + 3)) & 0x0f) as u8;
    !(sign | ((exponent as u8) << 4) | mantissa)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_limits_idle_sessions_and_disconnects() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(
        dir.path(),
        &[
            ("STENOGRAPH_REALTIME_MAX_SESSIONS_PER_TENANT", "2"),
            ("STENOGRAPH_REALTIME_IDLE_SECONDS", "3"),
        ],
    );
    // No key, a wrong key, a wrong intent: refused before the upgrade.
    for (key, path, status) in [
        (None, "/v1/realtime?intent=transcription", 401),
        (
            Some("wrong-key-000"),
            "/v1/realtime?intent=transcription",
            401,
        ),
        (Some(KEY), "/v1/realtime?model=gpt-realtime", 400),
    ] {
        let mut req = format!("ws://127.0.0.1:{}{path}", server.port)
            .into_client_request()
            .unwrap();
        if let Some(k) = key {
            req.headers_mut()
                .insert("authorization", format!("Bearer {k}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                assert_eq!(r.status().as_u16(), status, "{path}");
                let body: Value = serde_json::from_slice(r.body().as_deref().unwrap()).unwrap();
                assert!(body["error"]["code"].is_string(), "{body}");
            }
            other => panic!("{path} with {key:?}: {other:?}"),
        }
    }
    // The browser page is served, and speaks to this endpoint with the key as a subprotocol.
    let page = reqwest::get(format!("{}/demo/realtime", server.url()))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    for needle in [
        "/v1/realtime?intent=transcription",
        "openai-insecure-api-key.",
        "input_audio_buffer.append",
        "getUserMedia",
    ] {
        assert!(html.contains(needle), "{needle} missing from the page");
    }
    // Browsers send the key as a subprotocol; the server picks "realtime".
    let mut req = format!(
        "ws://127.0.0.1:{}/v1/realtime?intent=transcription",
        server.port
    )
    .into_client_request()
    .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("realtime, openai-insecure-api-key.{KEY}")
            .parse()
            .unwrap(),
    );
    let (mut a, answer) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(answer.headers()["sec-websocket-protocol"], "realtime");
    until(&mut a, "session.created").await;

    // Two sessions per tenant: the third is told why and closed; another tenant is not held.
    let mut b = open(server.port, Some(KEY)).await.unwrap();
    until(&mut b, "session.created").await;
    let mut c = open(server.port, Some(KEY)).await.unwrap();
    let e = next(&mut c, Duration::from_secs(10)).await.unwrap();
    assert_eq!(e["error"]["code"], "session_limit_reached", "{e}");
    match c.next().await {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(f.code, CloseCode::Again),
        other => panic!("{other:?}"),
    }
    let mut other = open(server.port, Some(OTHER_KEY)).await.unwrap();
    until(&mut other, "session.created").await;

    // A client that goes away in the middle of a turn frees its place.
    let (pcm, _) = conversation(dir.path(), &[PHRASES[1]], 0.3);
    send_audio(&mut b, &pcm[..pcm.len() / 2]).await;
    until(&mut b, "input_audio_buffer.speech_started").await;
    drop(b);
    eventually(
        Duration::from_secs(20),
        "the dropped session's place is freed",
        || async { metric(&server.metrics().await, "stenograph_realtime_sessions") == Some(2.0) },
    )
    .await;
    let mut d = open(server.port, Some(KEY)).await.unwrap();
    until(&mut d, "session.created").await;

    // An idle session is told and closed.
    let e = until(&mut a, "error").await;
    assert_eq!(e.last().unwrap()["error"]["code"], "idle_timeout");
    let page = server.metrics().await;
    assert!(
        metric(
            &page,
            "stenograph_realtime_sessions_ended_total{reason=\"idle\"}"
        )
        .is_some()
            || page.contains("reason=\"idle\""),
        "{page}"
    );
    drop((other, d));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_finishes_the_turn_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = server(dir.path(), &[]);
    let (pcm, _) = conversation(dir.path(), &[PHRASES[4]], 0.3);
    let mut ws = open(server.port, Some(KEY)).await.unwrap();
    until(&mut ws, "session.created").await;
    // The phrase without the silence after it: the turn is still open.
    send_audio(&mut ws, &pcm[..pcm.len() - 7_200]).await;
    until(&mut ws, "input_audio_buffer.speech_started").await;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status();
    let events = until_or(&mut ws, "error", || server.log_text()).await;
    let text = completed(&events)
        .last()
        .map(|e| e["transcript"].as_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(matches(&text, PHRASES[4]), "{text} / {events:#?}");
    assert_eq!(
        events.last().unwrap()["error"]["code"],
        "server_shutting_down"
    );
    match ws.next().await {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(f.code, CloseCode::Away),
        other => panic!("{other:?}"),
    }
    assert!(server.terminate(Duration::from_secs(30)).success());
    // A partial decode cancelled as its turn ends is no error in the log.
    let log = server.log_text();
    assert!(!log.contains("ERROR"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn many_sessions_at_once_each_get_their_own_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &[]);
    let mut tasks = Vec::new();
    for (i, phrase) in PHRASES.iter().enumerate() {
        let (pcm, _) = conversation(dir.path(), &[phrase], 0.5);
        let port = server.port;
        let key = if i % 2 == 0 { KEY } else { OTHER_KEY };
        tasks.push(tokio::spawn(async move {
            let mut ws = open(port, Some(key)).await.unwrap();
            until(&mut ws, "session.created").await;
            send_audio(&mut ws, &pcm).await;
            let events = until(
                &mut ws,
                "conversation.item.input_audio_transcription.completed",
            )
            .await;
            (
                phrase,
                events.last().unwrap()["transcript"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        }));
    }
    for t in tasks {
        let (phrase, text) = t.await.unwrap();
        assert!(matches(&text, phrase), "{text} / {phrase}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_official_openai_sdk_streams_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), &[]);
    let phrases = [PHRASES[0], PHRASES[3]];
    let (pcm, _) = conversation(dir.path(), &phrases, 1.0);
    let wav = dir.path().join("call.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 24_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for s in &pcm {
        w.write_sample(*s).unwrap();
    }
    w.finalize().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/realtime_file.py");
    let url = format!("{}/v1", server.url());
    let mut args: Vec<std::ffi::OsString> = vec![script.into(), wav.into()];
    args.extend(["--url", &url, "--key", KEY, "--json", "--interim"].map(Into::into));
    let stdout = run_python(args).await;
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = completed(&events)
        .iter()
        .map(|e| e["transcript"].as_str().unwrap())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(texts.len(), phrases.len(), "{texts:?}");
    for (t, p) in texts.iter().zip(phrases) {
        assert!(matches(t, p), "{t} / {p}");
    }
    // The SDK passes the extension's interim events through.
    assert!(
        events.iter().any(
            |e| e["type"] == INTERIM && e["transcript"].as_str().is_some_and(|t| !t.is_empty())
        ),
        "{stdout}"
    );
    assert!(events
        .iter()
        .any(|e| e["type"] == "conversation.item.input_audio_transcription.delta"));
}
