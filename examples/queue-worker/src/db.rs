//! Jobs and webhook deliveries in SQLite or PostgreSQL (sqlx's `Any` driver, one portable
//! schema). The queue is a table: a worker claims the oldest runnable job with a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never wait on each other), renews it
//! while working, and writes its result only while it still holds it; a job whose lease ran
//! out is claimed again, until its attempts are spent.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

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

/// What a job asks of the transcriber.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobOptions {
    /// ISO 639-1 language, or none to detect it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Text that conditions the first window (names, spellings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Per-word timings.
    #[serde(default)]
    pub word_timestamps: bool,
    /// Sampling temperature (0 = greedy with fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
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

/// A job held by a worker: the lease identifies it in every later write.
#[derive(Clone, Debug)]
pub struct Claim {
    /// The job as claimed.
    pub job: Job,
    /// The lease holder written into the row.
    pub owner: String,
    /// The attempt this claim is.
    pub attempt: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
}

/// A webhook delivery to make or retry.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Delivery id (sent as a header, stable across retries).
    pub id: String,
    /// The job it reports.
    pub job_id: String,
    /// Receiver.
    pub url: String,
    /// `job.completed` or `job.failed`.
    pub event: String,
    /// The JSON body.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: i64,
}

/// The latest delivery state of a job's webhook.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryState {
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// What a cancellation did.
#[derive(Debug)]
pub enum Cancel {
    /// The job is now canceled.
    Canceled(Box<Job>),
    /// The job had already ended in this state.
    AlreadyFinished(String),
    /// No such job for this tenant.
    NotFound,
}

/// The job store.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects and brings the schema up to date (idempotent, safe from many replicas).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
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
        Ok(Db { pool, backend })
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

    /// Cancels a queued or running job of a tenant.
    pub async fn cancel(&self, tenant: &str, id: &str) -> Result<Cancel, sqlx::Error> {
        let sql = format!(
            "UPDATE jobs SET status = 'canceled', finished_at = $3, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $1 AND tenant = $2 \
             AND status IN ('queued', 'processing') RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = row {
            return Ok(Cancel::Canceled(Box::new(Job::from_row(&row)?)));
        }
        Ok(match self.get(tenant, id).await? {
            Some(job) => Cancel::AlreadyFinished(job.status),
            None => Cancel::NotFound,
        })
    }

    /// Removes a job and its deliveries (synchronous jobs, once answered).
    pub async fn delete(&self, id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE job_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Claims the next runnable job: queued and due, or processing with an expired lease.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Claim>, sqlx::Error> {
        let now = now_ms();
        let sql = format!(
            "UPDATE jobs SET status = 'processing', attempts = attempts + 1, lease_owner = $1, \
             lease_expires_at = $2, started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT id FROM jobs WHERE \
               ((status = 'queued' AND run_after <= $3) OR (status = 'processing' AND lease_expires_at < $3)) \
               AND attempts < max_attempts ORDER BY priority DESC, created_at, id LIMIT 1 {}) \
             AND ((status = 'queued' AND run_after <= $3) OR (status = 'processing' AND lease_expires_at < $3)) \
             RETURNING {JOB_COLUMNS}, max_attempts",
            self.skip_locked()
        );
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let job = Job::from_row(&row)?;
        Ok(Some(Claim {
            owner: owner.to_string(),
            attempt: job.attempts,
            max_attempts: row.try_get("max_attempts")?,
            job,
        }))
    }

    /// Extends a lease; `false` when the job was canceled or taken over.
    pub async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 \
             AND attempts = $4 AND status = 'processing'",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(&claim.job.id)
        .bind(&claim.owner)
        .bind(claim.attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a held job as completed or failed, and queues its webhook in the same
    /// transaction; `None` when the lease was lost (the outcome is dropped).
    pub async fn finish(
        &self,
        claim: &Claim,
        outcome: Outcome<'_>,
        webhook: impl FnOnce(&Job) -> Option<(String, String)>,
    ) -> Result<Option<Job>, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let held = "WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'processing'";
        let row = match outcome {
            Outcome::Completed {
                result,
                audio_seconds,
                processing_seconds,
            } => {
                let sql = format!(
                    "UPDATE jobs SET status = 'completed', finished_at = $4, lease_owner = NULL, \
                     lease_expires_at = NULL, result = $5, audio_seconds = $6, processing_seconds = $7, \
                     error_code = NULL, error_message = NULL {held} RETURNING {JOB_COLUMNS}"
                );
                sqlx::query(&sql)
                    .bind(&claim.job.id)
                    .bind(&claim.owner)
                    .bind(claim.attempt)
                    .bind(now)
                    .bind(result)
                    .bind(audio_seconds)
                    .bind(processing_seconds)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            Outcome::Failed { code, message } => {
                let sql = format!(
                    "UPDATE jobs SET status = 'failed', finished_at = $4, lease_owner = NULL, \
                     lease_expires_at = NULL, error_code = $5, error_message = $6 {held} RETURNING {JOB_COLUMNS}"
                );
                sqlx::query(&sql)
                    .bind(&claim.job.id)
                    .bind(&claim.owner)
                    .bind(claim.attempt)
                    .bind(now)
                    .bind(code)
                    .bind(message)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let job = Job::from_row(&row)?;
        if let (Some(url), Some((event, payload))) = (&job.input.webhook_url, webhook(&job)) {
            insert_delivery(&mut tx, &job, url, &event, &payload, now).await?;
        }
        tx.commit().await?;
        Ok(Some(job))
    }

    /// Puts a held job back in the queue to run after `delay` (a transient error), or fails
    /// it when its attempts are spent. Returns the job when this claim still held it.
    pub async fn retry_later(
        &self,
        claim: &Claim,
        code: &str,
        message: &str,
        delay: Duration,
        webhook: impl FnOnce(&Job) -> Option<(String, String)>,
    ) -> Result<Option<Job>, sqlx::Error> {
        if claim.attempt >= claim.max_attempts {
            let message = format!(
                "{message} (attempt {} of {})",
                claim.attempt, claim.max_attempts
            );
            return self
                .finish(
                    claim,
                    Outcome::Failed {
                        code,
                        message: &message,
                    },
                    webhook,
                )
                .await;
        }
        let sql = format!(
            "UPDATE jobs SET status = 'queued', run_after = $4, lease_owner = NULL, lease_expires_at = NULL, \
             error_code = $5, error_message = $6 WHERE id = $1 AND lease_owner = $2 AND attempts = $3 \
             AND status = 'processing' RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&claim.job.id)
            .bind(&claim.owner)
            .bind(claim.attempt)
            .bind(now_ms() + delay.as_millis() as i64)
            .bind(code)
            .bind(message)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Job::from_row).transpose()
    }

    /// Gives a held job back without counting the attempt, to run after `delay`: on shutdown
    /// (no reason) or while a dependency is down (`reason` is shown as the job's error).
    pub async fn release(
        &self,
        claim: &Claim,
        delay: Duration,
        reason: Option<(&str, &str)>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', run_after = $4, attempts = attempts - 1, \
             lease_owner = NULL, lease_expires_at = NULL, error_code = COALESCE($5, error_code), \
             error_message = COALESCE($6, error_message) \
             WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'processing'",
        )
        .bind(&claim.job.id)
        .bind(&claim.owner)
        .bind(claim.attempt)
        .bind(now_ms() + delay.as_millis() as i64)
        .bind(reason.map(|r| r.0))
        .bind(reason.map(|r| r.1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Fails jobs whose last allowed attempt's lease ran out (their worker died each time),
    /// queueing their webhooks. Returns them.
    pub async fn reap(
        &self,
        webhook: impl Fn(&Job) -> Option<(String, String)>,
    ) -> Result<Vec<Job>, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE jobs SET status = 'failed', finished_at = $1, lease_owner = NULL, lease_expires_at = NULL, \
             error_code = 'worker_lost', error_message = 'the worker processing this job stopped ' || \
             CAST(attempts AS TEXT) || ' times without finishing it (lease expired)' \
             WHERE id IN (SELECT id FROM jobs WHERE status = 'processing' AND lease_expires_at < $1 \
               AND attempts >= max_attempts {}) RETURNING {JOB_COLUMNS}",
            self.skip_locked()
        );
        let rows = sqlx::query(&sql).bind(now).fetch_all(&mut *tx).await?;
        let jobs = rows
            .iter()
            .map(Job::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        for job in &jobs {
            if let (Some(url), Some((event, payload))) = (&job.input.webhook_url, webhook(job)) {
                insert_delivery(&mut tx, job, url, &event, &payload, now).await?;
            }
        }
        tx.commit().await?;
        Ok(jobs)
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

    /// Claims up to `limit` due webhook deliveries for `lease`.
    pub async fn claim_deliveries(
        &self,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<Delivery>, sqlx::Error> {
        let now = now_ms();
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_expires_at = $1 WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE state = 'pending' AND next_attempt_at <= $2 AND (lease_expires_at IS NULL OR lease_expires_at < $2) \
             ORDER BY next_attempt_at LIMIT $3 {}) RETURNING id, job_id, url, event, payload, attempts",
            self.skip_locked()
        );
        let rows = sqlx::query(&sql)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get("id")?,
                    job_id: r.try_get("job_id")?,
                    url: r.try_get("url")?,
                    event: r.try_get("event")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records a delivery attempt: `retry_at` schedules another, else the delivery ends as
    /// `delivered` (`ok`) or `failed`.
    pub async fn record_delivery(
        &self,
        id: &str,
        ok: bool,
        http_status: Option<i64>,
        error: Option<&str>,
        retry_at: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let state = match (ok, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1, last_status = $3, \
             last_error = $4, next_attempt_at = $5, lease_expires_at = NULL, \
             finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $6 END WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(http_status)
        .bind(error)
        .bind(retry_at.unwrap_or(now))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest webhook delivery of a job.
    pub async fn delivery_state(&self, job_id: &str) -> Result<Option<DeliveryState>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT state, attempts, last_status, last_error FROM webhook_deliveries \
             WHERE job_id = $1 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(DeliveryState {
                state: r.try_get("state")?,
                attempts: r.try_get("attempts")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
            })
        })
        .transpose()
    }
}

/// How a held job ended.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// With a transcript.
    Completed {
        /// The transcript as JSON.
        result: &'a str,
        /// Audio length.
        audio_seconds: f64,
        /// Transcription time.
        processing_seconds: f64,
    },
    /// With an error that retrying cannot fix.
    Failed {
        /// Machine-readable kind.
        code: &'a str,
        /// Human-readable cause.
        message: &'a str,
    },
}

async fn insert_delivery(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job: &Job,
    url: &str,
    event: &str,
    payload: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, job_id, tenant, url, event, payload, state, attempts, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&job.id)
    .bind(&job.tenant)
    .bind(url)
    .bind(event)
    .bind(payload)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

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
