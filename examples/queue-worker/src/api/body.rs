//! Small request parts read with limits: JSON bodies (a size cap checked before and while
//! reading, and a time limit) and query strings, each refused with an OpenAI-shaped error.

use std::time::Duration;

use axum::extract::{FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;

use super::errors::ApiError;

/// Largest JSON body: the longest valid job (a 4096-byte prompt, escaped, and two URLs)
/// fits with room to spare.
pub const MAX_JSON_BYTES: usize = 32 * 1024;

/// The request's media type, lower-case (empty when absent).
pub fn content_type(request: &Request) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads and drops up to `limit` bytes of the body within `timeout`, so that a refusal decided
/// before the body reaches a client still sending it (the connection is not closed under it).
pub async fn discard(request: Request, limit: u64, timeout: Duration) {
    let mut body = request.into_body();
    let mut read = 0u64;
    let _ = tokio::time::timeout(timeout, async {
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > limit {
                break;
            }
        }
    })
    .await;
}

/// Reads a JSON body of at most [`MAX_JSON_BYTES`] within `timeout`.
pub async fn read_json<T: DeserializeOwned>(
    request: Request,
    timeout: Duration,
) -> Result<T, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_JSON_BYTES as u64) {
        return Err(ApiError::body_too_large(MAX_JSON_BYTES));
    }
    let body = Limited::new(request.into_body(), MAX_JSON_BYTES);
    let bytes = match tokio::time::timeout(timeout, body.collect()).await {
        Err(_) => {
            return Err(ApiError::timeout(
                "request_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    timeout.as_secs_f64()
                ),
            ))
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiError::body_too_large(MAX_JSON_BYTES))
        }
        Ok(Err(e)) => {
            return Err(ApiError::invalid(
                "invalid_json",
                format!("the request body could not be read: {e}"),
            ))
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid("invalid_json", format!("invalid JSON body: {e}")))
}

/// A query string parsed into `T`; a malformed one is a 400 `invalid_query`.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::try_from_uri(&parts.uri)
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::invalid("invalid_query", e.body_text()))
    }
}
