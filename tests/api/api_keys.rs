//! API keys (API.md §5.3) at the HTTP level, on both backends: the key shown once, its scopes
//! (a subset of the owner's, intersected with the owner's current ones at each request), the
//! cap of 20, revocation and expiry, allowed networks, the routes a key never reaches, the
//! owner disabled, the admins' list and revocation, the last use, per-key rate limits, the
//! audit trail, the actor kind, and revocation seen by a second node within a second.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;
use uuid::Uuid;

use crate::both;
use crate::helpers::{base_vars, code_of, fresh_database, spawn_with_vars, Backend, TestApp};
use crate::helpers::{expect_invalid, expect_problem, member, send, Member};

const KEYS: &str = "/api/v1/users/me/api-keys";
const ORDERS: &str = "/api/v1/orders";

/// Makes a key for `owner`; answers the 201 body.
async fn create_key(app: &TestApp, owner: &Member, body: Value) -> Value {
    let response = send(app, Method::POST, KEYS, &owner.token, Some(body)).await;
    assert_eq!(response.status(), 201, "create a key");
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

fn key_of(created: &Value) -> String {
    created["key"].as_str().expect("key").to_owned()
}

fn order() -> Value {
    json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "187.25"})
}

async fn place(app: &TestApp, key: &str) -> reqwest::Response {
    send(app, Method::POST, ORDERS, key, Some(order())).await
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get_with(KEYS, token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["next_cursor"].is_null());
    body["items"].as_array().unwrap().clone()
}

both!(a_key_is_shown_once_and_acts_as_its_owner_with_its_scopes, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let created = create_key(&app, &trader, json!({"name": "  trading bot "})).await;
    let key = key_of(&created);
    let id = created["id"].as_str().unwrap();
    assert!(key.starts_with("tsk_") && key.starts_with(created["prefix"].as_str().unwrap()), "{created}");
    assert_eq!(created["name"], "trading bot");
    assert_eq!(created["scopes"], json!(["orders:read", "orders:write"]), "the owner's scopes by default");
    assert_eq!(created["allowed_ips"], json!([]));
    assert!(created["expires_at"].is_null() && created["last_used_at"].is_null() && created["created_at"].is_string());

    let items = list(&app, &trader.token).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id);
    assert!(items[0].get("key").is_none(), "the key is shown once: {}", items[0]);

    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);
    let placed = place(&app, &key).await;
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    assert_eq!(placed["user_id"], trader.id.to_string(), "the key acts as its owner");
    let me: Value = app.get_with("/api/v1/users/me", &key).await.json().await.unwrap();
    assert_eq!(me["id"], trader.id.to_string());

    // A narrower key reads but does not trade; the scheme is matched case-insensitively.
    let read_only = key_of(&create_key(&app, &trader, json!({"name": "reader", "scopes": ["orders:read"]})).await);
    expect_problem(place(&app, &read_only).await, 403, "forbidden").await;
    let lower = app.client.get(app.url(ORDERS)).header("authorization", format!("bearer {read_only}"));
    assert_eq!(lower.send().await.unwrap().status(), 200);
});

both!(scopes_beyond_the_owners_and_bad_fields_are_refused_naming_the_field, |app: TestApp| async move {
    let viewer = member(&app, "default", &[Role::Viewer]).await;
    let post = |body: Value| send(&app, Method::POST, KEYS, &viewer.token, Some(body));
    expect_invalid(post(json!({"name": "x", "scopes": ["orders:write"]})).await, "scopes").await;
    expect_invalid(post(json!({"name": "x", "scopes": ["users:manage"]})).await, "scopes").await;
    expect_invalid(post(json!({"name": "x", "scopes": ["nonsense"]})).await, "scopes").await;
    expect_invalid(post(json!({"name": "x", "scopes": []})).await, "scopes").await;
    expect_invalid(post(json!({"name": "x", "allowed_ips": ["10.0.0.0/33"]})).await, "allowed_ips").await;
    expect_invalid(post(json!({"name": "x", "allowed_ips": ["not-an-address"]})).await, "allowed_ips").await;
    expect_invalid(post(json!({"name": "x", "allowed_ips": ["10.0.0.1\u{0}"]})).await, "allowed_ips").await;
    expect_invalid(post(json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"})).await, "expires_at").await;
    expect_invalid(post(json!({"name": "x", "expires_at": "soon"})).await, "expires_at").await;
    expect_invalid(post(json!({"name": "   "})).await, "name").await;
    expect_invalid(post(json!({"name": "a".repeat(101)})).await, "name").await;
    expect_invalid(post(json!({"scopes": ["orders:read"]})).await, "name").await;
    assert!(list(&app, &viewer.token).await.is_empty(), "nothing was made");
    let fine = create_key(&app, &viewer, json!({"name": "x", "scopes": ["orders:read"]})).await;
    assert_eq!(fine["scopes"], json!(["orders:read"]));
});

both!(a_user_holds_at_most_twenty_active_keys, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(
            create_key(&app, &trader, json!({"name": format!("key {n}")})).await["id"].as_str().unwrap().to_owned(),
        );
    }
    let over = send(&app, Method::POST, KEYS, &trader.token, Some(json!({"name": "one too many"}))).await;
    expect_problem(over, 409, "conflict").await;
    let revoked = send(&app, Method::DELETE, &format!("{KEYS}/{}", ids[0]), &trader.token, None).await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(list(&app, &trader.token).await.len(), 19, "a revoked key leaves the list");
    create_key(&app, &trader, json!({"name": "in its place"})).await;
});

both!(a_revoked_or_expired_key_answers_token_invalid, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let created = create_key(&app, &trader, json!({"name": "bot"})).await;
    let key = key_of(&created);
    let path = format!("{KEYS}/{}", created["id"].as_str().unwrap());
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);

    // Another user cannot revoke it.
    let other = member(&app, "default", &[Role::Trader]).await;
    expect_problem(send(&app, Method::DELETE, &path, &other.token, None).await, 404, "not_found").await;
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);

    assert_eq!(send(&app, Method::DELETE, &path, &trader.token, None).await.status(), 204);
    let refused = app.get_with(ORDERS, &key).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(code_of(refused).await, "token_invalid");
    expect_problem(send(&app, Method::DELETE, &path, &trader.token, None).await, 404, "not_found").await;

    // A wrong secret, a malformed key and an unknown id are refused alike.
    let wrong = format!("{}{}", &key[..key.len() - 1], if key.ends_with('A') { 'B' } else { 'A' });
    let unknown = format!("tsk_{}_{}", Uuid::now_v7().simple(), &key[key.len() - 43..]);
    let live = key_of(&create_key(&app, &trader, json!({"name": "live"})).await);
    let wrong_live = format!("{}{}", &live[..live.len() - 1], if live.ends_with('A') { 'B' } else { 'A' });
    for bad in [wrong, wrong_live, unknown, "tsk_nonsense".to_owned()] {
        let response = app.get_with(ORDERS, &bad).await;
        assert_eq!(code_of(response).await, "token_invalid", "{bad}");
    }

    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let expiring = key_of(&create_key(&app, &trader, json!({"name": "brief", "expires_at": soon})).await);
    assert_eq!(app.get_with(ORDERS, &expiring).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(code_of(app.get_with(ORDERS, &expiring).await).await, "token_invalid");
});

both!(allowed_ips_refuse_other_addresses_with_ip_not_allowed, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let elsewhere = key_of(&create_key(&app, &trader, json!({"name": "far", "allowed_ips": ["203.0.113.0/24"]})).await);
    expect_problem(app.get_with(ORDERS, &elsewhere).await, 403, "ip_not_allowed").await;
    let created = create_key(&app, &trader, json!({"name": "near", "allowed_ips": ["127.0.0.0/8", "::1"]})).await;
    assert_eq!(created["allowed_ips"], json!(["127.0.0.0/8", "::1/128"]));
    assert_eq!(app.get_with(ORDERS, &key_of(&created)).await.status(), 200);
});

both!(a_key_never_reaches_sign_in_password_two_factor_or_key_management, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let created = create_key(&app, &admin, json!({"name": "admin bot"})).await;
    let key = key_of(&created);
    let id = created["id"].as_str().unwrap();
    let user = admin.id;
    let barred: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/api/v1/auth/logout".into(), None),
        (Method::POST, "/api/v1/auth/logout-all".into(), None),
        (Method::POST, "/api/v1/auth/refresh".into(), None),
        (Method::GET, "/api/v1/auth/sessions".into(), None),
        (Method::POST, "/api/v1/auth/login".into(), Some(json!({"email": admin.email, "password": "x"}))),
        (Method::POST, "/api/v1/users/me/password".into(), Some(json!({"current_password": "a", "new_password": "b"}))),
        (Method::POST, "/api/v1/users/me/mfa/totp".into(), Some(json!({"password": "x"}))),
        (Method::DELETE, "/api/v1/users/me/mfa".into(), Some(json!({"password": "x", "code": "123456"}))),
        (Method::GET, KEYS.into(), None),
        (Method::POST, KEYS.into(), Some(json!({"name": "child"}))),
        (Method::DELETE, format!("{KEYS}/{id}"), None),
        (Method::GET, format!("/api/v1/admin/users/{user}/api-keys"), None),
        (Method::DELETE, format!("/api/v1/admin/api-keys/{id}"), None),
        (Method::DELETE, format!("/api/v1/admin/users/{user}/mfa"), None),
    ];
    for (method, path, body) in barred {
        let response = send(&app, method.clone(), &path, &key, body).await;
        expect_problem(response, 403, "forbidden").await;
    }
    // Still alive, and resource routes (admin ones within its scopes too) answer.
    assert_eq!(app.get_with("/api/v1/users/me", &key).await.status(), 200);
    assert_eq!(app.get_with("/api/v1/admin/users", &key).await.status(), 200);
    assert_eq!(list(&app, &admin.token).await.len(), 1);
});

both!(a_disabled_owner_s_keys_answer_token_invalid_until_enabled_again, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let trader = member(&app, "default", &[Role::Trader]).await;
    let key = key_of(&create_key(&app, &trader, json!({"name": "bot"})).await);
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);
    let user = format!("/api/v1/admin/users/{}", trader.id);
    let patch = |active: bool| send(&app, Method::PATCH, &user, &admin.token, Some(json!({"is_active": active})));
    assert_eq!(patch(false).await.status(), 200);
    expect_problem(app.get_with(ORDERS, &key).await, 401, "token_invalid").await;
    assert_eq!(patch(true).await.status(), 200);
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200, "the key itself was not revoked");
});

both!(a_key_s_scopes_shrink_when_its_owner_loses_a_role, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let trader = member(&app, "default", &[Role::Trader]).await;
    let key = key_of(&create_key(&app, &trader, json!({"name": "bot"})).await);
    assert_eq!(place(&app, &key).await.status(), 201);
    let user = format!("/api/v1/admin/users/{}", trader.id);
    let demote = send(&app, Method::PATCH, &user, &admin.token, Some(json!({"roles": ["viewer"]}))).await;
    assert_eq!(demote.status(), 200);
    expect_problem(place(&app, &key).await, 403, "forbidden").await;
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200, "what the owner still holds remains");
    // Gaining the role back gives the key back what it was granted, never more.
    let promote = send(&app, Method::PATCH, &user, &admin.token, Some(json!({"roles": ["admin"]}))).await;
    assert_eq!(promote.status(), 200);
    assert_eq!(place(&app, &key).await.status(), 201);
    expect_problem(app.get_with("/api/v1/admin/users", &key).await, 403, "forbidden").await;
});

both!(admins_list_and_revoke_a_user_s_keys_within_their_tenant, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let trader = member(&app, "default", &[Role::Trader]).await;
    let created = create_key(&app, &trader, json!({"name": "bot", "allowed_ips": ["127.0.0.1"]})).await;
    let key = key_of(&created);
    let id = created["id"].as_str().unwrap();
    let listed = app.get_with(&format!("/api/v1/admin/users/{}/api-keys", trader.id), &admin.token).await;
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["items"][0]["id"], id);
    assert_eq!(listed["items"][0]["allowed_ips"], json!(["127.0.0.1/32"]));
    assert!(listed["items"][0].get("key").is_none());

    // A trader is no admin; an unknown user is 404.
    let path = format!("/api/v1/admin/api-keys/{id}");
    expect_problem(send(&app, Method::DELETE, &path, &trader.token, None).await, 403, "forbidden").await;
    let unknown = format!("/api/v1/admin/users/{}/api-keys", Uuid::now_v7());
    expect_problem(app.get_with(&unknown, &admin.token).await, 404, "not_found").await;

    assert_eq!(send(&app, Method::DELETE, &path, &admin.token, None).await.status(), 204);
    expect_problem(app.get_with(ORDERS, &key).await, 401, "token_invalid").await;
    expect_problem(send(&app, Method::DELETE, &path, &admin.token, None).await, 404, "not_found").await;
    assert!(list(&app, &trader.token).await.is_empty());
});

both!(
    another_tenant_s_admin_neither_sees_nor_revokes_a_key,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let root = crate::helpers::root(&app).await;
        let created = send(
            &app,
            Method::POST,
            "/api/v1/tenants",
            &root.token,
            Some(json!({"slug": "acme", "name": "Acme", "allow_self_signup": false})),
        )
        .await;
        assert_eq!(created.status(), 201);
        let foreign_admin = member(&app, "acme", &[Role::Admin]).await;
        let trader = member(&app, "default", &[Role::Trader]).await;
        let created = create_key(&app, &trader, json!({"name": "bot"})).await;
        let id = created["id"].as_str().unwrap();
        let listing = format!("/api/v1/admin/users/{}/api-keys", trader.id);
        expect_problem(app.get_with(&listing, &foreign_admin.token).await, 404, "not_found").await;
        let path = format!("/api/v1/admin/api-keys/{id}");
        expect_problem(send(&app, Method::DELETE, &path, &foreign_admin.token, None).await, 404, "not_found").await;
        assert_eq!(app.get_with(ORDERS, &key_of(&created)).await.status(), 200);
        // The platform admin acts on the tenant it names.
        let as_root = format!("{path}?tenant=default");
        assert_eq!(send(&app, Method::DELETE, &as_root, &root.token, None).await.status(), 204);
        assert_eq!(app.get_with(ORDERS, &key_of(&created)).await.status(), 401);
    }
);

both!(last_used_at_is_written_at_most_once_a_minute, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let created = create_key(&app, &trader, json!({"name": "bot"})).await;
    let key = key_of(&created);
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);
    let stored = |app: &TestApp| {
        let db = app.core.stores.db.clone();
        async move { db.api_key(id).await.unwrap().unwrap() }
    };
    // The first use is written just after the answer (the request does not wait for it).
    let mut first = stored(&app).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while first.last_used_at.is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        first = stored(&app).await;
    }
    let used = first.last_used_at.expect("the first use is written");
    for _ in 0..3 {
        assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);
    }
    let later = stored(&app).await;
    assert_eq!(later.last_used_at, Some(used), "not written again within the minute");
    assert_eq!(later.version, first.version, "no write per request");
    let items = list(&app, &trader.token).await;
    let listed: chrono::DateTime<chrono::Utc> = items[0]["last_used_at"].as_str().unwrap().parse().unwrap();
    assert!(listed > used, "the list shows the latest use, held by the key's actor");
});

both!(rate_limits_apply_per_key, [("RATE_LIMIT_USER", "3/min")], |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let first = key_of(&create_key(&app, &trader, json!({"name": "one"})).await);
    let second = key_of(&create_key(&app, &trader, json!({"name": "two"})).await);
    for _ in 0..3 {
        assert_eq!(app.get_with(ORDERS, &first).await.status(), 200);
    }
    let limited = app.get_with(ORDERS, &first).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(app.get_with(ORDERS, &second).await.status(), 200, "each key has its own limit");
});

both!(creation_revocation_and_refusals_are_audited, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let trader = member(&app, "default", &[Role::Trader]).await;
    let created = create_key(&app, &trader, json!({"name": "bot", "allowed_ips": ["203.0.113.0/24"]})).await;
    let key = key_of(&created);
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 403);
    let path = format!("{KEYS}/{id}");
    assert_eq!(send(&app, Method::DELETE, &path, &trader.token, None).await.status(), 204);
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 401);
    let events = |event: &'static str| {
        let url = format!("/api/v1/admin/audit?event={event}&user_id={}", trader.id);
        let token = admin.token.clone();
        let app = &app;
        async move {
            let body: Value = app.get_with(&url, &token).await.json().await.unwrap();
            body["items"].as_array().unwrap().clone()
        }
    };
    let made = events("api_key_created").await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["detail"]["key_id"], id);
    assert!(!made[0].to_string().contains(&key[key.len() - 43..]), "no secret in the audit trail");
    let revoked = events("api_key_revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["detail"]["actor_id"], trader.id.to_string());
    let refused = events("api_key_refused").await;
    let reasons: Vec<&str> = refused.iter().map(|e| e["detail"]["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["revoked", "ip_not_allowed"], "newest first");
    assert!(refused.iter().all(|e| e["outcome"] == "failure"));
});

both!(api_keys_are_actors_of_their_own_kind_and_counted_by_outcome, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let key = key_of(&create_key(&app, &trader, json!({"name": "bot"})).await);
    assert_eq!(app.get_with(ORDERS, &key).await.status(), 200);
    assert_eq!(app.get_with(ORDERS, &format!("{key}x")).await.status(), 401);
    let snapshot = app.core.actors.snapshot("test");
    let kind = snapshot.kinds.iter().find(|k| k.kind == "api_key").expect("kind api_key");
    assert!(kind.activations >= 1 && kind.live >= 1, "{kind:?}");
    assert!(snapshot.supervisors.iter().any(|s| s.kind == "api_key"));
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tradesage_api_key_requests_total{outcome=\"valid\"} 1"), "valid");
    assert!(metrics.contains("tradesage_api_key_requests_total{outcome=\"invalid\"} 1"), "invalid");
    assert!(metrics.contains("tradesage_actor_activations_total{kind=\"api_key\"}"));
});

/// Two nodes on one PostgreSQL and Redis.
async fn two_nodes() -> (TestApp, TestApp) {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    (a, b)
}

/// Polls `node` with `key` until it answers 401, for at most a second.
async fn refused_within_a_second(node: &TestApp, key: &str, what: &str) {
    let started = std::time::Instant::now();
    loop {
        let status = node.get_with(ORDERS, key).await.status();
        if status == 401 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{what}: still {status} after a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_node_holds_on_the_other_within_a_second() {
    let (a, b) = two_nodes().await;
    let trader = member(&a, "default", &[Role::Trader]).await;
    let created = create_key(&a, &trader, json!({"name": "bot"})).await;
    let key = key_of(&created);
    assert_eq!(b.get_with(ORDERS, &key).await.status(), 200, "B activated the key");
    assert!(b.core.actors.api_keys.live(&created["id"].as_str().unwrap().parse().unwrap()).is_some());
    let path = format!("{KEYS}/{}", created["id"].as_str().unwrap());
    assert_eq!(send(&a, Method::DELETE, &path, &trader.token, None).await.status(), 204);
    refused_within_a_second(&b, &key, "revoked on A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_owner_disabled_on_one_node_is_refused_on_the_other_within_a_second() {
    let (a, b) = two_nodes().await;
    let admin = member(&a, "default", &[Role::Admin]).await;
    let trader = member(&a, "default", &[Role::Trader]).await;
    let key = key_of(&create_key(&a, &trader, json!({"name": "bot"})).await);
    assert_eq!(b.get_with(ORDERS, &key).await.status(), 200, "B knows the key and its owner");
    let user = format!("/api/v1/admin/users/{}", trader.id);
    let disabled = send(&a, Method::PATCH, &user, &admin.token, Some(json!({"is_active": false}))).await;
    assert_eq!(disabled.status(), 200);
    refused_within_a_second(&b, &key, "owner disabled on A").await;
}

both!(
    a_key_with_actors_read_reads_the_operators_views,
    [
        ("TRADESAGE_ADMIN_EMAIL", "root@example.com"),
        ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9"),
        ("METRICS_TOKEN", "api-keys-operator-token"),
    ],
    |app: TestApp| async move {
        let root = crate::helpers::root(&app).await;
        let monitor = create_key(&app, &root, json!({"name": "monitor", "scopes": ["actors:read"]})).await;
        assert_eq!(monitor["scopes"], json!(["actors:read"]));
        let monitor = key_of(&monitor);
        assert_eq!(app.get_with("/api/v1/admin/actors", &monitor).await.status(), 200);
        assert_eq!(app.get_with("/api/v1/admin/actors/history", &monitor).await.status(), 200);
        assert_eq!(app.get_with("/metrics", &monitor).await.status(), 200);
        let trader = member(&app, "default", &[Role::Trader]).await;
        let trading = key_of(&create_key(&app, &trader, json!({"name": "bot"})).await);
        expect_problem(app.get_with("/api/v1/admin/actors", &trading).await, 403, "forbidden").await;
        expect_problem(app.get_with("/metrics", &format!("{trading}x")).await, 401, "token_invalid").await;
    }
);
