//! A small speech test set made with espeak-ng, greedy transcription with whisper-rs, and WER.

use std::path::{Path, PathBuf};

use stenograph::audio::{Audio, WavFormat};
use stenograph::model::Model;
use whisper_rs::{FullParams, SamplingStrategy};

/// Sentences of the test set: varied words, numbers spelled out, no proper names.
pub const SENTENCES: [&str; 6] = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call the customer back before noon tomorrow.",
    "Our quarterly sales grew by twelve percent this year.",
    "She had your dark suit in greasy wash water all year.",
    "Turn left at the second light and park behind the bank.",
    "The meeting has been moved to Thursday afternoon.",
];

/// Speaks `text` with an espeak-ng voice into `dir/name.wav`: 16 kHz mono 16-bit, resampled
/// by Stenograph, so every transcriber compared reads exactly the same samples.
pub fn speak(dir: &Path, voice: &str, text: &str, name: &str) -> PathBuf {
    let raw = dir.join(format!("{name}-22k.wav"));
    let wav = dir.join(format!("{name}.wav"));
    super::run(
        "espeak-ng",
        &["-v", voice, "-s", "140", "-w", raw.to_str().unwrap(), text],
    );
    let audio = Audio::from_path(&raw).unwrap();
    let file = std::fs::File::create(&wav).unwrap();
    audio
        .write_wav(std::io::BufWriter::new(file), WavFormat::Pcm16)
        .unwrap();
    wav
}

/// Each of [`SENTENCES`] spoken by the en-us voice.
pub fn speech_set(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    SENTENCES
        .iter()
        .enumerate()
        .map(|(i, text)| (speak(dir, "en-us", text, &format!("s{i}")), *text))
        .collect()
}

/// whisper.cpp's parameters for parity checks: greedy, English, one thread, no context, no
/// temperature fallback, nothing printed.
pub fn parity_params() -> FullParams<'static, 'static> {
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_language(Some("en"));
    p.set_n_threads(1);
    p.set_no_context(true);
    p.set_temperature_inc(0.0);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    p
}

/// Transcribes with [`parity_params`].
pub fn transcribe(model: &Model, wav: &Path) -> String {
    let audio = Audio::from_path(wav).unwrap();
    let mut state = stenograph::testing::whisper_context(model)
        .create_state()
        .unwrap();
    state.full(parity_params(), audio.samples()).unwrap();
    state
        .as_iter()
        .map(|s| s.to_str_lossy().unwrap().into_owned())
        .collect::<String>()
        .trim()
        .to_string()
}
