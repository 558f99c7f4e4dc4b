//! Our parts of the request pipeline; tower-http does the generic ones (request id, security
//! headers, CORS, panics — see `super::with_pipeline`). Here: the access-log line and HTTP
//! metrics of every answer with the 431 header limit, the timeout's problem+json answer, the
//! per-IP and per-route rate limits, and the control-character check of path ids.

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{client_ip, request_id, AppState};
use crate::domain::text::{plain, Tabs};

/// Headers beyond this many bytes in total are refused with 431.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// A request still unanswered after this answers 503 (see [`timed_out`]).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Set on every answer, errors and the web app included.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-xss-protection", "1; mode=block"),
    ("strict-transport-security", "max-age=31536000"),
    ("content-security-policy", "default-src 'self'"),
];

/// Keeps an incoming `X-Request-Id` that is sane (1–128 visible ASCII characters, so it is
/// safe in a log line) and drops any other, so that `SetRequestId` gives a fresh one instead.
pub fn drop_insane_request_id(mut request: Request) -> Request {
    let sane = |v: &axum::http::HeaderValue| {
        let bytes = v.as_bytes();
        !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(u8::is_ascii_graphic)
    };
    if request.headers().get_all("x-request-id").iter().count() > 1
        || request.headers().get("x-request-id").is_some_and(|v| !sane(v))
    {
        request.headers_mut().remove("x-request-id");
    }
    request
}

/// Around every route (inside the request id and security headers): refuses oversized headers
/// with 431, then writes one access-log line and the HTTP metrics of the answer, whatever it is.
pub async fn observe(State(core): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(request.headers());
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let header_bytes: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let response = if header_bytes > MAX_HEADER_BYTES {
        ApiError::HeadersTooLarge.into_response()
    } else {
        next.run(request).await
    };
    let status = response.status();
    let elapsed = started.elapsed();
    let route_label = route.as_deref().unwrap_or(if status == StatusCode::NOT_FOUND { "not_found" } else { "other" });
    core.metrics.http_requests.with_label_values(&[route_label, method.as_str(), status.as_str()]).inc();
    core.metrics.http_duration.with_label_values(&[route_label, method.as_str()]).observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "access",
        method = %method,
        route = route.as_deref().unwrap_or("unmatched"),
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1_000.0,
        request_id = %id,
        "request"
    );
    response
}

/// The answer of a request that outlived [`REQUEST_TIMEOUT`]: the timeout layer's only error.
pub async fn timed_out(_elapsed: tower::BoxError) -> ApiError {
    ApiError::Timeout
}

/// Per-client-IP limit (`RATE_LIMIT_IP`) on the API, `/metrics` and `/health/detailed`.
pub async fn limit_ip(State(core): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limit) = core.config.rate_limit_ip else { return next.run(request).await };
    let ip = client_ip(&core.config.trusted_proxies, request.extensions(), request.headers());
    match core.stores.limits.check(&format!("rl:ip:{ip}"), Some(limit)).await {
        Ok(decision) if !decision.allowed => {
            core.metrics.rate_limited.with_label_values(&["ip"]).inc();
            ApiError::RateLimited(decision).into_response()
        }
        _ => next.run(request).await,
    }
}

/// Per-route limits of `RATE_LIMIT_ROUTES`, counted per client address; a route is matched as
/// the router spells it (`/api/v1/orders/{id}`), whatever the id.
pub async fn limit_route(State(core): State<AppState>, request: Request, next: Next) -> Response {
    let limit = request.extensions().get::<MatchedPath>().and_then(|route| {
        let method = request.method().as_str();
        core.config.rate_limit_routes.iter().find(|l| l.method == method && l.path == route.as_str())
    });
    let Some(limit) = limit else { return next.run(request).await };
    let ip = client_ip(&core.config.trusted_proxies, request.extensions(), request.headers());
    let key = format!("rl:route:{} {}:{ip}", limit.method, limit.path);
    match core.stores.limits.check(&key, Some(limit.rate)).await {
        Ok(decision) if !decision.allowed => {
            core.metrics.rate_limited.with_label_values(&["route"]).inc();
            ApiError::RateLimited(decision).into_response()
        }
        _ => next.run(request).await,
    }
}

/// Refuses a path parameter (an id) that holds a control character with 422 naming it, before
/// any handler sees it.
pub async fn plain_path(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, &()).await {
        for (name, value) in &params {
            let field = if name == "id" { "id" } else { "path" };
            if let Err(refused) = plain(field, value, Tabs::Refused) {
                return ApiError::from(refused).into_response();
            }
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Answers a handler panic with a 500 problem+json (the server lives on), counted and logged.
pub fn panic_response(core: &AppState, _panic: Box<dyn std::any::Any + Send>) -> Response {
    core.metrics.http_panics.inc();
    tracing::error!("a handler panicked; answered 500");
    ApiError::Service(crate::service::ServiceError::Unexpected("handler panic".into())).into_response()
}
