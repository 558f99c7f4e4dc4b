//! Operators' endpoints: `/health`, `/health/detailed`, `/metrics`, the JWKS document and the
//! supervision tree (`/api/v1/admin/actors`).

use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::{bearer, AppState};
use super::openapi as doc;
use crate::domain::Scope;
use crate::service::{Core, ServiceError};
use crate::store::breaker::BreakerState;
use crate::store::Cache;

/// The answer of `/health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: answers without touching any dependency.
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    responses((status = 200, description = "The server is up", body = Health, example = json!({"status": "ok"})))
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The state of one dependency; the overall status is the worst of them.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Degraded,
    Down,
}

#[derive(Serialize, ToSchema)]
struct Check {
    status: Status,
    latency_ms: f64,
    /// `postgres` or `sqlite` for the database, `redis` or `memory` for the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// The answer of `/health/detailed`.
// Fields in the order the `json!` map this replaced wrote them (alphabetical).
#[derive(Serialize, ToSchema)]
struct DetailedHealth {
    checks: Checks,
    /// The worst of the checks.
    status: Status,
}

#[derive(Serialize, ToSchema)]
struct Checks {
    actors: Check,
    cache: Check,
    database: Check,
    keys: Check,
}

/// Readiness: each dependency with its status, latency and backend; 503 when one is down.
#[utoipa::path(
    get,
    path = "/health/detailed",
    tag = "ops",
    responses(
        (status = 200, description = "Every check `ok` or `degraded`", body = DetailedHealth),
        (status = 503, description = "A check is `down`", body = DetailedHealth,
            headers(("Retry-After" = u64, description = "Seconds"))),
    )
)]
pub async fn health_detailed(State(core): State<AppState>) -> Response {
    let started = Instant::now();
    let database = match core.stores.db.ping().await {
        Ok(()) => {
            Check { status: Status::Ok, latency_ms: ms(started), backend: Some(core.stores.db.backend()), detail: None }
        }
        Err(_) => Check {
            status: Status::Down,
            latency_ms: ms(started),
            backend: Some(core.stores.db.backend()),
            detail: Some("not answering".into()),
        },
    };
    let started = Instant::now();
    let cache = match core.stores.cache.ping().await {
        // Without the cache everything goes on through the database: degraded, not down.
        Ok(()) => Check {
            status: Status::Ok,
            latency_ms: ms(started),
            backend: Some(core.stores.cache.backend()),
            detail: None,
        },
        Err(_) => Check {
            status: Status::Degraded,
            latency_ms: ms(started),
            backend: Some(core.stores.cache.backend()),
            detail: Some("not answering; serving from the database".into()),
        },
    };
    core.metrics.cache_circuit_open.set(i64::from(core.stores.cache.breaker_state() == BreakerState::Open));
    let started = Instant::now();
    let live = core.actors.sessions.live_count() + core.actors.lockouts.live_count();
    let actors = Check {
        status: Status::Ok,
        latency_ms: ms(started),
        backend: None,
        detail: Some(format!("{live} live actors")),
    };
    let keys = core.tokens.key_ring().keys();
    let keys = Check {
        status: Status::Ok,
        latency_ms: 0.0,
        backend: None,
        detail: Some(format!("{} verifying keys", keys.verifying.len())),
    };
    let worst = [database.status, cache.status, actors.status, keys.status].into_iter().max().unwrap_or(Status::Ok);
    let code = if worst == Status::Down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let body = DetailedHealth { checks: Checks { actors, cache, database, keys }, status: worst };
    let mut response = (code, Json(body)).into_response();
    if code == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(5));
    }
    response
}

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

/// `METRICS_TOKEN` unset: open. Set: that bearer token, or an access token with `actors:read`.
async fn operator_allowed(core: &Core, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers);
    if let (Some(expected), Some(given)) = (&core.config.metrics_token, token) {
        if bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes())) {
            return Ok(());
        }
    }
    let token = token.ok_or(ServiceError::TokenMissing)?;
    let claims = core.authenticate(token).await?;
    // The `require_mfa` rule, as the caller extractor applies it (no operator route is exempt).
    core.require_mfa_enrolment(&claims).await?;
    if claims.has_scope(Scope::ActorsRead.as_str()) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("this needs the `actors:read` scope".into()).into())
    }
}

/// Prometheus metrics. Open unless `METRICS_TOKEN` is set; then it needs that token, or an
/// access token with `actors:read`, as a bearer token.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    security((), ("bearer" = ["actors:read"])),
    responses(
        (status = 200, description = "Prometheus text exposition format",
            content_type = "text/plain; version=0.0.4; charset=utf-8", body = String),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 503, response = doc::Unavailable),
    )
)]
pub async fn metrics(State(core): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if core.config.metrics_token.is_some() {
        operator_allowed(&core, &headers).await?;
    }
    core.metrics.bcrypt_queue.set(core.passwords.queue_depth());
    core.metrics.cache_circuit_open.set(i64::from(core.stores.cache.breaker_state() == BreakerState::Open));
    let mut response = core.metrics.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(response)
}

/// The supervision tree of the actor system (scope `actors:read`, or `METRICS_TOKEN`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/actors",
    operation_id = "admin_actors",
    tag = "ops",
    security(("bearer" = ["actors:read"])),
    responses(
        (status = 200, description = "The actor system", body = super::views::ActorsView),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 429, response = doc::TooManyRequests),
        (status = 503, response = doc::Unavailable),
    )
)]
pub async fn actors(State(core): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    operator_allowed(&core, &headers).await?;
    Ok(Json(super::views::ActorsView::from(&core.actors.snapshot(&core.node))).into_response())
}

/// The public keys that verify access and refresh tokens (current and still-valid previous).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "ops",
    responses((status = 200, description = "JSON Web Key Set", body = super::views::Jwks))
)]
pub async fn jwks(State(core): State<AppState>) -> Response {
    let mut response = Json(core.tokens.key_ring().keys().jwks()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
