//! `/api/v1/admin/*` (except the actor view, in `ops`): users, their sessions and lockouts,
//! and the audit trail of a tenant. Each handler checks its scope, then makes one call into
//! the service; `?tenant=<slug>` is passed through (only platform admins may use it).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::auth::{path_id, SessionView};
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::pagination::{ApiQuery, ListQuery, Listing};
use crate::domain::{Scope, ValidationError};
use crate::service::admin::{AuditQuery, NewUserInput, UserPatch};

/// `?tenant=<slug>`.
#[derive(Deserialize, Default)]
pub struct TenantParam {
    tenant: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UsersParams {
    tenant: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    tenant: Option<String>,
    event: Option<String>,
    user_id: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

#[derive(Deserialize)]
pub struct NewUserBody {
    email: String,
    password: String,
    /// Raw JSON, so that a bad element (`[1]`) is reported under `roles` too.
    #[serde(default)]
    roles: Option<Value>,
    display_name: Option<String>,
}

#[derive(Deserialize)]
pub struct UserPatchBody {
    #[serde(default)]
    roles: Option<Value>,
    is_active: Option<bool>,
    display_name: Option<String>,
}

/// A role list: an array of strings (which roles exist is the service's to check).
fn role_names(value: Value) -> Result<Vec<String>, ValidationError> {
    let refused = || ValidationError::new("roles", "must be an array of role names");
    let Value::Array(items) = value else { return Err(refused()) };
    items.into_iter().map(|item| if let Value::String(name) = item { Ok(name) } else { Err(refused()) }).collect()
}

pub async fn list_users(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<UsersParams>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let page = q.list.page()?;
    let users = core.admin_list_users(&user.0, q.tenant.as_deref(), page.store_page()).await?;
    Ok(page.answer(users, |u| u.id))
}

pub async fn create_user(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let roles = role_names(body.roles.ok_or_else(|| ValidationError::new("roles", "is required"))?)?;
    let input = NewUserInput { email: body.email, password: body.password, roles, display_name: body.display_name };
    let created = core.admin_create_user(&user.0, q.tenant.as_deref(), input, &meta).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn get_user(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    Ok(Json(core.admin_get_user(&user.0, q.tenant.as_deref(), path_id(&id)?).await?).into_response())
}

pub async fn update_user(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserPatchBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let roles = body.roles.map(role_names).transpose()?;
    let patch = UserPatch { roles, is_active: body.is_active, display_name: body.display_name };
    let updated = core.admin_update_user(&user.0, q.tenant.as_deref(), path_id(&id)?, patch, &meta).await?;
    Ok(Json(updated).into_response())
}

pub async fn unlock_user(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    core.admin_unlock_user(&user.0, q.tenant.as_deref(), path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn user_sessions(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::SessionsManage)?;
    let sessions = core.admin_user_sessions(&user.0, q.tenant.as_deref(), path_id(&id)?).await?;
    let items: Vec<SessionView> = sessions.iter().map(|s| SessionView::new(s, None)).collect();
    Ok(Json(Listing { items, next_cursor: None }).into_response())
}

pub async fn end_session(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::SessionsManage)?;
    core.admin_end_session(&user.0, q.tenant.as_deref(), path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn lockouts(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let items = core.admin_lockouts(&user.0, q.tenant.as_deref()).await?;
    Ok(Json(Listing { items, next_cursor: None }).into_response())
}

pub async fn audit(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    user.require(Scope::AuditRead)?;
    let page = q.list.page()?;
    let query = AuditQuery { event: q.event, user_id: q.user_id };
    let events = core.admin_audit(&user.0, q.tenant.as_deref(), query, page.store_page()).await?;
    Ok(page.answer(events, |e| e.id))
}
