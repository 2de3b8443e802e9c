-- Jobs and webhook deliveries. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    source_url TEXT NOT NULL,
    source_owned BIGINT NOT NULL,
    source_name TEXT,
    source_bytes BIGINT,
    options TEXT NOT NULL,
    webhook_url TEXT,
    error_code TEXT,
    error_message TEXT,
    result TEXT,
    audio_seconds DOUBLE PRECISION,
    processing_seconds DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, priority, created_at);
CREATE INDEX IF NOT EXISTS jobs_tenant ON jobs (tenant, id);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_expires_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_job ON webhook_deliveries (job_id);
