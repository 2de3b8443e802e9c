//! `stenograph-server`: the reference transcription service. See the README beside this
//! crate for the API, the deployment and capacity planning.

mod api;
mod config;
mod db;
mod http;
mod janitor;
mod metrics;
mod realtime;
mod storage;
mod tenants;
mod view;
mod webhook;
mod worker;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use stenograph::transcribe::Transcriber;
use tokio::sync::{watch, Notify};

use config::{Cli, Config, Role};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.config.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.role, cli.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("stenograph-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("STENOGRAPH_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,sqlx=warn,whisper_rs=warn,symphonia_core=off,symphonia=off",
            )
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Shared parts every role needs.
struct Parts {
    db: db::Db,
    storage: Arc<storage::Storage>,
    metrics: metrics::Metrics,
    /// Wakes workers when the API in this process queues a job.
    wake: Arc<Notify>,
    /// Wakes the janitor when something is to be deleted.
    lifecycle: Arc<Notify>,
}

async fn run(role: Option<Role>, config: Config) -> Result<(), String> {
    if std::env::var_os("STENOGRAPH_INPUT_URL_PREFIXES").is_some() {
        return Err(
            "STENOGRAPH_INPUT_URL_PREFIXES is replaced by STENOGRAPH_URL_PREFIXES, \
             which gives each tenant its own prefixes (TENANT=URL,…)"
                .into(),
        );
    }
    let keys = api::Keys::parse(config.api_keys.as_deref())
        .map_err(|e| format!("STENOGRAPH_API_KEYS: {e}"))?;
    let database_url = config.database_url();
    let db = db::Db::connect(
        &database_url,
        config.database_connections,
        config.keep_audio,
    )
    .await
    .map_err(|e| format!("database {}: {e}", redact(&database_url)))?;
    let storage = Arc::new(
        storage::Storage::open(&config.storage_url(), &config.url_prefixes)
            .map_err(|e| e.to_string())?,
    );
    let serves_api = role != Some(Role::Worker);
    if serves_api {
        let tenants = keys.tenants();
        if let Some(t) = storage.inputs().tenants().find(|t| !tenants.contains(t)) {
            return Err(format!(
                "STENOGRAPH_URL_PREFIXES names tenant '{t}', which has no API key"
            ));
        }
    }
    let parts = Parts {
        db,
        storage,
        metrics: metrics::Metrics::new(),
        wake: Arc::new(Notify::new()),
        lifecycle: Arc::new(Notify::new()),
    };
    tracing::info!(role = ?role, database = ?parts.db.backend(), model = %config.model, "starting");
    if keys.is_open() && serves_api {
        tracing::warn!(
            "no STENOGRAPH_API_KEYS: the API is open and every job belongs to tenant 'default'"
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested");
        let _ = stop_tx.send(true);
    });

    let ready = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    let janitor = janitor::Janitor {
        db: parts.db.clone(),
        storage: parts.storage.clone(),
        metrics: parts.metrics.clone(),
        retention: config.retention,
        // The API gives up on a synchronous job after its timeout and removes it; one still
        // there 15 s later (room for clocks that disagree) lost its API process.
        sync_ttl: config.sync_timeout() + Duration::from_secs(15),
        wake: parts.lifecycle.clone(),
    };
    tasks.spawn(janitor.run(stop_rx.clone()));

    let limits = http::Limits {
        header_timeout: config.request_timeout(),
        max_connections: config.max_connections,
        grace: Duration::from_secs_f64(config.shutdown_grace_seconds.max(0.0) + 5.0),
    };
    let ops = api::Ops {
        db: parts.db.clone(),
        storage: parts.storage.clone(),
        metrics: parts.metrics.clone(),
        ready: ready.clone(),
        token: config.metrics_token.as_deref().map(Arc::from),
    };
    let ops_host = config
        .metrics_host
        .clone()
        .unwrap_or_else(|| config.host.clone());
    let ops_listener = listen(&ops_host, config.metrics_port).await?;
    tasks.spawn(http::serve(
        ops_listener,
        api::ops_router(ops),
        limits,
        stop_rx.clone(),
    ));

    let hub = Arc::new(realtime::Hub::new(
        realtime::Limits {
            max_sessions: config.realtime_max_sessions.max(1),
            per_tenant: config.realtime_max_sessions_per_tenant.max(1),
            idle: Duration::from_secs_f64(config.realtime_idle_seconds.clamp(1.0, 86_400.0)),
            max_session: Duration::from_secs_f64(
                config
                    .realtime_max_session_seconds
                    .clamp(1.0, 7.0 * 86_400.0),
            ),
            max_message: config.realtime_max_message_kb.clamp(1, 64 * 1024) * 1024,
        },
        parts.metrics.clone(),
        stop_rx.clone(),
    ));
    if serves_api {
        let state = api::AppState {
            db: parts.db.clone(),
            storage: parts.storage.clone(),
            metrics: parts.metrics.clone(),
            keys: Arc::new(keys),
            config: Arc::new(config.clone()),
            wake: parts.wake.clone(),
            lifecycle: parts.lifecycle.clone(),
            ready: ready.clone(),
            realtime: hub.clone(),
        };
        let listener = listen(&config.host, config.port).await?;
        tasks.spawn(http::serve(
            listener,
            api::router(state),
            limits,
            stop_rx.clone(),
        ));
    }
    if role != Some(Role::Api) {
        let transcriber = load_model(&config).await?;
        if serves_api {
            hub.set_model(transcriber.clone());
        }
        if role != Some(Role::Realtime) {
            spawn_worker(&mut tasks, &parts, &config, transcriber, stop_rx.clone());
        }
    }
    ready.store(true, Ordering::SeqCst);
    while tasks.join_next().await.is_some() {}
    // Realtime sessions finish their last turn and close on the stop signal.
    hub.drained(limits.grace).await;
    tracing::info!("stopped");
    Ok(())
}

async fn listen(host: &str, port: u16) -> Result<tokio::net::TcpListener, String> {
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    tracing::info!(address = %listener.local_addr().map_err(|e| e.to_string())?, "listening");
    Ok(listener)
}

async fn load_model(config: &Config) -> Result<Transcriber, String> {
    let device: stenograph::Device = config
        .device
        .parse()
        .map_err(|e: stenograph::Error| e.to_string())?;
    let (model, threads, concurrency, partial) = (
        config.model.clone(),
        config.threads_per_job,
        config.worker_concurrency(),
        config.partial_weights,
    );
    tokio::task::spawn_blocking(move || {
        Transcriber::builder()
            .model(model.as_str())
            .device(device)
            .max_concurrent(concurrency)
            .threads_per_call(threads)
            .partial_weights(partial)
            .build()
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("model {}: {e}", config.model))
}

fn spawn_worker(
    tasks: &mut tokio::task::JoinSet<()>,
    parts: &Parts,
    config: &Config,
    transcriber: Transcriber,
    stop: watch::Receiver<bool>,
) {
    let id = format!(
        "{}-{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into()),
        std::process::id(),
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    );
    let worker = worker::Worker {
        db: parts.db.clone(),
        storage: parts.storage.clone(),
        transcriber,
        metrics: parts.metrics.clone(),
        settings: worker::WorkerSettings {
            concurrency: config.worker_concurrency(),
            lease: config.lease(),
            poll: Duration::from_millis(config.poll_ms.max(10)),
            max_audio: Duration::from_secs_f64(config.max_audio_seconds.max(1.0)),
            grace: Duration::from_secs_f64(config.shutdown_grace_seconds.max(0.0)),
            storage_patience: Duration::from_secs_f64(config.storage_patience_seconds.max(0.0)),
        },
        wake: parts.wake.clone(),
        lifecycle: parts.lifecycle.clone(),
        id,
    };
    tasks.spawn(worker.run(stop.clone()));
    match &config.webhook_secret {
        Some(secret) => {
            let dispatcher = webhook::Dispatcher {
                db: parts.db.clone(),
                client: webhook::client(config.webhook_allow_private),
                secret: secret.clone(),
                max_attempts: config.webhook_max_attempts.max(1),
                backoff: Duration::from_millis(config.webhook_backoff_ms.max(1)),
                metrics: parts.metrics.clone(),
                allow_private: config.webhook_allow_private,
            };
            tasks.spawn(dispatcher.run(Duration::from_millis(config.poll_ms.max(10)), stop));
        }
        None => tracing::info!("no STENOGRAPH_WEBHOOK_SECRET: webhooks are off"),
    }
}

/// SIGTERM (Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
