//! Soak: many transcriptions of short clips in one process on one Transcriber, printing the
//! resident set size every few calls. Passes when the RSS at the end is within a tolerance of
//! the RSS after the warm-up calls, and every transcript matches the first one of its clip.
//!
//!   soak [--calls N] [--every K] [--warmup W] [--tolerance PCT] [--threads T] [--model NAME] CLIP...
//!
//! `--threads` sets whisper.cpp's threads per call (default: the core's choice).
//!
//! Output: one `rust CALLS RSS_MIB` line per K calls, then a verdict line.

use std::process::ExitCode;

use stenograph::audio::Audio;
use stenograph::transcribe::{TranscribeOptions, Transcriber};

struct Args {
    calls: usize,
    every: usize,
    warmup: usize,
    tolerance: f64,
    threads: usize,
    model: String,
    clips: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        calls: 1000,
        every: 50,
        warmup: 50,
        tolerance: 5.0,
        threads: 0,
        model: "tiny.en".into(),
        clips: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--calls" => a.calls = value("--calls")?.parse().map_err(|e| format!("{e}"))?,
            "--every" => a.every = value("--every")?.parse().map_err(|e| format!("{e}"))?,
            "--warmup" => a.warmup = value("--warmup")?.parse().map_err(|e| format!("{e}"))?,
            "--tolerance" => {
                a.tolerance = value("--tolerance")?.parse().map_err(|e| format!("{e}"))?
            }
            "--threads" => a.threads = value("--threads")?.parse().map_err(|e| format!("{e}"))?,
            "--model" => a.model = value("--model")?,
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => a.clips.push(arg),
        }
    }
    if a.clips.is_empty() || a.every == 0 || a.warmup == 0 || a.warmup > a.calls {
        return Err("usage: soak [--calls N] [--every K] [--warmup W] [--tolerance PCT] [--threads T] [--model NAME] CLIP...".into());
    }
    Ok(a)
}

/// Resident set size of this process in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Transcriber::builder().model(args.model.as_str());
    if args.threads > 0 {
        builder = builder.threads_per_call(args.threads);
    }
    let t = match builder.build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clips: Vec<Vec<u8>> = match args.clips.iter().map(std::fs::read).collect() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut opts = TranscribeOptions::default();
    opts.word_timestamps = true;
    let mut expected: Vec<Option<String>> = vec![None; clips.len()];
    let mut baseline = f64::NAN;
    for call in 1..=args.calls {
        let n = (call - 1) % clips.len();
        // Bytes in, decoded each call: the whole path, container parsing included.
        let text = Audio::from_bytes(clips[n].clone()).and_then(|a| t.transcribe(&a, &opts));
        let text = match text {
            Ok(tr) => tr.text,
            Err(e) => {
                eprintln!("soak: call {call}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match &expected[n] {
            None if text.trim().is_empty() => {
                eprintln!("soak: clip {} gave no text", args.clips[n]);
                return ExitCode::FAILURE;
            }
            None => expected[n] = Some(text),
            Some(first) if *first != text => {
                eprintln!("soak: call {call}: {text:?} differs from {first:?}");
                return ExitCode::FAILURE;
            }
            Some(_) => {}
        }
        if call == args.warmup {
            baseline = rss_mib();
        }
        if call % args.every == 0 || call == args.calls {
            println!("rust {call} {:.1}", rss_mib());
        }
    }
    let end = rss_mib();
    let growth = (end - baseline) / baseline * 100.0;
    let ok = growth <= args.tolerance;
    println!(
        "rust: {} calls, RSS {baseline:.1} MiB after {} calls, {end:.1} MiB at the end ({growth:+.2}%, limit {:+.1}%): {}",
        args.calls,
        args.warmup,
        args.tolerance,
        if ok { "ok" } else { "FAILED" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
