//! API errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with the
//! right HTTP status. The code also travels in a response extension for the metrics layer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The error code of a refused request, read by the metrics middleware.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCode(pub &'static str);

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    param: Option<&'static str>,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: &'static str, message: String) -> Self {
        ApiError {
            status,
            kind,
            code,
            param: None,
            message,
        }
    }

    /// 400: the request is malformed or names something invalid.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message.into(),
        )
    }

    /// 401: no key or an unknown key.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            code,
            message.into(),
        )
    }

    /// 404: no such job for this tenant.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            message.into(),
        )
    }

    /// 409: the job is not in a state that allows this.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            code,
            message.into(),
        )
    }

    /// 408: the request body did not arrive in time (`upload_timeout` for uploads,
    /// `request_timeout` for other bodies).
    pub fn timeout(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            code,
            message.into(),
        )
    }

    /// 413: a request body (not an upload) is over its limit.
    pub fn body_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!("the request body is larger than {} KiB", limit_bytes / 1024),
        )
    }

    /// 413: the upload is over the limit.
    pub fn too_large(limit_mb: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "file_too_large",
            format!("file is larger than the {limit_mb} MB limit"),
        )
        .param("file")
    }

    /// 415: neither multipart nor JSON.
    pub fn unsupported_media(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            message.into(),
        )
    }

    /// 503: a dependency (database, storage) is down; retry later.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            code,
            message.into(),
        )
    }

    /// 504: the synchronous endpoint gave up waiting.
    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "server_error",
            "timeout",
            message.into(),
        )
    }

    /// 500.
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            code,
            message.into(),
        )
    }

    /// Names the request parameter at fault.
    pub fn param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        ApiError::unavailable(
            "database_unavailable",
            "the job database is unavailable; retry later",
        )
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> Self {
        use crate::storage::StorageError::*;
        match e {
            NotFound(_) => {
                ApiError::invalid("source_not_found", "no object at that url").param("url")
            }
            BadUrl { .. } => {
                ApiError::invalid("invalid_url", "the url is not a valid object URL").param("url")
            }
            Refused(reason) => ApiError::invalid("invalid_url", reason).param("url"),
            Unavailable(reason) => {
                tracing::error!(error = %reason, "object storage error");
                ApiError::unavailable(
                    "storage_unavailable",
                    "object storage is unavailable; retry later",
                )
            }
        }
    }
}

/// Gives every error answer OpenAI's shape: responses of the framework itself (a malformed
/// query, a wrong method, a body over the limit) arrive as plain text and are rewritten, with
/// their status kept.
pub async fn openai_shape(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ErrorCode>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (kind, code) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("invalid_request_error", "method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("invalid_request_error", "request_too_large"),
        StatusCode::REQUEST_TIMEOUT => ("invalid_request_error", "request_timeout"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("invalid_request_error", "unsupported_media_type"),
        StatusCode::NOT_FOUND => ("invalid_request_error", "not_found"),
        s if s.is_server_error() => ("server_error", "internal_error"),
        _ => ("invalid_request_error", "invalid_request"),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut out = ApiError::new(status, kind, code, message).into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}
