//! Webhook delivery: signed POSTs of a job's final state, retried with exponential backoff
//! and given up (and recorded) after the configured attempts. Deliveries are rows claimed with
//! a lease, like jobs, so any number of workers share them and none is sent twice at once.
//! Each delivery runs on its own task: at most [`CONCURRENCY`] at once per process and
//! [`PER_TENANT`] per tenant across every process, so one tenant's slow receivers never hold
//! back another tenant's. Destinations are checked as [`address`] describes; redirects are
//! not followed.
//!
//! Each request carries `Stenograph-Signature: t=UNIX_SECONDS,v1=HEX`, where `HEX` is the
//! HMAC-SHA256 of `"{t}.{body}"` under the shared secret; receivers recompute it and reject
//! stale timestamps.

pub mod address;

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::JoinSet;

use crate::db::{now_ms, Db, Delivery};
use crate::metrics::Metrics;

/// Deliveries in flight in one process.
pub const CONCURRENCY: usize = 64;
/// Deliveries in flight per tenant, across every process.
pub const PER_TENANT: i64 = 4;
/// Time limit of one delivery attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The HTTP client deliveries use: a time limit, no redirects, no proxy (the address
/// checks must see the real destination), and the guarded resolver.
pub fn client(allow_private: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(address::GuardedResolver { allow_private }))
        .build()
        .expect("TLS back end initialises")
}

/// Sends due deliveries until `stop` fires.
pub struct Dispatcher {
    /// The store.
    pub db: Db,
    /// HTTP client from [`client`].
    pub client: reqwest::Client,
    /// Signing secret.
    pub secret: String,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// First retry delay.
    pub backoff: Duration,
    /// Counters.
    pub metrics: Metrics,
    /// Whether non-public destinations are allowed.
    pub allow_private: bool,
}

impl Dispatcher {
    /// Claims and sends deliveries, polling every `poll`, until `stop` turns true; then waits
    /// for the attempts in flight.
    pub async fn run(self, poll: Duration, stop: tokio::sync::watch::Receiver<bool>) {
        let this = Arc::new(self);
        let mut stop = stop;
        let mut running = JoinSet::new();
        let lease = ATTEMPT_TIMEOUT * 6;
        loop {
            if *stop.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let free = CONCURRENCY.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 {
                match this
                    .db
                    .claim_deliveries(lease, free as i64, PER_TENANT)
                    .await
                {
                    Ok(batch) => {
                        claimed = batch.len();
                        for d in batch {
                            let this = this.clone();
                            running.spawn(async move { this.deliver(d).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "webhook queue unavailable"),
                }
            }
            if claimed > 0 && claimed == free {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = stop.changed() => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    async fn deliver(&self, d: Delivery) {
        let attempt = d.attempts as u32 + 1;
        let outcome = self.send(&d).await;
        let (ok, status) = match &outcome {
            Attempt::Answered(code) => ((200..300).contains(code), Some(i64::from(*code))),
            Attempt::Failed(_) | Attempt::Refused => (false, None),
        };
        let error = match &outcome {
            Attempt::Answered(_) if ok => None,
            Attempt::Answered(code) => Some(format!("receiver answered HTTP {code}")),
            Attempt::Failed(e) => Some(format!("request failed: {e}")),
            Attempt::Refused => Some(format!("refused: {}", address::Refused)),
        };
        let refused = matches!(outcome, Attempt::Refused);
        // A refused destination is not retried: only the URL could change that.
        let retry_at = (!ok && !refused && attempt < self.max_attempts)
            .then(|| now_ms() + backoff(self.backoff, attempt).as_millis() as i64);
        let result = match (ok, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "retry",
            (false, None) if refused => "refused",
            (false, None) => "gave_up",
        };
        self.metrics.webhooks.with_label_values(&[result]).inc();
        match result {
            "delivered" => {
                tracing::info!(job = %d.job_id, tenant = %d.tenant, attempt, "webhook delivered")
            }
            "retry" => {
                tracing::warn!(job = %d.job_id, tenant = %d.tenant, attempt, error = ?error, "webhook failed; will retry")
            }
            _ => {
                tracing::error!(job = %d.job_id, tenant = %d.tenant, attempt, error = ?error, "webhook {result}")
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

    /// One signed POST of a delivery, unless its destination is refused.
    async fn send(&self, d: &Delivery) -> Attempt {
        if !address::literal_allowed(&d.url, self.allow_private) {
            return Attempt::Refused;
        }
        let sent = self
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
                sign(&self.secret, now_ms() / 1000, &d.payload),
            )
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(r) => Attempt::Answered(r.status().as_u16()),
            Err(e) if refused(&e) => Attempt::Refused,
            Err(e) => Attempt::Failed(e.to_string()),
        }
    }
}

/// What one delivery attempt came to.
enum Attempt {
    /// The receiver answered with this status.
    Answered(u16),
    /// No answer (connection, timeout, TLS).
    Failed(String),
    /// The destination is not a public address.
    Refused,
}

/// Whether a request failed because the guarded resolver refused its destination.
fn refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<address::Refused>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
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
