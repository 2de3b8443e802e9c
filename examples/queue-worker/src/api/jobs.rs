//! `/v1/jobs`: create (upload or object URL), read, list, cancel, and fetch the transcript.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Tenant;
use super::body::{content_type, read_json, QueryParams};
use super::errors::ApiError;
use super::upload::{self, Form};
use super::AppState;
use crate::db::{status, Cancel, Job, JobInput, NewJob, Purge};
use crate::view::{self, JobView};
use crate::webhook::address;
use stenograph::transcribe::Format;

/// The multipart form of `POST /v1/jobs`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JobUpload {
    /// The audio file (any common format).
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// ISO 639-1 language; detected when absent or `auto`.
    language: Option<String>,
    /// Languages detection chooses from, comma-separated (`en,de,fr`); any when absent.
    languages: Option<String>,
    /// `transcribe` (default) or `translate` (to English; multilingual models).
    task: Option<String>,
    /// Text that conditions the transcription (names, spellings); `prompt` is accepted too.
    initial_prompt: Option<String>,
    /// "true" for per-word timings.
    word_timestamps: Option<bool>,
    /// `channels`: each channel of a multi-channel recording is a speaker; `none` (default).
    speakers: Option<String>,
    /// Speakers' names in channel order, comma-separated (`agent,customer`).
    speaker_names: Option<String>,
    /// Terms to recognise with their spelling (customers, products), comma-separated or
    /// repeated as `hotwords[]`; the API key's defaults are added.
    hotwords: Option<String>,
    /// Laughter, coughs, music and noise Whisper annotates: `drop` them from the text
    /// (default), `keep` the annotations ("(laughs)", "[Music]"), or `suppress` them.
    sound_events: Option<String>,
    /// Where to POST the result when the job ends.
    webhook_url: Option<String>,
}

/// The JSON form of `POST /v1/jobs`: audio already in object storage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFromUrl {
    /// `s3://BUCKET/KEY` or `file:///PATH` under one of the caller's input prefixes.
    pub url: String,
    /// ISO 639-1 language; detected when absent or `auto`.
    pub language: Option<String>,
    /// Languages detection chooses from (`["en", "de", "fr"]`); any when absent.
    #[serde(default)]
    pub languages: Vec<String>,
    /// `transcribe` (default) or `translate`.
    pub task: Option<String>,
    /// Text that conditions the transcription (`prompt` is accepted too).
    #[serde(alias = "prompt")]
    pub initial_prompt: Option<String>,
    /// Per-word timings.
    #[serde(default)]
    pub word_timestamps: bool,
    /// `channels`: each channel of a multi-channel recording is a speaker; `none` (default).
    pub speakers: Option<String>,
    /// Speakers' names in channel order (`["agent", "customer"]`).
    #[serde(default)]
    pub speaker_names: Vec<String>,
    /// Terms to recognise with their spelling (`["Kowalczyk", "Zyxtera"]`); the API key's
    /// defaults are added.
    #[serde(default)]
    pub hotwords: Vec<String>,
    /// Laughter, coughs, music and noise Whisper annotates: `drop` them from the text
    /// (default), `keep` the annotations ("(laughs)", "[Music]"), or `suppress` them.
    pub sound_events: Option<String>,
    /// Where to POST the result when the job ends.
    pub webhook_url: Option<String>,
}

/// `202 Accepted` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// Job id.
    pub id: String,
    /// Always `queued`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
}

/// Queues a transcription job.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs",
    request_body(content(
        (JobUpload = "multipart/form-data"),
        (JobFromUrl = "application/json"),
    )),
    responses(
        (status = 202, body = Created, description = "Queued"),
        (status = 400, description = "Invalid audio, option or URL"),
        (status = 401, description = "Missing or wrong API key"),
        (status = 408, description = "The body did not arrive in time"),
        (status = 413, description = "Upload or JSON body over the size limit"),
        (status = 415, description = "Neither multipart nor JSON"),
        (status = 503, description = "Storage or database unavailable"),
    ),
    security(("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    request: Request,
) -> Result<Response, ApiError> {
    let content_type = content_type(&request);
    let id = uuid::Uuid::now_v7().to_string();
    let job = if content_type.starts_with("multipart/form-data") {
        let mp = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::invalid("invalid_multipart", e.body_text()))?;
        let form =
            upload::read_form(mp, state.config.max_upload_mb, state.upload_timeout()).await?;
        from_form(&state, &tenant, id, form).await?
    } else if content_type.starts_with("application/json") {
        let body: JobFromUrl = read_json(request, state.config.request_timeout()).await?;
        from_url(&state, &tenant, id, body).await?
    } else {
        return Err(ApiError::unsupported_media(
            "send the audio as multipart/form-data ('file') or JSON with an object-storage 'url'",
        ));
    };
    let job = match state.db.insert(&job).await {
        Ok(job) => job,
        Err(e) => {
            if job.input.source_owned {
                let _ = state.storage.delete_owned(&job.input.source_url).await;
            }
            return Err(e.into());
        }
    };
    state.wake.notify_waiters();
    tracing::info!(job = %job.id, tenant = %job.tenant, bytes = ?job.input.source_bytes, "job queued");
    let location = format!("/v1/jobs/{}", job.id);
    let body = Created {
        id: job.id,
        status: job.status,
        created_at: view::rfc3339(job.created_at),
    };
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

async fn from_form(
    state: &AppState,
    tenant: &Tenant,
    id: String,
    form: Form,
) -> Result<NewJob, ApiError> {
    let opts = upload::options(
        upload::Given {
            language: form.get("language"),
            languages: form.get("languages"),
            task: form.get("task"),
            initial_prompt: form.get("initial_prompt").or(form.get("prompt")),
            word_timestamps: upload::boolean(form.get("word_timestamps"), "word_timestamps")?,
            temperature: None,
            speakers: form.get("speakers"),
            speaker_names: form.get("speaker_names"),
            hotwords: Some(&form.all("hotwords").join("\n")),
            sound_events: form.get("sound_events"),
        },
        state.config.english_only(),
    )?;
    let opts = upload::with_defaults(opts, &state.db.tenant_hotwords(&tenant.0).await?)?;
    let webhook_url = webhook(state, form.get("webhook_url")).await?;
    let (bytes, filename) = form.file.ok_or_else(|| {
        ApiError::invalid("missing_file", "the form has no 'file' part").param("file")
    })?;
    let name = filename.clone().unwrap_or_else(|| id.clone());
    upload::check_audio(bytes.clone(), &name, state.config.max_audio_seconds).await?;
    let size = bytes.len() as i64;
    let url = state.storage.put_upload(&tenant.0, &id, bytes).await?;
    let input = JobInput {
        source_url: url,
        source_owned: true,
        source_name: filename,
        source_bytes: Some(size),
        options: opts,
        webhook_url,
    };
    Ok(new_job(state, tenant, id, "async", 0, input))
}

async fn from_url(
    state: &AppState,
    tenant: &Tenant,
    id: String,
    body: JobFromUrl,
) -> Result<NewJob, ApiError> {
    let names = upload::joined_names(&body.speaker_names, "speaker_names")?;
    let opts = upload::options(
        upload::Given {
            language: body.language.as_deref(),
            languages: Some(&body.languages.join(",")),
            task: body.task.as_deref(),
            initial_prompt: body.initial_prompt.as_deref(),
            word_timestamps: body.word_timestamps,
            temperature: None,
            speakers: body.speakers.as_deref(),
            speaker_names: Some(&names),
            hotwords: Some(&body.hotwords.join("\n")),
            sound_events: body.sound_events.as_deref(),
        },
        state.config.english_only(),
    )?;
    let opts = upload::with_defaults(opts, &state.db.tenant_hotwords(&tenant.0).await?)?;
    // Decided from the URL and the configuration alone, before storage is touched: the
    // answer is the same whether or not an object exists there.
    if !state.storage.input_allowed(&tenant.0, &body.url) {
        return Err(ApiError::invalid(
            "invalid_url",
            "url is not under an input prefix of this API key",
        )
        .param("url"));
    }
    let webhook_url = webhook(state, body.webhook_url.as_deref()).await?;
    let size = state.storage.input_size(&tenant.0, &body.url).await?;
    if size > state.config.max_upload_mb * 1024 * 1024 {
        return Err(ApiError::too_large(state.config.max_upload_mb).param("url"));
    }
    let name = body.url.rsplit('/').next().map(upload::clean_filename);
    let input = JobInput {
        source_url: body.url,
        source_owned: false,
        source_name: name,
        source_bytes: Some(size as i64),
        options: opts,
        webhook_url,
    };
    Ok(new_job(state, tenant, id, "async", 0, input))
}

/// A job row for the caller's tenant.
pub fn new_job(
    state: &AppState,
    tenant: &Tenant,
    id: String,
    kind: &'static str,
    priority: i64,
    input: JobInput,
) -> NewJob {
    NewJob {
        id,
        tenant: tenant.0.clone(),
        kind,
        priority,
        max_attempts: state.config.max_attempts.max(1) as i64,
        input,
    }
}

/// Checks a webhook URL: its form, that webhooks are on, then its destination.
async fn webhook(state: &AppState, url: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let refused =
        |reason: String| ApiError::invalid("invalid_webhook_url", reason).param("webhook_url");
    address::check_url(url, true).await.map_err(refused)?;
    if state.config.webhook_secret.is_none() {
        return Err(ApiError::invalid(
            "webhooks_disabled",
            "webhooks are off on this server (no STENOGRAPH_WEBHOOK_SECRET to sign them)",
        )
        .param("webhook_url"));
    }
    let checked = address::check_url(url, state.config.webhook_allow_private)
        .await
        .map_err(refused)?;
    Ok(Some(checked))
}

async fn tenant_job(state: &AppState, tenant: &Tenant, id: &str) -> Result<Job, ApiError> {
    state
        .db
        .get(&tenant.0, id)
        .await?
        .filter(|j| j.kind == "async")
        .ok_or_else(|| ApiError::not_found(format!("no job '{id}'")))
}

/// A job, with its transcript once completed.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 404, description = "No such job for this key")),
    security(("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = tenant_job(&state, &tenant, &id).await?;
    let delivery = match job.input.webhook_url {
        Some(_) => state.db.delivery_state(&job.id).await?,
        None => None,
    };
    Ok(Json(JobView::new(&job, delivery)))
}

/// `GET /v1/jobs/{id}/transcript` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TranscriptQuery {
    /// text (default), json, verbose_json, srt, vtt or tsv.
    pub format: Option<String>,
}

/// The transcript of a completed job in one format.
#[utoipa::path(get, path = "/v1/jobs/{id}/transcript", tag = "jobs",
    params(("id" = String, Path, description = "Job id"), TranscriptQuery),
    responses(
        (status = 200, description = "The transcript", content_type = "text/plain"),
        (status = 400, description = "Unknown format"),
        (status = 404, description = "No such job for this key"),
        (status = 409, description = "The job has not completed"),
    ),
    security(("api_key" = [])))]
pub async fn transcript(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<TranscriptQuery>,
) -> Result<Response, ApiError> {
    let format: Format =
        q.format
            .as_deref()
            .unwrap_or("text")
            .parse()
            .map_err(|e: stenograph::Error| {
                ApiError::invalid("invalid_format", e.to_string()).param("format")
            })?;
    let job = tenant_job(&state, &tenant, &id).await?;
    let t = view::transcript(&job).ok_or_else(|| {
        ApiError::conflict(
            "job_not_completed",
            format!("job '{id}' is {}, not completed", job.status),
        )
    })?;
    Ok(super::render(&t, format))
}

/// `GET /v1/jobs` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only jobs in this state.
    pub status: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    /// Always `list`.
    pub object: &'static str,
    /// Jobs, newest first, without transcripts.
    pub data: Vec<JobView>,
    /// Whether more pages follow.
    pub has_more: bool,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// The caller's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = JobList), (status = 400, description = "Bad filter")),
    security(("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    let limit = match q.limit.as_deref().map(str::parse::<i64>) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_limit",
                "limit must be a whole number between 1 and 100",
            )
            .param("limit"))
        }
    };
    if let Some(s) = q.status.as_deref() {
        if !status::ALL.contains(&s) {
            return Err(ApiError::invalid(
                "invalid_status",
                format!("status must be one of {}", status::ALL.join(", ")),
            )
            .param("status"));
        }
    }
    let mut jobs = state
        .db
        .list(
            &tenant.0,
            q.status.as_deref(),
            limit + 1,
            q.cursor.as_deref(),
        )
        .await?;
    let has_more = jobs.len() as i64 > limit;
    jobs.truncate(limit as usize);
    Ok(Json(JobList {
        object: "list",
        next_cursor: has_more
            .then(|| jobs.last().map(|j| j.id.clone()))
            .flatten(),
        data: jobs.iter().map(|j| JobView::new(j, None)).collect(),
        has_more,
    }))
}

/// Cancels a queued or running job; deletes an ended one.
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, body = JobView, description = "The job was queued or running and is now canceled"),
        (status = 204, description = "The job had ended and is deleted with its transcript, audio and webhook payloads"),
        (status = 404, description = "No such job for this key"),
    ),
    security(("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = tenant_job(&state, &tenant, &id).await?;
    if !job.is_finished() {
        match state.db.cancel(&tenant.0, &id).await? {
            Cancel::Canceled(job) => {
                tracing::info!(job = %job.id, "job canceled");
                state.lifecycle.notify_one();
                return Ok(Json(JobView::new(&job, None)).into_response());
            }
            Cancel::NotFound => return Err(ApiError::not_found(format!("no job '{id}'"))),
            // It ended meanwhile: delete it as an ended job.
            Cancel::AlreadyFinished => {}
        }
    }
    match state.db.purge(&tenant.0, &id).await? {
        Purge::Purged => {
            tracing::info!(job = %id, tenant = %tenant.0, "job deleted");
            state
                .metrics
                .jobs_purged
                .with_label_values(&["deleted"])
                .inc();
            state.lifecycle.notify_one();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Purge::Active => Err(ApiError::conflict(
            "job_active",
            format!("job '{id}' is running again; retry the request"),
        )),
        Purge::NotFound => Err(ApiError::not_found(format!("no job '{id}'"))),
    }
}
