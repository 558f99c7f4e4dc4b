//! Email addresses: trimmed, lower-cased, and shaped like an address.

use super::text::{plain, Tabs};
use super::ValidationError;

/// A normalised email: the form in which emails are stored and compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Trims and lower-cases `raw`, then checks it has one `@` with text on both sides and no
    /// control character.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        plain("email", raw, Tabs::Refused)?;
        let normalised = raw.trim().to_lowercase();
        let invalid = || ValidationError::new("email", "must be an email address");
        if normalised.is_empty() || normalised.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = normalised.split_once('@').ok_or_else(invalid)?;
        let domain_ok =
            !domain.is_empty() && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.');
        if local.is_empty() || !domain_ok || normalised.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "ann", "@x.com", "ann@", "a@b@c", "a b@c.com", "ann@.com", "an\u{0}n@x.com", "ann@x\u{85}.com"]
        {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
