//! What one tenant can reach: a JSON job names only objects under its own tenant's prefixes,
//! never another tenant's or the service's upload area, and the refusal is the same whether
//! or not the object exists; symbolic links in local storage are never followed; metrics and
//! failure details stay off the public port; settings that would break isolation stop the
//! server at start.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const KEY_A: &str = "key-tenant-a-111";
const KEY_B: &str = "key-tenant-b-222";
const KEY_C: &str = "key-tenant-c-333";
const METRICS_TOKEN: &str = "metrics-token-xyz";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn url_jobs_reach_only_their_own_tenants_objects() {
    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "call", PHRASES[0]);
    let data = dir.path().join("data");
    let (inbox_a, inbox_b) = (dir.path().join("inbox/a"), dir.path().join("inbox/b"));
    for d in [&inbox_a, &inbox_b] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::copy(&clip, d.join("call.wav")).unwrap();
    }
    let url_of = |d: &std::path::Path, name: &str| format!("file://{}/{name}", d.display());
    let env = [
        ("STENOGRAPH_DATA_DIR", data.display().to_string()),
        (
            "STENOGRAPH_API_KEYS",
            format!("{KEY_A}:a,{KEY_B}:b,{KEY_C}:c"),
        ),
        (
            "STENOGRAPH_URL_PREFIXES",
            format!("a={},b={}", url_of(&inbox_a, ""), url_of(&inbox_b, "")),
        ),
        ("STENOGRAPH_METRICS_TOKEN", METRICS_TOKEN.into()),
        ("STENOGRAPH_POLL_MS", "50".into()),
    ];
    // The API alone first: tenant a's upload waits in the queue.
    let api_port = free_port();
    let mut api = Server::api(&env, api_port, dir.path().join("api.log"));
    let (a, b, c) = (
        Client::new(&api.url(), Some(KEY_A)),
        Client::new(&api.url(), Some(KEY_B)),
        Client::new(&api.url(), Some(KEY_C)),
    );
    let uploaded = a.submit_ok(&clip, &[]).await;
    let storage = format!(
        "file://{}",
        std::path::absolute(data.join("audio")).unwrap().display()
    );
    let upload_url = format!("{storage}/uploads/a/{uploaded}");
    assert!(data.join(format!("audio/uploads/a/{uploaded}")).exists());

    // Tenant b names tenant a's upload, a's inbox, and objects that do not exist there: every
    // answer is the same refusal, so it learns nothing about what exists.
    let mut answers = Vec::new();
    for url in [
        upload_url.clone(),
        format!("{storage}/uploads/a/00000000-0000-0000-0000-000000000000"),
        url_of(&inbox_a, "call.wav"),
        url_of(&inbox_a, "missing.wav"),
        format!(
            "{}/../a/call.wav",
            url_of(&inbox_b, "").trim_end_matches('/')
        ),
        format!("{storage}/stenograph.db"),
        "file:///etc/passwd".into(),
        "s3://other-bucket/a/call.wav".into(),
    ] {
        let (status, body) = b.post_json("/v1/jobs", &json!({ "url": url })).await;
        assert_eq!((status, code(&body)), (400, "invalid_url"), "{url}: {body}");
        answers.push(body);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "refusals differ: {answers:?}"
    );
    let message = answers[0]["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    // Tenant a cannot name its own upload area either, and c, without prefixes, nothing.
    let (status, body) = a.post_json("/v1/jobs", &json!({ "url": upload_url })).await;
    assert_eq!((status, &body), (400, &answers[0]));
    let (status, body) = c
        .post_json("/v1/jobs", &json!({ "url": url_of(&inbox_a, "call.wav") }))
        .await;
    assert_eq!((status, &body), (400, &answers[0]));

    // Symbolic links under a tenant's own prefix are refused, file or directory.
    std::os::unix::fs::symlink(inbox_a.join("call.wav"), inbox_b.join("link.wav")).unwrap();
    std::os::unix::fs::symlink(&inbox_a, inbox_b.join("dir")).unwrap();
    for url in [
        url_of(&inbox_b, "link.wav"),
        url_of(&inbox_b, "dir/call.wav"),
    ] {
        let (status, body) = b.post_json("/v1/jobs", &json!({ "url": url })).await;
        assert_eq!((status, code(&body)), (400, "invalid_url"), "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("symbolic link"),
            "{body}"
        );
    }
    // Its own object, and a missing one there, are answered as such.
    let (status, body) = b
        .post_json(
            "/v1/jobs",
            &json!({ "url": url_of(&inbox_b, "missing.wav") }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "source_not_found"), "{body}");
    let (status, body) = b
        .post_json("/v1/jobs", &json!({ "url": url_of(&inbox_b, "call.wav") }))
        .await;
    assert_eq!(status, 202, "{body}");
    let own = body["id"].as_str().unwrap().to_string();

    // A link swapped into the upload area after the upload is not followed by the worker.
    let queued = a.submit_ok(&clip, &[]).await;
    let stored = data.join(format!("audio/uploads/a/{queued}"));
    std::fs::remove_file(&stored).unwrap();
    std::os::unix::fs::symlink(inbox_b.join("call.wav"), &stored).unwrap();

    // Metrics and failure details are on the operations port only, behind the token.
    assert_eq!(a.get("/metrics").await.0, 404);
    let ops = format!("http://127.0.0.1:{}", api.ops_port);
    let http = reqwest::Client::new();
    let status = http
        .get(format!("{ops}/metrics"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let r = http
        .get(format!("{ops}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("stenograph_tenant_queue_depth{tenant=\"a\"} 2"));
    let (status, ready) = a.get_json("/readyz").await;
    assert_eq!((status, &ready["database"]), (200, &json!("ok")), "{ready}");

    // Now a worker: a's upload and b's own object are transcribed; the swapped link fails.
    let worker = Server::worker(&env, dir.path().join("worker.log"));
    for id in [&uploaded] {
        let job = a.wait(id, Duration::from_secs(120)).await;
        assert_eq!(job["status"], "completed", "{job}");
    }
    let job = b.wait(&own, Duration::from_secs(120)).await;
    assert!(
        matches(job["result"]["text"].as_str().unwrap(), PHRASES[0]),
        "{job}"
    );
    let job = a.wait(&queued, Duration::from_secs(120)).await;
    assert_eq!(
        (job["status"].as_str(), job["error"]["code"].as_str()),
        (Some("failed"), Some("source_refused")),
        "{job}"
    );
    assert!(!job["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&dir.path().display().to_string()));
    drop(worker);
    api.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_prefixes_keep_tenants_apart() {
    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "call", PHRASES[2]);
    let wav = std::fs::read(&clip).unwrap();
    let database = postgres_database().await;
    let (endpoint, bucket) = s3_bucket().await;
    for key in ["in/a/call.wav", "in/b/call.wav"] {
        put_object(&endpoint, &bucket, key, wav.clone()).await;
    }
    let mut env = s3_env(&endpoint);
    env.extend([
        ("STENOGRAPH_DATABASE_URL", database),
        ("STENOGRAPH_STORAGE_URL", format!("{bucket}/stenograph")),
        ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a,{KEY_B}:b")),
        (
            "STENOGRAPH_URL_PREFIXES",
            format!("a={bucket}/in/a/,b={bucket}/in/b/"),
        ),
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_POLL_MS", "50".into()),
    ]);
    let server = Server::all(&env, free_port(), dir.path().join("server.log"));
    let (a, b) = (
        Client::new(&server.url(), Some(KEY_A)),
        Client::new(&server.url(), Some(KEY_B)),
    );
    let uploaded = a.submit_ok(&clip, &[("language", "en")]).await;
    let mut answers = Vec::new();
    for url in [
        format!("{bucket}/stenograph/uploads/a/{uploaded}"),
        format!("{bucket}/in/a/call.wav"),
        format!("{bucket}/in/a/missing.wav"),
        format!("{bucket}/in/b/../a/call.wav"),
        format!("{bucket}/in/b/%2e%2e/a/call.wav"),
        format!("{bucket}/in/bx/call.wav"),
    ] {
        let (status, body) = b.post_json("/v1/jobs", &json!({ "url": url })).await;
        assert_eq!((status, code(&body)), (400, "invalid_url"), "{url}: {body}");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let (status, body) = b
        .post_json(
            "/v1/jobs",
            &json!({ "url": format!("{bucket}/in/b/missing.wav") }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "source_not_found"), "{body}");
    let (status, body) = b
        .post_json(
            "/v1/jobs",
            &json!({ "url": format!("{bucket}/in/b/call.wav") }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let job = b
        .wait(body["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert!(
        matches(job["result"]["text"].as_str().unwrap(), PHRASES[2]),
        "{job}"
    );
    assert_eq!(
        a.wait(&uploaded, Duration::from_secs(120)).await["status"],
        "completed"
    );
    // Objects the service did not store stay; its own upload goes.
    eventually(
        Duration::from_secs(20),
        "the upload was not deleted",
        || async {
            let keys = bucket_keys(&endpoint, &bucket).await;
            keys == ["in/a/call.wav", "in/b/call.wav"]
        },
    )
    .await;
}

/// Settings that would break isolation stop the server before it serves anything.
#[test]
fn unsafe_settings_stop_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let storage = format!("file://{}/audio", data.display());
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![("STENOGRAPH_API_KEYS", "long-enough-key:..".into())],
            "tenant '..'",
        ),
        (
            vec![("STENOGRAPH_API_KEYS", "long-enough-key:.hidden".into())],
            "tenant '.hidden'",
        ),
        (
            vec![(
                "STENOGRAPH_API_KEYS",
                "same-key-123:a,same-key-123:b".into(),
            )],
            "same API key",
        ),
        (
            vec![
                ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a")),
                ("STENOGRAPH_URL_PREFIXES", "z=s3://calls/z/".into()),
            ],
            "tenant 'z', which has no API key",
        ),
        (
            vec![
                ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a")),
                ("STENOGRAPH_STORAGE_URL", storage.clone()),
                ("STENOGRAPH_URL_PREFIXES", format!("a={storage}/uploads/")),
            ],
            "overlaps the storage URL",
        ),
        (
            vec![
                ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a,{KEY_B}:b")),
                (
                    "STENOGRAPH_URL_PREFIXES",
                    "a=s3://calls/in/,b=s3://calls/in/b/".into(),
                ),
            ],
            "overlaps a prefix of tenant",
        ),
        (
            vec![("STENOGRAPH_INPUT_URL_PREFIXES", "s3://calls/in/".into())],
            "STENOGRAPH_URL_PREFIXES",
        ),
        (vec![("STENOGRAPH_RETENTION", "soon".into())], "duration"),
        (vec![("STENOGRAPH_KEEP_AUDIO", "maybe".into())], "maybe"),
    ];
    for (settings, expected) in cases {
        let mut env = vec![("STENOGRAPH_DATA_DIR", data.display().to_string())];
        env.extend(settings.iter().cloned());
        let log = dir.path().join("refused.log");
        let _ = std::fs::remove_file(&log);
        let args = ["--port", &free_port().to_string()];
        let mut child = Server::command(&args, &env, free_port(), &log)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{settings:?}: the server started"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{settings:?}");
        assert!(stderr.contains(expected), "{settings:?}: {stderr}");
    }
}
