//! The stored side of two-factor sign-in, on PostgreSQL and SQLite: a user's sealed
//! two-factor state (in the user's row, written by compare-and-set on its own version) and
//! pending two-factor sign-ins (sealed, keyed by the hash of their token). Nothing here is in
//! clear but the `mfa_enabled` flag, the versions and the expiry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sql::{PostgresStore, SqliteStore};
use super::sql_error::db_error;
use super::StoreResult;

/// A pending two-factor sign-in as persisted.
#[derive(Debug, Clone)]
pub struct MfaChallengeRow {
    /// Hex SHA-256 of the `mfa_token`.
    pub key: String,
    /// Fernet token of the serialised `MfaChallenge`.
    pub state: String,
    pub version: i64,
    pub expires_at: DateTime<Utc>,
}

/// The two-factor part of the [`Database`](super::Database).
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// The version and sealed two-factor state of a user; `None` when it never had one.
    async fn user_mfa(&self, user_id: Uuid) -> StoreResult<Option<(i64, String)>>;
    async fn user_mfa_version(&self, user_id: Uuid) -> StoreResult<Option<i64>>;
    /// Writes the sealed state (and the clear `mfa_enabled` flag with it) where the stored
    /// version is `expected`; false when another writer won.
    async fn save_user_mfa(&self, write: &MfaWrite<'_>, expected: i64) -> StoreResult<bool>;

    async fn mfa_challenge(&self, key: &str) -> StoreResult<Option<(i64, String)>>;
    async fn mfa_challenge_version(&self, key: &str) -> StoreResult<Option<i64>>;
    /// Inserts (expected version 0) or updates where the version matches.
    async fn save_mfa_challenge(&self, row: &MfaChallengeRow, expected: i64) -> StoreResult<bool>;
    /// Deletes up to `batch` pending sign-ins that expired before `before`.
    async fn delete_expired_mfa_challenges(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64>;
}

/// One write of a user's two-factor state.
pub struct MfaWrite<'a> {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub sealed: &'a str,
    pub version: i64,
    pub enabled: bool,
}

macro_rules! sql_mfa_store {
    ($store:ty) => {
        #[async_trait]
        impl MfaStore for $store {
            async fn user_mfa(&self, user_id: Uuid) -> StoreResult<Option<(i64, String)>> {
                sqlx::query_as::<_, (i64, String)>("SELECT mfa_version, mfa_state FROM users WHERE id = $1 AND mfa_state IS NOT NULL")
                    .bind(user_id).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn user_mfa_version(&self, user_id: Uuid) -> StoreResult<Option<i64>> {
                sqlx::query_scalar::<_, i64>("SELECT mfa_version FROM users WHERE id = $1 AND mfa_state IS NOT NULL")
                    .bind(user_id).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn save_user_mfa(&self, w: &MfaWrite<'_>, expected: i64) -> StoreResult<bool> {
                sqlx::query("UPDATE users SET mfa_state = $1, mfa_version = $2, mfa_enabled = $3 WHERE tenant_id = $4 AND id = $5 AND mfa_version = $6")
                    .bind(w.sealed).bind(w.version).bind(w.enabled).bind(w.tenant_id).bind(w.user_id).bind(expected)
                    .execute(&self.pool).await.map(|r| r.rows_affected() == 1).map_err(db_error)
            }

            async fn mfa_challenge(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
                sqlx::query_as::<_, (i64, String)>("SELECT version, state FROM mfa_challenges WHERE key = $1")
                    .bind(key).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn mfa_challenge_version(&self, key: &str) -> StoreResult<Option<i64>> {
                sqlx::query_scalar::<_, i64>("SELECT version FROM mfa_challenges WHERE key = $1")
                    .bind(key).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn save_mfa_challenge(&self, c: &MfaChallengeRow, expected: i64) -> StoreResult<bool> {
                let result = if expected == 0 {
                    sqlx::query("INSERT INTO mfa_challenges (key, state, version, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING")
                        .bind(&c.key).bind(&c.state).bind(c.version).bind(c.expires_at)
                        .execute(&self.pool).await
                } else {
                    sqlx::query("UPDATE mfa_challenges SET state = $1, version = $2 WHERE key = $3 AND version = $4")
                        .bind(&c.state).bind(c.version).bind(&c.key).bind(expected)
                        .execute(&self.pool).await
                };
                result.map(|r| r.rows_affected() == 1).map_err(db_error)
            }

            async fn delete_expired_mfa_challenges(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
                sqlx::query("DELETE FROM mfa_challenges WHERE key IN (SELECT key FROM mfa_challenges WHERE expires_at < $1 LIMIT $2)")
                    .bind(before).bind(batch)
                    .execute(&self.pool).await.map(|r| r.rows_affected()).map_err(db_error)
            }
        }
    };
}

sql_mfa_store!(PostgresStore);
sql_mfa_store!(SqliteStore);
