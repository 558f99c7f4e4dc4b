//! How a database error is answered. Only a failure to reach or run the database is an outage
//! (503): a value the engine refuses as data is the request's fault, and a broken uniqueness
//! or reference rule is a conflict. PostgreSQL says which by SQLSTATE class (22 data
//! exception, 23 integrity violation); SQLite by its result code.

use sqlx::error::{DatabaseError, ErrorKind};

use super::StoreError;

/// Maps an `sqlx` error to the store's error.
pub fn db_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) => classify(db.as_ref()).unwrap_or_else(|| StoreError::Unavailable(Box::new(error))),
        // A value this program could not encode for the engine: the value is at fault.
        sqlx::Error::Encode(_) => StoreError::Invalid(error.to_string()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(Box::new(error)),
        _ => StoreError::Unavailable(Box::new(error)),
    }
}

/// The class of an engine's own error; `None` when it means the engine failed.
fn classify(db: &dyn DatabaseError) -> Option<StoreError> {
    let conflict = || Some(StoreError::Conflict(db.message().to_owned()));
    let invalid = || {
        // The engine's message may quote the value; only the code goes to the log.
        tracing::warn!(code = db.code().as_deref().unwrap_or(""), "the database refused a value as data");
        Some(StoreError::Invalid(db.message().to_owned()))
    };
    match db.kind() {
        ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation => return conflict(),
        ErrorKind::NotNullViolation | ErrorKind::CheckViolation => return invalid(),
        _ => {}
    }
    let code = db.code()?;
    if code.len() == 5 {
        // A PostgreSQL SQLSTATE (five characters); SQLite's codes are decimal and shorter.
        return match &code[..2] {
            "22" => invalid(),
            "23" => conflict(),
            _ => None,
        };
    }
    // SQLite: the primary result code is the low byte of the extended one.
    match code.parse::<u32>().ok()? & 0xff {
        // SQLITE_TOOBIG, SQLITE_MISMATCH, SQLITE_RANGE.
        18 | 20 | 25 => invalid(),
        // SQLITE_CONSTRAINT not classified above (primary key, trigger, …).
        19 => conflict(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// An engine error as a driver would report it.
    #[derive(Debug)]
    struct Fake {
        code: &'static str,
        kind: ErrorKind,
    }

    impl std::fmt::Display for Fake {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "engine error {}", self.code)
        }
    }

    impl std::error::Error for Fake {}

    impl DatabaseError for Fake {
        fn message(&self) -> &str {
            "engine error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.code))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            match self.kind {
                ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
                ErrorKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
                ErrorKind::NotNullViolation => ErrorKind::NotNullViolation,
                ErrorKind::CheckViolation => ErrorKind::CheckViolation,
                _ => ErrorKind::Other,
            }
        }
    }

    fn mapped(code: &'static str, kind: ErrorKind) -> StoreError {
        db_error(sqlx::Error::Database(Box::new(Fake { code, kind })))
    }

    #[test]
    fn data_errors_are_invalid_and_integrity_errors_conflicts_never_outages() {
        for code in ["22021", "22P02", "22001", "22003", "22007"] {
            assert!(matches!(mapped(code, ErrorKind::Other), StoreError::Invalid(_)), "PostgreSQL {code}");
        }
        assert!(matches!(mapped("23505", ErrorKind::UniqueViolation), StoreError::Conflict(_)));
        assert!(matches!(mapped("23503", ErrorKind::ForeignKeyViolation), StoreError::Conflict(_)));
        assert!(matches!(mapped("23502", ErrorKind::NotNullViolation), StoreError::Invalid(_)));
        assert!(matches!(mapped("23P01", ErrorKind::Other), StoreError::Conflict(_)), "exclusion");
        // SQLite: TOOBIG, MISMATCH, RANGE; a constraint by its extended code.
        for code in ["18", "20", "25"] {
            assert!(matches!(mapped(code, ErrorKind::Other), StoreError::Invalid(_)), "SQLite {code}");
        }
        assert!(matches!(mapped("1555", ErrorKind::Other), StoreError::Conflict(_)), "SQLITE_CONSTRAINT_PRIMARYKEY");
        assert!(matches!(mapped("2067", ErrorKind::UniqueViolation), StoreError::Conflict(_)));
    }

    #[test]
    fn an_engine_that_fails_is_unavailable() {
        // PostgreSQL: too many connections, admin shutdown, serialization failure; SQLite: BUSY, IOERR.
        for code in ["53300", "57P01", "40001", "5", "10", "3850"] {
            assert!(matches!(mapped(code, ErrorKind::Other), StoreError::Unavailable(_)), "{code}");
        }
        assert!(matches!(db_error(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
    }
}
