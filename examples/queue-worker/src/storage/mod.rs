//! Audio in object storage: a local directory by default, any S3-compatible service in
//! production. Uploads go to the service's own area, `uploads/TENANT/JOB_ID` under the storage
//! URL; a JSON job may name only objects under its tenant's input prefixes
//! ([`prefixes`]), never the service's own area. Local directories are read without following
//! symbolic links ([`local`]).

#[cfg(unix)]
mod local;
mod prefixes;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStore, PutPayload, RetryConfig};
use url::Url;

pub use prefixes::Prefixes;

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
    /// Something that must not be read is in the way (a symbolic link, not a regular file).
    #[error("{0}")]
    Refused(String),
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

/// One place objects live: a local directory or a prefix in a bucket.
#[derive(Clone, Debug)]
enum Store {
    #[cfg(unix)]
    Local(local::LocalDir),
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: Path,
    },
}

/// A file found by a listing: its key relative to the listed directory and when it was written.
#[derive(Clone, Debug)]
pub struct Listed {
    /// The object's name within the directory.
    pub name: String,
    /// Last modification, Unix ms.
    pub modified_ms: i64,
}

impl Store {
    /// `file:///DIR/` (created when `create`) or `s3://BUCKET/PREFIX/`.
    fn open(url: &Url, create: bool) -> Result<Self, StorageError> {
        match url.scheme() {
            "file" => {
                let dir = url
                    .to_file_path()
                    .map_err(|_| bad(url.as_str(), "not a local path"))?;
                local_store(&dir, create).map_err(|e| bad(url.as_str(), &e))
            }
            _ => {
                let store = root_store(url)?;
                let prefix = Path::from_url_path(url.path())
                    .map_err(|e| bad(url.as_str(), &e.to_string()))?;
                Ok(Store::Object { store, prefix })
            }
        }
    }

    fn object_path(prefix: &Path, parts: &[String]) -> Path {
        prefix
            .parts()
            .chain(
                parts
                    .iter()
                    .map(|p| object_store::path::PathPart::from(p.as_str())),
            )
            .collect()
    }

    async fn put(&self, parts: Vec<String>, bytes: Bytes) -> Result<(), StorageError> {
        match self {
            #[cfg(unix)]
            Store::Local(dir) => {
                let dir = dir.clone();
                blocking(move || dir.write(&refs(&parts), &bytes)).await
            }
            Store::Object { store, prefix } => {
                store
                    .put(&Self::object_path(prefix, &parts), PutPayload::from(bytes))
                    .await?;
                Ok(())
            }
        }
    }

    async fn get(&self, parts: Vec<String>) -> Result<Bytes, StorageError> {
        match self {
            #[cfg(unix)]
            Store::Local(dir) => {
                let dir = dir.clone();
                blocking(move || dir.read(&refs(&parts)))
                    .await
                    .map(Bytes::from)
            }
            Store::Object { store, prefix } => Ok(store
                .get(&Self::object_path(prefix, &parts))
                .await?
                .bytes()
                .await?),
        }
    }

    async fn size(&self, parts: Vec<String>) -> Result<u64, StorageError> {
        match self {
            #[cfg(unix)]
            Store::Local(dir) => {
                let dir = dir.clone();
                blocking(move || dir.size(&refs(&parts))).await
            }
            Store::Object { store, prefix } => {
                Ok(store.head(&Self::object_path(prefix, &parts)).await?.size)
            }
        }
    }

    async fn delete(&self, parts: Vec<String>) -> Result<(), StorageError> {
        match self {
            #[cfg(unix)]
            Store::Local(dir) => {
                let dir = dir.clone();
                blocking(move || dir.remove(&refs(&parts))).await
            }
            Store::Object { store, prefix } => {
                match store.delete(&Self::object_path(prefix, &parts)).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// The objects directly in the directory `parts`.
    async fn list(&self, parts: Vec<String>) -> Result<Vec<Listed>, StorageError> {
        match self {
            #[cfg(unix)]
            Store::Local(dir) => {
                let dir = dir.clone();
                let entries = blocking(move || dir.list(&refs(&parts))).await?;
                Ok(entries
                    .into_iter()
                    .map(|e| Listed {
                        name: e.name,
                        modified_ms: e.modified_ms,
                    })
                    .collect())
            }
            Store::Object { store, prefix } => {
                let dir = Self::object_path(prefix, &parts);
                let metas: Vec<_> = store.list(Some(&dir)).try_collect().await?;
                Ok(metas
                    .into_iter()
                    .filter_map(|m| {
                        let rest: Vec<_> = m.location.prefix_match(&dir)?.collect();
                        (rest.len() == 1).then(|| Listed {
                            name: rest[0].as_ref().to_string(),
                            modified_ms: m.last_modified.timestamp_millis(),
                        })
                    })
                    .collect())
            }
        }
    }

    async fn check(&self) -> Result<(), StorageError> {
        match self {
            #[cfg(unix)]
            Store::Local(dir) => {
                let dir = dir.clone();
                blocking(move || dir.check()).await
            }
            Store::Object { store, prefix } => {
                store.list_with_delimiter(Some(prefix)).await?;
                Ok(())
            }
        }
    }
}

#[cfg(unix)]
fn local_store(dir: &std::path::Path, create: bool) -> Result<Store, String> {
    local::LocalDir::open(dir, create)
        .map(Store::Local)
        .map_err(|e| e.to_string())
}

#[cfg(not(unix))]
fn local_store(_: &std::path::Path, _: bool) -> Result<Store, String> {
    Err("local storage needs a Unix system; use s3://".into())
}

#[cfg(unix)]
fn refs(parts: &[String]) -> Vec<&str> {
    parts.iter().map(String::as_str).collect()
}

#[cfg(unix)]
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, local::LocalError> + Send + 'static,
) -> Result<T, StorageError> {
    use local::LocalError;
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(LocalError::NotFound)) => Err(StorageError::NotFound("the object".into())),
        Ok(Err(LocalError::Refused(why))) => Err(StorageError::Refused(why.into())),
        Ok(Err(LocalError::Io(e))) => Err(StorageError::Unavailable(e.to_string())),
        Err(e) => Err(StorageError::Unavailable(e.to_string())),
    }
}

/// Where a job's audio is.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The object's URL.
    pub url: &'a str,
    /// Uploaded to the service's own area (else named by the tenant).
    pub owned: bool,
    /// The job's tenant.
    pub tenant: &'a str,
}

/// The service's audio store and the tenants' input prefixes.
#[derive(Debug)]
pub struct Storage {
    base: String,
    store: Store,
    inputs: Prefixes,
}

impl Storage {
    /// Opens `file:///DIR` (created if missing) or `s3://BUCKET[/PREFIX]`, and the tenants'
    /// input prefixes (`TENANT=URL` items; none may overlap the storage URL or each other).
    pub fn open(url: &str, input_prefixes: &[String]) -> Result<Self, StorageError> {
        let base = format!("{}/", url.trim_end_matches('/'));
        let parsed = parse(&base)?;
        let store = Store::open(&parsed, true)?;
        let inputs = Prefixes::open(input_prefixes, &parsed)
            .map_err(|reason| bad("STENOGRAPH_URL_PREFIXES", &reason))?;
        Ok(Storage {
            base,
            store,
            inputs,
        })
    }

    /// The tenants' input prefixes.
    pub fn inputs(&self) -> &Prefixes {
        &self.inputs
    }

    /// Stores an upload of `tenant` for job `id` and returns its URL.
    pub async fn put_upload(
        &self,
        tenant: &str,
        id: &str,
        bytes: Bytes,
    ) -> Result<String, StorageError> {
        let parts = vec!["uploads".to_string(), tenant.to_string(), id.to_string()];
        self.store.put(parts, bytes).await?;
        Ok(format!("{}uploads/{tenant}/{id}", self.base))
    }

    /// The audio of a job.
    pub async fn get(&self, source: Source<'_>) -> Result<Bytes, StorageError> {
        if source.owned {
            let parts = self.owned_parts(source.url, Some(source.tenant))?;
            return self.store.get(parts).await;
        }
        let (store, parts) = self.inputs.resolve(source.tenant, source.url)?;
        store.get(parts).await
    }

    /// Whether `tenant` may name `url` as a job's input. Decided from the URL and the
    /// configuration alone, before any storage access, so a refusal says nothing about what
    /// exists.
    pub fn input_allowed(&self, tenant: &str, url: &str) -> bool {
        !url.starts_with(&self.base) && self.inputs.resolve(tenant, url).is_ok()
    }

    /// The size of an input object of `tenant` (after [`Storage::input_allowed`]).
    pub async fn input_size(&self, tenant: &str, url: &str) -> Result<u64, StorageError> {
        let (store, parts) = self.inputs.resolve(tenant, url)?;
        store.size(parts).await
    }

    /// Deletes an uploaded object (absent is fine).
    pub async fn delete_owned(&self, url: &str) -> Result<(), StorageError> {
        let parts = self.owned_parts(url, None)?;
        self.store.delete(parts).await
    }

    /// The URLs of `tenant`'s uploads and when each was written.
    pub async fn list_uploads(&self, tenant: &str) -> Result<Vec<(String, i64)>, StorageError> {
        let listed = self
            .store
            .list(vec!["uploads".to_string(), tenant.to_string()])
            .await?;
        Ok(listed
            .into_iter()
            .map(|l| {
                (
                    format!("{}uploads/{tenant}/{}", self.base, l.name),
                    l.modified_ms,
                )
            })
            .collect())
    }

    /// Whether the configured store answers (readiness).
    pub async fn check(&self) -> Result<(), StorageError> {
        self.store.check().await
    }

    /// The key parts of an upload URL: `uploads/TENANT/ID` under the storage URL (of `tenant`
    /// when given).
    fn owned_parts(&self, url: &str, tenant: Option<&str>) -> Result<Vec<String>, StorageError> {
        let refused = || StorageError::Refused("not an upload of this service".into());
        let key = url.strip_prefix(&self.base).ok_or_else(refused)?;
        let parts: Vec<String> = key.split('/').map(str::to_string).collect();
        let ok = parts.len() == 3
            && parts[0] == "uploads"
            && tenant.is_none_or(|t| parts[1] == t)
            && crate::tenants::check_name(&parts[1]).is_ok()
            && !parts[2].is_empty()
            && parts[2]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(refused());
        }
        Ok(parts)
    }
}

/// Whether `url` is written canonically (no `.`/`..` segments, plain or encoded), so that a
/// prefix test on its text is a test on the object it names.
fn canonical(url: &str) -> Option<Url> {
    let parsed = Url::parse(url).ok()?;
    let plain = parsed.as_str() == url
        && !url.to_ascii_lowercase().contains("%2e")
        && !url.to_ascii_lowercase().contains("%2f")
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    plain.then_some(parsed)
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

    #[tokio::test]
    async fn uploads_round_trip_and_stay_in_their_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let s = Storage::open(&url, &[]).unwrap();
        let at = s
            .put_upload("t", "0190-ab", Bytes::from_static(b"RIFF"))
            .await
            .unwrap();
        assert_eq!(at, format!("{url}/uploads/t/0190-ab"));
        let mine = Source {
            url: &at,
            owned: true,
            tenant: "t",
        };
        assert_eq!(s.get(mine).await.unwrap().as_ref(), b"RIFF");
        let theirs = Source {
            tenant: "u",
            ..mine
        };
        assert!(matches!(s.get(theirs).await, Err(StorageError::Refused(_))));
        assert_eq!(s.list_uploads("t").await.unwrap().len(), 1);
        assert!(s.list_uploads("u").await.unwrap().is_empty());
        s.delete_owned(&at).await.unwrap();
        assert!(matches!(s.get(mine).await, Err(StorageError::NotFound(_))));
        for bad in [
            format!("{url}/uploads/t/../u/x"),
            format!("{url}/stenograph.db"),
            "file:///etc/passwd".to_string(),
        ] {
            assert!(s.delete_owned(&bad).await.is_err(), "{bad}");
        }
        s.check().await.unwrap();
    }

    #[test]
    fn canonical_urls_only() {
        assert!(canonical("s3://b/in/call.wav").is_some());
        for bad in [
            "s3://b/in/../x.wav",
            "s3://b/in/%2e%2e/x.wav",
            "s3://b/in/%2E/x.wav",
            "s3://b/in/a%2fb.wav",
            "s3://b/in/x.wav?versionId=1",
            "s3://b/in/x.wav#f",
            "s3://user:pw@b/in/x.wav",
            "not a url",
        ] {
            assert!(canonical(bad).is_none(), "{bad}");
        }
    }
}
