//! Audio in object storage (`object_store`): a local directory by default, any S3-compatible
//! service in production. Uploads go under the configured URL; jobs may also name objects
//! under the allowed input prefixes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStore, PutPayload, RetryConfig};
use url::Url;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL is malformed or of an unsupported scheme.
    #[error("storage URL '{url}': {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// No object at that URL.
    #[error("no object at {0}")]
    NotFound(String),
    /// The service failed or could not be reached.
    #[error("object storage unavailable: {0}")]
    Unavailable(String),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => StorageError::NotFound(path),
            other => StorageError::Unavailable(other.to_string()),
        }
    }
}

/// The configured store and any others that jobs name.
#[derive(Debug)]
pub struct Storage {
    base: String,
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    others: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Storage {
    /// Opens `file:///DIR` (created if missing) or `s3://BUCKET[/PREFIX]`.
    pub fn open(url: &str) -> Result<Self, StorageError> {
        let base = format!("{}/", url.trim_end_matches('/'));
        let parsed = parse(&base)?;
        let (store, prefix) = match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|_| bad(url, "not a local path"))?;
                std::fs::create_dir_all(&dir).map_err(|e| bad(url, &e.to_string()))?;
                let store =
                    LocalFileSystem::new_with_prefix(&dir).map_err(|e| bad(url, &e.to_string()))?;
                (Arc::new(store) as Arc<dyn ObjectStore>, Path::default())
            }
            _ => {
                let store = root_store(&parsed)?;
                let prefix =
                    Path::from_url_path(parsed.path()).map_err(|e| bad(url, &e.to_string()))?;
                (store, prefix)
            }
        };
        Ok(Storage {
            base,
            store,
            prefix,
            others: Mutex::new(HashMap::new()),
        })
    }

    /// The configured URL, ending in `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Stores `bytes` under `key` (relative to the configured URL) and returns its URL.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<String, StorageError> {
        let path = self.prefix.parts().chain(Path::from(key).parts()).collect();
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(format!("{}{key}", self.base))
    }

    /// The object at `url`.
    pub async fn get(&self, url: &str) -> Result<Bytes, StorageError> {
        let (store, path) = self.resolve(url)?;
        Ok(store.get(&path).await?.bytes().await?)
    }

    /// The size of the object at `url`.
    pub async fn size(&self, url: &str) -> Result<u64, StorageError> {
        let (store, path) = self.resolve(url)?;
        Ok(store.head(&path).await?.size)
    }

    /// Deletes the object at `url` (absent is fine).
    pub async fn delete(&self, url: &str) -> Result<(), StorageError> {
        let (store, path) = self.resolve(url)?;
        match store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the configured store answers (readiness).
    pub async fn check(&self) -> Result<(), StorageError> {
        self.store.list_with_delimiter(Some(&self.prefix)).await?;
        Ok(())
    }

    fn resolve(&self, url: &str) -> Result<(Arc<dyn ObjectStore>, Path), StorageError> {
        let parsed = parse(url)?;
        if let Some(key) = url.strip_prefix(&self.base) {
            let key = Path::from_url_path(key).map_err(|e| bad(url, &e.to_string()))?;
            let path = self.prefix.parts().chain(key.parts()).collect();
            return Ok((self.store.clone(), path));
        }
        let path = Path::from_url_path(parsed.path()).map_err(|e| bad(url, &e.to_string()))?;
        let root = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or(""));
        let mut others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = others.get(&root) {
            return Ok((store.clone(), path));
        }
        let store = match parsed.scheme() {
            "file" => Arc::new(LocalFileSystem::new()) as Arc<dyn ObjectStore>,
            _ => root_store(&parsed)?,
        };
        others.insert(root, store.clone());
        Ok((store, path))
    }
}

/// Whether `url` names an object under one of `prefixes` without path tricks.
pub fn allowed(url: &str, prefixes: &[String]) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    // Url::parse resolves dot segments; a URL that changes under it hid `..` or `.`.
    parsed.as_str() == url
        && !url.contains("%2e")
        && !url.contains("%2E")
        && prefixes
            .iter()
            .any(|p| url.starts_with(&format!("{}/", p.trim_end_matches('/'))))
}

fn parse(url: &str) -> Result<Url, StorageError> {
    Url::parse(url).map_err(|e| bad(url, &e.to_string()))
}

fn bad(url: &str, reason: &str) -> StorageError {
    StorageError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

/// An S3 store for the bucket of `url`, configured from the `AWS_*` environment; plain HTTP
/// is allowed when the endpoint is `http://` (a local S3-compatible server).
fn root_store(url: &Url) -> Result<Arc<dyn ObjectStore>, StorageError> {
    if url.scheme() != "s3" {
        return Err(bad(
            url.as_str(),
            "only file:// and s3:// URLs are supported",
        ));
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .or_else(|_| std::env::var("AWS_ENDPOINT"))
        .unwrap_or_default();
    // A few quick retries, so that an outage surfaces in seconds as `Unavailable` (the queue
    // retries later) instead of holding a request for minutes.
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
    };
    let mut builder = AmazonS3Builder::from_env()
        .with_url(url.as_str())
        .with_retry(retry);
    if endpoint.starts_with("http://") {
        builder = builder.with_allow_http(true);
    }
    let store = builder
        .build()
        .map_err(|e| bad(url.as_str(), &e.to_string()))?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_urls_under_a_prefix_are_allowed() {
        let prefixes = vec!["s3://audio/in".to_string()];
        assert!(allowed("s3://audio/in/call.wav", &prefixes));
        assert!(allowed("s3://audio/in/a/b.mp3", &prefixes));
        assert!(!allowed("s3://audio/inbox/call.wav", &prefixes));
        assert!(!allowed("s3://audio/in/../secret.wav", &prefixes));
        assert!(!allowed("s3://audio/in/%2e%2e/secret.wav", &prefixes));
        assert!(!allowed("s3://other/in/call.wav", &prefixes));
        assert!(!allowed("not a url", &prefixes));
    }

    #[tokio::test]
    async fn local_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let s = Storage::open(&url).unwrap();
        let at = s.put("t/a.wav", Bytes::from_static(b"RIFF")).await.unwrap();
        assert_eq!(at, format!("{url}/t/a.wav"));
        assert_eq!(s.get(&at).await.unwrap().as_ref(), b"RIFF");
        assert_eq!(s.size(&at).await.unwrap(), 4);
        assert!(dir.path().join("t/a.wav").exists());
        s.delete(&at).await.unwrap();
        assert!(matches!(s.get(&at).await, Err(StorageError::NotFound(_))));
        s.check().await.unwrap();
    }
}
