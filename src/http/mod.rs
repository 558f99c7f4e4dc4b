//! The HTTP face: the axum router, its middleware, extractors, handlers (one module per
//! resource) and the one problem+json error mapping.

pub mod admin;
pub mod answers;
pub mod api_keys;
pub mod auth;
pub mod error;
pub mod extract;
pub mod mfa;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod ops_views;
pub mod orders;
pub mod pagination;
pub mod problems;
pub mod tenants;
pub mod users;
pub mod views;
pub mod web;

use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;
use tower::timeout::TimeoutLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use self::error::ApiError;
pub use self::extract::AppState;
use crate::config::{Config, ConfigError};

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
        .route("/mfa/verify", post(mfa::verify))
        .route("/sessions", get(auth::sessions))
        .route("/sessions/{id}", delete(auth::end_session));
    Router::new()
        .nest("/auth", auth)
        .route("/admin/actors", get(ops::actors))
        .route("/admin/actors/history", get(ops::actors_history))
        .route("/users/me", get(users::me).patch(users::update_me))
        .route("/users/me/password", post(users::change_password))
        .route("/users/me/mfa", delete(mfa::disable))
        .route("/users/me/mfa/totp", post(mfa::enrol))
        .route("/users/me/mfa/totp/confirm", post(mfa::confirm))
        .route("/users/me/mfa/recovery-codes", post(mfa::renew_recovery_codes))
        .route("/users/me/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/users/me/api-keys/{id}", delete(api_keys::revoke))
        .route("/admin/users/{id}/api-keys", get(api_keys::admin_list))
        .route("/admin/api-keys/{id}", delete(api_keys::admin_revoke))
        .route("/admin/users", get(admin::list_users).post(admin::create_user))
        .route("/admin/users/{id}", get(admin::get_user).patch(admin::update_user))
        .route("/admin/users/{id}/unlock", post(admin::unlock_user))
        .route("/admin/users/{id}/mfa", delete(admin::reset_mfa))
        .route("/admin/users/{id}/sessions", get(admin::user_sessions))
        .route("/admin/sessions/{id}", delete(admin::end_session))
        .route("/admin/lockouts", get(admin::lockouts))
        .route("/admin/audit", get(admin::audit))
        .route("/tenants", get(tenants::list).post(tenants::create))
        .route("/tenants/{id}", get(tenants::get).patch(tenants::update))
        .route("/orders", get(orders::list).post(orders::place))
        .route("/orders/{id}", delete(orders::cancel))
        .fallback(route_not_found)
        .layer(axum::middleware::from_fn_with_state(core, middleware::api_gate))
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

/// The whole application.
pub fn router(core: AppState) -> Router {
    let limited_ops = Router::new()
        // Operators' endpoints that touch the stores count against the per-IP limit; liveness
        // (`/health`) never does, so a probe is never refused.
        .route("/health/detailed", get(ops::health_detailed))
        .route("/metrics", get(ops::metrics))
        .layer(axum::middleware::from_fn_with_state(core.clone(), middleware::limit_ip));
    let routes = Router::new()
        .route("/health", get(ops::health))
        .merge(limited_ops)
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/openapi.json", get(openapi::openapi_json))
        .nest("/api/v1", api(core.clone()))
        // Anything else under /api is an unknown route, never the web app's index page.
        .route("/api", axum::routing::any(route_not_found))
        .route("/api/{*rest}", axum::routing::any(route_not_found));
    // Everything else is the web app: the one built into the binary, or TRADESAGE_WEB_DIR's.
    let routes = match &core.config.web_dir {
        Some(dir) => routes.fallback_service(web::folder(dir)),
        None => routes.fallback(web::embedded),
    };
    pipeline(routes, core)
}

/// Test hook: `routes` inside the request pipeline every answer goes through, so a test can
/// put a route of its own (one that panics, say) behind it.
#[cfg(feature = "test-hooks")]
pub fn with_pipeline(routes: Router<AppState>, core: AppState) -> Router {
    pipeline(routes, core)
}

/// Wraps `routes` in the request pipeline every answer goes through, outermost first: the
/// request id (a sane incoming one is kept and echoed, any other replaced by a UUID), the
/// security headers, the access log and metrics (and 431 for oversized headers), a timeout
/// answering problem+json 503, CORS, panic catching, per-route limits, the body limit and
/// problem+json for 405.
fn pipeline(routes: Router<AppState>, core: AppState) -> Router {
    let panic_core = core.clone();
    // Without per-route limits the layer is left out: every layer costs every request.
    let route_limits = (!core.config.rate_limit_routes.is_empty())
        .then(|| axum::middleware::from_fn_with_state(core.clone(), middleware::limit_route));
    let pipeline = ServiceBuilder::new()
        .map_request(middleware::drop_insane_request_id)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .map_response(middleware::security_headers)
        .layer(axum::middleware::from_fn_with_state(core.clone(), middleware::observe))
        .layer(HandleErrorLayer::new(middleware::timed_out))
        .layer(TimeoutLayer::new(middleware::REQUEST_TIMEOUT))
        .layer(cors(&core.config.cors_allowed_origins))
        .layer(CatchPanicLayer::custom(move |panic| middleware::panic_response(&panic_core, panic)))
        .option_layer(route_limits);
    routes
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(pipeline)
        .with_state(core)
}

/// Checks that every `RATE_LIMIT_ROUTES` entry names a route of this server — one the OpenAPI
/// document lists, which a test keeps equal to the router — since a limit on a route that does
/// not exist would silently never apply.
pub fn check_route_limits(config: &Config) -> Result<(), ConfigError> {
    use utoipa::OpenApi;
    let doc = openapi::ApiDoc::openapi();
    for limit in &config.rate_limit_routes {
        let operation = doc.paths.paths.get(&limit.path).and_then(|item| match limit.method.as_str() {
            "GET" => item.get.as_ref(),
            "POST" => item.post.as_ref(),
            "PUT" => item.put.as_ref(),
            "PATCH" => item.patch.as_ref(),
            "DELETE" => item.delete.as_ref(),
            "HEAD" => item.head.as_ref(),
            "OPTIONS" => item.options.as_ref(),
            _ => None,
        });
        if operation.is_none() {
            return Err(ConfigError {
                variable: "RATE_LIMIT_ROUTES",
                message: format!("`{} {}` is not a route of this server", limit.method, limit.path),
            });
        }
    }
    Ok(())
}
