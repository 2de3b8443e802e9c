//! Every byte has a lifetime. Jobs are purged (row, transcript, webhook payloads) when their
//! owner deletes them, when they pass the retention period, when they were synchronous
//! requests nobody waits for any more, and when their tenant erases its data. Uploaded audio
//! is never deleted inline with a row: the row's transaction queues the object in
//! `audio_deletes`, and the janitor deletes it, retrying while storage is down, so no object
//! outlives the row that referenced it.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_ms, status, Db};

/// An uploaded object waiting to be deleted.
#[derive(Clone, Debug)]
pub struct AudioDelete {
    /// Queue entry.
    pub id: String,
    /// The object.
    pub url: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// The erasure that queued it, if any.
    pub erasure_id: Option<String>,
}

/// What `DELETE /v1/jobs/{id}` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Purge {
    /// The job had ended and is gone.
    Purged,
    /// The job is queued or running (cancel it first).
    Active,
    /// No such job for this tenant.
    NotFound,
}

/// A tenant's request to erase all of its data up to the moment it was made.
#[derive(Clone, Debug)]
pub struct Erasure {
    /// Id.
    pub id: String,
    /// Whose data.
    pub tenant: String,
    /// `pending`, `running` or `completed`.
    pub status: String,
    /// Unix ms; jobs created up to then are erased.
    pub created_at: i64,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// Jobs deleted so far.
    pub jobs_deleted: i64,
    /// Audio objects deleted so far.
    pub audio_deleted: i64,
}

impl Erasure {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Erasure {
            id: r.try_get("id")?,
            tenant: r.try_get("tenant")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
            finished_at: r.try_get("finished_at")?,
            jobs_deleted: r.try_get("jobs_deleted")?,
            audio_deleted: r.try_get("audio_deleted")?,
        })
    }
}

/// What a purge needs of each deleted job row.
const RETURNING: &str = "RETURNING id, source_url, source_owned";

const ERASURE_COLUMNS: &str =
    "id, tenant, status, created_at, finished_at, jobs_deleted, audio_deleted";

impl Db {
    /// Deletes a tenant's ended job with its webhook deliveries, queueing its uploaded audio.
    pub async fn purge(&self, tenant: &str, id: &str) -> Result<Purge, sqlx::Error> {
        let sql = format!(
            "DELETE FROM jobs WHERE id = $1 AND tenant = $2 AND kind = 'async' \
             AND status IN ('{}', '{}', '{}') {RETURNING}",
            status::COMPLETED,
            status::FAILED,
            status::CANCELED
        );
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&sql)
            .bind(id)
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(match self.get(tenant, id).await? {
                Some(job) if job.kind == "async" => Purge::Active,
                _ => Purge::NotFound,
            });
        }
        purge_rows(&mut tx, &rows, None).await?;
        tx.commit().await?;
        Ok(Purge::Purged)
    }

    /// Removes a synchronous job once its request is answered or abandoned, whatever its
    /// state (a worker still on it loses its lease and stops).
    pub async fn discard_sync(&self, id: &str) -> Result<(), sqlx::Error> {
        let sql = format!("DELETE FROM jobs WHERE id = $1 AND kind = 'sync' {RETURNING}");
        self.delete_jobs(sqlx::query(&sql).bind(id)).await.map(drop)
    }

    /// Purges up to `limit` jobs that ended before `finished_before` (retention). Returns how
    /// many.
    pub async fn expire(&self, finished_before: i64, limit: i64) -> Result<usize, sqlx::Error> {
        let sql = format!(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < $1 \
             AND status IN ('{}', '{}', '{}') ORDER BY finished_at LIMIT $2 {}) {RETURNING}",
            status::COMPLETED,
            status::FAILED,
            status::CANCELED,
            self.skip_locked()
        );
        let query = sqlx::query(&sql).bind(finished_before).bind(limit);
        self.delete_jobs(query).await
    }

    /// Purges up to `limit` synchronous jobs created before `created_before`: their request
    /// has given up, or its API process died. Returns how many.
    pub async fn sweep_sync(&self, created_before: i64, limit: i64) -> Result<usize, sqlx::Error> {
        let sql = format!(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE kind = 'sync' \
             AND created_at < $1 LIMIT $2 {}) {RETURNING}",
            self.skip_locked()
        );
        let query = sqlx::query(&sql).bind(created_before).bind(limit);
        self.delete_jobs(query).await
    }

    /// Runs a `DELETE FROM jobs … RETURNING` and purges what it deleted, in one transaction.
    /// Returns how many jobs.
    async fn delete_jobs<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let rows = query.fetch_all(&mut *tx).await?;
        purge_rows(&mut tx, &rows, None).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Claims up to `limit` due audio deletions for `lease`.
    pub async fn claim_audio_deletes(
        &self,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<AudioDelete>, sqlx::Error> {
        let now = now_ms();
        let sql = format!(
            "UPDATE audio_deletes SET lease_expires_at = $1 WHERE id IN (SELECT id FROM audio_deletes \
             WHERE next_attempt_at <= $2 AND (lease_expires_at IS NULL OR lease_expires_at < $2) \
             ORDER BY next_attempt_at LIMIT $3 {}) \
             AND (lease_expires_at IS NULL OR lease_expires_at < $2) \
             RETURNING id, url, attempts, erasure_id",
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
                Ok(AudioDelete {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    attempts: r.try_get("attempts")?,
                    erasure_id: r.try_get("erasure_id")?,
                })
            })
            .collect()
    }

    /// Records that a queued object is gone.
    pub async fn audio_deleted(&self, d: &AudioDelete) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM audio_deletes WHERE id = $1")
            .bind(&d.id)
            .execute(&mut *tx)
            .await?;
        if let Some(erasure) = &d.erasure_id {
            sqlx::query("UPDATE erasures SET audio_deleted = audio_deleted + 1 WHERE id = $1")
                .bind(erasure)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Schedules another attempt at a deletion that failed.
    pub async fn audio_delete_failed(
        &self,
        d: &AudioDelete,
        error: &str,
        retry_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE audio_deletes SET attempts = attempts + 1, next_attempt_at = $2, \
             lease_expires_at = NULL, last_error = $3 WHERE id = $1",
        )
        .bind(&d.id)
        .bind(retry_at)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Audio deletions still to do (all of them, or an erasure's).
    pub async fn pending_audio_deletes(&self, erasure: Option<&str>) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM audio_deletes WHERE ($1 = '' OR erasure_id = $1)")
            .bind(erasure.unwrap_or(""))
            .fetch_one(&self.pool)
            .await?
            .try_get("n")
    }

    /// Records a tenant's request to erase its data.
    pub async fn create_erasure(&self, tenant: &str) -> Result<Erasure, sqlx::Error> {
        let sql = format!(
            "INSERT INTO erasures (id, tenant, status, created_at, jobs_deleted, audio_deleted, swept) \
             VALUES ($1, $2, 'pending', $3, 0, 0, 0) RETURNING {ERASURE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(tenant)
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?;
        Erasure::from_row(&row)
    }

    /// A tenant's erasure.
    pub async fn erasure(&self, tenant: &str, id: &str) -> Result<Option<Erasure>, sqlx::Error> {
        let sql = format!("SELECT {ERASURE_COLUMNS} FROM erasures WHERE id = $1 AND tenant = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Erasure::from_row).transpose()
    }

    /// Claims an erasure whose jobs or uploads are still to go.
    pub async fn claim_erasure(&self, lease: Duration) -> Result<Option<Erasure>, sqlx::Error> {
        let now = now_ms();
        let sql = format!(
            "UPDATE erasures SET status = 'running', lease_expires_at = $1 WHERE id = \
             (SELECT id FROM erasures WHERE status IN ('pending', 'running') AND swept = 0 \
              AND (lease_expires_at IS NULL OR lease_expires_at < $2) ORDER BY created_at LIMIT 1 {}) \
             AND (lease_expires_at IS NULL OR lease_expires_at < $2) RETURNING {ERASURE_COLUMNS}",
            self.skip_locked()
        );
        let row = sqlx::query(&sql)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Erasure::from_row).transpose()
    }

    /// Deletes up to `limit` of the erasure's jobs (any state: a worker on one loses its
    /// lease and stops), queueing their audio. Returns how many.
    pub async fn erase_jobs(&self, e: &Erasure, limit: i64) -> Result<usize, sqlx::Error> {
        let sql = format!(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE tenant = $1 AND created_at <= $2 \
             LIMIT $3 {}) {RETURNING}",
            self.skip_locked()
        );
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&sql)
            .bind(&e.tenant)
            .bind(e.created_at)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        purge_rows(&mut tx, &rows, Some(&e.id)).await?;
        sqlx::query("UPDATE erasures SET jobs_deleted = jobs_deleted + $2 WHERE id = $1")
            .bind(&e.id)
            .bind(rows.len() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// The audio URLs the erasure must not queue again: those the tenant's remaining jobs
    /// reference and those it already queued.
    pub async fn erasure_known_urls(&self, e: &Erasure) -> Result<HashSet<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT source_url AS url FROM jobs WHERE tenant = $1 \
             UNION SELECT url FROM audio_deletes WHERE erasure_id = $2",
        )
        .bind(&e.tenant)
        .bind(&e.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| r.try_get("url")).collect()
    }

    /// Queues the erasure's unreferenced uploads and marks its sweep done.
    pub async fn erasure_swept(&self, e: &Erasure, orphans: &[String]) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        for url in orphans {
            super::enqueue_audio_delete(&mut tx, url, Some(&e.id), now).await?;
        }
        sqlx::query("UPDATE erasures SET swept = 1, lease_expires_at = NULL WHERE id = $1")
            .bind(&e.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM tenant_claims WHERE tenant = $1")
            .bind(&e.tenant)
            .execute(&mut *tx)
            .await?;
        // Default hotwords are customers' names too; a list set after the request stays.
        sqlx::query("DELETE FROM tenant_hotwords WHERE tenant = $1 AND updated_at <= $2")
            .bind(&e.tenant)
            .bind(e.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Extends an erasure's lease.
    pub async fn renew_erasure(&self, e: &Erasure, lease: Duration) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE erasures SET lease_expires_at = $2 WHERE id = $1")
            .bind(&e.id)
            .bind(now_ms() + lease.as_millis() as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks swept erasures whose audio is all gone as completed.
    pub async fn complete_erasures(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE erasures SET status = 'completed', finished_at = $1 WHERE status = 'running' \
             AND swept = 1 AND NOT EXISTS (SELECT 1 FROM audio_deletes a WHERE a.erasure_id = erasures.id)",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// After deleting job rows (`id`, `source_url`, `source_owned`): deletes their webhook
/// deliveries and queues their uploaded audio.
async fn purge_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rows: &[AnyRow],
    erasure: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    for r in rows {
        let id: String = r.try_get("id")?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE job_id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        if r.try_get::<i64, _>("source_owned")? != 0 {
            let url: String = r.try_get("source_url")?;
            super::enqueue_audio_delete(tx, &url, erasure, now).await?;
        }
    }
    Ok(())
}
