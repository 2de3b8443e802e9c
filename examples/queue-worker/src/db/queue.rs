//! The queue: claiming, leases, and the end of a job. A worker claims the next runnable job
//! with a lease, renews it while working, and writes its outcome only while it still holds it.
//! Claims are fair across tenants: among runnable jobs of the same priority, the tenant with
//! the fewest jobs running goes first, and among those the one whose last claim is oldest, so
//! tenants with backlogs take turns and one tenant's backlog never holds back another
//! tenant's job by more than the jobs already running.

use std::time::Duration;

use sqlx::Row;

use super::{enqueue_audio_delete, insert_delivery, now_ms, Db, Job, JOB_COLUMNS};

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

/// The condition of a job another worker may take: queued and due, or processing under an
/// expired lease (`$3` is now), with attempts left.
const RUNNABLE: &str = "((j.status = 'queued' AND j.run_after <= $3) \
    OR (j.status = 'processing' AND j.lease_expires_at < $3)) AND j.attempts < j.max_attempts";

impl Db {
    /// Claims the next runnable job: highest priority first, then the tenant with the fewest
    /// jobs running, then the tenant served least recently, then the oldest job.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Claim>, sqlx::Error> {
        let now = now_ms();
        let lock = match self.backend {
            super::Backend::Postgres => "FOR UPDATE OF j SKIP LOCKED",
            super::Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'processing', attempts = attempts + 1, lease_owner = $1, \
             lease_expires_at = $2, started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT j.id FROM jobs j \
               LEFT JOIN (SELECT tenant, COUNT(*) AS n FROM jobs \
                 WHERE status = 'processing' AND lease_expires_at >= $3 GROUP BY tenant) r \
               ON r.tenant = j.tenant \
               LEFT JOIN tenant_claims t ON t.tenant = j.tenant \
               WHERE {RUNNABLE} \
               ORDER BY j.priority DESC, COALESCE(r.n, 0), COALESCE(t.last_claim_at, 0), \
                 j.created_at, j.id LIMIT 1 {lock}) \
             AND ((status = 'queued' AND run_after <= $3) OR (status = 'processing' AND lease_expires_at < $3)) \
             RETURNING {JOB_COLUMNS}, max_attempts"
        );
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let job = Job::from_row(&row)?;
        sqlx::query(
            "INSERT INTO tenant_claims (tenant, last_claim_at) VALUES ($1, $2) \
             ON CONFLICT (tenant) DO UPDATE SET last_claim_at = excluded.last_claim_at",
        )
        .bind(&job.tenant)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Claim {
            owner: owner.to_string(),
            attempt: job.attempts,
            max_attempts: row.try_get("max_attempts")?,
            job,
        }))
    }

    /// Extends a lease; `false` when the job was canceled, deleted or taken over.
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

    /// Ends a held job as completed or failed, and in the same transaction queues its webhook
    /// and the deletion of its uploaded audio; `None` when the lease was lost (the outcome is
    /// dropped).
    pub async fn finish(
        &self,
        claim: &Claim,
        outcome: Outcome<'_>,
        webhook: impl Fn(&Job) -> Option<(String, String)>,
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
        self.ended(&mut tx, &job, &webhook, now).await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    /// What every end of a job queues with it: its webhook, and the deletion of its uploaded
    /// audio unless audio is kept.
    pub(super) async fn ended(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        job: &Job,
        webhook: &impl Fn(&Job) -> Option<(String, String)>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if let (Some(url), Some((event, payload))) = (&job.input.webhook_url, webhook(job)) {
            insert_delivery(tx, job, url, &event, &payload, now).await?;
        }
        if job.input.source_owned && !self.keep_audio {
            enqueue_audio_delete(tx, &job.input.source_url, None, now).await?;
        }
        Ok(())
    }

    /// Puts a held job back in the queue to run after `delay` (a transient error), or fails
    /// it when its attempts are spent. Returns the job when this claim still held it.
    pub async fn retry_later(
        &self,
        claim: &Claim,
        code: &str,
        message: &str,
        delay: Duration,
        webhook: impl Fn(&Job) -> Option<(String, String)>,
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
    /// queueing their webhooks and the deletion of their audio. Returns them.
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
            self.ended(&mut tx, job, &webhook, now).await?;
        }
        tx.commit().await?;
        Ok(jobs)
    }
}
