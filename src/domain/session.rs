//! A session's state and the rules that change it: validation, refresh rotation with a grace
//! window for races, reuse detection, ending. The session actor applies these and persists.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::Role;

/// Why a session ended; shown to admins and in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Logout,
    LogoutAll,
    Revoked,
    TokenReuse,
    SessionLimit,
    PasswordChanged,
    UserDisabled,
    Expired,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::LogoutAll => "logout_all",
            EndReason::Revoked => "revoked",
            EndReason::TokenReuse => "token_reuse",
            EndReason::SessionLimit => "session_limit",
            EndReason::PasswordChanged => "password_changed",
            EndReason::UserDisabled => "user_disabled",
            EndReason::Expired => "expired",
        }
    }
}

/// How a sign-in proved who it was: the `amr` claim of access tokens (RFC 8176).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A password.
    Pwd,
    /// A one-time code: a TOTP code or a recovery code.
    Otp,
}

/// What sessions stored before `amr` existed were opened with: a password alone.
fn password_only() -> Vec<AuthMethod> {
    vec![AuthMethod::Pwd]
}

/// Where login (and, after it, refresh) puts the refresh token: an `HttpOnly` cookie
/// (`cookie`, the default) or the answer's body (`body`, for API clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenDelivery {
    #[default]
    Cookie,
    Body,
}

/// SHA-256 of a refresh token: the session keeps this, never the token.
pub type TokenHash = [u8; 32];

/// Everything a session actor owns. Serialised and Fernet-encrypted before it leaves the actor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionState {
    pub session_id: Uuid,
    pub user_id: Uuid,
    /// For the access tokens minted at refresh, so refresh needs no user lookup.
    pub email: String,
    pub tenant_id: Uuid,
    pub roles: Vec<Role>,
    /// Space-separated scopes granted at login (possibly narrowed); refresh keeps them.
    pub scope: String,
    /// How the sign-in that opened the session was made; refreshed tokens keep it.
    #[serde(default = "password_only")]
    pub amr: Vec<AuthMethod>,
    pub client_ip: IpAddr,
    pub user_agent: String,
    /// Hash of the one refresh token that may be spent next.
    pub refresh_hash: TokenHash,
    /// Hash of the token spent by the last rotation, kept for the grace window.
    pub previous_hash: Option<TokenHash>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Fixed at login: refreshing never extends a session.
    pub expires_at: DateTime<Utc>,
    /// Bumped by every persisted change (by the actor core, not by these rules); stores write
    /// only where it matches (optimistic lock).
    pub version: i64,
    pub is_active: bool,
    pub end_reason: Option<EndReason>,
}

/// What the access-token path learns from a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    Ended,
    Expired,
    IpMismatch,
}

/// What a refresh attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was current: it is spent now and `new_hash` is current.
    Rotated,
    /// The presented token was spent within the grace window (a race between tabs): refused,
    /// the session is kept.
    RotatedRecently,
    /// A spent token came back after the grace window: the session is ended.
    Reused,
    Ended,
    Expired,
    IpMismatch,
}

/// Who a new session is for and where it comes from: what a login knows.
pub struct NewSession<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub tenant_id: Uuid,
    pub roles: &'a [Role],
    pub scope: String,
    pub amr: Vec<AuthMethod>,
    pub client_ip: IpAddr,
    pub user_agent: &'a str,
}

/// How many characters of a user agent a session keeps.
const USER_AGENT_CHARS: usize = 512;

impl SessionState {
    /// A new active session whose current refresh token hashes to `refresh_hash`, lasting
    /// `lifetime` from `now` (fixed: refreshing never extends it).
    pub fn open(
        session_id: Uuid,
        new: NewSession<'_>,
        refresh_hash: TokenHash,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Self {
        SessionState {
            session_id,
            user_id: new.user_id,
            email: new.email.to_owned(),
            tenant_id: new.tenant_id,
            roles: new.roles.to_vec(),
            scope: new.scope,
            amr: new.amr,
            client_ip: new.client_ip,
            user_agent: new.user_agent.chars().take(USER_AGENT_CHARS).collect(),
            refresh_hash,
            previous_hash: None,
            rotated_at: None,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
            version: 0,
            is_active: true,
            end_reason: None,
        }
    }

    /// The verdict for a request bearing this session's access token.
    pub fn validity(&self, now: DateTime<Utc>, ip: Option<IpAddr>) -> Validity {
        if !self.is_active {
            Validity::Ended
        } else if now >= self.expires_at {
            Validity::Expired
        } else if ip.is_some_and(|ip| ip != self.client_ip) {
            Validity::IpMismatch
        } else {
            Validity::Valid
        }
    }

    /// Applies a refresh: classifies the presented hash, then rotates, refuses or ends.
    /// Returns whether the state changed (and so must be persisted) with the outcome.
    pub fn rotate(
        &mut self,
        presented: &TokenHash,
        new_hash: TokenHash,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> (bool, RotateOutcome) {
        match self.validity(now, None) {
            Validity::Ended => return (false, RotateOutcome::Ended),
            Validity::Expired => return (false, RotateOutcome::Expired),
            Validity::Valid | Validity::IpMismatch => {}
        }
        let is_current: bool = self.refresh_hash.ct_eq(presented).into();
        if !is_current {
            let is_previous = self.previous_hash.is_some_and(|prev| bool::from(prev.ct_eq(presented)));
            let within_grace = self.rotated_at.is_some_and(|at| now - at <= grace);
            if is_previous && within_grace {
                return (false, RotateOutcome::RotatedRecently);
            }
            // Every token of this session that is not current was spent: this is a replay.
            self.end(EndReason::TokenReuse, now);
            return (true, RotateOutcome::Reused);
        }
        if ip.is_some_and(|ip| ip != self.client_ip) {
            return (false, RotateOutcome::IpMismatch);
        }
        self.previous_hash = Some(self.refresh_hash);
        self.refresh_hash = new_hash;
        self.rotated_at = Some(now);
        self.last_seen_at = now;
        (true, RotateOutcome::Rotated)
    }

    /// Ends the session; a no-op (returning false) when it had already ended.
    pub fn end(&mut self, reason: EndReason, now: DateTime<Utc>) -> bool {
        if !self.is_active {
            return false;
        }
        self.is_active = false;
        self.end_reason = Some(reason);
        self.last_seen_at = now;
        true
    }

    /// How long stores should keep this state: until it expires (at least a second).
    pub fn remaining(&self, now: DateTime<Utc>) -> std::time::Duration {
        (self.expires_at - now).to_std().unwrap_or_default().max(std::time::Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(now: DateTime<Utc>) -> SessionState {
        let new = NewSession {
            user_id: Uuid::new_v4(),
            email: "a@b.c",
            tenant_id: Uuid::new_v4(),
            roles: &[Role::Viewer],
            scope: "orders:read".into(),
            amr: vec![AuthMethod::Pwd],
            client_ip: "10.0.0.1".parse().unwrap(),
            user_agent: "test",
        };
        SessionState::open(Uuid::new_v4(), new, [1; 32], now, Duration::days(30))
    }

    #[test]
    fn the_current_token_rotates_once() {
        let now = Utc::now();
        let mut s = session(now);
        assert_eq!(s.rotate(&[1; 32], [2; 32], None, now, Duration::seconds(10)), (true, RotateOutcome::Rotated));
        assert_eq!(s.refresh_hash, [2; 32]);
        assert_eq!(s.previous_hash, Some([1; 32]));
        let (changed, outcome) = s.rotate(&[2; 32], [3; 32], None, now, Duration::seconds(10));
        assert!(changed && outcome == RotateOutcome::Rotated);
    }

    #[test]
    fn a_new_session_keeps_at_most_512_characters_of_user_agent() {
        let now = Utc::now();
        let long = "x".repeat(2_000);
        let new = NewSession {
            user_id: Uuid::new_v4(),
            email: "a@b.c",
            tenant_id: Uuid::new_v4(),
            roles: &[],
            scope: String::new(),
            amr: vec![AuthMethod::Pwd, AuthMethod::Otp],
            client_ip: "10.0.0.1".parse().unwrap(),
            user_agent: &long,
        };
        let s = SessionState::open(Uuid::new_v4(), new, [1; 32], now, Duration::days(1));
        assert_eq!(s.user_agent.len(), 512);
        assert!(s.is_active && s.expires_at == now + Duration::days(1));
    }

    #[test]
    fn a_spent_token_within_grace_is_refused_and_the_session_kept() {
        let now = Utc::now();
        let mut s = session(now);
        s.rotate(&[1; 32], [2; 32], None, now, Duration::seconds(10));
        let later = now + Duration::seconds(5);
        assert_eq!(
            s.rotate(&[1; 32], [3; 32], None, later, Duration::seconds(10)),
            (false, RotateOutcome::RotatedRecently)
        );
        assert!(s.is_active);
    }

    #[test]
    fn a_spent_token_after_grace_ends_the_session() {
        let now = Utc::now();
        let mut s = session(now);
        s.rotate(&[1; 32], [2; 32], None, now, Duration::seconds(10));
        let later = now + Duration::seconds(11);
        assert_eq!(s.rotate(&[1; 32], [3; 32], None, later, Duration::seconds(10)), (true, RotateOutcome::Reused));
        assert!(!s.is_active);
        assert_eq!(s.end_reason, Some(EndReason::TokenReuse));
    }

    #[test]
    fn refresh_from_another_ip_is_refused_without_rotating() {
        let now = Utc::now();
        let mut s = session(now);
        let other = Some("10.0.0.2".parse().unwrap());
        assert_eq!(s.rotate(&[1; 32], [2; 32], other, now, Duration::seconds(10)), (false, RotateOutcome::IpMismatch));
        assert_eq!(s.refresh_hash, [1; 32]);
    }

    #[test]
    fn a_session_stored_before_amr_existed_opens_as_a_password_sign_in() {
        let mut stored = serde_json::to_value(session(Utc::now())).unwrap();
        stored.as_object_mut().unwrap().remove("amr");
        let opened: SessionState = serde_json::from_value(stored).unwrap();
        assert_eq!(opened.amr, [AuthMethod::Pwd]);
    }

    #[test]
    fn an_expired_session_neither_validates_nor_rotates() {
        let now = Utc::now();
        let mut s = session(now);
        let after = s.expires_at;
        assert_eq!(s.validity(after, None), Validity::Expired);
        assert_eq!(s.rotate(&[1; 32], [2; 32], None, after, Duration::seconds(10)).1, RotateOutcome::Expired);
    }
}
