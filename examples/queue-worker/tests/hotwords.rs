//! Hotwords through the service: per job (form, JSON and the OpenAI-compatible endpoint with
//! the official SDK) and per tenant (`/v1/tenant/hotwords`, added to each of the key's jobs,
//! apart from other tenants', removed by the tenant's erasure), on SQLite and on PostgreSQL +
//! S3.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const KEY_A: &str = "key-a-0123456789abcdef";
const KEY_B: &str = "key-b-0123456789abcdef";

/// A sales call's sentence full of names Whisper has never seen spelled.
const NAMES: &str = "Good morning, this is Siobhan Kowalczyk from Zyxtera. I wanted to follow up \
    on the Quantivo renewal with Mister Okonkwo before Thursday. Our competitor Brightmesh \
    offered Nakamura Logistics a lower price, but Stenograph still wins on accuracy.";
const TERMS: [&str; 7] = [
    "Siobhan Kowalczyk",
    "Zyxtera",
    "Quantivo",
    "Okonkwo",
    "Brightmesh",
    "Nakamura Logistics",
    "Stenograph",
];

/// How many of [`TERMS`] the text holds, each as its words in a row.
fn spelled(text: &str) -> usize {
    let said = words(text).join(" ");
    TERMS
        .iter()
        .filter(|t| said.contains(&words(t).join(" ")))
        .count()
}

async fn put_json(c: &Client, path: &str, body: &Value) -> (u16, Value) {
    let r = c
        .http
        .put(format!("{}{path}", c.base))
        .bearer_auth(c.key.as_deref().unwrap())
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn tenant_defaults(dir: &std::path::Path, stores: Stores) {
    let mut env = stores.env.clone();
    env.extend([
        ("STENOGRAPH_API_KEYS", format!("{KEY_A}:a,{KEY_B}:b")),
        ("STENOGRAPH_POLL_MS", "100".to_string()),
    ]);
    let server = Server::all(&env, free_port(), dir.join("server.log"));
    let (a, b) = (
        Client::new(&server.url(), Some(KEY_A)),
        Client::new(&server.url(), Some(KEY_B)),
    );
    let clip = speak(dir, "names", NAMES);

    // The list is stored trimmed, each term once; other tenants do not see it.
    let mut given: Vec<String> = TERMS.iter().map(|t| format!(" {t} ")).collect();
    given.push("Zyxtera".into());
    let (status, body) = put_json(&a, "/v1/tenant/hotwords", &json!({ "hotwords": given })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "tenant.hotwords");
    assert_eq!(body["hotwords"], json!(TERMS));
    let (status, body) = a.get_json("/v1/tenant/hotwords").await;
    assert_eq!((status, &body["hotwords"]), (200, &json!(TERMS)), "{body}");
    let (_, body) = b.get_json("/v1/tenant/hotwords").await;
    assert_eq!(body["hotwords"], json!([]), "{body}");
    for bad in [
        json!({ "hotwords": ["Acme, Inc."] }),
        json!({ "hotwords": ["x".repeat(65)] }),
    ] {
        let (status, body) = put_json(&a, "/v1/tenant/hotwords", &bad).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(code(&body), "invalid_hotwords", "{body}");
        assert_eq!(body["error"]["param"], "hotwords", "{body}");
    }
    let (status, body) = put_json(&a, "/v1/tenant/hotwords", &json!({ "terms": [] })).await;
    assert_eq!(status, 400, "{body}");
    let (_, body) = a.get_json("/v1/tenant/hotwords").await;
    assert_eq!(
        body["hotwords"],
        json!(TERMS),
        "a refused list changes nothing"
    );

    // A's job gets its own terms, then the key's; B's gets none.
    let mine = a.submit_ok(&clip, &[("hotwords", "Vexigon")]).await;
    let theirs = b.submit_ok(&clip, &[]).await;
    let mine = a.wait(&mine, Duration::from_secs(300)).await;
    let theirs = b.wait(&theirs, Duration::from_secs(300)).await;
    assert_eq!(mine["status"], "completed", "{mine}");
    let mut expected = vec!["Vexigon"];
    expected.extend(TERMS);
    assert_eq!(mine["options"]["hotwords"], json!(expected), "{mine}");
    assert!(theirs["options"].get("hotwords").is_none(), "{theirs}");
    let text = |job: &Value| job["result"]["text"].as_str().unwrap().to_string();
    assert!(spelled(&text(&mine)) >= 3, "{}", text(&mine));
    assert!(spelled(&text(&theirs)) <= 1, "{}", text(&theirs));
    assert!(!words(&text(&mine)).contains(&"vexigon".to_string()));

    // Refusals name the parameter, for forms and JSON alike; the key's defaults count.
    let many: Vec<String> = (0..95).map(|i| format!("term{i}")).collect();
    let (status, body) = a
        .submit(
            std::fs::read(&clip).unwrap(),
            "call.wav",
            &[("hotwords", &many.join(","))],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "invalid_hotwords", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("7 default hotwords"),
        "{body}"
    );
    let (status, body) = a
        .post_json(
            "/v1/jobs",
            &json!({ "url": "file:///nowhere/call.wav", "hotwords": ["bell\u{7}"] }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "invalid_hotwords", "{body}");

    // Forgetting the tenant forgets its list.
    let (status, _) = a.delete("/v1/tenant/data").await;
    assert_eq!(status, 202);
    eventually(
        Duration::from_secs(60),
        "the erasure never removed the list",
        || async { a.get_json("/v1/tenant/hotwords").await.1["hotwords"] == json!([]) },
    )
    .await;
    let n = stores
        .count("SELECT COUNT(*) FROM tenant_hotwords WHERE tenant = 'a'")
        .await;
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_defaults_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    tenant_defaults(dir.path(), Stores::sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_defaults_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    tenant_defaults(dir.path(), Stores::postgres_s3(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_openai_endpoint_takes_them_from_the_official_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let clip = speak(dir.path(), "names", NAMES);
    let server = Server::local(dir.path());
    let script = r#"
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key="unused")
out = []
for extra in ({}, {"hotwords": sys.argv[3]}):
    with open(sys.argv[2], "rb") as f:
        out.append(client.audio.transcriptions.create(
            model="whisper-1", file=f, extra_body=extra
        ).text)
print(json.dumps(out))
"#;
    let url = format!("{}/v1", server.url());
    let stdout = run_python(vec![
        "-c".into(),
        script.into(),
        url.into(),
        clip.into(),
        TERMS.join(",").into(),
    ])
    .await;
    let texts: Vec<String> = serde_json::from_str(&stdout).unwrap();
    assert!(spelled(&texts[0]) <= 1, "{}", texts[0]);
    assert!(spelled(&texts[1]) >= 3, "{}", texts[1]);
}
