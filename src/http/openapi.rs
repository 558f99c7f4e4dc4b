//! The OpenAPI 3 description of the HTTP API, served at `GET /openapi.json`. It is generated
//! from the code: the handlers' `#[utoipa::path]` annotations, the body types' `ToSchema`
//! derives (answers are the view types of `views`), the problem+json error answers and their
//! named sets (`problems`, re-exported here), and the security schemes.
//!
//! `tests/api/openapi.rs` compares the document with the routes `mod.rs` registers, so a route
//! added without an annotation (or an annotation without its route) fails the tests.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use super::problems::*;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::to_bytes;

    use chrono::Utc;
    use serde_json::{json, Value};
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
