//! Helpers shared by the CLI's end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `text` spoken by espeak-ng's en-us voice into `dir/name` (22,050 Hz mono WAV).
pub fn speech(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "140", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng (installed by .ci/run)");
    assert!(status.success());
    path
}
