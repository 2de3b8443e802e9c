//! Speakers by channel through the job API and the OpenAI-compatible endpoint (the official
//! `openai` SDK's `diarized_json`).

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stereo_call_comes_back_turn_by_turn() {
    let dir = tempfile::tempdir().unwrap();
    let clips = phrase_clips(dir.path());
    let call = stereo_call(dir.path(), &clips[0], &clips[1]);
    let server = Server::local(dir.path());
    let c = Client::new(&server.url(), None);

    let id = c
        .submit_ok(
            &call,
            &[
                ("speakers", "Channels"),
                ("speaker_names", "agent, customer"),
            ],
        )
        .await;
    let job = c.wait(&id, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["options"]["speakers"], "channels", "{job}");
    assert_eq!(
        job["options"]["speaker_names"],
        serde_json::json!(["agent", "customer"])
    );
    assert_eq!(
        job["result"]["speakers"],
        serde_json::json!(["agent", "customer"])
    );
    let segments = job["result"]["segments"].as_array().unwrap();
    let said = |who: &str| {
        segments
            .iter()
            .filter(|s| s["speaker"] == who)
            .map(|s| s["text"].as_str().unwrap())
            .collect::<String>()
    };
    assert!(matches(&said("agent"), PHRASES[0]), "{job}");
    assert!(matches(&said("customer"), PHRASES[1]), "{job}");
    let (status, text) = c
        .get(&format!("/v1/jobs/{id}/transcript?format=text"))
        .await;
    assert_eq!(status, 200);
    let turns: Vec<&str> = text.lines().collect();
    assert_eq!(turns.len(), 2, "{text}");
    assert!(turns[0].starts_with("agent: ") && turns[1].starts_with("customer: "));
    let (_, vtt) = c.get(&format!("/v1/jobs/{id}/transcript?format=vtt")).await;
    assert!(
        vtt.contains("<v agent>") && vtt.contains("<v customer>"),
        "{vtt}"
    );
    let (_, tsv) = c.get(&format!("/v1/jobs/{id}/transcript?format=tsv")).await;
    assert!(tsv.starts_with("start\tend\tspeaker\ttext\n"), "{tsv}");

    // Refusals name their parameter.
    for (field, value, code_) in [
        ("speakers", "everyone", "invalid_speakers"),
        ("speaker_names", "agent,agent", "invalid_speaker_names"),
    ] {
        let (status, body) = c
            .submit(std::fs::read(&call).unwrap(), "call.wav", &[(field, value)])
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(code(&body), code_, "{body}");
        assert_eq!(body["error"]["param"], field, "{body}");
    }

    // OpenAI's diarized_json through the official SDK: speakers by channel, named by
    // known_speaker_names[], or A, B, … without them.
    let script = r#"
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key="unused")
out = []
for names in ([], ["agent", "customer"]):
    with open(sys.argv[2], "rb") as f:
        extra = {"known_speaker_names": names} if names else {}
        d = client.audio.transcriptions.create(
            model="whisper-1", file=f, response_format="diarized_json", **extra
        )
    out.append({"type": type(d).__name__, "segments": [
        {"type": s.type, "id": s.id, "speaker": s.speaker, "text": s.text} for s in d.segments
    ], "text": d.text, "duration": d.duration})
print(json.dumps(out))
"#;
    let url = format!("{}/v1", server.url());
    let stdout = run_python(vec![
        "-c".into(),
        script.into(),
        url.into(),
        call.clone().into(),
    ])
    .await;
    let runs: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for (run, names) in runs
        .as_array()
        .unwrap()
        .iter()
        .zip([["A", "B"], ["agent", "customer"]])
    {
        assert_eq!(run["type"], "TranscriptionDiarized", "{run}");
        let segments = run["segments"].as_array().unwrap();
        assert!(segments
            .iter()
            .all(|s| s["type"] == "transcript.text.segment"));
        let first = segments.first().unwrap();
        let last = segments.last().unwrap();
        assert_eq!(first["speaker"], names[0], "{run}");
        assert_eq!(last["speaker"], names[1], "{run}");
        assert!(first["id"].as_str().unwrap().starts_with("seg_"));
        assert!(run["duration"].as_f64().unwrap() > 2.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn voices_in_a_mono_call_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let a = speak(dir.path(), "a", PHRASES[0]);
    let b = speak_as(dir.path(), "b", PHRASES[1], "en-us+f3");
    let call = dir.path().join("mono.wav");
    let gap = dir.path().join("gap.wav");
    let sox = |args: &[&std::ffi::OsStr]| {
        let status = std::process::Command::new("sox")
            .args(args)
            .status()
            .expect("sox on PATH");
        assert!(status.success());
    };
    // Half a second between turns, at espeak-ng's rate.
    sox(&[
        "-n".as_ref(),
        "-r".as_ref(),
        "22050".as_ref(),
        "-c".as_ref(),
        "1".as_ref(),
        gap.as_os_str(),
        "trim".as_ref(),
        "0".as_ref(),
        "0.5".as_ref(),
    ]);
    let (a, b, g) = (a.as_os_str(), b.as_os_str(), gap.as_os_str());
    sox(&[a, g, b, g, a, g, b, call.as_os_str()]);
    let server = Server::local(dir.path());
    let c = Client::new(&server.url(), None);
    let id = c
        .submit_ok(
            &call,
            &[("speakers", "auto"), ("speaker_names", "agent, customer")],
        )
        .await;
    let job = c.wait(&id, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["options"]["speakers"], "auto", "{job}");
    assert_eq!(
        job["result"]["speakers"],
        serde_json::json!(["agent", "customer"]),
        "{job}"
    );
    let (status, body) = c
        .submit(
            std::fs::read(&call).unwrap(),
            "call.wav",
            &[("speakers", "40")],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "invalid_speakers", "{body}");
}
