//! Orders: the protected trading resource. Quantities and prices are exact decimals.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderSide {
    Buy,
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "open" => Ok(OrderStatus::Open),
            "cancelled" => Ok(OrderStatus::Cancelled),
            _ => Err(ValidationError::new("status", "must be `open` or `cancelled`")),
        }
    }
}

impl OrderSide {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSide::Buy => "buy",
            OrderSide::Sell => "sell",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "buy" => Ok(OrderSide::Buy),
            "sell" => Ok(OrderSide::Sell),
            _ => Err(ValidationError::new("side", "must be `buy` or `sell`")),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub symbol: String,
    pub side: OrderSide,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "10")]
    pub quantity: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "187.25")]
    pub limit_price: Decimal,
    pub status: OrderStatus,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A validated order request.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub symbol: String,
    pub side: OrderSide,
    pub quantity: Decimal,
    pub limit_price: Decimal,
}

impl NewOrder {
    pub fn parse(symbol: &str, side: &str, quantity: &str, limit_price: &str) -> Result<Self, ValidationError> {
        let symbol_ok = (1..=12).contains(&symbol.len())
            && symbol.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.');
        if !symbol_ok {
            return Err(ValidationError::new("symbol", "must be 1–12 characters of A-Z, 0-9 and ."));
        }
        Ok(Self {
            symbol: symbol.to_owned(),
            side: OrderSide::parse(side)?,
            quantity: positive_decimal(quantity, "quantity")?,
            limit_price: positive_decimal(limit_price, "limit_price")?,
        })
    }
}

fn positive_decimal(raw: &str, field: &'static str) -> Result<Decimal, ValidationError> {
    let value: Decimal = raw.trim().parse().map_err(|_| ValidationError::new(field, "must be a decimal number"))?;
    if value <= Decimal::ZERO {
        return Err(ValidationError::new(field, "must be greater than zero"));
    }
    Ok(value.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_stay_exact() {
        let order = NewOrder::parse("AAPL", "buy", "0.1", "187.25").unwrap();
        assert_eq!(order.quantity.to_string(), "0.1");
        assert_eq!(order.limit_price.to_string(), "187.25");
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(NewOrder::parse("aapl", "buy", "1", "1").unwrap_err().field, "symbol");
        assert_eq!(NewOrder::parse("AAPL", "hold", "1", "1").unwrap_err().field, "side");
        assert_eq!(NewOrder::parse("AAPL", "buy", "-1", "1").unwrap_err().field, "quantity");
        assert_eq!(NewOrder::parse("AAPL", "buy", "1", "x").unwrap_err().field, "limit_price");
    }
}
