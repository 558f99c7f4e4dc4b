//! Rate limits at any configured rate (API.md §5.1): exact up to 10^7 a second, `off`
//! switches one off, `RATE_LIMIT_ROUTES` adds per-route limits per client, and the operators'
//! endpoints other than `/health` count against the per-IP limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;

use crate::both;
use crate::helpers::{code_of, TestApp, PASSWORD};
use crate::helpers::{member, send};

const SESSIONS: &str = "/api/v1/auth/sessions";

fn header(response: &reqwest::Response, name: &str) -> u64 {
    let value = response.headers().get(name).unwrap_or_else(|| panic!("{name} missing"));
    value.to_str().unwrap().parse().unwrap()
}

/// Sends `count` authenticated requests, `parallel` at a time; returns how many answered 429
/// (and panics on any answer other than 200 or 429).
async fn burst(app: &TestApp, token: &str, count: usize, parallel: usize) -> usize {
    let limited = Arc::new(AtomicUsize::new(0));
    futures::stream::iter(0..count)
        .for_each_concurrent(parallel, |_| {
            let limited = limited.clone();
            async move {
                let status = app.get_with(SESSIONS, token).await.status().as_u16();
                match status {
                    200 => {}
                    429 => {
                        limited.fetch_add(1, Ordering::Relaxed);
                    }
                    other => panic!("unexpected {other}"),
                }
            }
        })
        .await;
    limited.load(Ordering::Relaxed)
}

both!(
    a_user_allowed_ten_million_a_second_is_never_refused_in_a_burst,
    [("RATE_LIMIT_USER", "10000000/s"), ("RATE_LIMIT_IP", "10000000/s")],
    |app: TestApp| async move {
        let (_, login) = app.signed_in_user().await;
        let token = login["access_token"].as_str().unwrap().to_owned();
        assert_eq!(burst(&app, &token, 4_000, 32).await, 0, "429s below the limit");
    }
);

both!(
    a_user_allowed_ten_million_a_minute_is_never_refused_in_a_burst,
    [("RATE_LIMIT_USER", "10000000/min"), ("RATE_LIMIT_IP", "10000000/min")],
    |app: TestApp| async move {
        let (_, login) = app.signed_in_user().await;
        let token = login["access_token"].as_str().unwrap().to_owned();
        assert_eq!(burst(&app, &token, 3_000, 32).await, 0, "429s below the limit");
    }
);

both!(
    off_switches_each_limit_off,
    [("RATE_LIMIT_IP", "off"), ("RATE_LIMIT_USER", "off"), ("RATE_LIMIT_LOGIN", "off")],
    |app: TestApp| async move {
        let (email, login) = app.signed_in_user().await;
        let token = login["access_token"].as_str().unwrap().to_owned();
        assert_eq!(burst(&app, &token, 500, 16).await, 0);
        for i in 0..60 {
            let wrong =
                app.post("/api/v1/auth/login", json!({"email": format!("{i}{email}"), "password": PASSWORD})).await;
            assert_eq!(wrong.status(), 401, "attempt {i}");
        }
        assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status(), 200);
    }
);

both!(
    a_route_limit_refuses_past_its_count_per_client_with_the_rate_limit_headers,
    [
        ("RATE_LIMIT_ROUTES", "POST /api/v1/orders=3/min; DELETE /api/v1/orders/{id}=1/min"),
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ],
    |app: TestApp| async move {
        let trader = member(&app, "default", &[Role::Trader]).await;
        let order = json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "10"});
        let place = |client: &'static str| {
            app.client
                .post(app.url("/api/v1/orders"))
                .bearer_auth(&trader.token)
                .header("x-forwarded-for", client)
                .json(&order)
                .send()
        };
        for i in 0..3 {
            assert_eq!(place("203.0.113.1").await.unwrap().status(), 201, "order {i}");
        }
        let refused = place("203.0.113.1").await.unwrap();
        assert_eq!(refused.status(), 429);
        assert!((1..=60).contains(&header(&refused, "retry-after")));
        assert_eq!(header(&refused, "ratelimit-limit"), 3);
        assert_eq!(header(&refused, "ratelimit-remaining"), 0);
        assert!((1..=60).contains(&header(&refused, "ratelimit-reset")));
        assert_eq!(code_of(refused).await, "rate_limited");
        // Per client: another address has its own count; other routes are not limited.
        assert_eq!(place("203.0.113.2").await.unwrap().status(), 201);
        for _ in 0..5 {
            assert_eq!(send(&app, Method::GET, "/api/v1/orders", &trader.token, None).await.status(), 200);
        }
        // A route with a path parameter is limited as one route, whatever the id.
        let list: Value = send(&app, Method::GET, "/api/v1/orders", &trader.token, None).await.json().await.unwrap();
        let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
        let (app, trader) = (&app, &trader);
        let cancel = |id: &str| {
            let path = format!("/api/v1/orders/{id}");
            async move { send(app, Method::DELETE, &path, &trader.token, None).await.status() }
        };
        assert_eq!(cancel(ids[0]).await, 200);
        assert_eq!(cancel(ids[1]).await, 429, "one count for the route, whatever the id");
    }
);

both!(
    metrics_and_detailed_health_count_against_the_per_ip_limit_and_health_does_not,
    [("RATE_LIMIT_IP", "3/min")],
    |app: TestApp| async move {
        let get = |path: &'static str| app.client.get(app.url(path)).send();
        assert_eq!(get("/metrics").await.unwrap().status(), 200);
        assert_eq!(get("/health/detailed").await.unwrap().status(), 200);
        assert_eq!(get("/metrics").await.unwrap().status(), 200);
        assert_eq!(get("/health/detailed").await.unwrap().status(), 429);
        assert_eq!(get("/metrics").await.unwrap().status(), 429);
        assert_eq!(get(SESSIONS).await.unwrap().status(), 429, "one budget with the API");
        for _ in 0..10 {
            assert_eq!(get("/health").await.unwrap().status(), 200, "liveness is never limited");
        }
    }
);
