-- The data lifecycle: uploaded objects waiting to be deleted (a row's transaction queues its
-- audio here; the janitor deletes it, retrying while storage is down) and tenant erasures.
CREATE TABLE IF NOT EXISTS audio_deletes (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    erasure_id TEXT,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_expires_at BIGINT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS audio_deletes_due ON audio_deletes (next_attempt_at);
CREATE INDEX IF NOT EXISTS audio_deletes_erasure ON audio_deletes (erasure_id);

CREATE TABLE IF NOT EXISTS erasures (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    lease_expires_at BIGINT,
    jobs_deleted BIGINT NOT NULL DEFAULT 0,
    audio_deleted BIGINT NOT NULL DEFAULT 0,
    swept BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS erasures_open ON erasures (status, created_at);

-- Retention, synchronous-row sweeps, tenant erasure and per-tenant webhook caps.
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
CREATE INDEX IF NOT EXISTS jobs_kind_created ON jobs (kind, created_at);
CREATE INDEX IF NOT EXISTS jobs_tenant_created ON jobs (tenant, created_at);
CREATE INDEX IF NOT EXISTS webhook_tenant ON webhook_deliveries (tenant, state);

-- When each tenant last had a job claimed: claims go to the tenant served least recently.
CREATE TABLE IF NOT EXISTS tenant_claims (
    tenant TEXT PRIMARY KEY,
    last_claim_at BIGINT NOT NULL
);
