//! `/api/v1/auth/*`: register, login, refresh, logout, logout-all and the caller's sessions.
//! Handlers are glue: extract, one call into the service, map the result.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{bearer, ApiJson, AppState, AuthUser, Meta};
use crate::domain::{EndReason, ValidationError};
use crate::service::auth::{IssuedTokens, LoginInput, RegisterInput};
use crate::service::{Core, RequestMeta, ServiceError};

const COOKIE: &str = "refresh_token";

#[derive(Deserialize)]
pub struct RegisterBody {
    email: String,
    password: String,
    display_name: Option<String>,
    tenant: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenDelivery {
    #[default]
    Cookie,
    Body,
}

#[derive(Deserialize)]
pub struct LoginBody {
    email: String,
    password: String,
    tenant: Option<String>,
    #[serde(default)]
    token_delivery: TokenDelivery,
    scope: Option<String>,
}

#[derive(Serialize)]
struct TokenAnswer<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    session_id: Uuid,
    user: &'a crate::service::auth::UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

/// Per-IP limit on the credential endpoints (`RATE_LIMIT_LOGIN`).
async fn limit_credentials(core: &Core, meta: &RequestMeta) -> Result<(), ApiError> {
    let limit = core.config.rate_limit_login;
    let decision = core.stores.limits.check(&format!("rl:login:{}", meta.client_ip), limit).await?;
    if decision.allowed {
        Ok(())
    } else {
        core.metrics.rate_limited.with_label_values(&["login"]).inc();
        Err(ApiError::RateLimited(decision))
    }
}

pub async fn register(
    State(core): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    limit_credentials(&core, &meta).await?;
    let input = RegisterInput {
        email: body.email,
        password: body.password,
        display_name: body.display_name,
        tenant: body.tenant,
    };
    let user = core.register(input, &meta).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

pub async fn login(
    State(core): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    limit_credentials(&core, &meta).await?;
    let input = LoginInput { email: body.email, password: body.password, tenant: body.tenant, scope: body.scope };
    let issued = core.login(input, &meta).await?;
    Ok(token_response(&core, &issued, body.token_delivery))
}

fn cookie_value(core: &Core, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if core.config.cookie_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly{secure}; SameSite=Strict; Path=/api/v1/auth; Max-Age={max_age}"
    ))
    .ok()
}

fn token_response(core: &Core, issued: &IssuedTokens, delivery: TokenDelivery) -> Response {
    let in_body = delivery == TokenDelivery::Body;
    let answer = TokenAnswer {
        access_token: &issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        session_id: issued.session_id,
        user: &issued.user,
        refresh_token: in_body.then_some(issued.refresh_token.as_str()),
    };
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if !in_body {
        let max_age = (issued.refresh_expires_at - Utc::now()).num_seconds().max(0);
        if let Some(cookie) = cookie_value(core, &issued.refresh_token, max_age) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
    }
    response
}

/// The refresh token of the `refresh_token` cookie, if any.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The CSRF rule for cookie-authenticated writes: an `Origin` that is ours or allowed, or an
/// `X-Requested-With` header (which a cross-site form cannot send).
pub fn cookie_write_allowed(core: &Core, headers: &HeaderMap) -> bool {
    if headers.contains_key("x-requested-with") {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    if core.config.cors_allowed_origins.iter().any(|allowed| allowed == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

pub async fn refresh(State(core): State<AppState>, Meta(meta): Meta, headers: HeaderMap) -> Result<Response, ApiError> {
    let (token, delivery) = match refresh_cookie(&headers) {
        Some(token) => {
            if !cookie_write_allowed(&core, &headers) {
                return Err(ApiError::CrossSite);
            }
            (token, TokenDelivery::Cookie)
        }
        None => (bearer(&headers).ok_or(ServiceError::TokenMissing)?, TokenDelivery::Body),
    };
    let issued = core.refresh(token, &meta).await?;
    Ok(token_response(&core, &issued, delivery))
}

fn cleared_cookie(core: &Core) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = cookie_value(core, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn logout(State(core): State<AppState>, Meta(meta): Meta, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = bearer(&headers) {
        let claims = core.authenticate(token).await?;
        core.logout(claims.session_id, Some(claims.user_id), &meta).await?;
        return Ok(cleared_cookie(&core));
    }
    let token = refresh_cookie(&headers).ok_or(ServiceError::TokenMissing)?;
    if !cookie_write_allowed(&core, &headers) {
        return Err(ApiError::CrossSite);
    }
    let session_id = core.session_of_refresh_token(token).await?;
    core.logout(session_id, None, &meta).await?;
    Ok(cleared_cookie(&core))
}

pub async fn logout_all(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
) -> Result<Response, ApiError> {
    core.end_user_sessions(claims.user_id, EndReason::LogoutAll, None, Some(&meta)).await?;
    Ok(cleared_cookie(&core))
}

#[derive(Serialize)]
pub struct SessionView {
    session_id: Uuid,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    client_ip: String,
    user_agent: String,
    current: bool,
}

impl SessionView {
    pub fn new(state: &crate::domain::SessionState, current: Option<Uuid>) -> Self {
        SessionView {
            session_id: state.session_id,
            created_at: state.created_at,
            last_seen_at: state.last_seen_at,
            expires_at: state.expires_at,
            client_ip: state.client_ip.to_string(),
            user_agent: state.user_agent.clone(),
            current: Some(state.session_id) == current,
        }
    }
}

pub async fn sessions(State(core): State<AppState>, AuthUser(claims): AuthUser) -> Result<Response, ApiError> {
    let sessions = core.sessions_of(claims.user_id).await?;
    let items: Vec<SessionView> = sessions.iter().map(|s| SessionView::new(s, Some(claims.session_id))).collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })).into_response())
}

pub async fn end_session(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ServiceError::NotFound)?;
    let state = core
        .snapshot(id)
        .await?
        .filter(|s| s.user_id == claims.user_id && s.is_active)
        .ok_or(ServiceError::NotFound)?;
    core.end_session(state.session_id, EndReason::Revoked, Some(&meta)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Parses a path id, answering 404 for anything that is not a UUID.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::Service(ServiceError::NotFound))
}

/// 422 for a malformed query value.
pub fn bad_query(field: &'static str, message: &str) -> ApiError {
    ServiceError::Validation(ValidationError::new(field, message)).into()
}
