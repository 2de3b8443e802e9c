//! `stenograph-load`: submits a batch of jobs to a running service, waits for all of them,
//! and reports throughput (jobs per hour, audio hours per hour) and latency percentiles.
//!
//! ```sh
//! stenograph-load --url http://127.0.0.1:8080 --key KEY --jobs 40 call1.wav call2.mp3
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;

/// Load generator for stenograph-server.
#[derive(Parser)]
struct Args {
    /// API base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// API key (when the server has keys).
    #[arg(long, env = "STENOGRAPH_LOAD_KEY")]
    key: Option<String>,
    /// Jobs to submit (the files are used in turn).
    #[arg(long, default_value_t = 20)]
    jobs: usize,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
    /// Label printed in the report row.
    #[arg(long, default_value = "run")]
    label: String,
    /// Audio files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let files: Vec<(String, Vec<u8>)> = args
        .files
        .iter()
        .map(|p| {
            std::fs::read(p)
                .map(|b| {
                    (
                        p.file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into_owned(),
                        b,
                    )
                })
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect::<Result<_, _>>()?;
    let http = reqwest::Client::new();
    let auth = |r: reqwest::RequestBuilder| match &args.key {
        Some(k) => r.bearer_auth(k),
        None => r,
    };
    let started = Instant::now();
    let mut ids = Vec::with_capacity(args.jobs);
    for i in 0..args.jobs {
        let (name, bytes) = &files[i % files.len()];
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()),
        );
        let r = auth(http.post(format!("{}/v1/jobs", args.url)).multipart(form))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        if status != 202 {
            return Err(format!("submit failed: {status} {body}"));
        }
        ids.push(body["id"].as_str().unwrap_or_default().to_string());
    }
    let submitted = started.elapsed();
    let deadline = started + Duration::from_secs(args.timeout);
    let mut done: Vec<Value> = Vec::new();
    let mut pending = ids.clone();
    while !pending.is_empty() {
        if Instant::now() > deadline {
            return Err(format!(
                "{} jobs unfinished after {} s",
                pending.len(),
                args.timeout
            ));
        }
        let mut still = Vec::new();
        for id in pending {
            let r = auth(http.get(format!("{}/v1/jobs/{id}", args.url)))
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 200 => {
                    let job: Value = r.json().await.map_err(|e| e.to_string())?;
                    match job["status"].as_str() {
                        Some("completed") => done.push(job),
                        Some("failed" | "canceled") => {
                            return Err(format!("job {id} did not complete: {job}"))
                        }
                        _ => still.push(id),
                    }
                }
                _ => still.push(id),
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let time = |j: &Value, k: &str| {
        chrono::DateTime::parse_from_rfc3339(j[k].as_str().unwrap_or_default())
            .map(|t| t.timestamp_millis() as f64 / 1000.0)
            .unwrap_or(0.0)
    };
    let first = done
        .iter()
        .map(|j| time(j, "created_at"))
        .fold(f64::MAX, f64::min);
    let last = done
        .iter()
        .map(|j| time(j, "finished_at"))
        .fold(0.0, f64::max);
    let span = (last - first).max(1e-3);
    let mut latency: Vec<f64> = done
        .iter()
        .map(|j| time(j, "finished_at") - time(j, "created_at"))
        .collect();
    latency.sort_by(f64::total_cmp);
    let audio: f64 = done
        .iter()
        .filter_map(|j| j["audio_seconds"].as_f64())
        .sum();
    let processing: f64 = done
        .iter()
        .filter_map(|j| j["processing_seconds"].as_f64())
        .sum();
    let pct = |p: f64| latency[((latency.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "| {} | {} | {:.1} | {:.0} | {:.2} | {:.1} | {:.1} | {:.3} |",
        args.label,
        done.len(),
        span,
        done.len() as f64 / span * 3600.0,
        audio / span,
        pct(0.5),
        pct(0.95),
        processing / audio.max(1e-9),
    );
    eprintln!(
        "{} jobs ({:.0} s of audio) submitted in {:.1} s, all done in {wall:.1} s",
        done.len(),
        audio,
        submitted.as_secs_f64()
    );
    Ok(())
}
