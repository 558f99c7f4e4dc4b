//! The store contract: one set of checks run against every backend — the database on SQLite
//! and on PostgreSQL, the cache in process and on Redis.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use rust_decimal::Decimal;
use tradesage::domain::{Order, OrderSide, OrderStatus, Role, Tenant, User, UserChanges};
use tradesage::store::cache::Cache;
use tradesage::store::memory::MemoryCache;
use tradesage::store::redis::RedisCache;
use tradesage::store::sql::{PostgresStore, SqliteStore};
use tradesage::store::{AuditEvent, AuditFilter, Database, LockoutRow, Page, SessionRow, StoreError};
use uuid::Uuid;

use crate::helpers::{fresh_database, REDIS_URL};

async fn sqlite() -> Arc<dyn Database> {
    let path = std::env::temp_dir().join(format!("ts-contract-{}.db", Uuid::new_v4().simple()));
    let db = SqliteStore::open(&path).await.expect("sqlite opens");
    db.migrate().await.expect("migrations");
    Arc::new(db)
}

async fn postgres() -> Arc<dyn Database> {
    let db = PostgresStore::connect(&fresh_database().await).expect("postgres");
    db.migrate().await.expect("migrations");
    Arc::new(db)
}

async fn redis() -> Arc<dyn Cache> {
    let cache = RedisCache::connect(REDIS_URL, &format!("contract:{}:", Uuid::new_v4().simple())).await.expect("redis");
    cache.ping().await.unwrap_or_else(|e| panic!("Redis must answer at {REDIS_URL}: {e}"));
    Arc::new(cache)
}

fn tenant(slug: &str) -> Tenant {
    Tenant {
        id: Uuid::now_v7(),
        slug: slug.into(),
        name: slug.into(),
        allow_self_signup: true,
        require_mfa: false,
        is_active: true,
        created_at: Utc::now(),
    }
}

fn user(tenant: &Tenant, email: &str) -> User {
    User {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        email: email.into(),
        display_name: "U".into(),
        password_hash: "$2b$04$hash".into(),
        roles: vec![Role::Trader, Role::Admin],
        is_active: true,
        mfa_enabled: false,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

async fn database_contract(db: Arc<dyn Database>) {
    // Migrations are idempotent.
    db.migrate().await.expect("second migration run");
    db.ping().await.expect("ping");

    let acme = tenant("acme");
    db.insert_tenant(&acme).await.unwrap();
    assert!(matches!(db.insert_tenant(&tenant("acme")).await, Err(StoreError::Conflict(_))), "slug is unique");
    let other = tenant("other");
    db.insert_tenant(&other).await.unwrap();
    assert_eq!(db.tenant_by_slug("acme").await.unwrap().unwrap().id, acme.id);
    let mut renamed = acme.clone();
    renamed.name = "Acme Corp".into();
    renamed.allow_self_signup = false;
    db.update_tenant(&renamed).await.unwrap();
    let read = db.tenant_by_id(acme.id).await.unwrap().unwrap();
    assert_eq!((read.name.as_str(), read.allow_self_signup), ("Acme Corp", false));

    let ann = user(&acme, "ann@example.com");
    db.insert_user(&ann).await.unwrap();
    assert!(
        matches!(db.insert_user(&user(&acme, "ann@example.com")).await, Err(StoreError::Conflict(_))),
        "email unique in a tenant"
    );
    db.insert_user(&user(&other, "ann@example.com")).await.expect("the same email in another tenant");
    let found = db.user_by_email(acme.id, "ann@example.com").await.unwrap().unwrap();
    assert_eq!((found.id, found.roles.clone()), (ann.id, vec![Role::Admin, Role::Trader]));
    assert!(db.user_by_id(other.id, ann.id).await.unwrap().is_none(), "lookups are tenant-scoped");
    assert_eq!(db.count_active_admins(acme.id).await.unwrap(), 1);
    let disable = UserChanges { is_active: Some(false), ..UserChanges::default() };
    let disabled = db.update_user(acme.id, ann.id, &disable).await.unwrap().expect("updated");
    assert!(!disabled.is_active && disabled.roles == found.roles, "only the named field changed");
    assert_eq!(db.count_active_admins(acme.id).await.unwrap(), 0);
    let rename = UserChanges { display_name: Some("Ann B.".into()), ..UserChanges::default() };
    let renamed = db.update_user(acme.id, ann.id, &rename).await.unwrap().expect("updated");
    assert!(!renamed.is_active && renamed.display_name == "Ann B.", "an earlier change is not undone");
    assert!(db.update_user(other.id, ann.id, &rename).await.unwrap().is_none(), "updates are tenant-scoped");

    // Pagination: newest first, strictly before the cursor.
    for i in 0..5 {
        db.insert_user(&user(&acme, &format!("u{i}@example.com"))).await.unwrap();
    }
    let first = db.list_users(acme.id, Page { limit: 4, before: None }).await.unwrap();
    let second = db.list_users(acme.id, Page { limit: 4, before: Some(first.last().unwrap().id) }).await.unwrap();
    assert_eq!((first.len(), second.len()), (4, 2));
    assert!(first.iter().all(|a| second.iter().all(|b| a.id != b.id)));

    // Sessions: insert, compare-and-set on the version.
    let now = Utc::now();
    let mut row = SessionRow {
        id: Uuid::new_v4(),
        user_ref: "ref-1".into(),
        state: "sealed-1".into(),
        version: 1,
        expires_at: now + chrono::Duration::days(1),
        is_active: true,
        created_at: now,
    };
    db.insert_session(&row).await.unwrap();
    row.version = 2;
    row.state = "sealed-2".into();
    assert!(db.update_session(&row, 1).await.unwrap(), "matching version writes");
    row.version = 3;
    assert!(!db.update_session(&row, 1).await.unwrap(), "a stale version does not write");
    assert_eq!(db.session(row.id).await.unwrap().unwrap().state, "sealed-2");
    assert_eq!(db.session_version(row.id).await.unwrap(), Some(2));
    assert_eq!(db.session_version(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(db.active_sessions_of("ref-1").await.unwrap().len(), 1);
    let expired = SessionRow { id: Uuid::new_v4(), expires_at: now - chrono::Duration::seconds(1), ..row.clone() };
    db.insert_session(&expired).await.unwrap();
    assert_eq!(db.delete_expired_sessions(now, 100).await.unwrap(), 1);
    assert!(db.session(expired.id).await.unwrap().is_none());

    // Lockouts: version 0 inserts once; later writes compare-and-set.
    let lock = LockoutRow {
        key: "k1".into(),
        tenant_id: acme.id,
        state: "s".into(),
        version: 1,
        lock_ends_at: Some(now + chrono::Duration::minutes(1)),
        updated_at: now,
    };
    assert!(db.save_lockout(&lock, 0).await.unwrap());
    assert!(!db.save_lockout(&lock, 0).await.unwrap(), "a second insert loses");
    let next = LockoutRow { version: 2, ..lock.clone() };
    assert!(db.save_lockout(&next, 1).await.unwrap());
    assert!(!db.save_lockout(&next, 1).await.unwrap());
    assert_eq!(db.current_lockouts(Some(acme.id), now).await.unwrap().len(), 1);
    assert_eq!(db.current_lockouts(Some(other.id), now).await.unwrap().len(), 0);
    let stale = LockoutRow {
        key: "k2".into(),
        lock_ends_at: None,
        updated_at: now - chrono::Duration::days(10),
        ..lock.clone()
    };
    db.save_lockout(&stale, 0).await.unwrap();
    assert_eq!(db.delete_stale_lockouts(now - chrono::Duration::days(6), 100).await.unwrap(), 1);

    // Audit: filters and newest-first pagination.
    for event in ["login", "logout", "login"] {
        let e = AuditEvent {
            id: Uuid::now_v7(),
            at: Utc::now(),
            tenant_id: Some(acme.id),
            user_id: Some(ann.id),
            event: event.into(),
            outcome: "success".into(),
            ip: Some("10.0.0.1".into()),
            user_agent: None,
            request_id: None,
            detail: serde_json::json!({"n": 1}),
        };
        db.insert_audit(std::slice::from_ref(&e)).await.unwrap();
    }
    let logins = db
        .list_audit(
            Some(acme.id),
            &AuditFilter { event: Some("login".into()), ..Default::default() },
            Page { limit: 10, before: None },
        )
        .await
        .unwrap();
    assert_eq!(logins.len(), 2);
    assert!(logins[0].id > logins[1].id, "newest first");
    assert_eq!(logins[0].detail["n"], 1);
    assert!(db
        .list_audit(Some(other.id), &AuditFilter::default(), Page { limit: 10, before: None })
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        db.list_audit(
            None,
            &AuditFilter { user_id: Some(ann.id), ..Default::default() },
            Page { limit: 10, before: None }
        )
        .await
        .unwrap()
        .len(),
        3
    );
    // Retention removes what is older than the cut, in batches.
    assert_eq!(db.delete_audit_before(Utc::now() - chrono::Duration::minutes(1), 10).await.unwrap(), 0);
    let later = Utc::now() + chrono::Duration::minutes(1);
    assert_eq!(db.delete_audit_before(later, 2).await.unwrap(), 2);
    assert_eq!(db.delete_audit_before(later, 2).await.unwrap(), 1);

    // Orders: exact decimals, tenant-scoped, cancelled once.
    let order = Order {
        id: Uuid::now_v7(),
        tenant_id: acme.id,
        symbol: "AAPL".into(),
        side: OrderSide::Buy,
        quantity: "0.1".parse::<Decimal>().unwrap(),
        limit_price: "187.25".parse::<Decimal>().unwrap(),
        status: OrderStatus::Open,
        user_id: ann.id,
        created_at: Utc::now(),
    };
    db.insert_order(&order).await.unwrap();
    let read = db.order(acme.id, order.id).await.unwrap().unwrap();
    assert_eq!((read.quantity.to_string().as_str(), read.limit_price.to_string().as_str()), ("0.1", "187.25"));
    assert!(db.order(other.id, order.id).await.unwrap().is_none());
    assert_eq!(
        db.list_orders(acme.id, Some(OrderStatus::Open), Page { limit: 10, before: None }).await.unwrap().len(),
        1
    );
    assert!(db.cancel_order(acme.id, order.id).await.unwrap());
    assert!(!db.cancel_order(acme.id, order.id).await.unwrap(), "only an open order cancels");
    assert_eq!(
        db.list_orders(acme.id, Some(OrderStatus::Open), Page { limit: 10, before: None }).await.unwrap().len(),
        0
    );
}

async fn cache_contract(cache: Arc<dyn Cache>) {
    cache.ping().await.expect("ping");
    let key = format!("k-{}", Uuid::new_v4().simple());
    assert_eq!(cache.get_versioned(&key).await.unwrap(), None);
    assert!(cache.put_versioned(&key, 2, "two", Duration::from_secs(10)).await.unwrap());
    assert!(
        !cache.put_versioned(&key, 1, "one", Duration::from_secs(10)).await.unwrap(),
        "an older version is refused"
    );
    assert!(cache.put_versioned(&key, 3, "three:with:colons", Duration::from_secs(10)).await.unwrap());
    assert_eq!(cache.get_versioned(&key).await.unwrap(), Some((3, "three:with:colons".into())));
    cache.delete(&key).await.unwrap();
    assert_eq!(cache.get_versioned(&key).await.unwrap(), None);

    cache.put_versioned(&key, 1, "short", Duration::from_millis(150)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.get_versioned(&key).await.unwrap(), None, "TTL expires");

    // Rate-limit buckets (`store::cache::take`; Redis runs it in Lua): both must agree.
    let minute = Duration::from_secs(60);
    let rl = format!("rl-{}", Uuid::new_v4().simple());
    for i in 0..5 {
        let grant = cache.rate_limit(&rl, 5, minute, 0, 1).await.unwrap();
        assert!(grant.decision.allowed && grant.granted == 1, "request {i} within the limit");
        assert_eq!(grant.decision.remaining, 4 - i);
    }
    let refused = cache.rate_limit(&rl, 5, minute, 0, 1).await.unwrap();
    assert_eq!((refused.granted, refused.decision.allowed, refused.decision.remaining), (0, false, 0));
    assert!(
        refused.decision.retry_after > Duration::from_secs(10)
            && refused.decision.retry_after <= Duration::from_secs(12)
    );
    assert!(refused.decision.reset_after > Duration::from_secs(58) && refused.decision.reset_after <= minute);
    // Two given back are two to take again, and no more.
    assert_eq!(cache.rate_limit(&rl, 5, minute, 2, 0).await.unwrap().granted, 0, "a pure refund takes nothing");
    assert_eq!(cache.rate_limit(&rl, 5, minute, 0, 1).await.unwrap().granted, 1);
    assert_eq!(cache.rate_limit(&rl, 5, minute, 0, 1).await.unwrap().granted, 1);
    assert_eq!(cache.rate_limit(&rl, 5, minute, 0, 1).await.unwrap().granted, 0);
    // A lease takes at most half of what is free, at least one while any is.
    let lease = format!("rl-lease-{}", Uuid::new_v4().simple());
    let granted = |want| {
        let cache = cache.clone();
        let lease = lease.clone();
        async move { cache.rate_limit(&lease, 10, minute, 0, want).await.unwrap().granted }
    };
    assert_eq!(granted(8).await, 5);
    assert_eq!(granted(8).await, 2);
    assert_eq!(granted(1).await, 1);
    assert_eq!(granted(8).await, 1);
    assert_eq!(granted(8).await, 1);
    assert_eq!(granted(8).await, 0);
    // At the largest rate the configuration allows, counts stay exact (10^7 an hour: the
    // bucket holds 3.6 * 10^13 units, which Lua's doubles must not round).
    let huge = format!("rl-huge-{}", Uuid::new_v4().simple());
    let hour = Duration::from_secs(3_600);
    let mut sum = 0u64;
    let started = std::time::Instant::now();
    loop {
        let grant = cache.rate_limit(&huge, 10_000_000, hour, 0, 10_000_000).await.unwrap();
        if grant.granted == 0 {
            break;
        }
        sum += u64::from(grant.granted);
    }
    // What drained while the loop ran (2,778 a second) is granted too; the loop's own time
    // bounds it, so a slow machine does not fail the count while a rounding error still would.
    let drained = (started.elapsed().as_secs_f64() * 10_000_000.0 / 3_600.0).ceil() as u64 + 1;
    assert!(
        (10_000_000..=10_000_000 + drained).contains(&sum),
        "{sum}: the limit, plus at most the {drained} that drained meanwhile"
    );

    let mut events = cache.subscribe();
    tokio::time::sleep(Duration::from_millis(100)).await;
    cache.publish("hello nodes").await.unwrap();
    // A subscriber that (re)connects announces a resync first: events may have been lost.
    let received = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let message = events.recv().await.unwrap();
            if !message.contains(tradesage::store::cache::RESYNC) {
                return message;
            }
        }
    })
    .await
    .expect("event arrives");
    assert_eq!(received, "hello nodes");
}

/// Many session writes at once, as a refresh storm makes them: both backends group them (one
/// commit or one statement for all queued), and each caller must still get its own row's
/// compare-and-set — true where its version matched, false where it was stale or the row is
/// missing — and two writes of one row from the same version must not both win.
async fn concurrent_session_writes_contract(db: Arc<dyn Database>) {
    const SESSIONS: usize = 300;
    let now = Utc::now();
    let rows: Vec<SessionRow> = (0..SESSIONS)
        .map(|i| SessionRow {
            id: Uuid::new_v4(),
            user_ref: format!("ref-{i}"),
            state: "sealed-1".into(),
            version: 1,
            expires_at: now + chrono::Duration::days(1),
            is_active: true,
            created_at: now,
        })
        .collect();
    for row in &rows {
        db.insert_session(row).await.unwrap();
    }
    // Even rows from their stored version (they write), odd rows from a stale one (they do
    // not); the first ten rows twice from the stored version (one of the two wins); one row
    // that does not exist.
    // Each pair is queued together, so that both land in one batch.
    let mut writes = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let expected = if i % 2 == 0 { 1 } else { 7 };
        writes.push((i, SessionRow { state: format!("first-{i}"), version: 2, ..row.clone() }, expected));
        if i < 10 {
            writes.push((i, SessionRow { state: format!("second-{i}"), version: 2, ..row.clone() }, 1));
        }
    }
    let missing = SessionRow { id: Uuid::new_v4(), version: 2, ..rows[0].clone() };
    writes.push((usize::MAX, missing, 1));
    let answers = join_all(writes.iter().map(|(_, row, expected)| db.update_session(row, *expected))).await;
    let answers: Vec<bool> = answers.into_iter().map(|answer| answer.expect("a session write")).collect();

    for (i, row) in rows.iter().enumerate() {
        let won: Vec<&SessionRow> = writes
            .iter()
            .zip(&answers)
            .filter(|((j, _, _), &won)| *j == i && won)
            .map(|((_, row, _), _)| row)
            .collect();
        let stored = db.session(row.id).await.unwrap().expect("the row is there");
        if i % 2 == 0 {
            assert_eq!(won.len(), 1, "row {i}: exactly one write from version 1 wins, got {}", won.len());
            assert_eq!((stored.version, &stored.state), (2, &won[0].state), "row {i} holds the winner");
        } else if i < 10 {
            assert_eq!(won.len(), 1, "row {i}: the stale write loses, the current one wins");
            assert_eq!((stored.version, stored.state.as_str()), (2, format!("second-{i}").as_str()));
        } else {
            assert!(won.is_empty(), "row {i}: a stale version does not write");
            assert_eq!((stored.version, stored.state.as_str()), (1, "sealed-1"));
        }
    }
    assert!(!answers.last().unwrap(), "a missing row is not written");
}

#[tokio::test]
async fn concurrent_session_writes_each_get_their_own_answer_on_sqlite() {
    concurrent_session_writes_contract(sqlite().await).await;
}

#[tokio::test]
async fn concurrent_session_writes_each_get_their_own_answer_on_postgres() {
    concurrent_session_writes_contract(postgres().await).await;
}

#[tokio::test]
async fn the_database_contract_holds_on_sqlite() {
    database_contract(sqlite().await).await;
}

#[tokio::test]
async fn the_database_contract_holds_on_postgres() {
    database_contract(postgres().await).await;
}

#[tokio::test]
async fn the_cache_contract_holds_in_process() {
    cache_contract(Arc::new(MemoryCache::new())).await;
}

#[tokio::test]
async fn the_cache_contract_holds_on_redis() {
    cache_contract(redis().await).await;
}

#[tokio::test]
async fn the_rate_limit_holds_in_sum_across_two_redis_clients() {
    let prefix = format!("contract:{}:", Uuid::new_v4().simple());
    let a = RedisCache::connect(REDIS_URL, &prefix).await.unwrap();
    let b = RedisCache::connect(REDIS_URL, &prefix).await.unwrap();
    let mut allowed = 0;
    for i in 0..20 {
        let node: &dyn Cache = if i % 2 == 0 { &a } else { &b };
        if node.rate_limit("shared", 10, Duration::from_secs(60), 0, 1).await.unwrap().decision.allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}
