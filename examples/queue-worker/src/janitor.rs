//! The janitor: every process runs one. It carries out tenant erasures, purges jobs past the
//! retention period, removes synchronous jobs nobody waits for any more (their API process
//! died mid-request), and deletes queued audio objects, retrying while storage is down. All of
//! it is claimed through the database, so any number of processes share the work; it runs every
//! few seconds and whenever this process queues something.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::db::{now_ms, AudioDelete, Db, Erasure};
use crate::metrics::Metrics;
use crate::storage::{Storage, StorageError};

/// Rows or objects handled per database round trip.
const BATCH: i64 = 100;
/// Lease on claimed erasures and deletions.
const LEASE: Duration = Duration::from_secs(60);

/// The janitor of one process.
pub struct Janitor {
    /// Job store.
    pub db: Db,
    /// Audio store.
    pub storage: Arc<Storage>,
    /// Counters.
    pub metrics: Metrics,
    /// Purge jobs that ended longer ago than this.
    pub retention: Option<Duration>,
    /// Remove synchronous jobs older than this.
    pub sync_ttl: Duration,
    /// Woken when this process queues deletions or erasures.
    pub wake: Arc<Notify>,
}

impl Janitor {
    /// Time between rounds: a quarter of the retention period, between 1 and 10 seconds, so a
    /// job is gone within seconds of expiring.
    pub fn interval(&self) -> Duration {
        self.retention
            .map_or(Duration::from_secs(10), |r| r / 4)
            .clamp(Duration::from_secs(1), Duration::from_secs(10))
    }

    /// Runs rounds until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let interval = self.interval();
        loop {
            if *stop.borrow() {
                return;
            }
            self.round().await;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// One pass over every kind of work.
    pub async fn round(&self) {
        if let Err(e) = self.erasures().await {
            tracing::warn!(error = %e, "tenant erasure paused; retrying");
        }
        if let Some(retention) = self.retention {
            let cutoff = now_ms() - retention.as_millis() as i64;
            self.purge("retention", || self.db.expire(cutoff, BATCH))
                .await;
        }
        let cutoff = now_ms() - self.sync_ttl.as_millis() as i64;
        self.purge("sync", || self.db.sweep_sync(cutoff, BATCH))
            .await;
        self.delete_audio().await;
        match self.db.complete_erasures().await {
            Ok(n) if n > 0 => tracing::info!(erasures = n, "tenant erasure completed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not complete erasures"),
        }
    }

    /// Runs a purge in batches until nothing is left.
    async fn purge<F, Fut>(&self, reason: &str, batch: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<usize, sqlx::Error>>,
    {
        loop {
            match batch().await {
                Ok(0) => return,
                Ok(n) => {
                    self.metrics
                        .jobs_purged
                        .with_label_values(&[reason])
                        .inc_by(n as u64);
                    tracing::info!(jobs = n, reason, "jobs purged");
                }
                Err(e) => {
                    tracing::warn!(error = %e, reason, "purge failed; retrying");
                    return;
                }
            }
        }
    }

    /// Deletes queued objects; one that cannot be deleted now is retried at growing intervals
    /// (1 s doubling to 10 min).
    async fn delete_audio(&self) {
        loop {
            let batch = match self.db.claim_audio_deletes(LEASE, BATCH).await {
                Ok(b) if b.is_empty() => return,
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "audio deletions unavailable");
                    return;
                }
            };
            let mut failed = false;
            for d in batch {
                failed |= !self.delete_one(&d).await;
            }
            if failed {
                return;
            }
        }
    }

    async fn delete_one(&self, d: &AudioDelete) -> bool {
        let outcome = match self.storage.delete_owned(&d.url).await {
            Ok(()) => Ok(()),
            // Not an object of this service's store: nothing here to delete.
            Err(e @ (StorageError::Refused(_) | StorageError::BadUrl { .. })) => {
                tracing::warn!(url = %d.url, error = %e, "queued deletion names no upload");
                Ok(())
            }
            Err(e) => Err(e),
        };
        let recorded = match &outcome {
            Ok(()) => self.db.audio_deleted(d).await,
            Err(e) => {
                let delay = crate::webhook::backoff(Duration::from_secs(1), d.attempts as u32 + 1)
                    .min(Duration::from_secs(600));
                tracing::warn!(url = %d.url, error = %e, retry_in_s = delay.as_secs(), "audio deletion failed");
                self.db
                    .audio_delete_failed(d, &e.to_string(), now_ms() + delay.as_millis() as i64)
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not record an audio deletion");
        }
        outcome.is_ok()
    }

    /// Carries out open erasures: their jobs in batches, then a sweep of the tenant's upload
    /// area for objects no remaining row references.
    async fn erasures(&self) -> Result<(), String> {
        while let Some(e) = self
            .db
            .claim_erasure(LEASE)
            .await
            .map_err(|e| e.to_string())?
        {
            self.erase(&e).await?;
        }
        Ok(())
    }

    async fn erase(&self, e: &Erasure) -> Result<(), String> {
        loop {
            let n = self
                .db
                .erase_jobs(e, BATCH)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            self.metrics
                .jobs_purged
                .with_label_values(&["erasure"])
                .inc_by(n as u64);
            self.db
                .renew_erasure(e, LEASE)
                .await
                .map_err(|e| e.to_string())?;
        }
        // Uploads written after the request belong to jobs that survive it; so do those the
        // remaining rows reference. The erased rows' uploads are queued already.
        let known = self
            .db
            .erasure_known_urls(e)
            .await
            .map_err(|e| e.to_string())?;
        let orphans: Vec<String> = self
            .storage
            .list_uploads(&e.tenant)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(url, modified)| *modified <= e.created_at && !known.contains(url))
            .map(|(url, _)| url)
            .collect();
        self.db
            .erasure_swept(e, &orphans)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(erasure = %e.id, tenant = %e.tenant, orphans = orphans.len(), "tenant jobs erased; deleting audio");
        Ok(())
    }
}
