//! Jobs, webhook deliveries and the data lifecycle in SQLite or PostgreSQL (sqlx's `Any`
//! driver, one portable schema). The queue is a table: a worker claims a runnable job with a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never wait on each other), renews
//! it while working, and writes its result only while it still holds it; a job whose lease ran
//! out is claimed again, until its attempts are spent.

mod deliveries;
mod lifecycle;
mod queue;
mod tenants;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

pub use deliveries::{Delivery, DeliveryState};
pub use lifecycle::{AudioDelete, Erasure, Purge};
pub use queue::{Claim, Outcome};

/// Migrations, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Which database is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file: one machine.
    Sqlite,
    /// PostgreSQL: many API and worker replicas.
    Postgres,
}

/// Job states.
pub mod status {
    /// Waiting for a worker.
    pub const QUEUED: &str = "queued";
    /// Leased by a worker.
    pub const PROCESSING: &str = "processing";
    /// Finished with a transcript.
    pub const COMPLETED: &str = "completed";
    /// Finished with an error.
    pub const FAILED: &str = "failed";
    /// Canceled by its owner.
    pub const CANCELED: &str = "canceled";
    /// Every state, in lifecycle order.
    pub const ALL: [&str; 5] = [QUEUED, PROCESSING, COMPLETED, FAILED, CANCELED];
}

/// What a job asks of the transcriber (the core's names; stored as JSON with the job).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobOptions {
    /// ISO 639-1 language, or none to detect it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Languages detection chooses from (none: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Transcribe, or translate to English.
    #[serde(default)]
    pub task: stenograph::transcribe::Task,
    /// Text that conditions the first window (names, spellings).
    #[serde(default, alias = "prompt", skip_serializing_if = "Option::is_none")]
    pub initial_prompt: Option<String>,
    /// Per-word timings.
    #[serde(default)]
    pub word_timestamps: bool,
    /// Sampling temperature (0 = greedy with fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// `channels`: one speaker per channel; none: no speakers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speakers: Option<String>,
    /// Speakers' names in channel order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speaker_names: Vec<String>,
    /// Terms to recognise with their spelling: the job's own, then its tenant's defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hotwords: Vec<String>,
    /// `keep` or `suppress` for sound annotations; none: dropped (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound_events: Option<String>,
}

/// What a job transcribes and where its result goes, fixed when it is created.
#[derive(Clone, Debug)]
pub struct JobInput {
    /// Where the audio is.
    pub source_url: String,
    /// Whether the service stored the audio (and deletes it when the job ends).
    pub source_owned: bool,
    /// The uploaded file's name.
    pub source_name: Option<String>,
    /// Size of the audio in bytes, when known.
    pub source_bytes: Option<i64>,
    /// Transcription options.
    pub options: JobOptions,
    /// Where to deliver the result.
    pub webhook_url: Option<String>,
}

/// A job to insert.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// UUIDv7, so ids sort by creation time.
    pub id: String,
    /// Owner.
    pub tenant: String,
    /// `async` (`/v1/jobs`) or `sync` (the OpenAI endpoint, removed once answered).
    pub kind: &'static str,
    /// Higher runs first.
    pub priority: i64,
    /// Attempts before the job fails.
    pub max_attempts: i64,
    /// Audio, options, webhook.
    pub input: JobInput,
}

/// A job as stored.
#[derive(Clone, Debug)]
pub struct Job {
    /// Id.
    pub id: String,
    /// Owner.
    pub tenant: String,
    /// `async` or `sync`.
    pub kind: String,
    /// One of [`status::ALL`].
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the first claim.
    pub started_at: Option<i64>,
    /// Unix ms of the end.
    pub finished_at: Option<i64>,
    /// Claims so far.
    pub attempts: i64,
    /// Audio, options, webhook.
    pub input: JobInput,
    /// Machine-readable failure.
    pub error_code: Option<String>,
    /// Human-readable failure.
    pub error_message: Option<String>,
    /// The transcript (the core's JSON), when completed.
    pub result: Option<String>,
    /// Length of the audio.
    pub audio_seconds: Option<f64>,
    /// Time the transcription took.
    pub processing_seconds: Option<f64>,
}

const JOB_COLUMNS: &str =
    "id, tenant, kind, status, created_at, started_at, finished_at, attempts, \
    source_url, source_owned, source_name, source_bytes, options, webhook_url, error_code, \
    error_message, result, audio_seconds, processing_seconds";
const SUMMARY_COLUMNS: &str =
    "id, tenant, kind, status, created_at, started_at, finished_at, attempts, \
    source_url, source_owned, source_name, source_bytes, options, webhook_url, error_code, \
    error_message, NULL AS result, audio_seconds, processing_seconds";

impl Job {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        let options: String = r.try_get("options")?;
        Ok(Job {
            id: r.try_get("id")?,
            tenant: r.try_get("tenant")?,
            kind: r.try_get("kind")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
            started_at: r.try_get("started_at")?,
            finished_at: r.try_get("finished_at")?,
            attempts: r.try_get("attempts")?,
            input: JobInput {
                source_url: r.try_get("source_url")?,
                source_owned: r.try_get::<i64, _>("source_owned")? != 0,
                source_name: r.try_get("source_name")?,
                source_bytes: r.try_get("source_bytes")?,
                options: serde_json::from_str(&options).unwrap_or_default(),
                webhook_url: r.try_get("webhook_url")?,
            },
            error_code: r.try_get("error_code")?,
            error_message: r.try_get("error_message")?,
            result: r.try_get("result")?,
            audio_seconds: r.try_get("audio_seconds")?,
            processing_seconds: r.try_get("processing_seconds")?,
        })
    }

    /// Whether the job has reached an end state.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.as_str(),
            status::COMPLETED | status::FAILED | status::CANCELED
        )
    }
}

/// What a cancellation did.
#[derive(Debug)]
pub enum Cancel {
    /// The job is now canceled.
    Canceled(Box<Job>),
    /// The job had already ended in this state.
    AlreadyFinished,
    /// No such job for this tenant.
    NotFound,
}

/// The job store.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Whether uploaded audio outlives the end of its job (until the job is purged).
    keep_audio: bool,
}

impl Db {
    /// Connects and brings the schema up to date (idempotent, safe from many replicas).
    /// `keep_audio`: uploaded audio stays when a job ends, until the job is purged.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        keep_audio: bool,
    ) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(sqlx::Error::Configuration(
                format!("database URL must start with sqlite: or postgres:, not '{url}'").into(),
            ));
        };
        if backend == Backend::Sqlite {
            if let Some(dir) = sqlite_dir(url) {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Db {
            pool,
            backend,
            keep_audio,
        })
    }

    /// The database kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `FOR UPDATE SKIP LOCKED` where the database has it (SQLite serialises writers anyway).
    fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Stores a new queued job.
    pub async fn insert(&self, job: &NewJob) -> Result<Job, sqlx::Error> {
        let now = now_ms();
        let sql = format!(
            "INSERT INTO jobs (id, tenant, kind, status, priority, created_at, run_after, attempts, \
             max_attempts, source_url, source_owned, source_name, source_bytes, options, webhook_url) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $5, 0, $6, $7, $8, $9, $10, $11, $12) RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&job.id)
            .bind(&job.tenant)
            .bind(job.kind)
            .bind(job.priority)
            .bind(now)
            .bind(job.max_attempts)
            .bind(&job.input.source_url)
            .bind(job.input.source_owned as i64)
            .bind(&job.input.source_name)
            .bind(job.input.source_bytes)
            .bind(serde_json::to_string(&job.input.options).unwrap_or_else(|_| "{}".into()))
            .bind(&job.input.webhook_url)
            .fetch_one(&self.pool)
            .await?;
        Job::from_row(&row)
    }

    /// A tenant's job.
    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<Job>, sqlx::Error> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Job::from_row).transpose()
    }

    /// A tenant's jobs, newest first, after `cursor` (an id), without results.
    pub async fn list(
        &self,
        tenant: &str,
        status: Option<&str>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Vec<Job>, sqlx::Error> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM jobs WHERE tenant = $1 AND kind = 'async' \
             AND ($2 = '' OR status = $2) AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant)
            .bind(status.unwrap_or(""))
            .bind(cursor.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Job::from_row).collect()
    }

    /// Cancels a queued or running job of a tenant, queueing the deletion of its uploaded
    /// audio in the same transaction.
    pub async fn cancel(&self, tenant: &str, id: &str) -> Result<Cancel, sqlx::Error> {
        let now = now_ms();
        let sql = format!(
            "UPDATE jobs SET status = 'canceled', finished_at = $3, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $1 AND tenant = $2 \
             AND status IN ('queued', 'processing') RETURNING {JOB_COLUMNS}"
        );
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            let job = Job::from_row(&row)?;
            self.ended(&mut tx, &job, &|_: &Job| None, now).await?;
            tx.commit().await?;
            return Ok(Cancel::Canceled(Box::new(job)));
        }
        tx.rollback().await?;
        Ok(match self.get(tenant, id).await? {
            Some(_) => Cancel::AlreadyFinished,
            None => Cancel::NotFound,
        })
    }

    /// Jobs per state.
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    /// Jobs waiting for a worker now.
    pub async fn queue_depth(&self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")
    }

    /// Queued jobs per tenant.
    pub async fn queue_depth_by_tenant(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT tenant, COUNT(*) AS n FROM jobs WHERE status = 'queued' GROUP BY tenant",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("tenant")?, r.try_get("n")?)))
            .collect()
    }
}

/// Queues the deletion of an uploaded object (inside the transaction that ends or removes
/// its job).
async fn enqueue_audio_delete(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    url: &str,
    erasure: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audio_deletes (id, url, erasure_id, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, 0, $4)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(url)
    .bind(erasure)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

use deliveries::insert_delivery;

/// The directory of a `sqlite:` URL's file, to create before connecting.
fn sqlite_dir(url: &str) -> Option<&std::path::Path> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
}
