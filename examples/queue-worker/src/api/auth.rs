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
    /// Parses `KEY:TENANT,KEY:TENANT` (tenants: letters, digits, `-`, `_`, `.`).
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
            if tenant.is_empty()
                || tenant.len() > 64
                || !tenant
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(format!(
                    "tenant '{tenant}' must be 1–64 letters, digits, '-', '_' or '.'"
                ));
            }
            entries.push((Sha256::digest(key.as_bytes()).into(), tenant.to_string()));
        }
        Ok(Keys { entries })
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
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
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
    }
}
