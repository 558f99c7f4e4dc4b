//! `spawn_app()`: a server on port 0 with its own data dir, and — for the PostgreSQL + Redis
//! backend — its own freshly created database and Redis key prefix. PostgreSQL and Redis must
//! answer: a test that needs them fails (it is never skipped).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::app::Application;
use tradesage::config::Config;
use tradesage::domain::{Email, NewOrder, Order, OrderStatus, Password, Role, Tenant};
use tradesage::service::Core;
use uuid::Uuid;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const PASSWORD: &str = "correct-horse-battery-9";
/// Signing keys from files (`JWT_PRIVATE_KEY_PATH`) in the test's data directory, generated
/// before the server starts, instead of the database: `both!(name, [KEY_FILES], …)`.
pub const KEY_FILES: (&str, &str) = ("JWT_PRIVATE_KEY_PATH", "{data_dir}/jwt-private.pem");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    PostgresRedis,
}

/// Runs a test body once per backend: `both!(name, |app| async move { … })` defines
/// `name::embedded` and `name::postgres_redis`; `both!(name, [("VAR","value")], |app| …)`
/// adds configuration.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        $crate::both!($name, [], $body);
    };
    ($name:ident, [$($pair:expr),* $(,)?], $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                let app = $crate::helpers::spawn_app_with($crate::helpers::Backend::Embedded, &[$($pair),*]).await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                let app = $crate::helpers::spawn_app_with($crate::helpers::Backend::PostgresRedis, &[$($pair),*]).await;
                let database = app.vars.get("DATABASE_URL").cloned();
                ($body)(app).await;
                $crate::helpers::drop_database(database).await;
            }
        }
    };
}

/// What a test needs to reach its server and look behind it.
pub struct TestApp {
    pub address: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub core: Arc<Core>,
    pub backend: Backend,
    pub vars: HashMap<String, String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Drops a test's own database once the test has passed (a failed test leaves it to be looked
/// at; `scripts/test` clears leftovers before it starts).
pub async fn drop_database(url: Option<String>) {
    use sqlx::Connection;
    let Some(name) = url.as_deref().and_then(|u| u.rsplit('/').next()).filter(|n| n.starts_with("ts_test_")) else {
        return;
    };
    if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN_URL).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await;
    }
}

/// Creates a database of its own on the local PostgreSQL and returns its URL.
pub async fn fresh_database() -> String {
    use sqlx::Connection;
    let name = format!("ts_test_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(PG_ADMIN_URL)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must answer at {PG_ADMIN_URL} (start it: see README): {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create test database");
    format!("postgres://postgres@127.0.0.1:5432/{name}")
}

pub fn base_vars(backend: Backend) -> HashMap<String, String> {
    let data_dir = std::env::temp_dir().join(format!("tradesage-test-{}", Uuid::new_v4().simple()));
    let mut vars: HashMap<String, String> = [
        ("TRADESAGE_BIND", "127.0.0.1:0".to_string()),
        ("TRADESAGE_DATA_DIR", data_dir.display().to_string()),
        ("BCRYPT_ROUNDS", "4".into()),
        ("COOKIE_SECURE", "false".into()),
        ("RATE_LIMIT_LOGIN", "10000/min".into()),
        ("RATE_LIMIT_IP", "100000/min".into()),
        ("RATE_LIMIT_USER", "100000/min".into()),
        ("LOG_FORMAT", "json".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if backend == Backend::PostgresRedis {
        vars.insert("REDIS_URL".into(), REDIS_URL.into());
        vars.insert("REDIS_KEY_PREFIX".into(), format!("test:{}:", Uuid::new_v4().simple()));
    }
    vars
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    let mut vars = base_vars(backend);
    if backend == Backend::PostgresRedis {
        vars.insert("DATABASE_URL".into(), fresh_database().await);
    }
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.replace("{data_dir}", &vars["TRADESAGE_DATA_DIR"]));
    }
    if let Some(private) = vars.get("JWT_PRIVATE_KEY_PATH").map(PathBuf::from) {
        if !private.exists() {
            tradesage::auth::keys::generate_pair(&private, &private.with_file_name("jwt-public.pem")).unwrap();
        }
    }
    spawn_with_vars(backend, vars).await
}

/// Starts a server on exactly these variables (a second node shares a first one's).
pub async fn spawn_with_vars(backend: Backend, vars: HashMap<String, String>) -> TestApp {
    if backend == Backend::PostgresRedis {
        let redis = redis_answers().await;
        assert!(redis, "Redis must answer at {REDIS_URL} (start it: see README)");
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration");
    let app = Application::build(config).await.expect("server starts");
    let address = app.address();
    let core = app.core();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
    TestApp {
        base: format!("http://{address}"),
        address,
        client,
        core,
        backend,
        vars,
        shutdown: Some(tx),
        server: Some(server),
    }
}

async fn redis_answers() -> bool {
    tokio::net::TcpStream::connect("127.0.0.1:6379").await.is_ok()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(&self.vars["TRADESAGE_DATA_DIR"])
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stopped cleanly");
        }
    }

    /// A fresh client without cookies (another device).
    pub fn new_client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).build().expect("client")
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(&body).send().await.expect("request")
    }

    pub async fn get_with(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn register(&self, email: &str) -> Value {
        let response = self.post("/api/v1/auth/register", json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(response.status(), 201, "register {email}");
        response.json().await.expect("json")
    }

    /// Logs in with the refresh token in the body (API-client style); returns the answer.
    pub async fn login_body(&self, email: &str) -> Value {
        let response = self
            .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD, "token_delivery": "body"}))
            .await;
        assert_eq!(response.status(), 200, "login {email}");
        response.json().await.expect("json")
    }

    /// Registers and logs in a new viewer; returns the login answer.
    pub async fn signed_in_user(&self) -> (String, Value) {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        self.register(&email).await;
        let login = self.login_body(&email).await;
        (email, login)
    }

    pub async fn refresh_with(&self, refresh_token: &str) -> reqwest::Response {
        self.client.post(self.url("/api/v1/auth/refresh")).bearer_auth(refresh_token).send().await.expect("request")
    }
}

/// The problem `code` of an error answer.
pub async fn code_of(response: reqwest::Response) -> String {
    outcome(response).await.1
}

/// Waits (polling, up to `limit`) until `done` holds; answers whether it did.
pub async fn eventually(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    done()
}

/// Runs one SQL statement (`$1` a text, `$2` an id) on the test's own database, behind the
/// server's back: to stage what the server must cope with, rows it cannot read, say.
pub async fn raw_sql(app: &TestApp, sql: &str, text: &str, id: Uuid) {
    use sqlx::Connection;
    match app.backend {
        Backend::PostgresRedis => {
            let mut db = sqlx::PgConnection::connect(&app.vars["DATABASE_URL"]).await.expect("connect");
            sqlx::query(sql).bind(text).bind(id).execute(&mut db).await.expect("raw SQL");
        }
        Backend::Embedded => {
            let url = format!("sqlite://{}", app.data_dir().join("tradesage.db").display());
            let mut db = sqlx::SqliteConnection::connect(&url).await.expect("connect");
            sqlx::query(sql).bind(text).bind(id).execute(&mut db).await.expect("raw SQL");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Accounts, requests and answers shared by every module
// ---------------------------------------------------------------------------------------

/// The platform admin that `TRADESAGE_ADMIN_EMAIL` creates in the tests that set it.
pub const ROOT: &str = "root@example.com";

/// A signed-in account.
pub struct Member {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub session_id: Uuid,
}

/// Sends `method path` with a bearer token and an optional JSON body.
pub async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

/// Status, problem code and problem field of an answer (code and field empty on success).
pub async fn outcome(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
    (status, text("code"), text("field"))
}

/// Asserts a problem answer with this status and code.
pub async fn expect_problem(response: reqwest::Response, status: u16, code: &str) {
    let (got_status, got_code, field) = outcome(response).await;
    assert_eq!((got_status, got_code.as_str()), (status, code), "field: {field}");
}

/// Asserts a 422 naming `field`.
pub async fn expect_invalid(response: reqwest::Response, field: &str) {
    let (status, code, got_field) = outcome(response).await;
    assert_eq!((status, code.as_str(), got_field.as_str()), (422, "validation_failed", field));
}

pub async fn try_sign_in(app: &TestApp, tenant: &str, email: &str, password: &str) -> reqwest::Response {
    app.new_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"tenant": tenant, "email": email, "password": password, "token_delivery": "body"}))
        .send()
        .await
        .expect("request")
}

pub async fn sign_in(app: &TestApp, tenant: &str, email: &str, password: &str) -> Member {
    let response = try_sign_in(app, tenant, email, password).await;
    assert_eq!(response.status(), 200, "sign in {email} to {tenant}");
    let login: Value = response.json().await.expect("json");
    Member {
        id: login["user"]["id"].as_str().expect("user id").parse().expect("uuid"),
        email: email.to_owned(),
        token: login["access_token"].as_str().expect("access token").to_owned(),
        session_id: login["session_id"].as_str().expect("session id").parse().expect("uuid"),
    }
}

/// The platform admin, signed in (needs the `TRADESAGE_ADMIN_*` variables).
pub async fn root(app: &TestApp) -> Member {
    sign_in(app, "platform", ROOT, PASSWORD).await
}

pub async fn tenant(app: &TestApp, slug: &str) -> Tenant {
    app.core.stores.db.tenant_by_slug(slug).await.expect("store").expect("tenant exists")
}

/// Creates an account straight through the service (no admin needed).
pub async fn account(app: &TestApp, slug: &str, roles: &[Role]) -> (Uuid, String) {
    let label = roles.first().map_or("user", |r| r.as_str()).replace('_', "-");
    let email = format!("{label}-{}@example.com", Uuid::new_v4().simple());
    let tenant = tenant(app, slug).await;
    let email_parsed = Email::parse(&email).expect("email");
    let password = Password::parse_new(PASSWORD, "password").expect("password");
    let user = app
        .core
        .create_user(&tenant, &email_parsed, &password, "Member".into(), roles.to_vec())
        .await
        .expect("create user");
    (user.id, email)
}

/// Creates an account with `roles` in tenant `slug` and signs it in.
pub async fn member(app: &TestApp, slug: &str, roles: &[Role]) -> Member {
    let (_, email) = account(app, slug, roles).await;
    sign_in(app, slug, &email, PASSWORD).await
}

/// Stores an open order of `user_id` directly (for principals that may not place orders).
pub async fn stored_order(app: &TestApp, tenant_id: Uuid, user_id: Uuid) -> Uuid {
    let new = NewOrder::parse("AAPL", "buy", "1", "10").expect("order");
    let order = Order {
        id: Uuid::now_v7(),
        tenant_id,
        symbol: new.symbol,
        side: new.side,
        quantity: new.quantity,
        limit_price: new.limit_price,
        status: OrderStatus::Open,
        user_id,
        created_at: chrono::Utc::now(),
    };
    app.core.stores.db.insert_order(&order).await.expect("insert order");
    order.id
}

/// Whether the access token still works.
pub async fn me_status(app: &TestApp, token: &str) -> (u16, String) {
    let (status, code, _) = outcome(send(app, Method::GET, "/api/v1/users/me", token, None).await).await;
    (status, code)
}
