//! Extractors: who is asking (client IP behind trusted proxies, user agent, request id), the
//! authenticated caller (one access-token check for every protected route), scope guards,
//! and JSON bodies whose every rejection is a problem+json answer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::auth::AccessClaims;
use crate::domain::{Scope, ValidationError};
use crate::service::{Core, RequestMeta, ServiceError};

pub type AppState = Arc<Core>;

/// The request id the middleware put on the request.
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The client's address: the socket peer, or — only when the peer is a trusted proxy — the
/// right-most `X-Forwarded-For` address that is not itself a trusted proxy.
pub fn client_ip(core: &Core, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: &IpAddr| core.config.trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let forwarded =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    let hops: Vec<IpAddr> = forwarded.filter_map(|hop| hop.trim().parse().ok()).collect();
    hops.into_iter().rev().find(|ip| !trusted(ip)).unwrap_or(peer)
}

fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// Request facts for the service layer.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<AppState> for Meta {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, core: &AppState) -> Result<Self, ApiError> {
        Ok(Meta(request_meta(core, parts)))
    }
}

pub fn request_meta(core: &Core, parts: &Parts) -> RequestMeta {
    RequestMeta {
        client_ip: client_ip(core, peer_ip(parts), &parts.headers),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
        request_id: request_id(&parts.headers),
    }
}

/// The bearer token of the `Authorization` header (scheme matched case-insensitively).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The authenticated caller. Checking it costs a signature check (or a verified-token cache
/// hit) and one message to the session actor; no store round trip while the actor is live.
pub struct AuthUser(pub Arc<AccessClaims>);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, core: &AppState) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<Arc<AccessClaims>>() {
            return Ok(AuthUser(user.clone()));
        }
        let token = bearer(&parts.headers).ok_or(ServiceError::TokenMissing)?;
        let claims = core.authenticate(token).await?;
        let limit = core.config.rate_limit_user;
        let decision = core.stores.limits.check(&format!("rl:user:{}", claims.user_id), limit).await?;
        if !decision.allowed {
            core.metrics.rate_limited.with_label_values(&["user"]).inc();
            return Err(ApiError::RateLimited(decision));
        }
        // Tenant `require_mfa`: until the caller enrols, only the routes that take it there.
        let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |uri| uri.0.path());
        if !super::mfa::enrolment_exempt(&parts.method, path) {
            core.require_mfa_enrolment(&claims).await?;
        }
        parts.extensions.insert(claims.clone());
        Ok(AuthUser(claims))
    }
}

impl AuthUser {
    /// Refuses with 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.has_scope(scope.as_str()) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!("this needs the `{scope}` scope")).into())
        }
    }
}

/// A JSON body; malformed JSON → 400, wrong content type → 415, too large → 413, a field of
/// the wrong type or missing → 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiError::BadRequest(format!("malformed JSON: {}", e.body_text())))
            }
            Err(JsonRejection::JsonDataError(e)) => {
                let text = e.body_text();
                Err(ServiceError::Validation(ValidationError::new(field_of(&text), text)).into())
            }
            Err(JsonRejection::BytesRejection(e)) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge)
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// Names the field a serde error is about: axum reports `path: error` (the path's root is the
/// field, as in `roles[0]` or `tenant.slug`) or ``missing field `email` ``.
fn field_of(message: &str) -> &'static str {
    const FIELDS: [&str; 22] = [
        "email",
        "password",
        "display_name",
        "tenant",
        "token_delivery",
        "scope",
        "current_password",
        "new_password",
        "roles",
        "is_active",
        "slug",
        "name",
        "allow_self_signup",
        "symbol",
        "side",
        "quantity",
        "limit_price",
        "status",
        "limit",
        "cursor",
        "event",
        "user_id",
    ];
    let detail = message.rsplit_once("target type: ").map_or(message, |(_, rest)| rest);
    let root = match detail.split_once("missing field `") {
        Some((_, rest)) => rest.split('`').next().unwrap_or(""),
        None => detail.split(": ").next().unwrap_or("").split(['[', '.']).next().unwrap_or(""),
    };
    FIELDS.into_iter().find(|f| *f == root).unwrap_or("body")
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn the_field_is_the_root_of_the_serde_path() {
        let prefix = "Failed to deserialize the JSON body into the target type: ";
        assert_eq!(
            field_of(&format!("{prefix}new_password: invalid type: integer `5`, expected a string")),
            "new_password"
        );
        assert_eq!(field_of(&format!("{prefix}roles[0]: invalid type: integer `1`")), "roles");
        assert_eq!(field_of(&format!("{prefix}missing field `email` at line 1 column 2")), "email");
        assert_eq!(field_of(&format!("{prefix}invalid type: integer `5`, expected struct X")), "body");
    }
}
