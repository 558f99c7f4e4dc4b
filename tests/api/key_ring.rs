//! Signing keys in the database (API.md §5.4): nodes without key files share them, `keys
//! rotate` reaches every node within 5 s, automatic rotation publishes before it signs and
//! drops a retired key once its tokens expired, a restarted node follows the schedule it finds,
//! and `keys reseal` moves every sealed record to a new first Fernet key without losing a
//! session.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value};
use tradesage::actors::sealed::{count_stale, reseal};
use tradesage::auth::keys::new_key;
use tradesage::config::Config;
use tradesage::service::signing_keys::{plan_due, rotate_now, row_for, Schedule};
use tradesage::store::signing_keys::SigningKeyRow;

use crate::both;
use crate::helpers::{base_vars, fresh_database, spawn_with_vars, Backend, TestApp, PASSWORD};

/// The `kid`s of a node's JWKS, in its order (the signing key first).
async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

fn kid_of(token: &Value) -> String {
    let header = token.as_str().unwrap().split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn signing_kid(app: &TestApp) -> String {
    app.core.tokens.key_ring().keys().signing_kid.clone()
}

fn config_of(app: &TestApp) -> Config {
    Config::from_lookup(|k| app.vars.get(k).cloned()).unwrap()
}

/// Variables two PostgreSQL + Redis nodes share: one database, one Redis prefix, one set of
/// session encryption keys (and no key files).
async fn cluster_vars() -> HashMap<String, String> {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    vars.insert("SESSION_ENCRYPTION_KEYS".into(), fernet::Fernet::generate_key());
    vars
}

/// Polls `kids_now` until `done` holds of it (up to `limit`); answers how long it took.
async fn until_kids(app: &TestApp, limit: Duration, done: impl Fn(&[String]) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let kids = jwks_kids(app).await;
        if done(&kids) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {kids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_without_key_files_make_one_key_and_verify_each_others_tokens() {
    let vars = cluster_vars().await;
    // Both start at once on an empty database: the key lock lets one create the key.
    let (a, b) = tokio::join!(
        spawn_with_vars(Backend::PostgresRedis, vars.clone()),
        spawn_with_vars(Backend::PostgresRedis, vars.clone())
    );
    let kids = jwks_kids(&a).await;
    assert_eq!(kids.len(), 1, "{kids:?}");
    assert_eq!(jwks_kids(&b).await, kids);
    assert_eq!(a.core.stores.db.signing_keys().await.unwrap().len(), 1);
    let (_, login) = a.signed_in_user().await;
    assert_eq!(kid_of(&login["access_token"]), kids[0]);
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(b.get_with("/api/v1/users/me", access).await.status(), 200, "node b verifies node a's token");
    let refreshed = b.refresh_with(login["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200, "and takes its refresh token");
    let refreshed: Value = refreshed.json().await.unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(a.get_with("/api/v1/users/me", access).await.status(), 200, "node a verifies node b's token");
    assert!(!a.data_dir().join("jwt-private.pem").exists(), "no key files were written");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_on_one_node_shows_in_both_nodes_jwks_within_5_s_and_earlier_tokens_still_verify() {
    let vars = cluster_vars().await;
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    let old = jwks_kids(&a).await.remove(0);
    let (_, before) = a.signed_in_user().await;
    let started = Instant::now();
    // What `tradesage keys rotate` calls.
    let cipher = &a.core.actors.ctx.cipher;
    let new =
        rotate_now(a.core.stores.db.as_ref(), a.core.stores.cache.as_ref(), cipher, &config_of(&a)).await.unwrap();
    assert_ne!(new, old);
    for node in [&a, &b] {
        until_kids(node, Duration::from_secs(5), |kids| kids.first() == Some(&new)).await;
        assert_eq!(jwks_kids(node).await, [new.clone(), old.clone()], "the old key stays for its tokens");
        assert_eq!(signing_kid(node), new);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let access = before["access_token"].as_str().unwrap();
    for node in [&a, &b] {
        assert_eq!(node.get_with("/api/v1/users/me", access).await.status(), 200, "a token of the old key");
    }
    let refreshed = b.refresh_with(before["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200, "a refresh token of the old key");
    assert_eq!(kid_of(&refreshed.json::<Value>().await.unwrap()["access_token"]), new);
    a.stop().await;
    b.stop().await;
}

both!(the_keys_rotate_command_reaches_a_running_server_within_5_s, |app: TestApp| async move {
    let old = jwks_kids(&app).await.remove(0);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tradesage"));
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).args(["keys", "rotate"]);
    command.envs(&app.vars);
    let started = Instant::now();
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    let new = printed.split_whitespace().nth(3).unwrap().to_owned();
    assert!(printed.starts_with("new signing key ") && new != old, "{printed}");
    until_kids(&app, Duration::from_secs(6), |kids| kids.first() == Some(&new)).await;
    // The command's own start-up (migrations, a new pool) counts in the 5 s too; allow it 1 s.
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    let (_, login) = app.signed_in_user().await;
    assert_eq!(kid_of(&login["access_token"]), new);
});

both!(
    a_new_key_is_published_before_it_signs_and_a_retired_key_leaves_once_its_tokens_expired,
    [
        ("SIGNING_KEY_ROTATION", "6s"),
        ("SIGNING_KEY_PREPUBLISH", "3s"),
        ("ACCESS_TOKEN_TTL", "1s"),
        ("REFRESH_TOKEN_TTL", "2s")
    ],
    |app: TestApp| async move {
        let first = signing_kid(&app);
        until_kids(&app, Duration::from_secs(15), |kids| kids.len() == 2).await;
        let published = Instant::now();
        let kids = jwks_kids(&app).await;
        let second = kids.iter().find(|k| **k != first).unwrap().clone();
        assert_eq!(kids[0], first, "published, and not signing yet");
        assert_eq!(signing_kid(&app), first);
        let (_, login) = app.signed_in_user().await;
        assert_eq!(kid_of(&login["access_token"]), first);
        until_kids(&app, Duration::from_secs(10), |kids| kids.first() == Some(&second)).await;
        let activated = Instant::now();
        assert!(activated - published >= Duration::from_millis(2_500), "signed after {:?}", activated - published);
        let (_, login) = app.signed_in_user().await;
        assert_eq!(kid_of(&login["access_token"]), second);
        let rows = app.core.stores.db.signing_keys().await.unwrap();
        let (old, new) =
            (rows.iter().find(|r| r.kid == first).unwrap(), rows.iter().find(|r| r.kid == second).unwrap());
        assert!(new.activates_at - new.publish_at >= chrono::Duration::seconds(3));
        assert_eq!(old.retires_at, Some(new.activates_at));
        // The longest a token lives (2 s) and one key check (4 s) after its retirement.
        assert_eq!(old.expires_at.unwrap() - new.activates_at, chrono::Duration::seconds(6));
        until_kids(&app, Duration::from_secs(12), |kids| !kids.contains(&first)).await;
        assert!(activated.elapsed() >= Duration::from_millis(5_500), "left after {:?}", activated.elapsed());
    }
);

both!(a_node_restarted_mid_rotation_follows_the_schedule_it_finds, |app: TestApp| async move {
    let (_, before) = app.signed_in_user().await;
    let first = signing_kid(&app);
    // A rotation begun by a node that then stopped: a successor published, to sign in 5 s.
    let now = Utc::now();
    let schedule = Schedule {
        rotation: Some(Duration::from_secs(1)),
        prepublish: Duration::from_secs(5),
        grace: Duration::from_secs(600),
    };
    let fresh = row_for(&new_key().unwrap(), &app.core.actors.ctx.cipher, now);
    let plan = |rows: &[SigningKeyRow]| plan_due(rows, now, &schedule, &fresh, &fresh);
    let changes = app.core.stores.db.change_signing_keys(&plan).await.unwrap();
    assert_eq!((changes.insert.len(), changes.update.len()), (1, 1));
    let (vars, backend) = (app.vars.clone(), app.backend);
    app.stop().await;
    let app = spawn_with_vars(backend, vars).await;
    let kids = jwks_kids(&app).await;
    assert_eq!(kids, [first.clone(), fresh.kid.clone()], "the successor is published, the old key signs");
    until_kids(&app, Duration::from_secs(8), |kids| kids.first() == Some(&fresh.kid)).await;
    assert_eq!(signing_kid(&app), fresh.kid);
    let access = before["access_token"].as_str().unwrap();
    assert_eq!(app.get_with("/api/v1/users/me", access).await.status(), 200);
    let refreshed = app.refresh_with(before["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(kid_of(&refreshed.json::<Value>().await.unwrap()["access_token"]), fresh.kid);
});

/// The value of one series of a node's `/metrics`.
async fn sample(app: &TestApp, series: &str) -> Option<f64> {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find(|l| l.strip_prefix(series).is_some_and(|rest| rest.starts_with(' ')))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn until_sample(app: &TestApp, series: &str, done: impl Fn(f64) -> bool) -> f64 {
    let started = Instant::now();
    loop {
        let value = sample(app, series).await;
        if let Some(value) = value.filter(|v| done(*v)) {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{series} is {value:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both!(
    a_reseal_under_a_new_first_key_then_dropping_the_old_key_loses_no_session,
    [("JANITOR_INTERVAL", "1s")],
    |app: TestApp| async move {
        let old_key = std::fs::read_to_string(app.data_dir().join("session-keys")).unwrap().trim().to_owned();
        let (email, login) = app.signed_in_user().await;
        let access = login["access_token"].as_str().unwrap().to_owned();
        let wrong = json!({"email": email, "password": "wrong-password-1"});
        assert_eq!(app.post("/api/v1/auth/login", wrong).await.status(), 401, "a lockout counter");
        let enrol = app.client.post(app.url("/api/v1/users/me/mfa/totp")).bearer_auth(&access);
        assert_eq!(enrol.json(&json!({"password": PASSWORD})).send().await.unwrap().status(), 200, "two-factor state");
        let (mut vars, backend) = (app.vars.clone(), app.backend);
        app.stop().await;

        let new_key = fernet::Fernet::generate_key();
        vars.insert("SESSION_ENCRYPTION_KEYS".into(), format!("{new_key},{old_key}"));
        let app = spawn_with_vars(backend, vars.clone()).await;
        let (db, cipher) = (app.core.stores.db.as_ref(), &app.core.actors.ctx.cipher);
        let stale: HashMap<_, _> = count_stale(db, cipher).await.unwrap().into_iter().collect();
        for family in ["sessions", "lockouts", "mfa_secrets", "signing_keys"] {
            assert!(stale[family] >= 1, "{family}: {stale:?}");
        }
        let gauge = "tradesage_sealed_records_stale{family=\"sessions\"}";
        until_sample(&app, gauge, |v| v >= 1.0).await;
        let sessions = &tradesage::actors::sealed::FAMILIES[0];
        let before = db.sealed_batch(sessions, None, 10).await.unwrap();
        // Batches of 2, so that paging is exercised, while the server runs.
        let counts = reseal(db, app.core.stores.cache.as_ref(), cipher, 2).await.unwrap();
        // Every write was a compare-and-set: a writer holding an older version loses.
        assert!(!db.replace_sealed(sessions, &before[0], "stale").await.unwrap());
        for count in &counts {
            assert_eq!((count.unreadable, count.contended), (0, 0), "{count:?}");
            if stale[count.family] > 0 {
                assert_eq!(count.resealed, stale[count.family], "{count:?}");
            }
        }
        assert!(count_stale(db, cipher).await.unwrap().iter().all(|(_, n)| *n == 0));
        until_sample(&app, gauge, |v| v == 0.0).await;
        let again = reseal(db, app.core.stores.cache.as_ref(), cipher, 2).await.unwrap();
        assert!(again.iter().all(|c| c.resealed == 0), "nothing left to reseal: {again:?}");
        assert_eq!(app.get_with("/api/v1/users/me", &access).await.status(), 200, "the live session");
        app.stop().await;

        // The old key goes.
        vars.insert("SESSION_ENCRYPTION_KEYS".into(), new_key);
        let app = spawn_with_vars(backend, vars).await;
        assert_eq!(app.get_with("/api/v1/users/me", &access).await.status(), 200, "the session validates");
        let refreshed = app.refresh_with(login["refresh_token"].as_str().unwrap()).await;
        assert_eq!(refreshed.status(), 200, "and refreshes");
        app.stop().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_missed_the_event_learns_a_new_key_from_its_first_token() {
    let vars = cluster_vars().await;
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    // A rotation whose event is lost: announced on a cache no node listens to…
    let silent = tradesage::store::memory::MemoryCache::new();
    let config = config_of(&a);
    let new = rotate_now(a.core.stores.db.as_ref(), &silent, &a.core.actors.ctx.cipher, &config).await.unwrap();
    // …that node a has read (as at its next check), node b not yet.
    tradesage::service::signing_keys::check(&a.core, &[]).await.unwrap();
    let (_, login) = a.signed_in_user().await;
    assert_eq!(kid_of(&login["access_token"]), new);
    let access = login["access_token"].as_str().unwrap();
    let started = Instant::now();
    while b.get_with("/api/v1/users/me", access).await.status() != 200 {
        // Node b's own check comes within 4 s; the unknown kid makes it look at once.
        assert!(started.elapsed() < Duration::from_millis(1_500), "node b still refuses the new key's token");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// `/health/detailed` polled (up to 10 s) until its `keys` check is `status` with a detail
/// that contains `detail`.
async fn keys_check_until(app: &TestApp, status: &str, detail: &str) -> Value {
    let started = Instant::now();
    loop {
        let body: Value = app.client.get(app.url("/health/detailed")).send().await.unwrap().json().await.unwrap();
        let check = &body["checks"]["keys"];
        if check["status"] == status && check["detail"].as_str().is_some_and(|d| d.contains(detail)) {
            return body["checks"]["keys"].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both!(
    the_keys_check_degrades_when_the_signing_key_retires_soon_and_its_successor_does_not_unseal,
    |app: TestApp| async move {
        keys_check_until(&app, "ok", "1 verifying keys").await;
        // A successor to sign in 30 min, when the signing key retires.
        let now = Utc::now();
        let schedule = Schedule {
            rotation: Some(Duration::from_secs(1)),
            prepublish: Duration::from_secs(1_800),
            grace: Duration::from_secs(600),
        };
        let fresh = row_for(&new_key().unwrap(), &app.core.actors.ctx.cipher, now);
        let plan = |rows: &[SigningKeyRow]| plan_due(rows, now, &schedule, &fresh, &fresh);
        app.core.stores.db.change_signing_keys(&plan).await.unwrap();
        // The node reads it at its next check: a successor ready, all well.
        keys_check_until(&app, "ok", "2 verifying keys").await;
        // The successor's private half is damaged behind the server's back.
        let damage = "UPDATE signing_keys SET private_sealed = $1, version = version + 1 \
                  WHERE kid = (SELECT kid FROM signing_keys ORDER BY activates_at DESC LIMIT 1) AND $2 IS NOT NULL";
        crate::helpers::raw_sql(&app, damage, "not-a-fernet-token", uuid::Uuid::nil()).await;
        let check = keys_check_until(&app, "degraded", "no successor").await;
        let detail = check["detail"].as_str().unwrap();
        assert!(detail.contains("no successor is ready") && detail.contains("does not unseal"), "{detail}");
    }
);
