//! Operators' endpoints: `/health`, `/health/detailed`, `/metrics`, the JWKS document, the
//! supervision tree of this node or of the cluster (`/api/v1/admin/actors`) and its history.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::{IntoParams, ToSchema};

use super::auth::bad_query;
use super::error::ApiError;
use super::extract::{bearer, AppState, Meta};
use super::openapi as doc;
use super::ops_views::{
    ActorsAnswer, ActorsHistoryView, ActorsScope, ClusterActorsView, DetailedHealth, NodeHistoryView, Status,
};
use super::pagination::ApiQuery;
use super::views::ActorsView;
use crate::actors::history::STEP;
use crate::domain::api_key::looks_like_key;
use crate::domain::Scope;
use crate::service::operators::HISTORY_MINUTES;
use crate::service::{Core, RequestMeta, ServiceError};

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

/// Readiness: each dependency with its status, latency and backend; 503 when one is down.
/// The rules of each check are in `service::health`.
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
    let body = DetailedHealth::from(&core.health().await);
    let down = body.status == Status::Down;
    let code = if down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let mut response = (code, Json(body)).into_response();
    if down {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(5));
    }
    response
}

/// `METRICS_TOKEN` unset: open. Set: that bearer token, or an access token with `actors:read`.
async fn operator_allowed(core: &Core, headers: &HeaderMap, meta: &RequestMeta) -> Result<(), ApiError> {
    let token = bearer(headers);
    if let (Some(expected), Some(given)) = (&core.config.metrics_token, token) {
        if bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes())) {
            return Ok(());
        }
    }
    let token = token.ok_or(ServiceError::TokenMissing)?;
    // An API key with `actors:read` will do too (a monitoring system's own key).
    let claims = if looks_like_key(token) {
        core.authenticate_api_key(token, meta).await?
    } else {
        core.authenticate(token).await?
    };
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
pub async fn metrics(State(core): State<AppState>, Meta(meta): Meta, headers: HeaderMap) -> Result<Response, ApiError> {
    if core.config.metrics_token.is_some() {
        operator_allowed(&core, &headers, &meta).await?;
    }
    core.metrics.bcrypt_queue.set(core.passwords.queue_depth());
    core.export_circuits();
    let mut response = core.metrics.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(response)
}

/// `?scope=`, kept as text so that a bad value answers 422 naming it.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActorsParams {
    /// `node` (the default): this node's actor system. `cluster`: `{node, nodes}`, every live
    /// node's — each node publishes its snapshot every 2 s; one not heard for 10 s is left out.
    #[param(value_type = Option<ActorsScope>)]
    scope: Option<String>,
}

/// The supervision tree of the actor system (scope `actors:read`, or `METRICS_TOKEN`): this
/// node's, or with `scope=cluster` every live node's.
#[utoipa::path(
    get,
    path = "/api/v1/admin/actors",
    operation_id = "admin_actors",
    tag = "ops",
    security(("bearer" = ["actors:read"])),
    params(ActorsParams),
    responses(
        (status = 200, description = "The actor system of this node (`scope=node`) or of every live node \
            (`scope=cluster`)", body = ActorsAnswer),
        doc::QueryProblems,
    )
)]
pub async fn actors(
    State(core): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ActorsParams>,
) -> Result<Response, ApiError> {
    operator_allowed(&core, &headers, &meta).await?;
    let answer = match q.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("node") => ActorsAnswer::Node(ActorsView::from(&core.actors_here())),
        Some("cluster") => ActorsAnswer::Cluster(ClusterActorsView {
            node: core.node.clone(),
            nodes: core.actors_cluster().iter().map(ActorsView::from).collect(),
        }),
        Some(_) => return Err(bad_query("scope", "must be `node` or `cluster`")),
    };
    Ok(Json(answer).into_response())
}

/// `?minutes=`, kept as text so that a bad value answers 422 naming it.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// How far back, 1–15 minutes; 15 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 15)]
    minutes: Option<String>,
}

/// The actors' history per node and kind, one point each 10 s (scope `actors:read`, or
/// `METRICS_TOKEN`). Each node answers from the reports it heard: a node that stopped
/// reporting keeps its past points, marked `reporting: false`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/actors/history",
    operation_id = "admin_actors_history",
    tag = "ops",
    security(("bearer" = ["actors:read"])),
    params(HistoryParams),
    responses(
        (status = 200, description = "Points per node and kind, oldest first", body = ActorsHistoryView),
        doc::QueryProblems,
    )
)]
pub async fn actors_history(
    State(core): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<HistoryParams>,
) -> Result<Response, ApiError> {
    operator_allowed(&core, &headers, &meta).await?;
    let minutes = match q.minutes.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => HISTORY_MINUTES,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=HISTORY_MINUTES).contains(m))
            .ok_or_else(|| bad_query("minutes", "must be a whole number from 1 to 15"))?,
    };
    let nodes = core.actors_history(minutes);
    let view =
        ActorsHistoryView { step_s: STEP.as_secs(), minutes, nodes: nodes.iter().map(NodeHistoryView::from).collect() };
    Ok(Json(view).into_response())
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
