//! Storage behind traits: the durable [`Database`] (PostgreSQL or embedded SQLite) and the
//! [`Cache`] (Redis or in-process), chosen by `DATABASE_URL` / `REDIS_URL`.
//!
//! The store knows nothing of HTTP or actors. Every query of tenant data takes the tenant id,
//! so isolation holds by construction.

pub mod breaker;
pub mod cache;
pub mod cached;
mod group_commit;
pub mod guarded_db;
pub mod memory;
pub mod mfa;
mod pg_session_writes;
pub mod ratelimit;
pub mod redis;
pub mod redis_url;
pub mod sealed;
pub mod signing_keys;
pub mod sql;
pub mod sql_api_keys;
mod sql_error;
mod sql_records;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use cache::{Cache, Grant, RateDecision};
pub use mfa::{MfaChallengeRow, MfaStore, MfaWrite};
pub use sealed::SealedStore;
pub use signing_keys::SigningKeyStore;
pub use sql_api_keys::{ApiKeyRow, ApiKeyStore};

use crate::domain::{Order, OrderStatus, Tenant, User, UserChanges};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (an email taken, a slug in use).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value the database refused as data (a NUL in text, a number out of range, a missing
    /// required value): the request is at fault, so it is answered 422, never as an outage.
    #[error("value refused by the database: {0}")]
    Invalid(String),
    /// The backend could not be reached or failed; the request may be retried later.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// A circuit breaker (the cache's or the database's) is open: the call was not even tried.
    #[error("circuit open")]
    CircuitOpen,
    /// Stored data could not be read back (corrupt, or written by a newer version).
    #[error("corrupt stored data: {0}")]
    Corrupt(#[source] Cause),
}

/// What lies beneath a store error: the driver's own error where there is one (kept, so its
/// whole chain reaches the log), else a sentence.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a list: newest first, strictly before the `before` id (ids are UUIDv7, so
/// they sort by creation time and an item added meanwhile never shifts later pages).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub before: Option<Uuid>,
}

/// A session as persisted: encrypted state plus the few clear columns lookups need.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: Uuid,
    /// SHA-256 pseudonym of the user id, to find a user's sessions without naming the user.
    pub user_ref: String,
    /// Fernet token of the serialised `SessionState`.
    pub state: String,
    pub version: i64,
    pub expires_at: DateTime<Utc>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// A held per-user lock (see [`Database::lock_user`]); released when dropped.
pub struct UserLock {
    /// Whatever holds the lock: a node-local guard, and on PostgreSQL the transaction that
    /// holds the advisory lock (rolled back, so released, on drop).
    _held: Vec<Box<dyn std::any::Any + Send>>,
}

impl UserLock {
    pub fn new(held: Vec<Box<dyn std::any::Any + Send>>) -> Self {
        Self { _held: held }
    }
}

/// A lockout counter as persisted.
#[derive(Debug, Clone)]
pub struct LockoutRow {
    /// SHA-256 pseudonym of (tenant, email).
    pub key: String,
    pub tenant_id: Uuid,
    /// Fernet token of the serialised `LockoutState`.
    pub state: String,
    pub version: i64,
    /// When the current lock ends (far future when permanent); `None` when not locked.
    pub lock_ends_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub tenant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub event: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
}

/// Which audit events a listing returns; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event: Option<String>,
    pub user_id: Option<Uuid>,
    pub outcome: Option<OutcomeFilter>,
    /// The client address, in its canonical text (IPv4 for an IPv4-mapped address).
    pub ip: Option<String>,
    /// Events at or after this moment.
    pub since: Option<DateTime<Utc>>,
    /// Events at or before this moment.
    pub until: Option<DateTime<Utc>>,
}

/// `success`, or `failure`: every outcome that is not a success (a wrong password, a lock, a
/// session ended for reuse), so a failure filter misses no refusal of any kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeFilter {
    Success,
    Failure,
}

/// The durable store. Implemented once for PostgreSQL and SQLite in [`sql`] (the two-factor
/// part, [`MfaStore`], in [`mfa`]; signing keys, [`SigningKeyStore`], in [`signing_keys`];
/// sealed records by family, [`SealedStore`], in [`sealed`]; API keys, [`ApiKeyStore`], in
/// [`sql_api_keys`]).
#[async_trait]
pub trait Database: MfaStore + SigningKeyStore + SealedStore + ApiKeyStore + Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations; safe to run any number of times.
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;

    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>>;
    async fn tenant_by_id(&self, id: Uuid) -> StoreResult<Option<Tenant>>;
    async fn list_tenants(&self, page: Page) -> StoreResult<Vec<Tenant>>;
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()>;

    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_email(&self, tenant_id: Uuid, email: &str) -> StoreResult<Option<User>>;
    async fn user_by_id(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<User>>;
    async fn list_users(&self, tenant_id: Uuid, page: Page) -> StoreResult<Vec<User>>;
    /// Writes only the fields `changes` names (and `updated_at`); answers the user as stored
    /// after the write, `None` when there is no such user.
    async fn update_user(&self, tenant_id: Uuid, id: Uuid, changes: &UserChanges) -> StoreResult<Option<User>>;
    async fn count_active_admins(&self, tenant_id: Uuid) -> StoreResult<i64>;

    /// Serialises the logins of one user (across nodes on PostgreSQL) until the lock is
    /// dropped, so that making room under the session cap and opening the new session happen
    /// as one step.
    async fn lock_user(&self, user_id: Uuid) -> StoreResult<UserLock>;
    async fn insert_session(&self, row: &SessionRow) -> StoreResult<()>;
    /// Writes only where the stored version is `expected_version`; false when another writer
    /// won (the caller reloads and answers as the winner's state says).
    async fn update_session(&self, row: &SessionRow, expected_version: i64) -> StoreResult<bool>;
    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRow>>;
    /// Only the stored version: what an activation checks a cached copy against.
    async fn session_version(&self, id: Uuid) -> StoreResult<Option<i64>>;
    async fn active_sessions_of(&self, user_ref: &str) -> StoreResult<Vec<SessionRow>>;
    /// Sessions still active and not expired at `now`, across the cluster (the
    /// `tradesage_sessions_active_total` gauge).
    async fn count_active_sessions(&self, now: DateTime<Utc>) -> StoreResult<i64>;
    /// Deletes up to `batch` sessions that expired (or ended) before `before`.
    async fn delete_expired_sessions(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64>;

    async fn lockout(&self, key: &str) -> StoreResult<Option<LockoutRow>>;
    async fn lockout_version(&self, key: &str) -> StoreResult<Option<i64>>;
    /// Inserts (expected version 0) or updates where the version matches.
    async fn save_lockout(&self, row: &LockoutRow, expected_version: i64) -> StoreResult<bool>;
    async fn current_lockouts(&self, tenant_id: Option<Uuid>, now: DateTime<Utc>) -> StoreResult<Vec<LockoutRow>>;
    async fn delete_stale_lockouts(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64>;

    /// Stores `events` in one transaction: the audit writer's group commit, so a burst of
    /// requests costs one commit (one fsync) instead of one each.
    async fn insert_audit(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// Deletes up to `batch` audit events older than `before` (`AUDIT_RETENTION`).
    async fn delete_audit_before(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64>;
    /// Tenant `None` lists every tenant's events (platform operators only).
    async fn list_audit(
        &self,
        tenant_id: Option<Uuid>,
        filter: &AuditFilter,
        page: Page,
    ) -> StoreResult<Vec<AuditEvent>>;

    async fn insert_order(&self, order: &Order) -> StoreResult<()>;
    async fn list_orders(&self, tenant_id: Uuid, status: Option<OrderStatus>, page: Page) -> StoreResult<Vec<Order>>;
    async fn order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Order>>;
    /// Cancels an open order; false when it was not open.
    async fn cancel_order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool>;
}

/// The stores a node runs on.
#[derive(Clone)]
pub struct Stores {
    pub db: Arc<dyn Database>,
    /// For list queries (admin lists, audit, session lists, counts): the `DATABASE_READ_URL`
    /// replica behind its own breaker, or `db` itself without one. Writes, activations and
    /// whatever a write decides on (the session cap, ending a user's sessions) use `db`.
    pub read: Arc<dyn Database>,
    pub cache: Arc<breaker::GuardedCache>,
    /// Rate limits over the cache, leased so that a request rarely waits for Redis.
    pub limits: Arc<ratelimit::RateLimiter>,
    /// The database's circuit breakers by pool (`database`, and `database_read` with a
    /// replica), for health and metrics.
    pub db_breakers: Vec<(&'static str, Arc<breaker::CircuitBreaker>)>,
}

/// SHA-256 pseudonym (hex) under a purpose label, for clear lookup columns.
pub fn pseudonym(purpose: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(value.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Opens the stores `config` selects and runs migrations.
pub async fn open(config: &crate::config::Config) -> StoreResult<Stores> {
    let db: Arc<dyn Database> = match &config.database_url {
        Some(url) => Arc::new(sql::PostgresStore::connect(url.expose())?),
        None => Arc::new(sql::SqliteStore::open(&config.data_dir.join("tradesage.db")).await?),
    };
    db.migrate().await?;
    let guard = guarded_db::GuardSettings {
        breaker: breaker::BreakerSettings {
            failures: config.scale_out.db_breaker_failures,
            open_for: config.scale_out.db_breaker_open,
        },
        call_timeout: config.scale_out.db_call_timeout,
    };
    let guarded = guarded_db::GuardedDatabase::new(db, guard);
    let mut db_breakers = vec![("database", guarded.breaker())];
    let db: Arc<dyn Database> = guarded;
    let read: Option<Arc<dyn Database>> = match &config.scale_out.database_read_url {
        // Not migrated: a replica follows the primary's schema.
        Some(url) => {
            let replica = guarded_db::GuardedDatabase::new(Arc::new(sql::PostgresStore::connect(url.expose())?), guard);
            db_breakers.push(("database_read", replica.breaker()));
            Some(replica)
        }
        None => None,
    };
    let cache: Arc<dyn Cache> = match &config.redis_url {
        Some(url) => Arc::new(redis::RedisCache::connect(url.expose(), &config.redis_prefix).await?),
        None => Arc::new(memory::MemoryCache::new()),
    };
    let cache = Arc::new(breaker::GuardedCache::new(cache));
    let limits = Arc::new(ratelimit::RateLimiter::new(cache.clone()));
    tokio::spawn(ratelimit::refund_ticker(Arc::downgrade(&limits)));
    let db: Arc<dyn Database> = cached::CachedDatabase::new(db, cache.clone());
    let read = read.unwrap_or_else(|| db.clone());
    Ok(Stores { db, read, cache, limits, db_breakers })
}
