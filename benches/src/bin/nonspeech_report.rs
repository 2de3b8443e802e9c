//! Nothing invented: text written on sounds that are not speech, and what the same setting
//! does to real speech, with Whisper's sound annotations suppressed while decoding (as
//! whisper.cpp's `suppress_nst`) and let through then dropped (the default).
//!
//! ```text
//! scripts/nonspeech_corpus.sh /tmp/nonspeech
//! cargo run --release -p stenograph-benches --bin nonspeech_report -- --real samples.tsv \
//!     [--nonspeech /tmp/nonspeech] [--seconds 300] [--models tiny.en,base]
//! ```
//!
//! Inputs, each transcribed with VAD on (the default) in every mode:
//! - `generated`: [`stenograph::testing::signals::non_speech`] (network tones, DTMF, noise,
//!   clicks, hum, a square-wave tune, hold music);
//! - `recorded`: every audio file in `--nonspeech` (laughter, coughs, hold music, instruments);
//! - `speech`: the TSV's real clips (columns `file`, `reference`) cycled to `--seconds`,
//!   clean then under noise (`real_long`): WER;
//! - `call`: the TSV's clips once each, with a non-speech sound between every two (the
//!   recordings' first 8 s in turn, then the generated ones), band-limited to the telephone's
//!   300–3400 Hz: WER against the clips' references alone, so words written on the sounds
//!   count as insertions.
//!
//! Printed: non-speech inputs given any text, WER, seconds; then each text written on a
//! non-speech input. The speech inputs' transcripts are written to
//! `$TMPDIR/stenograph-nonspeech/<model>/`, their references beside the audio.

use std::path::{Path, PathBuf};
use std::time::Instant;

use stenograph::audio::Audio;
use stenograph::testing::eval::word_errors;
use stenograph::testing::signals;
use stenograph::transcribe::{SoundEvents, TranscribeOptions, Transcriber};
use stenograph_benches::{arg, band_pass, real_clips, real_long};

/// Longest stretch of a recording put into the `call`.
const EVENT_SECONDS: usize = 8;

/// Audio files in `dir`, by name.
fn recordings(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read --nonspeech directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let samples = Audio::from_path(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .into_samples();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                samples,
            )
        })
        .collect()
}

/// The `call`: every clip once, a non-speech sound after each; its path and reference.
fn call(dir: &Path, tsv: &Path, sounds: &[(String, Vec<f32>)]) -> (PathBuf, String) {
    let (mut audio, mut text) = (vec![0.0f32; 8_000], String::new());
    for (k, (path, reference)) in real_clips(dir, tsv).into_iter().enumerate() {
        audio.extend(Audio::from_path(&path).expect("clip").into_samples());
        audio.extend(std::iter::repeat_n(0.0, 6_000));
        let sound = &sounds[k % sounds.len()].1;
        audio.extend(&sound[..sound.len().min(EVENT_SECONDS * 16_000)]);
        audio.extend(std::iter::repeat_n(0.0, 6_000));
        text.push_str(&reference);
        text.push(' ');
    }
    band_pass(&mut audio);
    let path = dir.join("call-with-sounds.wav");
    stenograph_benches::write_wav(&path, &audio);
    std::fs::write(path.with_extension("txt"), &text).expect("write the reference");
    (path, text)
}

/// How one mode did on one model.
struct Row {
    with_text: [(usize, usize); 2],
    wer: [f64; 2],
    seconds: f64,
    written: Vec<(String, String)>,
}

/// Runs every input through `t` in `mode`; the speech inputs' transcripts go to `out` as
/// `speech-<mode>.txt` and `call-<mode>.txt`.
fn run(
    t: &Transcriber,
    mode: SoundEvents,
    sets: &[&[(String, Vec<f32>)]; 2],
    speech: &[(Audio, &str); 2],
    out: &Path,
) -> Row {
    let mut opts = TranscribeOptions::default();
    opts.language = Some("en".into());
    opts.sound_events = mode;
    let start = Instant::now();
    let mut row = Row {
        with_text: [(0, 0); 2],
        wer: [0.0; 2],
        seconds: 0.0,
        written: Vec::new(),
    };
    for (s, set) in sets.iter().enumerate() {
        for (name, samples) in set.iter() {
            let audio = Audio::from_pcm_f32(samples.clone(), 16_000, 1).expect("pcm");
            let text = t.transcribe(&audio, &opts).expect("transcribe").text;
            row.with_text[s].1 += 1;
            if !text.trim().is_empty() {
                row.with_text[s].0 += 1;
                row.written.push((name.clone(), text.trim().to_string()));
            }
        }
    }
    for (k, (audio, reference)) in speech.iter().enumerate() {
        let text = t.transcribe(audio, &opts).expect("transcribe").text;
        let name = format!("{}-{}.txt", ["speech", "call"][k], mode.as_str());
        std::fs::write(out.join(name), &text).expect("write transcript");
        let (errors, n) = word_errors(reference, &text);
        row.wer[k] = 100.0 * errors as f64 / n.max(1) as f64;
    }
    row.seconds = start.elapsed().as_secs_f64();
    row
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tsv = PathBuf::from(arg(&args, "--real").expect("--real TSV of real clips"));
    let seconds: f64 = arg(&args, "--seconds").map_or(300.0, |s| s.parse().expect("--seconds"));
    let models = arg(&args, "--models").unwrap_or_else(|| "tiny.en".into());
    let dir = std::env::temp_dir().join("stenograph-nonspeech");
    std::fs::create_dir_all(&dir).expect("work directory");

    let generated: Vec<(String, Vec<f32>)> = signals::non_speech()
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    let recorded = arg(&args, "--nonspeech").map_or_else(Vec::new, |d| recordings(Path::new(&d)));
    for (name, samples) in &generated {
        stenograph_benches::write_wav(
            &dir.join(format!("{}.wav", name.replace(' ', "-"))),
            samples,
        );
    }
    let sounds: Vec<(String, Vec<f32>)> = recorded.iter().chain(&generated).cloned().collect();
    let (call_path, call_ref) = call(&dir, &tsv, &sounds);
    let (long_path, long_ref) = real_long(&dir, &tsv, seconds, 0);
    let speech = [
        (
            Audio::from_path(&long_path).expect("speech"),
            long_ref.as_str(),
        ),
        (
            Audio::from_path(&call_path).expect("call"),
            call_ref.as_str(),
        ),
    ];
    println!(
        "| model | sound events | generated with text | recorded with text | speech WER ({seconds:.0} s) | call with sounds WER | seconds |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut written = Vec::new();
    for model in models.split(',') {
        let t = Transcriber::builder()
            .model(model)
            .build()
            .expect("load model");
        // Untimed: the first call's one-time costs (VAD weights, buffers).
        let warm = &speech[1].0.samples()[..30 * 16_000];
        let warm = Audio::from_pcm_f32(warm.to_vec(), 16_000, 1).expect("pcm");
        t.transcribe(&warm, &TranscribeOptions::default())
            .expect("warm-up");
        for mode in [SoundEvents::Suppress, SoundEvents::Drop] {
            let out = dir.join(model);
            std::fs::create_dir_all(&out).expect("transcript directory");
            let row = run(&t, mode, &[&generated, &recorded], &speech, &out);
            let [(g, gn), (r, rn)] = row.with_text;
            println!(
                "| {model} | {} | {g}/{gn} | {r}/{rn} | {:.1} % | {:.1} % | {:.0} |",
                mode.as_str(),
                row.wer[0],
                row.wer[1],
                row.seconds
            );
            written.extend(
                row.written
                    .into_iter()
                    .map(|(n, t)| (model.to_string(), mode, n, t)),
            );
        }
    }
    println!();
    for (model, mode, name, text) in written {
        let short: String = text.chars().take(100).collect();
        println!("- {model}, {}: {name}: {short:?}", mode.as_str());
    }
}
