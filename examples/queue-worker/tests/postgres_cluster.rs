//! The production shape: PostgreSQL, S3-compatible storage, one API and two worker
//! processes. 50 jobs from two tenants complete with the right text while a worker is killed
//! mid-job and the API restarts; no job is lost or done twice, and tenants never see each
//! other's jobs.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;

const ALPHA: &str = "key-alpha-1234";
const BETA: &str = "key-beta-5678";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_and_two_workers_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    let clips = phrase_clips(dir.path());
    let (long, long_text) = long_clip(dir.path(), 3);

    let database = postgres_database().await;
    let (endpoint, bucket) = s3_bucket().await;
    let mut env = s3_env(&endpoint);
    env.extend([
        ("STENOGRAPH_DATABASE_URL", database.clone()),
        ("STENOGRAPH_STORAGE_URL", format!("{bucket}/audio")),
        ("STENOGRAPH_API_KEYS", format!("{ALPHA}:alpha,{BETA}:beta")),
        (
            "STENOGRAPH_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("STENOGRAPH_LEASE_SECONDS", "5".into()),
        ("STENOGRAPH_POLL_MS", "100".into()),
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".into()),
        ("STENOGRAPH_MAX_ATTEMPTS", "3".into()),
    ]);
    let api_port = free_port();
    let start_api = |n: usize| Server::api(&env, api_port, dir.path().join(format!("api{n}.log")));
    let start_worker = |n: usize| Server::worker(&env, dir.path().join(format!("worker{n}.log")));
    let mut api = start_api(0);
    let mut workers = vec![start_worker(0), start_worker(1)];
    let alpha = Client::new(&api.url(), Some(ALPHA));
    let beta = Client::new(&api.url(), Some(BETA));

    // A long job; the worker that takes it is killed mid-transcription.
    let long_id = alpha.submit_ok(&long, &[]).await;
    let holder = wait_for_busy_worker(&workers).await;
    workers[holder].kill();
    workers.push(start_worker(2));

    // 50 short jobs from two tenants; the API restarts half-way.
    let mut jobs = Vec::new();
    for i in 0..50 {
        if i == 25 {
            let status = api.terminate(Duration::from_secs(30));
            assert!(status.success(), "API exit: {status}");
            api = start_api(1);
        }
        let (client, tenant) = if i % 2 == 0 {
            (&alpha, "alpha")
        } else {
            (&beta, "beta")
        };
        let id = client.submit_ok(&clips[i % clips.len()], &[]).await;
        jobs.push((id, i % clips.len(), tenant));
    }
    for (id, phrase, tenant) in &jobs {
        let client = if *tenant == "alpha" { &alpha } else { &beta };
        let job = client.wait(id, Duration::from_secs(600)).await;
        assert_eq!(job["status"], "completed", "{job}");
        let text = job["result"]["text"].as_str().unwrap();
        assert!(
            matches(text, PHRASES[*phrase]),
            "job {id}: '{text}' vs '{}'",
            PHRASES[*phrase]
        );
    }
    let job = alpha.wait(&long_id, Duration::from_secs(600)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["attempts"], 2,
        "the killed worker's attempt and the retry: {job}"
    );
    assert!(
        overlap(job["result"]["text"].as_str().unwrap(), &long_text) >= 0.8,
        "{job}"
    );

    // Each job's result was written by exactly one worker.
    let logs: String = (0..3)
        .map(|n| {
            std::fs::read_to_string(dir.path().join(format!("worker{n}.log"))).unwrap_or_default()
        })
        .collect();
    let mut completions: HashMap<&str, usize> = HashMap::new();
    for line in logs.lines().filter(|l| l.contains("job completed")) {
        if let Some(id) = line
            .split("job=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
        {
            *completions
                .entry(
                    jobs.iter()
                        .find(|(j, ..)| j == id)
                        .map_or(long_id.as_str(), |(j, ..)| j.as_str()),
                )
                .or_default() += 1;
        }
    }
    assert_eq!(completions.len(), 51, "every job completed once");
    assert!(completions.values().all(|&n| n == 1), "{completions:?}");

    // Tenant isolation: beta cannot see, read or cancel alpha's jobs, and lists only its own.
    let (alpha_job, ..) = jobs.iter().find(|(_, _, t)| *t == "alpha").unwrap();
    for path in [
        format!("/v1/jobs/{alpha_job}"),
        format!("/v1/jobs/{alpha_job}/transcript"),
    ] {
        let (status, body) = beta.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(code(&body), "not_found");
    }
    assert_eq!(beta.delete(&format!("/v1/jobs/{alpha_job}")).await.0, 404);
    assert_eq!(alpha.get(&format!("/v1/jobs/{alpha_job}")).await.0, 200);
    let mut listed = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = beta.get_json(&format!("/v1/jobs?limit=7{cursor}")).await;
        assert_eq!(status, 200, "{page}");
        listed.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut expected: Vec<_> = jobs
        .iter()
        .filter(|(_, _, t)| *t == "beta")
        .map(|(id, ..)| id.clone())
        .collect();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);

    // The queue is empty and the metrics say so.
    let page = api.metrics().await;
    assert_eq!(metric(&page, "stenograph_queue_depth"), Some(0.0), "{page}");
    assert_eq!(
        metric(&page, "stenograph_jobs{status=\"completed\"}"),
        Some(51.0),
        "{page}"
    );
    // KEDA's scaler query runs on this schema and sees the empty queue.
    let keda = include_str!("../deploy/k8s/keda.yaml");
    let query = keda
        .split("query: \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database)
        .await
        .unwrap();
    let (depth,): (i64,) = sqlx::query_as(query).fetch_one(&mut conn).await.unwrap();
    assert_eq!(depth, 0);
    // Audio was deleted from the bucket once transcribed.
    eventually(
        Duration::from_secs(30),
        "objects left in the bucket",
        || async { bucket_keys(&endpoint, &bucket).await.is_empty() },
    )
    .await;
}

/// Index of the worker whose metrics show a job in flight.
async fn wait_for_busy_worker(workers: &[Server]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for (i, w) in workers.iter().enumerate() {
            if let Ok(r) = reqwest::get(format!("{}/metrics", w.url())).await {
                let page = r.text().await.unwrap_or_default();
                if metric(&page, "stenograph_jobs_in_flight") == Some(1.0) {
                    return i;
                }
            }
        }
        assert!(Instant::now() < deadline, "no worker took the job");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
