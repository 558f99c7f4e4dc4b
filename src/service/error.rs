//! The errors of the service boundary; `http::error` maps each to its problem+json answer and
//! logs the whole chain of an internal one once.

use std::time::Duration;

use crate::actors::{ActorError, PersistError};
use crate::auth::passwords::HashError;
use crate::auth::TokenError;
use crate::domain::ValidationError;
use crate::store::StoreError;

/// An internal cause, kept with its own sources for the log.
pub use crate::store::Cause;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("the email or password is wrong")]
    InvalidCredentials,
    #[error("the account is locked")]
    AccountLocked { retry_after: Option<Duration> },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("no token was presented")]
    TokenMissing,
    #[error("the token is not valid")]
    TokenInvalid,
    #[error("the token has expired")]
    TokenExpired,
    #[error("this refresh token was just rotated; use the newest one")]
    TokenRotated,
    #[error("this refresh token was already used; the session has been ended")]
    TokenReused,
    #[error("the session has ended")]
    SessionRevoked,
    #[error("the session belongs to another network address")]
    SessionIpMismatch,
    /// A wrong, reused or malformed-for-this-account two-factor code (401).
    #[error("the two-factor code is not right")]
    MfaInvalid,
    /// The tenant requires two-factor sign-in and the caller has not turned it on (403).
    #[error("this tenant requires two-factor sign-in: turn it on first")]
    MfaEnrollmentRequired,
    /// An API key presented from an address outside its `allowed_ips` (403).
    #[error("this API key may not be used from this address")]
    IpNotAllowed,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A dependency could not answer (503, retry later).
    #[error("a dependency is unavailable")]
    Unavailable(#[source] Cause),
    /// Something that should not happen (500).
    #[error("an unexpected error occurred")]
    Unexpected(#[source] Cause),
}

impl From<TokenError> for ServiceError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Expired => ServiceError::TokenExpired,
            TokenError::Invalid => ServiceError::TokenInvalid,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(detail) => ServiceError::Conflict(detail),
            // The engine's words may quote the value; the client learns only that it was refused.
            StoreError::Invalid(_) => {
                ServiceError::Validation(ValidationError::new("body", "a value was refused by the database"))
            }
            StoreError::Corrupt(_) => ServiceError::Unexpected(error.into()),
            StoreError::Unavailable(_) | StoreError::CircuitOpen => ServiceError::Unavailable(error.into()),
        }
    }
}

impl From<PersistError> for ServiceError {
    fn from(error: PersistError) -> Self {
        match error {
            PersistError::Store(store) => store.into(),
            PersistError::Conflict => ServiceError::Unavailable(error.into()),
            PersistError::Unreadable { .. } | PersistError::Serialise(_) => ServiceError::Unexpected(error.into()),
        }
    }
}

impl From<ActorError> for ServiceError {
    fn from(error: ActorError) -> Self {
        match error {
            ActorError::Persist(persist) => persist.into(),
            other => ServiceError::Unavailable(other.into()),
        }
    }
}

impl From<HashError> for ServiceError {
    fn from(error: HashError) -> Self {
        ServiceError::Unexpected(error.into())
    }
}
