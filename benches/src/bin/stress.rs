//! Concurrency stress: THREADS threads share one Transcriber for SECONDS, each running a random
//! mix of good clips (the text must equal the clip's sequential transcript), bad inputs (the
//! right typed error), silence (empty text), bad options, and calls cancelled from another
//! thread after a random delay (cancelled, or finished with the right text). Fails on any wrong
//! result; a watchdog fails the run when no call completes for a minute (a deadlock).
//!
//!   stress [--threads N] [--seconds S] [--model NAME] CLIP...
//!
//! Prints a line per kind of call and a verdict line.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stenograph::audio::Audio;
use stenograph::transcribe::{CancelToken, TranscribeOptions, Transcriber};
use stenograph::Error;

/// The kinds of call in the mix.
const KINDS: [&str; 7] = [
    "clip",
    "empty",
    "not_audio",
    "header_only",
    "silence",
    "bad_language",
    "cancelled",
];

struct Shared<'a> {
    t: &'a Transcriber,
    clips: &'a [Vec<u8>],
    expected: &'a [String],
    stop: AtomicBool,
    /// Milliseconds since the start at which a call last completed.
    progress: AtomicU64,
    start: Instant,
    counts: Mutex<BTreeMap<String, usize>>,
    failures: Mutex<Vec<String>>,
    calls: AtomicUsize,
    /// Workers still running.
    active: AtomicUsize,
}

/// A small deterministic generator per thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Runs one call of `kind`; `Err` describes a wrong result.
fn call(s: &Shared, kind: &str, rng: &mut Rng) -> Result<String, String> {
    let opts = TranscribeOptions::default();
    let n = rng.below(s.clips.len() as u64) as usize;
    let decode_and_transcribe = |bytes: Vec<u8>, opts: &TranscribeOptions| {
        Audio::from_bytes(bytes).and_then(|a| s.t.transcribe(&a, opts))
    };
    let want_error = |r: stenograph::Result<_>, code: &str| match r {
        Err(e) if e.code() == code => Ok(code.to_string()),
        Err(e) => Err(format!("{kind}: expected {code}, got {} ({e})", e.code())),
        Ok(_) => Err(format!("{kind}: expected {code}, got a transcript")),
    };
    match kind {
        "clip" => match decode_and_transcribe(s.clips[n].clone(), &opts) {
            Ok(tr) if tr.text == s.expected[n] => Ok("ok".into()),
            Ok(tr) => Err(format!("clip {n}: {:?} != {:?}", tr.text, s.expected[n])),
            Err(e) => Err(format!("clip {n}: {e}")),
        },
        "empty" => want_error(decode_and_transcribe(Vec::new(), &opts), "empty_input"),
        "not_audio" => want_error(
            decode_and_transcribe(b"This is a text file, not a recording.".to_vec(), &opts),
            "unknown_format",
        ),
        "header_only" => match decode_and_transcribe(s.clips[n][..44].to_vec(), &opts) {
            Err(e) if e.is_input_error() => Ok(e.code().to_string()),
            Err(e) => Err(format!("header_only: not an input error: {e}")),
            Ok(_) => Err("header_only: expected an error, got a transcript".into()),
        },
        "silence" => match s.t.transcribe_samples(&vec![0.0; 32_000], &opts) {
            Ok(tr) if tr.text.is_empty() => Ok("ok".into()),
            Ok(tr) => Err(format!("silence gave {:?}", tr.text)),
            Err(e) => Err(format!("silence: {e}")),
        },
        "bad_language" => {
            let mut opts = TranscribeOptions::default();
            opts.language = Some("xx".into());
            want_error(
                decode_and_transcribe(s.clips[n].clone(), &opts),
                "invalid_argument",
            )
        }
        _ => {
            let token = CancelToken::new();
            let mut opts = TranscribeOptions::default();
            opts.cancel = Some(token.clone());
            let delay = Duration::from_millis(rng.below(400));
            let canceller = std::thread::spawn(move || {
                std::thread::sleep(delay);
                token.cancel();
            });
            let r = decode_and_transcribe(s.clips[n].clone(), &opts);
            let _ = canceller.join();
            match r {
                Err(Error::Cancelled) => Ok("cancelled".into()),
                Ok(tr) if tr.text == s.expected[n] => Ok("finished first".into()),
                Ok(tr) => Err(format!(
                    "cancelled clip {n}: {:?} != {:?}",
                    tr.text, s.expected[n]
                )),
                Err(e) => Err(format!("cancelled clip {n}: {e}")),
            }
        }
    }
}

fn worker(s: &Shared, seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    while !s.stop.load(Ordering::SeqCst) {
        // Good clips are half of the mix.
        let pick = rng.below(2 * KINDS.len() as u64 - 2) as usize;
        let kind = KINDS.get(pick).copied().unwrap_or("clip");
        let outcome = call(s, kind, &mut rng);
        s.calls.fetch_add(1, Ordering::SeqCst);
        s.progress
            .store(s.start.elapsed().as_millis() as u64, Ordering::SeqCst);
        match outcome {
            Ok(how) => {
                *s.counts
                    .lock()
                    .unwrap()
                    .entry(format!("{kind}: {how}"))
                    .or_default() += 1;
            }
            Err(e) => s.failures.lock().unwrap().push(e),
        }
    }
    s.active.fetch_sub(1, Ordering::SeqCst);
}

fn main() -> ExitCode {
    let mut threads = 8usize;
    let mut seconds = 600u64;
    let mut model = "tiny.en".to_string();
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--model" => model = args.next().unwrap_or_default(),
            _ => paths.push(a),
        }
    }
    if paths.is_empty() || threads == 0 || seconds == 0 {
        eprintln!("usage: stress [--threads N] [--seconds S] [--model NAME] CLIP...");
        return ExitCode::from(2);
    }
    let t = match Transcriber::builder().model(model.as_str()).build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("stress: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut clips = Vec::new();
    let mut expected = Vec::new();
    for p in &paths {
        let bytes = match std::fs::read(p) {
            Ok(b) if b.len() > 44 => b,
            Ok(_) => {
                eprintln!("stress: {p} is too short to be a clip");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("stress: {p}: {e}");
                return ExitCode::FAILURE;
            }
        };
        // The reference: one call at a time, before any concurrency.
        let text = Audio::from_bytes(bytes.clone())
            .and_then(|a| t.transcribe(&a, &TranscribeOptions::default()));
        match text {
            Ok(tr) if !tr.text.trim().is_empty() => expected.push(tr.text),
            other => {
                eprintln!("stress: {p} gave no reference text: {other:?}");
                return ExitCode::FAILURE;
            }
        }
        clips.push(bytes);
    }
    let shared = Shared {
        t: &t,
        clips: &clips,
        expected: &expected,
        stop: AtomicBool::new(false),
        progress: AtomicU64::new(0),
        start: Instant::now(),
        counts: Mutex::new(BTreeMap::new()),
        failures: Mutex::new(Vec::new()),
        calls: AtomicUsize::new(0),
        active: AtomicUsize::new(threads),
    };
    let s = &shared;
    std::thread::scope(|scope| {
        for i in 0..threads {
            scope.spawn(move || worker(s, i as u64 + 1));
        }
        // Watchdog: the run ends after `seconds`, when every worker has finished its last call;
        // a minute without a completed call is a hang.
        while s.active.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_millis(200));
            let now = s.start.elapsed();
            let idle = now.as_millis() as u64 - s.progress.load(Ordering::SeqCst);
            if idle > 60_000 {
                eprintln!("stress: no call completed for {} s: deadlock", idle / 1000);
                std::process::exit(3);
            }
            if now.as_secs() >= seconds {
                s.stop.store(true, Ordering::SeqCst);
            }
        }
    });
    t.wait_background();
    let elapsed = shared.start.elapsed().as_secs_f64();
    let calls = shared.calls.load(Ordering::SeqCst);
    for (what, n) in shared.counts.lock().unwrap().iter() {
        println!("{what:<32} {n:>6}");
    }
    let failures = shared.failures.into_inner().unwrap();
    for f in failures.iter().take(20) {
        println!("FAILED {f}");
    }
    println!(
        "rust: {threads} threads, {calls} calls in {elapsed:.0} s ({:.1} calls/s), {} wrong: {}",
        calls as f64 / elapsed,
        failures.len(),
        if failures.is_empty() { "ok" } else { "FAILED" }
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
