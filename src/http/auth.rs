//! `/api/v1/auth/*`: register, login, refresh, logout, logout-all and the caller's sessions.
//! Handlers are glue: extract, one call into the service, map the result.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::no_store;
use super::error::ApiError;
use super::extract::{bearer, ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::pagination::{one_page, Listing};
use super::views::{MfaRequiredView, SessionView, UserView};
use crate::domain::{EndReason, TokenDelivery, ValidationError};
use crate::service::auth::{LoginInput, LoginOutcome, RegisterInput};
use crate::service::sessions::IssuedTokens;
use crate::service::{Core, RequestMeta, ServiceError};

const COOKIE: &str = "refresh_token";

#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    /// Trimmed; compared case-insensitively; unique within the tenant.
    #[schema(format = "email", example = "ada@example.com")]
    email: String,
    /// 8–72 bytes, not in the common-password list.
    #[schema(format = "password", min_length = 8, max_length = 72)]
    password: String,
    /// At most 100 characters; defaults to the email's local part.
    display_name: Option<String>,
    /// Tenant slug; `default` when left out. The tenant must allow self sign-up.
    #[schema(example = "default")]
    tenant: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(format = "email", example = "ada@example.com")]
    email: String,
    #[schema(format = "password")]
    password: String,
    /// Tenant slug; `default` when left out, `platform` for platform admins.
    #[schema(example = "default")]
    tenant: Option<String>,
    #[serde(default)]
    token_delivery: TokenDelivery,
    /// Space-separated subset of the user's scopes to narrow the access token to.
    #[schema(example = "orders:read")]
    scope: Option<String>,
}

/// The answer of login: the tokens, or — two-factor on — what the second step needs.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum LoginAnswer<'a> {
    SignedIn(Box<TokenAnswer<'a>>),
    MfaRequired(MfaRequiredView),
}

/// The answer of login (two-factor off), refresh and the second step of a two-factor sign-in.
#[derive(Serialize, ToSchema)]
pub struct TokenAnswer<'a> {
    /// ES256 JWT for `Authorization: Bearer`.
    access_token: &'a str,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
    session_id: Uuid,
    user: UserView,
    /// Only with `token_delivery: "body"` (or a refresh authenticated by bearer token);
    /// otherwise the token is in the `refresh_token` cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    refresh_token: Option<&'a str>,
}

/// Per-IP limit on the credential endpoints (`RATE_LIMIT_LOGIN`).
pub(super) async fn limit_credentials(core: &Core, meta: &RequestMeta) -> Result<(), ApiError> {
    let limit = core.config.rate_limit_login;
    let decision = core.stores.limits.check(&format!("rl:login:{}", meta.client_ip), limit).await?;
    if decision.allowed {
        Ok(())
    } else {
        core.metrics.rate_limited.with_label_values(&["login"]).inc();
        Err(ApiError::RateLimited(decision))
    }
}

/// Self sign-up in a tenant that allows it; the new user gets the role `viewer`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The new user", body = UserView),
        doc::BodyProblems,
        (status = 409, response = doc::Conflict),
    )
)]
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
    let (user, tenant) = core.register(input, &meta).await?;
    Ok((StatusCode::CREATED, Json(UserView::new(&user, &tenant))).into_response())
}

/// Signs in: answers an access token and starts a session whose refresh token goes into a
/// cookie (default) or the body (`token_delivery: "body"`). For a user with two-factor on, a
/// right password answers `mfa_required` and an `mfa_token` instead, and no tokens:
/// `POST /api/v1/auth/mfa/verify` finishes the sign-in.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; with `token_delivery: cookie` the refresh token is in \
            `Set-Cookie: refresh_token=…; HttpOnly; SameSite=Strict; Path=/api/v1/auth`. Or, two-factor on: \
            `mfa_required` and no tokens", body = LoginAnswer,
            headers(("Set-Cookie" = String, description = "The refresh token cookie (cookie delivery only)"))),
        doc::WriteProblems,
        (status = 423, response = doc::Locked),
    )
)]
pub async fn login(
    State(core): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    limit_credentials(&core, &meta).await?;
    let input = LoginInput {
        email: body.email,
        password: body.password,
        tenant: body.tenant,
        scope: body.scope,
        delivery: body.token_delivery,
    };
    match core.login(input, &meta).await? {
        LoginOutcome::SignedIn(issued) => Ok(token_response(&core, &issued, body.token_delivery)),
        LoginOutcome::MfaRequired(pending) => {
            Ok(no_store(StatusCode::OK, LoginAnswer::MfaRequired(MfaRequiredView::from(&pending))))
        }
    }
}

fn cookie_value(core: &Core, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if core.config.cookie_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly{secure}; SameSite=Strict; Path=/api/v1/auth; Max-Age={max_age}"
    ))
    .ok()
}

/// The answer that hands out a session's tokens (login, refresh, the second step of a
/// two-factor sign-in), the refresh token delivered as asked.
pub(super) fn token_response(core: &Core, issued: &IssuedTokens, delivery: TokenDelivery) -> Response {
    let in_body = delivery == TokenDelivery::Body;
    let answer = TokenAnswer {
        access_token: &issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        session_id: issued.session_id,
        user: UserView::new(&issued.user, &issued.tenant).with_scope(&issued.scope),
        refresh_token: in_body.then_some(issued.refresh_token.as_str()),
    };
    let mut response = no_store(StatusCode::OK, LoginAnswer::SignedIn(Box::new(answer)));
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

/// Spends a refresh token (the `refresh_token` cookie, else `Authorization: Bearer`) for a new
/// access token and a new refresh token, delivered the way the old one came.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    security(("refresh_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "New tokens; a cookie-borne refresh token is replaced by a new cookie",
            body = TokenAnswer,
            headers(("Set-Cookie" = String, description = "The new refresh token cookie (cookie delivery only)"))),
        doc::CallerProblems,
    )
)]
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

/// Ends the caller's session (by access token, or by refresh cookie) and clears the cookie.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = []), ("refresh_cookie" = [])),
    responses(
        (status = 204, description = "Session ended; the refresh cookie is cleared"),
        doc::CallerProblems,
    )
)]
pub async fn logout(State(core): State<AppState>, Meta(meta): Meta, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = bearer(&headers) {
        let claims = core.authenticate(token).await?;
        core.logout(claims.session_id, &meta).await?;
        return Ok(cleared_cookie(&core));
    }
    let token = refresh_cookie(&headers).ok_or(ServiceError::TokenMissing)?;
    if !cookie_write_allowed(&core, &headers) {
        return Err(ApiError::CrossSite);
    }
    let session_id = core.session_of_refresh_token(token)?;
    core.logout(session_id, &meta).await?;
    Ok(cleared_cookie(&core))
}

/// Ends every session of the caller.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout-all",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "All of the caller's sessions ended; the refresh cookie is cleared"),
        (status = 401, response = doc::Unauthorized),
        (status = 429, response = doc::TooManyRequests),
        (status = 503, response = doc::Unavailable),
    )
)]
pub async fn logout_all(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
) -> Result<Response, ApiError> {
    core.end_user_sessions(claims.user_id, EndReason::LogoutAll, None, Some(&meta)).await?;
    Ok(cleared_cookie(&core))
}

/// The caller's active sessions (one page: `next_cursor` is always null).
#[utoipa::path(
    get,
    path = "/api/v1/auth/sessions",
    operation_id = "own_sessions",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's active sessions", body = Listing<SessionView>),
        doc::CallerProblems,
    )
)]
pub async fn sessions(State(core): State<AppState>, AuthUser(claims): AuthUser) -> Result<Response, ApiError> {
    let sessions = core.sessions_of(claims.user_id).await?;
    Ok(one_page(sessions.iter().map(|s| SessionView::new(s, Some(claims.session_id)))))
}

/// Ends one of the caller's own sessions.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/sessions/{id}",
    operation_id = "end_own_session",
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 204, description = "Session ended"),
        doc::CallerProblems,
        (status = 404, response = doc::NotFound),
    )
)]
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
