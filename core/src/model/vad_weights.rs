//! Weights of the Silero VAD network (MIT licence): `$STENOGRAPH_VAD_MODEL`, else the cache,
//! else the ONNX file inside faster-whisper's wheel on PyPI, checked against pinned SHA-256s
//! (the wheel's and the file's).

use std::path::PathBuf;

use super::download::FetchOptions;
use super::registry::Wheel;
use super::wheel_file::{fetch_wheel_file, WheelFile};
use crate::error::Result;

/// Environment variable naming a Silero VAD v6 ONNX file to use instead of the cached one.
pub const VAD_ENV: &str = "STENOGRAPH_VAD_MODEL";

/// The weights' file name, in the cache and in the wheel.
pub const VAD_FILE: &str = "silero_vad_v6.onnx";

/// The ONNX file and the wheel that carries it.
const VAD: WheelFile = WheelFile {
    env: VAD_ENV,
    file: VAD_FILE,
    sha256: "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
    wheel: Wheel {
        project: "faster-whisper",
        filename: "faster_whisper-1.2.1-py3-none-any.whl",
        sha256: "79a66ad50688c0b794dd501dc340a736992a6342f7f95e5811be60b5224a26a7",
        prefix: "faster_whisper/assets/",
    },
};

/// The Silero VAD weights on disk: the file `$STENOGRAPH_VAD_MODEL` names, else the cached
/// copy, else downloaded from PyPI into the cache (about 1.1 MB).
pub fn fetch_vad_weights(opts: &FetchOptions) -> Result<PathBuf> {
    fetch_wheel_file(&VAD, opts)
}
