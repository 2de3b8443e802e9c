-- Each tenant's default hotwords, added to every transcription it asks for.
CREATE TABLE IF NOT EXISTS tenant_hotwords (
    tenant TEXT PRIMARY KEY,
    hotwords TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
