//! The actor core: serialised rotations, supervision restarts from persisted state,
//! passivation and reactivation, crashes, two nodes over one PostgreSQL + Redis, and state
//! that is encrypted at rest with rotatable keys.

use std::time::Duration;

use futures::future::join_all;
use serde_json::Value;
use tradesage::actors::SessionMsg;
use tradesage::auth::{sha256, StateCipher};
use tradesage::domain::session::RotateOutcome;
use tradesage::domain::SessionState;
use tradesage::store::Cache;
use uuid::Uuid;

use crate::both;
use crate::helpers::{base_vars, code_of, fresh_database, spawn_with_vars, Backend, TestApp};

const SESSIONS: &str = "/api/v1/auth/sessions";

fn session_id(login: &Value) -> Uuid {
    login["session_id"].as_str().unwrap().parse().unwrap()
}

async fn snapshot(app: &TestApp, id: Uuid) -> SessionState {
    app.core.snapshot(id).await.unwrap().expect("session exists")
}

fn counter(app: &TestApp, metric: &str) -> f64 {
    let rendered = app.core.metrics.render();
    rendered
        .lines()
        .find(|l| l.starts_with(metric))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

both!(of_a_hundred_concurrent_rotations_of_one_token_exactly_one_wins, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let id = session_id(&login);
    let presented = sha256(login["refresh_token"].as_str().unwrap().as_bytes());
    let rotations = (0..100u8).map(|i| {
        let core = app.core.clone();
        async move {
            let mut new_hash = [0u8; 32];
            new_hash[0] = i;
            core.actors
                .sessions
                .call(&id, |reply| SessionMsg::Rotate { presented, new_hash, ip: None, reply })
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        }
    });
    let outcomes = join_all(rotations).await;
    assert_eq!(outcomes.iter().filter(|o| **o == RotateOutcome::Rotated).count(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o == RotateOutcome::RotatedRecently).count(), 99);
    assert_eq!(snapshot(&app, id).await.version, 2);
});

both!(a_failed_session_actor_is_restarted_from_the_stores_with_its_state_intact, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let id = session_id(&login);
    let rotated: Value = app.refresh_with(login["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    let before = snapshot(&app, id).await;
    let first_actor = app.core.actors.sessions.live(&id).expect("live actor").get_id();
    assert!(app.core.actors.inject_session_fault(id));
    let mut restarted = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        restarted = app.core.actors.sessions.live(&id).filter(|a| a.get_id() != first_actor);
        if restarted.is_some() {
            break;
        }
    }
    assert!(restarted.is_some(), "the supervisor started a successor");
    assert_eq!(counter(&app, "tradesage_actor_restarts_total{kind=\"session\"}"), 1.0);
    assert_eq!(counter(&app, "tradesage_actor_failures_total{kind=\"session\"}"), 1.0);
    let after = snapshot(&app, id).await;
    assert_eq!((after.version, after.refresh_hash), (before.version, before.refresh_hash));
    assert_eq!(app.get_with(SESSIONS, rotated["access_token"].as_str().unwrap()).await.status(), 200);
    let view: Value = app.get_with("/api/v1/admin/actors", "x").await.json().await.unwrap();
    assert_eq!(view["code"], "token_invalid", "the actor view is guarded");
});

both!(
    an_idle_actor_passivates_and_reactivates_with_the_same_state,
    [("SESSION_IDLE_PASSIVATE", "300ms")],
    |app: TestApp| async move {
        let (_, login) = app.signed_in_user().await;
        let id = session_id(&login);
        let access = login["access_token"].as_str().unwrap();
        assert_eq!(app.get_with(SESSIONS, access).await.status(), 200);
        let before = snapshot(&app, id).await;
        let mut gone = false;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if app.core.actors.sessions.live(&id).is_none() {
                gone = true;
                break;
            }
        }
        assert!(gone, "the idle actor was passivated");
        assert!(counter(&app, "tradesage_actor_passivations_total{kind=\"session\"}") >= 1.0);
        let activations = counter(&app, "tradesage_actor_activations_total{kind=\"session\"}");
        assert_eq!(app.get_with(SESSIONS, access).await.status(), 200);
        assert_eq!(counter(&app, "tradesage_actor_activations_total{kind=\"session\"}"), activations + 1.0);
        let after = snapshot(&app, id).await;
        assert_eq!(
            (after.version, after.refresh_hash, after.expires_at),
            (before.version, before.refresh_hash, before.expires_at)
        );
    }
);

both!(a_crash_loses_no_acknowledged_change, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let first = login["refresh_token"].as_str().unwrap().to_owned();
    let rotated: Value = app.refresh_with(&first).await.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    // Kill the actor system without any graceful stop, then start a new node on the stores.
    app.core.actors.kill();
    let vars = app.vars.clone();
    let backend = app.backend;
    let node = spawn_with_vars(backend, vars).await;
    let again = node.refresh_with(&second).await;
    assert_eq!(again.status(), 200, "the acknowledged rotation survived");
    assert_eq!(code_of(node.refresh_with(&first).await).await, "token_reused", "and the spent token stayed spent");
});

both!(stored_session_and_lockout_values_hold_no_user_id_ip_or_email_in_clear, |app: TestApp| async move {
    let (email, login) = app.signed_in_user().await;
    let id = session_id(&login);
    let user_id = login["user"]["id"].as_str().unwrap().to_owned();
    let _ = app.post("/api/v1/auth/login", serde_json::json!({"email": email, "password": "wrong-password-1"})).await;
    let row = app.core.stores.db.session(id).await.unwrap().unwrap();
    let mut values = vec![row.state.clone(), row.user_ref.clone()];
    if let Ok(Some((_, cached))) = app.core.stores.cache.get_versioned(&format!("session:{id}")).await {
        values.push(cached);
    }
    let tenant_id: Uuid = login["user"]["tenant"]["id"].as_str().unwrap().parse().unwrap();
    let key = tradesage::actors::Subject { tenant_id, email: email.clone() }.key();
    let lockout = app.core.stores.db.lockout(&key).await.unwrap().expect("the failed login left a lockout row");
    values.extend([lockout.state, lockout.key]);
    if let Ok(Some((_, cached))) = app.core.stores.cache.get_versioned(&format!("lockout:{key}")).await {
        values.push(cached);
    }
    for value in &values {
        for secret in [user_id.as_str(), "127.0.0.1", email.as_str()] {
            assert!(!value.contains(secret), "{secret} in clear in a stored value");
        }
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_first_encryption_key_still_reads_old_state_and_writes_with_the_new_key() {
    let old_key = fernet::Fernet::generate_key();
    let new_key = fernet::Fernet::generate_key();
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    vars.insert("SESSION_ENCRYPTION_KEYS".into(), old_key.clone());
    let app = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let (_, login) = app.signed_in_user().await;
    let id = session_id(&login);
    app.stop().await;
    vars.insert("SESSION_ENCRYPTION_KEYS".into(), format!("{new_key},{old_key}"));
    // A new key prefix too: the reload must come from PostgreSQL, not a warm cache.
    vars.insert("REDIS_KEY_PREFIX".into(), format!("test:{}:", Uuid::new_v4().simple()));
    let app = spawn_with_vars(Backend::PostgresRedis, vars).await;
    let response = app.refresh_with(login["refresh_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), 200, "old state still reads");
    let row = app.core.stores.db.session(id).await.unwrap().unwrap();
    let only_new = StateCipher::from_keys(&[new_key]).unwrap();
    assert!(only_new.decrypt(&row.state).is_ok(), "the rotation was written with the new key");
    let only_old = StateCipher::from_keys(&[old_key]).unwrap();
    assert!(only_old.decrypt(&row.state).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_detect_reuse_across_nodes_and_see_an_end_within_a_second() {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    vars.insert("REFRESH_REUSE_GRACE".into(), "200ms".into());
    vars.insert("LOCKOUT_THRESHOLD".into(), "3".into());
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let mut b_vars = vars.clone();
    b_vars.insert("TRADESAGE_DATA_DIR".into(), vars["TRADESAGE_DATA_DIR"].clone());
    let b = spawn_with_vars(Backend::PostgresRedis, b_vars).await;

    // Rotate on A; B holds a live (now stale) copy of the session; reuse the spent token on B.
    let (email, login) = a.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(b.get_with(SESSIONS, access).await.status(), 200, "B activated the session");
    let first = login["refresh_token"].as_str().unwrap();
    let rotated: Value = a.refresh_with(first).await.json().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(code_of(b.refresh_with(first).await).await, "token_reused");
    let newest = rotated["access_token"].as_str().unwrap();
    assert_eq!(code_of(a.get_with(SESSIONS, newest).await).await, "session_revoked", "ended on A too");

    // An end on A is seen by B within a second.
    let login = a.login_body(&email).await;
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(b.get_with(SESSIONS, access).await.status(), 200);
    let logout = a.client.post(a.url("/api/v1/auth/logout")).bearer_auth(access).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    let started = std::time::Instant::now();
    loop {
        if b.get_with(SESSIONS, access).await.status() == 401 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "B still accepts the ended session");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Failures on A and B add up to one lock.
    let wrong = serde_json::json!({"email": email, "password": "wrong-password-1"});
    assert_eq!(a.post("/api/v1/auth/login", wrong.clone()).await.status(), 401);
    assert_eq!(b.post("/api/v1/auth/login", wrong.clone()).await.status(), 401);
    assert_eq!(a.post("/api/v1/auth/login", wrong.clone()).await.status(), 423);
    assert_eq!(b.post("/api/v1/auth/login", wrong).await.status(), 423, "B sees A's lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_profile_change_on_one_node_is_seen_by_the_other_within_a_second() {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    let (_, login) = a.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    let before: Value = b.get_with("/api/v1/users/me", access).await.json().await.unwrap();
    assert_ne!(before["display_name"], "Renamed on A");
    let patch = a
        .client
        .patch(a.url("/api/v1/users/me"))
        .bearer_auth(access)
        .json(&serde_json::json!({"display_name": "Renamed on A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200);
    let started = std::time::Instant::now();
    loop {
        let me: Value = b.get_with("/api/v1/users/me", access).await.json().await.unwrap();
        if me["display_name"] == "Renamed on A" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "B still shows the old name");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
