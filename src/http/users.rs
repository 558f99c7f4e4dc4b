//! `/api/v1/users/me*`: the caller's own account. Any signed-in user may use these; no scope
//! is needed. Handlers are glue: extract, one call into the service, map the result.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use crate::domain::ValidationError;
use crate::service::users::PasswordChange;

#[derive(Deserialize)]
pub struct ProfilePatch {
    display_name: Option<String>,
}

/// The password fields arrive as raw JSON values so that a value of the wrong type is
/// reported under its own name (`new_password`), not under a field whose name it contains.
#[derive(Deserialize)]
pub struct PasswordBody {
    #[serde(default)]
    current_password: Option<Value>,
    #[serde(default)]
    new_password: Option<Value>,
}

fn text(value: Option<Value>, field: &'static str) -> Result<String, ValidationError> {
    match value {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(ValidationError::new(field, "is required")),
        Some(_) => Err(ValidationError::new(field, "must be a string")),
    }
}

pub async fn me(State(core): State<AppState>, AuthUser(claims): AuthUser) -> Result<Response, ApiError> {
    Ok(Json(core.me(&claims).await?).into_response())
}

pub async fn update_me(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<Response, ApiError> {
    Ok(Json(core.update_me(&claims, body.display_name, &meta).await?).into_response())
}

pub async fn change_password(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    let input = PasswordChange {
        current_password: text(body.current_password, "current_password")?,
        new_password: text(body.new_password, "new_password")?,
    };
    core.change_password(&claims, input, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
