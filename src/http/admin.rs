//! `/api/v1/admin/*` (except the actor view, in `ops`): users, their sessions and lockouts,
//! and the audit trail of a tenant. Each handler checks its scope, then makes one call into
//! the service; `?tenant=<slug>` is passed through (only platform admins may use it).

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::path_id;
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::pagination::{one_page, ApiQuery, ListQuery, Listing};
use super::views::{AuditEventView, LockoutView, SessionView, UserView};
use crate::domain::{Role, Scope, ValidationError};
use crate::service::admin::{NewUserInput, UserPatch};
use crate::store::{AuditFilter, OutcomeFilter};

/// `?tenant=<slug>`.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantParam {
    /// Slug of the tenant to act on (platform admins only); the caller's own by default.
    tenant: Option<String>,
}

impl TenantParam {
    /// The slug asked for, if any.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }
}

/// `?tenant=<slug>` plus the paging parameters (documented by [`ListQuery`]).
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersParams {
    /// Slug of the tenant to act on (platform admins only); the caller's own by default.
    tenant: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    list: ListQuery,
}

/// The audit filters plus the paging parameters (documented by [`ListQuery`]). Kept as text,
/// so that a bad value answers 422 naming its parameter.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Slug of the tenant to act on (platform admins only); the caller's own by default.
    tenant: Option<String>,
    /// Only events of this name (at most 64 characters), e.g. `login` or `token_reuse_detected`.
    event: Option<String>,
    /// Only events about this user.
    #[param(value_type = Option<Uuid>)]
    user_id: Option<String>,
    /// `success`, or `failure`: every outcome that is not a success (a wrong password, a
    /// lock, a session ended for token reuse).
    #[param(value_type = Option<String>, pattern = "^(success|failure)$")]
    outcome: Option<String>,
    /// Only events from this client address (IPv4-mapped IPv6 is matched as IPv4).
    #[param(value_type = Option<String>, example = "203.0.113.7")]
    ip: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2025-01-31T00:00:00Z")]
    since: Option<String>,
    /// Only events at or before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2025-02-01T00:00:00Z")]
    until: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    list: ListQuery,
}

impl AuditParams {
    /// The filters, each checked; a bad one answers 422 naming it.
    fn filter(&self) -> Result<AuditFilter, ValidationError> {
        fn given(value: &Option<String>) -> Option<&str> {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let event = given(&self.event).map(str::to_owned);
        if event.as_ref().is_some_and(|e| e.len() > 64) {
            return Err(ValidationError::new("event", "must be at most 64 characters"));
        }
        let user_id = given(&self.user_id)
            .map(|raw| raw.parse::<Uuid>().map_err(|_| ValidationError::new("user_id", "must be a UUID")))
            .transpose()?;
        let outcome = given(&self.outcome)
            .map(|raw| match raw {
                "success" => Ok(OutcomeFilter::Success),
                "failure" => Ok(OutcomeFilter::Failure),
                _ => Err(ValidationError::new("outcome", "must be `success` or `failure`")),
            })
            .transpose()?;
        let ip = given(&self.ip)
            .map(|raw| {
                let ip: IpAddr = raw.parse().map_err(|_| ValidationError::new("ip", "must be an IP address"))?;
                Ok::<_, ValidationError>(ip.to_canonical().to_string())
            })
            .transpose()?;
        let moment = |field: &'static str, raw: &str| {
            DateTime::parse_from_rfc3339(raw)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| ValidationError::new(field, "must be an RFC 3339 time, as 2025-01-31T12:00:00Z"))
        };
        let since = given(&self.since).map(|raw| moment("since", raw)).transpose()?;
        let until = given(&self.until).map(|raw| moment("until", raw)).transpose()?;
        if let (Some(since), Some(until)) = (since, until) {
            if until < since {
                return Err(ValidationError::new("until", "must not be before since"));
            }
        }
        Ok(AuditFilter { event, user_id, outcome, ip, since, until })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserBody {
    #[schema(format = "email", example = "ada@example.com")]
    email: String,
    /// 8–72 bytes, not in the common-password list.
    #[schema(format = "password", min_length = 8, max_length = 72)]
    password: String,
    // Raw JSON, so that a bad element (`[1]`) is reported under `roles` too.
    #[serde(default)]
    #[schema(value_type = Vec<Role>, required = true, min_items = 1)]
    roles: Option<Value>,
    display_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct UserPatchBody {
    #[serde(default)]
    #[schema(value_type = Option<Vec<Role>>, min_items = 1)]
    roles: Option<Value>,
    /// `false` disables the account and ends its sessions.
    is_active: Option<bool>,
    display_name: Option<String>,
}

/// A role list: an array of strings (which roles exist is the service's to check).
fn role_names(value: Value) -> Result<Vec<String>, ValidationError> {
    let refused = || ValidationError::new("roles", "must be an array of role names");
    let Value::Array(items) = value else { return Err(refused()) };
    items.into_iter().map(|item| if let Value::String(name) = item { Ok(name) } else { Err(refused()) }).collect()
}

/// The users of the tenant, newest first (scope `users:manage`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(UsersParams, ListQuery),
    responses(
        (status = 200, description = "A page of users", body = Listing<UserView>),
        doc::QueryProblems,
        (status = 404, response = doc::NotFound),
    )
)]
pub async fn list_users(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<UsersParams>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let page = q.list.page()?;
    let (users, tenant) = core.admin_list_users(user.acting(q.tenant.as_deref()), page.store_page()).await?;
    let users: Vec<UserView> = users.iter().map(|u| UserView::new(u, &tenant)).collect();
    Ok(page.answer(users, |u| u.id))
}

/// Creates a user in the tenant (scope `users:manage`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(TenantParam),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "The new user", body = UserView),
        doc::WriteProblems,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    )
)]
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
    let (created, tenant) = core.admin_create_user(user.acting(q.tenant.as_deref()), input, &meta).await?;
    Ok((StatusCode::CREATED, Json(UserView::new(&created, &tenant))).into_response())
}

/// One user of the tenant (scope `users:manage`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(("id" = Uuid, Path, description = "User id"), TenantParam),
    responses(
        (status = 200, description = "The user", body = UserView),
        doc::LookupProblems,
    )
)]
pub async fn get_user(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let (found, tenant) = core.admin_get_user(user.acting(q.tenant.as_deref()), path_id(&id)?).await?;
    Ok(Json(UserView::new(&found, &tenant)).into_response())
}

/// Changes a user's roles, active flag or display name (scope `users:manage`); disabling
/// ends the user's sessions. The tenant's last active admin cannot be demoted or disabled.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(("id" = Uuid, Path, description = "User id"), TenantParam),
    request_body = UserPatchBody,
    responses(
        (status = 200, description = "The updated user", body = UserView),
        doc::WriteProblems,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    )
)]
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
    let (updated, tenant) =
        core.admin_update_user(user.acting(q.tenant.as_deref()), path_id(&id)?, patch, &meta).await?;
    Ok(Json(UserView::new(&updated, &tenant)).into_response())
}

/// Lifts the lockout of a user's email, permanent or not (scope `users:manage`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unlock",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(("id" = Uuid, Path, description = "User id"), TenantParam),
    responses(
        (status = 204, description = "Unlocked"),
        doc::LookupProblems,
    )
)]
pub async fn unlock_user(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    core.admin_unlock_user(user.acting(q.tenant.as_deref()), path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Turns a user's two-factor off, for a lost device (scope `users:manage`); audited.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{id}/mfa",
    operation_id = "admin_reset_mfa",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(("id" = Uuid, Path, description = "User id"), TenantParam),
    responses(
        (status = 204, description = "Two-factor is off for that user"),
        doc::LookupProblems,
    )
)]
pub async fn reset_mfa(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    core.admin_reset_mfa(user.acting(q.tenant.as_deref()), path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A user's active sessions (scope `sessions:manage`; one page: `next_cursor` is null).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}/sessions",
    operation_id = "admin_user_sessions",
    tag = "admin",
    security(("bearer" = ["sessions:manage"])),
    params(("id" = Uuid, Path, description = "User id"), TenantParam),
    responses(
        (status = 200, description = "The user's active sessions", body = Listing<SessionView>),
        doc::LookupProblems,
    )
)]
pub async fn user_sessions(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::SessionsManage)?;
    let sessions = core.admin_user_sessions(user.acting(q.tenant.as_deref()), path_id(&id)?).await?;
    Ok(one_page(sessions.iter().map(|s| SessionView::new(s, None))))
}

/// Ends a session of a user of the tenant (scope `sessions:manage`).
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sessions/{id}",
    operation_id = "admin_end_session",
    tag = "admin",
    security(("bearer" = ["sessions:manage"])),
    params(("id" = Uuid, Path, description = "Session id"), TenantParam),
    responses(
        (status = 204, description = "Session ended"),
        doc::LookupProblems,
    )
)]
pub async fn end_session(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::SessionsManage)?;
    core.admin_end_session(user.acting(q.tenant.as_deref()), path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Current lockouts of the tenant, known emails or not (scope `users:manage`; one page).
#[utoipa::path(
    get,
    path = "/api/v1/admin/lockouts",
    operation_id = "admin_lockouts",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(TenantParam),
    responses(
        (status = 200, description = "Current lockouts", body = Listing<LockoutView>),
        doc::LookupProblems,
    )
)]
pub async fn lockouts(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let lockouts = core.admin_lockouts(user.acting(q.tenant.as_deref())).await?;
    Ok(one_page(lockouts.iter().map(|(user_id, state)| LockoutView::new(*user_id, state))))
}

/// The tenant's audit events, newest first, filtered by name, user, outcome, client address
/// and time (scope `audit:read`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    operation_id = "admin_audit",
    tag = "admin",
    security(("bearer" = ["audit:read"])),
    params(AuditParams, ListQuery),
    responses(
        (status = 200, description = "A page of audit events", body = Listing<AuditEventView>),
        doc::QueryProblems,
        (status = 404, response = doc::NotFound),
    )
)]
pub async fn audit(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    user.require(Scope::AuditRead)?;
    let page = q.list.page()?;
    let filter = q.filter()?;
    let events = core.admin_audit(user.acting(q.tenant.as_deref()), filter, page.store_page()).await?;
    Ok(page.answer(events.iter().map(AuditEventView::from).collect(), |e| e.id))
}
