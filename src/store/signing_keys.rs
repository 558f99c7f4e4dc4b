//! Signing keys in the database (API.md §5.4), on PostgreSQL and SQLite. Every change of the
//! key set happens under one cluster-wide lock — a PostgreSQL advisory lock, or on SQLite an
//! immediate (write-locking) transaction — around a plan that reads the keys and says what to
//! write, so two nodes starting (or rotating) at once make one key, not two.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::cached::CachedDatabase;
use super::sql::{PostgresStore, SqliteStore};
use super::sql_error::db_error;
use super::{StoreError, StoreResult};

/// The advisory-lock key of the signing-key set. Bit 62 is clear, so it never meets a user's
/// session-cap lock (which always has it set).
const KEYS_LOCK: i64 = 0x0074_736b_6579_7321;

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// SPKI PEM.
    pub public_pem: String,
    /// Fernet token of the PKCS#8 PEM private key.
    pub private_sealed: String,
    pub created_at: DateTime<Utc>,
    /// In JWKS from then.
    pub publish_at: DateTime<Utc>,
    /// Signs from then.
    pub activates_at: DateTime<Utc>,
    /// Stops signing then.
    pub retires_at: Option<DateTime<Utc>>,
    /// Leaves JWKS then: the last token it signed has expired.
    pub expires_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// What a plan decided, applied in the same transaction that read the keys.
#[derive(Debug, Default, Clone)]
pub struct KeyChanges {
    pub insert: Vec<SigningKeyRow>,
    /// New times for existing keys, each at its next version (written where the stored
    /// version is one less).
    pub update: Vec<SigningKeyRow>,
}

impl KeyChanges {
    pub fn is_empty(&self) -> bool {
        self.insert.is_empty() && self.update.is_empty()
    }
}

/// Reads the stored keys (all of them, expired ones included) and says what to change.
pub type KeyPlan<'a> = &'a (dyn Fn(&[SigningKeyRow]) -> KeyChanges + Send + Sync);

/// The signing-key part of the [`Database`](super::Database).
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every stored key, oldest activation first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>>;
    /// Runs `plan` over the stored keys under the cluster-wide key lock and writes what it
    /// returns, all in one transaction; answers what was written.
    async fn change_signing_keys(&self, plan: KeyPlan<'_>) -> StoreResult<KeyChanges>;
    /// Deletes keys that left JWKS before `before` (their private halves go with them).
    async fn delete_expired_signing_keys(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

impl PostgresStore {
    async fn begin_key_lock(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut transaction = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(KEYS_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(db_error)?;
        Ok(transaction)
    }
}

impl SqliteStore {
    /// `BEGIN IMMEDIATE` takes the write lock at once: the server and a `keys rotate` in
    /// another process serialise here instead of failing to upgrade a read lock.
    async fn begin_key_lock(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)
    }
}

macro_rules! sql_signing_key_store {
    ($store:ty) => {
        #[async_trait]
        impl SigningKeyStore for $store {
            async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
                sqlx::query_as::<_, SigningKeyRow>("SELECT * FROM signing_keys ORDER BY activates_at, kid")
                    .fetch_all(&self.pool).await.map_err(db_error)
            }

            async fn change_signing_keys(&self, plan: KeyPlan<'_>) -> StoreResult<KeyChanges> {
                let mut tx = self.begin_key_lock().await?;
                let rows = sqlx::query_as::<_, SigningKeyRow>("SELECT * FROM signing_keys ORDER BY activates_at, kid")
                    .fetch_all(&mut *tx).await.map_err(db_error)?;
                let changes = plan(&rows);
                for k in &changes.insert {
                    sqlx::query("INSERT INTO signing_keys (kid, public_pem, private_sealed, created_at, publish_at, activates_at, retires_at, expires_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .bind(&k.kid).bind(&k.public_pem).bind(&k.private_sealed).bind(k.created_at).bind(k.publish_at)
                        .bind(k.activates_at).bind(k.retires_at).bind(k.expires_at).bind(k.version)
                        .execute(&mut *tx).await.map_err(db_error)?;
                }
                for k in &changes.update {
                    let updated = sqlx::query("UPDATE signing_keys SET publish_at = $1, activates_at = $2, retires_at = $3, expires_at = $4, version = $5 WHERE kid = $6 AND version = $7")
                        .bind(k.publish_at).bind(k.activates_at).bind(k.retires_at).bind(k.expires_at).bind(k.version)
                        .bind(&k.kid).bind(k.version - 1)
                        .execute(&mut *tx).await.map_err(db_error)?;
                    if updated.rows_affected() != 1 {
                        return Err(StoreError::Conflict(format!("signing key {} changed meanwhile", k.kid)));
                    }
                }
                tx.commit().await.map_err(db_error)?;
                Ok(changes)
            }

            async fn delete_expired_signing_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                sqlx::query("DELETE FROM signing_keys WHERE expires_at < $1")
                    .bind(before)
                    .execute(&self.pool).await.map(|r| r.rows_affected()).map_err(db_error)
            }
        }
    };
}

sql_signing_key_store!(PostgresStore);
sql_signing_key_store!(SqliteStore);

#[async_trait]
impl SigningKeyStore for CachedDatabase {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.inner().signing_keys().await
    }
    async fn change_signing_keys(&self, plan: KeyPlan<'_>) -> StoreResult<KeyChanges> {
        self.inner().change_signing_keys(plan).await
    }
    async fn delete_expired_signing_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.inner().delete_expired_signing_keys(before).await
    }
}
