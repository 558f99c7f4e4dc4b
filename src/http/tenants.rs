//! `/api/v1/tenants*`: tenant management for admins of the `platform` tenant (scope
//! `tenants:manage`). The scope is checked before anything else, so callers without it get
//! the same 403 for every id, existing or not.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::path_id;
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::pagination::{ApiQuery, ListQuery, Listing};
use super::views::TenantView;
use crate::domain::Scope;
use crate::service::tenants::{NewTenantInput, TenantPatch};

#[derive(Deserialize, ToSchema)]
pub struct NewTenantBody {
    /// 2–32 characters of `a-z`, `0-9` and `-`; unique.
    #[schema(pattern = "^[a-z0-9-]{2,32}$", example = "acme")]
    slug: String,
    /// 1–100 characters.
    #[schema(example = "Acme Corp")]
    name: String,
    /// Whether anyone may register in this tenant; `false` by default.
    allow_self_signup: Option<bool>,
    /// Whether its users must turn on two-factor sign-in; `false` by default.
    require_mfa: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct TenantPatchBody {
    name: Option<String>,
    /// Never `true` for the `platform` tenant (422).
    allow_self_signup: Option<bool>,
    /// `false` refuses the tenant's logins and ends its sessions; the `platform` tenant
    /// cannot be disabled (409).
    is_active: Option<bool>,
    /// `true`: its users without two-factor sign-in may only turn it on (every other endpoint
    /// but `GET /users/me`, refresh and logout answers 403 `mfa_enrollment_required`).
    require_mfa: Option<bool>,
}

/// All tenants, newest first (scope `tenants:manage`).
#[utoipa::path(
    get,
    path = "/api/v1/tenants",
    operation_id = "list_tenants",
    tag = "tenants",
    security(("bearer" = ["tenants:manage"])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of tenants", body = Listing<TenantView>),
        doc::QueryProblems,
    )
)]
pub async fn list(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    let page = q.page()?;
    let tenants = core.list_tenants(page.store_page()).await?;
    Ok(page.answer(tenants.iter().map(TenantView::from).collect(), |t| t.id))
}

/// Creates a tenant (scope `tenants:manage`).
#[utoipa::path(
    post,
    path = "/api/v1/tenants",
    operation_id = "create_tenant",
    tag = "tenants",
    security(("bearer" = ["tenants:manage"])),
    request_body = NewTenantBody,
    responses(
        (status = 201, description = "The new tenant", body = TenantView),
        doc::WriteProblems,
        (status = 409, response = doc::Conflict),
    )
)]
pub async fn create(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiJson(body): ApiJson<NewTenantBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    let input = NewTenantInput {
        slug: body.slug,
        name: body.name,
        allow_self_signup: body.allow_self_signup,
        require_mfa: body.require_mfa,
    };
    let tenant = core.create_tenant(&user.0, input, &meta).await?;
    Ok((StatusCode::CREATED, Json(TenantView::from(&tenant))).into_response())
}

/// One tenant (scope `tenants:manage`).
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{id}",
    operation_id = "get_tenant",
    tag = "tenants",
    security(("bearer" = ["tenants:manage"])),
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        doc::CallerProblems,
        (status = 404, response = doc::NotFound),
    )
)]
pub async fn get(State(core): State<AppState>, user: AuthUser, Path(id): Path<String>) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    Ok(Json(TenantView::from(&core.get_tenant(path_id(&id)?).await?)).into_response())
}

/// Renames, opens or closes sign-up, requires two-factor sign-in or not, disables or
/// re-enables a tenant (scope `tenants:manage`).
#[utoipa::path(
    patch,
    path = "/api/v1/tenants/{id}",
    operation_id = "update_tenant",
    tag = "tenants",
    security(("bearer" = ["tenants:manage"])),
    params(("id" = Uuid, Path, description = "Tenant id")),
    request_body = TenantPatchBody,
    responses(
        (status = 200, description = "The updated tenant", body = TenantView),
        doc::WriteProblems,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    )
)]
pub async fn update(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TenantPatchBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    let patch = TenantPatch {
        name: body.name,
        allow_self_signup: body.allow_self_signup,
        is_active: body.is_active,
        require_mfa: body.require_mfa,
    };
    let tenant = core.update_tenant(&user.0, path_id(&id)?, patch, &meta).await?;
    Ok(Json(TenantView::from(&tenant)).into_response())
}
