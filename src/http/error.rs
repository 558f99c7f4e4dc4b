//! The one mapping from errors to `application/problem+json` answers. Internals are logged
//! with the request id, never shown.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::ServiceError;
use crate::store::RateDecision;

/// An error answered over HTTP.
#[derive(Debug)]
pub enum ApiError {
    Service(ServiceError),
    /// Malformed JSON, a bad query string or path.
    BadRequest(String),
    UnsupportedMediaType,
    PayloadTooLarge,
    /// The request's headers exceed the server's limit (431).
    HeadersTooLarge,
    RouteNotFound,
    MethodNotAllowed,
    RateLimited(RateDecision),
    /// A cookie-authenticated write from a foreign origin (CSRF).
    CrossSite,
    Timeout,
}

impl<E: Into<ServiceError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError::Service(error.into())
    }
}

/// An error, as `application/problem+json` (RFC 9457).
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem<'a> {
    /// `https://tradesage.dev/problems/<code>`.
    #[serde(rename = "type")]
    #[schema(format = "uri", example = "https://tradesage.dev/problems/validation_failed")]
    kind: String,
    #[schema(example = "Validation failed")]
    title: &'a str,
    /// The HTTP status code.
    #[schema(example = 422)]
    status: u16,
    /// What went wrong, for people.
    #[schema(example = "email: is not a valid email address")]
    detail: String,
    /// Stable, for programs: `validation_failed`, `invalid_credentials`, `account_locked`,
    /// `account_disabled`, `token_missing`, `token_invalid`, `token_expired`, `token_rotated`,
    /// `token_reused`, `session_revoked`, `session_ip_mismatch`, `forbidden`, `not_found`,
    /// `conflict`, `rate_limited`, `payload_too_large`, `unavailable`, `mfa_invalid`,
    /// `mfa_enrollment_required`, `ip_not_allowed` (and `internal` for 500).
    #[schema(example = "validation_failed")]
    code: &'a str,
    /// The request field at fault (`validation_failed` answers of a field rule only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false, example = "email")]
    field: Option<&'a str>,
}

/// An error and every source under it, as one line: `outer: cause: root cause`. Internal
/// errors are logged this way once, here, where they become an answer.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // An error whose message already quotes its source ("store unavailable: {0}") is
        // not repeated.
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

fn seconds_ceil(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        use ServiceError as S;
        match self {
            ApiError::Service(e) => match e {
                S::Validation(v) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed", v.to_string())
                }
                S::InvalidCredentials => {
                    (StatusCode::UNAUTHORIZED, "invalid_credentials", "Invalid credentials", e.to_string())
                }
                S::AccountLocked { retry_after } => {
                    let detail = match retry_after {
                        Some(d) => format!("too many failed sign-ins; try again in {} s", seconds_ceil(*d)),
                        None => "too many failed sign-ins; an administrator must unlock this account".into(),
                    };
                    (StatusCode::LOCKED, "account_locked", "Account locked", detail)
                }
                S::AccountDisabled => (StatusCode::FORBIDDEN, "account_disabled", "Account disabled", e.to_string()),
                S::TokenMissing => {
                    (StatusCode::UNAUTHORIZED, "token_missing", "Authentication required", e.to_string())
                }
                S::TokenInvalid => (StatusCode::UNAUTHORIZED, "token_invalid", "Invalid token", e.to_string()),
                S::TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired", "Token expired", e.to_string()),
                S::TokenRotated => (StatusCode::UNAUTHORIZED, "token_rotated", "Token already rotated", e.to_string()),
                S::TokenReused => (StatusCode::UNAUTHORIZED, "token_reused", "Token reuse detected", e.to_string()),
                S::SessionRevoked => (StatusCode::UNAUTHORIZED, "session_revoked", "Session ended", e.to_string()),
                S::SessionIpMismatch => {
                    (StatusCode::UNAUTHORIZED, "session_ip_mismatch", "Session bound to another address", e.to_string())
                }
                S::MfaInvalid => (StatusCode::UNAUTHORIZED, "mfa_invalid", "Invalid two-factor code", e.to_string()),
                S::MfaEnrollmentRequired => {
                    (StatusCode::FORBIDDEN, "mfa_enrollment_required", "Two-factor sign-in required", e.to_string())
                }
                S::IpNotAllowed => (StatusCode::FORBIDDEN, "ip_not_allowed", "Address not allowed", e.to_string()),
                S::Forbidden(detail) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail.clone()),
                S::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found", "no such resource".into()),
                S::Conflict(detail) => (StatusCode::CONFLICT, "conflict", "Conflict", detail.clone()),
                S::Unavailable(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "a dependency is unavailable; retry shortly".into(),
                ),
                S::Unexpected(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "an unexpected error occurred".into(),
                ),
            },
            ApiError::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, "validation_failed", "Malformed request", detail.clone())
            }
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "validation_failed",
                "Unsupported media type",
                "send Content-Type: application/json".into(),
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                "the body must be at most 1 MiB".into(),
            ),
            ApiError::HeadersTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "payload_too_large",
                "Request headers too large",
                "the request headers must be at most 16 KiB in total".into(),
            ),
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, "not_found", "Not found", "no such route".into()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "validation_failed",
                "Method not allowed",
                "this route does not take that method".into(),
            ),
            ApiError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                "slow down; see Retry-After".into(),
            ),
            ApiError::CrossSite => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Cross-site request refused",
                "cookie-authenticated writes need a trusted Origin or X-Requested-With".into(),
            ),
            ApiError::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Request timed out",
                "the request took too long; retry shortly".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title, detail) = self.parts();
        if let ApiError::Service(internal @ (ServiceError::Unavailable(_) | ServiceError::Unexpected(_))) = &self {
            tracing::error!(code, error = %chain(internal), "request failed");
        }
        let field = match &self {
            ApiError::Service(ServiceError::Validation(v)) => Some(v.field),
            _ => None,
        };
        let problem = Problem {
            kind: format!("https://tradesage.dev/problems/{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            field,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{code}\"");
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        let retry_after = match &self {
            ApiError::Service(ServiceError::AccountLocked { retry_after }) => retry_after.map(seconds_ceil),
            ApiError::Service(ServiceError::Unavailable(_)) | ApiError::Timeout => Some(5),
            ApiError::RateLimited(decision) => {
                headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
                headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
                headers.insert("ratelimit-reset", HeaderValue::from(seconds_ceil(decision.reset_after)));
                Some(seconds_ceil(decision.retry_after))
            }
            _ => None,
        };
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
