//! The one rule for hostile text (API.md §5.1): no NUL and no other control character in any
//! input, except a tab in free text (names, passwords). The parsers of client text and the
//! JSON, query-string and path extractors all apply it, so such a character never reaches a
//! store, a log line or a comparison.

use super::ValidationError;

/// Whether a tab is text in a field: yes in free text, no in identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tabs {
    Allowed,
    Refused,
}

/// `raw` itself, unless it holds a control character (C0, DEL or C1, as `char::is_control`
/// says) other than a tab where `tabs` allows one; then a 422 naming `field`.
pub fn plain<'a>(field: &'static str, raw: &'a str, tabs: Tabs) -> Result<&'a str, ValidationError> {
    match raw.chars().find(|c| c.is_control() && !(*c == '\t' && tabs == Tabs::Allowed)) {
        None => Ok(raw),
        Some(c) => Err(ValidationError::new(
            field,
            format!("must not contain control characters (U+{:04X} found)", u32::from(c)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_named() {
        for bad in ["a\u{0}b", "\u{1}", "x\u{1b}[31m", "del\u{7f}", "nel\u{85}", "line\nbreak", "cr\r"] {
            let error = plain("name", bad, Tabs::Allowed).unwrap_err();
            assert_eq!(error.field, "name", "{bad:?}");
            assert!(error.message.contains("U+"), "{bad:?}");
        }
    }

    #[test]
    fn a_tab_is_text_only_where_allowed_and_other_text_passes() {
        assert_eq!(plain("display_name", "Ann\tLee", Tabs::Allowed).unwrap(), "Ann\tLee");
        assert!(plain("email", "ann\t@example.com", Tabs::Refused).is_err());
        for fine in ["", "Zoë Ünal", "日本語", "emoji 🙂", "a b"] {
            assert_eq!(plain("name", fine, Tabs::Refused).unwrap(), fine);
        }
    }
}
