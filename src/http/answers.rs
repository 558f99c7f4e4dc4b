//! Success answers shared by handlers whose bodies caches along the way must not keep: tokens,
//! two-factor secrets, recovery codes and new API keys.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// `value` as JSON with `status`, marked `Cache-Control: no-store`.
pub fn no_store(status: StatusCode, value: impl Serialize) -> Response {
    let mut response = (status, Json(value)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
