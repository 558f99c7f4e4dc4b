//! The HTTP face: the axum router, its middleware, extractors, handlers (one module per
//! resource) and the one problem+json error mapping.

pub mod admin;
pub mod auth;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod ops_views;
pub mod orders;
pub mod pagination;
pub mod tenants;
pub mod users;
pub mod views;

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use self::error::ApiError;
pub use self::extract::AppState;

/// Request bodies beyond 1 MiB answer 413.
const MAX_BODY: usize = 1024 * 1024;

async fn route_not_found() -> impl IntoResponse {
    ApiError::RouteNotFound
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::MethodNotAllowed
}

/// The API routes (everything under `/api/v1`).
fn api(core: AppState) -> Router<AppState> {
    let auth = Router::new()
        .route("/register", post(auth::register))
        .route("/login", post(auth::login))
        .route("/refresh", post(auth::refresh))
        .route("/logout", post(auth::logout))
        .route("/logout-all", post(auth::logout_all))
        .route("/sessions", get(auth::sessions))
        .route("/sessions/{id}", delete(auth::end_session));
    Router::new()
        .nest("/auth", auth)
        .route("/admin/actors", get(ops::actors))
        .route("/admin/actors/history", get(ops::actors_history))
        .route("/users/me", get(users::me).patch(users::update_me))
        .route("/users/me/password", post(users::change_password))
        .route("/admin/users", get(admin::list_users).post(admin::create_user))
        .route("/admin/users/{id}", get(admin::get_user).patch(admin::update_user))
        .route("/admin/users/{id}/unlock", post(admin::unlock_user))
        .route("/admin/users/{id}/sessions", get(admin::user_sessions))
        .route("/admin/sessions/{id}", delete(admin::end_session))
        .route("/admin/lockouts", get(admin::lockouts))
        .route("/admin/audit", get(admin::audit))
        .route("/tenants", get(tenants::list).post(tenants::create))
        .route("/tenants/{id}", get(tenants::get).patch(tenants::update))
        .route("/orders", get(orders::list).post(orders::place))
        .route("/orders/{id}", delete(orders::cancel))
        .fallback(route_not_found)
        .layer(axum::middleware::from_fn_with_state(core, middleware::limit_ip))
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-requested-with"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Where the built web app is (`web/dist`, or `TRADESAGE_WEB_DIR`).
pub fn web_dir() -> PathBuf {
    std::env::var_os("TRADESAGE_WEB_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("web/dist"))
}

/// The whole application.
pub fn router(core: AppState) -> Router {
    let web = web_dir();
    let spa = ServeDir::new(&web).fallback(ServeFile::new(web.join("index.html")));
    let routes = Router::new()
        .route("/health", get(ops::health))
        .route("/health/detailed", get(ops::health_detailed))
        .route("/metrics", get(ops::metrics))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/openapi.json", get(openapi::openapi_json))
        .nest("/api/v1", api(core.clone()))
        // Anything else under /api is an unknown route, never the web app's index page.
        .route("/api", axum::routing::any(route_not_found))
        .route("/api/{*rest}", axum::routing::any(route_not_found))
        .fallback_service(spa);
    with_pipeline(routes, core)
}

/// Wraps `routes` in the request pipeline every answer goes through: request id, security
/// headers, access log and metrics, CORS, panic catching, body limit, problem+json for 405.
/// Public so tests can put a route of their own (one that panics, say) inside it.
pub fn with_pipeline(routes: Router<AppState>, core: AppState) -> Router {
    let panic_core = core.clone();
    routes
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(CatchPanicLayer::custom(move |panic| middleware::panic_response(&panic_core, panic)))
        .layer(cors(&core.config.cors_allowed_origins))
        .layer(axum::middleware::from_fn_with_state(core.clone(), middleware::envelope))
        .with_state(core)
}
