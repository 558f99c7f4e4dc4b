//! The reusable problem+json error answers of the OpenAPI document (one response component
//! per status, with its example and headers) and the named sets of them that handlers declare
//! in `#[utoipa::path(responses(…))]`. Handlers reach them as `openapi::…` (`doc::…`).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, ToResponse};

use super::openapi::PROBLEM_JSON;

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
