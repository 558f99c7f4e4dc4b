//! Sessions stay what the database says they are: an ended session never comes back from a
//! stale or foreign cache entry, a refresh that fails can be retried, ending an unknown
//! session leaves no actor behind, the per-user cap holds under concurrent logins, and the
//! last-seen time survives passivation. Each test failed before its fix (issue 13).

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};
use tradesage::actors::session::user_ref;
use tradesage::domain::SessionState;
use tradesage::store::Cache;
use uuid::Uuid;

use crate::both;
use crate::helpers::{code_of, eventually, raw_sql, TestApp, PASSWORD};

fn session_id(login: &Value) -> Uuid {
    login["session_id"].as_str().unwrap().parse().unwrap()
}

fn access(login: &Value) -> &str {
    login["access_token"].as_str().unwrap()
}

/// The session as stored in the database (not as any actor or cache holds it).
async fn stored(app: &TestApp, id: Uuid) -> SessionState {
    let row = app.core.stores.db.session(id).await.unwrap().expect("stored session");
    app.core.actors.ctx.open(&row.state).expect("stored state opens")
}

/// Waits until no actor of session `id` runs on this node.
async fn passivated(app: &TestApp, id: Uuid) {
    let sessions = &app.core.actors.sessions;
    assert!(eventually(Duration::from_secs(10), || sessions.live(&id).is_none()).await, "the actor of {id} stopped");
}

both!(an_ended_session_does_not_come_back_from_a_stale_cache_entry, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let id = session_id(&login);
    let key = format!("session:{id}");
    let cache = app.core.stores.cache.clone();
    let (version, active_copy) = cache.get_versioned(&key).await.unwrap().expect("the live session is cached");
    let logout = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(access(&login)).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    // The cache write of the end was lost (a Redis blip): the cache holds the active copy.
    cache.delete(&key).await.unwrap();
    assert!(cache.put_versioned(&key, version, &active_copy, Duration::from_secs(600)).await.unwrap());
    passivated(&app, id).await;
    let again = app.get_with("/api/v1/users/me", access(&login)).await;
    assert_eq!(again.status(), 401, "the ended session stays ended");
    assert_eq!(code_of(again).await, "session_revoked");
});

both!(a_sealed_state_copied_under_another_sessions_key_is_refused, |app: TestApp| async move {
    let (_, alice) = app.signed_in_user().await;
    let (_, bob) = app.signed_in_user().await;
    let cache = app.core.stores.cache.clone();
    let (_, alice_state) = cache.get_versioned(&format!("session:{}", session_id(&alice))).await.unwrap().unwrap();
    let bob_id = session_id(&bob);
    let logout = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(access(&bob)).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    passivated(&app, bob_id).await;
    // Alice's active state, sealed with the same key, put under Bob's key at Bob's version.
    let bob_version = app.core.stores.db.session(bob_id).await.unwrap().unwrap().version;
    let bob_key = format!("session:{bob_id}");
    cache.delete(&bob_key).await.unwrap();
    assert!(cache.put_versioned(&bob_key, bob_version, &alice_state, Duration::from_secs(600)).await.unwrap());
    let again = app.get_with("/api/v1/users/me", access(&bob)).await;
    assert_eq!(again.status(), 401, "Bob's ended session is not revived by Alice's state");
});

both!(
    a_refresh_that_fails_before_it_completes_can_be_retried_with_the_same_token,
    [("REFRESH_REUSE_GRACE", "0s")],
    |app: TestApp| async move {
        let (_, login) = app.signed_in_user().await;
        let user_id: Uuid = login["user"]["id"].as_str().unwrap().parse().unwrap();
        let refresh = login["refresh_token"].as_str().unwrap();
        // The account cannot be read for a moment (a stored row the server cannot parse).
        let set_roles = "UPDATE users SET roles = $1 WHERE id = $2";
        raw_sql(&app, set_roles, "no-such-role", user_id).await;
        let failed = app.refresh_with(refresh).await;
        assert!(failed.status().is_server_error(), "the refresh failed: {}", failed.status());
        raw_sql(&app, set_roles, "viewer", user_id).await;
        let retried = app.refresh_with(refresh).await;
        assert_eq!(retried.status(), 200, "the retry is served, not taken for reuse");
        let tokens: Value = retried.json().await.unwrap();
        assert_eq!(app.get_with("/api/v1/users/me", access(&tokens)).await.status(), 200);
    }
);

both!(ending_an_unknown_session_leaves_no_actor_behind, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let unknown = Uuid::new_v4();
    let path = format!("/api/v1/auth/sessions/{unknown}");
    let response = app.client.delete(app.url(&path)).bearer_auth(access(&login)).send().await.unwrap();
    assert_eq!(response.status(), 404);
    passivated(&app, unknown).await;
    assert_eq!(app.core.actors.sessions.live_count(), 1, "only the caller's own session has an actor");
});

both!(
    the_session_cap_holds_at_every_moment_of_twenty_concurrent_logins,
    [("MAX_SESSIONS_PER_USER", "3")],
    |app: TestApp| async move {
        let email = format!("capped-{}@example.com", Uuid::new_v4().simple());
        let user_id: Uuid = app.register(&email).await["id"].as_str().unwrap().parse().unwrap();
        let logins = (0..20).map(|_| {
            let client = app.new_client();
            let url = app.url("/api/v1/auth/login");
            let email = email.clone();
            async move {
                let body = json!({"email": email, "password": PASSWORD, "token_delivery": "body"});
                client.post(url).json(&body).send().await.unwrap().status().as_u16()
            }
        });
        // Meanwhile, count the user's active sessions in the database as often as it answers.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (db, done) = (app.core.stores.db.clone(), done.clone());
            tokio::spawn(async move {
                let mut most = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    most = most.max(db.active_sessions_of(&user_ref(user_id)).await.unwrap().len());
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                most
            })
        };
        let statuses = join_all(logins).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let most = sampler.await.unwrap();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        assert!(most <= 3, "{most} sessions were active at once");
        let live = app.core.sessions_of(user_id).await.unwrap();
        assert!(!live.is_empty() && live.len() <= 3, "{} sessions are active", live.len());
    }
);

both!(
    a_sessions_last_seen_time_survives_passivation,
    [("SESSION_IDLE_PASSIVATE", "300ms")],
    |app: TestApp| async move {
        let (_, login) = app.signed_in_user().await;
        let id = session_id(&login);
        let opened = stored(&app, id).await.last_seen_at;
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        assert_eq!(app.get_with("/api/v1/users/me", access(&login)).await.status(), 200);
        passivated(&app, id).await;
        let seen = stored(&app, id).await.last_seen_at;
        assert!(seen - opened >= chrono::Duration::seconds(1), "last seen {seen}, opened {opened}");
    }
);

both!(requests_queued_behind_a_session_ending_are_answered_401_never_503, |app: TestApp| async move {
    // A stopped actor drops what waits in its mailbox; its callers used to exhaust their
    // retries against successors that stopped the same way, and answered 503.
    for _ in 0..3 {
        let (_, login) = app.signed_in_user().await;
        let token = access(&login).to_owned();
        let reads = (0..64).map(|_| async { app.get_with("/api/v1/users/me", &token).await.status().as_u16() });
        let end = async {
            app.client
                .post(app.url("/api/v1/auth/logout"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("logout")
                .status()
                .as_u16()
        };
        let (statuses, ended) = tokio::join!(join_all(reads), end);
        assert_eq!(ended, 204, "logout");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 401), "reads racing the end: {statuses:?}");
        let after =
            join_all((0..64).map(|_| async { app.get_with("/api/v1/users/me", &token).await.status().as_u16() }));
        assert!(after.await.iter().all(|s| *s == 401), "reads after the end");
    }
});
