//! The [`Database`] behind a circuit breaker (API.md §5.5). Every call is bounded by a
//! timeout and counted by the breaker; after a run of outage errors or timeouts the breaker
//! opens and every call fails at once with [`StoreError::CircuitOpen`] (a 503 with
//! `Retry-After` to the client) instead of waiting for the pool. Live actors keep answering
//! from memory meanwhile, and activations read the cache. Once the open time has passed one
//! call at a time probes — a request's, or the background prober's ping when no request
//! comes — and the first that succeeds closes it.
//!
//! Only outages count ([`is_outage`]): a conflict or a value the database refuses as data is
//! an answer, and passes through without touching the breaker.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::breaker::{BreakerSettings, BreakerState, CircuitBreaker};
use super::mfa::{MfaChallengeRow, MfaStore, MfaWrite};
use super::sealed::{RecordId, SealedFamily, SealedRecord, SealedStore};
use super::signing_keys::{KeyChanges, KeyPlan, SigningKeyRow, SigningKeyStore};
use super::sql_api_keys::{ApiKeyRow, ApiKeyStore};
use super::{AuditEvent, AuditFilter, Database, LockoutRow, Page, SessionRow, StoreError, StoreResult, UserLock};
use crate::domain::{Order, OrderStatus, Tenant, User, UserChanges};

/// The breaker's settings and the bound on each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardSettings {
    pub breaker: BreakerSettings,
    /// A call that has not answered by then counts as a failure (and answers 503).
    pub call_timeout: Duration,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            breaker: BreakerSettings { failures: 5, open_for: Duration::from_secs(5) },
            call_timeout: Duration::from_secs(5),
        }
    }
}

pub struct GuardedDatabase {
    inner: Arc<dyn Database>,
    breaker: Arc<CircuitBreaker>,
    call_timeout: Duration,
}

impl GuardedDatabase {
    /// Wraps `inner` and starts the prober, which stops with the last reference.
    pub fn new(inner: Arc<dyn Database>, settings: GuardSettings) -> Arc<Self> {
        let db = Arc::new(Self {
            inner,
            breaker: Arc::new(CircuitBreaker::new(settings.breaker)),
            call_timeout: settings.call_timeout,
        });
        let every = (settings.breaker.open_for / 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
        tokio::spawn(probe(Arc::downgrade(&db), every));
        db
    }

    /// The breaker, for health and metrics.
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        self.breaker.clone()
    }

    async fn guarded<T>(&self, call: impl std::future::Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let limit = self.call_timeout;
        self.breaker
            .guard(async move {
                tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                    Err(StoreError::Unavailable(format!("database: no answer within {} ms", limit.as_millis()).into()))
                })
            })
            .await
    }
}

/// Pings through the breaker whenever it is half-open, so it closes soon after the database
/// is back even when no request arrives.
async fn probe(db: Weak<GuardedDatabase>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(db) = db.upgrade() else { return };
        if db.breaker.state() == BreakerState::HalfOpen {
            let _ = db.guarded(db.inner.ping()).await;
        }
    }
}

#[async_trait]
impl Database for GuardedDatabase {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    /// Start-up only; not guarded.
    async fn migrate(&self) -> StoreResult<()> {
        self.inner.migrate().await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.guarded(self.inner.ping()).await
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.guarded(self.inner.insert_tenant(tenant)).await
    }
    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        self.guarded(self.inner.tenant_by_slug(slug)).await
    }
    async fn tenant_by_id(&self, id: Uuid) -> StoreResult<Option<Tenant>> {
        self.guarded(self.inner.tenant_by_id(id)).await
    }
    async fn list_tenants(&self, page: Page) -> StoreResult<Vec<Tenant>> {
        self.guarded(self.inner.list_tenants(page)).await
    }
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.guarded(self.inner.update_tenant(tenant)).await
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.guarded(self.inner.insert_user(user)).await
    }
    async fn user_by_email(&self, tenant_id: Uuid, email: &str) -> StoreResult<Option<User>> {
        self.guarded(self.inner.user_by_email(tenant_id, email)).await
    }
    async fn user_by_id(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<User>> {
        self.guarded(self.inner.user_by_id(tenant_id, id)).await
    }
    async fn list_users(&self, tenant_id: Uuid, page: Page) -> StoreResult<Vec<User>> {
        self.guarded(self.inner.list_users(tenant_id, page)).await
    }
    async fn update_user(&self, tenant_id: Uuid, id: Uuid, changes: &UserChanges) -> StoreResult<Option<User>> {
        self.guarded(self.inner.update_user(tenant_id, id, changes)).await
    }
    async fn count_active_admins(&self, tenant_id: Uuid) -> StoreResult<i64> {
        self.guarded(self.inner.count_active_admins(tenant_id)).await
    }

    async fn lock_user(&self, user_id: Uuid) -> StoreResult<UserLock> {
        self.guarded(self.inner.lock_user(user_id)).await
    }
    async fn insert_session(&self, row: &SessionRow) -> StoreResult<()> {
        self.guarded(self.inner.insert_session(row)).await
    }
    async fn update_session(&self, row: &SessionRow, expected_version: i64) -> StoreResult<bool> {
        self.guarded(self.inner.update_session(row, expected_version)).await
    }
    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRow>> {
        self.guarded(self.inner.session(id)).await
    }
    async fn session_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
        self.guarded(self.inner.session_version(id)).await
    }
    async fn active_sessions_of(&self, user_ref: &str) -> StoreResult<Vec<SessionRow>> {
        self.guarded(self.inner.active_sessions_of(user_ref)).await
    }
    async fn count_active_sessions(&self, now: DateTime<Utc>) -> StoreResult<i64> {
        self.guarded(self.inner.count_active_sessions(now)).await
    }
    async fn delete_expired_sessions(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.guarded(self.inner.delete_expired_sessions(before, batch)).await
    }

    async fn lockout(&self, key: &str) -> StoreResult<Option<LockoutRow>> {
        self.guarded(self.inner.lockout(key)).await
    }
    async fn lockout_version(&self, key: &str) -> StoreResult<Option<i64>> {
        self.guarded(self.inner.lockout_version(key)).await
    }
    async fn save_lockout(&self, row: &LockoutRow, expected_version: i64) -> StoreResult<bool> {
        self.guarded(self.inner.save_lockout(row, expected_version)).await
    }
    async fn current_lockouts(&self, tenant_id: Option<Uuid>, now: DateTime<Utc>) -> StoreResult<Vec<LockoutRow>> {
        self.guarded(self.inner.current_lockouts(tenant_id, now)).await
    }
    async fn delete_stale_lockouts(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.guarded(self.inner.delete_stale_lockouts(before, batch)).await
    }

    async fn insert_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        self.guarded(self.inner.insert_audit(events)).await
    }
    async fn delete_audit_before(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.guarded(self.inner.delete_audit_before(before, batch)).await
    }
    async fn list_audit(
        &self,
        tenant_id: Option<Uuid>,
        filter: &AuditFilter,
        page: Page,
    ) -> StoreResult<Vec<AuditEvent>> {
        self.guarded(self.inner.list_audit(tenant_id, filter, page)).await
    }

    async fn insert_order(&self, order: &Order) -> StoreResult<()> {
        self.guarded(self.inner.insert_order(order)).await
    }
    async fn list_orders(&self, tenant_id: Uuid, status: Option<OrderStatus>, page: Page) -> StoreResult<Vec<Order>> {
        self.guarded(self.inner.list_orders(tenant_id, status, page)).await
    }
    async fn order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Order>> {
        self.guarded(self.inner.order(tenant_id, id)).await
    }
    async fn cancel_order(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool> {
        self.guarded(self.inner.cancel_order(tenant_id, id)).await
    }
}

#[async_trait]
impl MfaStore for GuardedDatabase {
    async fn user_mfa(&self, user_id: Uuid) -> StoreResult<Option<(i64, String)>> {
        self.guarded(self.inner.user_mfa(user_id)).await
    }
    async fn user_mfa_version(&self, user_id: Uuid) -> StoreResult<Option<i64>> {
        self.guarded(self.inner.user_mfa_version(user_id)).await
    }
    async fn save_user_mfa(&self, write: &MfaWrite<'_>, expected: i64) -> StoreResult<bool> {
        self.guarded(self.inner.save_user_mfa(write, expected)).await
    }
    async fn mfa_challenge(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
        self.guarded(self.inner.mfa_challenge(key)).await
    }
    async fn mfa_challenge_version(&self, key: &str) -> StoreResult<Option<i64>> {
        self.guarded(self.inner.mfa_challenge_version(key)).await
    }
    async fn save_mfa_challenge(&self, row: &MfaChallengeRow, expected: i64) -> StoreResult<bool> {
        self.guarded(self.inner.save_mfa_challenge(row, expected)).await
    }
    async fn delete_expired_mfa_challenges(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        self.guarded(self.inner.delete_expired_mfa_challenges(before, batch)).await
    }
}

#[async_trait]
impl SigningKeyStore for GuardedDatabase {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.guarded(self.inner.signing_keys()).await
    }
    async fn change_signing_keys(&self, plan: KeyPlan<'_>) -> StoreResult<KeyChanges> {
        self.guarded(self.inner.change_signing_keys(plan)).await
    }
    async fn delete_expired_signing_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.guarded(self.inner.delete_expired_signing_keys(before)).await
    }
}

#[async_trait]
impl SealedStore for GuardedDatabase {
    async fn sealed_batch(
        &self,
        family: &SealedFamily,
        after: Option<&RecordId>,
        limit: i64,
    ) -> StoreResult<Vec<SealedRecord>> {
        self.guarded(self.inner.sealed_batch(family, after, limit)).await
    }
    async fn sealed_record(&self, family: &SealedFamily, id: &RecordId) -> StoreResult<Option<SealedRecord>> {
        self.guarded(self.inner.sealed_record(family, id)).await
    }
    async fn replace_sealed(&self, family: &SealedFamily, record: &SealedRecord, sealed: &str) -> StoreResult<bool> {
        self.guarded(self.inner.replace_sealed(family, record, sealed)).await
    }
}

#[async_trait]
impl ApiKeyStore for GuardedDatabase {
    async fn api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>> {
        self.guarded(self.inner.api_key(id)).await
    }
    async fn api_key_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
        self.guarded(self.inner.api_key_version(id)).await
    }
    async fn save_api_key(&self, row: &ApiKeyRow, expected: i64) -> StoreResult<bool> {
        self.guarded(self.inner.save_api_key(row, expected)).await
    }
    async fn api_keys_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Vec<ApiKeyRow>> {
        self.guarded(self.inner.api_keys_of(tenant_id, user_id)).await
    }
    async fn count_active_api_keys(&self, tenant_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<i64> {
        self.guarded(self.inner.count_active_api_keys(tenant_id, user_id, now)).await
    }
}
