//! `/v1/tenant`: erase everything a tenant has stored, for "forget this customer" requests.
//! The request is recorded and answered at once (202); the janitor deletes every job the
//! tenant created up to that moment (rows, transcripts, webhook payloads, uploaded audio,
//! running jobs included) and any upload no row references, then marks it completed.

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Tenant;
use super::body::read_json;
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

/// The caller's default hotwords, added to every transcription it asks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantHotwords {
    /// Always `tenant.hotwords`.
    pub object: &'static str,
    /// Terms to recognise with their spelling (customers, products, competitors).
    pub hotwords: Vec<String>,
}

/// `PUT /v1/tenant/hotwords` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetHotwords {
    /// The new list (`["Kowalczyk", "Zyxtera"]`); `[]` removes it.
    pub hotwords: Vec<String>,
}

fn hotwords_object() -> &'static str {
    "tenant.hotwords"
}

/// The caller's default hotwords.
#[utoipa::path(get, path = "/v1/tenant/hotwords", tag = "tenant",
    responses((status = 200, body = TenantHotwords), (status = 401, description = "Missing or wrong API key")),
    security(("api_key" = [])))]
pub async fn hotwords(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<TenantHotwords>, ApiError> {
    Ok(Json(TenantHotwords {
        object: hotwords_object(),
        hotwords: state.db.tenant_hotwords(&tenant.0).await?,
    }))
}

/// Replaces the caller's default hotwords (`[]` removes them); jobs created from then on
/// get them after their own.
#[utoipa::path(put, path = "/v1/tenant/hotwords", tag = "tenant",
    request_body = SetHotwords,
    responses(
        (status = 200, body = TenantHotwords, description = "The list as stored (trimmed, each term once)"),
        (status = 400, description = "A term is too long, holds a comma or control character, or there are too many"),
        (status = 401, description = "Missing or wrong API key"),
    ),
    security(("api_key" = [])))]
pub async fn set_hotwords(
    State(state): State<AppState>,
    tenant: Tenant,
    request: Request,
) -> Result<Json<TenantHotwords>, ApiError> {
    let body: SetHotwords = read_json(request, state.config.request_timeout()).await?;
    let list = stenograph::transcribe::hotword_list(&body.hotwords)
        .map_err(super::upload::refuse("invalid_hotwords", "hotwords"))?;
    state.db.set_tenant_hotwords(&tenant.0, &list).await?;
    tracing::info!(tenant = %tenant.0, terms = list.len(), "tenant hotwords set");
    Ok(Json(TenantHotwords {
        object: hotwords_object(),
        hotwords: list,
    }))
}
