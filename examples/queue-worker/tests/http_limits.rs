//! Requests that try to hold the API or fill its memory: headers and JSON bodies sent a byte
//! at a time, idle connections, oversized JSON bodies (one at a time and six at once, with the
//! API's memory measured), forms with thousands of parts; and the framework's own refusals
//! (a malformed query, a wrong method, a non-form upload) in OpenAI's error shape.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const KEY: &str = "key-limits-1234";

fn api(dir: &std::path::Path) -> Server {
    let env = [
        (
            "STENOGRAPH_DATA_DIR",
            dir.join("data").display().to_string(),
        ),
        ("STENOGRAPH_API_KEYS", format!("{KEY}:t")),
        ("STENOGRAPH_REQUEST_TIMEOUT_SECONDS", "2".into()),
        ("STENOGRAPH_MAX_UPLOAD_MB", "100".into()),
    ];
    Server::api(&env, free_port(), dir.join("api.log"))
}

/// The status line of a raw answer.
fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_requests_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let port = server.port;
    let (answer, took) = tokio::task::spawn_blocking(move || {
        // Headers, one line a second: the connection is closed when the 2 s limit runs out.
        let lines: Vec<&[u8]> = vec![b"x-a: 1\r\n"; 30];
        raw_exchange(
            port,
            &format!("GET /v1/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n"),
            &lines,
            Duration::from_secs(1),
        )
    })
    .await
    .unwrap();
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        took < Duration::from_secs(6),
        "headers held the connection {took:?}"
    );

    // An idle connection is closed after the same limit.
    let (answer, took) =
        tokio::task::spawn_blocking(move || raw_exchange(port, "", &[], Duration::from_secs(1)))
            .await
            .unwrap();
    assert!(answer.is_empty(), "{answer}");
    assert!(
        took < Duration::from_secs(6),
        "idle connection held {took:?}"
    );

    // A JSON body, one byte a second: 408 in OpenAI's shape.
    let (answer, took) = tokio::task::spawn_blocking(move || {
        let bytes: Vec<&[u8]> = vec![b" "; 30];
        raw_exchange(
            port,
            &format!(
                "POST /v1/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\
                 content-type: application/json\r\ncontent-length: 200\r\n\r\n{{"
            ),
            &bytes,
            Duration::from_secs(1),
        )
    })
    .await
    .unwrap();
    assert!(status_line(&answer).contains(" 408 "), "{answer}");
    assert!(took < Duration::from_secs(6), "JSON body held {took:?}");
    let page = server.metrics().await;
    assert_eq!(
        metric(
            &page,
            "stenograph_http_errors_total{code=\"request_timeout\"}"
        ),
        Some(1.0),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn json_bodies_are_small_and_never_buffered_past_their_cap() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let c = Client::new(&server.url(), Some(KEY));

    // Declared too large: refused before any of it is read.
    let port = server.port;
    let (answer, _) = tokio::task::spawn_blocking(move || {
        raw_exchange(
            port,
            &format!(
                "POST /v1/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\
                 content-type: application/json\r\ncontent-length: 95000000\r\n\r\n{{\"url\": \""
            ),
            &[],
            Duration::from_millis(100),
        )
    })
    .await
    .unwrap();
    assert!(status_line(&answer).contains(" 413 "), "{answer}");
    assert!(answer.contains("request_too_large"), "{answer}");

    // Over the cap without a declared length (chunked): refused once the cap is passed.
    let big = format!("{{\"url\": \"s3://b/{}\"}}", "x".repeat(40 * 1024));
    let r = c
        .http
        .post(format!("{}/v1/jobs", c.base))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(vec![
            Ok::<_, std::io::Error>(big.into_bytes()),
        ])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "request_too_large");

    // Six 40 MB bodies at once: the API's memory stays where it was.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_bytes();
    let sends = (0..6).map(|_| {
        let chunk = vec![b' '; 1024 * 1024];
        let body = futures::stream::iter(
            std::iter::once(b"{\"url\": \"".to_vec())
                .chain(std::iter::repeat_n(chunk, 40))
                .map(Ok::<_, std::io::Error>),
        );
        c.http
            .post(format!("{}/v1/jobs", c.base))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(body))
            .send()
    });
    // The API answers 413 and closes, possibly while the client is still sending.
    for r in futures::future::join_all(sends).await.into_iter().flatten() {
        assert_eq!(r.status(), 413);
    }
    let after = server.rss_bytes();
    assert!(
        after < before + 16 * 1024 * 1024,
        "RSS grew from {} MiB to {} MiB",
        before >> 20,
        after >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_refusal_has_openais_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let c = Client::new(&server.url(), Some(KEY));

    let (status, body) = c.get_json("/v1/jobs?limit=abc").await;
    assert_eq!((status, code(&body)), (400, "invalid_limit"), "{body}");
    assert_eq!(body["error"]["param"], "limit");
    let (status, body) = c.get_json("/v1/jobs?limit=2.5").await;
    assert_eq!((status, code(&body)), (400, "invalid_limit"), "{body}");
    let (status, body) = c.get_json("/v1/jobs/x/transcript?format=a&format=b").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");

    let post = |path: &str, ct: &str, body: &'static [u8]| {
        c.http
            .post(format!("{}{path}", c.base))
            .bearer_auth(KEY)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    for (path, ct, status, expected) in [
        (
            "/v1/audio/transcriptions",
            "application/json",
            415,
            "unsupported_media_type",
        ),
        (
            "/v1/audio/transcriptions",
            "multipart/form-data",
            400,
            "invalid_multipart",
        ),
        ("/v1/jobs", "multipart/form-data", 400, "invalid_multipart"),
        ("/v1/jobs", "text/plain", 415, "unsupported_media_type"),
        ("/v1/jobs", "application/json", 400, "invalid_json"),
    ] {
        let r = post(path, ct, b"{not json").await.unwrap();
        assert_eq!(r.status(), status, "{path} {ct}");
        // Its body may be unread: the connection is not offered for another request.
        assert_eq!(r.headers()["connection"], "close", "{path} {ct}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(code(&body), expected, "{path} {ct}: {body}");
    }
    let r = c
        .http
        .put(format!("{}/v1/jobs", c.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "method_not_allowed", "{body}");

    // The Authorization scheme is case-insensitive.
    for scheme in ["BEARER", "bearer", "Bearer"] {
        let r = c
            .http
            .get(format!("{}/v1/jobs", c.base))
            .header("authorization", format!("{scheme} {KEY}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }

    // A form with thousands of parts is refused.
    let mut form = reqwest::multipart::Form::new();
    for i in 0..2000 {
        form = form.text(format!("f{i}"), "x");
    }
    let r = c
        .http
        .post(format!("{}/v1/jobs", c.base))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "too_many_fields", "{body}");
}
