//! Webhook delivery: signed POSTs of a job's final state, retried with exponential backoff
//! and given up (and recorded) after the configured attempts. Deliveries are rows claimed with
//! a lease, like jobs, so any number of workers share them and none is sent twice at once.
//!
//! Each request carries `Stenograph-Signature: t=UNIX_SECONDS,v1=HEX`, where `HEX` is the
//! HMAC-SHA256 of `"{t}.{body}"` under the shared secret; receivers recompute it and reject
//! stale timestamps.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{now_ms, Db, Delivery};
use crate::metrics::Metrics;

/// The signature header's value for `body` sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Delay before retry number `attempt` (1-based): `base × 2^(attempt-1)`, at most an hour.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

/// Sends due deliveries until `stop` fires.
pub struct Dispatcher {
    /// The store.
    pub db: Db,
    /// HTTP client with a timeout.
    pub client: reqwest::Client,
    /// Signing secret.
    pub secret: String,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// First retry delay.
    pub backoff: Duration,
    /// Counters.
    pub metrics: Metrics,
}

impl Dispatcher {
    /// Polls for due deliveries every `poll` until `stop` is cancelled.
    pub async fn run(self, poll: Duration, stop: tokio::sync::watch::Receiver<bool>) {
        let mut stop = stop;
        loop {
            if *stop.borrow() {
                return;
            }
            match self.db.claim_deliveries(Duration::from_secs(60), 16).await {
                Ok(batch) if !batch.is_empty() => {
                    let sends = batch.into_iter().map(|d| self.deliver(d));
                    futures::future::join_all(sends).await;
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook queue unavailable"),
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn deliver(&self, d: Delivery) {
        let attempt = d.attempts as u32 + 1;
        let sent_at = now_ms() / 1000;
        let response = self
            .client
            .post(&d.url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("stenograph-server/", env!("CARGO_PKG_VERSION")),
            )
            .header("stenograph-event", &d.event)
            .header("stenograph-delivery", &d.id)
            .header(
                "stenograph-signature",
                sign(&self.secret, sent_at, &d.payload),
            )
            .body(d.payload.clone())
            .send()
            .await;
        let (ok, status, error) = match response {
            Ok(r) if r.status().is_success() => (true, Some(r.status().as_u16() as i64), None),
            Ok(r) => (
                false,
                Some(r.status().as_u16() as i64),
                Some(format!("receiver answered HTTP {}", r.status())),
            ),
            Err(e) => (false, None, Some(format!("request failed: {e}"))),
        };
        let retry_at = (!ok && attempt < self.max_attempts)
            .then(|| now_ms() + backoff(self.backoff, attempt).as_millis() as i64);
        let result = match (ok, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "retry",
            (false, None) => "gave_up",
        };
        self.metrics.webhooks.with_label_values(&[result]).inc();
        match result {
            "delivered" => {
                tracing::info!(job = %d.job_id, url = %d.url, attempt, "webhook delivered")
            }
            "retry" => {
                tracing::warn!(job = %d.job_id, url = %d.url, attempt, error = ?error, "webhook failed; will retry")
            }
            _ => {
                tracing::error!(job = %d.job_id, url = %d.url, attempt, error = ?error, "webhook given up")
            }
        }
        if let Err(e) = self
            .db
            .record_delivery(&d.id, ok, status, error.as_deref(), retry_at)
            .await
        {
            tracing::warn!(error = %e, delivery = %d.id, "could not record webhook attempt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_and_body() {
        // Expected value from Python: hmac.new(b"secret", b'1700000000.{"a":1}', sha256).
        assert_eq!(
            sign("secret", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
        assert_ne!(
            sign("other", 1_700_000_000, "{\"a\":1}"),
            sign("secret", 1_700_000_000, "{\"a\":1}")
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff(b, 1), Duration::from_millis(500));
        assert_eq!(backoff(b, 2), Duration::from_millis(1000));
        assert_eq!(backoff(b, 4), Duration::from_millis(4000));
        assert_eq!(backoff(b, 40), Duration::from_secs(3600));
    }
}
