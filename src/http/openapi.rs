//! The OpenAPI 3 description of the HTTP API, served at `GET /openapi.json`. It is generated
//! from the code: the handlers' `#[utoipa::path]` annotations, the body types' `ToSchema`
//! derives (answers are the view types of `views`), and here the reusable problem+json error
//! answers, the named sets of them that handlers declare, and the security schemes.
//!
//! `tests/api/openapi.rs` compares the document with the routes `mod.rs` registers, so a route
//! added without an annotation (or an annotation without its route) fails the tests.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi, ToResponse};

use super::{admin, api_keys, auth, mfa, ops, orders, tenants, users};

/// The content type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The document: every route's operation, listed by handler.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tradesage",
        description = "Authentication and session server of the Tradesage trading platform. Errors are \
            `application/problem+json` with a stable `code`; lists take `limit` and `cursor` and answer \
            `{items, next_cursor}`; money and quantities are decimal strings."
    ),
    paths(
        ops::health,
        ops::health_detailed,
        ops::metrics,
        ops::jwks,
        openapi_json,
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::logout_all,
        mfa::verify,
        auth::sessions,
        auth::end_session,
        ops::actors,
        ops::actors_history,
        users::me,
        users::update_me,
        users::change_password,
        mfa::enrol,
        mfa::confirm,
        mfa::disable,
        mfa::renew_recovery_codes,
        api_keys::create,
        api_keys::list,
        api_keys::revoke,
        api_keys::admin_list,
        api_keys::admin_revoke,
        admin::list_users,
        admin::create_user,
        admin::get_user,
        admin::update_user,
        admin::unlock_user,
        admin::reset_mfa,
        admin::user_sessions,
        admin::end_session,
        admin::lockouts,
        admin::audit,
        tenants::list,
        tenants::create,
        tenants::get,
        tenants::update,
        orders::list,
        orders::place,
        orders::cancel,
    ),
    components(
        schemas(super::error::Problem, super::ops_views::ActorsScope),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            Locked,
            TooManyRequests,
            Unavailable,
        )
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Register, sign in, refresh, sign out, own sessions"),
        (name = "users", description = "The caller's own account"),
        (name = "api_keys", description = "The caller's API keys (`Authorization: Bearer tsk_…`)"),
        (name = "admin", description = "Tenant administration (role `admin`)"),
        (name = "tenants", description = "Tenant management (admins of tenant `platform`)"),
        (name = "orders", description = "The protected trading resource"),
        (name = "ops", description = "Health, metrics, keys, the actor system and this document"),
    )
)]
pub struct ApiDoc;

/// The security schemes the operations name: `bearer` (an access token; for `/metrics` and
/// the actor view also `METRICS_TOKEN`; for refresh a refresh token) and `refresh_cookie`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An ES256 access token (`token_type: access`), or an API key (`tsk_…`: the owner \
                         with the key's scopes that the owner still holds; refused on `/api/v1/auth/*`, the \
                         password, two-factor and API-key routes); the scheme is matched case-insensitively. \
                         The list of an operation's requirement names the scope it needs.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "refresh_token",
                "The refresh token cookie set by login (`token_delivery: cookie`). Writes authenticated \
                 by it need an `Origin` of this server or of `CORS_ALLOWED_ORIGINS`, or `X-Requested-With`.",
            ))),
        );
    }
}

/// The document as served. Serialising it cannot fail (string keys only); were it to, the
/// error is logged and `{}` served, and the unit tests below fail.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi().to_json().unwrap_or_else(|error| {
        tracing::error!(%error, "the OpenAPI document does not serialise");
        "{}".to_owned()
    })
});

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI 3 description of this API", body = Object))
)]
pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

/// One reusable problem+json error answer per status: a response component whose body is a
/// [`Problem`](super::error::Problem), with the headers that status carries.
macro_rules! problem_responses {
    ($(
        $(#[$meta:meta])*
        $name:ident: $status:literal, $code:literal, $title:literal, $detail:literal, $description:literal
        $(, field = $field:literal)?
        $(, headers($(($header:literal, $integer:literal, $header_description:literal)),+ $(,)?))?;
    )+) => {
        $(
            $(#[$meta])*
            pub struct $name;

            impl $name {
                /// The example body: what the server answers for a typical error of this status.
                pub fn example() -> Value {
                    #[allow(unused_mut)]
                    let mut example = json!({
                        "type": concat!("https://tradesage.dev/problems/", $code),
                        "title": $title,
                        "status": $status,
                        "detail": $detail,
                        "code": $code,
                    });
                    $(example["field"] = json!($field);)?
                    example
                }
            }

            impl ProblemResponse for $name {
                const STATUS: u16 = $status;
            }

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                    let content = ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .example(Some(Self::example()))
                        .build();
                    #[allow(unused_mut)]
                    let mut response = ResponseBuilder::new().description($description).content(PROBLEM_JSON, content);
                    $($(
                        let schema = Object::with_type(if $integer { Type::Integer } else { Type::String });
                        response = response.header(
                            $header,
                            HeaderBuilder::new().schema(schema).description(Some($header_description)).build(),
                        );
                    )+)?
                    (stringify!($name), response.build().into())
                }
            }
        )+
    };
}

problem_responses! {
    /// 400.
    BadRequest: 400, "validation_failed", "Malformed request", "malformed JSON: expected value at line 1 column 1",
        "Malformed request: bad JSON syntax, query string or path (`validation_failed`).";
    /// 401.
    Unauthorized: 401, "token_missing", "Authentication required", "no token was presented",
        "Not authenticated: `invalid_credentials`, `token_missing`, `token_invalid`, `token_expired`, \
         `token_rotated`, `token_reused`, `session_revoked`, `session_ip_mismatch` or (a wrong or reused \
         two-factor code) `mfa_invalid`. An API key that is unknown, revoked or expired, or whose owner \
         is disabled, answers `token_invalid`.",
        headers(("WWW-Authenticate", false, "`Bearer error=\"invalid_token\", error_description=\"<code>\"`"));
    /// 403.
    Forbidden: 403, "forbidden", "Forbidden", "this needs the `users:manage` scope",
        "Refused: `forbidden` (a scope is missing, another tenant's data, or a cookie-authenticated write \
         without a trusted `Origin` or `X-Requested-With`), `account_disabled`, or `mfa_enrollment_required` \
         (the tenant requires two-factor sign-in and the caller has not turned it on: only `GET /users/me`, \
         the two-factor settings, refresh and logout are open until then), or `ip_not_allowed` (an API key \
         presented from an address outside its `allowed_ips`).";
    /// 404.
    NotFound: 404, "not_found", "Not found", "no such resource",
        "`not_found`: no such resource (or one the caller may not see).";
    /// 409.
    Conflict: 409, "conflict", "Conflict", "an account with this email already exists in this tenant",
        "`conflict`: the request clashes with the resource's current state.";
    /// 413.
    PayloadTooLarge: 413, "payload_too_large", "Payload too large", "the body must be at most 1 MiB",
        "`payload_too_large`: the body is larger than 1 MiB.";
    /// 415.
    UnsupportedMediaType: 415, "validation_failed", "Unsupported media type", "send Content-Type: application/json",
        "`validation_failed`: the body was not sent as `Content-Type: application/json`.";
    /// 422.
    ValidationFailed: 422, "validation_failed", "Validation failed", "email: is not a valid email address",
        "`validation_failed`: a field is missing, of the wrong type or breaks a rule; `field` names it.",
        field = "email";
    /// 423.
    Locked: 423, "account_locked", "Account locked", "too many failed sign-ins; try again in 60 s",
        "`account_locked`: too many failed sign-ins. Every attempt is refused until the lock ends.",
        headers(("Retry-After", true, "Seconds until the lock ends; absent when the lock is permanent"));
    /// 429.
    TooManyRequests: 429, "rate_limited", "Too many requests", "slow down; see Retry-After",
        "`rate_limited`: too many requests from this client IP or user.",
        headers(
            ("Retry-After", true, "Seconds until a request would be allowed"),
            ("RateLimit-Limit", true, "Requests allowed per window"),
            ("RateLimit-Remaining", true, "Requests left in the window"),
            ("RateLimit-Reset", true, "Seconds until the window is full again"),
        );
    /// 503.
    Unavailable: 503, "unavailable", "Service unavailable", "a dependency is unavailable; retry shortly",
        "`unavailable`: a dependency is down or the request timed out; retry after `Retry-After`.",
        headers(("Retry-After", true, "Seconds"));
}

/// A problem+json error answer with the one status it is documented under.
pub trait ProblemResponse: ToResponse<'static> {
    const STATUS: u16;
}

/// The entry of an operation's responses for `P`: its status and a reference to its response
/// component, the same entry as `(status = …, response = P)` in a `#[utoipa::path]`.
fn reference<P: ProblemResponse>() -> (String, RefOr<utoipa::openapi::Response>) {
    (P::STATUS.to_string(), Ref::from_response_name(P::response().0).into())
}

/// Named sets of the error answers that groups of handlers share, for their
/// `#[utoipa::path(responses(…))]`: `responses((status = 200, …), doc::LookupProblems)`. A
/// handler that answers more lists the extra statuses beside its set: utoipa merges the set's
/// entries and the tuples into one map, so the operation reads exactly as if each status were
/// listed by hand (a set is not a component of its own).
macro_rules! problem_sets {
    ($(
        $(#[$meta:meta])*
        $name:ident: $($problem:ident),+;
    )+) => {
        $(
            $(#[$meta])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                    BTreeMap::from([$(reference::<$problem>()),+])
                }
            }
        )+
    };
}

problem_sets! {
    /// A route for a signed-in caller that takes no body and no checked input.
    CallerProblems: Unauthorized, Forbidden, TooManyRequests, Unavailable;
    /// A signed-in caller's read or delete of one resource, named by its path id or
    /// `?tenant=`: a malformed query (400) or an unknown resource (404) besides.
    LookupProblems: BadRequest, Unauthorized, Forbidden, NotFound, TooManyRequests, Unavailable;
    /// A signed-in caller's read with checked query parameters (the lists, the actor views):
    /// a malformed query (400) or a bad parameter value (422) besides.
    QueryProblems: BadRequest, Unauthorized, Forbidden, ValidationFailed, TooManyRequests, Unavailable;
    /// Any route that reads a JSON body, signed in or not.
    BodyProblems: BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed, TooManyRequests, Unavailable;
    /// A signed-in caller's JSON write: the body's problems and the caller's.
    WriteProblems: BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, ValidationFailed,
        TooManyRequests, Unavailable;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::to_bytes;

    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::domain::ValidationError;
    use crate::http::error::ApiError;
    use crate::service::ServiceError;
    use crate::store::RateDecision;

    fn document() -> Value {
        serde_json::from_str(&DOCUMENT).unwrap()
    }

    /// The schema `name` refers to, following `$ref`s.
    fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/components/schemas/").expect("a schema reference");
            schema = &doc["components"]["schemas"][name];
            assert!(schema.is_object(), "{reference} is not in the document");
        }
        schema
    }

    /// Checks that `value` fits `schema` as far as object keys go: every key it has is a
    /// property of the schema, every required property is there; recursing into objects and
    /// arrays.
    fn assert_fits(doc: &Value, schema: &Value, value: &Value, at: &str) {
        let schema = resolve(doc, schema);
        if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
            // `Option<T>` of a referenced schema: `oneOf: [null, T]`.
            if value.is_null() {
                return;
            }
            let object = one_of.iter().find(|s| s.get("type") != Some(&json!("null"))).expect("a non-null branch");
            return assert_fits(doc, object, value, at);
        }
        match value {
            Value::Object(fields) => {
                let properties = schema["properties"].as_object().unwrap_or_else(|| panic!("{at}: no properties"));
                for (key, field) in fields {
                    let property = properties.get(key).unwrap_or_else(|| panic!("{at}.{key} is not in the schema"));
                    if !(property.get("type") == Some(&json!("object")) && property.get("properties").is_none()) {
                        assert_fits(doc, property, field, &format!("{at}.{key}"));
                    }
                }
                for required in schema["required"].as_array().unwrap_or(&Vec::new()) {
                    let required = required.as_str().unwrap();
                    assert!(fields.contains_key(required), "{at}.{required} is required but missing");
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    assert_fits(doc, &schema["items"], item, &format!("{at}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn schema_named(name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    #[test]
    fn the_document_is_openapi_3_titled_tradesage() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert_eq!(doc["info"]["title"], "Tradesage");
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    #[test]
    fn the_view_schemas_fit_what_the_views_serialise() {
        use crate::http::views::{ActorsView, AuditEventView, LockoutView, TenantView};
        let doc = document();
        let now = Utc::now();
        let tenant = crate::domain::Tenant {
            id: Uuid::now_v7(),
            slug: "acme".into(),
            name: "Acme".into(),
            allow_self_signup: true,
            require_mfa: false,
            is_active: true,
            created_at: now,
        };
        let value = serde_json::to_value(TenantView::from(&tenant)).unwrap();
        assert_fits(&doc, &schema_named("Tenant"), &value, "Tenant");
        let mut lockout = crate::domain::LockoutState::new(tenant.id, "a@example.com".into());
        lockout.failures = 3;
        lockout.locked_until = Some(now);
        let value = serde_json::to_value(LockoutView::new(Some(Uuid::now_v7()), &lockout)).unwrap();
        assert_fits(&doc, &schema_named("LockoutView"), &value, "LockoutView");
        let event = crate::store::AuditEvent {
            id: Uuid::now_v7(),
            at: now,
            tenant_id: Some(Uuid::now_v7()),
            user_id: None,
            event: "login".into(),
            outcome: "success".into(),
            ip: Some("127.0.0.1".into()),
            user_agent: Some("test".into()),
            request_id: None,
            detail: json!({ "x": 1 }),
        };
        let value = serde_json::to_value(AuditEventView::from(&event)).unwrap();
        assert_fits(&doc, &schema_named("AuditEvent"), &value, "AuditEvent");
        let actors = crate::actors::ActorsSnapshot {
            node: "n".into(),
            uptime_s: 1,
            kinds: vec![crate::actors::KindSnapshot {
                kind: "session".into(),
                live: 1,
                activations: 1,
                passivations: 0,
                restarts: 0,
                failures: 0,
                mailbox_depth: 0,
                handle_p50_ms: 0.1,
                handle_p99_ms: 0.2,
                handled: 3,
                handle_buckets: vec![(0.001, 3)],
            }],
            supervisors: vec![crate::actors::SupervisorSnapshot {
                name: "session-shard-0".into(),
                kind: "session".into(),
                children: 1,
                restarts: 0,
                failures: 0,
            }],
        };
        let value = serde_json::to_value(ActorsView::from(&actors)).unwrap();
        assert_fits(&doc, &schema_named("ActorsView"), &value, "ActorsView");
        let cluster = crate::http::ops_views::ClusterActorsView { node: "n".into(), nodes: vec![(&actors).into()] };
        let value = serde_json::to_value(&cluster).unwrap();
        assert_fits(&doc, &schema_named("ClusterActorsView"), &value, "ClusterActorsView");
        let point = crate::actors::history::Point {
            t: now,
            interval_s: 10.0,
            live: 1,
            activations: 2,
            passivations: 0,
            restarts: 0,
            failures: 0,
            mailbox_depth: 0,
            p99_ms: None,
        };
        let series = crate::actors::cluster::NodeSeries {
            node: "n".into(),
            reporting: false,
            last_report_at: now,
            kinds: vec![crate::actors::history::KindSeries { kind: "session".into(), points: vec![point] }],
        };
        let history =
            crate::http::ops_views::ActorsHistoryView { step_s: 10, minutes: 15, nodes: vec![(&series).into()] };
        let value = serde_json::to_value(&history).unwrap();
        assert_fits(&doc, &schema_named("ActorsHistoryView"), &value, "ActorsHistoryView");
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k", "alg": "ES256", "use": "sig"});
        assert_fits(&doc, &schema_named("Jwks"), &json!({ "keys": [jwk] }), "Jwks");
    }

    async fn body_of(error: ApiError) -> Value {
        let response = error.into_response();
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        serde_json::from_slice(&to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn the_error_examples_are_what_the_server_answers() {
        let doc = document();
        let decision = RateDecision {
            allowed: false,
            limit: 1,
            remaining: 0,
            reset_after: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
        };
        let cases: Vec<(&str, Value, ApiError)> = vec![
            (
                "BadRequest",
                BadRequest::example(),
                ApiError::BadRequest(BadRequest::example()["detail"].as_str().unwrap().into()),
            ),
            ("Unauthorized", Unauthorized::example(), ServiceError::TokenMissing.into()),
            (
                "Forbidden",
                Forbidden::example(),
                ServiceError::Forbidden("this needs the `users:manage` scope".into()).into(),
            ),
            ("NotFound", NotFound::example(), ServiceError::NotFound.into()),
            (
                "Conflict",
                Conflict::example(),
                ServiceError::Conflict("an account with this email already exists in this tenant".into()).into(),
            ),
            ("PayloadTooLarge", PayloadTooLarge::example(), ApiError::PayloadTooLarge),
            ("UnsupportedMediaType", UnsupportedMediaType::example(), ApiError::UnsupportedMediaType),
            (
                "ValidationFailed",
                ValidationFailed::example(),
                ValidationError::new("email", "is not a valid email address").into(),
            ),
            (
                "Locked",
                Locked::example(),
                ServiceError::AccountLocked { retry_after: Some(Duration::from_secs(60)) }.into(),
            ),
            ("TooManyRequests", TooManyRequests::example(), ApiError::RateLimited(decision)),
            ("Unavailable", Unavailable::example(), ServiceError::Unavailable("test".into()).into()),
        ];
        for (name, example, error) in cases {
            let response = &doc["components"]["responses"][name];
            assert_eq!(response["content"][PROBLEM_JSON]["example"], example, "{name}");
            let answered = body_of(error).await;
            assert_eq!(answered, example, "{name}");
            assert_fits(&doc, &schema_named("Problem"), &answered, name);
        }
    }
}
