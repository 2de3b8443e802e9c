//! Webhooks: signed deliveries of completed and failed jobs, retried with backoff while the
//! receiver fails, and given up (and recorded) when it never recovers; redirects are not
//! followed; URLs that reach loopback, private or metadata addresses are refused at submission
//! and, should a name point inside later, at delivery.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use common::*;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "whsec-test-secret";

/// One request: receiver path, headers, body, arrival.
type Seen = (String, HeaderMap, String, Instant);

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn receive(
    State(r): State<Receiver>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut seen = r.seen.lock().unwrap();
    let before = seen.iter().filter(|(k, ..)| *k == kind).count();
    seen.push((kind.clone(), headers, body, Instant::now()));
    match kind.as_str() {
        "flaky" if before < 2 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "down" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "redirect" => (StatusCode::FOUND, [("location", "/landed")]).into_response(),
        _ => StatusCode::OK.into_response(),
    }
}

async fn start_receiver() -> (Receiver, String) {
    let receiver = Receiver::default();
    let app = axum::Router::new()
        .route("/{kind}", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, hook)
}

fn verify(headers: &HeaderMap, body: &str) {
    let sig = headers["stenograph-signature"].to_str().unwrap();
    let (t, v1) = sig.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&hex::decode(v1).unwrap())
        .expect("signature matches");
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {t} is fresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_signed_retried_and_given_up() {
    let (receiver, hook) = start_receiver().await;

    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "ok", PHRASES[1]);
    let data = dir.path().join("data");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let env = [
        ("STENOGRAPH_DATA_DIR", data.display().to_string()),
        (
            "STENOGRAPH_URL_PREFIXES",
            format!("default=file://{}/", inbox.display()),
        ),
        // The receiver is on loopback.
        ("STENOGRAPH_WEBHOOK_ALLOW_PRIVATE", "1".into()),
        ("STENOGRAPH_WEBHOOK_SECRET", SECRET.into()),
        ("STENOGRAPH_WEBHOOK_MAX_ATTEMPTS", "3".into()),
        ("STENOGRAPH_WEBHOOK_BACKOFF_MS", "300".into()),
        ("STENOGRAPH_POLL_MS", "50".into()),
    ];
    let server = Server::all(&env, free_port(), dir.path().join("server.log"));
    let c = Client::new(&server.url(), None);

    let flaky = c
        .submit_ok(&clip, &[("webhook_url", &format!("{hook}/flaky"))])
        .await;
    let down = c
        .submit_ok(&clip, &[("webhook_url", &format!("{hook}/down"))])
        .await;
    let redirected = c
        .submit_ok(&clip, &[("webhook_url", &format!("{hook}/redirect"))])
        .await;
    // A job that fails: an object in the inbox that is not audio (URL jobs skip the upload
    // check).
    std::fs::write(inbox.join("notes.txt"), "meeting notes, not audio").unwrap();
    let r = c.http.post(format!("{}/v1/jobs", c.base))
        .json(&serde_json::json!({ "url": format!("file://{}/notes.txt", inbox.display()), "webhook_url": format!("{hook}/failed") }))
        .send().await.unwrap();
    assert_eq!(r.status(), 202);
    let failed = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let job = c.wait(&failed, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "unknown_format", "{job}");
    assert_eq!(job["attempts"], 1, "bad input is not retried");
    for id in [&flaky, &down] {
        assert_eq!(
            c.wait(id, Duration::from_secs(120)).await["status"],
            "completed"
        );
    }
    let webhook_state = |id: String| {
        let c = c.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
                if matches!(
                    job["webhook"]["state"].as_str(),
                    Some("delivered" | "failed")
                ) {
                    return job;
                }
                assert!(Instant::now() < deadline, "webhook never settled: {job}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let job = webhook_state(flaky.clone()).await;
    assert_eq!(job["webhook"]["state"], "delivered", "{job}");
    assert_eq!(job["webhook"]["attempts"], 3);
    assert_eq!(job["webhook"]["last_status"], 200);
    let job = webhook_state(down.clone()).await;
    assert_eq!(job["webhook"]["state"], "failed", "{job}");
    assert_eq!(job["webhook"]["attempts"], 3);
    assert_eq!(job["webhook"]["last_status"], 503);
    assert!(job["webhook"]["last_error"]
        .as_str()
        .unwrap()
        .contains("503"));
    let job = webhook_state(failed.clone()).await;
    assert_eq!(job["webhook"]["state"], "delivered");
    // A redirect is an answer, not a new destination.
    let job = webhook_state(redirected.clone()).await;
    assert_eq!(job["webhook"]["state"], "failed", "{job}");
    assert_eq!(job["webhook"]["last_status"], 302);

    let seen = receiver.seen.lock().unwrap().clone();
    let of = |kind: &str| {
        seen.iter()
            .filter(|(k, ..)| k == kind)
            .cloned()
            .collect::<Vec<_>>()
    };
    let flaky_seen = of("flaky");
    assert_eq!(flaky_seen.len(), 3);
    assert_eq!(of("down").len(), 3, "no attempts after giving up");
    assert_eq!(of("redirect").len(), 3);
    assert!(of("landed").is_empty(), "a redirect was followed");
    // Backoff: 300 ms, then 600 ms.
    let gaps: Vec<_> = flaky_seen.windows(2).map(|w| w[1].3 - w[0].3).collect();
    assert!(
        gaps[0] >= Duration::from_millis(300) && gaps[1] >= Duration::from_millis(600),
        "{gaps:?}"
    );
    for (_, headers, body, _) in &seen {
        verify(headers, body);
    }
    let deliveries: Vec<_> = flaky_seen
        .iter()
        .map(|(_, h, ..)| h["stenograph-delivery"].clone())
        .collect();
    assert!(
        deliveries.windows(2).all(|w| w[0] == w[1]),
        "retries keep the delivery id"
    );
    let (_, headers, body, _) = &flaky_seen[2];
    assert_eq!(headers["stenograph-event"], "job.completed");
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["event"], "job.completed");
    assert_eq!(payload["job"]["id"], flaky.as_str());
    assert!(
        matches(
            payload["job"]["result"]["text"].as_str().unwrap(),
            PHRASES[1]
        ),
        "{payload}"
    );
    let (_, headers, body, _) = &of("failed")[0];
    assert_eq!(headers["stenograph-event"], "job.failed");
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["job"]["error"]["code"], "unknown_format");
    // A forged body does not verify.
    let forged = body.replace("failed", "completed");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    let sig = headers["stenograph-signature"].to_str().unwrap();
    let t = sig.split(',').next().unwrap().trim_start_matches("t=");
    mac.update(format!("{t}.{forged}").as_bytes());
    let v1 = hex::decode(sig.rsplit("v1=").next().unwrap()).unwrap();
    assert!(mac.verify_slice(&v1).is_err());
    let page = server.metrics().await;
    assert_eq!(
        metric(
            &page,
            "stenograph_webhook_attempts_total{result=\"gave_up\"}"
        ),
        Some(2.0),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_that_reach_inside_are_refused() {
    let (receiver, hook) = start_receiver().await;
    let port = hook.rsplit(':').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "ok", PHRASES[2]);
    let wav = std::fs::read(&clip).unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::copy(&clip, inbox.join("call.wav")).unwrap();
    let data = dir.path().join("data").display().to_string();
    let base = vec![
        ("STENOGRAPH_DATA_DIR", data),
        (
            "STENOGRAPH_URL_PREFIXES",
            format!("default=file://{}/", inbox.display()),
        ),
        ("STENOGRAPH_WEBHOOK_SECRET", SECRET.to_string()),
        ("STENOGRAPH_POLL_MS", "50".to_string()),
    ];

    // At submission: every spelling of an inside address, and credentials in the URL.
    let api = Server::api(&base, free_port(), dir.path().join("strict.log"));
    let c = Client::new(&api.url(), None);
    for url in [
        format!("http://127.0.0.1:{port}/ok"),
        format!("http://localhost:{port}/ok"),
        format!("http://[::1]:{port}/ok"),
        format!("http://0x7f000001:{port}/ok"),
        format!("http://2130706433:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.1.2.3/hook".to_string(),
        "http://172.16.0.9/hook".to_string(),
        "http://192.168.1.1/hook".to_string(),
        "http://[fd00::1]/hook".to_string(),
        "http://0.0.0.0:9090/metrics".to_string(),
        "http://user:pass@example.com/hook".to_string(),
    ] {
        let (status, body) = c
            .submit(wav.clone(), "a.wav", &[("webhook_url", &url)])
            .await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_webhook_url"),
            "{url}: {body}"
        );
        let (status, body) = c
            .post_json(
                "/v1/jobs",
                &serde_json::json!({
                    "url": format!("file://{}/call.wav", inbox.display()),
                    "webhook_url": url,
                }),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_webhook_url"),
            "{url}: {body}"
        );
    }
    let (_, list) = c.get_json("/v1/jobs").await;
    assert!(list["data"].as_array().unwrap().is_empty(), "{list}");
    drop(api);

    // At delivery: an API that allows inside receivers queues them; a worker that does not
    // refuses to connect, whether the host is a name or an address, and does not retry.
    let mut open = base.clone();
    open.push(("STENOGRAPH_WEBHOOK_ALLOW_PRIVATE", "1".to_string()));
    let api = Server::api(&open, free_port(), dir.path().join("open.log"));
    let c = Client::new(&api.url(), None);
    let by_name = c
        .submit_ok(
            &clip,
            &[("webhook_url", &format!("http://localhost:{port}/named"))],
        )
        .await;
    let by_address = c
        .submit_ok(
            &clip,
            &[("webhook_url", &format!("http://127.0.0.1:{port}/literal"))],
        )
        .await;
    let worker = Server::worker(&base, dir.path().join("worker.log"));
    for id in [&by_name, &by_address] {
        assert_eq!(
            c.wait(id, Duration::from_secs(120)).await["status"],
            "completed"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let job = loop {
            let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
            if job["webhook"]["state"] == "failed" {
                break job;
            }
            assert!(Instant::now() < deadline, "delivery not refused: {job}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(job["webhook"]["attempts"], 1, "{job}");
        assert!(
            job["webhook"]["last_error"]
                .as_str()
                .unwrap()
                .contains("refused"),
            "{job}"
        );
    }
    assert!(
        receiver.seen.lock().unwrap().is_empty(),
        "a refused webhook was sent"
    );
    let page = worker.metrics().await;
    assert_eq!(
        metric(
            &page,
            "stenograph_webhook_attempts_total{result=\"refused\"}"
        ),
        Some(2.0),
        "{page}"
    );
}
