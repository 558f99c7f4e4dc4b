//! Health checks, the response envelope every answer carries, metrics, and graceful shutdown.

use serde_json::{json, Value};

use crate::both;
use crate::helpers::{
    base_vars, code_of, fresh_database, spawn_app_with, spawn_with_vars, Backend, TestApp, KEY_FILES, PASSWORD,
};

both!(health_answers_ok, |app: TestApp| async move {
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": "ok"}));
});

both!(detailed_health_shows_each_dependency_with_its_backend_and_latency, |app: TestApp| async move {
    let response = app.client.get(app.url("/health/detailed")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let (db, cache) = match app.backend {
        Backend::Embedded => ("sqlite", "memory"),
        Backend::PostgresRedis => ("postgres", "redis"),
    };
    assert_eq!(body["checks"]["database"]["backend"], db);
    assert_eq!(body["checks"]["cache"]["backend"], cache);
    for check in ["database", "cache", "actors", "keys"] {
        assert_eq!(body["checks"][check]["status"], "ok", "{check}");
        assert!(body["checks"][check]["latency_ms"].is_number(), "{check}");
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_health_answers_503_when_the_database_is_down() {
    let url = fresh_database().await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), url);
    let app = spawn_with_vars(Backend::PostgresRedis, vars).await;
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(crate::helpers::PG_ADMIN_URL).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    let response = app.client.get(app.url("/health/detailed")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "down");
    assert_eq!(body["checks"]["database"]["status"], "down");
    // A durable write (a new session) is refused rather than acknowledged and lost.
    let login = app.post("/api/v1/auth/login", json!({"email": "a@example.com", "password": PASSWORD})).await;
    assert_eq!(login.status(), 503);
    assert_eq!(login.json::<Value>().await.unwrap()["code"], "unavailable");
    assert_eq!(app.client.get(app.url("/health")).send().await.unwrap().status(), 200, "/health touches no dependency");
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).execute(&mut admin).await.unwrap();
}

both!(every_answer_carries_the_security_headers_and_a_request_id, |app: TestApp| async move {
    let big = "x".repeat(1024 * 1024 + 10);
    let requests = vec![
        ("ok", app.client.get(app.url("/health"))),
        ("401", app.client.get(app.url("/api/v1/auth/sessions"))),
        ("404", app.client.get(app.url("/api/v1/nothing-here"))),
        ("405", app.client.get(app.url("/api/v1/auth/login"))),
        (
            "413",
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("content-type", "application/json")
                .body(format!("{{\"email\":\"{big}\"}}")),
        ),
        ("422", app.client.post(app.url("/api/v1/auth/register")).json(&json!({"email": "x", "password": "y"}))),
    ];
    for (name, request) in requests {
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        for (header, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("x-xss-protection", "1; mode=block"),
            ("strict-transport-security", "max-age=31536000"),
            ("content-security-policy", "default-src 'self'"),
        ] {
            assert_eq!(headers.get(header).and_then(|v| v.to_str().ok()), Some(value), "{header} on {name}");
        }
        assert!(headers.contains_key("x-request-id"), "request id on {name}");
        if name != "ok" {
            assert_eq!(headers["content-type"], "application/problem+json", "{name}");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["status"], status, "{name}");
            for field in ["type", "title", "detail", "code"] {
                assert!(body[field].is_string(), "{field} on {name}");
            }
        }
    }
    let echoed = app.client.get(app.url("/health")).header("x-request-id", "trace-me-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
});

both!(metrics_parse_as_prometheus_text_and_count_logins, |app: TestApp| async move {
    app.signed_in_user().await;
    let _ =
        app.post("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "wrong-password-1"})).await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
    }
    assert!(text.contains("tradesage_login_attempts_total{outcome=\"success\"} 1"));
    assert!(text.contains("tradesage_login_attempts_total{outcome=\"invalid_credentials\"} 1"));
    assert!(
        text.contains("tradesage_http_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"200\"} 1")
    );
    assert!(text.contains("tradesage_actor_live{kind=\"session\"}"));
});

both!(metrics_need_the_token_when_one_is_set, [("METRICS_TOKEN", "s3cret-metrics")], |app: TestApp| async move {
    assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(app.get_with("/metrics", "wrong").await.status(), 401);
    assert_eq!(app.get_with("/metrics", "s3cret-metrics").await.status(), 200);
    assert_eq!(app.get_with("/api/v1/admin/actors", "s3cret-metrics").await.status(), 200);
    let (_, viewer) = app.signed_in_user().await;
    assert_eq!(app.get_with("/metrics", viewer["access_token"].as_str().unwrap()).await.status(), 403);
});

both!(
    the_operator_view_shows_the_supervision_tree,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", PASSWORD)],
    |app: TestApp| async move {
        let login = app
            .post(
                "/api/v1/auth/login",
                json!({"email": "root@example.com", "password": PASSWORD, "tenant": "platform"}),
            )
            .await;
        assert_eq!(login.status(), 200);
        let login: Value = login.json().await.unwrap();
        assert!(login["user"]["scopes"].as_array().unwrap().contains(&json!("actors:read")));
        let view: Value =
            app.get_with("/api/v1/admin/actors", login["access_token"].as_str().unwrap()).await.json().await.unwrap();
        assert!(view["node"].is_string() && view["uptime_s"].is_u64());
        let kinds: Vec<&str> = view["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["session", "lockout", "mfa_challenge", "api_key"]);
        let session = &view["kinds"][0];
        assert!(session["live"].as_i64().unwrap() >= 1);
        for field in ["activations", "passivations", "restarts", "failures", "mailbox_depth"] {
            assert!(session[field].is_number(), "{field}");
        }
        assert!(session["handle_time_ms"]["p50"].is_number() && session["handle_time_ms"]["p99"].is_number());
        let supervisors = view["supervisors"].as_array().unwrap();
        assert!(supervisors.iter().any(|s| s["kind"] == "session" && s["children"].as_u64().unwrap() >= 1));
        let (_, viewer) = app.signed_in_user().await;
        assert_eq!(app.get_with("/api/v1/admin/actors", viewer["access_token"].as_str().unwrap()).await.status(), 403);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_an_in_flight_login_finish() {
    let app = spawn_app_with(Backend::Embedded, &[("BCRYPT_ROUNDS", "12")]).await;
    let email = "slow@example.com";
    app.register(email).await;
    let request =
        app.client.post(app.url("/api/v1/auth/login")).json(&json!({"email": email, "password": PASSWORD})).send();
    let in_flight = tokio::spawn(request);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    app.stop().await;
    let response = in_flight.await.unwrap().expect("the in-flight request was answered");
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_everything_goes_on_through_postgres_and_health_says_degraded() {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    // Nothing listens on port 1: the cache is down from the start.
    vars.insert("REDIS_URL".into(), "redis://127.0.0.1:1".into());
    let config = tradesage::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let app = tradesage::app::Application::build(config).await.expect("starts without Redis");
    let address = app.address();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{address}{path}");
    let email = "noredis@example.com";
    let register = client
        .post(url("/api/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let login: Value = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD, "token_delivery": "body"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["access_token"].as_str().expect("login works without Redis");
    assert_eq!(client.get(url("/api/v1/users/me")).bearer_auth(access).send().await.unwrap().status(), 200);
    let refreshed = client
        .post(url("/api/v1/auth/refresh"))
        .bearer_auth(login["refresh_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let health = client.get(url("/health/detailed")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["cache"]["status"], "degraded");
    assert_eq!(body["checks"]["database"]["status"], "ok");
}

/// The value of one sample of the `/metrics` text (0 when absent).
async fn sample(app: &TestApp, series: &str) -> f64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find(|l| l.strip_prefix(series).is_some_and(|rest| rest.starts_with(' ')))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

both!(every_login_outcome_is_counted_bad_input_included, |app: TestApp| async move {
    let login = |body: Value| app.post("/api/v1/auth/login", body);
    let (email, _) = app.signed_in_user().await;
    assert_eq!(login(json!({"email": email, "password": "wrong-password-1"})).await.status(), 401);
    assert_eq!(login(json!({"email": "not an email", "password": PASSWORD})).await.status(), 422);
    assert_eq!(login(json!({"email": email, "password": ""})).await.status(), 422);
    let narrowed = json!({"email": email, "password": PASSWORD, "scope": "tenants:manage"});
    assert_eq!(login(narrowed).await.status(), 422, "a scope beyond the roles'");
    let outcome = |o: &str| format!("tradesage_login_attempts_total{{outcome=\"{o}\"}}");
    assert_eq!(sample(&app, &outcome("success")).await, 1.0);
    assert_eq!(sample(&app, &outcome("invalid_credentials")).await, 1.0);
    assert_eq!(sample(&app, &outcome("invalid_request")).await, 3.0, "refused input is a login attempt too");
});

both!(every_refresh_outcome_is_counted, [("REFRESH_REUSE_GRACE", "300ms")], |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let first = login["refresh_token"].as_str().unwrap().to_owned();
    let rotated: Value = app.refresh_with(&first).await.json().await.unwrap();
    assert_eq!(code_of(app.refresh_with(&first).await).await, "token_rotated");
    let started = std::time::Instant::now();
    let reused = loop {
        let code = code_of(app.refresh_with(&first).await).await;
        if code != "token_rotated" || started.elapsed() > std::time::Duration::from_secs(10) {
            break code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(reused, "token_reused");
    // The reuse ended the session: its newest token finds it ended.
    let newest = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(code_of(app.refresh_with(newest).await).await, "session_revoked");
    assert_eq!(code_of(app.refresh_with("not-a-token").await).await, "token_invalid");
    let outcome = |o: &str| format!("tradesage_refreshes_total{{outcome=\"{o}\"}}");
    assert_eq!(sample(&app, &outcome("rotated")).await, 1.0);
    assert!(sample(&app, &outcome("within_grace")).await >= 1.0);
    assert_eq!(sample(&app, &outcome("reused")).await, 1.0);
    assert_eq!(sample(&app, &outcome("ended")).await, 1.0);
    assert_eq!(sample(&app, &outcome("invalid")).await, 1.0);
});

/// `/health/detailed` polled (up to `limit`) until `done` holds of its body; gives the last.
async fn health_until(app: &TestApp, limit: std::time::Duration, done: impl Fn(&Value) -> bool) -> Value {
    let started = std::time::Instant::now();
    loop {
        let response = app.client.get(app.url("/health/detailed")).send().await.unwrap();
        assert_eq!(response.status(), 200, "degraded is no outage");
        let body: Value = response.json().await.unwrap();
        if done(&body) || started.elapsed() > limit {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

both!(the_actors_check_degrades_when_a_supervisor_escalated_to_the_root, |app: TestApp| async move {
    let healthy = health_until(&app, std::time::Duration::ZERO, |_| true).await;
    assert_eq!(healthy["checks"]["actors"]["status"], "ok");
    // A failing janitor escalates to the root, which replaces it: still an escalation.
    app.core.actors.inject_janitor_fault();
    let body = health_until(&app, std::time::Duration::from_secs(5), |b| b["checks"]["actors"]["status"] != "ok").await;
    assert_eq!(body["checks"]["actors"]["status"], "degraded", "{body}");
    assert!(body["checks"]["actors"]["detail"].as_str().unwrap().contains("escalated"), "{body}");
    assert_eq!(body["status"], "degraded");
});

both!(the_keys_check_degrades_while_the_key_files_do_not_load, [KEY_FILES], |app: TestApp| async move {
    let path = app.data_dir().join("jwt-private.pem");
    let good = std::fs::read(&path).unwrap();
    let healthy = health_until(&app, std::time::Duration::ZERO, |_| true).await;
    assert_eq!(healthy["checks"]["keys"]["status"], "ok", "{healthy}");
    std::fs::write(&path, b"not a key").unwrap();
    // The key watcher looks every 5 s.
    let limit = std::time::Duration::from_secs(15);
    let body = health_until(&app, limit, |b| b["checks"]["keys"]["status"] != "ok").await;
    assert_eq!(body["checks"]["keys"]["status"], "degraded", "{body}");
    assert!(body["checks"]["keys"]["detail"].as_str().unwrap().contains("do not load"), "{body}");
    // The last good key still signs meanwhile.
    app.signed_in_user().await;
    std::fs::write(&path, good).unwrap();
    let body = health_until(&app, limit, |b| b["checks"]["keys"]["status"] == "ok").await;
    assert_eq!(body["checks"]["keys"]["status"], "ok", "{body}");
});

both!(the_sessions_gauge_counts_active_sessions_in_the_database, |app: TestApp| async move {
    let series = "tradesage_sessions_active_total";
    assert!(app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap().contains(series));
    let (_, first) = app.signed_in_user().await;
    app.signed_in_user().await;
    assert_eq!(app.core.refresh_sessions_gauge().await.unwrap(), 2);
    assert_eq!(sample(&app, series).await, 2.0);
    let logout = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(first["access_token"].as_str().unwrap());
    assert_eq!(logout.send().await.unwrap().status(), 204);
    assert_eq!(app.core.refresh_sessions_gauge().await.unwrap(), 1);
    assert_eq!(sample(&app, series).await, 1.0);
});
