//! Command line and environment: every setting has a flag and a `STENOGRAPH_*` variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};

/// `stenograph-server [api|worker] [FLAGS]`.
#[derive(Debug, Parser)]
#[command(
    name = "stenograph-server",
    version,
    about = "Transcription service: HTTP API, job queue and workers. With no subcommand, runs the API and the workers in one process."
)]
pub struct Cli {
    /// Which part to run (default: both in one process).
    #[command(subcommand)]
    pub role: Option<Role>,
    /// Settings.
    #[command(flatten)]
    pub config: Config,
}

/// The parts of the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Subcommand)]
pub enum Role {
    /// The HTTP API only (jobs are left to separate workers).
    Api,
    /// A transcription worker only.
    Worker,
    /// The HTTP API with the model loaded for realtime sessions (`/v1/realtime`), and no
    /// queue worker.
    Realtime,
}

/// Every setting.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "STENOGRAPH_HOST",
        default_value = "0.0.0.0",
        global = true
    )]
    pub host: String,
    /// HTTP port of the API.
    #[arg(long, env = "STENOGRAPH_PORT", default_value_t = 8080, global = true)]
    pub port: u16,
    /// Port of the operations listener (/metrics, /healthz, /readyz with details); every
    /// role serves it, never on the public port.
    #[arg(
        long,
        env = "STENOGRAPH_METRICS_PORT",
        default_value_t = 9090,
        global = true
    )]
    pub metrics_port: u16,
    /// Address of the operations listener (default: the same as --host).
    #[arg(long, env = "STENOGRAPH_METRICS_HOST", global = true)]
    pub metrics_host: Option<String>,
    /// Bearer token that /metrics requires (default: none; the port itself is the boundary).
    #[arg(
        long,
        env = "STENOGRAPH_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,
    /// Directory for the embedded defaults (SQLite database and audio files).
    #[arg(
        long,
        env = "STENOGRAPH_DATA_DIR",
        default_value = "stenograph-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database: `sqlite://FILE` or `postgres://USER:PASS@HOST/DB` (default: a SQLite file in
    /// the data directory).
    #[arg(long, env = "STENOGRAPH_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Most database connections per process.
    #[arg(
        long,
        env = "STENOGRAPH_DATABASE_CONNECTIONS",
        default_value_t = 8,
        global = true
    )]
    pub database_connections: u32,
    /// Object storage for audio: `file:///DIR` or `s3://BUCKET/PREFIX` (AWS_* variables give
    /// the endpoint, region and credentials; default: a directory in the data directory).
    #[arg(long, env = "STENOGRAPH_STORAGE_URL", global = true)]
    pub storage_url: Option<String>,
    /// Object-storage prefixes each tenant's JSON jobs may name as input,
    /// `TENANT=URL` comma-separated (`s3://BUCKET/PREFIX/` or `file:///DIR/`; a tenant may have
    /// several). Default: none, and JSON-url jobs are refused.
    #[arg(
        long,
        env = "STENOGRAPH_URL_PREFIXES",
        value_delimiter = ',',
        global = true
    )]
    pub url_prefixes: Vec<String>,
    /// API keys, `KEY:TENANT` comma-separated. Without keys the API is open and every job
    /// belongs to the tenant `default`.
    #[arg(
        long,
        env = "STENOGRAPH_API_KEYS",
        hide_env_values = true,
        global = true
    )]
    pub api_keys: Option<String>,
    /// Secret that signs webhook deliveries (HMAC-SHA256); webhooks are refused without one.
    #[arg(
        long,
        env = "STENOGRAPH_WEBHOOK_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub webhook_secret: Option<String>,
    /// Let webhooks reach loopback, private, link-local and other non-public addresses
    /// (default: refused at submission and at every delivery).
    #[arg(long, env = "STENOGRAPH_WEBHOOK_ALLOW_PRIVATE", action = ArgAction::Set,
          value_parser = BoolishValueParser::new(), num_args = 0..=1, default_value = "false",
          default_missing_value = "true", global = true)]
    pub webhook_allow_private: bool,
    /// Model name, ggml path or export directory, resolved through the model cache.
    #[arg(long, env = "STENOGRAPH_MODEL", default_value = stenograph::transcribe::DEFAULT_MODEL, global = true)]
    pub model: String,
    /// Inference device: auto, cpu, gpu, gpu:N.
    #[arg(long, env = "STENOGRAPH_DEVICE", default_value = "auto", global = true)]
    pub device: String,
    /// Weights of realtime sessions' partial decodes: auto (a q8_0 copy of an f16 or f32
    /// model on the CPU), model (its own), or a quantization type; final text always uses the
    /// model's own.
    #[arg(
        long,
        env = "STENOGRAPH_PARTIAL_WEIGHTS",
        default_value = "auto",
        global = true
    )]
    pub partial_weights: stenograph::transcribe::PartialWeights,
    /// Jobs a worker runs at once (default: CPU cores / threads per job).
    #[arg(long, env = "STENOGRAPH_WORKER_CONCURRENCY", global = true)]
    pub concurrency: Option<usize>,
    /// CPU threads inside each job.
    #[arg(
        long,
        env = "STENOGRAPH_THREADS_PER_JOB",
        default_value_t = 1,
        global = true
    )]
    pub threads_per_job: usize,
    /// Attempts before a job is failed (a crashed worker or a transient error costs one).
    #[arg(
        long,
        env = "STENOGRAPH_MAX_ATTEMPTS",
        default_value_t = 3,
        global = true
    )]
    pub max_attempts: u32,
    /// Lease on a claimed job; a worker that stops renewing it loses the job to another.
    #[arg(
        long,
        env = "STENOGRAPH_LEASE_SECONDS",
        default_value_t = 60.0,
        global = true
    )]
    pub lease_seconds: f64,
    /// How often an idle worker looks for jobs.
    #[arg(long, env = "STENOGRAPH_POLL_MS", default_value_t = 250, global = true)]
    pub poll_ms: u64,
    /// Largest upload to `POST /v1/jobs`, in MiB.
    #[arg(
        long,
        env = "STENOGRAPH_MAX_UPLOAD_MB",
        default_value_t = 200,
        global = true
    )]
    pub max_upload_mb: u64,
    /// Longest audio a job may hold, in seconds (checked from the header at upload).
    #[arg(
        long,
        env = "STENOGRAPH_MAX_AUDIO_SECONDS",
        default_value_t = 14_400.0,
        global = true
    )]
    pub max_audio_seconds: f64,
    /// Largest upload to the synchronous `POST /v1/audio/transcriptions`, in MiB.
    #[arg(
        long,
        env = "STENOGRAPH_SYNC_MAX_UPLOAD_MB",
        default_value_t = 25,
        global = true
    )]
    pub sync_max_upload_mb: u64,
    /// Longest audio the synchronous endpoint takes, in seconds (longer: use /v1/jobs).
    #[arg(
        long,
        env = "STENOGRAPH_SYNC_MAX_AUDIO_SECONDS",
        default_value_t = 600.0,
        global = true
    )]
    pub sync_max_audio_seconds: f64,
    /// How long the synchronous endpoint waits for its result.
    #[arg(
        long,
        env = "STENOGRAPH_SYNC_TIMEOUT_SECONDS",
        default_value_t = 300.0,
        global = true
    )]
    pub sync_timeout_seconds: f64,
    /// Time limit for receiving a whole upload (slow uploads are cut off with 408).
    #[arg(
        long,
        env = "STENOGRAPH_UPLOAD_TIMEOUT_SECONDS",
        default_value_t = 300.0,
        global = true
    )]
    pub upload_timeout_seconds: f64,
    /// Time limit for a request's headers (the connection is closed) and for a JSON body
    /// (408); also how long an idle connection stays open.
    #[arg(
        long,
        env = "STENOGRAPH_REQUEST_TIMEOUT_SECONDS",
        default_value_t = 10.0,
        global = true
    )]
    pub request_timeout_seconds: f64,
    /// Most client connections the API holds open at once; more wait to be accepted.
    #[arg(
        long,
        env = "STENOGRAPH_MAX_CONNECTIONS",
        default_value_t = 1024,
        global = true
    )]
    pub max_connections: usize,
    /// Webhook attempts before a delivery is given up.
    #[arg(
        long,
        env = "STENOGRAPH_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 8,
        global = true
    )]
    pub webhook_max_attempts: u32,
    /// First webhook retry delay in milliseconds; doubles per attempt, capped at one hour.
    #[arg(
        long,
        env = "STENOGRAPH_WEBHOOK_BACKOFF_MS",
        default_value_t = 2000,
        global = true
    )]
    pub webhook_backoff_ms: u64,
    /// On SIGTERM, how long running jobs may take to finish before their leases are released.
    #[arg(
        long,
        env = "STENOGRAPH_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 25.0,
        global = true
    )]
    pub shutdown_grace_seconds: f64,
    /// How long a queued job waits for unavailable object storage before it fails.
    #[arg(
        long,
        env = "STENOGRAPH_STORAGE_PATIENCE_SECONDS",
        default_value_t = 3600.0,
        global = true
    )]
    pub storage_patience_seconds: f64,
    /// Keep uploaded audio after its job ends, until the job is deleted or expires (default:
    /// deleted when the job ends).
    #[arg(long, env = "STENOGRAPH_KEEP_AUDIO", action = ArgAction::Set,
          value_parser = BoolishValueParser::new(), num_args = 0..=1, default_value = "false",
          default_missing_value = "true", global = true)]
    pub keep_audio: bool,
    /// How long finished jobs (rows, transcripts, audio, webhook payloads) are kept, e.g.
    /// `30d`, `12h`, `90s` (default: kept until deleted).
    #[arg(long, env = "STENOGRAPH_RETENTION", value_parser = parse_retention, global = true)]
    pub retention: Option<Duration>,
    /// Realtime sessions open at once in this process; more are refused (`session_limit`).
    #[arg(
        long,
        env = "STENOGRAPH_REALTIME_MAX_SESSIONS",
        default_value_t = 16,
        global = true
    )]
    pub realtime_max_sessions: usize,
    /// Realtime sessions one tenant may hold open at once in this process.
    #[arg(
        long,
        env = "STENOGRAPH_REALTIME_MAX_SESSIONS_PER_TENANT",
        default_value_t = 8,
        global = true
    )]
    pub realtime_max_sessions_per_tenant: usize,
    /// A realtime session with no client message for this long is closed.
    #[arg(
        long,
        env = "STENOGRAPH_REALTIME_IDLE_SECONDS",
        default_value_t = 60.0,
        global = true
    )]
    pub realtime_idle_seconds: f64,
    /// Longest realtime session; its last turn is finished and it is closed.
    #[arg(
        long,
        env = "STENOGRAPH_REALTIME_MAX_SESSION_SECONDS",
        default_value_t = 3600.0,
        global = true
    )]
    pub realtime_max_session_seconds: f64,
    /// Largest realtime client message, in KiB (larger ones get an `error` event).
    #[arg(
        long,
        env = "STENOGRAPH_REALTIME_MAX_MESSAGE_KB",
        default_value_t = 1024,
        global = true
    )]
    pub realtime_max_message_kb: usize,
    /// Log as JSON lines (default: human-readable).
    #[arg(long, env = "STENOGRAPH_LOG_JSON", action = ArgAction::Set,
          value_parser = BoolishValueParser::new(), num_args = 0..=1, default_value = "false",
          default_missing_value = "true", global = true)]
    pub log_json: bool,
}

/// `30d`, `12h`, `90s`, `1h 30m`: a positive duration.
fn parse_retention(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration such as 30d, 12h or 90s ({e})"))?;
    if d.is_zero() {
        return Err("a retention of zero would delete jobs as they finish".into());
    }
    Ok(d)
}

impl Config {
    /// The database URL, defaulting to `sqlite://DATA_DIR/stenograph.db`.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("stenograph.db").display()
            )
        })
    }

    /// The storage URL, defaulting to `file:///DATA_DIR/audio`.
    pub fn storage_url(&self) -> String {
        self.storage_url.clone().unwrap_or_else(|| {
            let dir = std::path::absolute(self.data_dir.join("audio"))
                .unwrap_or_else(|_| self.data_dir.join("audio"));
            format!("file://{}", dir.display())
        })
    }

    /// The lease length.
    pub fn lease(&self) -> Duration {
        Duration::from_secs_f64(self.lease_seconds.max(1.0))
    }

    /// Jobs run at once by one worker.
    pub fn worker_concurrency(&self) -> usize {
        self.concurrency.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            (cores / self.threads_per_job.max(1)).max(1)
        })
    }

    /// The time limit for headers and JSON bodies.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.request_timeout_seconds.clamp(0.1, 3600.0))
    }

    /// How long the synchronous endpoint may hold a job before the job is abandoned.
    pub fn sync_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.sync_timeout_seconds.clamp(1.0, 86_400.0))
    }

    /// Whether the model only knows English (names and files ending in `.en`).
    pub fn english_only(&self) -> bool {
        let m = self.model.trim_end_matches(".bin");
        m.ends_with(".en") || m.contains(".en-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("stenograph-server").chain(args.iter().copied()))
    }

    #[test]
    fn booleans_take_the_words_operators_write() {
        for (word, value) in [
            ("1", true),
            ("true", true),
            ("yes", true),
            ("on", true),
            ("0", false),
            ("false", false),
            ("no", false),
            ("off", false),
        ] {
            let cli = parse(&[&format!("--keep-audio={word}")]).unwrap();
            assert_eq!(cli.config.keep_audio, value, "{word}");
        }
        assert!(parse(&["--keep-audio"]).unwrap().config.keep_audio);
        assert!(!parse(&[]).unwrap().config.keep_audio);
        assert!(parse(&["--keep-audio=maybe"]).is_err());
    }

    #[test]
    fn retention_is_a_positive_human_duration() {
        let cli = parse(&["--retention", "30d"]).unwrap();
        assert_eq!(cli.config.retention, Some(Duration::from_secs(30 * 86_400)));
        let cli = parse(&["--retention", "90s"]).unwrap();
        assert_eq!(cli.config.retention, Some(Duration::from_secs(90)));
        assert_eq!(parse(&[]).unwrap().config.retention, None);
        for bad in ["0s", "soon", "-5m", ""] {
            assert!(parse(&["--retention", bad]).is_err(), "{bad}");
        }
    }
}
