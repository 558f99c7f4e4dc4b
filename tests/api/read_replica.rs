//! `DATABASE_READ_URL` (API.md §5.5): list queries — admin lists, the audit trail, session
//! lists — read the replica; writes, logins and session activation use `DATABASE_URL`. With
//! the read URL on the primary's own database everything works; with a replica that does not
//! answer, lists answer 503 (at once once its breaker is open) while sign-ins, refreshes and
//! validation go on, and `/health/detailed` says the database is degraded.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{base_vars, code_of, fresh_database, spawn_with_vars, Backend, TestApp, PASSWORD};
use crate::helpers::{root, send, ROOT};

async fn with_read_url(read_url: Option<&str>) -> TestApp {
    let url = fresh_database().await;
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_READ_URL".into(), read_url.map_or(url.clone(), str::to_owned));
    vars.insert("DATABASE_URL".into(), url);
    for (k, v) in [
        ("TRADESAGE_ADMIN_EMAIL", ROOT),
        ("TRADESAGE_ADMIN_PASSWORD", PASSWORD),
        ("DB_BREAKER_FAILURES", "2"),
        ("DB_CALL_TIMEOUT", "1s"),
    ] {
        vars.insert(k.into(), v.into());
    }
    spawn_with_vars(Backend::PostgresRedis, vars).await
}

const LISTS: [&str; 4] = [
    "/api/v1/auth/sessions",
    "/api/v1/admin/users?tenant=default",
    "/api/v1/admin/audit?tenant=default",
    "/api/v1/orders",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_read_url_on_the_primary_every_list_works() {
    let app = with_read_url(None).await;
    let (email, _) = app.signed_in_user().await;
    let admin = root(&app).await;
    for path in LISTS {
        let response = send(&app, Method::GET, path, &admin.token, None).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let users: Value = send(&app, Method::GET, LISTS[1], &admin.token, None).await.json().await.unwrap();
    assert!(users.to_string().contains(&email), "the replica read sees the new user");
    let health: Value = app.client.get(app.url("/health/detailed")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["checks"]["database"]["status"], "ok");
    assert!(health["checks"]["database"]["detail"].as_str().unwrap().contains("database_read circuit closed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_replica_that_does_not_answer_lists_fail_and_sign_ins_work() {
    // Port 1 on loopback: connections are refused, as from a replica that is down.
    let app = with_read_url(Some("postgres://postgres@127.0.0.1:1/replica")).await;
    let (email, login) = app.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    let admin = root(&app).await;
    for round in 0..2 {
        for path in LISTS {
            let response = send(&app, Method::GET, path, &admin.token, None).await;
            assert_eq!(response.status(), 503, "{path} (round {round})");
            assert!(response.headers().contains_key("retry-after"));
            assert_eq!(code_of(response).await, "unavailable");
        }
    }
    // Writes and the session's own flow use the primary.
    assert_eq!(app.login_body(&email).await["user"]["email"], email.as_str());
    assert_eq!(app.get_with("/api/v1/users/me", access).await.status(), 200);
    let refreshed = app.refresh_with(login["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200);
    let health = app.client.get(app.url("/health/detailed")).send().await.unwrap();
    assert_eq!(health.status(), 200, "a replica down is not the database down");
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["checks"]["database"]["status"], "degraded");
    assert!(health["checks"]["database"]["detail"].as_str().unwrap().contains("database_read circuit open"));
}
