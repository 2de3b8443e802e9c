//! Sound events through the job API: noise gives a completed job with no text, `sound_events`
//! is kept with the job's options, the JSON form takes it too, and a bad value is refused
//! naming its parameter.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn noise_gives_no_text_and_the_mode_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let clips = phrase_clips(dir.path());
    let noise = dir.path().join("noise.wav");
    let status = Command::new("sox")
        .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
        .arg(&noise)
        .args(["synth", "8", "brownnoise", "vol", "0.3"])
        .status()
        .expect("sox on PATH");
    assert!(status.success());
    let server = Server::local(dir.path());
    let c = Client::new(&server.url(), None);

    let quiet = c.submit_ok(&noise, &[]).await;
    let job = c.wait(&quiet, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["text"], "", "{job}");
    assert!(job["options"].get("sound_events").is_none(), "{job}");

    let kept = c.submit_ok(&clips[0], &[("sound_events", "Keep")]).await;
    let job = c.wait(&kept, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["options"]["sound_events"], "keep", "{job}");
    assert!(
        matches(job["result"]["text"].as_str().unwrap(), PHRASES[0]),
        "{job}"
    );

    let (status, body) = c
        .post_json(
            "/v1/jobs",
            &serde_json::json!({"url": "file:///nowhere.wav", "sound_events": "mute"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "invalid_sound_events", "{body}");
    assert_eq!(body["error"]["param"], "sound_events", "{body}");
    let (status, body) = c
        .submit(
            std::fs::read(&clips[0]).unwrap(),
            "a.wav",
            &[("sound_events", "mute")],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "invalid_sound_events", "{body}");
    assert_eq!(body["error"]["param"], "sound_events", "{body}");
}
