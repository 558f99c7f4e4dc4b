//! The request pipeline around every route: request id, security headers, per-IP rate limit,
//! header-size limit, timeout, one JSON access-log line and the HTTP metrics per request.

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{client_ip, AppState};
use crate::domain::text::{plain, Tabs};

/// Headers beyond this many bytes in total are refused with 431.
const MAX_HEADER_BYTES: usize = 16 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-xss-protection", "1; mode=block"),
    ("strict-transport-security", "max-age=31536000"),
    ("content-security-policy", "default-src 'self'"),
];

/// Runs around everything: gives the request an id (echoing a sane one it came with), sets
/// the security headers on whatever comes back, logs and measures.
pub async fn envelope(State(core): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let incoming = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    let id = incoming.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert("x-request-id", value);
    }
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let path_for_log = route.clone().unwrap_or_else(|| "unmatched".into());
    let header_bytes: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let mut response = if header_bytes > MAX_HEADER_BYTES {
        ApiError::HeadersTooLarge.into_response()
    } else {
        match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError::Timeout.into_response(),
        }
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-request-id", value);
    }
    let status = response.status();
    let elapsed = started.elapsed();
    let route_label = route.as_deref().unwrap_or(if status == StatusCode::NOT_FOUND { "not_found" } else { "other" });
    core.metrics.http_requests.with_label_values(&[route_label, method.as_str(), status.as_str()]).inc();
    core.metrics.http_duration.with_label_values(&[route_label, method.as_str()]).observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "access",
        method = %method,
        route = %path_for_log,
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1_000.0,
        request_id = %id,
        "request"
    );
    response
}

/// Per-client-IP limit on the API (`RATE_LIMIT_IP`).
pub async fn limit_ip(State(core): State<AppState>, request: Request, next: Next) -> Response {
    let ip = client_ip(&core.config.trusted_proxies, request.extensions(), request.headers());
    let limit = core.config.rate_limit_ip;
    match core.stores.limits.check(&format!("rl:ip:{ip}"), limit).await {
        Ok(decision) if !decision.allowed => {
            core.metrics.rate_limited.with_label_values(&["ip"]).inc();
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
