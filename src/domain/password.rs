//! Password rules: 8–72 bytes (bcrypt's limit, never truncated) and not a common password.

use std::collections::HashSet;
use std::sync::LazyLock;

use zeroize::Zeroizing;

use super::text::{plain, Tabs};
use super::ValidationError;

/// Django's list of 20,000 common passwords (Royce Williams' compilation), taken from the
/// Django 5.2 wheel on PyPI; BSD licensed. See `data/README.md`.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().collect());

/// A password that passed the rules; wiped from memory when dropped and never printed.
pub struct Password(Zeroizing<String>);

impl Password {
    pub const MIN_BYTES: usize = 8;
    /// bcrypt reads at most 72 bytes; longer input is refused rather than silently cut.
    pub const MAX_BYTES: usize = 72;

    /// Checks a new password (registration, change, admin creation). A tab is allowed; other
    /// control characters are not.
    pub fn parse_new(raw: &str, field: &'static str) -> Result<Self, ValidationError> {
        plain(field, raw, Tabs::Allowed)?;
        let len = raw.len();
        if len < Self::MIN_BYTES {
            return Err(ValidationError::new(field, "must be at least 8 bytes"));
        }
        if len > Self::MAX_BYTES {
            return Err(ValidationError::new(field, "must be at most 72 bytes"));
        }
        if COMMON_PASSWORDS.contains(raw.to_lowercase().as_str()) {
            return Err(ValidationError::new(field, "is too common; choose another"));
        }
        Ok(Self(Zeroizing::new(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// How many entries the common-password list holds (shown by tests and docs).
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_list_holds_at_least_ten_thousand_passwords() {
        assert!(common_password_count() >= 10_000);
    }

    #[test]
    fn short_long_and_common_passwords_are_refused() {
        assert!(Password::parse_new("short", "password").is_err());
        assert!(Password::parse_new(&"x".repeat(73), "password").is_err());
        assert!(Password::parse_new("password1", "password").is_err());
        assert!(Password::parse_new("Qwertyuiop", "password").is_err());
        assert_eq!(Password::parse_new("uncommon\u{0}pass-9", "new_password").unwrap_err().field, "new_password");
        assert!(Password::parse_new("uncommon\tpass-9", "password").is_ok(), "a tab is text");
    }

    #[test]
    fn a_72_byte_uncommon_password_is_accepted() {
        assert!(Password::parse_new(&"kT9#".repeat(18), "password").is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let password = Password::parse_new("correct horse battery", "password").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
