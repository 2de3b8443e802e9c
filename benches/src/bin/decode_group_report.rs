//! Decoder steps of many windows as one batch (`whisper_decode_group_run`) against the same
//! windows decoded one by one (`whisper_decode_with_state`): time per decoded token and memory
//! per window, for 1 to 16 windows per step. Prints a Markdown table.
//!
//! Usage: `cargo run --release -p stenograph-benches --bin decode_group_report -- [MODEL|FILE]
//! [STEPS] [THREADS] [WINDOWS]` (default tiny.en, 64 steps per window, 1 thread, rows for 1 to
//! 16 windows; WINDOWS gives one row, batched only, for profiling). Each window is a full
//! 30 s encoder window of speech; every window runs exactly STEPS steps (the greedy token fed
//! back, end of text or not), so both ways do the same work.

use std::ffi::CString;
use std::time::Instant;

use stenograph::model::{FetchOptions, Model};
use stenograph::testing::greedy_token;
use stenograph_benches::speech_set;
use whisper_rs::whisper_rs_sys as sys;

/// A memory line of /proc/self/status in MB (Linux): `VmRSS:` now, `VmHWM:` at peak.
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The last token's logits on `state` after a decode of `n_tokens` tokens.
unsafe fn next_token(state: *mut sys::whisper_state, n_tokens: usize, n_vocab: usize) -> i32 {
    let all = sys::whisper_get_logits_from_state(state);
    greedy_token(std::slice::from_raw_parts(
        all.add((n_tokens - 1) * n_vocab),
        n_vocab,
    ))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let model = args.next().unwrap_or_else(|| "tiny.en".into());
    let steps: usize = args.next().map_or(64, |s| s.parse().expect("STEPS"));
    let threads: i32 = args.next().map_or(1, |s| s.parse().expect("THREADS"));
    let only: Option<usize> = args.next().map(|s| s.parse().expect("WINDOWS"));
    let dir = std::env::temp_dir().join("stenograph-decode-group-report");
    let set = speech_set(&dir);
    // 30 s windows: the clips of the speech set laid end to end, cycled.
    let all: Vec<f32> = set.iter().flat_map(|(s, _)| s.iter().copied()).collect();
    let window = |k: usize| -> Vec<f32> {
        let start = (k * 7 * 16_000) % all.len();
        all.iter()
            .cycle()
            .skip(start)
            .take(30 * 16_000)
            .copied()
            .collect()
    };

    // A ggml file, or a registry name fetched into the cache.
    let path = if std::path::Path::new(&model).is_file() {
        std::path::PathBuf::from(&model)
    } else {
        Model::fetch_file(&model, &FetchOptions::default()).expect("model")
    };
    let path = CString::new(path.to_str().unwrap()).unwrap();
    let sizes: Vec<usize> = only.map_or(vec![1, 2, 4, 8, 16], |n| vec![n]);
    let most = *sizes.last().unwrap();
    // SAFETY: plain whisper.cpp C calls; every pointer is checked, arrays outlive the calls.
    unsafe {
        let mut params = sys::whisper_context_default_params();
        params.use_gpu = false;
        params.flash_attn = false;
        let ctx = sys::whisper_init_from_file_with_params_no_state(path.as_ptr(), params);
        assert!(!ctx.is_null(), "model loads");
        let n_vocab = sys::whisper_n_vocab(ctx) as usize;
        let mut prompt = vec![sys::whisper_token_sot(ctx)];
        if sys::whisper_is_multilingual(ctx) != 0 {
            prompt.push(sys::whisper_token_lang(ctx, 0));
            prompt.push(sys::whisper_token_transcribe(ctx));
        }
        prompt.push(sys::whisper_token_not(ctx));

        let before = status_mb("VmRSS:");
        let states: Vec<*mut sys::whisper_state> = (0..most)
            .map(|k| {
                let s = sys::whisper_init_state(ctx);
                assert!(!s.is_null());
                let w = window(k);
                assert_eq!(
                    sys::whisper_pcm_to_mel_with_state(ctx, s, w.as_ptr(), w.len() as i32, 1),
                    0
                );
                assert_eq!(sys::whisper_encode_with_state(ctx, s, 0, 1), 0);
                s
            })
            .collect();
        let per_state = (status_mb("VmRSS:") - before) / most as f64;

        println!(
            "{model}, {steps} decoder steps per 30 s window, {threads} thread(s); state memory \
             {per_state:.0} MB of RSS each\n"
        );
        println!("| windows per step | one by one ms/token | batched ms/token | speed-up | group RSS MB |");
        println!("|---:|---:|---:|---:|---:|");

        // One window's steps on its own; returns the seconds taken.
        let alone = |s: *mut sys::whisper_state| -> f64 {
            let t = Instant::now();
            let mut input = prompt.clone();
            let mut n_past = 0;
            for _ in 0..steps {
                let rc = sys::whisper_decode_with_state(
                    ctx,
                    s,
                    input.as_ptr(),
                    input.len() as i32,
                    n_past,
                    threads,
                );
                assert_eq!(rc, 0);
                let next = next_token(s, input.len(), n_vocab);
                n_past += input.len() as i32;
                input = vec![next];
            }
            t.elapsed().as_secs_f64()
        };
        alone(states[0]);

        for n in sizes {
            let one_by_one: f64 = if only.is_some() {
                f64::NAN
            } else {
                states[..n].iter().map(|&s| alone(s)).sum()
            };
            let before = status_mb("VmRSS:");
            let group = sys::whisper_decode_group_init(ctx, n as i32);
            assert!(!group.is_null());
            let t = Instant::now();
            let mut inputs: Vec<Vec<i32>> = vec![prompt.clone(); n];
            let mut n_past = vec![0i32; n];
            for _ in 0..steps {
                let mut batch: Vec<*mut sys::whisper_state> = states[..n].to_vec();
                let tokens: Vec<*const i32> = inputs.iter().map(|i| i.as_ptr()).collect();
                let counts: Vec<i32> = inputs.iter().map(|i| i.len() as i32).collect();
                let rc = sys::whisper_decode_group_run(
                    group,
                    batch.as_mut_ptr(),
                    tokens.as_ptr(),
                    counts.as_ptr(),
                    n_past.as_ptr(),
                    n as i32,
                    threads,
                );
                assert_eq!(rc, 0);
                for k in 0..n {
                    let next = next_token(states[k], inputs[k].len(), n_vocab);
                    n_past[k] += inputs[k].len() as i32;
                    inputs[k] = vec![next];
                }
            }
            let batched = t.elapsed().as_secs_f64();
            let group_mb = status_mb("VmRSS:") - before;
            sys::whisper_decode_group_free(group);
            let tokens = (n * steps) as f64;
            println!(
                "| {n} | {:.2} | {:.2} | {:.2}× | {group_mb:.0} |",
                one_by_one * 1e3 / tokens,
                batched * 1e3 / tokens,
                one_by_one / batched
            );
        }
        println!("\npeak RSS {:.0} MB", status_mb("VmHWM:"));
        for s in states {
            sys::whisper_free_state(s);
        }
        sys::whisper_free(ctx);
    }
}
