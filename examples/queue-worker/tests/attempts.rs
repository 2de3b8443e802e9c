//! A job whose worker dies on every attempt fails as `worker_lost` after the allowed
//! attempts, its audio deleted like that of any ended job, while the workers go on serving
//! other jobs. The API and the workers run as separate processes on one SQLite file.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_that_keeps_killing_workers_fails_after_its_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let (long, _) = long_clip(dir.path(), 4);
    let short = speak(dir.path(), "short", PHRASES[3]);
    let env = [
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_MAX_ATTEMPTS", "2".into()),
        ("STENOGRAPH_LEASE_SECONDS", "2".into()),
        ("STENOGRAPH_POLL_MS", "100".into()),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".into()),
    ];
    let api = Server::api(&env, free_port(), dir.path().join("api.log"));
    let start_worker = |n: usize| Server::worker(&env, dir.path().join(format!("w{n}.log")));
    let c = Client::new(&api.url(), None);
    let id = c.submit_ok(&long, &[]).await;
    for attempt in 1..=2 {
        let mut worker = start_worker(attempt);
        wait_attempt(&c, &id, attempt as i64).await;
        worker.kill();
    }
    let worker = start_worker(3);
    let job = c.wait(&id, Duration::from_secs(60)).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "worker_lost");
    assert_eq!(job["attempts"], 2);
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 times"),
        "{job}"
    );
    let uploads = dir.path().join("data/audio/uploads");
    eventually(
        Duration::from_secs(20),
        "the lost job's audio is still stored",
        || async { files_under(&uploads).is_empty() },
    )
    .await;

    // The same worker keeps serving other jobs.
    let other = c.submit_ok(&short, &[]).await;
    let job = c.wait(&other, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert!(matches(job["result"]["text"].as_str().unwrap(), PHRASES[3]));
    let page = reqwest::get(format!("{}/metrics", worker.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        metric(&page, "stenograph_job_errors_total{kind=\"worker_lost\"}"),
        Some(1.0),
        "{page}"
    );
}

/// Waits until the job is processing in its `attempt`-th claim.
async fn wait_attempt(c: &Client, id: &str, attempt: i64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
        if job["status"] == "processing" && job["attempts"] == attempt {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "attempt {attempt} never started: {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
