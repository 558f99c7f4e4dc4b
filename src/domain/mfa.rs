//! Two-factor authentication, the rules without I/O: TOTP codes (RFC 6238: HMAC-SHA-1, 6
//! digits, 30 s steps, one step of clock drift either way), one-time recovery codes, and the
//! two-factor state a user keeps (sealed before it is stored).

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;
use zeroize::Zeroize;

use super::ValidationError;

/// Digits of a code (RFC 6238's default, what every authenticator app shows).
pub const DIGITS: usize = 6;
/// Seconds of a time step.
pub const STEP_SECONDS: u64 = 30;
/// Steps of clock drift accepted either way (RFC 6238 §5.2 recommends one).
pub const DRIFT_STEPS: u64 = 1;
/// Bytes of a secret: 160 bits, RFC 4226 §4's recommendation.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes handed out at once.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (Crockford base32: 5 bits each, 80 bits in all).
const RECOVERY_CHARS: usize = 16;
/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied by hand
/// survives.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Shown as the account's issuer in authenticator apps.
pub const ISSUER: &str = "Tradesage";

/// A TOTP shared secret. Never printed; wiped from memory when dropped.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TotpSecret(Vec<u8>);

impl Drop for TotpSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

/// Which step a TOTP code was checked against, and how it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpCheck {
    /// The code of this time step, not used before: it is used now.
    Accepted(u64),
    /// A right code whose step was already used (RFC 6238 §5.2: a code is accepted once).
    Replayed,
    Invalid,
}

impl TotpSecret {
    /// A fresh secret from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Unpadded RFC 4648 base32: what authenticator apps take when typed in.
    pub fn to_base32(&self) -> String {
        self.totp(DIGITS).map(|t| t.get_secret_base32()).unwrap_or_default()
    }

    /// The `otpauth://totp/…` URI an authenticator app reads from a QR code.
    pub fn otpauth_uri(&self, account: &str) -> String {
        // The label's issuer and account are separated by a colon, so neither may hold one.
        let account = account.replace(':', " ");
        TOTP::new(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, self.0.clone(), Some(ISSUER.into()), account)
            .map(|t| t.get_url())
            .unwrap_or_default()
    }

    fn totp(&self, digits: usize) -> Option<TOTP> {
        // Drift is handled by the caller, step by step, so that it learns which step matched.
        TOTP::new(Algorithm::SHA1, digits, 0, STEP_SECONDS, self.0.clone(), None, String::new()).ok()
    }

    /// The code of time step `step`.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp(DIGITS).map(|t| t.generate(step * STEP_SECONDS)).unwrap_or_default()
    }

    /// Checks `code` against the steps around `now` (one either way) that are later than
    /// `last_step`. The comparison is the crate's, in constant time.
    pub fn check(&self, code: &str, now: DateTime<Utc>, last_step: Option<u64>) -> TotpCheck {
        let Some(totp) = self.totp(DIGITS) else { return TotpCheck::Invalid };
        let current = now.timestamp().max(0) as u64 / STEP_SECONDS;
        let window = current.saturating_sub(DRIFT_STEPS)..=current + DRIFT_STEPS;
        // Every step is checked (no early exit), and the latest unused match wins.
        let matches: Vec<u64> = window.filter(|step| totp.check(code, step * STEP_SECONDS)).collect();
        match matches.iter().copied().filter(|step| last_step.is_none_or(|last| *step > last)).max() {
            Some(step) => TotpCheck::Accepted(step),
            None if matches.is_empty() => TotpCheck::Invalid,
            None => TotpCheck::Replayed,
        }
    }
}

/// A TOTP code as typed: six ASCII digits, spaces around or inside ignored.
pub fn parse_code(raw: &str, field: &'static str) -> Result<String, ValidationError> {
    let code: String = raw.chars().filter(|c| *c != ' ').collect();
    if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(ValidationError::new(field, "must be the 6 digits your authenticator app shows"))
    }
}

/// A recovery code as typed, normalised: upper case, without dashes or spaces, with the
/// letters Crockford base32 reads as digits (O → 0, I and L → 1) read as them.
pub fn parse_recovery_code(raw: &str, field: &'static str) -> Result<String, ValidationError> {
    let code: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if code.len() == RECOVERY_CHARS && code.bytes().all(|b| CROCKFORD.contains(&b)) {
        Ok(code)
    } else {
        Err(ValidationError::new(field, "must be one of your recovery codes (16 letters and digits)"))
    }
}

/// SHA-256 of a recovery code under the user's id.
///
/// Why a plain hash and not bcrypt: a recovery code is 80 random bits, not a password a
/// person chose, so there is no dictionary to slow down, and finding any of a user's ten
/// codes from its hash takes about 2^77 hashes. bcrypt would only add ten slow checks per
/// attempt. The user id is mixed in so that equal codes of two users hash apart and no
/// table serves more than one user; and the hashes are stored inside the sealed two-factor
/// state, so a database dump alone does not even show them.
pub type RecoveryHash = [u8; 32];

fn recovery_hash(user_id: Uuid, normalised: &str) -> RecoveryHash {
    let mut hasher = Sha256::new();
    hasher.update(b"tradesage-recovery-code\0");
    hasher.update(user_id.as_bytes());
    hasher.update(normalised.as_bytes());
    hasher.finalize().into()
}

/// A fresh set of recovery codes: the codes to show once (as `XXXX-XXXX-XXXX-XXXX`) and the
/// hashes to keep.
pub fn new_recovery_codes(user_id: Uuid) -> (Vec<String>, Vec<RecoveryHash>) {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let code: String = (0..RECOVERY_CHARS).map(|_| CROCKFORD[(rng.next_u32() % 32) as usize] as char).collect();
            let hash = recovery_hash(user_id, &code);
            let shown = code.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>().join("-");
            (shown, hash)
        })
        .unzip()
}

/// A user's two-factor state. Sealed (Fernet) before it leaves the server's memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaState {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// The confirmed secret: two-factor is on while there is one.
    pub secret: Option<TotpSecret>,
    /// A secret handed out by enrolment, waiting for its first code.
    pub pending: Option<TotpSecret>,
    /// Hashes of the recovery codes not used yet.
    pub recovery: Vec<RecoveryHash>,
    /// The last time step a code was accepted for: that step and older ones are refused.
    pub last_step: Option<u64>,
    pub enabled_at: Option<DateTime<Utc>>,
    /// Bumped by every persisted change (by the persistence core).
    pub version: i64,
}

/// What a confirmation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Two-factor is on; the new recovery codes, to show once.
    Enabled(Vec<String>),
    NothingPending,
    Rejected(TotpCheck),
}

impl MfaState {
    pub fn new(user_id: Uuid, tenant_id: Uuid) -> Self {
        Self {
            user_id,
            tenant_id,
            secret: None,
            pending: None,
            recovery: Vec::new(),
            last_step: None,
            enabled_at: None,
            version: 0,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.secret.is_some()
    }

    /// Hands out `secret` as the pending one (replacing an earlier pending one). Refused
    /// (false) while two-factor is on: it must be turned off first.
    pub fn begin_enrolment(&mut self, secret: TotpSecret) -> bool {
        if self.is_enabled() {
            return false;
        }
        self.pending = Some(secret);
        true
    }

    /// Turns two-factor on with the pending secret when `code` is one of its codes; the step
    /// it matched is used, so the same code cannot sign in afterwards.
    pub fn confirm(&mut self, code: &str, now: DateTime<Utc>) -> Confirmation {
        let Some(pending) = self.pending.take() else { return Confirmation::NothingPending };
        match pending.check(code, now, None) {
            TotpCheck::Accepted(step) => {
                let (codes, hashes) = new_recovery_codes(self.user_id);
                self.secret = Some(pending);
                self.recovery = hashes;
                self.last_step = Some(step);
                self.enabled_at = Some(now);
                Confirmation::Enabled(codes)
            }
            other => {
                self.pending = Some(pending);
                Confirmation::Rejected(other)
            }
        }
    }

    /// Checks a TOTP code; an accepted one uses its step.
    pub fn accept_totp(&mut self, code: &str, now: DateTime<Utc>) -> TotpCheck {
        let Some(secret) = &self.secret else { return TotpCheck::Invalid };
        let check = secret.check(code, now, self.last_step);
        if let TotpCheck::Accepted(step) = check {
            self.last_step = Some(step);
        }
        check
    }

    /// Checks a normalised recovery code against every unused one, in constant time (no
    /// early exit, no data-dependent branch per code); an accepted one is used up.
    pub fn accept_recovery_code(&mut self, normalised: &str) -> bool {
        if !self.is_enabled() {
            return false;
        }
        let candidate = recovery_hash(self.user_id, normalised);
        let (mut found, mut index) = (Choice::from(0), 0u32);
        for (i, hash) in self.recovery.iter().enumerate() {
            let equal = hash.ct_eq(&candidate);
            index.conditional_assign(&(i as u32), equal);
            found |= equal;
        }
        if bool::from(found) {
            self.recovery.remove(index as usize);
        }
        bool::from(found)
    }

    /// Replaces the recovery codes; answers the new ones, to show once.
    pub fn renew_recovery_codes(&mut self) -> Vec<String> {
        let (codes, hashes) = new_recovery_codes(self.user_id);
        self.recovery = hashes;
        codes
    }

    /// Turns two-factor off and forgets every secret; false when there was nothing to forget.
    pub fn disable(&mut self) -> bool {
        let had = self.secret.is_some() || self.pending.is_some() || !self.recovery.is_empty();
        self.secret = None;
        self.pending = None;
        self.recovery.clear();
        self.enabled_at = None;
        had
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed: the ASCII bytes of "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    /// RFC 6238 Appendix B, SHA-1 rows: (time, 8-digit TOTP).
    const VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn the_rfc_6238_sha1_vectors_come_out_at_eight_digits() {
        let totp = rfc_secret().totp(8).unwrap();
        for (time, expected) in VECTORS {
            assert_eq!(totp.generate(time), expected, "T = {time}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits_of_the_vectors_and_are_accepted() {
        let secret = rfc_secret();
        for (time, eight) in VECTORS {
            let six = &eight[2..];
            assert_eq!(secret.code_at_step(time / STEP_SECONDS), six, "T = {time}");
            assert_eq!(
                secret.check(six, at(time as i64), None),
                TotpCheck::Accepted(time / STEP_SECONDS),
                "T = {time}"
            );
        }
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted_and_two_are_not() {
        let secret = rfc_secret();
        let now = at(1_234_567_890);
        let step = 1_234_567_890 / STEP_SECONDS;
        for offset in [-1i64, 0, 1] {
            let s = (step as i64 + offset) as u64;
            assert_eq!(secret.check(&secret.code_at_step(s), now, None), TotpCheck::Accepted(s), "{offset:+}");
        }
        for offset in [-2i64, 2] {
            let code = secret.code_at_step((step as i64 + offset) as u64);
            assert_eq!(secret.check(&code, now, None), TotpCheck::Invalid, "{offset:+}");
        }
        assert_eq!(secret.check("000000x", now, None), TotpCheck::Invalid);
    }

    #[test]
    fn a_code_is_accepted_once_and_older_steps_are_refused_after_it() {
        let user = Uuid::now_v7();
        let mut state = MfaState::new(user, Uuid::now_v7());
        let now = at(1_234_567_890);
        let step = 1_234_567_890 / STEP_SECONDS;
        assert!(state.begin_enrolment(rfc_secret()));
        let secret = state.pending.clone().unwrap();
        let Confirmation::Enabled(codes) = state.confirm(&secret.code_at_step(step - 1), now) else {
            panic!("confirmed")
        };
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(state.accept_totp(&secret.code_at_step(step - 1), now), TotpCheck::Replayed);
        assert_eq!(state.accept_totp(&secret.code_at_step(step), now), TotpCheck::Accepted(step));
        assert_eq!(state.accept_totp(&secret.code_at_step(step), now), TotpCheck::Replayed);
        assert_eq!(state.accept_totp(&secret.code_at_step(step + 1), now), TotpCheck::Accepted(step + 1));
        assert_eq!(state.accept_totp(&secret.code_at_step(step), now), TotpCheck::Replayed, "older than the last");
        assert!(!state.begin_enrolment(TotpSecret::generate()), "no enrolment while on");
    }

    #[test]
    fn a_wrong_first_code_keeps_the_enrolment_pending() {
        let mut state = MfaState::new(Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(state.confirm("123456", at(59)), Confirmation::NothingPending);
        state.begin_enrolment(rfc_secret());
        let wrong = if rfc_secret().code_at_step(1) == "000000" { "111111" } else { "000000" };
        assert_eq!(state.confirm(wrong, at(59)), Confirmation::Rejected(TotpCheck::Invalid));
        assert!(state.pending.is_some() && !state.is_enabled());
    }

    #[test]
    fn recovery_codes_work_once_each_in_any_spelling_and_renewal_drops_the_old_set() {
        let user = Uuid::now_v7();
        let mut state = MfaState::new(user, Uuid::now_v7());
        state.begin_enrolment(rfc_secret());
        let Confirmation::Enabled(codes) = state.confirm(&rfc_secret().code_at_step(1), at(59)) else { panic!() };
        assert!(codes.iter().all(|c| c.len() == 19 && c.matches('-').count() == 3), "{codes:?}");
        let typed = codes[3].to_lowercase().replace('-', " ");
        assert!(state.accept_recovery_code(&parse_recovery_code(&typed, "recovery_code").unwrap()));
        assert!(!state.accept_recovery_code(&parse_recovery_code(&codes[3], "recovery_code").unwrap()), "once");
        assert_eq!(state.recovery.len(), RECOVERY_CODES - 1);
        let mut other = MfaState { user_id: Uuid::now_v7(), ..state.clone() };
        assert!(!other.accept_recovery_code(&parse_recovery_code(&codes[4], "x").unwrap()), "bound to the user");
        let renewed = state.renew_recovery_codes();
        assert!(!state.accept_recovery_code(&parse_recovery_code(&codes[4], "x").unwrap()), "old set gone");
        assert!(state.accept_recovery_code(&parse_recovery_code(&renewed[0], "x").unwrap()));
        assert!(state.disable());
        assert!(!state.accept_recovery_code(&parse_recovery_code(&renewed[1], "x").unwrap()), "off");
    }

    #[test]
    fn codes_are_parsed_strictly_and_recovery_codes_leniently() {
        assert_eq!(parse_code(" 123 456 ", "code").unwrap(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(parse_code(bad, "code").is_err(), "{bad}");
        }
        assert_eq!(parse_recovery_code("abcd-efgh-jkmn-pqrs", "r").unwrap(), "ABCDEFGHJKMNPQRS");
        assert_eq!(parse_recovery_code("o1il-0000-0000-0000", "r").unwrap(), "0111000000000000");
        assert!(parse_recovery_code("ABCD-EFGH-JKMN-PQRU", "r").is_err(), "U is not Crockford");
        assert!(parse_recovery_code("ABCD-EFGH-JKMN", "r").is_err());
    }

    #[test]
    fn the_otpauth_uri_names_the_issuer_and_carries_the_base32_secret() {
        let secret = rfc_secret();
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = secret.otpauth_uri("ada@example.com (acme)");
        assert!(uri.starts_with("otpauth://totp/Tradesage:ada%40example.com%20%28acme%29?"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") && uri.contains("issuer=Tradesage"), "{uri}");
        assert_eq!(format!("{secret:?}"), "TotpSecret(…)");
    }
}
