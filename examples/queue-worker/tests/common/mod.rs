//! Test harness: server processes, PostgreSQL and S3 from `scripts/services.sh`, speech made
//! with espeak-ng, and a small HTTP client.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Sentences spoken by the test clips.
pub const PHRASES: [&str; 5] = [
    "Please call the customer back before noon tomorrow.",
    "Our quarterly sales grew much faster this year.",
    "Turn left at the second light and park behind the bank.",
    "The meeting has been moved to Thursday afternoon.",
    "Thank you for calling, how can I help you today?",
];

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Speaks `text` into `dir/name.wav` with espeak-ng.
pub fn speak(dir: &Path, name: &str, text: &str) -> PathBuf {
    speak_as(dir, name, text, "en-us")
}

/// `text` spoken by espeak-ng's `voice` into `dir/name.wav`.
pub fn speak_as(dir: &Path, name: &str, text: &str, voice: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "140", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/setup.sh)");
    assert!(status.success());
    path
}

/// Each of [`PHRASES`] spoken into `dir`, in order.
pub fn phrase_clips(dir: &Path) -> Vec<PathBuf> {
    PHRASES
        .iter()
        .enumerate()
        .map(|(i, p)| speak(dir, &format!("p{i}"), p))
        .collect()
}

/// All of [`PHRASES`] spoken `times` times over in one clip, and its text.
pub fn long_clip(dir: &Path, times: usize) -> (PathBuf, String) {
    let text = vec![PHRASES.join(" "); times].join(" ");
    (speak(dir, "long", &text), text)
}

/// Lower-case words without punctuation.
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Share of `expected`'s words found in `got`.
pub fn overlap(got: &str, expected: &str) -> f64 {
    let got = words(got);
    let want = words(expected);
    want.iter().filter(|w| got.contains(w)).count() as f64 / want.len().max(1) as f64
}

/// Whether `got` is a transcript of `expected`: at least half of its words, and closer to it
/// than to any other test phrase (so no job received another job's text).
pub fn matches(got: &str, expected: &str) -> bool {
    let own = overlap(got, expected);
    own >= 0.5
        && PHRASES
            .iter()
            .filter(|p| **p != expected)
            .all(|p| overlap(got, p) < own)
}

/// Server settings the tests set themselves; inherited values are removed.
const SETTINGS: [&str; 13] = [
    "STENOGRAPH_API_KEYS",
    "STENOGRAPH_DATABASE_URL",
    "STENOGRAPH_STORAGE_URL",
    "STENOGRAPH_URL_PREFIXES",
    "STENOGRAPH_WEBHOOK_SECRET",
    "STENOGRAPH_WEBHOOK_ALLOW_PRIVATE",
    "STENOGRAPH_KEEP_AUDIO",
    "STENOGRAPH_RETENTION",
    "STENOGRAPH_METRICS_TOKEN",
    "STENOGRAPH_METRICS_HOST",
    "STENOGRAPH_METRICS_PORT",
    "STENOGRAPH_PORT",
    "STENOGRAPH_INPUT_URL_PREFIXES",
];

/// A running `stenograph-server` process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub log: PathBuf,
    /// The API port (a lone worker's operations port).
    pub port: u16,
    /// The operations port: /metrics, /healthz, /readyz.
    pub ops_port: u16,
}

impl Server {
    /// The binary with `args` and `env` (and its operations listener on `ops_port`), logging
    /// to `log`, not yet started.
    pub fn command(args: &[&str], env: &[(&str, String)], ops_port: u16, log: &Path) -> Command {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stenograph-server"));
        cmd.args(args)
            .args(["--metrics-port", &ops_port.to_string()])
            .env("STENOGRAPH_HOST", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        for k in SETTINGS {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts the binary with `args` and `env`, logging to `log`; waits for `/healthz` on
    /// `port` (the API's, or for a lone worker its operations port).
    pub fn start(
        args: &[&str],
        env: &[(&str, String)],
        port: u16,
        ops_port: u16,
        log: PathBuf,
    ) -> Server {
        let child = Server::command(args, env, ops_port, &log).spawn().unwrap();
        let mut server = Server {
            child,
            log,
            port,
            ops_port,
        };
        server.wait_healthy();
        server
    }

    /// The API alone on `port` (fixed, so that a restart keeps the address).
    pub fn api(env: &[(&str, String)], port: u16, log: PathBuf) -> Server {
        Server::start(
            &["api", "--port", &port.to_string()],
            env,
            port,
            free_port(),
            log,
        )
    }

    /// A worker, its operations listener on a free port.
    pub fn worker(env: &[(&str, String)], log: PathBuf) -> Server {
        let ops = free_port();
        Server::start(&["worker"], env, ops, ops, log)
    }

    /// The API and workers in one process, on `port`.
    pub fn all(env: &[(&str, String)], port: u16, log: PathBuf) -> Server {
        Server::start(&["--port", &port.to_string()], env, port, free_port(), log)
    }

    /// The API and workers in one process on a free port, with SQLite and files under `dir`
    /// and a 100 ms queue poll.
    pub fn local(dir: &Path) -> Server {
        let env = [
            (
                "STENOGRAPH_DATA_DIR",
                dir.join("data").display().to_string(),
            ),
            ("STENOGRAPH_POLL_MS", "100".to_string()),
        ];
        Server::all(&env, free_port(), dir.join("server.log"))
    }

    /// The process's metrics page, from its operations port.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://127.0.0.1:{}/metrics", self.ops_port))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the process, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited with {status}:\n{}", self.log_text());
            }
            let ok = std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && answers(&format!("http://127.0.0.1:{}/healthz", self.port));
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server not healthy:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit (at most `timeout`).
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server ignored SIGTERM:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `url` answers 2xx (a synchronous check used while waiting for start-up).
fn answers(url: &str) -> bool {
    {
        std::process::Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "--max-time", "2", url])
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// An API client bound to one key.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub key: Option<String>,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str, key: Option<&str>) -> Client {
        Client {
            base: base.to_string(),
            key: key.map(str::to_string),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(k) => r.bearer_auth(k),
            None => r,
        }
    }

    /// `POST /v1/jobs` with `file` and extra fields; returns status and body.
    pub async fn submit(
        &self,
        bytes: Vec<u8>,
        name: &str,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let r = self
            .auth(
                self.http
                    .post(format!("{}/v1/jobs", self.base))
                    .multipart(form),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /v1/jobs` with `file`, expecting 202; returns the id.
    pub async fn submit_ok(&self, path: &Path, fields: &[(&str, &str)]) -> String {
        let (status, body) = self
            .submit(std::fs::read(path).unwrap(), "clip.wav", fields)
            .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], "queued");
        body["id"].as_str().unwrap().to_string()
    }

    /// `POST /v1/jobs` with `bytes` under a client-chosen file name, expecting 202.
    pub async fn submit_ok_named(&self, bytes: &[u8], name: &str) -> String {
        let (status, body) = self.submit(bytes.to_vec(), name, &[]).await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// GET with the key; returns status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .auth(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// GET returning JSON.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let (s, t) = self.get(path).await;
        (s, serde_json::from_str(&t).unwrap_or(Value::Null))
    }

    /// POST of a JSON body; returns status and body.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .auth(self.http.post(format!("{}{path}", self.base)).json(body))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// DELETE returning JSON.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self
            .auth(self.http.delete(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Polls a job until it ends; panics after `timeout`.
    pub async fn wait(&self, id: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            // The API may be restarting: connection errors are retried.
            let r = self
                .auth(self.http.get(format!("{}/v1/jobs/{id}", self.base)))
                .send()
                .await;
            if let Ok(r) = r {
                if r.status() == 200 {
                    let job: Value = r.json().await.unwrap();
                    if matches!(
                        job["status"].as_str(),
                        Some("completed" | "failed" | "canceled")
                    ) {
                        return job;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "job {id} did not finish in {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Polls `check` every 100 ms until it holds; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} (after {timeout:?})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every file below `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The keys in an S3 test bucket, through the S3 API.
pub async fn bucket_keys(endpoint: &str, bucket: &str) -> Vec<String> {
    let listing = reqwest::get(format!(
        "{endpoint}/{}?list-type=2",
        bucket.trim_start_matches("s3://")
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

/// Where a test service keeps its data: SQLite and a local directory, or PostgreSQL and S3
/// (the test servers); checks look into the database and the storage themselves.
pub struct Stores {
    /// Settings that point the service at them, its data directory included.
    pub env: Vec<(&'static str, String)>,
    /// The database URL.
    pub database: String,
    /// The S3 endpoint and bucket, when on S3.
    pub s3: Option<(String, String)>,
    audio: PathBuf,
}

impl Stores {
    /// SQLite and files under `dir/data`.
    pub fn sqlite(dir: &Path) -> Stores {
        let data = dir.join("data");
        Stores {
            env: vec![("STENOGRAPH_DATA_DIR", data.display().to_string())],
            database: format!("sqlite://{}", data.join("stenograph.db").display()),
            s3: None,
            audio: data.join("audio"),
        }
    }

    /// A fresh PostgreSQL database and S3 bucket; audio under `BUCKET/audio`.
    pub async fn postgres_s3(dir: &Path) -> Stores {
        let database = postgres_database().await;
        let (endpoint, bucket) = s3_bucket().await;
        let mut env = s3_env(&endpoint);
        env.extend([
            ("STENOGRAPH_DATABASE_URL", database.clone()),
            ("STENOGRAPH_STORAGE_URL", format!("{bucket}/audio")),
            (
                "STENOGRAPH_DATA_DIR",
                dir.join("data").display().to_string(),
            ),
        ]);
        Stores {
            env,
            database,
            s3: Some((endpoint, bucket)),
            audio: dir.join("data/audio"),
        }
    }

    /// How many objects the service stores under `prefix` (e.g. `uploads/a/`).
    pub async fn objects(&self, prefix: &str) -> usize {
        match &self.s3 {
            Some((endpoint, bucket)) => bucket_keys(endpoint, bucket)
                .await
                .iter()
                .filter(|k| k.starts_with(&format!("audio/{prefix}")))
                .count(),
            None => files_under(&self.audio.join(prefix)).len(),
        }
    }

    /// Writes an object the service did not (e.g. a stray upload).
    pub async fn put(&self, key: &str, body: Vec<u8>) {
        match &self.s3 {
            Some((endpoint, bucket)) => {
                put_object(endpoint, bucket, &format!("audio/{key}"), body).await
            }
            None => {
                let path = self.audio.join(key);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, body).unwrap();
            }
        }
    }

    /// A count from the service's database.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.database).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// Puts an object into an S3 test bucket.
pub async fn put_object(endpoint: &str, bucket: &str, key: &str, body: Vec<u8>) {
    let r = reqwest::Client::new()
        .put(format!(
            "{endpoint}/{}/{key}",
            bucket.trim_start_matches("s3://")
        ))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "put {key}: {}", r.status());
}

/// A raw HTTP/1.1 exchange on a new connection: writes `head`, then each of `trickle` with
/// `gap` between them, and returns what the server answered (empty when it closed the
/// connection without an answer) and when the connection ended.
pub fn raw_exchange(port: u16, head: &str, trickle: &[&[u8]], gap: Duration) -> (String, Duration) {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let _ = s.write_all(head.as_bytes());
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let mut pending = trickle.iter();
    let mut next_write = Instant::now() + gap;
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(_) => {}
        }
        if Instant::now() >= next_write {
            if let Some(chunk) = pending.next() {
                if s.write_all(chunk).is_err() {
                    // The server closed its side; read what it answered.
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        answer.extend_from_slice(&buf[..n]);
                    }
                    break;
                }
            }
            next_write = Instant::now() + gap;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the connection stayed open for a minute"
        );
    }
    (
        String::from_utf8_lossy(&answer).to_string(),
        started.elapsed(),
    )
}

/// The error code of an OpenAI-shaped error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A setting of the test servers: from the environment (`eval "$(scripts/services.sh start)"`,
/// as `scripts/test.sh` does), else from `scripts/services.sh ensure`, run once per test
/// binary, which starts them when they are not running.
fn service(var: &str) -> String {
    static STARTED: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    if let Ok(v) = std::env::var(var) {
        return v;
    }
    let exports = STARTED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/services.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("ensure")
            .stdin(Stdio::null())
            .output()
            .expect("bash runs scripts/services.sh");
        assert!(
            out.status.success(),
            "scripts/services.sh ensure failed (PostgreSQL and Python's venv come from \
             scripts/setup.sh):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    exports
        .iter()
        .find(|(k, _)| k == var)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("scripts/services.sh ensure printed no {var}"))
}

/// A Python with the official `openai` SDK and `websockets`, for the example clients.
pub fn python_client() -> String {
    service("STENOGRAPH_TEST_CLIENT_PYTHON")
}

/// Runs [`python_client`] with `args` off the async runtime; its standard output, after
/// checking that it succeeded.
pub async fn run_python(args: Vec<std::ffi::OsString>) -> String {
    let python = python_client();
    let out = tokio::task::spawn_blocking(move || Command::new(&python).args(&args).output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A fresh PostgreSQL database on the test server.
pub async fn postgres_database() -> String {
    let admin = service("STENOGRAPH_TEST_POSTGRES_URL");
    let name = format!("t{}", uuid::Uuid::now_v7().simple());
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A fresh bucket on the S3 test server; returns the endpoint and `s3://BUCKET`.
pub async fn s3_bucket() -> (String, String) {
    let endpoint = service("STENOGRAPH_TEST_S3_ENDPOINT");
    let bucket = format!("b{}", &uuid::Uuid::now_v7().simple().to_string()[16..]);
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "creating bucket: {}", r.status());
    (endpoint, format!("s3://{bucket}"))
}

/// Environment for the S3 test server.
pub fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

/// Reads a metric's value from a Prometheus text page.
pub fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find(|l| {
            l.starts_with(name) && l[name.len()..].starts_with([' ', '{']) && !l.starts_with('#')
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A PostgreSQL server of the test's own, which the test may stop and start.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl Postgres {
    /// `initdb` and start a cluster in a temporary directory (as the `postgres` user when
    /// running as root, since PostgreSQL refuses to run as root).
    pub fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (scripts/setup.sh)")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("a PostgreSQL version with initdb");
        let dir = tempfile::tempdir().unwrap();
        let pg = Postgres {
            dir,
            bin,
            port: free_port(),
        };
        if is_root() {
            assert!(Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(pg.dir.path())
                .status()
                .unwrap()
                .success());
        }
        pg.run(
            "initdb",
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-D",
                &pg.data(),
            ],
        );
        pg.start_again();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server (again).
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-o", &opts, "-w", "start"],
        );
    }

    /// Stops the server, dropping every connection.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// The URL of the `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(exe)
                .args(args)
                .output()
        } else {
            Command::new(exe).args(args).output()
        };
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A TCP proxy to `target` that can be switched off: while off it drops new and open
/// connections, as an unreachable service would.
pub struct Proxy {
    pub port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    /// Switches the service on or off.
    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// A two-party call as a 16 kHz stereo WAV: `left` says its clip, then `right` says its own;
/// each party leaks into the other's channel at -26 dB.
pub fn stereo_call(dir: &Path, left: &Path, right: &Path) -> PathBuf {
    let read = |p: &Path| {
        stenograph::audio::Audio::from_path(p)
            .unwrap()
            .into_samples()
    };
    let (a, b) = (read(left), read(right));
    let gap = 8_000;
    let n = a.len() + gap + b.len() + gap;
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    l[..a.len()].copy_from_slice(&a);
    r[a.len() + gap..a.len() + gap + b.len()].copy_from_slice(&b);
    let path = dir.join("call.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..n {
        for x in [l[i] + 0.05 * r[i], r[i] + 0.05 * l[i]] {
            w.write_sample((x.clamp(-1.0, 1.0) * 32767.0) as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
    path
}
