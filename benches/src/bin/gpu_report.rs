//! Stenograph on a GPU against raw whisper.cpp on the same GPU: long recordings of real speech
//! (the `real_long` programme: clips with pauses, room tone, the same programme under noise),
//! one file alone and several at once, greedy English, one process. Prints a Markdown table
//! (wall seconds, times real time, WER).
//!
//! Build with a GPU feature: `cargo build --release -p stenograph-benches --features cuda
//! --bin gpu_report`. Usage: `gpu_report MODEL TSV [--seconds S] [--files N] [--dir DIR]
//! [--device cpu] [--texts DIR] [--against DIR]` (defaults 600 s, 8 files, a folder under the
//! system's temporary directory). `--device cpu` runs Stenograph's rows on the CPU instead;
//! `--texts` writes the several-files run's transcripts, and `--against` reports their word
//! difference from transcripts written by an earlier run (GPU against CPU).

use std::path::{Path, PathBuf};
use std::time::Instant;

use stenograph::audio::Audio;
use stenograph::model::{Model, FLASH_ATTENTION_ENV};
use stenograph::testing::eval::wer;
use stenograph::transcribe::{TranscribeOptions, Transcriber};
use stenograph::Device;
use stenograph_benches::real_long;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

struct Row {
    name: String,
    files: usize,
    audio: f64,
    wall: f64,
    wer: f64,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Stenograph with `states` decoder states on `device`: a warm-up call, then the files at
/// once, one thread each.
fn stenograph(model: &Path, device: Device, states: usize, files: &[Audio]) -> (f64, Vec<String>) {
    let loaded = Model::load_on(model, device).expect("load model");
    let t = Transcriber::builder()
        .model(loaded)
        .device(device)
        .max_concurrent(states)
        .build()
        .expect("transcriber");
    let mut opts = TranscribeOptions::default();
    opts.language = Some("en".into());
    let warm = Audio::from_pcm_f32(files[0].samples()[..16_000 * 20].to_vec(), 16_000, 1).unwrap();
    t.transcribe(&warm, &opts).expect("warm-up");
    let start = Instant::now();
    let texts = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|a| s.spawn(|| t.transcribe(a, &opts).expect("transcribe").text))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    (start.elapsed().as_secs_f64(), texts)
}

/// Raw whisper.cpp (`whisper_full` on each whole file) on GPU 0: one state per file, all at
/// once, whisper.cpp's own defaults for the rest (greedy with temperature fallback, four CPU
/// threads per state as its CLI uses).
fn raw_whisper(model: &Path, flash_attn: bool, files: &[Audio]) -> (f64, Vec<String>) {
    let mut cp = WhisperContextParameters::default();
    cp.use_gpu(true).gpu_device(0).flash_attn(flash_attn);
    let ctx = WhisperContext::new_with_params(model.to_str().unwrap(), cp).expect("context");
    let run = |samples: &[f32]| {
        let mut state = ctx.create_state().expect("state");
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 5 });
        p.set_language(Some("en"));
        p.set_n_threads(4);
        p.set_no_context(true);
        p.set_suppress_nst(true);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        state.full(p, samples).expect("whisper_full");
        state
            .as_iter()
            .map(|s| s.to_str_lossy().expect("segment text").into_owned())
            .collect::<String>()
    };
    run(&files[0].samples()[..16_000 * 20]);
    let start = Instant::now();
    let texts = std::thread::scope(|s| {
        let handles: Vec<_> = files.iter().map(|a| s.spawn(|| run(a.samples()))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    (start.elapsed().as_secs_f64(), texts)
}

fn row(name: String, files: &[Audio], refs: &[String], (wall, texts): (f64, Vec<String>)) -> Row {
    let w = wer(refs
        .iter()
        .map(String::as_str)
        .zip(texts.iter().map(String::as_str)));
    let audio = files.iter().map(Audio::duration_seconds).sum();
    let row = Row {
        name,
        files: files.len(),
        audio,
        wall,
        wer: w,
    };
    eprintln!(
        "{}: {} files, {:.1} s → {:.2} s",
        row.name, row.files, row.audio, row.wall
    );
    row
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| args[i + 1].clone())
    };
    let (model, tsv) = match (args.first(), args.get(1)) {
        (Some(m), Some(t)) if !m.starts_with("--") && !t.starts_with("--") => {
            (PathBuf::from(m), PathBuf::from(t))
        }
        _ => {
            eprintln!(
                "usage: gpu_report MODEL TSV [--seconds S] [--files N] [--dir DIR] \
                 [--device cpu] [--texts DIR] [--against DIR]"
            );
            std::process::exit(2);
        }
    };
    let seconds: f64 = flag("--seconds").map_or(600.0, |s| s.parse().expect("--seconds"));
    let n_files: usize = flag("--files").map_or(8, |s| s.parse().expect("--files"));
    let dir = flag("--dir").map_or_else(
        || std::env::temp_dir().join("stenograph-gpu-report"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("report dir");

    let (mut audio, mut refs) = (Vec::new(), Vec::new());
    for variant in 0..n_files.max(1) {
        let (path, reference) = real_long(&dir, &tsv, seconds, variant);
        audio.push(Audio::from_path(&path).expect("long file"));
        refs.push(reference);
    }
    let one = &audio[..1];
    let cpu = cores();
    let mut rows = Vec::new();
    let many = if flag("--device").as_deref() == Some("cpu") {
        let name = format!("Stenograph, CPU, {cpu} states");
        let single = stenograph(&model, Device::Cpu, cpu, one);
        rows.push(row(name.clone(), one, &refs[..1], single));
        let many = stenograph(&model, Device::Cpu, cpu, &audio);
        rows.push(row(name, &audio, &refs, many.clone()));
        many.1
    } else {
        let gpu = Device::Gpu(0);
        for states in [4, cpu] {
            let name = format!("Stenograph, GPU, {states} states");
            let single = stenograph(&model, gpu, states, one);
            rows.push(row(name, one, &refs[..1], single));
        }
        std::env::set_var(FLASH_ATTENTION_ENV, "0");
        let single = stenograph(&model, gpu, cpu, one);
        std::env::remove_var(FLASH_ATTENTION_ENV);
        let name = format!("Stenograph, GPU, {cpu} states, flash attention off");
        rows.push(row(name, one, &refs[..1], single));
        let many = stenograph(&model, gpu, cpu, &audio);
        let name = format!("Stenograph, GPU, {cpu} states");
        rows.push(row(name, &audio, &refs, many.clone()));
        for fa in [true, false] {
            let on = if fa { "on" } else { "off" };
            let name = format!("whisper.cpp `whisper_full`, GPU, flash attention {on}");
            rows.push(row(name, one, &refs[..1], raw_whisper(&model, fa, one)));
        }
        let name = format!("whisper.cpp `whisper_full`, GPU, {} states", audio.len());
        rows.push(row(name, &audio, &refs, raw_whisper(&model, true, &audio)));
        many.1
    };
    if let Some(out) = flag("--texts") {
        std::fs::create_dir_all(&out).expect("--texts dir");
        for (i, text) in many.iter().enumerate() {
            std::fs::write(Path::new(&out).join(format!("{i}.txt")), text).expect("write text");
        }
    }
    let against = flag("--against").map(|d| {
        let theirs: Vec<String> = (0..many.len())
            .map(|i| {
                std::fs::read_to_string(Path::new(&d).join(format!("{i}.txt")))
                    .expect("--against text")
            })
            .collect();
        wer(theirs
            .iter()
            .map(String::as_str)
            .zip(many.iter().map(String::as_str)))
    });
    println!(
        "\n{} · model {} · {} file(s) of {:.0} s real speech each · {} CPU cores\n",
        gpu_name(),
        model.file_name().unwrap().to_string_lossy(),
        audio.len(),
        seconds,
        cpu
    );
    println!("| contender | files | audio s | wall s | × real time | WER |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.0} | {:.1} % |",
            r.name,
            r.files,
            r.audio,
            r.wall,
            r.audio / r.wall,
            r.wer * 100.0
        );
    }
    if let Some(apart) = against {
        println!(
            "\nThese {} transcripts against those of the --against run: {:.1} % word difference.",
            many.len(),
            apart * 100.0
        );
    }
}

/// The GPU's name as `nvidia-smi` reports it, or "GPU".
fn gpu_name() -> String {
    std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "GPU".into())
}
