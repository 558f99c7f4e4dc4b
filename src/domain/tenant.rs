//! Tenants: the organisations whose users and data never see one another.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::ValidationError;

/// The tenant of platform operators; its admins manage tenants and read the actor system.
pub const PLATFORM_SLUG: &str = "platform";
/// The tenant that exists from first start and allows self sign-up.
pub const DEFAULT_SLUG: &str = "default";

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub allow_self_signup: bool,
    /// Its users must turn on two-factor sign-in: until they do, they may only do that.
    pub require_mfa: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    pub fn is_platform(&self) -> bool {
        self.slug == PLATFORM_SLUG
    }
}

/// A tenant slug: `[a-z0-9-]{2,32}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (2..=32).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new("slug", "must be 2–32 characters of a-z, 0-9 and -"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lower_case_words() {
        assert!(TenantSlug::parse("acme-1").is_ok());
        for bad in ["a", "Acme", "acme_corp", &"a".repeat(33)] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
