//! The gateway and its eyes: rate limits (per IP, per user, on credentials, and across two
//! server processes sharing Redis), CORS, panics caught as 500 problem+json, request limits,
//! the audit trail of every security event, and the counters `/metrics` shows for them.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use tradesage::http::AppState;
use tradesage::store::{AuditEvent, AuditFilter, Page};
use uuid::Uuid;

use crate::both;
use crate::helpers::{code_of, fresh_database, TestApp, PASSWORD, REDIS_URL};

const SESSIONS: &str = "/api/v1/auth/sessions";

const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-xss-protection", "1; mode=block"),
    ("strict-transport-security", "max-age=31536000"),
    ("content-security-policy", "default-src 'self'"),
];

fn assert_security_headers(headers: &reqwest::header::HeaderMap, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{name} on {what}");
    }
    assert!(headers.get("x-request-id").is_some_and(|v| !v.is_empty()), "x-request-id on {what}");
}

fn header_u64(response: &reqwest::Response, name: &str) -> u64 {
    let value = response.headers().get(name).unwrap_or_else(|| panic!("{name} missing"));
    value.to_str().unwrap().parse().unwrap_or_else(|e| panic!("{name}: {value:?}: {e}"))
}

/// Checks a 429 answer: status, problem code, `Retry-After` and the `RateLimit-*` headers.
async fn assert_rate_limited(response: reqwest::Response, limit: u64) {
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let retry_after = header_u64(&response, "retry-after");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(header_u64(&response, "ratelimit-limit"), limit);
    assert_eq!(header_u64(&response, "ratelimit-remaining"), 0);
    let reset = header_u64(&response, "ratelimit-reset");
    assert!((1..=60).contains(&reset), "RateLimit-Reset {reset}");
    assert_security_headers(response.headers(), "429");
    assert_eq!(code_of(response).await, "rate_limited");
}

/// The value of one series (`name{labels}`) in Prometheus text; 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap_or_else(|e| panic!("{series}: {v}: {e}")))
        .unwrap_or(0.0)
}

async fn metrics_text(client: &reqwest::Client, base: &str) -> String {
    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// One series, read in process: `/metrics` counts against the per-IP limit these tests use up.
async fn metric(app: &TestApp, series: &str) -> f64 {
    sample(&app.core.metrics.render(), series)
}

fn access_of(login: &Value) -> String {
    login["access_token"].as_str().unwrap().to_owned()
}

fn refresh_of(login: &Value) -> String {
    login["refresh_token"].as_str().unwrap().to_owned()
}

// ---- rate limits ----------------------------------------------------------------------------

both!(
    the_per_ip_limit_answers_429_rate_limited_with_retry_after_and_ratelimit_headers,
    [("RATE_LIMIT_IP", "5/min")],
    |app: TestApp| async move {
        for i in 0..5 {
            let response = app.client.get(app.url(SESSIONS)).send().await.unwrap();
            assert_eq!(response.status(), 401, "request {i} is within the limit");
        }
        assert_rate_limited(app.client.get(app.url(SESSIONS)).send().await.unwrap(), 5).await;
        // Every API route counts against the same per-IP budget, credentials too.
        let login = app.post("/api/v1/auth/login", json!({"email": "a@example.com", "password": PASSWORD})).await;
        assert_rate_limited(login, 5).await;
        assert_eq!(metric(&app, "tradesage_rate_limited_total{limit=\"ip\"}").await, 2.0);
    }
);

both!(
    the_login_limit_refuses_the_fourth_login_or_register_from_one_ip,
    [("RATE_LIMIT_LOGIN", "3/min")],
    |app: TestApp| async move {
        app.register("first@example.com").await;
        assert_eq!(app.login_body("first@example.com").await["token_type"], "Bearer");
        let wrong =
            app.post("/api/v1/auth/login", json!({"email": "first@example.com", "password": "wrong-password-1"})).await;
        assert_eq!(wrong.status(), 401, "the third attempt is still answered");
        let register =
            app.post("/api/v1/auth/register", json!({"email": "second@example.com", "password": PASSWORD})).await;
        assert_rate_limited(register, 3).await;
        let login = app.post("/api/v1/auth/login", json!({"email": "first@example.com", "password": PASSWORD})).await;
        assert_rate_limited(login, 3).await;
        // Other API routes are not under the credential limit.
        assert_eq!(app.client.get(app.url(SESSIONS)).send().await.unwrap().status(), 401);
        assert_eq!(metric(&app, "tradesage_rate_limited_total{limit=\"login\"}").await, 2.0);
    }
);

both!(
    the_per_user_limit_refuses_once_exceeded_and_only_that_user,
    [("RATE_LIMIT_USER", "3/min")],
    |app: TestApp| async move {
        let (_, alice) = app.signed_in_user().await;
        let (_, bob) = app.signed_in_user().await;
        for i in 0..3 {
            assert_eq!(app.get_with(SESSIONS, &access_of(&alice)).await.status(), 200, "request {i}");
        }
        assert_rate_limited(app.get_with(SESSIONS, &access_of(&alice)).await, 3).await;
        assert_rate_limited(app.get_with("/api/v1/users/me", &access_of(&alice)).await, 3).await;
        assert_eq!(
            app.get_with(SESSIONS, &access_of(&bob)).await.status(),
            200,
            "another user has a budget of their own"
        );
        assert_eq!(metric(&app, "tradesage_rate_limited_total{limit=\"user\"}").await, 2.0);
    }
);

/// A `tradesage serve` process, killed when dropped (also when the test fails).
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_server(vars: &[(&str, String)], data_dir: &std::path::Path) -> Server {
    let port = free_port();
    let log = std::fs::File::create(data_dir.join(format!("server-{port}.log"))).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradesage"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TRADESAGE_BIND", format!("127.0.0.1:{port}"))
        .env("TRADESAGE_DATA_DIR", data_dir)
        .current_dir(data_dir)
        .stdout(Stdio::null())
        .stderr(log);
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut server = Server { child: command.arg("serve").spawn().unwrap(), base: format!("http://127.0.0.1:{port}") };
    let started = Instant::now();
    loop {
        if let Ok(response) = reqwest::get(format!("{}/health", server.base)).await {
            if response.status() == 200 {
                return server;
            }
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("server exited with {status}; log in {}", data_dir.display());
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no /health within 30 s; log in {}", data_dir.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_across_two_server_processes_sharing_redis_hold_in_sum() {
    let data_dir = std::env::temp_dir().join(format!("ts-gateway-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let vars = [
        ("DATABASE_URL", fresh_database().await),
        ("REDIS_URL", REDIS_URL.to_owned()),
        ("REDIS_KEY_PREFIX", format!("test:{}:", Uuid::new_v4().simple())),
        ("RATE_LIMIT_IP", "10/min".to_owned()),
        // `/metrics` counts against the per-IP limit: the scrape below comes via a proxy.
        ("TRUSTED_PROXIES", "127.0.0.1/32".to_owned()),
        ("BCRYPT_ROUNDS", "4".to_owned()),
        ("COOKIE_SECURE", "false".to_owned()),
    ];
    // One after the other: the first migrates the database and writes the keys the second reads.
    let first = start_server(&vars, &data_dir).await;
    let second = start_server(&vars, &data_dir).await;
    let client = reqwest::Client::new();
    let mut passed = [0u32; 2];
    let mut limited = [0u32; 2];
    for i in 0..30 {
        let node = i % 2;
        let server = if node == 0 { &first } else { &second };
        let response = client.get(format!("{}{SESSIONS}", server.base)).send().await.unwrap();
        match response.status().as_u16() {
            401 => passed[node] += 1,
            429 => {
                limited[node] += 1;
                assert_eq!(header_u64(&response, "ratelimit-limit"), 10);
            }
            other => panic!("request {i} to node {node}: unexpected status {other}"),
        }
    }
    assert_eq!(passed[0] + passed[1], 10, "exactly the limit passes over both nodes: {passed:?} {limited:?}");
    assert!(passed[0] > 0 && passed[1] > 0, "both nodes served: {passed:?}");
    assert!(limited[0] > 0 && limited[1] > 0, "both nodes refused: {limited:?}");
    for server in [&first, &second] {
        let scrape = client.get(format!("{}/metrics", server.base)).header("x-forwarded-for", "192.0.2.1");
        let text = scrape.send().await.unwrap().text().await.unwrap();
        assert!(sample(&text, "tradesage_rate_limited_total{limit=\"ip\"}") >= 1.0, "{}", server.base);
    }
    drop(first);
    drop(second);
}

// ---- CORS -----------------------------------------------------------------------------------

both!(
    cors_preflight_allows_a_listed_origin_with_credentials_and_nobody_else,
    [("CORS_ALLOWED_ORIGINS", "https://app.example.com")],
    |app: TestApp| async move {
        let preflight = |origin: &'static str| {
            app.client
                .request(Method::OPTIONS, app.url("/api/v1/auth/login"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
        };
        let allowed = preflight("https://app.example.com").await.unwrap();
        assert!(allowed.status().is_success(), "preflight answered {}", allowed.status());
        let headers = allowed.headers();
        assert_eq!(headers["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(headers["access-control-allow-credentials"], "true");
        let methods = headers["access-control-allow-methods"].to_str().unwrap().to_owned();
        assert!(methods.contains("POST"), "{methods}");
        let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
        assert!(allowed_headers.contains("content-type"), "{allowed_headers}");
        assert_security_headers(headers, "preflight");

        let evil = preflight("https://evil.example").await.unwrap();
        assert!(evil.headers().get("access-control-allow-origin").is_none(), "evil origin allowed");

        // An actual request from the listed origin gets the origin echoed and the headers exposed.
        let simple = app.client.get(app.url("/health")).header("origin", "https://app.example.com").send().await;
        let simple = simple.unwrap();
        assert_eq!(simple.headers()["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(simple.headers()["access-control-allow-credentials"], "true");
        let exposed = simple.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
        for name in ["retry-after", "x-request-id", "ratelimit-remaining"] {
            assert!(exposed.contains(name), "{name} not exposed: {exposed}");
        }
        let foreign = app.client.get(app.url("/health")).header("origin", "https://evil.example").send().await;
        assert!(foreign.unwrap().headers().get("access-control-allow-origin").is_none());
    }
);

// ---- panics ---------------------------------------------------------------------------------

/// Serves `routes` inside the real pipeline on a port of its own; returns its base URL.
async fn serve_in_pipeline(routes: Router<AppState>, core: AppState) -> String {
    let app = tradesage::http::with_pipeline(routes, core);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{address}")
}

/// A handler that panics (the answer type is spelled out: a bare `panic!` body would be `!`).
async fn boom() -> &'static str {
    panic!("boom")
}

both!(a_panic_in_a_handler_answers_500_problem_json_and_the_server_lives_on, |app: TestApp| async move {
    let routes = Router::new()
        .route("/boom", get(boom))
        .merge(Router::new().route("/ok", get(tradesage::http::ops::health)))
        .route("/metrics", get(tradesage::http::ops::metrics));
    let base = serve_in_pipeline(routes, app.core.clone()).await;
    let client = reqwest::Client::new();
    let before = sample(&metrics_text(&client, &base).await, "tradesage_http_panics_total");
    assert_eq!(before, 0.0);
    for round in 0..2 {
        let response = client.get(format!("{base}/boom")).header("x-request-id", "boom-1").send().await.unwrap();
        assert_eq!(response.status(), 500, "round {round}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert_security_headers(response.headers(), "the panic answer");
        assert_eq!(response.headers()["x-request-id"], "boom-1");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "internal");
        assert_eq!(body["status"], 500);
        assert!(!body["detail"].as_str().unwrap().contains("boom"), "the panic message stays inside: {body}");
    }
    let without_id = client.get(format!("{base}/boom")).send().await.unwrap();
    assert_eq!(without_id.status(), 500);
    assert_security_headers(without_id.headers(), "the panic answer without an incoming id");
    let text = metrics_text(&client, &base).await;
    assert_eq!(sample(&text, "tradesage_http_panics_total"), 3.0);
    let ok = client.get(format!("{base}/ok")).send().await.unwrap();
    assert_eq!(ok.status(), 200, "the server lives on");
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    assert_eq!(app.client.get(app.url("/health")).send().await.unwrap().status(), 200);
});

// ---- request limits -------------------------------------------------------------------------

async fn status_code_and_type(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned(), content_type)
}

const PROBLEM: &str = "application/problem+json";

both!(request_limits_answer_413_431_400_415_404_and_405, |app: TestApp| async move {
    let register = app.url("/api/v1/auth/register");
    // A body over 1 MiB.
    let big = format!("{{\"email\":\"{}\",\"password\":\"x\"}}", "a".repeat(1024 * 1024));
    let response =
        app.client.post(&register).header("content-type", "application/json").body(big).send().await.unwrap();
    assert_eq!(status_code_and_type(response).await, (413, "payload_too_large".into(), PROBLEM.into()));
    // Exactly 1 MiB is still read (and refused on its merits).
    let frame = "{\"email\":\"\",\"password\":\"x\"}".len();
    let exact = format!("{{\"email\":\"{}\",\"password\":\"x\"}}", "a".repeat(1024 * 1024 - frame));
    assert_eq!(exact.len(), 1024 * 1024);
    let response =
        app.client.post(&register).header("content-type", "application/json").body(exact).send().await.unwrap();
    assert_eq!(status_code_and_type(response).await, (422, "validation_failed".into(), PROBLEM.into()));

    // Headers over 16 KiB in total → 431; somewhat under → answered.
    let mut big_headers = app.client.get(app.url("/health"));
    for i in 0..20 {
        big_headers = big_headers.header(format!("x-pad-{i}"), "p".repeat(1000));
    }
    let response = big_headers.send().await.unwrap();
    assert_eq!(response.status(), 431);
    assert_security_headers(response.headers(), "431");
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "payload_too_large");
    let mut fine_headers = app.client.get(app.url("/health"));
    for i in 0..12 {
        fine_headers = fine_headers.header(format!("x-pad-{i}"), "p".repeat(1000));
    }
    assert_eq!(fine_headers.send().await.unwrap().status(), 200);

    // Malformed JSON → 400; wrong content type → 415.
    let malformed = app
        .client
        .post(&register)
        .header("content-type", "application/json")
        .body("{\"email\": \"x@example.com\",")
        .send()
        .await
        .unwrap();
    assert_eq!(status_code_and_type(malformed).await, (400, "validation_failed".into(), PROBLEM.into()));
    let wrong_type = app
        .client
        .post(&register)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=x%40example.com&password=y")
        .send()
        .await
        .unwrap();
    assert_eq!(status_code_and_type(wrong_type).await, (415, "validation_failed".into(), PROBLEM.into()));

    // Unknown API route → 404 problem+json (not the web app), wrong method → 405 problem+json.
    for path in ["/api/v1/nothing-here", "/api/v1/auth/nothing", "/api/v1/auth/login/", "/api/v1"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(status_code_and_type(response).await, (404, "not_found".into(), PROBLEM.into()), "{path}");
    }
    for (method, path) in [
        (Method::GET, "/api/v1/auth/login"),
        (Method::PUT, "/api/v1/auth/register"),
        (Method::DELETE, "/api/v1/users/me"),
        (Method::POST, "/health"),
    ] {
        let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_security_headers(response.headers(), path);
        let (status, code, content_type) = status_code_and_type(response).await;
        assert_eq!((status, content_type.as_str()), (405, PROBLEM), "{method} {path}");
        assert!(!code.is_empty(), "{method} {path}: a problem code");
    }
});

both!(the_api_prefix_itself_answers_404_problem_json_not_the_web_app, |app: TestApp| async move {
    for path in ["/api/v1", "/api/v1/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(status_code_and_type(response).await, (404, "not_found".into(), PROBLEM.into()), "{path}");
    }
});

// ---- audit ----------------------------------------------------------------------------------

async fn audit_rows(app: &TestApp, event: &str) -> Vec<AuditEvent> {
    let filter = AuditFilter { event: Some(event.to_owned()), ..Default::default() };
    app.core.stores.db.list_audit(None, &filter, Page { limit: 50, before: None }).await.unwrap()
}

/// The one row of `event` with `request_id`; checks the client facts it carries.
async fn audit_row(app: &TestApp, event: &str, request_id: &str) -> AuditEvent {
    let rows = audit_rows(app, event).await;
    let mut matching: Vec<AuditEvent> =
        rows.iter().filter(|r| r.request_id.as_deref() == Some(request_id)).cloned().collect();
    assert_eq!(matching.len(), 1, "one `{event}` row for request {request_id}; all `{event}` rows: {rows:#?}");
    let row = matching.remove(0);
    assert_eq!(row.ip.as_deref(), Some("127.0.0.1"), "{event}");
    assert_eq!(row.user_agent.as_deref(), Some("gateway-audit/1"), "{event}");
    row
}

async fn send_as(request: reqwest::RequestBuilder, request_id: &str) -> reqwest::Response {
    request.header("x-request-id", request_id).header("user-agent", "gateway-audit/1").send().await.unwrap()
}

both!(
    every_security_event_leaves_an_audit_row_with_outcome_ip_and_request_id,
    [("LOCKOUT_THRESHOLD", "2"), ("LOCKOUT_LADDER", "1m,permanent"), ("REFRESH_REUSE_GRACE", "200ms")],
    |app: TestApp| async move {
        let email = "audited@example.com";
        let login_body = json!({"email": email, "password": PASSWORD, "token_delivery": "body"});
        let post = |path: &str, body: Value| app.client.post(app.url(path)).json(&body);

        // register
        let response =
            send_as(post("/api/v1/auth/register", json!({"email": email, "password": PASSWORD})), "a-register").await;
        assert_eq!(response.status(), 201);
        let user: Value = response.json().await.unwrap();
        let user_id: Uuid = user["id"].as_str().unwrap().parse().unwrap();
        let row = audit_row(&app, "register", "a-register").await;
        assert_eq!(row.outcome, "success");
        assert_eq!(row.user_id, Some(user_id));
        assert_eq!(row.tenant_id.map(|t| t.to_string()).as_deref(), user["tenant"]["id"].as_str());

        // login success
        let response = send_as(post("/api/v1/auth/login", login_body.clone()), "a-login-ok").await;
        assert_eq!(response.status(), 200);
        let login: Value = response.json().await.unwrap();
        let row = audit_row(&app, "login", "a-login-ok").await;
        assert_eq!(row.outcome, "success");
        assert_eq!(row.user_id, Some(user_id));
        assert_eq!(row.detail["session_id"], login["session_id"]);

        // login failure, with its reason
        let wrong = json!({"email": email, "password": "wrong-password-1"});
        let response = send_as(post("/api/v1/auth/login", wrong.clone()), "a-login-bad").await;
        assert_eq!(response.status(), 401);
        let row = audit_row(&app, "login", "a-login-bad").await;
        assert_eq!(row.outcome, "failure");
        assert_eq!(row.detail["reason"], "invalid_credentials");
        assert_eq!(row.user_id, Some(user_id));

        // lockout, with its step (the failure that reaches the threshold locks)
        let response = send_as(post("/api/v1/auth/login", wrong.clone()), "a-lockout").await;
        assert_eq!(response.status(), 423);
        let row = audit_row(&app, "lockout", "a-lockout").await;
        assert_eq!(row.outcome, "failure", "outcomes are success or failure (API.md §5.1)");
        assert_eq!(row.detail["step"], 1);
        assert_eq!(row.detail["permanent"], false);
        assert_eq!(row.user_id, Some(user_id));
        // While locked, an attempt is a failure with reason `locked`.
        let response = send_as(post("/api/v1/auth/login", login_body.clone()), "a-login-locked").await;
        assert_eq!(response.status(), 423);
        assert_eq!(audit_row(&app, "login", "a-login-locked").await.detail["reason"], "locked");

        // refresh (the session opened before the lock still works)
        let spent = refresh_of(&login);
        let response = send_as(app.client.post(app.url("/api/v1/auth/refresh")).bearer_auth(&spent), "a-refresh").await;
        assert_eq!(response.status(), 200);
        let refreshed: Value = response.json().await.unwrap();
        let row = audit_row(&app, "refresh", "a-refresh").await;
        assert_eq!(row.outcome, "success");
        assert_eq!(row.user_id, Some(user_id));
        assert_eq!(row.detail["session_id"], login["session_id"]);

        // token_reuse_detected: the spent token again, after the grace
        tokio::time::sleep(Duration::from_millis(400)).await;
        let response = send_as(app.client.post(app.url("/api/v1/auth/refresh")).bearer_auth(&spent), "a-reuse").await;
        assert_eq!(code_of(response).await, "token_reused");
        let row = audit_row(&app, "token_reuse_detected", "a-reuse").await;
        assert_eq!(row.outcome, "failure");
        assert_eq!(row.detail["session_ended"], true);
        assert_eq!(row.user_id, Some(user_id));
        assert_eq!(row.detail["session_id"], login["session_id"]);
        let revoked = app.get_with(SESSIONS, &access_of(&refreshed)).await;
        assert_eq!(code_of(revoked).await, "session_revoked", "reuse ended the session");

        // logout and session_ended: a second user (the first is locked)
        let other = "other-audited@example.com";
        app.register(other).await;
        let second = app.login_body(other).await;
        let response =
            send_as(app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(access_of(&second)), "a-logout").await;
        assert_eq!(response.status(), 204);
        let second_user: Uuid = second["user"]["id"].as_str().unwrap().parse().unwrap();
        let row = audit_row(&app, "logout", "a-logout").await;
        assert_eq!(row.outcome, "success");
        assert_eq!(row.user_id, Some(second_user));
        assert_eq!(row.detail["session_id"], second["session_id"]);
        let row = audit_row(&app, "session_ended", "a-logout").await;
        assert_eq!(row.outcome, "success");
        assert_eq!(row.detail["session_id"], second["session_id"]);
        assert_eq!(row.detail["reason"], "logout");
    }
);

// ---- metrics --------------------------------------------------------------------------------

both!(
    metrics_count_token_validations_refresh_reuse_and_lockouts_by_step,
    [("LOCKOUT_THRESHOLD", "2"), ("LOCKOUT_LADDER", "1s,permanent"), ("REFRESH_REUSE_GRACE", "300ms")],
    |app: TestApp| async move {
        const VALID: &str = "tradesage_token_validations_total{outcome=\"valid\"}";
        const INVALID: &str = "tradesage_token_validations_total{outcome=\"invalid\"}";
        const REVOKED: &str = "tradesage_token_validations_total{outcome=\"session_revoked\"}";
        const GRACE: &str = "tradesage_refresh_reuse_total{verdict=\"within_grace\"}";
        const REFUSED: &str = "tradesage_refresh_reuse_total{verdict=\"refused\"}";
        const STEP_1: &str = "tradesage_lockouts_total{step=\"1\"}";
        const STEP_2: &str = "tradesage_lockouts_total{step=\"2\"}";

        // Token validations by outcome.
        let (_, login) = app.signed_in_user().await;
        let access = access_of(&login);
        let valid = metric(&app, VALID).await;
        assert_eq!(app.get_with(SESSIONS, &access).await.status(), 200);
        assert_eq!(metric(&app, VALID).await, valid + 1.0);
        let invalid = metric(&app, INVALID).await;
        assert_eq!(app.get_with(SESSIONS, "not.a-token.at-all").await.status(), 401);
        assert_eq!(metric(&app, INVALID).await, invalid + 1.0);
        let response = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(&access).send().await.unwrap();
        assert_eq!(response.status(), 204);
        let revoked = metric(&app, REVOKED).await;
        assert_eq!(code_of(app.get_with(SESSIONS, &access).await).await, "session_revoked");
        assert_eq!(metric(&app, REVOKED).await, revoked + 1.0);

        // Refresh reuse: within the grace, then after it.
        let (_, login) = app.signed_in_user().await;
        let spent = refresh_of(&login);
        assert_eq!(app.refresh_with(&spent).await.status(), 200);
        assert_eq!((metric(&app, GRACE).await, metric(&app, REFUSED).await), (0.0, 0.0));
        assert_eq!(code_of(app.refresh_with(&spent).await).await, "token_rotated");
        assert_eq!((metric(&app, GRACE).await, metric(&app, REFUSED).await), (1.0, 0.0));
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(code_of(app.refresh_with(&spent).await).await, "token_reused");
        assert_eq!((metric(&app, GRACE).await, metric(&app, REFUSED).await), (1.0, 1.0));

        // Lockouts by ladder step.
        let attempt =
            || app.post("/api/v1/auth/login", json!({"email": "ladder@example.com", "password": "nope-nope-1"}));
        assert_eq!(attempt().await.status(), 401);
        assert_eq!(metric(&app, STEP_1).await, 0.0);
        assert_eq!(attempt().await.status(), 423);
        assert_eq!((metric(&app, STEP_1).await, metric(&app, STEP_2).await), (1.0, 0.0));
        assert_eq!(attempt().await.status(), 423, "an attempt while locked is no new lock");
        assert_eq!((metric(&app, STEP_1).await, metric(&app, STEP_2).await), (1.0, 0.0));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(attempt().await.status(), 401);
        assert_eq!(attempt().await.status(), 423);
        assert_eq!((metric(&app, STEP_1).await, metric(&app, STEP_2).await), (1.0, 1.0));
    }
);
