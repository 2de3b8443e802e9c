//! `POST /v1/audio/transcriptions` and `/v1/audio/translations`: OpenAI's synchronous
//! contract for short clips. The clip is queued ahead of batch jobs and answered when a worker
//! finishes it, so the API itself never runs the model; a client that disconnects cancels its
//! job. Translations need a multilingual model: with an English-only one (the default) the
//! endpoint answers 400 `model_not_multilingual`, decided from the configured model.

use std::time::{Duration, Instant};

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::Response;
use utoipa::ToSchema;

use stenograph::transcribe::{Format, Task};

use super::auth::Tenant;
use super::errors::ApiError;
use super::jobs::new_job;
use super::{upload, AppState};
use crate::db::{status, JobInput};
use crate::view;

/// The `response_format` values OpenAI's audio endpoints take.
const RESPONSE_FORMATS: [Format; 6] = [
    Format::Json,
    Format::Text,
    Format::Srt,
    Format::VerboseJson,
    Format::Vtt,
    Format::DiarizedJson,
];

/// Speakers' names on the OpenAI endpoints when none are given: `A`, `B`, … as OpenAI labels
/// them.
fn letter_names() -> String {
    ('A'..='Z').map(String::from).collect::<Vec<_>>().join(",")
}

/// Priority of synchronous jobs over `/v1/jobs` work.
const SYNC_PRIORITY: i64 = 10;

/// OpenAI's transcription form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TranscriptionForm {
    /// The audio file.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// `whisper-1` or the served model's name.
    model: String,
    /// ISO 639-1 language.
    language: Option<String>,
    /// Stenograph's extension: languages detection chooses from, comma-separated.
    languages: Option<String>,
    /// Text that conditions the transcription.
    prompt: Option<String>,
    /// json (default), text, srt, vtt, verbose_json or diarized_json (speakers; implies
    /// `speakers=channels` unless `speakers` says otherwise).
    response_format: Option<String>,
    /// Stenograph's extension: `channels` makes each channel of a multi-channel recording a
    /// speaker; `none`.
    speakers: Option<String>,
    /// Speakers' names in channel order (default `A`, `B`, …).
    #[schema(rename = "known_speaker_names[]")]
    known_speaker_names: Option<Vec<String>>,
    /// Stenograph's extension: terms to recognise with their spelling, comma-separated or
    /// repeated as `hotwords[]`; the API key's defaults are added.
    hotwords: Option<String>,
    /// 0–1.
    temperature: Option<f32>,
    /// `word` and/or `segment` (verbose_json).
    #[schema(rename = "timestamp_granularities[]")]
    timestamp_granularities: Option<Vec<String>>,
}

/// Transcribes a short clip and answers with the transcript.
#[utoipa::path(post, path = "/v1/audio/transcriptions", tag = "openai",
    request_body(content = TranscriptionForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The transcript in the requested format"),
        (status = 400, description = "Invalid audio or option"),
        (status = 401, description = "Missing or wrong API key"),
        (status = 413, description = "Upload over the size limit"),
        (status = 415, description = "Not multipart/form-data"),
        (status = 504, description = "No result within the time limit"),
    ),
    security(("api_key" = [])))]
pub async fn transcriptions(
    State(state): State<AppState>,
    tenant: Tenant,
    request: Request,
) -> Result<Response, ApiError> {
    answer(state, tenant, request, Task::Transcribe).await
}

/// OpenAI's translation form: the transcription form without `language` and word timings.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TranslationForm {
    /// The audio file.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// `whisper-1` or the served model's name.
    model: String,
    /// Text that conditions the translation.
    prompt: Option<String>,
    /// json (default), text, srt, vtt or verbose_json.
    response_format: Option<String>,
    /// 0–1.
    temperature: Option<f32>,
}

/// Translates a short clip to English (multilingual models) and answers with the text.
#[utoipa::path(post, path = "/v1/audio/translations", tag = "openai",
    request_body(content = TranslationForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The English text in the requested format"),
        (status = 400, description = "Invalid audio or option, or an English-only model served here"),
        (status = 401, description = "Missing or wrong API key"),
        (status = 413, description = "Upload over the size limit"),
        (status = 415, description = "Not multipart/form-data"),
        (status = 504, description = "No result within the time limit"),
    ),
    security(("api_key" = [])))]
pub async fn translations(
    State(state): State<AppState>,
    tenant: Tenant,
    request: Request,
) -> Result<Response, ApiError> {
    if state.config.english_only() {
        let limit = state.config.sync_max_upload_mb * 1024 * 1024;
        super::body::discard(request, limit, state.upload_timeout()).await;
        return Err(ApiError::invalid(
            "model_not_multilingual",
            format!(
                "the model served here ({}) is English-only and cannot translate; run the \
                 service with a multilingual model (STENOGRAPH_MODEL=base, small, …)",
                state.config.model
            ),
        )
        .param("model"));
    }
    answer(state, tenant, request, Task::Translate).await
}

/// Reads the form, queues the clip, waits for its job and renders the result.
async fn answer(
    state: AppState,
    tenant: Tenant,
    request: Request,
    task: Task,
) -> Result<Response, ApiError> {
    if !super::body::content_type(&request).starts_with("multipart/form-data") {
        let limit = state.config.sync_max_upload_mb * 1024 * 1024;
        super::body::discard(request, limit, state.upload_timeout()).await;
        return Err(ApiError::unsupported_media(
            "send the audio as multipart/form-data with a 'file' part",
        ));
    }
    let mp = Multipart::from_request(request, &state)
        .await
        .map_err(|e| ApiError::invalid("invalid_multipart", e.body_text()))?;
    let form =
        upload::read_form(mp, state.config.sync_max_upload_mb, state.upload_timeout()).await?;
    let model = form.get("model").ok_or_else(|| {
        ApiError::invalid("missing_model", "the form has no 'model' field").param("model")
    })?;
    if model != "whisper-1" && model != state.config.model {
        return Err(ApiError::invalid(
            "model_not_found",
            format!(
                "model '{model}' is not served here; use 'whisper-1' or '{}'",
                state.config.model
            ),
        )
        .param("model"));
    }
    let format = form
        .get("response_format")
        .unwrap_or("json")
        .parse::<Format>()
        .ok()
        .filter(|f| RESPONSE_FORMATS.contains(f))
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_value",
                "response_format must be one of json, text, srt, verbose_json, vtt, diarized_json",
            )
            .param("response_format")
        })?;
    let granularities = form.all("timestamp_granularities");
    if granularities
        .iter()
        .any(|g| !matches!(*g, "word" | "segment"))
    {
        return Err(ApiError::invalid(
            "invalid_value",
            "timestamp_granularities[] takes 'word' and/or 'segment'",
        )
        .param("timestamp_granularities"));
    }
    let speakers = form
        .get("speakers")
        .or((format == Format::DiarizedJson).then_some("channels"));
    let known = form.all("known_speaker_names");
    let by_channel = speakers.is_some_and(|s| s.trim().eq_ignore_ascii_case("channels"));
    let names = if !known.is_empty() {
        upload::joined_names(&known, "known_speaker_names")?
    } else if by_channel {
        letter_names()
    } else {
        String::new()
    };
    let opts = upload::options(
        upload::Given {
            // A translation's source language is always detected.
            language: (task == Task::Transcribe)
                .then(|| form.get("language"))
                .flatten(),
            languages: form.get("languages"),
            task: Some(task.as_str()),
            initial_prompt: form.get("prompt"),
            word_timestamps: task == Task::Transcribe && granularities.contains(&"word"),
            temperature: upload::number(form.get("temperature"), "temperature")?,
            speakers,
            speaker_names: Some(&names),
            hotwords: Some(&form.all("hotwords").join("\n")),
            sound_events: form.get("sound_events"),
        },
        state.config.english_only(),
    )?;
    let opts = upload::with_defaults(opts, &state.db.tenant_hotwords(&tenant.0).await?)?;
    let (bytes, filename) = form.file.ok_or_else(|| {
        ApiError::invalid("missing_file", "the form has no 'file' part").param("file")
    })?;
    let id = uuid::Uuid::now_v7().to_string();
    upload::check_audio(
        bytes.clone(),
        filename.as_deref().unwrap_or(&id),
        state.config.sync_max_audio_seconds,
    )
    .await?;
    let size = bytes.len() as i64;
    let url = state.storage.put_upload(&tenant.0, &id, bytes).await?;
    let input = JobInput {
        source_url: url,
        source_owned: true,
        source_name: filename,
        source_bytes: Some(size),
        options: opts,
        webhook_url: None,
    };
    let job = new_job(&state, &tenant, id.clone(), "sync", SYNC_PRIORITY, input);
    if let Err(e) = state.db.insert(&job).await {
        let _ = state.storage.delete_owned(&job.input.source_url).await;
        return Err(e.into());
    }
    state.wake.notify_waiters();
    // Removes the job whatever happens to this request (a worker still on it loses its
    // lease and stops). If this process dies first, the janitor removes it.
    let guard = Cleanup {
        state: state.clone(),
        id: id.clone(),
    };
    let deadline = Instant::now() + state.config.sync_timeout();
    let job = loop {
        let job = state
            .db
            .get(&tenant.0, &id)
            .await?
            .ok_or_else(|| ApiError::internal("job_lost", "the job disappeared"))?;
        if job.is_finished() {
            break job;
        }
        if Instant::now() > deadline {
            drop(guard);
            return Err(ApiError::gateway_timeout(format!(
                "no result within {} s; send long audio to /v1/jobs",
                state.config.sync_timeout_seconds
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(guard);
    match job.status.as_str() {
        status::COMPLETED => {
            let t = view::transcript(&job).ok_or_else(|| {
                ApiError::internal("bad_result", "the stored transcript is unreadable")
            })?;
            Ok(super::render(&t, format))
        }
        _ => {
            let code = job.error_code.unwrap_or_default();
            let message = job
                .error_message
                .unwrap_or_else(|| "the transcription failed".into());
            let input_fault = stenograph_input_codes().contains(&code.as_str());
            Err(if input_fault {
                ApiError::invalid("invalid_audio", message).param("file")
            } else {
                ApiError::internal("transcription_failed", message)
            })
        }
    }
}

/// Error codes of jobs that failed because of their input.
fn stenograph_input_codes() -> [&'static str; 9] {
    [
        "empty_input",
        "unknown_format",
        "unsupported_codec",
        "invalid_header",
        "corrupt",
        "truncated",
        "no_audio",
        "too_long",
        "invalid_argument",
    ]
}

struct Cleanup {
    state: AppState,
    id: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (state, id) = (self.state.clone(), self.id.clone());
        tokio::spawn(async move {
            match state.db.discard_sync(&id).await {
                Ok(()) => state.lifecycle.notify_one(),
                Err(e) => {
                    tracing::warn!(job = %id, error = %e, "could not remove a synchronous job")
                }
            }
        });
    }
}
