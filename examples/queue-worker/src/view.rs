//! The JSON shape of a job, shared by the API and webhook payloads.

use serde::Serialize;
use stenograph::transcribe::Transcript;
use utoipa::ToSchema;

use crate::db::{status, DeliveryState, Job, JobOptions};

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// Always `transcription.job`.
    pub object: &'static str,
    /// queued, processing, completed, failed or canceled.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when a worker first took the job.
    pub started_at: Option<String>,
    /// RFC 3339, when the job ended.
    pub finished_at: Option<String>,
    /// Times a worker took the job.
    pub attempts: i64,
    /// The input file name, when uploaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The input size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
    /// Options the job was created with.
    #[schema(value_type = Object)]
    pub options: JobOptions,
    /// Length of the audio, once transcribed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_seconds: Option<f64>,
    /// Transcription time, once transcribed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_seconds: Option<f64>,
    /// Why the job failed (or why its last attempt did, while it waits for a retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// The transcript in OpenAI's verbose_json shape, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Webhook delivery state, when the job has a webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub webhook: Option<WebhookView>,
}

/// A job's error.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobError {
    /// Machine-readable kind, e.g. `invalid_audio`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// A job's webhook.
#[derive(Debug, Serialize)]
pub struct WebhookView {
    /// The receiver.
    pub url: String,
    /// Latest delivery, once the job ended.
    #[serde(flatten)]
    pub delivery: Option<DeliveryState>,
}

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The stored transcript of a completed job.
pub fn transcript(job: &Job) -> Option<Transcript> {
    serde_json::from_str(job.result.as_deref()?).ok()
}

impl JobView {
    /// The view of `job`, with its webhook state when known.
    pub fn new(job: &Job, delivery: Option<DeliveryState>) -> Self {
        let error = match (&job.error_code, &job.error_message) {
            (Some(code), Some(message)) if job.status != status::COMPLETED => Some(JobError {
                code: code.clone(),
                message: message.clone(),
            }),
            _ => None,
        };
        JobView {
            id: job.id.clone(),
            object: "transcription.job",
            status: job.status.clone(),
            created_at: rfc3339(job.created_at),
            started_at: job.started_at.map(rfc3339),
            finished_at: job.finished_at.map(rfc3339),
            attempts: job.attempts,
            filename: job.input.source_name.clone(),
            bytes: job.input.source_bytes,
            options: job.input.options.clone(),
            audio_seconds: job.audio_seconds,
            processing_seconds: job.processing_seconds,
            error,
            result: transcript(job).and_then(|t| serde_json::from_str(&t.to_verbose_json()).ok()),
            webhook: job.input.webhook_url.as_ref().map(|url| WebhookView {
                url: url.clone(),
                delivery,
            }),
        }
    }
}

/// The webhook event and body for a job that just ended.
pub fn webhook_event(job: &Job) -> Option<(String, String)> {
    let event = match job.status.as_str() {
        status::COMPLETED => "job.completed",
        status::FAILED => "job.failed",
        _ => return None,
    };
    let body = serde_json::json!({
        "event": event,
        "job": JobView::new(job, None),
    });
    Some((event.to_string(), body.to_string()))
}
