//! `/api/v1/tenants*`: tenant management for admins of the `platform` tenant (scope
//! `tenants:manage`). The scope is checked before anything else, so callers without it get
//! the same 403 for every id, existing or not.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::auth::path_id;
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::pagination::{ApiQuery, ListQuery};
use crate::domain::Scope;
use crate::service::tenants::{NewTenantInput, TenantPatch};

#[derive(Deserialize)]
pub struct NewTenantBody {
    slug: String,
    name: String,
    allow_self_signup: Option<bool>,
}

#[derive(Deserialize)]
pub struct TenantPatchBody {
    name: Option<String>,
    allow_self_signup: Option<bool>,
    is_active: Option<bool>,
}

pub async fn list(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    let page = q.page()?;
    let tenants = core.list_tenants(page.store_page()).await?;
    Ok(page.answer(tenants, |t| t.id))
}

pub async fn create(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    ApiJson(body): ApiJson<NewTenantBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    let input = NewTenantInput { slug: body.slug, name: body.name, allow_self_signup: body.allow_self_signup };
    let tenant = core.create_tenant(&user.0, input, &meta).await?;
    Ok((StatusCode::CREATED, Json(tenant)).into_response())
}

pub async fn get(State(core): State<AppState>, user: AuthUser, Path(id): Path<String>) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    Ok(Json(core.get_tenant(path_id(&id)?).await?).into_response())
}

pub async fn update(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TenantPatchBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::TenantsManage)?;
    let patch = TenantPatch { name: body.name, allow_self_signup: body.allow_self_signup, is_active: body.is_active };
    Ok(Json(core.update_tenant(&user.0, path_id(&id)?, patch, &meta).await?).into_response())
}
