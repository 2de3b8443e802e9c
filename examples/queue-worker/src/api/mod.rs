//! The HTTP API: jobs, tenant erasure, the OpenAI-compatible endpoint, health and the
//! OpenAPI document; and the operations listener (metrics and detailed health), which is never
//! served on the public port.

pub(crate) mod auth;
mod body;
pub(crate) mod errors;
mod jobs;
mod openai;
mod tenant;
mod upload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use stenograph::transcribe::{Format, Transcript};
use tokio::sync::Notify;
use utoipa::OpenApi;

pub use auth::Keys;
use errors::ErrorCode;

use crate::config::Config;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::storage::Storage;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Job store.
    pub db: Db,
    /// Audio store.
    pub storage: Arc<Storage>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// API keys.
    pub keys: Arc<Keys>,
    /// Settings.
    pub config: Arc<Config>,
    /// Wakes workers in this process when a job is queued.
    pub wake: Arc<Notify>,
    /// Wakes the janitor in this process when data is to be deleted.
    pub lifecycle: Arc<Notify>,
    /// Whether this process also runs workers (then /readyz waits for the model).
    pub ready: Arc<std::sync::atomic::AtomicBool>,
    /// Realtime sessions.
    pub realtime: Arc<crate::realtime::Hub>,
}

impl AppState {
    fn upload_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.config.upload_timeout_seconds.max(1.0))
    }
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Stenograph transcription service", description = "Queue transcription jobs, read their transcripts, or transcribe short clips synchronously (OpenAI-compatible)."),
    paths(jobs::create, jobs::get, jobs::list, jobs::delete, jobs::transcript, tenant::erase, tenant::erasure, tenant::hotwords, tenant::set_hotwords, openai::transcriptions, openai::translations, healthz, readyz),
    components(schemas(jobs::Created, jobs::JobFromUrl, jobs::JobList, crate::view::JobView, crate::view::JobError, tenant::ErasureView, tenant::TenantHotwords, tenant::SetHotwords)),
    modifiers(&SecurityAddon)
)]
pub struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "api_key",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Every public route.
pub fn router(state: AppState) -> Router {
    // Twice the file limit and a little for the other fields: an upload up to this size is
    // read to its end and answered 413; a larger one is cut off.
    let upload_limit = (2 * state
        .config
        .max_upload_mb
        .max(state.config.sync_max_upload_mb) as usize
        + 1)
        * 1024
        * 1024;
    Router::new()
        .route("/v1/jobs", post(jobs::create).get(jobs::list))
        .route("/v1/jobs/{id}", get(jobs::get).delete(jobs::delete))
        .route("/v1/jobs/{id}/transcript", get(jobs::transcript))
        .route("/v1/tenant/data", delete(tenant::erase))
        .route("/v1/tenant/erasures/{id}", get(tenant::erasure))
        .route(
            "/v1/tenant/hotwords",
            get(tenant::hotwords).put(tenant::set_hotwords),
        )
        .route("/v1/audio/transcriptions", post(openai::transcriptions))
        .route("/v1/audio/translations", post(openai::translations))
        .route("/v1/realtime", get(crate::realtime::connect))
        .route("/demo/realtime", get(crate::realtime::page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(middleware::map_response(errors::openai_shape))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// What the operations listener needs.
#[derive(Clone)]
pub struct Ops {
    /// Job store (queue gauges, readiness).
    pub db: Db,
    /// Audio store (readiness).
    pub storage: Arc<Storage>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Whether the model is loaded (always true in a process without workers).
    pub ready: Arc<std::sync::atomic::AtomicBool>,
    /// Bearer token `/metrics` requires, if any.
    pub token: Option<Arc<str>>,
}

/// The operations listener's routes: `/metrics` (behind the token when one is set),
/// `/healthz`, and `/readyz` with the reason of each failing dependency.
pub fn ops_router(ops: Ops) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route(
            "/readyz",
            get(|State(o): State<Ops>| async move {
                let model = o.ready.load(std::sync::atomic::Ordering::SeqCst);
                ready_response(&o.db, &o.storage, model, true).await
            }),
        )
        .with_state(ops)
}

/// Counts and logs every request; refused ones by error code. A refused request that came
/// with a body is answered with `Connection: close`: its body may not have been read, and the
/// connection is not reused for another request.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().clone();
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let started = Instant::now();
    let mut response = next.run(request).await;
    let status = response.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    let m = &state.metrics;
    m.http_requests
        .with_label_values(&[&route, status.as_str()])
        .inc();
    m.http_seconds
        .with_label_values(&[&route])
        .observe(started.elapsed().as_secs_f64());
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        m.http_errors.with_label_values(&[code]).inc();
        tracing::info!(%method, %route, status = status.as_u16(), code, "request refused");
    }
    response
}

async fn not_found() -> errors::ApiError {
    errors::ApiError::not_found("no such endpoint")
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database and storage answer (and, with workers in this process, the model is loaded).
/// The public answer says which part is down, not why; the operations port says why.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "Ready"), (status = 503, description = "Not ready")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    ready_response(
        &state.db,
        &state.storage,
        state.ready.load(std::sync::atomic::Ordering::SeqCst),
        false,
    )
    .await
}

/// The readiness answer; `details` adds each failure's reason.
async fn ready_response(db: &Db, storage: &Storage, model_ready: bool, details: bool) -> Response {
    let db_ok = db.ping().await.map_err(|e| e.to_string());
    let storage_ok = storage.check().await.map_err(|e| e.to_string());
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) if details => e.clone(),
        Err(_) => "unavailable".to_string(),
    };
    for (part, r) in [("database", &db_ok), ("storage", &storage_ok)] {
        if let Err(e) = r {
            tracing::warn!(part, error = %e, "not ready");
        }
    }
    let body = serde_json::json!({
        "database": show(&db_ok),
        "storage": show(&storage_ok),
        "model": if model_ready { "ok" } else { "loading" },
    });
    let code = if db_ok.is_ok() && storage_ok.is_ok() && model_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

/// Prometheus metrics, on the operations listener.
async fn metrics(State(ops): State<Ops>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &ops.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(auth::bearer)
            .unwrap_or("");
        let ok: bool = subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into();
        if !ok {
            return errors::ApiError::unauthorized(
                "invalid_metrics_token",
                "send 'Authorization: Bearer METRICS_TOKEN'",
            )
            .into_response();
        }
    }
    if let Err(e) = ops.metrics.refresh_queue(&ops.db).await {
        tracing::warn!(error = %e, "queue metrics unavailable");
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A transcript in `format` with its content type.
fn render(t: &Transcript, format: Format) -> Response {
    (
        [(header::CONTENT_TYPE, format.content_type())],
        t.render(format),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_lists_every_route() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/v1/jobs",
            "/v1/jobs/{id}",
            "/v1/jobs/{id}/transcript",
            "/v1/tenant/data",
            "/v1/tenant/erasures/{id}",
            "/v1/audio/transcriptions",
            "/v1/audio/translations",
            "/healthz",
            "/readyz",
        ] {
            assert!(
                paths.contains_key(p),
                "{p} missing from the OpenAPI document"
            );
        }
        assert!(paths["/v1/jobs"].get("post").is_some() && paths["/v1/jobs"].get("get").is_some());
        assert!(paths["/v1/jobs/{id}"].get("delete").is_some());
    }
}
