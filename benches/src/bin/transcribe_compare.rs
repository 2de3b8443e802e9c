//! Stenograph against raw whisper.cpp and faster-whisper on the same audio, the same tiny.en
//! weights (the CTranslate2 export Stenograph imports), the same beam size, in one run. Each
//! contender runs in its own process (model loaded and warmed up before timing; peak RSS per
//! process), over a set of short clips and over one long file. Prints a Markdown table and
//! Stenograph's overhead over whisper.cpp at identical settings (VAD off).
//!
//! Raw whisper.cpp is `benches/c/whisper_full_bench.c`, compiled here with `cc` against the
//! whisper.cpp build whisper-rs-sys made for this binary.
//!
//! Usage: `cargo run --release -p stenograph-benches --bin transcribe_compare -- [LONG_SECONDS]
//! [--real TSV] [--only-real]` (default 300 s). `--real` adds a long file of real recordings:
//! the TSV's clips (columns `file`, `reference`; paths relative to the TSV) cycled with pauses
//! of 0.4–6 s for LONG_SECONDS / 2, 20 s of faint room tone, then the same programme again
//! under pink noise at 20 dB SNR; and a second such file (the clips and pauses in another
//! order). Both are transcribed one at a time (each alone on the machine: one long call) and
//! together (two long calls at once); each file's reference is written beside it
//! (`long-real.txt`). `--only-real` skips the synthetic sets. Needs
//! `target/parity-venv` with faster-whisper (made by scripts/test.sh).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model, QuantType};
use stenograph::testing::eval::wer;
use stenograph::transcribe::{Decoding, TranscribeOptions, Transcriber};
use stenograph_benches::{real_clips, real_long, write_wav, SENTENCES};

const VOICES: [&str; 3] = ["en-us", "en-gb", "en-us+f3"];
const WORKERS: usize = 2;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(tool: &str, args: &[&str]) {
    let status = Command::new(tool).args(args).status().expect(tool);
    assert!(status.success(), "{tool} {args:?}");
}

/// Short clips (every sentence in every voice) and one long file made of them with pauses.
fn fixtures(dir: &Path, long_seconds: f64) -> (Vec<(PathBuf, String)>, (PathBuf, String)) {
    std::fs::create_dir_all(dir).unwrap();
    let mut clips = Vec::new();
    for voice in VOICES {
        for (i, text) in SENTENCES.iter().enumerate() {
            let raw = dir.join(format!("{}-{i}-raw.wav", voice.replace('+', "_")));
            run(
                "espeak-ng",
                &["-v", voice, "-s", "140", "-w", raw.to_str().unwrap(), text],
            );
            let samples = Audio::from_path(&raw).unwrap().into_samples();
            let path = dir.join(format!("{}-{i}.wav", voice.replace('+', "_")));
            write_wav(&path, &samples);
            clips.push((path, text.to_string()));
        }
    }
    let mut long = Vec::new();
    let mut text = String::new();
    'fill: loop {
        for (path, t) in &clips {
            if long.len() as f64 / 16_000.0 >= long_seconds {
                break 'fill;
            }
            long.extend_from_slice(Audio::from_path(path).unwrap().samples());
            long.extend(std::iter::repeat_n(0.0, 11_200));
            text.push_str(t);
            text.push(' ');
        }
    }
    let long_path = dir.join("long.wav");
    write_wav(&long_path, &long);
    (clips, (long_path, text))
}

/// The tiny.en CTranslate2 export Stenograph's offline source imports, unpacked once.
fn ct2_export(dir: &Path) -> PathBuf {
    let export = dir.join("export");
    if export.join("model.bin").exists() {
        return export;
    }
    Model::fetch_export("tiny.en", dir, &FetchOptions::default()).expect("tiny.en export")
}

/// What a contender reports: wall seconds of its transcriptions, texts, peak RSS in MB.
type Outcome = (f64, Vec<String>, f64);

/// A set of audio: its name, its files in groups (each group one process, in turn), their
/// references in file order, and its seconds of audio.
type Set<'a> = (String, Vec<Vec<String>>, Vec<&'a str>, f64);

/// Runs `program` with `args` plus each group of files in turn, one process per group: the
/// wall times summed, the texts in order, the highest peak RSS.
fn measure_groups(program: &Path, args: &[String], groups: &[Vec<String>]) -> Outcome {
    let mut total: Outcome = (0.0, Vec::new(), 0.0);
    for files in groups {
        let mut all = args.to_vec();
        all.extend(files.iter().cloned());
        let (wall, texts, rss) = measure(program, &all);
        total.0 += wall;
        total.1.extend(texts);
        total.2 = total.2.max(rss);
    }
    total
}

/// Runs a contender process and measures its peak RSS.
fn measure(program: &Path, args: &[String]) -> Outcome {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start contender");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: waits for our own child and fills the rusage it is given.
    let usage = unsafe {
        libc::wait4(child.id() as i32, &mut status, 0, usage.as_mut_ptr());
        usage.assume_init()
    };
    // Already reaped by wait4; this only tells std the child is gone.
    let _ = child.try_wait();
    assert_eq!(status, 0, "{} {args:?} failed", program.display());
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("contender JSON");
    let texts = json["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    (
        json["seconds"].as_f64().unwrap(),
        texts,
        usage.ru_maxrss as f64 / 1024.0,
    )
}

/// Builds the raw whisper.cpp contender against the newest whisper-rs-sys build beside this
/// binary (`target/<profile>/build/whisper-rs-sys-*/out`, which holds `include/` and `lib/`).
fn build_raw_contender(dir: &Path) -> PathBuf {
    let build = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join("build");
    let out = std::fs::read_dir(&build)
        .expect("target build directory")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("whisper-rs-sys-")
        })
        .map(|e| e.path().join("out"))
        .filter_map(|o| {
            let modified = o
                .join("lib/libwhisper.a")
                .metadata()
                .ok()?
                .modified()
                .ok()?;
            Some((modified, o))
        })
        .max()
        .expect("a whisper-rs-sys build with lib/libwhisper.a")
        .1;
    let exe = dir.join("whisper_full_bench");
    let source = root().join("benches/c/whisper_full_bench.c");
    let include = format!("-I{}", out.join("include").display());
    let lib = format!("-L{}", out.join("lib").display());
    // whisper.cpp's BLAS backend calls oneDNN when it was built with it (libdnnl-dev there).
    let blas = std::fs::read(out.join("lib/libggml-blas.a")).unwrap_or_default();
    let onednn: &[&str] = if blas.windows(5).any(|w| w == b"dnnl_") {
        &["-ldnnl", "-lgomp"]
    } else {
        &[]
    };
    let mut args = vec![
        "-O2",
        "-pthread",
        &include,
        source.to_str().unwrap(),
        &lib,
        "-lwhisper",
        "-lggml",
        "-lggml-blas",
        "-lggml-cpu",
        "-lggml-base",
        "-lopenblas",
    ];
    args.extend_from_slice(onednn);
    args.extend_from_slice(&["-lstdc++", "-lm", "-o", exe.to_str().unwrap()]);
    run("cc", &args);
    exe
}

/// The Stenograph contender, run in a child process: `--worker MODEL BEAM MODE FILE...`, MODE
/// `vad` (defaults: one call per file on each worker), `novad` (the same without VAD) or
/// `batch` (one `transcribe_batch` over all files).
fn worker(model: &str, beam: usize, mode: &str, files: &[String]) {
    let t = Transcriber::builder()
        .model(model)
        .max_concurrent(WORKERS)
        .build()
        .expect("transcriber");
    let mut opts = TranscribeOptions::default();
    opts.language = Some("en".into());
    opts.decoding = if beam > 1 {
        Decoding::Beam(beam)
    } else {
        Decoding::Greedy
    };
    opts.vad = mode != "novad";
    t.transcribe_file(&files[0], &opts).expect("warm-up");
    let audio: Vec<Audio> = files.iter().map(|f| Audio::from_path(f).unwrap()).collect();
    if mode == "batch" {
        let start = Instant::now();
        let out = t.transcribe_batch(&audio, &opts).expect("transcribe_batch");
        let seconds = start.elapsed().as_secs_f64();
        let texts: Vec<String> = out.into_iter().map(|t| t.text).collect();
        println!(
            "{}",
            serde_json::json!({ "seconds": seconds, "texts": texts })
        );
        return;
    }
    let start = Instant::now();
    let next = Mutex::new(0usize);
    let texts = Mutex::new(vec![String::new(); files.len()]);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(a) = audio.get(i) else { break };
                let text = t.transcribe(a, &opts).expect("transcribe").text;
                texts.lock().unwrap()[i] = text;
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let texts = texts.into_inner().unwrap();
    println!(
        "{}",
        serde_json::json!({ "seconds": seconds, "texts": texts })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--worker") {
        return worker(&args[1], args[2].parse().unwrap(), &args[3], &args[4..]);
    }
    let long_seconds: f64 = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map_or(300.0, |s| s.parse().expect("LONG_SECONDS"));
    let real_tsv = args
        .iter()
        .position(|a| a == "--real")
        .map(|i| PathBuf::from(args.get(i + 1).expect("--real TSV")));
    let only_real = args.iter().any(|a| a == "--only-real");
    let python = root().join("target/parity-venv/bin/python");
    assert!(
        python.exists(),
        "run scripts/test.sh once to create target/parity-venv"
    );
    let dir = std::env::temp_dir().join("stenograph-transcribe-compare");
    let (clips, (long_path, long_text)) = fixtures(&dir, long_seconds);
    let export = ct2_export(&dir);
    let f16 = Model::fetch_file("tiny.en", &FetchOptions::default()).expect("tiny.en");
    let q8 = dir.join("tiny.en-q8_0.bin");
    Model::quantize(&f16, &q8, QuantType::Q8_0).expect("quantize");
    let models = [
        ("f16", f16.display().to_string()),
        ("q8_0", q8.display().to_string()),
    ];
    let script = root().join("benches/scripts/faster_whisper_bench.py");
    let me = std::env::current_exe().unwrap();
    let raw = build_raw_contender(&dir);
    let mut overheads = Vec::new();

    let clip_files: Vec<String> = clips.iter().map(|(p, _)| p.display().to_string()).collect();
    let clip_refs: Vec<&str> = clips.iter().map(|(_, t)| t.as_str()).collect();
    let clip_seconds: f64 = clips
        .iter()
        .map(|(p, _)| Audio::from_path(p).unwrap().duration_seconds())
        .sum();
    let long_files = vec![vec![long_path.display().to_string()]];
    let long_dur = Audio::from_path(&long_path).unwrap().duration_seconds();
    let reals: Vec<(PathBuf, String)> = real_tsv
        .iter()
        .flat_map(|tsv| [0, 1].map(|v| real_long(&dir, tsv, long_seconds, v)))
        .collect();
    let real_files: Vec<String> = reals.iter().map(|(p, _)| p.display().to_string()).collect();
    let real_refs: Vec<&str> = reals.iter().map(|(_, t)| t.as_str()).collect();
    let real_seconds: f64 = reals
        .iter()
        .map(|(p, _)| Audio::from_path(p).unwrap().duration_seconds())
        .sum();
    let short: Vec<(PathBuf, String)> = real_tsv
        .iter()
        .flat_map(|tsv| real_clips(&dir.join("clips"), tsv))
        .collect();
    let short_files: Vec<String> = short.iter().map(|(p, _)| p.display().to_string()).collect();
    let short_seconds: f64 = short
        .iter()
        .map(|(p, _)| Audio::from_path(p).unwrap().duration_seconds())
        .sum();
    let mut sets: Vec<Set> = Vec::new();
    if !only_real {
        let name = format!("{} clips", clip_files.len());
        sets.push((name, vec![clip_files], clip_refs.clone(), clip_seconds));
        sets.push((
            "1 long file".into(),
            long_files,
            vec![long_text.as_str()],
            long_dur,
        ));
    }
    if !short.is_empty() {
        sets.push((
            format!("{} real clips", short.len()),
            vec![short_files],
            short.iter().map(|(_, t)| t.as_str()).collect(),
            short_seconds,
        ));
    }
    if !reals.is_empty() {
        // One long call alone on the machine, over both files in turn (twice the speech of
        // one file: a word or two of one recording moves its WER less).
        let one_by_one = real_files.iter().map(|f| vec![f.clone()]).collect();
        sets.push((
            "2 long real files, one at a time".into(),
            one_by_one,
            real_refs.clone(),
            real_seconds,
        ));
        sets.push((
            "2 long real files at once".into(),
            vec![real_files.clone()],
            real_refs.clone(),
            real_seconds,
        ));
    }

    println!(
        "tiny.en, English, {WORKERS} workers x 1 thread each, model loaded and warmed up before timing\n"
    );
    println!(
        "| contender | decoding | audio | audio s | wall s | × real time | peak RSS MB | WER |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for (set, groups, refs, seconds) in sets {
        for beam in [1usize, 5] {
            let decoding = if beam == 1 { "greedy" } else { "beam 5" };
            let mut rows: Vec<(String, Outcome)> = Vec::new();
            for (label, path) in &models {
                let mut sargs = vec![
                    "--worker".to_string(),
                    path.clone(),
                    beam.to_string(),
                    "vad".to_string(),
                ];
                let ours = measure_groups(&me, &sargs, &groups);
                rows.push((format!("stenograph ({label})"), ours));
                if groups.iter().any(|g| g.len() > 1) {
                    sargs[3] = "batch".to_string();
                    let batch = measure_groups(&me, &sargs, &groups);
                    rows.push((format!("stenograph ({label}, batch)"), batch));
                }
            }
            // Identical settings: whisper.cpp has no VAD of its own under whisper_full_with_state.
            let (_, f16_path) = &models[0];
            let sargs = vec![
                "--worker".to_string(),
                f16_path.clone(),
                beam.to_string(),
                "novad".to_string(),
            ];
            let ours = measure_groups(&me, &sargs, &groups);
            let rargs = vec![f16_path.clone(), beam.to_string(), WORKERS.to_string()];
            let theirs = measure_groups(&raw, &rargs, &groups);
            overheads.push((set.clone(), decoding, ours.0 / theirs.0 - 1.0));
            rows.push(("stenograph (f16, VAD off)".to_string(), ours));
            rows.push(("whisper.cpp C API (f16)".to_string(), theirs));
            for (ct, mode) in [
                ("int8", "sequential"),
                ("float32", "sequential"),
                ("int8", "batched"),
            ] {
                let fargs = vec![
                    script.display().to_string(),
                    export.display().to_string(),
                    ct.to_string(),
                    WORKERS.to_string(),
                    beam.to_string(),
                    mode.to_string(),
                ];
                let label = if mode == "batched" {
                    format!("faster-whisper ({ct}, batched)")
                } else {
                    format!("faster-whisper ({ct})")
                };
                rows.push((label, measure_groups(&python, &fargs, &groups)));
            }
            for (name, (wall, texts, rss)) in rows {
                let w = wer(refs.iter().copied().zip(texts.iter().map(String::as_str)));
                println!(
                    "| {name} | {decoding} | {set} | {seconds:.0} | {wall:.2} | {:.1} | {rss:.0} | {:.1}% |",
                    seconds / wall,
                    w * 100.0
                );
            }
        }
    }
    println!("\nStenograph (VAD off) wall time over raw whisper.cpp at identical settings:\n");
    for (set, decoding, overhead) in overheads {
        println!("- {set}, {decoding}: {:+.1}%", overhead * 100.0);
    }
}
