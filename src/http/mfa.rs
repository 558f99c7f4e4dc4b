//! Two-factor sign-in (API.md §5.2): the caller's settings under `/api/v1/users/me/mfa*`, the
//! second step of a sign-in (`POST /api/v1/auth/mfa/verify`), and which routes a user who must
//! still enrol may use (the admins' reset is in `admin`). Handlers are glue: extract, one call into the
//! service, map the result.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::answers::no_store;
use super::auth::{limit_credentials, token_response, TokenAnswer};
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::users::text;
use super::views::{MfaEnrolmentView, RecoveryCodesView};
use crate::domain::ValidationError;
use crate::service::mfa::SecondFactor;
use crate::service::mfa_login::VerifyInput;

/// Whether a user who must still turn on two-factor (tenant `require_mfa`) may call this
/// route: `GET /users/me`, the two-factor settings, refresh and logout (all of a user's
/// sessions too). `path` is the whole path, as the client sent it.
pub fn enrolment_exempt(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    (method == Method::GET && path == "/api/v1/users/me")
        || path == "/api/v1/users/me/mfa"
        || path.starts_with("/api/v1/users/me/mfa/")
        || ["/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/logout-all"].contains(&path)
}

/// A text field that may be left out: absent or `null` is `None`, anything but a string 422.
fn optional_text(value: Option<Value>, field: &'static str) -> Result<Option<String>, ValidationError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ValidationError::new(field, "must be a string")),
    }
}

// Bodies take raw JSON values so that a value of the wrong type is reported under its own name.

#[derive(Deserialize, ToSchema)]
#[schema(description = "The caller's password")]
pub struct EnrolBody {
    #[serde(default)]
    #[schema(value_type = String, format = "password", required = true)]
    password: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(description = "The first code of the pending secret")]
pub struct ConfirmBody {
    /// The 6 digits the authenticator app shows.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[0-9]{6}$", example = "123456")]
    code: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(description = "The password, and a current code or (device lost) an unused recovery code")]
pub struct DisableBody {
    #[serde(default)]
    #[schema(value_type = String, format = "password", required = true)]
    password: Option<Value>,
    /// The 6 digits the authenticator app shows; or send `recovery_code` instead.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "123456")]
    code: Option<Value>,
    /// One of the recovery codes (used up by this); instead of `code`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "7K3M-Q9TZ-4WXB-2HRC")]
    recovery_code: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(description = "A current code, or an unused recovery code")]
pub struct CodeBody {
    /// The 6 digits the authenticator app shows; or send `recovery_code` instead.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "123456")]
    code: Option<Value>,
    /// One of the recovery codes (used up by this); instead of `code`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "7K3M-Q9TZ-4WXB-2HRC")]
    recovery_code: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(description = "The login's `mfa_token` and a code, or a recovery code")]
pub struct VerifyBody {
    /// From the login answer (`mfa_required: true`).
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    mfa_token: Option<Value>,
    /// The 6 digits the authenticator app shows; or send `recovery_code` instead.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "123456")]
    code: Option<Value>,
    /// One of the recovery codes (used up by this); instead of `code`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "7K3M-Q9TZ-4WXB-2HRC")]
    recovery_code: Option<Value>,
}

fn second_factor(code: Option<Value>, recovery_code: Option<Value>) -> Result<SecondFactor, ValidationError> {
    SecondFactor::parse(optional_text(code, "code")?, optional_text(recovery_code, "recovery_code")?)
}

/// Starts enrolling an authenticator app: answers a new secret (pending until a first code
/// confirms it). Refused (409) while two-factor is on.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/mfa/totp",
    operation_id = "begin_totp_enrolment",
    tag = "users",
    security(("bearer" = [])),
    request_body = EnrolBody,
    responses(
        (status = 200, description = "The secret, pending its first code", body = MfaEnrolmentView),
        doc::BodyProblems,
        (status = 401, response = doc::Unauthorized),
        (status = 409, response = doc::Conflict),
        (status = 423, response = doc::Locked),
    )
)]
pub async fn enrol(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<EnrolBody>,
) -> Result<Response, ApiError> {
    let password = text(body.password, "password")?;
    let enrolment = core.begin_totp_enrolment(&claims, &password, &meta).await?;
    Ok(no_store(StatusCode::OK, MfaEnrolmentView { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri }))
}

/// Confirms the enrolment with the app's first code: two-factor is on. Answers ten recovery
/// codes, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/mfa/totp/confirm",
    operation_id = "confirm_totp_enrolment",
    tag = "users",
    security(("bearer" = [])),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "Two-factor is on; the recovery codes", body = RecoveryCodesView),
        doc::BodyProblems,
        (status = 401, response = doc::Unauthorized),
        (status = 409, response = doc::Conflict),
    )
)]
pub async fn confirm(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response, ApiError> {
    let code = text(body.code, "code")?;
    let recovery_codes = core.confirm_totp(&claims, &code, &meta).await?;
    Ok(no_store(StatusCode::OK, RecoveryCodesView { recovery_codes }))
}

/// Turns two-factor off: needs the password and a code (or a recovery code). Wrong ones
/// count toward the lockout.
#[utoipa::path(
    delete,
    path = "/api/v1/users/me/mfa",
    operation_id = "disable_mfa",
    tag = "users",
    security(("bearer" = [])),
    request_body = DisableBody,
    responses(
        (status = 204, description = "Two-factor is off"),
        doc::BodyProblems,
        (status = 401, response = doc::Unauthorized),
        (status = 409, response = doc::Conflict),
        (status = 423, response = doc::Locked),
    )
)]
pub async fn disable(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<DisableBody>,
) -> Result<Response, ApiError> {
    let password = text(body.password, "password")?;
    let factor = second_factor(body.code, body.recovery_code)?;
    core.disable_mfa(&claims, &password, &factor, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replaces the recovery codes (the old set stops working); needs a code (or a recovery code).
#[utoipa::path(
    post,
    path = "/api/v1/users/me/mfa/recovery-codes",
    operation_id = "renew_recovery_codes",
    tag = "users",
    security(("bearer" = [])),
    request_body = CodeBody,
    responses(
        (status = 200, description = "The new recovery codes", body = RecoveryCodesView),
        doc::BodyProblems,
        (status = 401, response = doc::Unauthorized),
        (status = 409, response = doc::Conflict),
        (status = 423, response = doc::Locked),
    )
)]
pub async fn renew_recovery_codes(
    State(core): State<AppState>,
    Meta(meta): Meta,
    AuthUser(claims): AuthUser,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, ApiError> {
    let factor = second_factor(body.code, body.recovery_code)?;
    let recovery_codes = core.renew_recovery_codes(&claims, &factor, &meta).await?;
    Ok(no_store(StatusCode::OK, RecoveryCodesView { recovery_codes }))
}

/// The second step of a two-factor sign-in: the login's `mfa_token` and a code (or a recovery
/// code) answer the login's tokens, delivered as asked at login. The token is single-use,
/// lives 5 minutes and is spent by its fifth wrong code; wrong codes count toward the lockout.
#[utoipa::path(
    post,
    path = "/api/v1/auth/mfa/verify",
    operation_id = "verify_mfa",
    tag = "auth",
    request_body = VerifyBody,
    responses(
        (status = 200, description = "Signed in; with `token_delivery: cookie` at login the refresh token is in \
            `Set-Cookie: refresh_token=…; HttpOnly; SameSite=Strict; Path=/api/v1/auth`", body = TokenAnswer,
            headers(("Set-Cookie" = String, description = "The refresh token cookie (cookie delivery only)"))),
        doc::WriteProblems,
        (status = 423, response = doc::Locked),
    )
)]
pub async fn verify(
    State(core): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    limit_credentials(&core, &meta).await?;
    let input = VerifyInput {
        mfa_token: text(body.mfa_token, "mfa_token")?,
        factor: second_factor(body.code, body.recovery_code)?,
    };
    let (issued, delivery) = core.verify_mfa(input, &meta).await?;
    Ok(token_response(&core, &issued, delivery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_enrolment_routes_are_open_to_a_user_who_must_enrol() {
        for (method, path) in [
            (Method::GET, "/api/v1/users/me"),
            (Method::POST, "/api/v1/users/me/mfa/totp"),
            (Method::POST, "/api/v1/users/me/mfa/totp/confirm"),
            (Method::DELETE, "/api/v1/users/me/mfa"),
            (Method::POST, "/api/v1/users/me/mfa/recovery-codes"),
            (Method::POST, "/api/v1/auth/logout"),
            (Method::POST, "/api/v1/auth/logout-all"),
            (Method::POST, "/api/v1/auth/refresh"),
        ] {
            assert!(enrolment_exempt(&method, path), "{method} {path}");
        }
        for (method, path) in [
            (Method::PATCH, "/api/v1/users/me"),
            (Method::POST, "/api/v1/users/me/password"),
            (Method::GET, "/api/v1/users/me/mfa-other"),
            (Method::GET, "/api/v1/orders"),
            (Method::GET, "/api/v1/auth/sessions"),
            (Method::GET, "/api/v1/admin/users"),
        ] {
            assert!(!enrolment_exempt(&method, path), "{method} {path}");
        }
    }
}
