//! Fixtures made at test time: speech from espeak-ng, other formats from ffmpeg and sox, tones
//! and WAV headers from code. A missing tool fails the test: `.ci/run` installs them.
#![allow(dead_code)]

pub mod counting;
pub mod http;
pub mod raw;
pub mod speech;
pub mod virtual_wav;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use stenograph::audio::Audio;

/// Runs a tool, panicking with its stderr if it is missing or fails.
pub fn run(tool: &str, args: &[&str]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} (is it installed? .ci/run installs it): {e}")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Converts `input` with ffmpeg (quiet, overwrite) using extra output arguments.
pub fn ffmpeg(input: &Path, output: &Path, args: &[&str]) {
    let mut all = vec![
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        input.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    all.push(output.to_str().unwrap());
    run("ffmpeg", &all);
}

/// The Python interpreter with faster-whisper and librosa: `STENOGRAPH_PARITY_PYTHON`, else
/// `target/parity-venv`, made by `scripts/parity_venv.sh` when missing.
pub fn parity_python() -> PathBuf {
    if let Some(p) = std::env::var_os("STENOGRAPH_PARITY_PYTHON") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("scripts/parity_venv.sh"))
        .output()
        .expect("bash runs scripts/parity_venv.sh");
    assert!(
        out.status.success(),
        "scripts/parity_venv.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    root.join("target/parity-venv/bin/python")
}

/// The fixture directory of this test process, once made.
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Removes the fixture directory when the test process exits (a static is never dropped).
extern "C" fn remove_dir() {
    if let Some(dir) = DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Fixture directory shared by all tests in one test binary, removed when it exits.
pub fn dir() -> &'static Path {
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        // SAFETY: `remove_dir` is a plain function that only reads a set `OnceLock`.
        unsafe { libc::atexit(remove_dir) };
        dir
    })
}

/// About four seconds of English speech from espeak-ng: 22.05 kHz mono 16-bit WAV.
pub fn speech_wav() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = dir().join("speech.wav");
        run(
            "espeak-ng",
            &[
                "-v",
                "en-us",
                "-s",
                "150",
                "-w",
                path.to_str().unwrap(),
                "Ask not what your country can do for you. Ask what you can do for your country.",
            ],
        );
        path
    })
}

/// The speech as 44.1 kHz stereo 16-bit WAV (both channels equal): the source for every
/// compressed format.
pub fn speech_stereo_44k() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = dir().join("speech_44k_stereo.wav");
        ffmpeg(speech_wav(), &path, &["-ac", "2", "-ar", "44100"]);
        path
    })
}

/// The speech decoded by Stenograph from the original espeak-ng WAV: the reference.
pub fn reference() -> &'static [f32] {
    static REF: OnceLock<Vec<f32>> = OnceLock::new();
    REF.get_or_init(|| Audio::from_path(speech_wav()).unwrap().into_samples())
}

pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Normalised cross-correlation of `a` against `b`, at the best lag within ±`max_lag` samples.
pub fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> (f64, isize) {
    let mut best = (f64::MIN, 0isize);
    let n = a.len().min(b.len());
    let (ea, eb) = (rms(&a[..n]), rms(&b[..n]));
    for lag in -(max_lag as isize)..=(max_lag as isize) {
        let mut dot = 0.0f64;
        let mut count = 0usize;
        for (i, &x) in a[..n].iter().enumerate() {
            let j = i as isize + lag;
            if j < 0 || j as usize >= b.len() {
                continue;
            }
            dot += f64::from(x) * f64::from(b[j as usize]);
            count += 1;
        }
        let c = dot / (count.max(1) as f64 * ea * eb);
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

/// A sine at `freq` Hz, amplitude 0.5.
pub fn tone(rate: u32, freq: f64, seconds: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| {
            (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as f32
        })
        .collect()
}

/// Writes interleaved f32 samples as a 16-bit PCM WAV.
pub fn write_wav_i16(path: &Path, rate: u32, channels: u16, interleaved: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in interleaved {
        w.write_sample((s * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A canonical 44-byte WAV header with arbitrary (possibly absurd) fields.
pub fn wav_header(rate: u32, channels: u16, bits: u16, data_len: u32) -> Vec<u8> {
    let block_align = channels.wrapping_mul(bits / 8);
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&36u32.wrapping_add(data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&rate.wrapping_mul(u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

/// Runs test `name` of this test binary again in a child process with `env` set (settings the
/// library reads once per process), and panics with its output when it fails.
pub fn rerun_in_child(name: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} in a child process failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
