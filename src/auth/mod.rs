//! Cryptography of the server: ES256 tokens and their key ring, bcrypt off the async runtime,
//! and the Fernet cipher that keeps session and lockout state unreadable at rest.

pub mod cipher;
pub mod files;
pub mod key_files;
pub mod keys;
pub mod passwords;
pub mod tokens;

pub use cipher::StateCipher;
pub use keys::KeyRing;
pub use passwords::PasswordHasher;
pub use tokens::{AccessClaims, RefreshClaims, TokenError, TokenIssuer};

use sha2::{Digest, Sha256};

/// SHA-256 of a token or key: what we store instead of the thing itself.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}
