//! Extractors: who is asking (client IP behind trusted proxies, user agent, request id), the
//! authenticated caller (one access-token check for every protected route), scope guards,
//! and JSON bodies whose every rejection is a problem+json answer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::auth::AccessClaims;
use crate::domain::api_key::looks_like_key;
use crate::domain::text::{plain, Tabs};
use crate::domain::{Scope, ValidationError};
use crate::service::admin::Acting;
use crate::service::{Core, RequestMeta, ServiceError};

pub type AppState = Arc<Core>;

/// The request id the middleware put on the request.
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The client's address (API.md §5.1) — the one every limit key, session binding and audit
/// row uses. The socket peer, unless it is a trusted proxy: then `X-Forwarded-For` (all its
/// lines, in order, as one list) is read from the right, skipping trusted hops; the first
/// other hop is the client, and a hop that is not an address ends the walk at the last trusted
/// hop (so a client cannot choose its address by writing garbage after its own). IPv4-mapped
/// IPv6 addresses are IPv4 throughout.
pub fn client_ip(trusted: &[IpNet], extensions: &Extensions, headers: &HeaderMap) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut last_trusted = peer;
    for line in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(line) = line.to_str() else { return last_trusted };
        for hop in line.rsplit(',') {
            match forwarded_hop(hop.trim()) {
                Some(ip) if is_trusted(&ip) => last_trusted = ip,
                Some(ip) => return ip,
                None => return last_trusted,
            }
        }
    }
    last_trusted
}

/// One `X-Forwarded-For` hop as proxies write it: an address, or with a port (`a.b.c.d:port`,
/// `[v6]:port`, `[v6]`), which is that address. `unknown`, RFC 7239's obfuscated `_names` and
/// anything else are not addresses.
fn forwarded_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
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
        client_ip: client_ip(&core.config.trusted_proxies, &parts.extensions, &parts.headers),
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
        // An API key (`tsk_…`) is limited on its own, at the per-user rate (API.md §5.3).
        let (claims, limit_key, label) = if looks_like_key(token) {
            let claims = core.authenticate_api_key(token, &request_meta(core, parts)).await?;
            let key = format!("rl:key:{}", claims.session_id);
            (claims, key, "api_key")
        } else {
            let claims = core.authenticate(token).await?;
            let key = format!("rl:user:{}", claims.user_id);
            (claims, key, "user")
        };
        let limit = core.config.rate_limit_user;
        let decision = core.stores.limits.check(&limit_key, limit).await?;
        if !decision.allowed {
            core.metrics.rate_limited.with_label_values(&[label]).inc();
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
    /// The caller acting as an administrator on its own tenant, or the `?tenant=` one.
    pub fn acting<'a>(&'a self, tenant: Option<&'a str>) -> Acting<'a> {
        Acting { claims: &self.0, tenant }
    }

    /// Refuses with 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.has_scope(scope.as_str()) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!("this needs the `{scope}` scope")).into())
        }
    }
}

/// A JSON body; wrong content type → 415, too large → 413, malformed JSON → 400, a field of
/// the wrong type or missing, or text with a control character → 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(ApiError::PayloadTooLarge),
            Err(e) => return Err(ApiError::BadRequest(e.body_text())),
        };
        refuse_control_text(&bytes)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiError::BadRequest(format!("malformed JSON: {}", e.body_text())))
            }
            Err(JsonRejection::JsonDataError(e)) => {
                let text = e.body_text();
                Err(ServiceError::Validation(ValidationError::new(field_of(&text), text)).into())
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// `application/json` or `application/<something>+json`, parameters aside (what axum's own
/// `Json` accepts).
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence
        .split_once('/')
        .is_some_and(|(kind, sub)| kind == "application" && (sub == "json" || sub.ends_with("+json")))
}

/// The JSON fields the API reads, and whether each is free text (where a tab is text).
const FIELDS: [(&str, Tabs); 25] = [
    ("email", Tabs::Refused),
    ("password", Tabs::Allowed),
    ("display_name", Tabs::Allowed),
    ("tenant", Tabs::Refused),
    ("token_delivery", Tabs::Refused),
    ("scope", Tabs::Refused),
    ("current_password", Tabs::Allowed),
    ("new_password", Tabs::Allowed),
    ("roles", Tabs::Refused),
    ("is_active", Tabs::Refused),
    ("slug", Tabs::Refused),
    ("name", Tabs::Allowed),
    ("allow_self_signup", Tabs::Refused),
    ("symbol", Tabs::Refused),
    ("side", Tabs::Refused),
    ("quantity", Tabs::Refused),
    ("limit_price", Tabs::Refused),
    ("status", Tabs::Refused),
    ("limit", Tabs::Refused),
    ("cursor", Tabs::Refused),
    ("event", Tabs::Refused),
    ("user_id", Tabs::Refused),
    ("scopes", Tabs::Refused),
    ("allowed_ips", Tabs::Refused),
    ("expires_at", Tabs::Refused),
];

/// A field of [`FIELDS`] by name; any other is reported as the `body`.
fn known_field(name: &str) -> (&'static str, Tabs) {
    FIELDS.into_iter().find(|(field, _)| *field == name).unwrap_or(("body", Tabs::Refused))
}

/// Refuses a body whose text holds a control character (tabs only in free text), naming the
/// top-level field it sits under. A control character can only arrive escaped (`\u0000`,
/// `\n`) or as DEL or a C1 character (bytes 0x7F, 0xC2 0x80–0x9F), so a body without a
/// backslash, 0x7F or 0xC2 is passed without being parsed twice.
fn refuse_control_text(bytes: &[u8]) -> Result<(), ValidationError> {
    if !bytes.iter().any(|&b| b == b'\\' || b == 0x7f || b == 0xc2) {
        return Ok(());
    }
    // Malformed JSON is left for the typed parse to report.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Ok(()) };
    fn walk(value: &serde_json::Value, field: &'static str, tabs: Tabs) -> Result<(), ValidationError> {
        match value {
            serde_json::Value::String(text) => plain(field, text, tabs).map(|_| ()),
            serde_json::Value::Array(items) => items.iter().try_for_each(|item| walk(item, field, tabs)),
            serde_json::Value::Object(map) => map.iter().try_for_each(|(key, item)| {
                plain(field, key, Tabs::Refused)?;
                walk(item, field, tabs)
            }),
            _ => Ok(()),
        }
    }
    match &value {
        serde_json::Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let (field, tabs) = known_field(key);
            plain(field, key, Tabs::Refused)?;
            walk(item, field, tabs)
        }),
        other => walk(other, "body", Tabs::Refused),
    }
}

/// Names the field a serde error is about: axum reports `path: error` (the path's root is the
/// field, as in `roles[0]` or `tenant.slug`) or ``missing field `email` ``.
fn field_of(message: &str) -> &'static str {
    let detail = message.rsplit_once("target type: ").map_or(message, |(_, rest)| rest);
    let root = match detail.split_once("missing field `") {
        Some((_, rest)) => rest.split('`').next().unwrap_or(""),
        None => detail.split(": ").next().unwrap_or("").split(['[', '.']).next().unwrap_or(""),
    };
    known_field(root).0
}

#[cfg(test)]
mod tests {
    use super::{client_ip, field_of, refuse_control_text};

    fn seen(trusted: &[&str], peer: &str, forwarded: &[&str]) -> String {
        let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|n| n.parse().unwrap()).collect();
        let mut extensions = axum::http::Extensions::new();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        extensions.insert(axum::extract::ConnectInfo(peer));
        let mut headers = axum::http::HeaderMap::new();
        for line in forwarded {
            headers.append("x-forwarded-for", line.parse().unwrap());
        }
        client_ip(&trusted, &extensions, &headers).to_string()
    }

    #[test]
    fn forwarded_hops_are_walked_from_the_right_until_an_untrusted_or_unparsable_one() {
        let proxies = ["10.0.0.0/8"];
        let peer = "10.0.0.1:443";
        assert_eq!(seen(&proxies, "203.0.113.5:1", &["198.51.100.1"]), "203.0.113.5", "an untrusted peer");
        assert_eq!(seen(&proxies, peer, &[]), "10.0.0.1", "no header: the proxy itself");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, 203.0.113.9, 10.0.0.2"]), "203.0.113.9");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, unknown"]), "10.0.0.1");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, unknown, 10.0.0.3"]), "10.0.0.3");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, _hidden"]), "10.0.0.1", "an obfuscated RFC 7239 name");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, "]), "10.0.0.1", "an empty hop");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, 203.0.113.9:8080"]), "203.0.113.9");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, 203.0.113.9:port"]), "10.0.0.1");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, [2001:db8::1]:80"]), "2001:db8::1");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1, [2001:db8::1]"]), "2001:db8::1");
        assert_eq!(seen(&proxies, peer, &["1.1.1.1", "203.0.113.9"]), "203.0.113.9", "lines are one list");
        assert_eq!(seen(&proxies, peer, &["10.0.0.7, 10.0.0.8"]), "10.0.0.7", "only proxies");
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4_for_the_peer_the_hops_and_proxy_matching() {
        let proxies = ["10.0.0.0/8"];
        assert_eq!(seen(&proxies, "[::ffff:203.0.113.5]:1", &[]), "203.0.113.5");
        assert_eq!(seen(&proxies, "[::ffff:10.0.0.1]:1", &["198.51.100.7"]), "198.51.100.7", "a mapped proxy");
        assert_eq!(seen(&proxies, "10.0.0.1:1", &["198.51.100.7, ::ffff:10.0.0.2"]), "198.51.100.7");
        assert_eq!(seen(&proxies, "10.0.0.1:1", &["::ffff:198.51.100.7"]), "198.51.100.7");
    }

    #[test]
    fn control_text_is_refused_under_its_top_level_field_and_tabs_only_in_free_text() {
        let refused = |body: &str| refuse_control_text(body.as_bytes()).err().map(|e| e.field);
        assert_eq!(refused(r#"{"email":"a\u0000@x.com"}"#), Some("email"));
        assert_eq!(refused(r#"{"roles":["admin","vi\u0001ewer"]}"#), Some("roles"));
        assert_eq!(refused("{\"name\":\"Acme\u{85}\"}"), Some("name"));
        assert_eq!(refused(r#"{"symbol":"A\u007f"}"#), Some("symbol"));
        assert_eq!(refused(r#"{"unheard_of":"x\n"}"#), Some("body"));
        assert_eq!(refused(r#"{"display_name":"Ann\tLee","password":"a\tb"}"#), None);
        assert_eq!(refused(r#"{"tenant":"acme\t"}"#), Some("tenant"));
        assert_eq!(refused(r#"{"email":"quote\"and\\backslash@x.com","name":"©"}"#), None);
        assert_eq!(refused(r#"{"email": "not json"#), None, "the typed parse reports malformed JSON");
    }

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
