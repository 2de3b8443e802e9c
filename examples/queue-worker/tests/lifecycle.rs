//! Every byte has a lifetime: deleting an ended job erases its row, transcript, audio and
//! webhook payloads; the retention period purges old jobs by itself; a synchronous request
//! whose API process died leaves nothing behind; a tenant erases all of its data in one call.
//! Checked in the database and the storage themselves, on SQLite with local files and on
//! PostgreSQL with S3.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const KEY_A: &str = "key-tenant-a-111";
const KEY_B: &str = "key-tenant-b-222";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_an_ended_job_erases_everything_of_it() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "call", PHRASES[1]);
    let (long, _) = long_clip(dir.path(), 3);
    let env = [
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_WEBHOOK_SECRET", "whsec-1".into()),
        ("STENOGRAPH_WEBHOOK_ALLOW_PRIVATE", "yes".into()),
        // Kept audio still goes when its job is deleted.
        ("STENOGRAPH_KEEP_AUDIO", "1".into()),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".into()),
        ("STENOGRAPH_POLL_MS", "50".into()),
    ];
    let server = Server::all(&env, free_port(), dir.path().join("server.log"));
    let c = Client::new(&server.url(), None);
    let hook = format!("{}/ok", receiver.url);
    let id = c.submit_ok(&clip, &[("webhook_url", &hook)]).await;
    let job = c.wait(&id, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "completed", "{job}");
    eventually(Duration::from_secs(20), "webhook not delivered", || async {
        receiver.count("ok") == 1
    })
    .await;
    let stores = Stores::sqlite(dir.path());
    let audio = dir.path().join(format!("data/audio/uploads/default/{id}"));
    assert!(audio.exists(), "STENOGRAPH_KEEP_AUDIO=1 keeps the audio");
    let row = format!("SELECT COUNT(*) FROM jobs WHERE id = '{id}'");
    let deliveries = format!("SELECT COUNT(*) FROM webhook_deliveries WHERE job_id = '{id}'");
    assert_eq!(
        (stores.count(&row).await, stores.count(&deliveries).await),
        (1, 1)
    );

    let (status, _) = c.delete(&format!("/v1/jobs/{id}")).await;
    assert_eq!(status, 204);
    for path in [
        format!("/v1/jobs/{id}"),
        format!("/v1/jobs/{id}/transcript"),
    ] {
        let (status, body) = c.get_json(&path).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}");
    }
    assert_eq!(c.delete(&format!("/v1/jobs/{id}")).await.0, 404);
    assert_eq!(
        (stores.count(&row).await, stores.count(&deliveries).await),
        (0, 0)
    );
    eventually(
        Duration::from_secs(10),
        "the audio is still stored",
        || async { !audio.exists() },
    )
    .await;

    // A running job is canceled by the first DELETE and erased by the second.
    let running = c.submit_ok(&long, &[]).await;
    eventually(Duration::from_secs(60), "the job never ran", || async {
        c.get_json(&format!("/v1/jobs/{running}")).await.1["status"] == "processing"
    })
    .await;
    let (status, job) = c.delete(&format!("/v1/jobs/{running}")).await;
    assert_eq!((status, job["status"].as_str()), (200, Some("canceled")));
    assert_eq!(c.delete(&format!("/v1/jobs/{running}")).await.0, 204);
    let uploads = dir.path().join("data/audio/uploads");
    eventually(Duration::from_secs(10), "audio left behind", || async {
        files_under(&uploads).is_empty()
    })
    .await;
    let page = server.metrics().await;
    assert_eq!(
        metric(&page, "stenograph_jobs_purged_total{reason=\"deleted\"}"),
        Some(2.0),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_purges_ended_jobs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    retention(dir.path(), Stores::sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_purges_ended_jobs_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    retention(dir.path(), Stores::postgres_s3(dir.path()).await).await;
}

/// Jobs that ended more than 3 s ago disappear with their (kept) audio, within seconds.
async fn retention(dir: &std::path::Path, stores: Stores) {
    let mut env = stores.env.clone();
    let clip = speak(dir, "call", PHRASES[4]);
    env.extend([
        ("STENOGRAPH_RETENTION", "3s".to_string()),
        ("STENOGRAPH_KEEP_AUDIO", "true".to_string()),
        ("STENOGRAPH_POLL_MS", "50".to_string()),
    ]);
    let server = Server::all(&env, free_port(), dir.join("server.log"));
    let c = Client::new(&server.url(), None);
    let ids = [c.submit_ok(&clip, &[]).await, c.submit_ok(&clip, &[]).await];
    for id in &ids {
        assert_eq!(
            c.wait(id, Duration::from_secs(120)).await["status"],
            "completed"
        );
    }
    let stored = || stores.objects("");
    // Still there right after the end (kept), gone a few seconds after the retention.
    assert_eq!(stored().await, 2);
    eventually(
        Duration::from_secs(20),
        "expired jobs still there",
        || async { stores.count("SELECT COUNT(*) FROM jobs").await == 0 },
    )
    .await;
    for id in &ids {
        assert_eq!(c.get(&format!("/v1/jobs/{id}")).await.0, 404);
    }
    eventually(
        Duration::from_secs(10),
        "expired audio still stored",
        || async { stored().await == 0 },
    )
    .await;
    let page = server.metrics().await;
    assert_eq!(
        metric(&page, "stenograph_jobs_purged_total{reason=\"retention\"}"),
        Some(2.0),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_abandoned_synchronous_request_leaves_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    abandoned_sync(dir.path(), Stores::sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_abandoned_synchronous_request_leaves_nothing_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    abandoned_sync(dir.path(), Stores::postgres_s3(dir.path()).await).await;
}

/// The API dies while a synchronous request waits for its job: the next API process removes
/// the job and its audio once the request's time is certainly up.
async fn abandoned_sync(dir: &std::path::Path, stores: Stores) {
    let mut env = stores.env.clone();
    let clip = speak(dir, "call", PHRASES[0]);
    // The API alone, so the clip waits in the queue; it gives up after 3 s.
    env.push(("STENOGRAPH_SYNC_TIMEOUT_SECONDS", "3".into()));
    let port = free_port();
    let mut api = Server::api(&env, port, dir.join("api.log"));
    let url = api.url();
    let wav = std::fs::read(&clip).unwrap();
    let request = tokio::spawn(async move {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(wav).file_name("c.wav"),
            )
            .text("model", "whisper-1");
        let _ = reqwest::Client::new()
            .post(format!("{url}/v1/audio/transcriptions"))
            .multipart(form)
            .send()
            .await;
    });
    eventually(
        Duration::from_secs(10),
        "the request never queued",
        || async {
            stores
                .count("SELECT COUNT(*) FROM jobs WHERE kind = 'sync'")
                .await
                == 1
        },
    )
    .await;
    api.kill();
    request.await.unwrap();
    let stored = || stores.objects("uploads/");
    assert_eq!(stores.count("SELECT COUNT(*) FROM jobs").await, 1);
    assert_eq!(stored().await, 1);

    // The next API process finds the abandoned job and removes it with its audio.
    let api = Server::api(&env, port, dir.join("api2.log"));
    eventually(
        Duration::from_secs(40),
        "the abandoned job is still there",
        || async { stores.count("SELECT COUNT(*) FROM jobs").await == 0 },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "its audio is still stored",
        || async { stored().await == 0 },
    )
    .await;
    let page = api.metrics().await;
    assert_eq!(
        metric(&page, "stenograph_jobs_purged_total{reason=\"sync\"}"),
        Some(1.0),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_erases_all_of_its_data_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    erasure(dir.path(), Stores::sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_erases_all_of_its_data_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    erasure(dir.path(), Stores::postgres_s3(dir.path()).await).await;
}

/// Tenant a has ended jobs (audio kept), a running job, a queued one and a stray upload no row
/// references; tenant b has a job. a's erasure removes all of a's and none of b's.
async fn erasure(dir: &std::path::Path, stores: Stores) {
    let mut env = stores.env.clone();
    let clip = speak(dir, "call", PHRASES[3]);
    let (long, _) = long_clip(dir, 4);
    env.extend([
        ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a,{KEY_B}:b")),
        ("STENOGRAPH_KEEP_AUDIO", "on".to_string()),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".to_string()),
        ("STENOGRAPH_POLL_MS", "50".to_string()),
    ]);
    let server = Server::all(&env, free_port(), dir.join("server.log"));
    let (a, b) = (
        Client::new(&server.url(), Some(KEY_A)),
        Client::new(&server.url(), Some(KEY_B)),
    );
    let done = [a.submit_ok(&clip, &[]).await, a.submit_ok(&clip, &[]).await];
    let theirs = b.submit_ok(&clip, &[]).await;
    for id in &done {
        assert_eq!(
            a.wait(id, Duration::from_secs(120)).await["status"],
            "completed"
        );
    }
    assert_eq!(
        b.wait(&theirs, Duration::from_secs(120)).await["status"],
        "completed"
    );
    let running = a.submit_ok(&long, &[]).await;
    eventually(
        Duration::from_secs(60),
        "the long job never ran",
        || async { a.get_json(&format!("/v1/jobs/{running}")).await.1["status"] == "processing" },
    )
    .await;
    let queued = a.submit_ok(&clip, &[]).await;
    let stray = "0190aaaa-0000-7000-8000-000000000000";
    stores
        .put(&format!("uploads/a/{stray}"), b"x".to_vec())
        .await;
    let stored = |tenant: &str| {
        let prefix = format!("uploads/{tenant}/");
        let stores = &stores;
        async move { stores.objects(&prefix).await }
    };
    assert_eq!(stored("a").await, 5);
    assert_eq!(stored("b").await, 1);

    let r = a
        .http
        .delete(format!("{}/v1/tenant/data", a.base))
        .bearer_auth(KEY_A)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let erasure: Value = r.json().await.unwrap();
    assert_eq!(erasure["object"], "tenant.erasure");
    assert_eq!(b.get(&location).await.0, 404, "b cannot see a's erasure");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let (_, e) = a.get_json(&location).await;
        if e["status"] == "completed" {
            break e;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the erasure never completed: {e}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["jobs_deleted"], 4, "{finished}");
    assert_eq!(finished["audio_deleted"], 5, "{finished}");
    assert!(finished["finished_at"].is_string());

    for id in done.iter().chain([&running, &queued]) {
        assert_eq!(a.get(&format!("/v1/jobs/{id}")).await.0, 404);
    }
    let (_, list) = a.get_json("/v1/jobs").await;
    assert!(list["data"].as_array().unwrap().is_empty(), "{list}");
    let tenant_rows = |t: &str| {
        format!(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE tenant = '{t}') + \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE tenant = '{t}')"
        )
    };
    assert_eq!(stores.count(&tenant_rows("a")).await, 0);
    assert_eq!(stored("a").await, 0);
    // b keeps everything.
    assert_eq!(stores.count(&tenant_rows("b")).await, 1);
    assert_eq!(stored("b").await, 1);
    let (status, text) = b.get(&format!("/v1/jobs/{theirs}/transcript")).await;
    assert_eq!(status, 200);
    assert!(matches(&text, PHRASES[3]), "{text}");
    // a can use the service again; b deletes its job, and its kept audio goes too.
    let after = a.submit_ok(&clip, &[]).await;
    assert_eq!(
        a.wait(&after, Duration::from_secs(120)).await["status"],
        "completed"
    );
    assert_eq!(b.delete(&format!("/v1/jobs/{theirs}")).await.0, 204);
    assert_eq!(b.get(&format!("/v1/jobs/{theirs}")).await.0, 404);
    assert_eq!(stores.count(&tenant_rows("b")).await, 0);
    eventually(
        Duration::from_secs(20),
        "b's deleted audio is still stored",
        || async { stored("b").await == 0 },
    )
    .await;
}

/// A webhook receiver that counts requests per path.
struct Receiver {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let s = seen.clone();
        let app = axum::Router::new().route(
            "/{kind}",
            axum::routing::post(
                move |axum::extract::Path(kind): axum::extract::Path<String>| {
                    let s = s.clone();
                    async move {
                        s.lock().unwrap().push(kind);
                        "ok"
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, seen }
    }

    fn count(&self, kind: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|k| *k == kind)
            .count()
    }
}
