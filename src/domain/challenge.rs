//! A pending two-factor sign-in: the password was right, the second factor is still to come.
//! It is found by the hash of its `mfa_token` (a random opaque token, never a JWT), lives
//! five minutes, is used once, and is spent by its fifth wrong code.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::session::TokenDelivery;

/// How long a pending sign-in waits for its code.
pub const CHALLENGE_TTL_SECONDS: i64 = 300;
/// Wrong codes a pending sign-in takes; the last of them spends it.
pub const MAX_WRONG_CODES: u32 = 5;
/// Longer input is not a token of ours (43 characters are issued).
const MAX_TOKEN_LEN: usize = 128;

/// Everything a pending sign-in owns; sealed before it is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaChallenge {
    /// Hex SHA-256 of the token: the key it is stored and found by.
    pub key: String,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// The normalised email: whose lockout wrong codes count toward.
    pub email: String,
    /// The scope asked for at login (checked again when the session opens).
    pub scope: Option<String>,
    /// Where the refresh token goes once the code is right, as asked at login.
    pub delivery: TokenDelivery,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub wrong_codes: u32,
    /// Used (a right code) or spent (too many wrong ones): it opens nothing any more.
    pub spent: bool,
    /// Bumped by every persisted change (by the persistence core).
    pub version: i64,
}

/// Who is signing in, as the password step found them.
pub struct NewChallenge<'a> {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub email: &'a str,
    pub scope: Option<String>,
    pub delivery: TokenDelivery,
}

/// A new `mfa_token`: 32 random bytes, URL-safe base64.
pub fn new_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The key of the pending sign-in of `token`; `None` for what cannot be a token of ours.
pub fn key_of(token: &str) -> Option<String> {
    let plausible = !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then(|| Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())
}

impl MfaChallenge {
    /// A pending sign-in for `token`, open from `now` for [`CHALLENGE_TTL_SECONDS`].
    pub fn open(token: &str, new: NewChallenge<'_>, now: DateTime<Utc>) -> Option<Self> {
        Some(Self {
            key: key_of(token)?,
            user_id: new.user_id,
            tenant_id: new.tenant_id,
            email: new.email.to_owned(),
            scope: new.scope,
            delivery: new.delivery,
            created_at: now,
            expires_at: now + Duration::seconds(CHALLENGE_TTL_SECONDS),
            wrong_codes: 0,
            spent: false,
            version: 0,
        })
    }

    /// Whether a code may still be tried.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        !self.spent && now < self.expires_at
    }

    /// Counts a wrong code; the last allowed one spends it. Answers whether it changed.
    pub fn record_wrong_code(&mut self, now: DateTime<Utc>) -> bool {
        if !self.is_open(now) {
            return false;
        }
        self.wrong_codes += 1;
        if self.wrong_codes >= MAX_WRONG_CODES {
            self.spent = true;
        }
        true
    }

    /// Uses it up for a right code; false when it was no longer open (only one use wins).
    pub fn spend(&mut self, now: DateTime<Utc>) -> bool {
        let open = self.is_open(now);
        self.spent = true;
        open
    }

    /// How long stores keep it: until it expires (at least a second).
    pub fn remaining(&self, now: DateTime<Utc>) -> std::time::Duration {
        (self.expires_at - now).to_std().unwrap_or_default().max(std::time::Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(now: DateTime<Utc>) -> MfaChallenge {
        let new = NewChallenge {
            user_id: Uuid::now_v7(),
            tenant_id: Uuid::now_v7(),
            email: "a@b.c",
            scope: None,
            delivery: TokenDelivery::Body,
        };
        MfaChallenge::open(&new_token(), new, now).unwrap()
    }

    #[test]
    fn the_fifth_wrong_code_spends_it() {
        let now = Utc::now();
        let mut c = challenge(now);
        for _ in 1..MAX_WRONG_CODES {
            assert!(c.record_wrong_code(now));
            assert!(c.is_open(now));
        }
        assert!(c.record_wrong_code(now));
        assert!(!c.is_open(now) && c.spent);
        assert!(!c.record_wrong_code(now), "nothing more to count");
        assert!(!c.spend(now), "a spent sign-in opens nothing");
    }

    #[test]
    fn it_is_used_once_and_lives_five_minutes() {
        let now = Utc::now();
        let mut c = challenge(now);
        assert!(c.spend(now));
        assert!(!c.spend(now));
        let c = challenge(now);
        assert!(c.is_open(now + Duration::seconds(299)));
        assert!(!c.is_open(now + Duration::seconds(300)));
    }

    #[test]
    fn tokens_are_random_and_only_plausible_ones_have_a_key() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(key_of(&a).unwrap().len(), 64);
        assert_ne!(key_of(&a), key_of(&b));
        for bad in ["", "a.b.c", "tok en", &"a".repeat(129), "é"] {
            assert_eq!(key_of(bad), None, "{bad}");
        }
    }
}
