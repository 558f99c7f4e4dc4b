//! The rows the SQL queries read, and how each becomes its domain or store type (shared by the
//! PostgreSQL and SQLite instances of `sql.rs`).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{AuditEvent, LockoutRow, SessionRow, StoreError};
use crate::domain::role::parse_roles;
use crate::domain::{Order, OrderSide, OrderStatus, Role, Tenant, User};

#[derive(sqlx::FromRow)]
pub(super) struct TenantRecord {
    pub(super) id: Uuid,
    pub(super) slug: String,
    pub(super) name: String,
    pub(super) allow_self_signup: bool,
    pub(super) require_mfa: bool,
    pub(super) is_active: bool,
    pub(super) created_at: DateTime<Utc>,
}

impl From<TenantRecord> for Tenant {
    fn from(r: TenantRecord) -> Self {
        Tenant {
            id: r.id,
            slug: r.slug,
            name: r.name,
            allow_self_signup: r.allow_self_signup,
            require_mfa: r.require_mfa,
            is_active: r.is_active,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRecord {
    pub(super) id: Uuid,
    pub(super) tenant_id: Uuid,
    pub(super) email: String,
    pub(super) display_name: String,
    pub(super) password_hash: String,
    pub(super) roles: String,
    pub(super) is_active: bool,
    pub(super) mfa_enabled: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

impl TryFrom<UserRecord> for User {
    type Error = StoreError;
    fn try_from(r: UserRecord) -> Result<Self, StoreError> {
        let names: Vec<&str> = r.roles.split(',').filter(|s| !s.is_empty()).collect();
        let roles = parse_roles(&names).map_err(|e| StoreError::Corrupt(format!("user {}: {e}", r.id).into()))?;
        Ok(User {
            id: r.id,
            tenant_id: r.tenant_id,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
            roles,
            is_active: r.is_active,
            mfa_enabled: r.mfa_enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) fn roles_column(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRecord {
    pub(super) id: Uuid,
    pub(super) user_ref: String,
    pub(super) state: String,
    pub(super) version: i64,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) is_active: bool,
    pub(super) created_at: DateTime<Utc>,
}

impl From<SessionRecord> for SessionRow {
    fn from(r: SessionRecord) -> Self {
        SessionRow {
            id: r.id,
            user_ref: r.user_ref,
            state: r.state,
            version: r.version,
            expires_at: r.expires_at,
            is_active: r.is_active,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct LockoutRecord {
    pub(super) key: String,
    pub(super) tenant_id: Uuid,
    pub(super) state: String,
    pub(super) version: i64,
    pub(super) lock_ends_at: Option<DateTime<Utc>>,
    pub(super) updated_at: DateTime<Utc>,
}

impl From<LockoutRecord> for LockoutRow {
    fn from(r: LockoutRecord) -> Self {
        LockoutRow {
            key: r.key,
            tenant_id: r.tenant_id,
            state: r.state,
            version: r.version,
            lock_ends_at: r.lock_ends_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AuditRecord {
    pub(super) id: Uuid,
    pub(super) at: DateTime<Utc>,
    pub(super) tenant_id: Option<Uuid>,
    pub(super) user_id: Option<Uuid>,
    pub(super) event: String,
    pub(super) outcome: String,
    pub(super) ip: Option<String>,
    pub(super) user_agent: Option<String>,
    pub(super) request_id: Option<String>,
    pub(super) detail: String,
}

impl From<AuditRecord> for AuditEvent {
    fn from(r: AuditRecord) -> Self {
        AuditEvent {
            id: r.id,
            at: r.at,
            tenant_id: r.tenant_id,
            user_id: r.user_id,
            event: r.event,
            outcome: r.outcome,
            ip: r.ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OrderRecord {
    pub(super) id: Uuid,
    pub(super) tenant_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) symbol: String,
    pub(super) side: String,
    pub(super) quantity: String,
    pub(super) limit_price: String,
    pub(super) status: String,
    pub(super) created_at: DateTime<Utc>,
}

impl TryFrom<OrderRecord> for Order {
    type Error = StoreError;
    fn try_from(r: OrderRecord) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("order {}: bad {what}", r.id).into());
        Ok(Order {
            id: r.id,
            tenant_id: r.tenant_id,
            user_id: r.user_id,
            side: OrderSide::parse(&r.side).map_err(|_| corrupt("side"))?,
            quantity: Decimal::from_str(&r.quantity).map_err(|_| corrupt("quantity"))?,
            limit_price: Decimal::from_str(&r.limit_price).map_err(|_| corrupt("limit_price"))?,
            status: OrderStatus::parse(&r.status).map_err(|_| corrupt("status"))?,
            symbol: r.symbol,
            created_at: r.created_at,
        })
    }
}
