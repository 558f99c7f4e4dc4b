//! The stored side of API keys (API.md §5.3), on PostgreSQL and SQLite: one row per key, with
//! the clear columns the lists and the per-user cap read, the SHA-256 of the secret (never
//! the secret), and the key's sealed state as its actor persists it (compare-and-set on
//! `version`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sql::{PostgresStore, SqliteStore};
use super::sql_error::db_error;
use super::StoreResult;

/// An API key as persisted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// `tsk_<id in 32 hex digits>`: what the key starts with, shown in lists.
    pub prefix: String,
    /// Hex SHA-256 of the secret part of the key.
    pub secret_hash: String,
    /// Space-separated scopes the key was granted.
    pub scopes: String,
    /// Comma-separated CIDRs; empty: any address.
    pub allowed_ips: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Fernet token of the serialised `ApiKeyState`.
    pub state: String,
    pub version: i64,
}

/// The API-key part of the [`Database`](super::Database).
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>>;
    /// Only the stored version: what an activation checks a cached copy against.
    async fn api_key_version(&self, id: Uuid) -> StoreResult<Option<i64>>;
    /// Inserts (expected version 0; false when the id or prefix exists) or updates the
    /// changing columns (revocation, last use, state) where the stored version is `expected`.
    async fn save_api_key(&self, row: &ApiKeyRow, expected: i64) -> StoreResult<bool>;
    /// The keys of a user that are not revoked, newest first.
    async fn api_keys_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Vec<ApiKeyRow>>;
    /// The keys of a user neither revoked nor expired at `now` (the cap of 20).
    async fn count_active_api_keys(&self, tenant_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<i64>;
}

macro_rules! sql_api_key_store {
    ($store:ty) => {
        #[async_trait]
        impl ApiKeyStore for $store {
            async fn api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>> {
                sqlx::query_as::<_, ApiKeyRow>("SELECT * FROM api_keys WHERE id = $1")
                    .bind(id).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn api_key_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
                sqlx::query_scalar::<_, i64>("SELECT version FROM api_keys WHERE id = $1")
                    .bind(id).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn save_api_key(&self, k: &ApiKeyRow, expected: i64) -> StoreResult<bool> {
                let result = if expected == 0 {
                    sqlx::query("INSERT INTO api_keys (id, tenant_id, user_id, name, prefix, secret_hash, scopes, allowed_ips, created_at, expires_at, revoked_at, last_used_at, state, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING")
                        .bind(k.id).bind(k.tenant_id).bind(k.user_id).bind(&k.name).bind(&k.prefix).bind(&k.secret_hash)
                        .bind(&k.scopes).bind(&k.allowed_ips).bind(k.created_at).bind(k.expires_at).bind(k.revoked_at)
                        .bind(k.last_used_at).bind(&k.state).bind(k.version)
                        .execute(&self.pool).await
                } else {
                    sqlx::query("UPDATE api_keys SET revoked_at = $1, last_used_at = $2, state = $3, version = $4 WHERE id = $5 AND version = $6")
                        .bind(k.revoked_at).bind(k.last_used_at).bind(&k.state).bind(k.version).bind(k.id).bind(expected)
                        .execute(&self.pool).await
                };
                result.map(|r| r.rows_affected() == 1).map_err(db_error)
            }

            async fn api_keys_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Vec<ApiKeyRow>> {
                sqlx::query_as::<_, ApiKeyRow>("SELECT * FROM api_keys WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL ORDER BY id DESC")
                    .bind(tenant_id).bind(user_id).fetch_all(&self.pool).await.map_err(db_error)
            }

            async fn count_active_api_keys(&self, tenant_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<i64> {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)")
                    .bind(tenant_id).bind(user_id).bind(now).fetch_one(&self.pool).await.map_err(db_error)
            }
        }
    };
}

sql_api_key_store!(PostgresStore);
sql_api_key_store!(SqliteStore);
