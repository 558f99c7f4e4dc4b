//! Our parts of the request pipeline; tower-http does the generic ones (request id, security
//! headers, CORS, panics — see `super::with_pipeline`). Here: the access-log line and HTTP
//! metrics of every answer with the 431 header limit, the timeout's problem+json answer, the
//! security headers, the per-IP and per-route rate limits, and the gate of API requests.

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api_keys;
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
    let route = request.extensions().get::<MatchedPath>().cloned();
    let header_bytes: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let response = if header_bytes > MAX_HEADER_BYTES {
        ApiError::HeadersTooLarge.into_response()
    } else {
        next.run(request).await
    };
    let status = response.status();
    let elapsed = started.elapsed();
    let route = route.as_ref().map(MatchedPath::as_str);
    let route_label = route.unwrap_or(if status == StatusCode::NOT_FOUND { "not_found" } else { "other" });
    core.metrics.http_requests.with_label_values(&[route_label, method.as_str(), status.as_str()]).inc();
    core.metrics.http_duration.with_label_values(&[route_label, method.as_str()]).observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "access",
        method = %method,
        route = route.unwrap_or("unmatched"),
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

/// The checks of every API request before its handler, in order: the per-client-IP limit,
/// API keys barred from sign-in routes, control characters in path ids. One layer rather than
/// three: each layer costs every request a boxed future and a clone of the routes behind it.
pub async fn api_gate(State(core): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(refusal) = ip_refusal(&core, ip_limit_key(&core, &request)).await {
        return refusal;
    }
    if let Some(refusal) = api_keys::key_refusal(&request) {
        return refusal;
    }
    match plain_path_ids(request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal,
    }
}

/// Per-client-IP limit (`RATE_LIMIT_IP`) alone: `/metrics` and `/health/detailed`.
pub async fn limit_ip(State(core): State<AppState>, request: Request, next: Next) -> Response {
    match ip_refusal(&core, ip_limit_key(&core, &request)).await {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// The limiter key of the request's client address; `None` when `RATE_LIMIT_IP` is off.
fn ip_limit_key(core: &AppState, request: &Request) -> Option<String> {
    core.config.rate_limit_ip?;
    let ip = client_ip(&core.config.trusted_proxies, request.extensions(), request.headers());
    Some(format!("rl:ip:{ip}"))
}

/// The 429 of a client address over `RATE_LIMIT_IP`; `None` lets the request on (a limiter
/// that cannot answer lets it on too: the limits protect, they do not gate availability).
async fn ip_refusal(core: &AppState, key: Option<String>) -> Option<Response> {
    let (limit, key) = (core.config.rate_limit_ip?, key?);
    match core.stores.limits.check(&key, Some(limit)).await {
        Ok(decision) if !decision.allowed => {
            core.metrics.rate_limited.with_label_values(&["ip"]).inc();
            Some(ApiError::RateLimited(decision).into_response())
        }
        _ => None,
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
async fn plain_path_ids(request: Request) -> Result<Request, Response> {
    let (mut parts, body) = request.into_parts();
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, &()).await {
        for (name, value) in &params {
            let field = if name == "id" { "id" } else { "path" };
            if let Err(refused) = plain(field, value, Tabs::Refused) {
                return Err(ApiError::from(refused).into_response());
            }
        }
    }
    Ok(Request::from_parts(parts, body))
}

/// Sets the security headers on every answer, errors and the web app included (over any a
/// handler set): one step rather than a layer per header.
pub fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    response
}

/// Answers a handler panic with a 500 problem+json (the server lives on), counted and logged.
pub fn panic_response(core: &AppState, _panic: Box<dyn std::any::Any + Send>) -> Response {
    core.metrics.http_panics.inc();
    tracing::error!("a handler panicked; answered 500");
    ApiError::Service(crate::service::ServiceError::Unexpected("handler panic".into())).into_response()
}
