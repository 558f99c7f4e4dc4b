//! API keys (API.md §5.3): the key format, the state a key's actor owns, and its rules —
//! secret check in constant time, expiry, revocation, allowed networks (CIDRs), and scopes that
//! must be a subset of the owner's when granted and are intersected with the owner's current
//! ones at each use.
//!
//! A key reads `tsk_<id>_<secret>`: `<id>` is the key's UUID in 32 hex digits, so the key is
//! found by id without a scan or an index on a hash; `<secret>` is 32 random bytes, base64url
//! without padding. Only the SHA-256 of the secret is kept: a 256-bit random secret needs no
//! slow hash (nothing to guess), and the comparison is constant-time.

use std::collections::BTreeSet;
use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::role::scope_string;
use super::text::{plain, Tabs};
use super::{Scope, ValidationError};

/// What every key starts with, so scanners and people recognise one.
pub const KEY_PREFIX: &str = "tsk_";
/// How many keys a user may hold that are neither revoked nor expired.
pub const MAX_ACTIVE_KEYS: i64 = 20;
/// At most this many networks per key.
pub const MAX_ALLOWED_IPS: usize = 32;
/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// A key's last use is written at most this often (and when its actor stops).
pub const LAST_USED_EVERY: Duration = Duration::seconds(60);

/// The SHA-256 of a key's secret.
pub type SecretHash = [u8; 32];

/// A freshly made key: the text handed to its owner once, and what is kept of it.
pub struct NewKey {
    pub id: Uuid,
    /// `tsk_<id>`: shown in lists, so the owner can tell keys apart.
    pub prefix: String,
    /// The whole key; never stored, never logged.
    pub key: String,
    pub secret_hash: SecretHash,
}

impl NewKey {
    /// A key with a new id and 32 random bytes of secret.
    pub fn generate() -> Self {
        let id = Uuid::now_v7();
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let secret = URL_SAFE_NO_PAD.encode(secret);
        let prefix = prefix_of(id);
        let key = format!("{prefix}_{secret}");
        Self { id, prefix, key, secret_hash: hash_secret(&secret) }
    }
}

/// `tsk_<id in 32 hex digits>`.
pub fn prefix_of(id: Uuid) -> String {
    format!("{KEY_PREFIX}{}", id.simple())
}

pub fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether a bearer credential is meant as an API key (then it is never tried as a JWT).
pub fn looks_like_key(bearer: &str) -> bool {
    bearer.starts_with(KEY_PREFIX)
}

/// The id and secret of a presented key; `None` when it is not shaped like one of ours.
pub fn parse_key(presented: &str) -> Option<(Uuid, &str)> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32
        || secret.len() != 43
        || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let id = Uuid::try_parse(id).ok()?;
    Some((id, secret))
}

/// A key's name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, ValidationError> {
    let name = plain("name", raw.trim(), Tabs::Refused)?;
    if name.is_empty() {
        return Err(ValidationError::new("name", "must not be blank"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new("name", format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    Ok(name.to_owned())
}

/// The networks a key may be used from: CIDRs (`203.0.113.0/24`, `2001:db8::/32`) or single
/// addresses (a /32 or /128). IPv4-mapped IPv6 is IPv4, as everywhere (API.md §5.1); host
/// bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`); duplicates go.
pub fn parse_allowed_ips<S: AsRef<str>>(raw: &[S]) -> Result<Vec<IpNet>, ValidationError> {
    if raw.len() > MAX_ALLOWED_IPS {
        return Err(ValidationError::new("allowed_ips", format!("at most {MAX_ALLOWED_IPS} networks")));
    }
    let mut nets: Vec<IpNet> = Vec::with_capacity(raw.len());
    for entry in raw {
        let text = plain("allowed_ips", entry.as_ref().trim(), Tabs::Refused)?;
        let net = parse_net(text)
            .ok_or_else(|| ValidationError::new("allowed_ips", format!("`{text}` is not an address or a CIDR")))?;
        if !nets.contains(&net) {
            nets.push(net);
        }
    }
    Ok(nets)
}

fn parse_net(text: &str) -> Option<IpNet> {
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => IpNet::from(text.parse::<IpAddr>().ok()?),
    };
    // `::ffff:a.b.c.d/prefix` with a prefix covering the mapping is the IPv4 network.
    let net = match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).ok()?,
            None => net,
        },
        other => other,
    };
    Some(net.trunc())
}

/// The scopes a new key gets: the owner's when none are asked for; otherwise the ones asked
/// for, each of which the owner must hold (422 naming it otherwise).
pub fn grant_scopes<S: AsRef<str>>(
    owner: &BTreeSet<Scope>,
    requested: Option<&[S]>,
) -> Result<BTreeSet<Scope>, ValidationError> {
    let Some(requested) = requested else { return Ok(owner.clone()) };
    let mut granted = BTreeSet::new();
    for word in requested {
        let word = word.as_ref().trim();
        let scope: Scope =
            word.parse().map_err(|_| ValidationError::new("scopes", format!("unknown scope `{word}`")))?;
        if !owner.contains(&scope) {
            return Err(ValidationError::new("scopes", format!("`{word}` is not one of your scopes")));
        }
        granted.insert(scope);
    }
    if granted.is_empty() {
        return Err(ValidationError::new("scopes", "must name at least one scope (or be left out)"));
    }
    Ok(granted)
}

/// An expiry must lie in the future.
pub fn check_expiry(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), ValidationError> {
    match expires_at {
        Some(at) if at <= now => Err(ValidationError::new("expires_at", "must be in the future")),
        _ => Ok(()),
    }
}

/// Everything a key's actor owns. Serialised and sealed before it leaves the actor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyState {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub secret_hash: SecretHash,
    /// The scopes granted at creation, as scope names (space-separated in the store).
    pub scopes: Vec<String>,
    /// Empty: any address.
    pub allowed_ips: Vec<IpNet>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Bumped by every persisted change (by the actor core); stores write only where it matches.
    pub version: i64,
}

/// What a presented key is worth, from the key's own state (the owner is checked apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyVerdict {
    Valid,
    /// The secret is not this key's.
    WrongSecret,
    Revoked,
    Expired,
    /// Presented from an address outside `allowed_ips`.
    IpNotAllowed,
}

impl KeyVerdict {
    /// The label of the refusal in metrics and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyVerdict::Valid => "valid",
            KeyVerdict::WrongSecret => "wrong_secret",
            KeyVerdict::Revoked => "revoked",
            KeyVerdict::Expired => "expired",
            KeyVerdict::IpNotAllowed => "ip_not_allowed",
        }
    }
}

impl ApiKeyState {
    /// A new key of `owner`, not stored yet.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &NewKey,
        tenant_id: Uuid,
        user_id: Uuid,
        name: String,
        scopes: &BTreeSet<Scope>,
        allowed_ips: Vec<IpNet>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: key.id,
            tenant_id,
            user_id,
            name,
            secret_hash: key.secret_hash,
            scopes: scope_string(scopes).split_whitespace().map(str::to_owned).collect(),
            allowed_ips,
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            version: 0,
        }
    }

    pub fn prefix(&self) -> String {
        prefix_of(self.id)
    }

    /// Neither revoked nor expired at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// Whether `ip` is inside one of the allowed networks (any, when none are listed).
    pub fn ip_allowed(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allowed_ips.is_empty() || self.allowed_ips.iter().any(|net| net.contains(&ip))
    }

    /// The verdict for a key presented with secret hash `presented` from `ip` at `now`. The
    /// secret is checked first and in constant time: a wrong secret learns nothing of the
    /// key's state.
    pub fn verdict(&self, presented: &SecretHash, ip: IpAddr, now: DateTime<Utc>) -> KeyVerdict {
        if !bool::from(self.secret_hash.ct_eq(presented)) {
            KeyVerdict::WrongSecret
        } else if self.revoked_at.is_some() {
            KeyVerdict::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyVerdict::Expired
        } else if !self.ip_allowed(ip) {
            KeyVerdict::IpNotAllowed
        } else {
            KeyVerdict::Valid
        }
    }

    /// The key's scopes that the owner still holds (`owner_now`: the owner's scopes today).
    pub fn effective_scopes(&self, owner_now: &BTreeSet<Scope>) -> BTreeSet<Scope> {
        self.scopes.iter().filter_map(|s| s.parse::<Scope>().ok()).filter(|s| owner_now.contains(s)).collect()
    }

    /// Revokes the key; false when it already was.
    pub fn revoke(&mut self, now: DateTime<Utc>) -> bool {
        if self.revoked_at.is_some() {
            return false;
        }
        self.revoked_at = Some(now);
        true
    }

    /// How long a copy of this state is worth keeping in the cache.
    pub fn cache_ttl(&self, now: DateTime<Utc>) -> std::time::Duration {
        const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);
        match (self.revoked_at, self.expires_at) {
            // A tombstone: long enough that an older copy cannot come back meanwhile.
            (Some(_), _) => DAY,
            (None, Some(at)) => (at - now).to_std().unwrap_or_default().clamp(std::time::Duration::from_secs(60), DAY),
            (None, None) => DAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::scopes_for;
    use crate::domain::Role;

    fn state(allowed: &[&str]) -> (NewKey, ApiKeyState) {
        let key = NewKey::generate();
        let scopes = scopes_for(&[Role::Trader], false);
        let nets = parse_allowed_ips(allowed).unwrap();
        let state =
            ApiKeyState::new(&key, Uuid::new_v4(), Uuid::new_v4(), "bot".into(), &scopes, nets, None, Utc::now());
        (key, state)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_generated_key_parses_back_to_its_id_and_secret() {
        let key = NewKey::generate();
        assert!(key.key.starts_with("tsk_") && looks_like_key(&key.key));
        assert!(key.key.starts_with(&key.prefix));
        let (id, secret) = parse_key(&key.key).unwrap();
        assert_eq!(id, key.id);
        assert_eq!(hash_secret(secret), key.secret_hash);
        assert_ne!(NewKey::generate().key, key.key, "secrets are random");
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        let key = NewKey::generate().key;
        for bad in [
            "",
            "tsk_",
            "tsk_abc_def",
            &key[..key.len() - 1],
            &format!("{key}x"),
            &key.replacen("tsk_", "tsx_", 1),
            &format!("{}!{}", &key[..40], &key[41..]),
        ] {
            assert!(parse_key(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_verdict_checks_secret_then_revocation_expiry_and_address() {
        let (key, mut s) = state(&["203.0.113.0/24"]);
        let now = Utc::now();
        let (_, secret) = parse_key(&key.key).unwrap();
        let right = hash_secret(secret);
        assert_eq!(s.verdict(&right, ip("203.0.113.9"), now), KeyVerdict::Valid);
        assert_eq!(s.verdict(&hash_secret("other"), ip("203.0.113.9"), now), KeyVerdict::WrongSecret);
        assert_eq!(s.verdict(&right, ip("198.51.100.1"), now), KeyVerdict::IpNotAllowed);
        assert_eq!(s.verdict(&right, ip("::ffff:203.0.113.9"), now), KeyVerdict::Valid, "mapped is IPv4");
        s.expires_at = Some(now);
        assert_eq!(s.verdict(&right, ip("203.0.113.9"), now), KeyVerdict::Expired);
        assert!(s.revoke(now) && !s.revoke(now));
        assert_eq!(s.verdict(&right, ip("203.0.113.9"), now), KeyVerdict::Revoked);
        assert_eq!(s.verdict(&hash_secret("other"), ip("203.0.113.9"), now), KeyVerdict::WrongSecret);
    }

    #[test]
    fn allowed_ips_take_cidrs_and_addresses_and_refuse_the_rest() {
        let nets =
            parse_allowed_ips(&["10.1.2.3/8", "2001:db8::1", "::ffff:192.0.2.0/120", " 192.0.2.7 ", "10.0.0.0/8"])
                .unwrap();
        let texts: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(texts, ["10.0.0.0/8", "2001:db8::1/128", "192.0.2.0/24", "192.0.2.7/32"]);
        for bad in ["10.0.0.0/33", "localhost", "", "1.2.3.4/", "1.2.3.4\u{0}"] {
            assert_eq!(parse_allowed_ips(&[bad]).unwrap_err().field, "allowed_ips", "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_ALLOWED_IPS).map(|i| format!("10.0.0.{i}")).collect();
        assert!(parse_allowed_ips(&many).is_err());
        let (_, open) = state(&[]);
        assert!(open.ip_allowed(ip("198.51.100.1")), "no list: any address");
    }

    #[test]
    fn scopes_default_to_the_owners_and_must_be_a_subset() {
        let owner = scopes_for(&[Role::Trader], false);
        assert_eq!(grant_scopes::<&str>(&owner, None).unwrap(), owner);
        let read = grant_scopes(&owner, Some(&["orders:read"])).unwrap();
        assert_eq!(scope_string(&read), "orders:read");
        assert_eq!(grant_scopes(&owner, Some(&["users:manage"])).unwrap_err().field, "scopes");
        assert!(grant_scopes(&owner, Some(&["nonsense"])).is_err());
        assert!(grant_scopes::<&str>(&owner, Some(&[])).is_err());
    }

    #[test]
    fn effective_scopes_shrink_with_the_owners() {
        let (_, s) = state(&[]);
        let viewer = scopes_for(&[Role::Viewer], false);
        assert_eq!(scope_string(&s.effective_scopes(&viewer)), "orders:read");
        let trader = scopes_for(&[Role::Trader], false);
        assert_eq!(scope_string(&s.effective_scopes(&trader)), "orders:read orders:write");
        let admin = scopes_for(&[Role::Admin], false);
        assert!(!s.effective_scopes(&admin).contains(&Scope::UsersManage), "never more than granted");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  ci bot ").unwrap(), "ci bot");
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(parse_name("a\nb").is_err());
    }

    #[test]
    fn expiry_must_be_in_the_future() {
        let now = Utc::now();
        assert!(check_expiry(None, now).is_ok());
        assert!(check_expiry(Some(now + Duration::hours(1)), now).is_ok());
        assert_eq!(check_expiry(Some(now), now).unwrap_err().field, "expires_at");
    }
}
