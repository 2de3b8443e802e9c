//! The zero-set-up default: one process, SQLite and a local directory. Jobs, transcript
//! formats, listing, cancellation, the OpenAI-compatible endpoint, and a SIGTERM that gives a
//! running job back to the queue for the next start.

mod common;

use std::time::Duration;

use common::*;

fn start(dir: &std::path::Path, port: u16, extra: &[(&str, String)]) -> Server {
    let mut env = vec![
        (
            "STENOGRAPH_DATA_DIR",
            dir.join("data").display().to_string(),
        ),
        ("STENOGRAPH_POLL_MS", "100".into()),
    ];
    env.extend(extra.iter().cloned());
    Server::all(&env, port, dir.join("server.log"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_process_with_the_embedded_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let clips = phrase_clips(dir.path());
    let port = free_port();
    let server = start(dir.path(), port, &[]);
    let c = Client::new(&server.url(), None);

    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push((
            c.submit_ok(&clips[i % clips.len()], &[]).await,
            i % clips.len(),
        ));
    }
    let worded = c
        .submit_ok(
            &clips[0],
            &[("word_timestamps", "true"), ("language", "en")],
        )
        .await;
    for (id, phrase) in &ids {
        let job = c.wait(id, Duration::from_secs(300)).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert!(
            matches(job["result"]["text"].as_str().unwrap(), PHRASES[*phrase]),
            "{job}"
        );
        assert_eq!(job["attempts"], 1);
        assert!(job["audio_seconds"].as_f64().unwrap() > 1.0);
        assert!(job["started_at"].as_str().unwrap() <= job["finished_at"].as_str().unwrap());
    }
    let job = c.wait(&worded, Duration::from_secs(300)).await;
    assert!(
        !job["result"]["words"].as_array().unwrap().is_empty(),
        "{job}"
    );
    assert!(job.get("webhook").is_none());
    assert!(dir.path().join("data/stenograph.db").exists());
    // Uploaded audio is deleted once transcribed.
    let audio = dir.path().join("data/audio");
    eventually(Duration::from_secs(10), "uploaded audio left", || async {
        files_under(&audio).is_empty()
    })
    .await;

    // Every transcript format, with its content type.
    let id = &ids[0].0;
    for (format, needle) in [
        ("text", "customer"),
        ("srt", "00:00:00,000 --> "),
        ("vtt", "WEBVTT"),
        ("json", "\"text\""),
        ("verbose_json", "\"segments\""),
        ("tsv", "start\tend\ttext"),
    ] {
        let (status, body) = c
            .get(&format!("/v1/jobs/{id}/transcript?format={format}"))
            .await;
        assert_eq!(status, 200, "{format}: {body}");
        assert!(body.contains(needle), "{format}: {body}");
    }
    let (status, body) = c
        .get_json(&format!("/v1/jobs/{id}/transcript?format=docx"))
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_format"));

    // Listing pages through every job once, newest first.
    let (status, page) = c.get_json("/v1/jobs?limit=4").await;
    assert_eq!(status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 4);
    assert_eq!(page["has_more"], true);
    assert!(
        page["data"][0]["result"].is_null(),
        "lists leave transcripts out"
    );
    let (_, done) = c.get_json("/v1/jobs?status=completed&limit=100").await;
    assert_eq!(done["data"].as_array().unwrap().len(), 11);
    let (_, none) = c.get_json("/v1/jobs?status=failed").await;
    assert!(none["data"].as_array().unwrap().is_empty());
    // Deleting an ended job erases it.
    assert_eq!(c.delete(&format!("/v1/jobs/{id}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1/jobs/{id}")).await.0, 404);
    assert_eq!(c.delete(&format!("/v1/jobs/{id}")).await.0, 404);

    // The OpenAI-compatible endpoint.
    let form = |format: &str| {
        reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(std::fs::read(&clips[3]).unwrap())
                    .file_name("m.wav"),
            )
            .text("model", "whisper-1")
            .text("response_format", format.to_string())
            .text("timestamp_granularities[]", "word")
    };
    let post = |f| {
        c.http
            .post(format!("{}/v1/audio/transcriptions", c.base))
            .multipart(f)
            .send()
    };
    let r = post(form("json")).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        matches(body["text"].as_str().unwrap(), PHRASES[3]),
        "{body}"
    );
    let r = post(form("verbose_json")).await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(!body["words"].as_array().unwrap().is_empty(), "{body}");
    assert_eq!(body["task"], "transcribe");
    // Every field of OpenAI's verbose segment, temperature included.
    for field in [
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
    ] {
        assert!(!body["segments"][0][field].is_null(), "{field}: {body}");
    }
    let r = post(form("srt")).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-subrip");
    let r = post(form("json").text("model", "whisper-9")).await.unwrap();
    assert_eq!(r.status(), 400);
    // Translation needs a multilingual model; the default one is English-only. The refusal
    // comes before the upload is read: a client still sending 20 MB gets it too.
    let big = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![0u8; 20 << 20]).file_name("big.wav"),
        )
        .text("model", "whisper-1");
    for upload in [form("json"), big] {
        let r = c
            .http
            .post(format!("{}/v1/audio/translations", c.base))
            .multipart(upload)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(code(&body), "model_not_multilingual", "{body}");
    }
    // The core's option names, and OpenAI's `prompt` for the same thing.
    for (field, value) in [("initial_prompt", "Acme"), ("prompt", "Acme")] {
        let id = c.submit_ok(&clips[2], &[(field, value)]).await;
        let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
        assert_eq!(job["options"]["initial_prompt"], "Acme", "{job}");
        assert_eq!(job["options"]["task"], "transcribe", "{job}");
        c.wait(&id, Duration::from_secs(120)).await;
        assert_eq!(c.delete(&format!("/v1/jobs/{id}")).await.0, 204);
    }
    // The languages detection chooses from: checked, stored with the job, shown.
    let id = c.submit_ok(&clips[2], &[("languages", "EN, de")]).await;
    let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(
        job["options"]["languages"],
        serde_json::json!(["en", "de"]),
        "{job}"
    );
    c.wait(&id, Duration::from_secs(120)).await;
    assert_eq!(c.delete(&format!("/v1/jobs/{id}")).await.0, 204);
    let (_, all) = c.get_json("/v1/jobs?limit=100").await;
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        10,
        "synchronous requests leave no jobs behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_and_sigterm_give_jobs_back() {
    let dir = tempfile::tempdir().unwrap();
    let (long, text) = long_clip(dir.path(), 4);
    let short = speak(dir.path(), "short", PHRASES[2]);
    let port = free_port();
    let settings = [
        ("STENOGRAPH_WORKER_CONCURRENCY", "1".to_string()),
        ("STENOGRAPH_SHUTDOWN_GRACE_SECONDS", "0.5".to_string()),
    ];
    let mut server = start(dir.path(), port, &settings);
    let c = Client::new(&server.url(), None);

    let running = c.submit_ok(&long, &[]).await;
    let queued = c.submit_ok(&short, &[]).await;
    wait_status(&c, &running, "processing").await;
    // A queued job cancels at once, and its audio goes.
    let (status, job) = c.delete(&format!("/v1/jobs/{queued}")).await;
    assert_eq!(
        (status, job["status"].as_str()),
        (200, Some("canceled")),
        "{job}"
    );
    let (status, body) = c.get_json(&format!("/v1/jobs/{queued}/transcript")).await;
    assert_eq!((status, code(&body)), (409, "job_not_completed"));
    assert_eq!(c.delete("/v1/jobs/no-such-job").await.0, 404);

    // SIGTERM mid-job: the grace period is too short, so the lease is given back.
    let exit = server.terminate(Duration::from_secs(30));
    assert!(exit.success(), "{exit}\n{}", server.log_text());
    assert!(
        server.log_text().contains("lease released"),
        "{}",
        server.log_text()
    );
    drop(server);

    // The next start picks it up again with the attempt not counted, and finishes it.
    let server = start(dir.path(), port, &settings);
    let c = Client::new(&server.url(), None);
    let job = c.wait(&running, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
    assert!(overlap(job["result"]["text"].as_str().unwrap(), &text) >= 0.8);

    // A running job cancels too: the worker stops and drops its result.
    let running = c.submit_ok(&long, &[]).await;
    wait_status(&c, &running, "processing").await;
    let (status, job) = c.delete(&format!("/v1/jobs/{running}")).await;
    assert_eq!((status, job["status"].as_str()), (200, Some("canceled")));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, job) = c.get_json(&format!("/v1/jobs/{running}")).await;
    assert_eq!(job["status"], "canceled", "{job}");
    assert!(job["result"].is_null());
}

async fn wait_status(c: &Client, id: &str, status: &str) {
    for _ in 0..600 {
        let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
        if job["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} never became {status}");
}
