//! The database's circuit breaker (API.md §5.5). The outage tests put one server behind a
//! TCP proxy to the shared PostgreSQL and cut the proxy — the port closed, or black-holed —
//! so PostgreSQL goes away for that server only. While the breaker is open, what needs the
//! database answers 503 with `Retry-After` at once, live sessions keep validating from their
//! actors, and the breaker's state shows in `/health/detailed` and `/metrics`; once the
//! database is back the breaker closes by itself and nothing was spent by the failed calls.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both;
use crate::helpers::{base_vars, code_of, fresh_database, spawn_with_vars, Backend, TestApp, PASSWORD};
use crate::proxy::Proxy;

const PG: &str = "127.0.0.1:5432";

/// A PostgreSQL + Redis server whose database is reached through a proxy the test can cut.
async fn behind_proxy(extra: &[(&str, &str)]) -> (TestApp, Proxy) {
    let url = fresh_database().await;
    let proxy = Proxy::start(PG.parse::<SocketAddr>().unwrap()).await;
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port)));
    for (k, v) in [("DB_BREAKER_FAILURES", "2"), ("DB_BREAKER_OPEN", "1s"), ("DB_CALL_TIMEOUT", "1s")] {
        vars.insert(k.into(), v.into());
    }
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    (spawn_with_vars(Backend::PostgresRedis, vars).await, proxy)
}

async fn login(app: &TestApp, email: &str) -> reqwest::Response {
    app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD, "token_delivery": "body"})).await
}

async fn health(app: &TestApp) -> (u16, Value) {
    let response = app.client.get(app.url("/health/detailed")).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn metrics(app: &TestApp) -> String {
    app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap()
}

/// Logs in (with the database gone) until the breaker has opened: bounded, each attempt
/// waits at most `DB_CALL_TIMEOUT` (plus a little).
async fn open_the_breaker(app: &TestApp, email: &str) {
    for _ in 0..10 {
        let response = login(app, email).await;
        assert_eq!(response.status(), 503, "with the database gone a login is refused, never acknowledged");
        if app.core.stores.db_breakers[0].1.state() == tradesage::store::breaker::BreakerState::Open {
            return;
        }
    }
    panic!("the breaker did not open");
}

/// While open: a 503 `unavailable` with `Retry-After`, answered in under 100 ms.
async fn refused_at_once(response_of: impl std::future::Future<Output = reqwest::Response>) {
    let started = Instant::now();
    let response = response_of.await;
    let took = started.elapsed();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"), "Retry-After");
    assert_eq!(code_of(response).await, "unavailable");
    assert!(took < Duration::from_millis(100), "answered in {took:?}, not at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgresql_stopped_the_breaker_opens_refuses_at_once_keeps_live_sessions_and_recovers() {
    let (app, proxy) = behind_proxy(&[]).await;
    let (email, signed_in) = app.signed_in_user().await;
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let refresh = signed_in["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_with("/api/v1/users/me", &access).await.status(), 200);
    assert!(health(&app).await.1["checks"]["database"]["detail"].as_str().unwrap().contains("database circuit closed"));

    proxy.down();
    open_the_breaker(&app, &email).await;
    refused_at_once(login(&app, &email)).await;
    refused_at_once(app.refresh_with(&refresh)).await;
    refused_at_once(app.post("/api/v1/auth/register", json!({"email": "new@example.com", "password": PASSWORD}))).await;
    // The signed-in user's requests still pass: the session actor answers from memory.
    for _ in 0..5 {
        let started = Instant::now();
        let me = app.get_with("/api/v1/users/me", &access).await;
        assert_eq!(me.status(), 200, "a live session keeps validating");
        assert!(started.elapsed() < Duration::from_millis(100));
    }
    let (status, body) = health(&app).await;
    assert_eq!(status, 503);
    let detail = body["checks"]["database"]["detail"].as_str().unwrap();
    assert!(detail.contains("database circuit open"), "{detail}");
    assert!(metrics(&app).await.contains("tradesage_circuit_state{store=\"database\"} 1"));

    proxy.up().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while health(&app).await.0 != 200 {
        assert!(Instant::now() < deadline, "the breaker closes within seconds of the database's return");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(login(&app, &email).await.status(), 200);
    // The refresh refused during the outage spent nothing: the token still rotates, once.
    let rotated = app.refresh_with(&refresh).await;
    assert_eq!(rotated.status(), 200, "the refresh token survived the outage");
    let text = metrics(&app).await;
    assert!(text.contains("tradesage_circuit_state{store=\"database\"} 0"), "closed again");
    assert!(text.contains("tradesage_circuit_opened_total{store=\"database\"} 1"));
    assert!(!text.contains("tradesage_circuit_rejected_total{store=\"database\"} 0"), "refusals were counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_that_hangs_opens_the_breaker_by_timeouts() {
    let (app, proxy) = behind_proxy(&[]).await;
    let (email, _) = app.signed_in_user().await;
    proxy.hang();
    let started = Instant::now();
    open_the_breaker(&app, &email).await;
    // Two timeouts of 1 s (the pool's own wait would be 3 s each, and forever on a hung
    // connection).
    assert!(started.elapsed() < Duration::from_secs(5), "opened after {:?}", started.elapsed());
    refused_at_once(login(&app, &email)).await;
    proxy.up().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while login(&app, &email).await.status() != 200 {
        assert!(Instant::now() < deadline, "logins work again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// A refused value or a conflict is an answer from the database, not an outage: with a
// breaker that opens at the first outage error, a run of them leaves it closed.
both!(conflicts_never_open_the_breaker, [("DB_BREAKER_FAILURES", "1")], |app: TestApp| async move {
    let (email, _) = app.signed_in_user().await;
    for _ in 0..3 {
        let again = app.post("/api/v1/auth/register", json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(again.status(), 409);
    }
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["checks"]["database"]["detail"].as_str().unwrap().contains("database circuit closed"));
    assert_eq!(login(&app, &email).await.status(), 200);
});
