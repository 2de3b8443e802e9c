//! Per-tenant settings: the default hotwords added to every transcription a tenant asks for.

use sqlx::Row;

use super::{now_ms, Db};

impl Db {
    /// The tenant's default hotwords (none when it has not set any).
    pub async fn tenant_hotwords(&self, tenant: &str) -> Result<Vec<String>, sqlx::Error> {
        let row = sqlx::query("SELECT hotwords FROM tenant_hotwords WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(Vec::new());
        };
        let stored: String = row.try_get("hotwords")?;
        serde_json::from_str(&stored).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    /// Replaces the tenant's default hotwords (an empty list removes them).
    pub async fn set_tenant_hotwords(
        &self,
        tenant: &str,
        hotwords: &[String],
    ) -> Result<(), sqlx::Error> {
        if hotwords.is_empty() {
            sqlx::query("DELETE FROM tenant_hotwords WHERE tenant = $1")
                .bind(tenant)
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        let stored =
            serde_json::to_string(hotwords).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO tenant_hotwords (tenant, hotwords, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant) DO UPDATE SET hotwords = excluded.hotwords, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(stored)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
