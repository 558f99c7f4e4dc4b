//! `/api/v1/users/me*`: the caller's own account. Any signed-in user may use these; no scope
//! is needed. Handlers are glue: extract, one call into the service, map the result.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::views::UserView;
use crate::domain::ValidationError;
use crate::service::users::PasswordChange;

#[derive(Deserialize, ToSchema)]
pub struct ProfilePatch {
    /// At most 100 characters, not blank.
    display_name: Option<String>,
}

/// The password fields arrive as raw JSON values so that a value of the wrong type is
/// reported under its own name (`new_password`), not under a field whose name it contains.
#[derive(Deserialize, ToSchema)]
#[schema(description = "The current password and the new one")]
pub struct PasswordBody {
    #[serde(default)]
    #[schema(value_type = String, format = "password", required = true)]
    current_password: Option<Value>,
    /// 8–72 bytes, not in the common-password list, not the current password.
    #[serde(default)]
    #[schema(value_type = String, format = "password", required = true, min_length = 8, max_length = 72)]
    new_password: Option<Value>,
}

pub(super) fn text(value: Option<Value>, field: &'static str) -> Result<String, ValidationError> {
    match value {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(ValidationError::new(field, "is required")),
        Some(_) => Err(ValidationError::new(field, "must be a string")),
    }
}

/// The caller's own account.
#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    operation_id = "get_me",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, response = doc::Unauthorized),
        (status = 429, response = doc::TooManyRequests),
        (status = 503, response = doc::Unavailable),
    )
)]
pub async fn me(State(core): State<AppState>, AuthUser(claims): AuthUser) -> Result<Response, ApiError> {
    let (user, tenant) = core.me(&claims).await?;
    Ok(Json(UserView::new(&user, &tenant).with_scope(&claims.scope)).into_response())
}

/// Changes the caller's display name.
#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    operation_id = "update_me",
    tag = "users",
    security(("bearer" = [])),
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "The updated caller", body = UserView),
        doc::WriteProblems,
    )
)]
pub async fn update_me(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<Response, ApiError> {
    let (user, tenant) = core.update_me(&claims, body.display_name, &meta).await?;
    Ok(Json(UserView::new(&user, &tenant).with_scope(&claims.scope)).into_response())
}

/// Changes the caller's password; the caller's other sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/password",
    tag = "users",
    security(("bearer" = [])),
    request_body = PasswordBody,
    responses(
        (status = 204, description = "Password changed; the caller's other sessions ended"),
        doc::WriteProblems,
        (status = 423, response = doc::Locked),
    )
)]
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
