//! `/v1/tenant`: erase everything a tenant has stored, for "forget this customer" requests.
//! The request is recorded and answered at once (202); the janitor deletes every job the
//! tenant created up to that moment (rows, transcripts, webhook payloads, uploaded audio,
//! running jobs included) and any upload no row references, then marks it completed.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Tenant;
use super::errors::ApiError;
use super::AppState;
use crate::db::Erasure;
use crate::view::rfc3339;

/// An erasure as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureView {
    /// Erasure id.
    pub id: String,
    /// Always `tenant.erasure`.
    pub object: &'static str,
    /// pending, running or completed.
    pub status: String,
    /// RFC 3339; jobs created up to then are erased.
    pub created_at: String,
    /// RFC 3339, once completed.
    pub finished_at: Option<String>,
    /// Jobs deleted so far.
    pub jobs_deleted: i64,
    /// Uploaded audio objects deleted so far.
    pub audio_deleted: i64,
}

impl From<&Erasure> for ErasureView {
    fn from(e: &Erasure) -> Self {
        ErasureView {
            id: e.id.clone(),
            object: "tenant.erasure",
            status: e.status.clone(),
            created_at: rfc3339(e.created_at),
            finished_at: e.finished_at.map(rfc3339),
            jobs_deleted: e.jobs_deleted,
            audio_deleted: e.audio_deleted,
        }
    }
}

/// Erases all of the caller's jobs, transcripts and audio created up to now.
#[utoipa::path(delete, path = "/v1/tenant/data", tag = "tenant",
    responses(
        (status = 202, body = ErasureView, description = "Recorded; follow Location for completion"),
        (status = 401, description = "Missing or wrong API key"),
    ),
    security(("api_key" = [])))]
pub async fn erase(State(state): State<AppState>, tenant: Tenant) -> Result<Response, ApiError> {
    let erasure = state.db.create_erasure(&tenant.0).await?;
    tracing::info!(erasure = %erasure.id, tenant = %tenant.0, "tenant erasure requested");
    state.lifecycle.notify_one();
    let location = format!("/v1/tenant/erasures/{}", erasure.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(ErasureView::from(&erasure)),
    )
        .into_response())
}

/// The progress of one of the caller's erasures.
#[utoipa::path(get, path = "/v1/tenant/erasures/{id}", tag = "tenant",
    params(("id" = String, Path, description = "Erasure id")),
    responses((status = 200, body = ErasureView), (status = 404, description = "No such erasure for this key")),
    security(("api_key" = [])))]
pub async fn erasure(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ErasureView>, ApiError> {
    let e = state
        .db
        .erasure(&tenant.0, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no erasure '{id}'")))?;
    Ok(Json(ErasureView::from(&e)))
}
