//! The transcription worker: claims jobs, keeps their leases alive, transcribes with the one
//! shared [`Transcriber`], and writes the outcome only while it still holds the lease. On
//! shutdown it stops claiming, lets running jobs finish within the grace period, then cancels
//! the rest and gives their leases back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stenograph::audio::{AudioSource, AudioStream, DecodeOptions};
use stenograph::transcribe::{CancelToken, TranscribeOptions, Transcriber};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::db::{Claim, Db, Outcome};
use crate::metrics::Metrics;
use crate::storage::{Source, Storage, StorageError};
use crate::view::webhook_event;

/// Worker settings.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Jobs at once.
    pub concurrency: usize,
    /// Lease length.
    pub lease: Duration,
    /// Idle poll interval.
    pub poll: Duration,
    /// Longest audio accepted.
    pub max_audio: Duration,
    /// Time given to running jobs on shutdown.
    pub grace: Duration,
    /// How long a job may wait for unavailable storage before it fails.
    pub storage_patience: Duration,
}

/// One worker process's job loop.
#[derive(Clone)]
pub struct Worker {
    /// Job store.
    pub db: Db,
    /// Audio store.
    pub storage: Arc<Storage>,
    /// The model, shared by all jobs.
    pub transcriber: Transcriber,
    /// Metrics.
    pub metrics: Metrics,
    /// Settings.
    pub settings: WorkerSettings,
    /// Woken when the API in this process queues a job.
    pub wake: Arc<Notify>,
    /// Wakes the janitor when a job ended (its audio is queued for deletion).
    pub lifecycle: Arc<Notify>,
    /// Name written into leases.
    pub id: String,
}

/// What ended a job run, for the caller's bookkeeping.
enum End {
    Finished,
    Released,
    Lost,
}

impl Worker {
    /// Runs until `stop` turns true, then drains as described in the module docs.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency));
        let shutting_down = Arc::new(AtomicBool::new(false));
        let tokens: Arc<std::sync::Mutex<Vec<CancelToken>>> = Arc::default();
        let mut running = JoinSet::new();
        let mut last_reap = Instant::now() - Duration::from_secs(60);
        tracing::info!(worker = %self.id, concurrency = self.settings.concurrency, "worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p.expect("semaphore is never closed"),
                _ = stop.changed() => continue,
            };
            while running.try_join_next().is_some() {}
            if last_reap.elapsed() > self.settings.lease / 2 {
                last_reap = Instant::now();
                match self.db.reap(webhook_event).await {
                    Ok(jobs) => {
                        for j in jobs {
                            tracing::warn!(job = %j.id, attempts = j.attempts, "job failed: its workers kept dying");
                            self.metrics
                                .job_errors
                                .with_label_values(&["worker_lost"])
                                .inc();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reaping expired leases failed"),
                }
            }
            match self.db.claim(&self.id, self.settings.lease).await {
                Ok(Some(claim)) => {
                    let me = self.clone();
                    let token = CancelToken::new();
                    tokens
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(token.clone());
                    let shutting_down = shutting_down.clone();
                    running.spawn(async move {
                        let _permit = permit;
                        me.process(claim, token, shutting_down).await;
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = tokio::time::sleep(self.settings.poll) => {}
                        _ = self.wake.notified() => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "claiming a job failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(self.settings.poll.max(Duration::from_secs(1))) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
        let n = running.len();
        if n > 0 {
            tracing::info!(
                running = n,
                grace_s = self.settings.grace.as_secs_f64(),
                "shutting down: letting running jobs finish"
            );
            let drained = tokio::time::timeout(self.settings.grace, async {
                while running.join_next().await.is_some() {}
            })
            .await;
            if drained.is_err() {
                tracing::warn!(
                    running = running.len(),
                    "grace period over: cancelling running jobs and releasing their leases"
                );
                shutting_down.store(true, Ordering::SeqCst);
                for t in tokens.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    t.cancel();
                }
                while running.join_next().await.is_some() {}
                // Cancelled calls finish their encoder pass in the background; exiting
                // before that would pull the model from under them.
                let t = self.transcriber.clone();
                let _ = tokio::task::spawn_blocking(move || t.wait_background()).await;
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    async fn process(&self, claim: Claim, token: CancelToken, shutting_down: Arc<AtomicBool>) {
        let id = claim.job.id.clone();
        tracing::info!(job = %id, attempt = claim.attempt, "job started");
        self.metrics.in_flight.inc();
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let (db, claim, lease, token, lost) = (
                self.db.clone(),
                claim.clone(),
                self.settings.lease,
                token.clone(),
                lost.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    match db.renew(&claim, lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::SeqCst);
                            token.cancel();
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(job = %claim.job.id, error = %e, "lease renewal failed; retrying")
                        }
                    }
                }
            })
        };
        let end = self.run_job(&claim, token, &lost, &shutting_down).await;
        heartbeat.abort();
        self.metrics.in_flight.dec();
        match end {
            // The transaction that ended the job queued its audio for deletion.
            End::Finished => self.lifecycle.notify_one(),
            End::Released => tracing::info!(job = %id, "lease released for another worker"),
            End::Lost => tracing::info!(job = %id, "job canceled or taken over; result dropped"),
        }
    }

    async fn run_job(
        &self,
        claim: &Claim,
        token: CancelToken,
        lost: &AtomicBool,
        shutting_down: &AtomicBool,
    ) -> End {
        let job = &claim.job;
        let source = Source {
            url: &job.input.source_url,
            owned: job.input.source_owned,
            tenant: &job.tenant,
        };
        let bytes = match self.storage.get(source).await {
            Ok(b) => b,
            Err(StorageError::NotFound(_)) => {
                let msg = "the job's audio is gone from storage";
                return self.fail(claim, "source_not_found", msg).await;
            }
            Err(StorageError::Refused(why) | StorageError::BadUrl { reason: why, .. }) => {
                let msg = format!("the job's audio cannot be read: {why}");
                return self.fail(claim, "source_refused", &msg).await;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "object storage unavailable");
                return self
                    .wait_for_storage(claim, "object storage is unavailable")
                    .await;
            }
        };
        let mut opts = TranscribeOptions::default();
        opts.language = job.input.options.language.clone();
        opts.languages = job.input.options.languages.clone();
        opts.task = job.input.options.task;
        opts.initial_prompt = job.input.options.initial_prompt.clone();
        opts.word_timestamps = job.input.options.word_timestamps;
        if let Some(t) = job.input.options.temperature {
            opts.temperature = t;
        }
        if let Some(speakers) = &job.input.options.speakers {
            match speakers.parse() {
                Ok(s) => opts.speakers = s,
                Err(e) => return self.fail(claim, "invalid_argument", &e.to_string()).await,
            }
        }
        opts.speaker_names = job.input.options.speaker_names.clone();
        opts.hotwords = job.input.options.hotwords.clone();
        if let Some(events) = &job.input.options.sound_events {
            match events.parse() {
                Ok(e) => opts.sound_events = e,
                Err(e) => return self.fail(claim, "invalid_argument", &e.to_string()).await,
            }
        }
        opts.cancel = Some(token);
        let name = job
            .input
            .source_name
            .clone()
            .unwrap_or_else(|| job.id.clone());
        let mut decode = DecodeOptions::default();
        decode.max_duration = self.settings.max_audio;
        decode.separate_channels = opts.speakers == stenograph::transcribe::Speakers::Channels;
        let transcriber = self.transcriber.clone();
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let source = AudioSource::from_bytes(bytes).named(name);
            let stream = AudioStream::open(source, &decode)?;
            transcriber.transcribe_stream(stream, &opts)
        })
        .await;
        let elapsed = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Ok(transcript)) => {
                let result = serde_json::to_string(&transcript).unwrap_or_default();
                let done = Outcome::Completed {
                    result: &result,
                    audio_seconds: transcript.duration,
                    processing_seconds: elapsed,
                };
                match self.db.finish(claim, done, webhook_event).await {
                    Ok(Some(_)) => {
                        self.metrics.processing_seconds.observe(elapsed);
                        self.metrics.audio_seconds.inc_by(transcript.duration);
                        if transcript.duration > 0.0 {
                            self.metrics
                                .real_time_factor
                                .observe(elapsed / transcript.duration);
                        }
                        self.metrics
                            .jobs_finished
                            .with_label_values(&["completed"])
                            .inc();
                        tracing::info!(job = %job.id, audio_s = transcript.duration, processing_s = elapsed, "job completed");
                        End::Finished
                    }
                    Ok(None) => End::Lost,
                    Err(e) => {
                        // The lease runs out and another worker redoes the job.
                        tracing::error!(job = %job.id, error = %e, "could not store the result");
                        End::Lost
                    }
                }
            }
            Ok(Err(stenograph::Error::Cancelled)) if lost.load(Ordering::SeqCst) => End::Lost,
            Ok(Err(stenograph::Error::Cancelled)) if shutting_down.load(Ordering::SeqCst) => {
                match self.db.release(claim, Duration::ZERO, None).await {
                    Ok(_) => End::Released,
                    Err(e) => {
                        tracing::warn!(job = %job.id, error = %e, "could not release the lease; it will expire");
                        End::Released
                    }
                }
            }
            Ok(Err(e)) if e.is_input_error() => self.fail(claim, e.code(), &e.to_string()).await,
            Ok(Err(e)) => self.retry(claim, e.code(), &e.to_string()).await,
            Err(join) => {
                let msg = format!("transcription crashed: {join}");
                self.retry(claim, "worker_panic", &msg).await
            }
        }
    }

    async fn fail(&self, claim: &Claim, code: &str, message: &str) -> End {
        self.metrics.job_errors.with_label_values(&[code]).inc();
        let failed = Outcome::Failed { code, message };
        match self.db.finish(claim, failed, webhook_event).await {
            Ok(Some(_)) => {
                self.metrics
                    .jobs_finished
                    .with_label_values(&["failed"])
                    .inc();
                tracing::warn!(job = %claim.job.id, code, message, "job failed");
                End::Finished
            }
            Ok(None) => End::Lost,
            Err(e) => {
                tracing::error!(job = %claim.job.id, error = %e, "could not store the failure");
                End::Lost
            }
        }
    }

    /// Storage is down: the job waits for it without spending attempts, retried at growing
    /// intervals (a quarter of its age, 1–60 s), and fails once it has waited
    /// `storage_patience`.
    async fn wait_for_storage(&self, claim: &Claim, message: &str) -> End {
        let code = "storage_unavailable";
        self.metrics.job_errors.with_label_values(&[code]).inc();
        let age = Duration::from_millis((crate::db::now_ms() - claim.job.created_at).max(0) as u64);
        if age > self.settings.storage_patience {
            let msg = format!(
                "object storage unavailable for {} s: {message}",
                age.as_secs()
            );
            return self.fail(claim, code, &msg).await;
        }
        let delay = (age / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        match self.db.release(claim, delay, Some((code, message))).await {
            Ok(true) => {
                tracing::warn!(job = %claim.job.id, error = message, retry_in_s = delay.as_secs_f64(), "storage unavailable; job queued again");
                End::Released
            }
            Ok(false) => End::Lost,
            Err(e) => {
                tracing::error!(job = %claim.job.id, error = %e, "could not requeue the job; its lease will expire");
                End::Lost
            }
        }
    }

    async fn retry(&self, claim: &Claim, code: &str, message: &str) -> End {
        self.metrics.job_errors.with_label_values(&[code]).inc();
        let delay = crate::webhook::backoff(Duration::from_secs(2), claim.attempt as u32);
        match self
            .db
            .retry_later(claim, code, message, delay, webhook_event)
            .await
        {
            Ok(Some(job)) if job.is_finished() => {
                self.metrics
                    .jobs_finished
                    .with_label_values(&["failed"])
                    .inc();
                tracing::warn!(job = %job.id, code, message, "job failed after its last attempt");
                End::Finished
            }
            Ok(Some(job)) => {
                tracing::warn!(job = %job.id, code, message, retry_in_s = delay.as_secs_f64(), "job attempt failed; queued again");
                End::Released
            }
            Ok(None) => End::Lost,
            Err(e) => {
                tracing::error!(job = %claim.job.id, error = %e, "could not requeue the job; its lease will expire");
                End::Lost
            }
        }
    }
}
