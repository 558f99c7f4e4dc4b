//! `/api/v1/orders*`: the tenant's orders. Quantities and prices are accepted as JSON strings
//! or numbers; numbers are taken in their textual form, exactly as sent, so nothing passes
//! through `f64` (`187.25` stays `187.25`, `0.1` stays `0.1`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::auth::path_id;
use super::error::ApiError;
use super::extract::{ApiJson, AppState, AuthUser, Meta};
use super::pagination::{ApiQuery, ListQuery};
use crate::domain::{Scope, ValidationError};
use crate::service::orders::OrderInput;

#[derive(Deserialize)]
pub struct OrdersParams {
    status: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

#[derive(Deserialize)]
pub struct NewOrderBody {
    symbol: String,
    side: String,
    /// Raw JSON, to read a number's digits rather than its `f64` approximation.
    quantity: Box<RawValue>,
    limit_price: Box<RawValue>,
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
