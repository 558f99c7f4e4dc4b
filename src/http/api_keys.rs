//! API keys (API.md §5.3): `/api/v1/users/me/api-keys*` for one's own, the admins'
//! `/api/v1/admin/users/{id}/api-keys` and `/api/v1/admin/api-keys/{id}`, and the guard that
//! keeps a key away from sign-in, password, two-factor and key management.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::admin::TenantParam;
use super::answers::no_store;
use super::auth::path_id;
use super::error::ApiError;
use super::extract::{bearer, ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::pagination::{one_page, ApiQuery, Listing};
use crate::domain::api_key::looks_like_key;
use crate::domain::{ApiKeyState, Scope};
use crate::service::api_keys::NewApiKeyInput;
use crate::service::ServiceError;

/// `POST /users/me/api-keys`.
#[derive(Deserialize, ToSchema)]
pub struct NewApiKeyBody {
    /// 1–100 characters, to tell keys apart.
    #[schema(example = "trading bot")]
    name: String,
    /// A subset of the caller's scopes; the caller's own when left out.
    #[schema(example = json!(["orders:read"]))]
    scopes: Option<Vec<String>>,
    /// Networks the key may be used from: CIDRs or single addresses (at most 32); any when
    /// left out or empty.
    #[schema(example = json!(["203.0.113.0/24"]))]
    allowed_ips: Option<Vec<String>>,
    /// When the key stops working (RFC 3339, in the future); never when left out.
    expires_at: Option<DateTime<Utc>>,
}

/// An API key as its owner (or an admin) sees it; the key itself is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// What the key starts with (`tsk_` and its id), to recognise it.
    #[schema(example = "tsk_0192f0c4a1b27c3d9e8f001122334455")]
    pub prefix: String,
    #[schema(example = json!(["orders:read", "orders:write"]))]
    pub scopes: Vec<String>,
    #[schema(example = json!(["203.0.113.0/24"]))]
    pub allowed_ips: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Written at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ApiKeyState> for ApiKeyView {
    fn from(state: &ApiKeyState) -> Self {
        ApiKeyView {
            id: state.id,
            name: state.name.clone(),
            prefix: state.prefix(),
            scopes: state.scopes.clone(),
            allowed_ips: state.allowed_ips.iter().map(|n| n.to_string()).collect(),
            created_at: state.created_at,
            expires_at: state.expires_at,
            last_used_at: state.last_used_at,
        }
    }
}

/// A new API key, with the key itself: shown in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKeyView {
    pub id: Uuid,
    pub name: String,
    #[schema(example = "tsk_0192f0c4a1b27c3d9e8f001122334455")]
    pub prefix: String,
    /// The key: `Authorization: Bearer <key>`. Keep it now; the server keeps only a hash.
    #[schema(example = "tsk_0192f0c4a1b27c3d9e8f001122334455_q3Jt…")]
    pub key: String,
    pub scopes: Vec<String>,
    pub allowed_ips: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Whether a key may be presented on `path`: never for sign-in and sessions (`/auth/*`), the
/// password, two-factor settings, or API-key management — what only a person should do.
pub fn barred_for_keys(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path.starts_with("/api/v1/auth/")
        || path == "/api/v1/auth"
        || path == "/api/v1/users/me/password"
        || path.split('/').any(|segment| segment == "mfa" || segment == "api-keys")
}

/// The 403 `forbidden` of a request authenticated by an API key (`Bearer tsk_…`) on a route
/// barred for keys, before any handler or sign-in logic sees it.
pub fn key_refusal(request: &Request) -> Option<Response> {
    let path = request.extensions().get::<axum::extract::OriginalUri>().map_or(request.uri().path(), |u| u.0.path());
    if barred_for_keys(path) && bearer(request.headers()).is_some_and(looks_like_key) {
        let refusal = ServiceError::Forbidden("an API key cannot be used here; sign in instead".into());
        return Some(ApiError::from(refusal).into_response());
    }
    None
}

/// Makes an API key for the caller; the answer is the only time the key is shown.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/api-keys",
    operation_id = "create_api_key",
    tag = "api_keys",
    security(("bearer" = [])),
    request_body = NewApiKeyBody,
    responses(
        (status = 201, description = "The key, shown this once", body = NewApiKeyView),
        doc::WriteProblems,
        (status = 409, response = doc::Conflict),
    )
)]
pub async fn create(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiJson(body): ApiJson<NewApiKeyBody>,
) -> Result<Response, ApiError> {
    let input = NewApiKeyInput {
        name: body.name,
        scopes: body.scopes,
        allowed_ips: body.allowed_ips,
        expires_at: body.expires_at,
    };
    let (state, key) = core.create_api_key(&user.0, input, &meta).await?;
    let view = ApiKeyView::from(&state);
    let created = NewApiKeyView {
        id: view.id,
        name: view.name,
        prefix: view.prefix,
        key,
        scopes: view.scopes,
        allowed_ips: view.allowed_ips,
        created_at: view.created_at,
        expires_at: view.expires_at,
        last_used_at: view.last_used_at,
    };
    Ok(no_store(StatusCode::CREATED, created))
}

/// The caller's API keys that are not revoked, newest first (one page: `next_cursor` is null).
#[utoipa::path(
    get,
    path = "/api/v1/users/me/api-keys",
    operation_id = "list_api_keys",
    tag = "api_keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's keys", body = Listing<ApiKeyView>),
        doc::CallerProblems,
    )
)]
pub async fn list(State(core): State<AppState>, user: AuthUser) -> Result<Response, ApiError> {
    let keys = core.my_api_keys(&user.0).await?;
    Ok(one_page(keys.iter().map(ApiKeyView::from)))
}

/// Revokes one of the caller's API keys: refused on every node within a second.
#[utoipa::path(
    delete,
    path = "/api/v1/users/me/api-keys/{id}",
    operation_id = "revoke_api_key",
    tag = "api_keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        doc::LookupProblems,
    )
)]
pub async fn revoke(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    core.revoke_my_api_key(&user.0, path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A user's API keys that are not revoked (scope `users:manage`; one page).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}/api-keys",
    operation_id = "admin_user_api_keys",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(("id" = Uuid, Path, description = "User id"), TenantParam),
    responses(
        (status = 200, description = "The user's keys", body = Listing<ApiKeyView>),
        doc::LookupProblems,
    )
)]
pub async fn admin_list(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    let keys = core.admin_api_keys(user.acting(q.tenant()), path_id(&id)?).await?;
    Ok(one_page(keys.iter().map(ApiKeyView::from)))
}

/// Revokes an API key of a user of the tenant (scope `users:manage`).
#[utoipa::path(
    delete,
    path = "/api/v1/admin/api-keys/{id}",
    operation_id = "admin_revoke_api_key",
    tag = "admin",
    security(("bearer" = ["users:manage"])),
    params(("id" = Uuid, Path, description = "API key id"), TenantParam),
    responses(
        (status = 204, description = "Revoked"),
        doc::LookupProblems,
    )
)]
pub async fn admin_revoke(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiQuery(q): ApiQuery<TenantParam>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::UsersManage)?;
    core.admin_revoke_api_key(user.acting(q.tenant()), path_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::barred_for_keys;

    #[test]
    fn keys_are_barred_from_sign_in_password_two_factor_and_key_management() {
        for path in [
            "/api/v1/auth/login",
            "/api/v1/auth/refresh",
            "/api/v1/auth/sessions",
            "/api/v1/auth/sessions/x",
            "/api/v1/users/me/password",
            "/api/v1/users/me/password/",
            "/api/v1/users/me/mfa",
            "/api/v1/users/me/mfa/totp",
            "/api/v1/admin/users/x/mfa",
            "/api/v1/users/me/api-keys",
            "/api/v1/users/me/api-keys/x",
            "/api/v1/admin/users/x/api-keys",
            "/api/v1/admin/api-keys/x",
        ] {
            assert!(barred_for_keys(path), "{path}");
        }
        for path in ["/api/v1/orders", "/api/v1/orders/x", "/api/v1/users/me", "/api/v1/admin/users", "/health"] {
            assert!(!barred_for_keys(path), "{path}");
        }
    }
}
