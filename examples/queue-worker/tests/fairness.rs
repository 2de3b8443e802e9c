//! Tenants share the service fairly: a tenant's single job starts next even behind another
//! tenant's backlog (on SQLite and on PostgreSQL, whose claim queries differ), the backlog
//! shows per tenant in the metrics, and one tenant's slow webhook receivers do not delay
//! another tenant's deliveries.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const KEY_A: &str = "key-tenant-a-111";
const KEY_B: &str = "key-tenant-b-222";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backlog_does_not_hold_back_another_tenant_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    fair_claims(dir.path(), Stores::sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backlog_does_not_hold_back_another_tenant_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    fair_claims(dir.path(), Stores::postgres_s3(dir.path()).await).await;
}

/// Tenant a queues 12 jobs, then tenant b one: b's starts before any of a's queued ones.
async fn fair_claims(dir: &std::path::Path, stores: Stores) {
    let clips = phrase_clips(dir);
    let mut env = stores.env;
    env.extend([
        ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a,{KEY_B}:b")),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".to_string()),
        ("STENOGRAPH_POLL_MS", "50".to_string()),
    ]);
    let server = Server::all(&env, free_port(), dir.join("server.log"));
    let (a, b) = (
        Client::new(&server.url(), Some(KEY_A)),
        Client::new(&server.url(), Some(KEY_B)),
    );
    for i in 0..12 {
        a.submit_ok(&clips[i % clips.len()], &[]).await;
    }
    let page = server.metrics().await;
    let depth = metric(&page, "stenograph_tenant_queue_depth{tenant=\"a\"}").unwrap();
    assert!(depth >= 8.0, "{page}");
    let theirs = b.submit_ok(&clips[1], &[]).await;
    let job = b.wait(&theirs, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "completed", "{job}");
    let (created, started) = (
        job["created_at"].as_str().unwrap(),
        job["started_at"].as_str().unwrap(),
    );
    let (_, list) = a.get_json("/v1/jobs?limit=100").await;
    let overtaking: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            j["started_at"]
                .as_str()
                .is_some_and(|s| s > created && s < started)
        })
        .collect();
    // At most one claim can race b's submission.
    assert!(
        overtaking.len() <= 1,
        "{} of a's jobs started after b's was queued and before it: {overtaking:?}",
        overtaking.len()
    );
    let queued = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["status"] == "queued")
        .count();
    assert!(queued >= 5, "a's backlog should still wait: {list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_webhooks_of_one_tenant_do_not_delay_another_on_sqlite() {
    slow_webhooks(Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_webhooks_of_one_tenant_do_not_delay_another_on_postgres() {
    slow_webhooks(vec![("STENOGRAPH_DATABASE_URL", postgres_database().await)]).await;
}

/// Tenant a's 32 webhooks go to a receiver that takes 6 s each; tenant b's one is delivered
/// at once all the same (one batch of a's would have held it 6 s).
async fn slow_webhooks(extra: Vec<(&'static str, String)>) {
    // Receiver: /slow answers after 6 s, /fast at once; arrival times are recorded.
    let seen: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/{kind}",
        axum::routing::post(
            move |axum::extract::Path(kind): axum::extract::Path<String>| {
                let s = s.clone();
                async move {
                    s.lock().unwrap().push((kind.clone(), Instant::now()));
                    if kind == "slow" {
                        tokio::time::sleep(Duration::from_secs(6)).await;
                    }
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let inbox = |t: &str| dir.path().join(format!("inbox/{t}"));
    for t in ["a", "b"] {
        std::fs::create_dir_all(inbox(t)).unwrap();
        // Not audio: the job fails at once, and its webhook is all there is to do.
        std::fs::write(inbox(t).join("notes.txt"), "meeting notes, not audio").unwrap();
    }
    let mut env = vec![
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a,{KEY_B}:b")),
        (
            "STENOGRAPH_URL_PREFIXES",
            format!(
                "a=file://{}/,b=file://{}/",
                inbox("a").display(),
                inbox("b").display()
            ),
        ),
        ("STENOGRAPH_WEBHOOK_SECRET", "whsec-1".into()),
        ("STENOGRAPH_WEBHOOK_ALLOW_PRIVATE", "1".into()),
        ("STENOGRAPH_POLL_MS", "50".into()),
    ];
    env.extend(extra);
    let server = Server::all(&env, free_port(), dir.path().join("server.log"));
    let (a, b) = (
        Client::new(&server.url(), Some(KEY_A)),
        Client::new(&server.url(), Some(KEY_B)),
    );
    let job = |t: &str, kind: &str| {
        json!({
            "url": format!("file://{}/notes.txt", inbox(t).display()),
            "webhook_url": format!("{hook}/{kind}"),
        })
    };
    let mut backlog = Vec::new();
    for _ in 0..32 {
        let (status, body) = a.post_json("/v1/jobs", &job("a", "slow")).await;
        assert_eq!(status, 202, "{body}");
        backlog.push(body["id"].as_str().unwrap().to_string());
    }
    for id in &backlog {
        assert_eq!(
            a.wait(id, Duration::from_secs(60)).await["status"],
            "failed"
        );
    }
    let (status, body) = b.post_json("/v1/jobs", &job("b", "fast")).await;
    assert_eq!(status, 202, "{body}");
    let done = b
        .wait(body["id"].as_str().unwrap(), Duration::from_secs(60))
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    let ended = Instant::now();
    eventually(
        Duration::from_secs(30),
        "b's webhook never arrived",
        || async { seen.lock().unwrap().iter().any(|(k, _)| k == "fast") },
    )
    .await;
    let arrived = seen
        .lock()
        .unwrap()
        .iter()
        .find(|(k, _)| k == "fast")
        .unwrap()
        .1;
    let delay = arrived.saturating_duration_since(ended);
    assert!(
        delay < Duration::from_secs(3),
        "b's webhook waited {delay:?} behind a's slow receiver"
    );
    let slow_in_flight = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, t)| k == "slow" && *t <= arrived)
        .count();
    assert!(
        slow_in_flight <= 8,
        "a had {slow_in_flight} slow deliveries started: more than its share"
    );
}
