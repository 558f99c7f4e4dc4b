//! Plain types of the business: no I/O here, only parsing and rules with their unit tests.

pub mod api_key;
pub mod challenge;
pub mod email;
pub mod lockout;
pub mod mfa;
pub mod order;
pub mod password;
pub mod role;
pub mod session;
pub mod tenant;
pub mod text;
pub mod user;

pub use api_key::{ApiKeyState, KeyVerdict};
pub use email::Email;
pub use lockout::{LockoutPolicy, LockoutState, LockoutVerdict};
pub use mfa::MfaState;
pub use order::{NewOrder, Order, OrderSide, OrderStatus};
pub use password::Password;
pub use role::{Role, Scope};
pub use session::{AuthMethod, EndReason, SessionState, TokenDelivery};
pub use tenant::{Tenant, TenantSlug};
pub use user::{User, UserChanges};

/// A rule broken by input, naming the field so the client can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The request field at fault, as the client spelt it.
    pub field: &'static str,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}
