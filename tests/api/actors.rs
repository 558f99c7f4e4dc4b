//! The actor core: serialised rotations, supervision restarts from persisted state, a failed
//! shard supervisor replaced by the root, passivation and reactivation, crashes, two nodes
//! over one PostgreSQL + Redis, state that is encrypted at rest with rotatable keys, and the
//! janitor's sweeps and its replacement by the root.

use std::time::Duration;

use futures::future::join_all;
use serde_json::Value;
use tradesage::actors::directory::MAX_RESTARTS;
use tradesage::actors::SessionMsg;
use tradesage::auth::{sha256, StateCipher};
use tradesage::domain::session::RotateOutcome;
use tradesage::domain::SessionState;
use tradesage::store::{Cache, SessionRow};
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
                .0
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
    // The panicked actor's count went with its state; the successor counts the session once.
    assert_eq!(counter(&app, "tradesage_active_sessions"), 1.0, "no drift in the active-sessions gauge");
    assert_eq!((after.version, after.refresh_hash), (before.version, before.refresh_hash));
    assert_eq!(app.get_with(SESSIONS, rotated["access_token"].as_str().unwrap()).await.status(), 200);
    let view: Value = app.get_with("/api/v1/admin/actors", "x").await.json().await.unwrap();
    assert_eq!(view["code"], "token_invalid", "the actor view is guarded");
});

/// A counter of one supervisor, whatever the order of its labels.
fn supervisor_counter(app: &TestApp, metric: &str, supervisor: &str) -> f64 {
    let label = format!("supervisor=\"{supervisor}\"");
    let rendered = app.core.metrics.render();
    rendered
        .lines()
        .find(|l| l.starts_with(metric) && l.contains(&label))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Waits (up to 3 s) until `done` holds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..600 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    done()
}

/// Session actors that are really running, among `ids`.
fn running(app: &TestApp, ids: &[Uuid]) -> usize {
    let sessions = &app.core.actors.sessions;
    ids.iter().filter(|id| sessions.live(id).is_some_and(|a| ractor::ACTIVE_STATES.contains(&a.get_status()))).count()
}

both!(a_shard_that_fails_too_often_is_replaced_by_the_root_and_its_sessions_live_on, |app: TestApp| async move {
    let sessions = &app.core.actors.sessions;
    let (_, login) = app.signed_in_user().await;
    let id = session_id(&login);
    let rotated: Value = app.refresh_with(login["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    let shard = sessions.shard_index(&id);
    let name = format!("session-shard-{shard}");
    // A sibling on the same shard (killed with it) and a bystander on another (untouched).
    let (mut ids, mut sibling, mut bystander) = (vec![id], None, None);
    for _ in 0..200 {
        if sibling.is_some() && bystander.is_some() {
            break;
        }
        let (_, other) = app.signed_in_user().await;
        let other_id = session_id(&other);
        ids.push(other_id);
        let slot = if sessions.shard_index(&other_id) == shard { &mut sibling } else { &mut bystander };
        slot.get_or_insert((other_id, other["access_token"].as_str().unwrap().to_owned()));
    }
    let (sibling, sibling_access) = sibling.expect("a session on the same shard");
    let (bystander, bystander_access) = bystander.expect("a session on another shard");
    let before = snapshot(&app, id).await;
    let bystander_before = snapshot(&app, bystander).await;
    let bystander_actor = sessions.live(&bystander).expect("live bystander").get_id();
    let shards_before: Vec<_> = sessions.shard_refs().iter().map(|s| s.get_id()).collect();
    let live_gauge = "tradesage_actor_live{kind=\"session\"}";
    assert_eq!(counter(&app, live_gauge), running(&app, &ids) as f64);

    // MAX_RESTARTS failures are restarted by the shard; the next one escalates to the root.
    for round in 0..=MAX_RESTARTS {
        let _ = snapshot(&app, id).await;
        let failing = sessions.live(&id).expect("live actor").get_id();
        assert!(app.core.actors.inject_session_fault(id));
        let gone = eventually(|| sessions.live(&id).is_none_or(|a| a.get_id() != failing)).await;
        assert!(gone, "round {round}: the failed actor left the directory");
        if round + 1 == MAX_RESTARTS {
            assert!(eventually(|| sessions.live(&id).is_some()).await, "the shard restarted it");
            assert_eq!(supervisor_counter(&app, "tradesage_supervisor_restarts_total", &name), MAX_RESTARTS as f64);
            assert_eq!(supervisor_counter(&app, "tradesage_root_escalations_total", &name), 0.0);
        }
    }

    // The root replaced that shard's supervisor, and only that one.
    let replaced = eventually(|| supervisor_counter(&app, "tradesage_root_restarts_total", &name) == 1.0).await;
    assert!(replaced, "the root restarted the shard supervisor");
    assert_eq!(supervisor_counter(&app, "tradesage_root_escalations_total", &name), 1.0);
    let shards_after = sessions.shard_refs();
    assert_eq!(shards_after.len(), shards_before.len());
    for (index, (now, was)) in shards_after.iter().zip(&shards_before).enumerate() {
        assert_eq!(now.get_id() != *was, index == shard, "shard {index}");
    }
    let fresh = &shards_after[shard];
    assert!(ractor::ACTIVE_STATES.contains(&fresh.get_status()), "the new supervisor runs");

    // The dead shard's actors were purged (the sibling's was killed with it): the live gauge
    // counts exactly the actors that run.
    assert!(eventually(|| sessions.live(&sibling).is_none()).await, "the sibling's dead actor was forgotten");
    assert_eq!(counter(&app, live_gauge), running(&app, &ids) as f64);
    assert_eq!(sessions.live_count(), running(&app, &ids));

    // Its sessions reactivate under the new supervisor with their state intact.
    let after = snapshot(&app, id).await;
    assert_eq!((after.version, after.refresh_hash), (before.version, before.refresh_hash));
    assert_eq!(app.get_with(SESSIONS, rotated["access_token"].as_str().unwrap()).await.status(), 200);
    assert_eq!(app.get_with(SESSIONS, &sibling_access).await.status(), 200);
    let children: Vec<_> = fresh.get_children().iter().map(|c| c.get_id()).collect();
    for key in [id, sibling] {
        assert!(children.contains(&sessions.live(&key).expect("reactivated").get_id()), "{key} under the new shard");
    }
    assert_eq!(counter(&app, live_gauge), running(&app, &ids) as f64);

    // The bystander's actor never noticed.
    assert_eq!(sessions.live(&bystander).map(|a| a.get_id()), Some(bystander_actor));
    let bystander_after = snapshot(&app, bystander).await;
    assert_eq!(bystander_after.version, bystander_before.version);
    assert_eq!(app.get_with(SESSIONS, &bystander_access).await.status(), 200);

    // And the new supervisor supervises: a further failure is restarted.
    let failing = sessions.live(&id).expect("live actor").get_id();
    assert!(app.core.actors.inject_session_fault(id));
    let restarted = eventually(|| sessions.live(&id).is_some_and(|a| a.get_id() != failing)).await;
    assert!(restarted, "the new shard supervisor restarted the failed actor");
    assert_eq!(snapshot(&app, id).await.refresh_hash, before.refresh_hash);
    assert_eq!(supervisor_counter(&app, "tradesage_root_escalations_total", &name), 1.0);
});

/// A session row that expired a minute ago, as an ended session leaves it behind.
fn expired_session_row() -> SessionRow {
    let now = chrono::Utc::now();
    SessionRow {
        id: Uuid::new_v4(),
        user_ref: "janitor-test".into(),
        state: "sealed".into(),
        version: 1,
        expires_at: now - chrono::Duration::minutes(1),
        is_active: false,
        created_at: now - chrono::Duration::days(1),
    }
}

/// Waits (up to 5 s) until the janitor has removed the session row `id`.
async fn swept(app: &TestApp, id: Uuid) -> bool {
    for _ in 0..100 {
        if app.core.stores.db.session(id).await.unwrap().is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

both!(
    the_janitor_sweeps_expired_sessions_and_the_root_replaces_it_when_it_fails,
    [("JANITOR_INTERVAL", "100ms")],
    |app: TestApp| async move {
        let removed = "tradesage_janitor_removed_total{what=\"sessions\"}";
        let first = expired_session_row();
        app.core.stores.db.insert_session(&first).await.unwrap();
        assert!(swept(&app, first.id).await, "the janitor removed the expired row");
        // The count follows the DELETE's commit, so the test can see the row gone first.
        assert!(eventually(|| counter(&app, removed) >= 1.0).await, "and counted it");
        assert_eq!(supervisor_counter(&app, "tradesage_root_restarts_total", "janitor"), 0.0);

        app.core.actors.inject_janitor_fault();
        let replaced = eventually(|| supervisor_counter(&app, "tradesage_root_restarts_total", "janitor") == 1.0).await;
        assert!(replaced, "the root started a new janitor");
        assert_eq!(supervisor_counter(&app, "tradesage_root_escalations_total", "janitor"), 1.0);

        let before = counter(&app, removed);
        let second = expired_session_row();
        app.core.stores.db.insert_session(&second).await.unwrap();
        assert!(swept(&app, second.id).await, "the new janitor sweeps on its interval");
        assert!(eventually(|| counter(&app, removed) > before).await, "and counts it");
    }
);

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
        assert_eq!((after.refresh_hash, after.expires_at), (before.refresh_hash, before.expires_at));
        // Passivation writes the last-seen time of the validation above (one version more).
        assert!(after.version >= before.version && after.last_seen_at >= before.last_seen_at);
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
    // A holds a live copy of the session; B's end reaches it on the events channel, within a
    // second like any other change (under a loaded test run it is not always there at once).
    let newest = rotated["access_token"].as_str().unwrap();
    let started = std::time::Instant::now();
    loop {
        let code = code_of(a.get_with(SESSIONS, newest).await).await;
        if code == "session_revoked" || started.elapsed() >= Duration::from_secs(1) {
            assert_eq!(code, "session_revoked", "ended on A too, within a second");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

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

/// Activates about 5,000 session actors per shard (above the recycling threshold of 4,096)
/// and waits until every shard supervisor holds them. Bare activations touch no store.
async fn crowd_every_shard(sessions: &tradesage::actors::Directory<tradesage::actors::SessionKind>) {
    let count = sessions.shard_refs().len() * 5_000;
    for _ in 0..count {
        sessions.activate(&Uuid::new_v4()).expect("activation");
    }
    // An instantly spawned actor links to its supervisor once its task first runs.
    let children = || sessions.shard_refs().iter().map(|s| s.get_children().len()).collect::<Vec<_>>();
    for _ in 0..500 {
        if children().iter().sum::<usize>() == count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let crowded = children().into_iter().min().unwrap();
    assert!(crowded >= 4_096, "every shard holds thousands of children ({crowded} at least)");
}

/// ractor's table of a supervisor's children never shrinks; a shard supervisor that held
/// thousands of children is swapped for a fresh one once they have all passivated. Bare
/// activations touch no store, so one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_shard_supervisor_that_held_thousands_of_children_is_replaced() {
    // Passivation is driven by hand here, not by the ticker.
    let app = crate::helpers::spawn_app_with(Backend::Embedded, &[("SESSION_IDLE_PASSIVATE", "1h")]).await;
    let sessions = &app.core.actors.sessions;
    let before = sessions.shard_refs();
    crowd_every_shard(sessions).await;
    sessions.tick(Duration::ZERO).await;
    assert_eq!(
        sessions.shard_refs().iter().map(|s| s.get_id()).collect::<Vec<_>>(),
        before.iter().map(|s| s.get_id()).collect::<Vec<_>>(),
        "a shard with children is not replaced"
    );
    for _ in 0..500 {
        if sessions.live_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sessions.live_count(), 0, "every idle actor passivated");
    sessions.tick(Duration::ZERO).await;
    let after = sessions.shard_refs();
    for (old, new) in before.iter().zip(&after) {
        assert_ne!(old.get_id(), new.get_id(), "the emptied shard got a fresh supervisor");
        assert!(new.get_children().is_empty());
    }
    // Swapped-out supervisors stop at a later round, once still empty 10 s after the swap.
    assert!(before.iter().all(|s| ractor::ACTIVE_STATES.contains(&s.get_status())));
    for _ in 0..60 {
        sessions.tick(Duration::ZERO).await;
        if before.iter().all(|s| s.get_status() == ractor::ActorStatus::Stopped) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(before.iter().all(|s| s.get_status() == ractor::ActorStatus::Stopped), "the old supervisors stopped");
    // The tree still works: a real session on a fresh supervisor, and the root kept running.
    let (_, login) = app.signed_in_user().await;
    assert_eq!(app.get_with(SESSIONS, login["access_token"].as_str().unwrap()).await.status(), 200);
    let id = session_id(&login);
    let shard = &after[sessions.shard_index(&id)];
    assert!(shard.get_children().iter().any(|c| Some(c.get_id()) == sessions.live(&id).map(|a| a.get_id())));
    assert_eq!(counter(&app, "tradesage_root_escalations_total"), 0.0);
}

/// A burst that rises and passivates between two ticks of the ticker: the shards' peak is
/// taken when passivation starts, so the next tick still swaps the emptied supervisors (it
/// used to see only empty shards and keep the grown child tables for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_that_passivated_between_two_ticks_still_gets_its_shard_supervisors_replaced() {
    let app = crate::helpers::spawn_app_with(Backend::Embedded, &[("SESSION_IDLE_PASSIVATE", "1h")]).await;
    let sessions = &app.core.actors.sessions;
    let before = sessions.shard_refs();
    crowd_every_shard(sessions).await;
    sessions.passivate_idle(Duration::ZERO);
    for _ in 0..500 {
        if sessions.live_count() == 0 && sessions.shard_refs().iter().all(|s| s.get_children().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sessions.live_count(), 0, "every idle actor passivated");
    sessions.tick(Duration::ZERO).await;
    for (old, new) in before.iter().zip(&sessions.shard_refs()) {
        assert_ne!(old.get_id(), new.get_id(), "the emptied shard got a fresh supervisor");
    }
}
