//! Where fetched and imported models live on disk.

use std::path::{Path, PathBuf};

use super::download::FetchOptions;
use crate::error::{Error, Result};

/// Environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "STENOGRAPH_CACHE_DIR";

/// The model cache: the option's directory, else `$STENOGRAPH_CACHE_DIR`, else the platform
/// cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux) + `stenograph/models`.
pub fn cache_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("stenograph")
        .join("models")
}

/// Creates the cache directory if needed and checks that it can be written.
pub(crate) fn ensure_writable(dir: &Path) -> Result<()> {
    let cache_err = |source| Error::Cache {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(cache_err)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(cache_err)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Cache path for a ggml file imported from a CTranslate2 directory (keyed by its path).
pub(crate) fn imported_path(export_dir: &Path, opts: &FetchOptions) -> Result<PathBuf> {
    let dir = cache_dir(opts.cache_dir.as_deref());
    ensure_writable(&dir)?;
    let canonical = export_dir
        .canonicalize()
        .unwrap_or_else(|_| export_dir.to_path_buf());
    let key: String = canonical
        .display()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Ok(dir.join(format!("imported-{}.bin", key.trim_matches('_'))))
}
