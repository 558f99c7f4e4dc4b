//! The [`Database`] on PostgreSQL and on embedded SQLite. The SQL is written once (`$n`
//! placeholders in order, types both engines share) and instantiated for each by a macro.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use super::group_commit::{write_op, GroupCommit, WriteOp};
use super::pg_session_writes::SessionWrites;
use super::sql_error::db_error;
use super::sql_records::*;
use super::{
    AuditEvent, AuditFilter, Database, LockoutRow, OutcomeFilter, Page, SessionRow, StoreError, StoreResult, UserLock,
};
use crate::domain::{Order, OrderStatus, Tenant, User, UserChanges};

static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a request waits for a pooled connection before the store is called unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct PostgresStore {
    pub(super) pool: PgPool,
    user_locks: UserStripes,
    /// Session updates (one per refresh) are batched into one statement each round.
    session_writes: SessionWrites,
}

pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    user_locks: UserStripes,
    /// The hot writes (sessions) go through one group-committing writer.
    writes: GroupCommit,
}

/// Node-local per-user locks, striped: a login holds one for a few milliseconds, so users
/// sharing a stripe barely notice, and no map of users grows. On PostgreSQL they also bound
/// how many pooled connections wait on advisory locks at once (one per stripe).
struct UserStripes([Arc<tokio::sync::Mutex<()>>; 16]);

impl UserStripes {
    fn new() -> Self {
        Self(std::array::from_fn(|_| Arc::new(tokio::sync::Mutex::new(()))))
    }

    async fn lock(&self, user_id: Uuid) -> tokio::sync::OwnedMutexGuard<()> {
        let stripe = user_id.as_u128() as usize % self.0.len();
        self.0[stripe].clone().lock_owned().await
    }
}

/// The advisory-lock key of a user's session cap: the user id's low 63 bits under a fixed
/// namespace bit, so it cannot meet another use of advisory locks by accident.
fn advisory_key(user_id: Uuid) -> i64 {
    ((user_id.as_u128() as u64 & (u64::MAX >> 2)) | (1 << 62)) as i64
}

impl PostgresStore {
    async fn lock_user_sessions(&self, user_id: Uuid) -> StoreResult<UserLock> {
        let local = self.user_locks.lock(user_id).await;
        let mut transaction = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(advisory_key(user_id))
            .execute(&mut *transaction)
            .await
            .map_err(db_error)?;
        Ok(UserLock::new(vec![Box::new(transaction), Box::new(local)]))
    }
}

impl SqliteStore {
    /// One process owns the SQLite file, so the node-local lock is the whole lock.
    async fn lock_user_sessions(&self, user_id: Uuid) -> StoreResult<UserLock> {
        Ok(UserLock::new(vec![Box::new(self.user_locks.lock(user_id).await)]))
    }
}

impl PostgresStore {
    /// Connects lazily (start-up does not fail while PostgreSQL is briefly away); statements
    /// time out after 5 s so a stuck query cannot hold a connection forever.
    pub fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("DATABASE_URL: {e}").into()))?
            .options([("statement_timeout", "5000")]);
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        let session_writes = SessionWrites::start(pool.clone());
        Ok(Self { pool, user_locks: UserStripes::new(), session_writes })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl SqliteStore {
    /// Opens (creating) the database file in WAL mode.
    pub async fn open(path: &std::path::Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", parent.display()).into()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let writes = GroupCommit::start(pool.clone());
        Ok(Self { pool, user_locks: UserStripes::new(), writes })
    }

    /// Runs one write statement in the next group commit.
    async fn write<T: Send + 'static>(&self, op: WriteOp<SqliteConnection, T>) -> StoreResult<T> {
        self.writes.write(op).await
    }

    /// A session's compare-and-set, in the next group commit.
    async fn update_session_row(&self, s: &SessionRow, expected_version: i64) -> StoreResult<bool> {
        let s = s.clone();
        self.write(write_op(move |conn: &mut SqliteConnection| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE sessions SET state = $1, version = $2, is_active = $3 WHERE id = $4 AND version = $5",
                )
                .bind(&s.state)
                .bind(s.version)
                .bind(s.is_active)
                .bind(s.id)
                .bind(expected_version)
                .execute(conn)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err(db_error)
            })
        }))
        .await
    }
}

impl PostgresStore {
    /// Runs one write statement on a pooled connection. The less frequent writes need no
    /// grouping here: concurrent commits already share the WAL flush.
    async fn write<T>(&self, op: WriteOp<PgConnection, T>) -> StoreResult<T> {
        let mut connection = self.pool.acquire().await.map_err(db_error)?;
        op(&mut connection).await
    }

    /// A session's compare-and-set, batched with the others queued meanwhile (one per
    /// refresh, the hottest write there is).
    async fn update_session_row(&self, s: &SessionRow, expected_version: i64) -> StoreResult<bool> {
        self.session_writes.update(s, expected_version).await
    }
}

/// A cursor that sorts after every UUIDv7, for the first page.
const NO_CURSOR: Uuid = Uuid::max();

macro_rules! sql_database {
    ($store:ty, $conn:ty, $backend:literal, $migrator:expr) => {
        #[async_trait]
        impl Database for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> StoreResult<()> {
                $migrator.run(&self.pool).await.map_err(|e| StoreError::Unavailable(Box::new(e)))
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(db_error)
            }

            async fn insert_tenant(&self, t: &Tenant) -> StoreResult<()> {
                sqlx::query("INSERT INTO tenants (id, slug, name, allow_self_signup, is_active, created_at, require_mfa) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(t.id).bind(&t.slug).bind(&t.name).bind(t.allow_self_signup).bind(t.is_active).bind(t.created_at).bind(t.require_mfa)
                    .execute(&self.pool).await.map(|_| ()).map_err(db_error)
            }

            async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
                sqlx::query_as::<_, TenantRecord>("SELECT * FROM tenants WHERE slug = $1")
                    .bind(slug).fetch_optional(&self.pool).await.map(|r| r.map(Tenant::from)).map_err(db_error)
            }

            async fn tenant_by_id(&self, id: Uuid) -> StoreResult<Option<Tenant>> {
                sqlx::query_as::<_, TenantRecord>("SELECT * FROM tenants WHERE id = $1")
                    .bind(id).fetch_optional(&self.pool).await.map(|r| r.map(Tenant::from)).map_err(db_error)
            }

            async fn list_tenants(&self, page: Page) -> StoreResult<Vec<Tenant>> {
                sqlx::query_as::<_, TenantRecord>("SELECT * FROM tenants WHERE id < $1 ORDER BY id DESC LIMIT $2")
                    .bind(page.before.unwrap_or(NO_CURSOR)).bind(page.limit)
                    .fetch_all(&self.pool).await.map(|rows| rows.into_iter().map(Tenant::from).collect()).map_err(db_error)
            }

            async fn update_tenant(&self, t: &Tenant) -> StoreResult<()> {
                sqlx::query("UPDATE tenants SET name = $1, allow_self_signup = $2, is_active = $3, require_mfa = $4 WHERE id = $5")
                    .bind(&t.name).bind(t.allow_self_signup).bind(t.is_active).bind(t.require_mfa).bind(t.id)
                    .execute(&self.pool).await.map(|_| ()).map_err(db_error)
            }

            async fn insert_user(&self, u: &User) -> StoreResult<()> {
                sqlx::query("INSERT INTO users (id, tenant_id, email, display_name, password_hash, roles, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(u.id).bind(u.tenant_id).bind(&u.email).bind(&u.display_name).bind(&u.password_hash)
                    .bind(roles_column(&u.roles)).bind(u.is_active).bind(u.created_at).bind(u.updated_at)
                    .execute(&self.pool).await.map(|_| ()).map_err(db_error)
            }

            async fn user_by_email(&self, tenant_id: Uuid, email: &str) -> StoreResult<Option<User>> {
                let record = sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE tenant_id = $1 AND email = $2")
                    .bind(tenant_id).bind(email).fetch_optional(&self.pool).await.map_err(db_error)?;
                record.map(User::try_from).transpose()
            }

            async fn user_by_id(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<User>> {
                let record = sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id).bind(id).fetch_optional(&self.pool).await.map_err(db_error)?;
                record.map(User::try_from).transpose()
            }

            async fn list_users(&self, tenant_id: Uuid, page: Page) -> StoreResult<Vec<User>> {
                let records = sqlx::query_as::<_, UserRecord>("SELECT * FROM users WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")
                    .bind(tenant_id).bind(page.before.unwrap_or(NO_CURSOR)).bind(page.limit)
                    .fetch_all(&self.pool).await.map_err(db_error)?;
                records.into_iter().map(User::try_from).collect()
            }

            async fn update_user(&self, tenant_id: Uuid, id: Uuid, c: &UserChanges) -> StoreResult<Option<User>> {
                let roles = c.roles.as_deref().map(roles_column);
                let record = sqlx::query_as::<_, UserRecord>(
                    "UPDATE users SET display_name = COALESCE($1, display_name), password_hash = COALESCE($2, password_hash), \
                     roles = COALESCE($3, roles), is_active = COALESCE($4, is_active), updated_at = $5 \
                     WHERE tenant_id = $6 AND id = $7 RETURNING *",
                )
                .bind(&c.display_name).bind(&c.password_hash).bind(roles).bind(c.is_active).bind(Utc::now())
                .bind(tenant_id).bind(id)
                .fetch_optional(&self.pool).await.map_err(db_error)?;
                record.map(User::try_from).transpose()
            }

            async fn count_active_admins(&self, tenant_id: Uuid) -> StoreResult<i64> {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND is_active = $2 AND (',' || roles || ',') LIKE '%,admin,%'")
                    .bind(tenant_id).bind(true).fetch_one(&self.pool).await.map_err(db_error)
            }

            async fn lock_user(&self, user_id: Uuid) -> StoreResult<UserLock> {
                self.lock_user_sessions(user_id).await
            }

            async fn insert_session(&self, s: &SessionRow) -> StoreResult<()> {
                let s = s.clone();
                self.write(write_op(move |conn: &mut $conn| Box::pin(async move {
                    sqlx::query("INSERT INTO sessions (id, user_ref, state, version, expires_at, is_active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(s.id).bind(&s.user_ref).bind(&s.state).bind(s.version).bind(s.expires_at).bind(s.is_active).bind(s.created_at)
                        .execute(conn).await.map(|_| ()).map_err(db_error)
                }))).await
            }

            async fn update_session(&self, s: &SessionRow, expected_version: i64) -> StoreResult<bool> {
                self.update_session_row(s, expected_version).await
            }

            async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRow>> {
                sqlx::query_as::<_, SessionRecord>("SELECT * FROM sessions WHERE id = $1")
                    .bind(id).fetch_optional(&self.pool).await.map(|r| r.map(SessionRow::from)).map_err(db_error)
            }

            async fn session_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
                sqlx::query_scalar::<_, i64>("SELECT version FROM sessions WHERE id = $1")
                    .bind(id).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn active_sessions_of(&self, user_ref: &str) -> StoreResult<Vec<SessionRow>> {
                sqlx::query_as::<_, SessionRecord>("SELECT * FROM sessions WHERE user_ref = $1 AND is_active = $2 ORDER BY created_at")
                    .bind(user_ref).bind(true)
                    .fetch_all(&self.pool).await.map(|rows| rows.into_iter().map(SessionRow::from).collect()).map_err(db_error)
            }

            async fn count_active_sessions(&self, now: DateTime<Utc>) -> StoreResult<i64> {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE is_active = $1 AND expires_at > $2")
                    .bind(true).bind(now).fetch_one(&self.pool).await.map_err(db_error)
            }

            async fn delete_expired_sessions(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
                sqlx::query("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)")
                    .bind(before).bind(batch)
                    .execute(&self.pool).await.map(|r| r.rows_affected()).map_err(db_error)
            }

            async fn lockout(&self, key: &str) -> StoreResult<Option<LockoutRow>> {
                sqlx::query_as::<_, LockoutRecord>("SELECT * FROM lockouts WHERE key = $1")
                    .bind(key).fetch_optional(&self.pool).await.map(|r| r.map(LockoutRow::from)).map_err(db_error)
            }

            async fn lockout_version(&self, key: &str) -> StoreResult<Option<i64>> {
                sqlx::query_scalar::<_, i64>("SELECT version FROM lockouts WHERE key = $1")
                    .bind(key).fetch_optional(&self.pool).await.map_err(db_error)
            }

            async fn save_lockout(&self, l: &LockoutRow, expected_version: i64) -> StoreResult<bool> {
                let result = if expected_version == 0 {
                    sqlx::query("INSERT INTO lockouts (key, tenant_id, state, version, lock_ends_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING")
                        .bind(&l.key).bind(l.tenant_id).bind(&l.state).bind(l.version).bind(l.lock_ends_at).bind(l.updated_at)
                        .execute(&self.pool).await
                } else {
                    sqlx::query("UPDATE lockouts SET state = $1, version = $2, lock_ends_at = $3, updated_at = $4 WHERE key = $5 AND version = $6")
                        .bind(&l.state).bind(l.version).bind(l.lock_ends_at).bind(l.updated_at).bind(&l.key).bind(expected_version)
                        .execute(&self.pool).await
                };
                result.map(|r| r.rows_affected() == 1).map_err(db_error)
            }

            async fn current_lockouts(&self, tenant_id: Option<Uuid>, now: DateTime<Utc>) -> StoreResult<Vec<LockoutRow>> {
                let query = match tenant_id {
                    Some(tenant_id) => sqlx::query_as::<_, LockoutRecord>("SELECT * FROM lockouts WHERE tenant_id = $1 AND lock_ends_at > $2 ORDER BY updated_at DESC LIMIT 1000")
                        .bind(tenant_id).bind(now),
                    None => sqlx::query_as::<_, LockoutRecord>("SELECT * FROM lockouts WHERE lock_ends_at > $1 ORDER BY updated_at DESC LIMIT 1000").bind(now),
                };
                query.fetch_all(&self.pool).await.map(|rows| rows.into_iter().map(LockoutRow::from).collect()).map_err(db_error)
            }

            async fn delete_stale_lockouts(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
                sqlx::query("DELETE FROM lockouts WHERE key IN (SELECT key FROM lockouts WHERE updated_at < $1 AND (lock_ends_at IS NULL OR lock_ends_at < $2) LIMIT $3)")
                    .bind(before).bind(before).bind(batch)
                    .execute(&self.pool).await.map(|r| r.rows_affected()).map_err(db_error)
            }

            async fn insert_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
                let mut transaction = self.pool.begin().await.map_err(db_error)?;
                for e in events {
                    sqlx::query("INSERT INTO audit_events (id, at, tenant_id, user_id, event, outcome, ip, user_agent, request_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                        .bind(e.id).bind(e.at).bind(e.tenant_id).bind(e.user_id).bind(&e.event).bind(&e.outcome)
                        .bind(&e.ip).bind(&e.user_agent).bind(&e.request_id).bind(e.detail.to_string())
                        .execute(&mut *transaction).await.map_err(db_error)?;
                }
                transaction.commit().await.map_err(db_error)
            }

            async fn delete_audit_before(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
                sqlx::query("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)")
                    .bind(before).bind(batch)
                    .execute(&self.pool).await.map(|r| r.rows_affected()).map_err(db_error)
            }

            async fn list_audit(&self, tenant_id: Option<Uuid>, filter: &AuditFilter, page: Page) -> StoreResult<Vec<AuditEvent>> {
                // NULL parameters switch a filter off, so one statement serves every combination.
                let success = filter.outcome.map(|o| o == OutcomeFilter::Success);
                sqlx::query_as::<_, AuditRecord>(
                    "SELECT * FROM audit_events WHERE id < $1 \
                     AND ($2 IS NULL OR tenant_id = $3) AND ($4 IS NULL OR event = $5) AND ($6 IS NULL OR user_id = $7) \
                     AND ($8 IS NULL OR (outcome = 'success') = $9) AND ($10 IS NULL OR ip = $11) \
                     AND ($12 IS NULL OR at >= $13) AND ($14 IS NULL OR at <= $15) \
                     ORDER BY id DESC LIMIT $16",
                )
                .bind(page.before.unwrap_or(NO_CURSOR))
                .bind(tenant_id).bind(tenant_id)
                .bind(&filter.event).bind(&filter.event)
                .bind(filter.user_id).bind(filter.user_id)
                .bind(success).bind(success)
                .bind(&filter.ip).bind(&filter.ip)
                .bind(filter.since).bind(filter.since)
                .bind(filter.until).bind(filter.until)
                .bind(page.limit)
                .fetch_all(&self.pool).await.map(|rows| rows.into_iter().map(AuditEvent::from).collect()).map_err(db_error)
            }

            async fn insert_order(&self, o: &Order) -> StoreResult<()> {
                sqlx::query("INSERT INTO orders (id, tenant_id, user_id, symbol, side, quantity, limit_price, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(o.id).bind(o.tenant_id).bind(o.user_id).bind(&o.symbol).bind(o.side.as_str())
                    .bind(o.quantity.to_string()).bind(o.limit_price.to_string()).bind(o.status.as_str()).bind(o.created_at)
                    .execute(&self.pool).await.map(|_| ()).map_err(db_error)
            }

            async fn list_orders(&self, tenant_id: Uuid, status: Option<OrderStatus>, page: Page) -> StoreResult<Vec<Order>> {
                let status = status.map(OrderStatus::as_str);
                let records = sqlx::query_as::<_, OrderRecord>(
                    "SELECT * FROM orders WHERE tenant_id = $1 AND id < $2 AND ($3 IS NULL OR status = $4) ORDER BY id DESC LIMIT $5",
                )
                .bind(tenant_id).bind(page.before.unwrap_or(NO_CURSOR)).bind(status).bind(status).bind(page.limit)
                .fetch_all(&self.pool).await.map_err(db_error)?;
                records.into_iter().map(Order::try_from).collect()
            }

            async fn order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Order>> {
                let record = sqlx::query_as::<_, OrderRecord>("SELECT * FROM orders WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id).bind(id).fetch_optional(&self.pool).await.map_err(db_error)?;
                record.map(Order::try_from).transpose()
            }

            async fn cancel_order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool> {
                sqlx::query("UPDATE orders SET status = 'cancelled' WHERE tenant_id = $1 AND id = $2 AND status = 'open'")
                    .bind(tenant_id).bind(id).execute(&self.pool).await.map(|r| r.rows_affected() == 1).map_err(db_error)
            }
        }
    };
}

sql_database!(PostgresStore, PgConnection, "postgres", PG_MIGRATIONS);
sql_database!(SqliteStore, SqliteConnection, "sqlite", SQLITE_MIGRATIONS);
