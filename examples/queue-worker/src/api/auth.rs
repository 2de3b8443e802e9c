//! API keys: `Authorization: Bearer KEY`, each key mapped to one tenant. Keys are compared
//! as SHA-256 digests in constant time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::errors::ApiError;
use super::AppState;

/// The tenant of requests when no keys are configured.
pub const OPEN_TENANT: &str = "default";

/// Configured keys.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    entries: Vec<([u8; 32], String)>,
}

impl Keys {
    /// Parses `KEY:TENANT,KEY:TENANT` (tenant names as [`crate::tenants::check_name`] says;
    /// each key once).
    pub fn parse(spec: Option<&str>) -> Result<Self, String> {
        let mut entries = Vec::new();
        for item in spec
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (key, tenant) = item
                .rsplit_once(':')
                .ok_or_else(|| "each API key must be written KEY:TENANT".to_string())?;
            if key.len() < 8 {
                return Err(format!(
                    "API key for tenant '{tenant}' is shorter than 8 characters"
                ));
            }
            crate::tenants::check_name(tenant)?;
            let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
            if entries.iter().any(|(k, _)| *k == digest) {
                return Err(format!(
                    "the same API key is given twice (the second time for tenant '{tenant}')"
                ));
            }
            entries.push((digest, tenant.to_string()));
        }
        Ok(Keys { entries })
    }

    /// Every tenant that has a key (or the open tenant when there are none).
    pub fn tenants(&self) -> Vec<&str> {
        if self.is_open() {
            return vec![OPEN_TENANT];
        }
        let mut t: Vec<&str> = self.entries.iter().map(|(_, t)| t.as_str()).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    /// Whether the API is open (no keys configured).
    pub fn is_open(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tenant of `key`.
    pub fn tenant(&self, key: &str) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for (k, tenant) in &self.entries {
            if bool::from(k.ct_eq(&digest)) {
                found = Some(tenant.as_str());
            }
        }
        found
    }
}

/// The credentials of an `Authorization: Bearer KEY` header; the scheme is case-insensitive.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, key) = header.trim().split_once(char::is_whitespace)?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// The caller's tenant, from its API key.
#[derive(Clone, Debug)]
pub struct Tenant(pub String);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.keys.is_open() {
            return Ok(Tenant(OPEN_TENANT.into()));
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_api_key",
                    "no API key: send 'Authorization: Bearer YOUR_KEY'",
                )
            })?;
        let key = bearer(header).ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_api_key",
                "the Authorization header must be 'Bearer YOUR_KEY'",
            )
        })?;
        state
            .keys
            .tenant(key)
            .map(|t| Tenant(t.to_string()))
            .ok_or_else(|| ApiError::unauthorized("invalid_api_key", "incorrect API key provided"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_tenants() {
        let k = Keys::parse(Some("alpha-key-1:alpha, beta-key-22:beta")).unwrap();
        assert_eq!(k.tenant("alpha-key-1"), Some("alpha"));
        assert_eq!(k.tenant("beta-key-22"), Some("beta"));
        assert_eq!(k.tenant("alpha-key-2"), None);
        assert_eq!(k.tenant(""), None);
        assert!(!k.is_open());
        assert!(Keys::parse(None).unwrap().is_open());
    }

    #[test]
    fn bad_key_specs_are_refused() {
        assert!(Keys::parse(Some("no-tenant-here")).is_err());
        assert!(Keys::parse(Some("short:t")).is_err());
        assert!(Keys::parse(Some("long-enough:../etc")).is_err());
        assert!(Keys::parse(Some("long-enough:..")).is_err());
        assert!(Keys::parse(Some("long-enough:.")).is_err());
        assert!(Keys::parse(Some("same-key-1:a,same-key-1:b")).is_err());
        assert_eq!(
            Keys::parse(Some("key-one-111:a,key-two-222:a,key-3333333:b"))
                .unwrap()
                .tenants(),
            ["a", "b"]
        );
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for h in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "BeArEr   k1 ",
            "Bearer\tk1",
        ] {
            assert_eq!(bearer(h), Some("k1"), "{h}");
        }
        for h in ["Basic k1", "Bearer", "Bearer ", "k1", "Bearerk1"] {
            assert_eq!(bearer(h), None, "{h}");
        }
    }
}
