//! Each tenant's input prefixes (`STENOGRAPH_URL_PREFIXES=tenantA=s3://bucket/a/,…`): the only
//! objects a JSON job may name. A URL is accepted when it is written canonically and lies under
//! one of its own tenant's prefixes; every other URL gets the same refusal, decided before any
//! storage access. Prefixes may not overlap the service's storage URL (uploads of every
//! tenant live there) or another tenant's prefix.

use std::collections::HashMap;

use object_store::path::Path;
use url::Url;

use super::{canonical, StorageError, Store};

#[derive(Debug)]
struct Prefix {
    /// Canonical, ending in `/`.
    url: String,
    store: Store,
}

/// Every tenant's prefixes.
#[derive(Debug, Default)]
pub struct Prefixes {
    by_tenant: HashMap<String, Vec<Prefix>>,
}

impl Prefixes {
    /// Parses `TENANT=URL` items and opens their stores; `base` is the service's storage URL.
    pub fn open(items: &[String], base: &Url) -> Result<Self, String> {
        let mut by_tenant: HashMap<String, Vec<Prefix>> = HashMap::new();
        let mut seen: Vec<(String, String)> = Vec::new();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let (tenant, url) = item
                .split_once('=')
                .ok_or_else(|| format!("'{item}' is not TENANT=URL"))?;
            let tenant = tenant.trim();
            crate::tenants::check_name(tenant)?;
            let url = format!("{}/", url.trim().trim_end_matches('/'));
            let parsed = canonical(&url)
                .filter(|u| matches!(u.scheme(), "s3" | "file"))
                .ok_or_else(|| {
                    format!("'{url}' must be a plain s3://BUCKET/PREFIX/ or file:///DIR/ URL")
                })?;
            for (other_tenant, other) in seen
                .iter()
                .map(|(t, u)| (t.as_str(), u.as_str()))
                .chain([("", base.as_str())])
            {
                if other_tenant == tenant {
                    continue;
                }
                if overlaps(&url, other) || same_directory(&parsed, other) {
                    return Err(if other_tenant.is_empty() {
                        format!(
                            "'{url}' overlaps the storage URL, where every tenant's uploads are"
                        )
                    } else {
                        format!("'{url}' of tenant '{tenant}' overlaps a prefix of tenant '{other_tenant}'")
                    });
                }
            }
            let store = Store::open(&parsed, false).map_err(|e| e.to_string())?;
            seen.push((tenant.to_string(), url.clone()));
            by_tenant
                .entry(tenant.to_string())
                .or_default()
                .push(Prefix { url, store });
        }
        Ok(Prefixes { by_tenant })
    }

    /// Tenants with at least one prefix.
    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.by_tenant.keys().map(String::as_str)
    }

    /// The store and key of `url` for `tenant`, or the one refusal every disallowed URL gets.
    pub(super) fn resolve(
        &self,
        tenant: &str,
        url: &str,
    ) -> Result<(&Store, Vec<String>), StorageError> {
        let refused =
            || StorageError::Refused("url is not under an input prefix of this API key".into());
        canonical(url).ok_or_else(refused)?;
        let prefix = self
            .by_tenant
            .get(tenant)
            .into_iter()
            .flatten()
            .find(|p| url.len() > p.url.len() && url.starts_with(&p.url))
            .ok_or_else(refused)?;
        let key = Path::from_url_path(&url[prefix.url.len()..]).map_err(|_| refused())?;
        let parts: Vec<String> = key.parts().map(|p| p.as_ref().to_string()).collect();
        if parts.is_empty() || url.ends_with('/') {
            return Err(refused());
        }
        Ok((&prefix.store, parts))
    }
}

/// Whether one URL prefix contains the other.
fn overlaps(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// For `file:` URLs that exist: whether the directories, links resolved, contain each other.
fn same_directory(a: &Url, b: &str) -> bool {
    let dir = |u: &Url| {
        (u.scheme() == "file")
            .then(|| u.to_file_path().ok())
            .flatten()
            .and_then(|p| std::fs::canonicalize(p).ok())
    };
    match (dir(a), Url::parse(b).ok().as_ref().and_then(dir)) {
        (Some(x), Some(y)) => x.starts_with(&y) || y.starts_with(&x),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_tenant_reaches_only_its_own_prefixes() {
        let t = tempfile::tempdir().unwrap();
        let base = Url::parse(&format!("file://{}/audio/", t.path().display())).unwrap();
        let a = format!("file://{}/in/a", t.path().display());
        let p = Prefixes::open(
            &items(&[&format!("a={a}"), "b=s3://calls/b/", "a=s3://calls/a2"]),
            &base,
        )
        .unwrap();
        assert!(p.resolve("a", &format!("{a}/call.wav")).is_ok());
        assert!(p.resolve("a", "s3://calls/a2/x/y.mp3").is_ok());
        assert!(p.resolve("b", "s3://calls/b/call.wav").is_ok());
        for (tenant, url) in [
            ("b", format!("{a}/call.wav")),
            ("a", "s3://calls/b/call.wav".to_string()),
            ("a", format!("{a}/../b/call.wav")),
            ("a", format!("{a}/%2e%2e/b/call.wav")),
            ("a", format!("{a}/")),
            ("a", a.clone()),
            ("a", format!("{a}x/call.wav")),
            ("a", "s3://calls/a2/x//y.mp3".to_string()),
            ("c", "s3://calls/b/call.wav".to_string()),
            ("a", format!("{}uploads/a/1", base)),
        ] {
            let e = p
                .resolve(tenant, &url)
                .err()
                .unwrap_or_else(|| panic!("{tenant} {url}"));
            assert_eq!(
                e.to_string(),
                "url is not under an input prefix of this API key",
                "{url}"
            );
        }
    }

    #[test]
    fn overlapping_or_malformed_prefixes_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let base = Url::parse(&format!("file://{}/audio/", t.path().display())).unwrap();
        std::fs::create_dir_all(t.path().join("audio/uploads")).unwrap();
        std::os::unix::fs::symlink(t.path().join("audio"), t.path().join("alias")).unwrap();
        let root = t.path().display();
        for bad in [
            vec![format!("a=file://{root}/audio/uploads/")],
            vec![format!("a=file://{root}/")],
            vec![format!("a=file://{root}/alias/uploads/")],
            vec!["a=s3://calls/in/".into(), "b=s3://calls/in/b/".into()],
            vec!["a=s3://calls/in/../x/".into()],
            vec!["a=http://calls/in/".into()],
            vec!["..=s3://calls/in/".into()],
            vec!["s3://calls/in/".into()],
        ] {
            assert!(Prefixes::open(&bad, &base).is_err(), "{bad:?}");
        }
        let s3_base = Url::parse("s3://calls/stenograph/").unwrap();
        assert!(Prefixes::open(&items(&["a=s3://calls/"]), &s3_base).is_err());
        assert!(Prefixes::open(&items(&["a=s3://calls/stenograph/uploads/a/"]), &s3_base).is_err());
        assert!(Prefixes::open(&items(&["a=s3://calls/inbox/"]), &s3_base).is_ok());
        assert!(Prefixes::open(&[], &s3_base)
            .unwrap()
            .tenants()
            .next()
            .is_none());
    }
}
