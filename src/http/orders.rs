//! `/api/v1/orders*`: the tenant's orders. Quantities and prices are accepted as JSON strings
//! or numbers; numbers are taken in their textual form, exactly as sent, so nothing passes
//! through `f64` (`187.25` stays `187.25`, `0.1` stays `0.1`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::Schema;
use utoipa::{IntoParams, ToSchema};

use super::auth::path_id;
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::openapi as doc;
use super::pagination::{ApiQuery, ListQuery, Listing};
use crate::domain::{Order, OrderSide, OrderStatus, Scope, ValidationError};
use crate::service::orders::OrderInput;

/// `?status=` plus the paging parameters (documented by [`ListQuery`]).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrdersParams {
    /// Only orders in this status.
    #[param(value_type = Option<OrderStatus>)]
    status: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    list: ListQuery,
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrderBody {
    /// 1–12 characters of `A-Z`, `0-9` and `.`.
    #[schema(pattern = "^[A-Z0-9.]{1,12}$", example = "AAPL")]
    symbol: String,
    #[schema(value_type = OrderSide)]
    side: String,
    // Raw JSON, to read a number's digits rather than its `f64` approximation.
    #[schema(schema_with = decimal_schema)]
    quantity: Box<RawValue>,
    #[schema(schema_with = decimal_schema)]
    limit_price: Box<RawValue>,
}

/// The schema of an accepted decimal: a string or a JSON number, greater than zero, taken
/// exactly as written.
fn decimal_schema() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .description(Some("A decimal greater than zero, as a string or a JSON number (kept exactly as written)"))
        .examples(["187.25"])
        .into()
}

/// The decimal text of a JSON string or number; anything else is refused under `field`.
fn decimal_text(raw: &RawValue, field: &'static str) -> Result<String, ValidationError> {
    let text = raw.get().trim();
    let refused = || ValidationError::new(field, "must be a decimal number, as a string or a JSON number");
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|_| refused())
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(refused())
    }
}

/// The tenant's orders, newest first (scope `orders:read`).
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    operation_id = "list_orders",
    tag = "orders",
    security(("bearer" = ["orders:read"])),
    params(OrdersParams, ListQuery),
    responses(
        (status = 200, description = "A page of orders", body = Listing<Order>),
        doc::QueryProblems,
    )
)]
pub async fn list(
    State(core): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<OrdersParams>,
) -> Result<Response, ApiError> {
    user.require(Scope::OrdersRead)?;
    let page = q.list.page()?;
    let orders = core.list_orders(&user.0, q.status.as_deref(), page.store_page()).await?;
    Ok(page.answer(orders, |o| o.id))
}

/// Places a limit order (scope `orders:write`).
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    operation_id = "place_order",
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    request_body = NewOrderBody,
    responses(
        (status = 201, description = "The new open order", body = Order),
        doc::WriteProblems,
    )
)]
pub async fn place(
    State(core): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewOrderBody>,
) -> Result<Response, ApiError> {
    user.require(Scope::OrdersWrite)?;
    let input = OrderInput {
        symbol: body.symbol,
        side: body.side,
        quantity: decimal_text(&body.quantity, "quantity")?,
        limit_price: decimal_text(&body.limit_price, "limit_price")?,
    };
    Ok((StatusCode::CREATED, Json(core.place_order(&user.0, input).await?)).into_response())
}

/// Cancels an open order (scope `orders:write`; someone else's order also needs
/// `orders:manage`, which admins hold).
#[utoipa::path(
    delete,
    path = "/api/v1/orders/{id}",
    operation_id = "cancel_order",
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The cancelled order (`status: cancelled`)", body = Order),
        doc::CallerProblems,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    )
)]
pub async fn cancel(
    State(core): State<AppState>,
    Meta(meta): Meta,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Scope::OrdersWrite)?;
    Ok(Json(core.cancel_order(&user.0, path_id(&id)?, &meta).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn numbers_keep_the_digits_they_were_sent_with() {
        assert_eq!(decimal_text(&raw("187.25"), "quantity").unwrap(), "187.25");
        assert_eq!(decimal_text(&raw("0.1"), "quantity").unwrap(), "0.1");
        assert_eq!(
            decimal_text(&raw("12345678901234567.123456789"), "quantity").unwrap(),
            "12345678901234567.123456789"
        );
        assert_eq!(decimal_text(&raw("\"0.30\""), "quantity").unwrap(), "0.30");
    }

    #[test]
    fn other_json_values_are_refused_under_the_field() {
        for bad in ["null", "true", "[1]", "{}"] {
            assert_eq!(decimal_text(&raw(bad), "limit_price").unwrap_err().field, "limit_price", "{bad}");
        }
    }
}
