//! Weights of the Silero VAD network (MIT licence): `$STENOGRAPH_VAD_MODEL`, else the cache,
//! else the ONNX file inside faster-whisper's wheel on PyPI, checked against pinned SHA-256s
//! (the wheel's and the file's).

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::cache::{cache_dir, ensure_writable};
use super::download::{agent, download_verified, sha256_file, FetchOptions};
use super::pypi::wheel_url;
use super::registry::Wheel;
use crate::error::{Error, Result};

/// Environment variable naming a Silero VAD v6 ONNX file to use instead of the cached one.
pub const VAD_ENV: &str = "STENOGRAPH_VAD_MODEL";

/// The weights' file name, in the cache and in the wheel.
pub const VAD_FILE: &str = "silero_vad_v6.onnx";

/// SHA-256 of the ONNX file.
const VAD_SHA256: &str = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2";

/// The wheel that carries it.
const VAD_WHEEL: Wheel = Wheel {
    project: "faster-whisper",
    filename: "faster_whisper-1.2.1-py3-none-any.whl",
    sha256: "79a66ad50688c0b794dd501dc340a736992a6342f7f95e5811be60b5224a26a7",
    prefix: "faster_whisper/assets/",
};

/// The Silero VAD weights on disk: the file `$STENOGRAPH_VAD_MODEL` names, else the cached
/// copy, else downloaded from PyPI into the cache (about 1.1 MB).
pub fn fetch_vad_weights(opts: &FetchOptions) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(VAD_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dir = cache_dir(opts.cache_dir.as_deref());
    let dest = dir.join(VAD_FILE);
    if dest.is_file() {
        return Ok(dest);
    }
    // One download at a time in this process (their scratch files are named by process);
    // other processes write to their own names and rename into place.
    static FETCHING: Mutex<()> = Mutex::new(());
    let _one = FETCHING.lock().unwrap_or_else(|e| e.into_inner());
    if dest.is_file() {
        return Ok(dest);
    }
    ensure_writable(&dir)?;
    let wheel = dir.join(format!(".{}.{}", VAD_WHEEL.filename, std::process::id()));
    let result = (|| {
        let agent = agent(opts);
        let url = wheel_url(&agent, &opts.pypi_index, &VAD_WHEEL)?;
        download_verified(&agent, &url, &wheel, VAD_WHEEL.sha256, opts)?;
        unpack(&wheel, &dest)
    })();
    let _ = std::fs::remove_file(&wheel);
    result.map(|()| dest)
}

/// Takes the ONNX file out of the wheel into `dest` (through a temporary name, so that a
/// broken unpack leaves nothing in the cache) and checks its SHA-256.
fn unpack(wheel: &Path, dest: &Path) -> Result<()> {
    let fail = |reason: String| Error::Download {
        what: VAD_WHEEL.filename.to_string(),
        reason,
    };
    let cache_err = |source| Error::Cache {
        path: dest.to_path_buf(),
        source,
    };
    let file = File::open(wheel).map_err(cache_err)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| fail(format!("not a wheel: {e}")))?;
    let inner = format!("{}{VAD_FILE}", VAD_WHEEL.prefix);
    let mut entry = zip
        .by_name(&inner)
        .map_err(|e| fail(format!("{inner}: {e}")))?;
    let tmp = PathBuf::from(format!("{}.{}.tmp", dest.display(), std::process::id()));
    let copied = File::create(&tmp).and_then(|f| {
        let mut w = BufWriter::new(f);
        std::io::copy(&mut (&mut entry).take(64 << 20), &mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    });
    let checked = copied.map_err(cache_err).and_then(|()| {
        let actual = sha256_file(&tmp).map_err(cache_err)?;
        if !actual.eq_ignore_ascii_case(VAD_SHA256) {
            return Err(Error::ChecksumMismatch {
                what: inner.clone(),
                expected: VAD_SHA256.to_string(),
                actual,
            });
        }
        std::fs::rename(&tmp, dest).map_err(cache_err)
    });
    if checked.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    checked
}
