//! Webhook deliveries: rows claimed with a lease, like jobs, so any number of dispatchers
//! share them and none is sent twice at once. Claims are capped per tenant across every
//! dispatcher, so one tenant's slow receivers cannot hold back another tenant's deliveries.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use super::{now_ms, Db, Job};

/// A webhook delivery to make or retry.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Delivery id (sent as a header, stable across retries).
    pub id: String,
    /// The job it reports.
    pub job_id: String,
    /// The job's tenant.
    pub tenant: String,
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

impl Db {
    /// Claims up to `limit` due deliveries for `lease`, at most `per_tenant` in flight per
    /// tenant (counting those other dispatchers hold), oldest first within a tenant and
    /// tenants taking turns.
    pub async fn claim_deliveries(
        &self,
        lease: Duration,
        limit: i64,
        per_tenant: i64,
    ) -> Result<Vec<Delivery>, sqlx::Error> {
        let now = now_ms();
        // The last condition re-checks the lease on the row being updated, so two
        // dispatchers that picked the same row cannot both take it.
        let sql = "UPDATE webhook_deliveries SET lease_expires_at = $1 WHERE id IN ( \
               SELECT id FROM ( \
                 SELECT d.id, d.next_attempt_at, \
                   ROW_NUMBER() OVER (PARTITION BY d.tenant ORDER BY d.next_attempt_at, d.id) \
                     + COALESCE(l.n, 0) AS slot \
                 FROM webhook_deliveries d \
                 LEFT JOIN (SELECT tenant, COUNT(*) AS n FROM webhook_deliveries \
                   WHERE state = 'pending' AND lease_expires_at >= $2 GROUP BY tenant) l \
                 ON l.tenant = d.tenant \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= $2 \
                   AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $2) \
               ) ranked WHERE slot <= $4 ORDER BY slot, next_attempt_at LIMIT $3) \
             AND state = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at < $2) \
             RETURNING id, job_id, tenant, url, event, payload, attempts";
        let rows = sqlx::query(sql)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(limit)
            .bind(per_tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get("id")?,
                    job_id: r.try_get("job_id")?,
                    tenant: r.try_get("tenant")?,
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

/// Queues a delivery of `payload` about `job` (inside the transaction that ended the job).
pub(super) async fn insert_delivery(
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
