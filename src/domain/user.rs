//! Users as stored: credentials hash, roles and state, always inside one tenant.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Role;

#[derive(Clone)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Normalised (trimmed, lower-case): unique within the tenant.
    pub email: String,
    pub display_name: String,
    /// bcrypt hash; never leaves the server.
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub is_active: bool,
    /// Two-factor sign-in is on (its secrets live apart, sealed: see `domain::mfa`).
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields of a user one write changes; `None` leaves a field as it is stored. Writes
/// name only what they change, so a password change racing an admin's edit cannot put back
/// the roles or the active flag it read before (a lost update).
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    /// A new bcrypt hash.
    pub password_hash: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub is_active: Option<bool>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("roles", &self.roles)
            .field("is_active", &self.is_active)
            .field("mfa_enabled", &self.mfa_enabled)
            .finish_non_exhaustive()
    }
}
