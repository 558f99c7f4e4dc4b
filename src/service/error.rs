//! The errors of the service boundary; `http::error` maps each to its problem+json answer.

use std::time::Duration;

use crate::actors::{ActorError, PersistError};
use crate::auth::passwords::HashError;
use crate::auth::TokenError;
use crate::domain::ValidationError;
use crate::store::StoreError;

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
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("a dependency is unavailable")]
    Unavailable(String),
    #[error("unexpected: {0}")]
    Unexpected(String),
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
            StoreError::Unavailable(detail) => ServiceError::Unavailable(detail),
            StoreError::CircuitOpen => ServiceError::Unavailable("cache circuit open".into()),
            StoreError::Corrupt(detail) => ServiceError::Unexpected(detail),
        }
    }
}

impl From<PersistError> for ServiceError {
    fn from(error: PersistError) -> Self {
        ServiceError::Unavailable(error.to_string())
    }
}

impl From<ActorError> for ServiceError {
    fn from(error: ActorError) -> Self {
        ServiceError::Unavailable(error.to_string())
    }
}

impl From<HashError> for ServiceError {
    fn from(error: HashError) -> Self {
        ServiceError::Unexpected(error.to_string())
    }
}
