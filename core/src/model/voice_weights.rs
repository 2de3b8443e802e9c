//! Weights of the voice encoder (Resemblyzer's GE2E network, Apache-2.0):
//! `$STENOGRAPH_SPEAKER_MODEL`, else the cache, else `pretrained.pt` inside Resemblyzer's wheel
//! on PyPI, checked against pinned SHA-256s (the wheel's and the file's).

use std::path::PathBuf;

use super::download::FetchOptions;
use super::registry::Wheel;
use super::wheel_file::{fetch_wheel_file, WheelFile};
use crate::error::Result;

/// Environment variable naming a voice encoder checkpoint to use instead of the cached one
/// (same network shape, legacy PyTorch format).
pub const SPEAKER_MODEL_ENV: &str = "STENOGRAPH_SPEAKER_MODEL";

/// The checkpoint and the wheel that carries it.
const VOICE: WheelFile = WheelFile {
    env: SPEAKER_MODEL_ENV,
    file: "pretrained.pt",
    sha256: "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    wheel: Wheel {
        project: "resemblyzer",
        filename: "Resemblyzer-0.1.4-py3-none-any.whl",
        sha256: "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
        prefix: "resemblyzer/",
    },
};

/// The voice encoder's checkpoint on disk: the file `$STENOGRAPH_SPEAKER_MODEL` names, else
/// the cached copy, else downloaded from PyPI into the cache (a 15.7 MB wheel, 17 MB file).
pub fn fetch_speaker_weights(opts: &FetchOptions) -> Result<PathBuf> {
    fetch_wheel_file(&VOICE, opts)
}
