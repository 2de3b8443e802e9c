//! Prometheus metrics, served on the operations listener only. Work metrics (processing time,
//! audio, real-time factor, errors) are counted where they happen; queue depth, jobs by state
//! and pending deletions are read from the database at scrape time, so every process reports
//! the same queue. Per-tenant queue depth is labelled for the [`TENANT_LABELS`] tenants with
//! the most queued jobs and summed as `other` beyond them, so the number of series stays
//! bounded however many tenants there are.

use prometheus::{
    Counter, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::db::{status, Db};

/// Tenants shown by name in `stenograph_tenant_queue_depth`.
pub const TENANT_LABELS: usize = 20;

/// Every metric of one process.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Jobs waiting for a worker.
    pub queue_depth: IntGauge,
    /// Jobs waiting for a worker, by tenant (bounded, see the module docs).
    pub tenant_queue_depth: IntGaugeVec,
    /// Uploaded objects queued for deletion.
    pub audio_deletes_pending: IntGauge,
    /// Jobs purged, by reason.
    pub jobs_purged: IntCounterVec,
    /// Jobs per state.
    pub jobs: IntGaugeVec,
    /// Jobs running in this process.
    pub in_flight: IntGauge,
    /// Wall time per transcription.
    pub processing_seconds: Histogram,
    /// Audio transcribed.
    pub audio_seconds: Counter,
    /// Processing time over audio time per job.
    pub real_time_factor: Histogram,
    /// Jobs finished, by outcome.
    pub jobs_finished: IntCounterVec,
    /// Job errors by kind.
    pub job_errors: IntCounterVec,
    /// HTTP requests by route and status.
    pub http_requests: IntCounterVec,
    /// HTTP request latency by route.
    pub http_seconds: HistogramVec,
    /// Refused requests by error code.
    pub http_errors: IntCounterVec,
    /// Webhook attempts by result.
    pub webhooks: IntCounterVec,
    /// Realtime transcription sessions open in this process.
    pub realtime_sessions: IntGauge,
    /// Realtime sessions ended, by how.
    pub realtime_sessions_ended: IntCounterVec,
    /// Seconds from the end of a turn's speech reaching the server to its final text.
    pub realtime_final_latency: Histogram,
    /// Audio received by realtime sessions.
    pub realtime_audio_seconds: Counter,
    /// Time realtime sessions spent processing their audio (over the audio's time: the
    /// real-time factor).
    pub realtime_compute_seconds: Counter,
    /// Error events sent to realtime clients, by code.
    pub realtime_errors: IntCounterVec,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("stenograph".into()), None).expect("static registry prefix");
        let queue_depth = IntGauge::new("queue_depth", "Jobs waiting for a worker").unwrap();
        let tenant_queue_depth = IntGaugeVec::new(
            Opts::new(
                "tenant_queue_depth",
                "Jobs waiting for a worker by tenant (the largest queues by name, the rest as 'other')",
            ),
            &["tenant"],
        )
        .unwrap();
        let audio_deletes_pending = IntGauge::new(
            "audio_deletes_pending",
            "Uploaded audio objects queued for deletion",
        )
        .unwrap();
        let jobs_purged = IntCounterVec::new(
            Opts::new(
                "jobs_purged_total",
                "Jobs deleted with their data, by reason (deleted, retention, sync, erasure)",
            ),
            &["reason"],
        )
        .unwrap();
        let jobs = IntGaugeVec::new(Opts::new("jobs", "Jobs by status"), &["status"]).unwrap();
        let in_flight = IntGauge::new("jobs_in_flight", "Jobs running in this process").unwrap();
        let processing_seconds = Histogram::with_opts(
            HistogramOpts::new("job_processing_seconds", "Wall time per transcription job")
                .buckets(vec![
                    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0,
                ]),
        )
        .unwrap();
        let audio_seconds =
            Counter::new("audio_seconds_total", "Seconds of audio transcribed").unwrap();
        let real_time_factor = Histogram::with_opts(
            HistogramOpts::new(
                "real_time_factor",
                "Processing seconds per audio second, per job (lower is faster)",
            )
            .buckets(vec![
                0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0,
            ]),
        )
        .unwrap();
        let jobs_finished = IntCounterVec::new(
            Opts::new(
                "jobs_finished_total",
                "Jobs finished by this process, by outcome",
            ),
            &["status"],
        )
        .unwrap();
        let job_errors = IntCounterVec::new(
            Opts::new("job_errors_total", "Job errors by kind (retried or final)"),
            &["kind"],
        )
        .unwrap();
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["route", "status"],
        )
        .unwrap();
        let http_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_seconds", "HTTP request latency by route").buckets(
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ],
            ),
            &["route"],
        )
        .unwrap();
        let http_errors = IntCounterVec::new(
            Opts::new(
                "http_errors_total",
                "Refused or failed API requests by error code",
            ),
            &["code"],
        )
        .unwrap();
        let webhooks = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook delivery attempts by result",
            ),
            &["result"],
        )
        .unwrap();
        let realtime_sessions = IntGauge::new(
            "realtime_sessions",
            "Realtime transcription sessions open in this process",
        )
        .unwrap();
        let realtime_sessions_ended = IntCounterVec::new(
            Opts::new(
                "realtime_sessions_ended_total",
                "Realtime sessions ended, by reason (client, idle, expired, shutdown, error)",
            ),
            &["reason"],
        )
        .unwrap();
        let realtime_final_latency = Histogram::with_opts(
            HistogramOpts::new(
                "realtime_final_latency_seconds",
                "From the end of a turn's speech reaching the server to its final text being sent",
            )
            .buckets(vec![
                0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0,
            ]),
        )
        .unwrap();
        let realtime_audio_seconds = Counter::new(
            "realtime_audio_seconds_total",
            "Seconds of audio received by realtime sessions",
        )
        .unwrap();
        let realtime_compute_seconds = Counter::new(
            "realtime_compute_seconds_total",
            "Seconds realtime sessions spent processing audio (divided by realtime_audio_seconds_total: the real-time factor)",
        )
        .unwrap();
        let realtime_errors = IntCounterVec::new(
            Opts::new(
                "realtime_errors_total",
                "Error events sent to realtime clients, by code",
            ),
            &["code"],
        )
        .unwrap();
        let m = Metrics {
            registry,
            queue_depth,
            tenant_queue_depth,
            audio_deletes_pending,
            jobs_purged,
            jobs,
            in_flight,
            processing_seconds,
            audio_seconds,
            real_time_factor,
            jobs_finished,
            job_errors,
            http_requests,
            http_seconds,
            http_errors,
            webhooks,
            realtime_sessions,
            realtime_sessions_ended,
            realtime_final_latency,
            realtime_audio_seconds,
            realtime_compute_seconds,
            realtime_errors,
        };
        let all: [Box<dyn prometheus::core::Collector>; 21] = [
            Box::new(m.queue_depth.clone()),
            Box::new(m.tenant_queue_depth.clone()),
            Box::new(m.audio_deletes_pending.clone()),
            Box::new(m.jobs_purged.clone()),
            Box::new(m.jobs.clone()),
            Box::new(m.in_flight.clone()),
            Box::new(m.processing_seconds.clone()),
            Box::new(m.audio_seconds.clone()),
            Box::new(m.real_time_factor.clone()),
            Box::new(m.jobs_finished.clone()),
            Box::new(m.job_errors.clone()),
            Box::new(m.http_requests.clone()),
            Box::new(m.http_seconds.clone()),
            Box::new(m.http_errors.clone()),
            Box::new(m.webhooks.clone()),
            Box::new(m.realtime_sessions.clone()),
            Box::new(m.realtime_sessions_ended.clone()),
            Box::new(m.realtime_final_latency.clone()),
            Box::new(m.realtime_audio_seconds.clone()),
            Box::new(m.realtime_compute_seconds.clone()),
            Box::new(m.realtime_errors.clone()),
        ];
        for c in all {
            m.registry.register(c).expect("metric names are unique");
        }
        m
    }

    /// Reads queue depth and jobs by state from the database.
    pub async fn refresh_queue(&self, db: &Db) -> Result<(), sqlx::Error> {
        let counts = db.count_by_status().await?;
        for s in status::ALL {
            let n = counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            self.jobs.with_label_values(&[s]).set(n);
        }
        self.queue_depth.set(db.queue_depth().await?);
        self.audio_deletes_pending
            .set(db.pending_audio_deletes(None).await?);
        self.tenant_queue_depth.reset();
        for (tenant, n) in top_tenants(db.queue_depth_by_tenant().await?) {
            self.tenant_queue_depth.with_label_values(&[&tenant]).set(n);
        }
        Ok(())
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The [`TENANT_LABELS`] largest queues by name and the rest summed as `other`.
fn top_tenants(mut depths: Vec<(String, i64)>) -> Vec<(String, i64)> {
    depths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rest: i64 = depths.iter().skip(TENANT_LABELS).map(|(_, n)| n).sum();
    depths.truncate(TENANT_LABELS);
    if rest > 0 {
        depths.push(("other".into(), rest));
    }
    depths
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_labels_are_bounded() {
        let many: Vec<_> = (0..100).map(|i| (format!("t{i:03}"), i as i64)).collect();
        let top = top_tenants(many);
        assert_eq!(top.len(), TENANT_LABELS + 1);
        assert_eq!(top[0], ("t099".to_string(), 99));
        let other: i64 = (0..80).sum();
        assert_eq!(top.last().unwrap(), &("other".to_string(), other));
        assert_eq!(
            top_tenants(vec![("a".into(), 2)]),
            vec![("a".to_string(), 2)]
        );
    }

    /// Every `stenograph_*` series the dashboard and the HPA query is one this process exports.
    #[test]
    fn deployment_queries_name_real_metrics() {
        let m = Metrics::new();
        m.jobs.with_label_values(&["queued"]).set(0);
        m.tenant_queue_depth.with_label_values(&["a"]).set(0);
        for v in [
            &m.jobs_finished,
            &m.job_errors,
            &m.webhooks,
            &m.jobs_purged,
            &m.realtime_sessions_ended,
            &m.realtime_errors,
        ] {
            v.with_label_values(&["x"]).inc();
        }
        m.http_requests.with_label_values(&["/", "200"]).inc();
        m.http_seconds.with_label_values(&["/"]).observe(0.1);
        m.http_errors.with_label_values(&["x"]).inc();
        let page = m.render();
        let sources = [
            include_str!("../deploy/grafana/dashboard.json"),
            include_str!("../deploy/k8s/hpa/hpa.yaml"),
        ];
        let mut seen = 0;
        for text in sources {
            for (i, _) in text.match_indices("stenograph_") {
                let name: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
                assert!(
                    page.contains(&format!("# TYPE {family} ")),
                    "{name} is not exported"
                );
                seen += 1;
            }
        }
        assert!(seen > 10);
    }
}
