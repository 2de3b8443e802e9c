//! Dependencies failing under load: PostgreSQL restarted while jobs run, and object storage
//! unreachable for a while. Requests meanwhile get a clear 503; afterwards every job completes
//! exactly once with the right text.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restart_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clips = phrase_clips(dir.path());
    let (long, long_text) = long_clip(dir.path(), 2);
    let pg = Postgres::start();
    let env = [
        ("STENOGRAPH_DATABASE_URL", pg.url()),
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_LEASE_SECONDS", "5".into()),
        ("STENOGRAPH_POLL_MS", "100".into()),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".into()),
    ];
    let api = Server::api(&env, free_port(), dir.path().join("api.log"));
    let workers: Vec<_> = (0..2)
        .map(|n| Server::worker(&env, dir.path().join(format!("w{n}.log"))))
        .collect();
    let c = Client::new(&api.url(), None);
    let mut jobs = vec![
        (c.submit_ok(&long, &[]).await, long_text.clone()),
        (c.submit_ok(&long, &[]).await, long_text.clone()),
    ];
    for i in 0..10 {
        jobs.push((
            c.submit_ok(&clips[i % clips.len()], &[]).await,
            PHRASES[i % clips.len()].to_string(),
        ));
    }
    // Restart the database while both workers are mid-job.
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.get_json("/v1/jobs?status=processing").await.1["data"]
        .as_array()
        .map_or(0, Vec::len)
        < 2
    {
        assert!(Instant::now() < deadline, "workers never got busy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.stop();
    let (status, body) = c
        .submit(std::fs::read(&clips[0]).unwrap(), "a.wav", &[])
        .await;
    assert_eq!(
        (status, code(&body)),
        (503, "database_unavailable"),
        "{body}"
    );
    assert_eq!(c.get("/readyz").await.0, 503);
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg.start_again();

    for (id, text) in &jobs {
        let job = c.wait(id, Duration::from_secs(600)).await;
        assert_eq!(job["status"], "completed", "{job}");
        let got = job["result"]["text"].as_str().unwrap();
        if text == &long_text {
            assert!(overlap(got, text) >= 0.8, "{job}");
        } else {
            assert!(matches(got, text), "{job}");
        }
    }
    let mut completions: HashMap<String, usize> = HashMap::new();
    for w in &workers {
        for line in w.log_text().lines().filter(|l| l.contains("job completed")) {
            let id = line
                .split("job=")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            *completions.entry(id.to_string()).or_default() += 1;
        }
    }
    assert_eq!(completions.len(), jobs.len(), "{completions:?}");
    assert!(completions.values().all(|&n| n == 1), "{completions:?}");
    assert_eq!(c.get("/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn storage_outage_gets_503_and_queued_jobs_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let clips = phrase_clips(dir.path());
    let (long, long_text) = long_clip(dir.path(), 2);
    let (endpoint, bucket) = s3_bucket().await;
    let target = endpoint.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    let mut env = s3_env(&format!("http://127.0.0.1:{}", proxy.port));
    env.extend([
        ("STENOGRAPH_STORAGE_URL", format!("{bucket}/audio")),
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_POLL_MS", "100".into()),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".into()),
    ]);
    let server = Server::all(&env, free_port(), dir.path().join("server.log"));
    let c = Client::new(&server.url(), None);

    let running = c.submit_ok(&long, &[]).await;
    let queued: Vec<_> = (0..3).map(|i| (i, clips[i].clone())).collect();
    let mut ids = Vec::new();
    for (i, clip) in &queued {
        ids.push((c.submit_ok(clip, &[]).await, *i));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.get_json(&format!("/v1/jobs/{running}")).await.1["status"] != "processing" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    proxy.set_up(false);
    let (status, body) = c
        .submit(std::fs::read(&clips[0]).unwrap(), "a.wav", &[])
        .await;
    assert_eq!(
        (status, code(&body)),
        (503, "storage_unavailable"),
        "{body}"
    );
    assert_eq!(c.get("/readyz").await.0, 503);
    // The next job cannot fetch its audio: it goes back to the queue with the reason shown.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, job) = c.get_json(&format!("/v1/jobs/{}", ids[0].0)).await;
        if job["status"] == "queued" && job["error"]["code"] == "storage_unavailable" {
            break;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.set_up(true);

    let job = c.wait(&running, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(overlap(job["result"]["text"].as_str().unwrap(), &long_text) >= 0.8);
    for (id, phrase) in &ids {
        let job = c.wait(id, Duration::from_secs(300)).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(
            job["attempts"], 1,
            "waiting for storage spends no attempts: {job}"
        );
        assert!(job.get("error").is_none(), "{job}");
        assert!(
            matches(job["result"]["text"].as_str().unwrap(), PHRASES[*phrase]),
            "{job}"
        );
    }
    assert_eq!(c.get("/readyz").await.0, 200);
    let page = server.metrics().await;
    assert!(
        metric(
            &page,
            "stenograph_job_errors_total{kind=\"storage_unavailable\"}"
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{page}"
    );
}
