//! A read-through cache in front of the [`Database`] for the two lookups every authenticated
//! request may make — a user by id and a tenant by id — so `GET /users/me` needs no database
//! round trip. Every write of a user or tenant goes through this decorator, which drops the
//! entry here and tells the other nodes (they drop theirs on the event), so nothing can forget
//! to invalidate. Entries also expire after [`TTL`], a bound on staleness should an event be
//! lost.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use uuid::Uuid;

use super::cache::{Cache, ChangeEvent};
use super::mfa::{MfaChallengeRow, MfaStore, MfaWrite};
use super::sql_api_keys::{ApiKeyRow, ApiKeyStore};
use super::{AuditEvent, AuditFilter, Database, LockoutRow, Page, SessionRow, StoreResult, UserLock};
use crate::domain::{Order, OrderStatus, Tenant, User, UserChanges};

const TTL: Duration = Duration::from_secs(30);
/// Beyond this many entries a map is cleared rather than grown.
const CAPACITY: usize = 100_000;

pub struct CachedDatabase {
    inner: Arc<dyn Database>,
    events: Arc<dyn Cache>,
    node_id: Uuid,
    users: DashMap<(Uuid, Uuid), (User, Instant)>,
    tenants: DashMap<Uuid, (Tenant, Instant)>,
    /// Bumped by every invalidation: a read that raced a write does not fill the cache with
    /// what it read before the write.
    generation: AtomicU64,
}

impl CachedDatabase {
    /// Wraps `inner`; invalidations travel over `events` (the cross-node channel).
    pub fn new(inner: Arc<dyn Database>, events: Arc<dyn Cache>) -> Arc<Self> {
        let db = Arc::new(Self {
            inner,
            events: events.clone(),
            node_id: Uuid::new_v4(),
            users: DashMap::new(),
            tenants: DashMap::new(),
            generation: AtomicU64::new(0),
        });
        let mut received = events.subscribe();
        let weak = Arc::downgrade(&db);
        tokio::spawn(async move {
            loop {
                let message = match received.recv().await {
                    Ok(message) => message,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Events were lost: forget everything rather than serve stale entries.
                        let Some(db) = weak.upgrade() else { break };
                        db.clear();
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let Some(db) = weak.upgrade() else { break };
                let Some(event) = ChangeEvent::parse(&message) else { continue };
                if event.node_id == db.node_id {
                    continue;
                }
                if let Ok(id) = event.id.parse::<Uuid>() {
                    db.forget(&event.kind, id);
                }
            }
        });
        db
    }

    /// The wrapped database, for the parts of the store this cache has nothing to do with
    /// (signing keys, sealed records), delegated in their own modules.
    pub(super) fn inner(&self) -> &dyn Database {
        self.inner.as_ref()
    }

    fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.users.clear();
        self.tenants.clear();
    }

    /// Drops a user or tenant entry; other kinds on the channel (sessions, lockouts) are not
    /// this cache's and leave it, and its race guard, untouched.
    fn forget(&self, what: &str, id: Uuid) {
        match what {
            "user" => {
                self.generation.fetch_add(1, Ordering::SeqCst);
                self.users.retain(|(_, user_id), _| *user_id != id);
            }
            "tenant" => {
                self.generation.fetch_add(1, Ordering::SeqCst);
                self.tenants.remove(&id);
            }
            super::cache::RESYNC => self.clear(),
            _ => {}
        }
    }

    /// Drops the entry here and on every other node.
    async fn invalidate(&self, what: &str, id: Uuid) {
        self.forget(what, id);
        let message =
            ChangeEvent { node_id: self.node_id, kind: what.to_owned(), id: id.to_string(), version: 0 }.render();
        if let Err(e) = self.events.publish(&message).await {
            tracing::warn!(error = %e, "could not tell other nodes to drop a cached {what}");
        }
    }
}

#[async_trait]
impl Database for CachedDatabase {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn migrate(&self) -> StoreResult<()> {
        self.inner.migrate().await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.inner.insert_tenant(tenant).await
    }
    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        self.inner.tenant_by_slug(slug).await
    }
    async fn tenant_by_id(&self, id: Uuid) -> StoreResult<Option<Tenant>> {
        if let Some(entry) = self.tenants.get(&id).filter(|e| e.1.elapsed() < TTL) {
            return Ok(Some(entry.0.clone()));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let tenant = self.inner.tenant_by_id(id).await?;
        if let Some(tenant) = &tenant {
            if self.generation.load(Ordering::SeqCst) == generation {
                if self.tenants.len() >= CAPACITY {
                    self.tenants.clear();
                }
                self.tenants.insert(id, (tenant.clone(), Instant::now()));
            }
        }
        Ok(tenant)
    }
    async fn list_tenants(&self, page: Page) -> StoreResult<Vec<Tenant>> {
        self.inner.list_tenants(page).await
    }
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let result = self.inner.update_tenant(tenant).await;
        self.invalidate("tenant", tenant.id).await;
        result
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.inner.insert_user(user).await
    }
    async fn user_by_email(&self, tenant_id: Uuid, email: &str) -> StoreResult<Option<User>> {
        // Logins read the password hash fresh, never from a cache.
        self.inner.user_by_email(tenant_id, email).await
    }
    async fn user_by_id(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<User>> {
        if let Some(entry) = self.users.get(&(tenant_id, id)).filter(|e| e.1.elapsed() < TTL) {
            return Ok(Some(entry.0.clone()));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let user = self.inner.user_by_id(tenant_id, id).await?;
        if let Some(user) = &user {
            if self.generation.load(Ordering::SeqCst) == generation {
                if self.users.len() >= CAPACITY {
                    self.users.clear();
                }
                self.users.insert((tenant_id, id), (user.clone(), Instant::now()));
            }
        }
        Ok(user)
    }
    async fn list_users(&self, tenant_id: Uuid, page: Page) -> StoreResult<Vec<User>> {
        self.inner.list_users(tenant_id, page).await
    }
    async fn update_user(&self, tenant_id: Uuid, id: Uuid, changes: &UserChanges) -> StoreResult<Option<User>> {
        let result = self.inner.update_user(tenant_id, id, changes).await;
        self.invalidate("user", id).await;
        result
    }
    async fn count_active_admins(&self, tenant_id: Uuid) -> StoreResult<i64> {
        self.inner.count_active_admins(tenant_id).await
    }

    async fn lock_user(&self, user_id: Uuid) -> StoreResult<UserLock> {
        self.inner.lock_user(user_id).await
    }
    async fn insert_session(&self, row: &SessionRow) -> StoreResult<()> {
        self.inner.insert_session(row).await
    }
    async fn update_session(&self, row: &SessionRow, expected_version: i64) -> StoreResult<bool> {
        self.inner.update_session(row, expected_version).await
    }
    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRow>> {
        self.inner.session(id).await
    }
    async fn session_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
        self.inner.session_version(id).await
    }
    async fn active_sessions_of(&self, user_ref: &str) -> StoreResult<Vec<SessionRow>> {
        self.inner.active_sessions_of(user_ref).await
    }
    async fn count_active_sessions(&self, now: DateTime<Utc>) -> StoreResult<i64> {
        self.inner.count_active_sessions(now).await
    }
    async fn delete_expired_sessions(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.inner.delete_expired_sessions(before, batch).await
    }

    async fn lockout(&self, key: &str) -> StoreResult<Option<LockoutRow>> {
        self.inner.lockout(key).await
    }
    async fn lockout_version(&self, key: &str) -> StoreResult<Option<i64>> {
        self.inner.lockout_version(key).await
    }
    async fn save_lockout(&self, row: &LockoutRow, expected_version: i64) -> StoreResult<bool> {
        self.inner.save_lockout(row, expected_version).await
    }
    async fn current_lockouts(&self, tenant_id: Option<Uuid>, now: DateTime<Utc>) -> StoreResult<Vec<LockoutRow>> {
        self.inner.current_lockouts(tenant_id, now).await
    }
    async fn delete_stale_lockouts(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.inner.delete_stale_lockouts(before, batch).await
    }

    async fn insert_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        self.inner.insert_audit(events).await
    }
    async fn delete_audit_before(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.inner.delete_audit_before(before, batch).await
    }
    async fn list_audit(
        &self,
        tenant_id: Option<Uuid>,
        filter: &AuditFilter,
        page: Page,
    ) -> StoreResult<Vec<AuditEvent>> {
        self.inner.list_audit(tenant_id, filter, page).await
    }

    async fn insert_order(&self, order: &Order) -> StoreResult<()> {
        self.inner.insert_order(order).await
    }
    async fn list_orders(&self, tenant_id: Uuid, status: Option<OrderStatus>, page: Page) -> StoreResult<Vec<Order>> {
        self.inner.list_orders(tenant_id, status, page).await
    }
    async fn order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Order>> {
        self.inner.order(tenant_id, id).await
    }
    async fn cancel_order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool> {
        self.inner.cancel_order(tenant_id, id).await
    }
}

#[async_trait]
impl MfaStore for CachedDatabase {
    async fn user_mfa(&self, user_id: Uuid) -> StoreResult<Option<(i64, String)>> {
        self.inner.user_mfa(user_id).await
    }
    async fn user_mfa_version(&self, user_id: Uuid) -> StoreResult<Option<i64>> {
        self.inner.user_mfa_version(user_id).await
    }
    /// Changes the user's `mfa_enabled`: the cached user goes, here and on every node.
    async fn save_user_mfa(&self, write: &MfaWrite<'_>, expected: i64) -> StoreResult<bool> {
        let result = self.inner.save_user_mfa(write, expected).await;
        self.invalidate("user", write.user_id).await;
        result
    }
    async fn mfa_challenge(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
        self.inner.mfa_challenge(key).await
    }
    async fn mfa_challenge_version(&self, key: &str) -> StoreResult<Option<i64>> {
        self.inner.mfa_challenge_version(key).await
    }
    async fn save_mfa_challenge(&self, row: &MfaChallengeRow, expected: i64) -> StoreResult<bool> {
        self.inner.save_mfa_challenge(row, expected).await
    }
    async fn delete_expired_mfa_challenges(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.inner.delete_expired_mfa_challenges(before, batch).await
    }
}

/// API keys are not cached here: their actors hold them.
#[async_trait]
impl ApiKeyStore for CachedDatabase {
    async fn api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>> {
        self.inner.api_key(id).await
    }
    async fn api_key_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
        self.inner.api_key_version(id).await
    }
    async fn save_api_key(&self, row: &ApiKeyRow, expected: i64) -> StoreResult<bool> {
        self.inner.save_api_key(row, expected).await
    }
    async fn api_keys_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Vec<ApiKeyRow>> {
        self.inner.api_keys_of(tenant_id, user_id).await
    }
    async fn count_active_api_keys(&self, tenant_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<i64> {
        self.inner.count_active_api_keys(tenant_id, user_id, now).await
    }
}
