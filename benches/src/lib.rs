//! Shared fixtures for Stenograph's benchmarks: speech in the formats users upload.

use std::path::{Path, PathBuf};
use std::process::Command;

use stenograph::audio::{Audio, WavFormat};

/// The formats benchmarked: file extension and ffmpeg encoder arguments.
pub const FORMATS: [(&str, &[&str]); 4] = [
    ("wav", &[]),
    ("mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("flac", &[]),
    ("m4a", &["-c:a", "aac", "-b:a", "128k"]),
];

fn run(tool: &str, args: &[&str]) {
    let status = Command::new(tool)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install it with .ci/run's packages): {e}"));
    assert!(status.success(), "{tool} {args:?} failed");
}

/// Creates (once) `seconds` of 44.1 kHz stereo speech in each of [`FORMATS`] under `dir`,
/// returning `(extension, path)` pairs.
pub fn speech_fixtures(dir: &Path, seconds: u32) -> Vec<(&'static str, PathBuf)> {
    std::fs::create_dir_all(dir).expect("fixture dir");
    let seed = dir.join("seed.wav");
    if !seed.exists() {
        run(
            "espeak-ng",
            &[
                "-v",
                "en-us",
                "-w",
                seed.to_str().unwrap(),
                "The quarterly numbers are in, and the team beat its target by a wide margin. \
                 Please call the customer back before noon and confirm the delivery date.",
            ],
        );
    }
    let secs = seconds.to_string();
    FORMATS
        .iter()
        .map(|(ext, args)| {
            let path = dir.join(format!("speech-{seconds}s.{ext}"));
            if !path.exists() {
                let mut all = vec!["-nostdin", "-loglevel", "error", "-y", "-stream_loop", "-1"];
                all.extend_from_slice(&["-i", seed.to_str().unwrap(), "-t", &secs]);
                all.extend_from_slice(&["-ac", "2", "-ar", "44100"]);
                all.extend_from_slice(args);
                all.push(path.to_str().unwrap());
                run("ffmpeg", &all);
            }
            (*ext, path)
        })
        .collect()
}

/// English sentences for accuracy measurements.
pub const SENTENCES: [&str; 8] = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call the customer back before noon tomorrow.",
    "Our quarterly sales grew faster than anyone expected.",
    "She had your dark suit in greasy wash water all year.",
    "Turn left at the second light and park behind the bank.",
    "The meeting has been moved to Thursday afternoon.",
    "I would like to cancel my subscription and get a refund.",
    "Can you send me the invoice for last month again?",
];

/// Speaks each of [`SENTENCES`] with espeak-ng and returns (16 kHz samples, text) pairs.
pub fn speech_set(dir: &Path) -> Vec<(Vec<f32>, &'static str)> {
    std::fs::create_dir_all(dir).expect("fixture dir");
    SENTENCES
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let wav = dir.join(format!("sentence{i}.wav"));
            run(
                "espeak-ng",
                &[
                    "-v",
                    "en-us",
                    "-s",
                    "140",
                    "-w",
                    wav.to_str().unwrap(),
                    text,
                ],
            );
            let audio = stenograph::audio::Audio::from_path(&wav).expect("decode speech");
            (audio.into_samples(), *text)
        })
        .collect()
}

/// Greedy English transcription on one thread.
pub fn transcribe(model: &stenograph::model::Model, samples: &[f32]) -> String {
    use whisper_rs::{FullParams, SamplingStrategy};
    let mut state = stenograph::testing::whisper_context(model)
        .create_state()
        .expect("whisper state");
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_language(Some("en"));
    p.set_n_threads(1);
    p.set_no_context(true);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    state.full(p, samples).expect("inference");
    state
        .as_iter()
        .map(|s| s.to_str_lossy().expect("segment text").into_owned())
        .collect::<String>()
        .trim()
        .to_string()
}

/// Writes 16 kHz mono samples as 16-bit PCM WAV.
pub fn write_wav(path: &Path, samples: &[f32]) {
    let audio = Audio::from_pcm_f32(samples.to_vec(), 16_000, 1).expect("pcm");
    let file = std::fs::File::create(path).expect("create wav");
    audio
        .write_wav(std::io::BufWriter::new(file), WavFormat::Pcm16)
        .expect("write wav");
}

/// Deterministic pink noise (Paul Kellet's filter over a xorshift white source), unit RMS.
pub fn pink_noise(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    let mut b = [0.0f64; 7];
    let mut out: Vec<f32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let white = (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            b[0] = 0.99886 * b[0] + white * 0.0555179;
            b[1] = 0.99332 * b[1] + white * 0.0750759;
            b[2] = 0.96900 * b[2] + white * 0.1538520;
            b[3] = 0.86650 * b[3] + white * 0.3104856;
            b[4] = 0.55000 * b[4] + white * 0.5329522;
            b[5] = -0.7616 * b[5] - white * 0.0168980;
            let pink = b.iter().sum::<f64>() + white * 0.5362;
            b[6] = white * 0.115926;
            pink as f32
        })
        .collect();
    let rms = (out.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
    out.iter_mut().for_each(|v| *v /= rms as f32);
    out
}

/// Root mean square of `samples`.
pub fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / samples.len().max(1) as f64).sqrt()
        as f32
}

/// The TSV's clips (columns `file`, `reference`; paths relative to the TSV), each decoded
/// and written to `dir` as 16 kHz mono 16-bit WAV (what every contender reads), with its
/// reference text.
pub fn real_clips(dir: &Path, tsv: &Path) -> Vec<(PathBuf, String)> {
    let table = std::fs::read_to_string(tsv).expect("read --real TSV");
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("TSV header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (file_col, ref_col) = (col("file"), col("reference"));
    std::fs::create_dir_all(dir).expect("clip directory");
    lines
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split('\t').collect();
            let audio =
                Audio::from_path(tsv.parent().unwrap().join(cells[file_col])).expect("real clip");
            let path = dir.join(format!("real-clip-{i:02}.wav"));
            write_wav(&path, audio.samples());
            (path, cells[ref_col].to_string())
        })
        .collect()
}

/// A long file of real recordings: the TSV's clips cycled with pauses, faint room tone, then
/// the same programme under pink noise at 20 dB SNR (relative to the speech's RMS). Variant 0
/// starts at the first clip and pause; variant k at clip k and pause 3k, with other noise.
pub fn real_long(dir: &Path, tsv: &Path, long_seconds: f64, variant: usize) -> (PathBuf, String) {
    const PAUSES: [f64; 6] = [0.4, 1.0, 2.5, 0.7, 6.0, 1.5];
    let clips: Vec<(Vec<f32>, String)> = real_clips(dir, tsv)
        .into_iter()
        .map(|(path, text)| (Audio::from_path(path).expect("clip").into_samples(), text))
        .collect();
    let (mut programme, mut speech, mut text) = (Vec::new(), Vec::new(), String::new());
    let mut k = 0;
    while (programme.len() as f64) < long_seconds / 2.0 * 16_000.0 {
        let (samples, reference) = &clips[(k + variant) % clips.len()];
        programme.extend_from_slice(samples);
        speech.extend_from_slice(samples);
        programme.extend(std::iter::repeat_n(
            0.0,
            (PAUSES[(k + 3 * variant) % PAUSES.len()] * 16_000.0) as usize,
        ));
        text.push_str(reference);
        text.push(' ');
        k += 1;
    }
    let level = rms(&speech);
    let mut long = programme.clone();
    let tone = pink_noise(20 * 16_000, 7 + 100 * variant as u64);
    long.extend(tone.iter().map(|v| v * level * 0.003));
    let noise = pink_noise(programme.len(), 11 + 100 * variant as u64);
    long.extend(
        programme
            .iter()
            .zip(&noise)
            .map(|(s, n)| s + n * level * 0.1),
    );
    let path = match variant {
        0 => dir.join("long-real.wav"),
        k => dir.join(format!("long-real-{}.wav", k + 1)),
    };
    write_wav(&path, &long);
    let reference = format!("{text}{text}");
    // Beside the audio, for reading a contender's errors against it.
    std::fs::write(path.with_extension("txt"), &reference).expect("write the reference");
    (path, reference)
}

/// The value after `name` in `args` (`--seconds 300`).
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// `samples` (16 kHz) band-limited to the telephone's 300–3400 Hz.
pub fn band_pass(samples: &mut [f32]) {
    biquad(samples, 300.0, true);
    biquad(samples, 3_400.0, false);
}

/// A biquad filter (RBJ cookbook), high- or low-pass at `hz`, Q = 0.707.
fn biquad(samples: &mut [f32], hz: f64, high: bool) {
    let w = std::f64::consts::TAU * hz / 16_000.0;
    let alpha = w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
    let c = w.cos();
    let (b0, b1) = if high {
        ((1.0 + c) / 2.0, -(1.0 + c))
    } else {
        ((1.0 - c) / 2.0, 1.0 - c)
    };
    let (a0, a1, a2) = (1.0 + alpha, -2.0 * c, 1.0 - alpha);
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    for s in samples.iter_mut() {
        let x = f64::from(*s);
        let y = (b0 * x + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2) / a0;
        (x2, x1, y2, y1) = (x1, x, y1, y);
        *s = y as f32;
    }
}
