//! Refusals: bad uploads, bad options, keys, unknown ids, slow uploads and path tricks each
//! get the right status and an OpenAI-shaped error, and are counted in the metrics.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const KEY: &str = "key-only-tenant-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "ok", PHRASES[0]);
    let wav = std::fs::read(&clip).unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let inbox_url = format!("file://{}", inbox.display());
    let env = [
        ("STENOGRAPH_DATA_DIR", data.display().to_string()),
        ("STENOGRAPH_API_KEYS", format!("{KEY}:solo")),
        ("STENOGRAPH_URL_PREFIXES", format!("solo={inbox_url}/")),
        ("STENOGRAPH_MAX_UPLOAD_MB", "1".into()),
        ("STENOGRAPH_MAX_AUDIO_SECONDS", "60".into()),
        ("STENOGRAPH_UPLOAD_TIMEOUT_SECONDS", "2".into()),
    ];
    let server = Server::all(&env, port, dir.path().join("server.log"));
    let c = Client::new(&server.url(), Some(KEY));

    // Keys.
    for key in [None, Some("wrong-key-123")] {
        let anon = Client::new(&server.url(), key);
        let (status, body) = anon.get_json("/v1/jobs").await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["type"], "authentication_error");
        let (status, _) = anon.submit(wav.clone(), "a.wav", &[]).await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        Client::new(&server.url(), None).get("/healthz").await.0,
        200,
        "health needs no key"
    );

    // Uploads that are not usable audio.
    let long_header = {
        // A valid WAV header declaring two hours of audio, with no samples behind it.
        let mut h = wav[..44].to_vec();
        let bytes = 2 * 3600 * 16_000 * 2u32;
        h[4..8].copy_from_slice(&(bytes + 36).to_le_bytes());
        h[40..44].copy_from_slice(&bytes.to_le_bytes());
        h
    };
    // (upload, form fields, expected status, expected code)
    type Case<'a> = (Vec<u8>, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: Vec<Case> = vec![
        (Vec::new(), &[], 400, "empty_file"),
        (
            b"hello, this is plainly text and not audio at all".to_vec(),
            &[],
            400,
            "invalid_audio",
        ),
        (wav[..30].to_vec(), &[], 400, "invalid_audio"),
        (long_header, &[], 400, "audio_too_long"),
        (vec![0u8; 2 * 1024 * 1024], &[], 413, "file_too_large"),
        (
            wav.clone(),
            &[("language", "english")],
            400,
            "invalid_language",
        ),
        (
            wav.clone(),
            &[("language", "de")],
            400,
            "unsupported_language",
        ),
        (wav.clone(), &[("language", "xx")], 400, "invalid_language"),
        (
            wav.clone(),
            &[("languages", "en,xx")],
            400,
            "invalid_language",
        ),
        (
            wav.clone(),
            &[("languages", "de,fr")],
            400,
            "unsupported_language",
        ),
        (
            wav.clone(),
            &[("task", "translate")],
            400,
            "unsupported_task",
        ),
        (wav.clone(), &[("task", "summarise")], 400, "invalid_task"),
        (
            wav.clone(),
            &[("word_timestamps", "maybe")],
            400,
            "invalid_value",
        ),
        (
            wav.clone(),
            &[("webhook_url", "ftp://example.com/x")],
            400,
            "invalid_webhook_url",
        ),
        (
            wav.clone(),
            &[("webhook_url", "http://example.com/x")],
            400,
            "webhooks_disabled",
        ),
    ];
    for (bytes, fields, status, expected) in &cases {
        let (got, body) = c.submit(bytes.clone(), "x.wav", fields).await;
        assert_eq!(
            (got, code(&body)),
            (*status, *expected),
            "{fields:?}: {body}"
        );
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }

    // Not a form, a form without a file, JSON naming objects outside the tenant's prefix.
    let raw = |ct: &'static str, body: Vec<u8>| {
        c.http
            .post(format!("{}/v1/jobs", c.base))
            .bearer_auth(KEY)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = raw("audio/wav", wav.clone()).await.unwrap();
    assert_eq!(r.status(), 415);
    let form = reqwest::multipart::Form::new().text("language", "en");
    let r = c
        .http
        .post(format!("{}/v1/jobs", c.base))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "missing_file", "{body}");
    let storage = format!(
        "file://{}",
        std::path::absolute(data.join("audio")).unwrap().display()
    );
    for (url, expected) in [
        ("file:///etc/passwd".to_string(), "invalid_url"),
        (format!("{storage}/../stenograph.db"), "invalid_url"),
        (format!("{storage}/%2e%2e/stenograph.db"), "invalid_url"),
        (format!("{storage}/uploads/solo/x"), "invalid_url"),
        (format!("{inbox_url}/../data/stenograph.db"), "invalid_url"),
        (format!("{inbox_url}/missing.wav"), "source_not_found"),
        ("s3://elsewhere/call.wav".to_string(), "invalid_url"),
    ] {
        let r = raw(
            "application/json",
            serde_json::to_vec(&serde_json::json!({ "url": url })).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400, "{url}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(code(&body), expected, "{url}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains(&dir.path().display().to_string()),
            "an error shows a server path: {message}"
        );
    }
    let r = raw("application/json", b"{\"url\": 5}".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A JSON job naming an object under the tenant's prefix works.
    std::fs::copy(&clip, inbox.join("call.wav")).unwrap();
    let r = raw(
        "application/json",
        serde_json::to_vec(&serde_json::json!({ "url": format!("{inbox_url}/call.wav") })).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = c.wait(&id, Duration::from_secs(300)).await;
    assert!(
        matches(job["result"]["text"].as_str().unwrap(), PHRASES[0]),
        "{job}"
    );
    assert!(
        inbox.join("call.wav").exists(),
        "audio the service did not store is not deleted"
    );

    // A file name with directories is only a label; the upload is stored under its job id.
    let id = c.submit_ok_named(&wav, "../../../../tmp/evil.wav").await;
    let (_, job) = c.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(job["filename"], "evil.wav");

    // Unknown ids, bad queries, unknown routes.
    for (path, status, expected) in [
        (
            "/v1/jobs/00000000-0000-0000-0000-000000000000",
            404,
            "not_found",
        ),
        ("/v1/jobs?limit=0", 400, "invalid_limit"),
        ("/v1/jobs?status=done", 400, "invalid_status"),
        ("/v2/nothing", 404, "not_found"),
    ] {
        let (got, body) = c.get_json(path).await;
        assert_eq!((got, code(&body)), (status, expected), "{path}: {body}");
    }

    // A slow upload is cut off with 408 after the time limit.
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /v1/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: multipart/form-data; boundary=XX\r\ncontent-length: 100000\r\n\r\n--XX\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = vec![0u8; 512];
    let n = s.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // Every refusal is counted by code, on the operations port only.
    assert_eq!(c.get("/metrics").await.0, 404);
    let page = server.metrics().await;
    assert_eq!(
        metric(
            &page,
            "stenograph_http_errors_total{code=\"invalid_api_key\"}"
        ),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        metric(
            &page,
            "stenograph_http_errors_total{code=\"missing_api_key\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        metric(
            &page,
            "stenograph_http_errors_total{code=\"file_too_large\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &page,
            "stenograph_http_errors_total{code=\"upload_timeout\"}"
        ),
        Some(1.0)
    );
    assert!(server.log_text().contains("request refused"));
}
