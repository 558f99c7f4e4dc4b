//! Orders, the protected trading resource: listed, placed and cancelled within the caller's
//! tenant only (every store call takes the tenant id from the token).

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::audit::{AuditKind, Outcome};
use super::{AuditRecord, Core, RequestMeta, ServiceError};
use crate::auth::AccessClaims;
use crate::domain::{NewOrder, Order, OrderStatus, Scope};
use crate::store::Page;

/// `POST /orders`, with the decimals in their textual form (never through `f64`).
pub struct OrderInput {
    pub symbol: String,
    pub side: String,
    pub quantity: String,
    pub limit_price: String,
}

impl Core {
    /// `GET /orders`: the tenant's orders, newest first, optionally of one status.
    pub async fn list_orders(
        &self,
        claims: &AccessClaims,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<Order>, ServiceError> {
        let status = status.map(str::trim).filter(|s| !s.is_empty()).map(OrderStatus::parse).transpose()?;
        Ok(self.stores.read.list_orders(claims.tenant_id, status, page).await?)
    }

    /// `POST /orders`: an open order of the caller.
    pub async fn place_order(&self, claims: &AccessClaims, input: OrderInput) -> Result<Order, ServiceError> {
        let new = NewOrder::parse(&input.symbol, &input.side, &input.quantity, &input.limit_price)?;
        let order = Order {
            id: Uuid::now_v7(),
            tenant_id: claims.tenant_id,
            symbol: new.symbol,
            side: new.side,
            quantity: new.quantity,
            limit_price: new.limit_price,
            status: OrderStatus::Open,
            user_id: claims.user_id,
            created_at: Utc::now(),
        };
        self.stores.db.insert_order(&order).await?;
        Ok(order)
    }

    /// `DELETE /orders/{id}`: by its owner, or by a holder of `orders:manage` (admins) for
    /// someone else's order of the tenant — the scope, not the role, so an admin who narrowed
    /// the sign-in to `orders:read orders:write` cannot. Another tenant's order is not found
    /// (404). Someone else's order in the same tenant answers 403, not 404: the caller can
    /// already see it in `GET /orders`, so hiding it would tell them nothing and only mislead.
    /// An order that is no longer open answers 409.
    pub async fn cancel_order(
        &self,
        claims: &AccessClaims,
        id: Uuid,
        meta: &RequestMeta,
    ) -> Result<Order, ServiceError> {
        let order = self.stores.db.order(claims.tenant_id, id).await?.ok_or(ServiceError::NotFound)?;
        if order.user_id != claims.user_id && !claims.has_scope(Scope::OrdersManage.as_str()) {
            return Err(ServiceError::Forbidden(
                "only the order's owner, or a holder of the `orders:manage` scope, may cancel it".into(),
            ));
        }
        if order.status != OrderStatus::Open || !self.stores.db.cancel_order(claims.tenant_id, id).await? {
            return Err(ServiceError::Conflict("the order is not open".into()));
        }
        if order.user_id != claims.user_id {
            self.audit
                .record(AuditRecord {
                    event: AuditKind::AdminOrderCancelled,
                    outcome: Outcome::Success,
                    tenant_id: Some(claims.tenant_id),
                    user_id: Some(order.user_id),
                    meta: Some(meta),
                    detail: json!({ "order_id": order.id, "actor_id": claims.user_id }),
                })
                .await;
        }
        Ok(Order { status: OrderStatus::Cancelled, ..order })
    }
}
