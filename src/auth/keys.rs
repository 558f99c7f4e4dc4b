//! The ES256 key ring: every key with the times it is in force, the set in force now (the
//! signing key, the public keys that verify and the JWKS document) and their RFC 7638 `kid`s.
//!
//! A key is published (in JWKS, verifying) from `publish_at` until `expires_at`, and signs from
//! `activates_at` until `retires_at`; of the keys signing at a moment, the latest activated
//! signs. The ring switches by the clock, so every node changes key at the same moment without
//! a message. Its keys come from files ([`super::key_files`], when `JWT_PRIVATE_KEY_PATH` is
//! set: rotation by hand, [`KeyRing::refresh`] on the watcher's tick) or from the database
//! (`service::signing_keys`, which [`KeyRing::install`]s what it reads).

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::DecodingKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::{PublicKey, SecretKey};
use serde_json::{json, Value};

pub use super::key_files::{generate_pair, rotate, KeyPaths};
use crate::config::Config;

/// A private key parsed once, when the ring is built: parsing a PKCS#8 key checks it with a
/// scalar multiplication, which `jsonwebtoken::encode` would repeat on every token it signs
/// (as much again as the signature itself).
pub type SigningKey = Arc<EcdsaKeyPair>;

/// A public key able to verify tokens.
pub struct VerifyingKey {
    pub kid: String,
    pub decoding: DecodingKey,
    /// The JWK published in `/.well-known/jwks.json`.
    pub jwk: Value,
    /// When it leaves JWKS: the last token it signed has expired by then. `None`: not
    /// scheduled (it has not retired).
    pub expires_at: Option<DateTime<Utc>>,
}

/// One key of the ring and when it is in force.
#[derive(Clone)]
pub struct RingKey {
    pub kid: String,
    /// The private half, for signing; `None` for a key kept only to verify (a retired key
    /// file, or a stored key that does not unseal with this node's keys).
    signing: Option<SigningKey>,
    decoding: DecodingKey,
    jwk: Value,
    pub publish_at: DateTime<Utc>,
    pub activates_at: DateTime<Utc>,
    pub retires_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl RingKey {
    pub fn new(
        public: PublicKey,
        secret: Option<&SecretKey>,
        publish_at: DateTime<Utc>,
        activates_at: DateTime<Utc>,
        retires_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Self, KeyError> {
        let (x, y) = coordinates(&public);
        let kid = thumbprint(&public);
        let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| KeyError(e.to_string()))?;
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"});
        let signing = match secret {
            Some(secret) => {
                let pkcs8 = secret.to_pkcs8_der().map_err(|e| KeyError(e.to_string()))?;
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_bytes())
                    .map_err(|e| KeyError(e.to_string()))?;
                Some(Arc::new(pair))
            }
            None => None,
        };
        Ok(Self { kid, signing, decoding, jwk, publish_at, activates_at, retires_at, expires_at })
    }

    pub fn can_sign(&self) -> bool {
        self.signing.is_some()
    }

    fn published(&self, now: DateTime<Utc>) -> bool {
        self.publish_at <= now && self.expires_at.is_none_or(|at| at > now)
    }

    fn signs(&self, now: DateTime<Utc>) -> bool {
        self.can_sign() && self.published(now) && self.activates_at <= now && self.retires_at.is_none_or(|at| at > now)
    }
}

/// The keys in force at one moment.
pub struct KeySet {
    pub signing_kid: String,
    pub signing: SigningKey,
    /// The signing key first, then the other published keys, latest activated first.
    pub verifying: Vec<VerifyingKey>,
    /// Whether the signing key is a stand-in: no key is scheduled to sign now, so the latest
    /// published one still does (the health check says so).
    pub stand_in: bool,
    /// When this set stops being the one in force (a key publishes, activates, retires or
    /// expires).
    next_change: Option<DateTime<Utc>>,
}

impl KeySet {
    /// The set in force at `now`; `None` when no published key can sign.
    pub fn at(keys: &[RingKey], now: DateTime<Utc>) -> Option<Self> {
        let latest = |a: &&RingKey, b: &&RingKey| a.activates_at.cmp(&b.activates_at);
        let scheduled = keys.iter().filter(|k| k.signs(now)).max_by(latest);
        let stand_in = scheduled.is_none();
        let signer = scheduled.or_else(|| keys.iter().filter(|k| k.can_sign() && k.published(now)).max_by(latest))?;
        let mut others: Vec<&RingKey> = keys.iter().filter(|k| k.published(now) && k.kid != signer.kid).collect();
        others.sort_by(|a, b| latest(b, a));
        let verifying = std::iter::once(signer)
            .chain(others)
            .map(|k| VerifyingKey {
                kid: k.kid.clone(),
                decoding: k.decoding.clone(),
                jwk: k.jwk.clone(),
                expires_at: k.expires_at,
            })
            .collect();
        let next_change = keys
            .iter()
            .flat_map(|k| [Some(k.publish_at), Some(k.activates_at), k.retires_at, k.expires_at])
            .flatten()
            .filter(|at| *at > now)
            .min();
        Some(Self {
            signing_kid: signer.kid.clone(),
            signing: signer.signing.clone()?,
            verifying,
            stand_in,
            next_change,
        })
    }

    pub fn find(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.iter().find(|k| k.kid == kid)
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": self.verifying.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }
}

/// Where the ring's keys come from.
enum Source {
    /// Key files, re-read when the private key file changes.
    Files { paths: KeyPaths, retired_grace: Duration, loaded_mtime: RwLock<Option<SystemTime>> },
    /// The database: the keys are installed by whoever reads them.
    Database,
}

/// Shared, hot-reloadable key ring.
pub struct KeyRing {
    source: Source,
    keys: RwLock<Arc<Vec<RingKey>>>,
    current: RwLock<Arc<KeySet>>,
    /// Something wrong with the keys' source (key files that do not load, a database that does
    /// not answer, a rotation overdue), until it is cleared; meanwhile the ring keeps its keys.
    problem: RwLock<Option<String>>,
    /// Woken when a token names a `kid` the ring does not know: with keys in the database, it
    /// may be a key another node just made, so the ring's keeper looks sooner.
    unknown_kid: tokio::sync::Notify,
}

/// A key that signs tokens, as the health check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub kid: String,
    /// When it stops signing; `None`: not scheduled.
    pub retires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the key check of `/health/detailed` looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningStatus {
    /// The keys that sign now, or will (a successor already published).
    pub signers: Vec<Signer>,
    /// Public keys in the JWKS.
    pub verifying: usize,
    /// Something wrong with the keys' source, while the ring keeps its last good keys.
    pub problem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("JWT keys: {0}")]
pub struct KeyError(pub String);

/// A new P-256 key: its `kid` and both halves as PEM.
pub struct NewKey {
    pub kid: String,
    pub secret: SecretKey,
    /// PKCS#8 PEM, wiped from memory when dropped.
    pub private_pem: zeroize::Zeroizing<String>,
    pub public_pem: String,
}

/// Generates a key pair.
pub fn new_key() -> Result<NewKey, KeyError> {
    let secret = SecretKey::random(&mut rand::rngs::OsRng);
    let private_pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
    let public_key = secret.public_key();
    let public_pem = public_key.to_public_key_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
    Ok(NewKey { kid: thumbprint(&public_key), secret, private_pem, public_pem })
}

impl KeyRing {
    /// Loads the key files; with no key at the default place, generates a pair there first.
    pub fn load(config: &Config) -> Result<Self, KeyError> {
        let paths = KeyPaths::from_config(config);
        let explicit = config.jwt_private_key_path.is_some();
        if !paths.private.exists() {
            if explicit {
                return Err(KeyError(format!("JWT_PRIVATE_KEY_PATH {} does not exist", paths.private.display())));
            }
            generate_pair(&paths.private, &paths.public)?;
        }
        // A key signs access and refresh tokens: its tokens live as long as the longer of them.
        let retired_grace = config.refresh_ttl.max(config.access_ttl);
        let keys = super::key_files::read_keys(&paths, retired_grace)?;
        let loaded_mtime = RwLock::new(super::key_files::mtime(&paths.private));
        Self::with_keys(Source::Files { paths, retired_grace, loaded_mtime }, keys)
    }

    /// A ring of keys read from the database; [`KeyRing::install`] replaces them.
    pub fn from_database(keys: Vec<RingKey>) -> Result<Self, KeyError> {
        Self::with_keys(Source::Database, keys)
    }

    fn with_keys(source: Source, keys: Vec<RingKey>) -> Result<Self, KeyError> {
        let set = KeySet::at(&keys, Utc::now()).ok_or_else(|| KeyError("no key can sign".into()))?;
        Ok(Self {
            source,
            keys: RwLock::new(Arc::new(keys)),
            current: RwLock::new(Arc::new(set)),
            problem: RwLock::new(None),
            unknown_kid: tokio::sync::Notify::new(),
        })
    }

    /// Whether the keys come from the database (else from files).
    pub fn is_database(&self) -> bool {
        matches!(self.source, Source::Database)
    }

    /// The keys in force now; cheap (an `Arc` clone and a clock read), never held across an
    /// await by callers. Rebuilt from the ring when a key's time has come.
    pub fn keys(&self) -> Arc<KeySet> {
        let set = read(&self.current);
        let now = Utc::now();
        if set.next_change.is_none_or(|at| at > now) {
            return set;
        }
        match KeySet::at(&read(&self.keys), now) {
            Some(next) => {
                let next = Arc::new(next);
                write(&self.current, next.clone());
                next
            }
            // No key left that can sign: keep the last set (health says so) rather than fail.
            None => set,
        }
    }

    /// Every key of the ring, whether in force or not.
    pub fn ring(&self) -> Arc<Vec<RingKey>> {
        read(&self.keys)
    }

    /// Replaces the ring's keys (read from the database). Refused, keeping the old keys, when
    /// none of them can sign now.
    pub fn install(&self, keys: Vec<RingKey>) -> Result<(), KeyError> {
        let set = KeySet::at(&keys, Utc::now()).ok_or_else(|| KeyError("no stored key can sign".into()))?;
        write(&self.keys, Arc::new(keys));
        write(&self.current, Arc::new(set));
        Ok(())
    }

    /// A token named a `kid` not in the ring (see [`KeyRing::unknown_kid`]).
    pub fn note_unknown_kid(&self) {
        if self.is_database() {
            self.unknown_kid.notify_one();
        }
    }

    /// Resolves after a token named a `kid` not in the ring.
    pub async fn unknown_kid(&self) {
        self.unknown_kid.notified().await;
    }

    /// Records (or, with `None`, clears) a problem of the keys' source, for the health check.
    pub fn set_problem(&self, problem: Option<String>) {
        if let Ok(mut guard) = self.problem.write() {
            *guard = problem;
        }
    }

    /// Key files: re-reads them when the private key changed on disk (`keys rotate`). Cheap
    /// when it did not (a file time). True when the keys changed. Keys from the database are
    /// refreshed by `service::signing_keys` instead (always false here).
    pub fn refresh(&self) -> Result<bool, KeyError> {
        let Source::Files { paths, retired_grace, loaded_mtime } = &self.source else { return Ok(false) };
        let now = super::key_files::mtime(&paths.private);
        let before = loaded_mtime.read().map(|g| *g).unwrap_or(None);
        if now == before {
            // A retired key's grace may have passed meanwhile: the set follows the clock.
            self.keys();
            return Ok(false);
        }
        let keys = match super::key_files::read_keys(paths, *retired_grace) {
            Ok(keys) => keys,
            Err(e) => {
                self.set_problem(Some(format!(
                    "the key files changed on disk and do not load ({}); still signing with the last good key",
                    e.0
                )));
                return Err(e);
            }
        };
        self.install(keys)?;
        self.set_problem(None);
        if let Ok(mut guard) = loaded_mtime.write() {
            *guard = now;
        }
        Ok(true)
    }

    /// What the health check needs: the keys that sign now or will (and when they retire),
    /// how many verify, and whether the keys' source has a problem.
    pub fn signing_status(&self) -> SigningStatus {
        let set = self.keys();
        let now = Utc::now();
        let signers = read(&self.keys)
            .iter()
            .filter(|k| {
                k.can_sign() && k.expires_at.is_none_or(|at| at > now) && k.retires_at.is_none_or(|at| at > now)
            })
            .map(|k| Signer { kid: k.kid.clone(), retires_at: k.retires_at })
            .collect();
        SigningStatus {
            signers,
            verifying: set.verifying.len(),
            problem: self.problem.read().ok().and_then(|p| p.clone()),
        }
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn write<T>(lock: &RwLock<T>, value: T) {
    match lock.write() {
        Ok(mut guard) => *guard = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

/// A P-256 private key from PKCS#8 (or SEC1) PEM.
pub fn parse_private(pem: &[u8]) -> Result<SecretKey, KeyError> {
    let text = std::str::from_utf8(pem).map_err(|_| KeyError("private key is not PEM text".into()))?;
    SecretKey::from_pkcs8_pem(text)
        .or_else(|_| SecretKey::from_sec1_pem(text))
        .map_err(|_| KeyError("private key is not a P-256 key in PKCS#8 (or SEC1) PEM".into()))
}

fn coordinates(key: &PublicKey) -> (String, String) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = key.to_encoded_point(false);
    let x = point.x().map(|x| URL_SAFE_NO_PAD.encode(x)).unwrap_or_default();
    let y = point.y().map(|y| URL_SAFE_NO_PAD.encode(y)).unwrap_or_default();
    (x, y)
}

/// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
pub fn thumbprint(key: &PublicKey) -> String {
    let (x, y) = coordinates(key);
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(super::sha256(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Span;

    #[test]
    fn the_thumbprint_is_rfc_7638_over_the_rfc_7515_example_key() {
        // The ES256 key of RFC 7515 appendix A.3; the expected value was computed independently
        // (Python's hashlib over the RFC 7638 canonical JSON of this key).
        let x = URL_SAFE_NO_PAD.decode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU").unwrap();
        let y = URL_SAFE_NO_PAD.decode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0").unwrap();
        let mut sec1 = vec![4u8];
        sec1.extend(x);
        sec1.extend(y);
        let key = PublicKey::from_sec1_bytes(&sec1).unwrap();
        assert_eq!(thumbprint(&key), "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
    }

    #[test]
    fn generated_private_keys_are_owner_only_and_rotation_keeps_the_old_key_verifying() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ts-keys-{}", uuid::Uuid::new_v4()));
        let paths = KeyPaths { private: dir.join("p.pem"), public: dir.join("q.pem"), retired_dir: dir.join("r") };
        let first = generate_pair(&paths.private, &paths.public).unwrap();
        let mode = std::fs::metadata(&paths.private).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = rotate(&paths).unwrap();
        let keys = super::super::key_files::read_keys(&paths, Duration::from_secs(3600)).unwrap();
        let set = KeySet::at(&keys, Utc::now()).unwrap();
        assert_eq!(set.signing_kid, second);
        assert!(set.find(&first).is_some() && set.find(&second).is_some());
        assert!(set.find(&second).unwrap().expires_at.is_none(), "the signing key does not retire");
        let expires_at = set.find(&first).unwrap().expires_at.unwrap();
        let later = KeySet::at(&keys, expires_at).unwrap();
        assert!(later.find(&first).is_none(), "a retired key leaves with its grace");
        assert_eq!(set.next_change, Some(expires_at));
        std::fs::set_permissions(&paths.private, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(super::super::key_files::read_keys(&paths, Duration::ZERO).is_err());
        std::fs::remove_dir_all(dir).ok();
    }

    fn key(publish: i64, activate: i64, retire: Option<i64>, expire: Option<i64>) -> RingKey {
        key_from(DateTime::<Utc>::UNIX_EPOCH + Span::days(20_000), publish, activate, retire, expire, true)
    }

    fn key_from(
        t0: DateTime<Utc>,
        publish: i64,
        activate: i64,
        retire: Option<i64>,
        expire: Option<i64>,
        private: bool,
    ) -> RingKey {
        let at = |s: i64| t0 + Span::seconds(s);
        let k = new_key().unwrap();
        let secret = private.then_some(&k.secret);
        RingKey::new(k.secret.public_key(), secret, at(publish), at(activate), retire.map(at), expire.map(at)).unwrap()
    }

    #[test]
    fn the_signing_status_lists_the_keys_that_sign_now_or_will_and_their_retirement() {
        let now = Utc::now();
        let retiring = key_from(now, -100, -100, Some(1_200), Some(5_000), true);
        let successor = key_from(now, -10, 1_200, None, None, true);
        let ring = KeyRing::from_database(vec![retiring.clone(), successor.clone()]).unwrap();
        let status = ring.signing_status();
        let signers: Vec<_> = status.signers.iter().map(|s| (s.kid.as_str(), s.retires_at)).collect();
        assert_eq!(signers, [(retiring.kid.as_str(), retiring.retires_at), (successor.kid.as_str(), None)]);
        assert_eq!((status.verifying, status.problem), (2, None));
        // A successor that cannot sign (its private half did not unseal) is no successor.
        let unusable = key_from(now, -10, 1_200, None, None, false);
        let ring = KeyRing::from_database(vec![retiring.clone(), unusable]).unwrap();
        assert_eq!(ring.signing_status().signers.len(), 1);
        // Every key retired: one still stands in, but none is a signer.
        let retired = key_from(now, -100, -100, Some(-10), Some(5_000), true);
        let ring = KeyRing::from_database(vec![retired]).unwrap();
        assert!(ring.keys().stand_in && ring.signing_status().signers.is_empty());
        ring.set_problem(Some("the signing keys could not be checked".into()));
        assert!(ring.signing_status().problem.is_some());
    }

    #[test]
    fn a_prepublished_key_verifies_before_it_signs_and_a_retired_one_until_it_expires() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH + Span::days(20_000);
        let at = |s: i64| t0 + Span::seconds(s);
        let old = key(0, 0, Some(100), Some(200));
        let new = key(40, 100, None, None);
        let keys = vec![old.clone(), new.clone()];
        let before = KeySet::at(&keys, at(10)).unwrap();
        assert_eq!((before.signing_kid.as_str(), before.verifying.len()), (old.kid.as_str(), 1));
        assert_eq!(before.next_change, Some(at(40)));
        let published = KeySet::at(&keys, at(50)).unwrap();
        assert_eq!(published.signing_kid, old.kid, "published, not signing yet");
        assert!(published.find(&new.kid).is_some());
        let switched = KeySet::at(&keys, at(100)).unwrap();
        assert_eq!(switched.signing_kid, new.kid);
        assert_eq!(switched.verifying[0].kid, new.kid, "the signing key comes first");
        assert!(switched.find(&old.kid).is_some());
        let gone = KeySet::at(&keys, at(200)).unwrap();
        assert!(gone.find(&old.kid).is_none() && gone.next_change.is_none());
        let alone = KeySet::at(std::slice::from_ref(&old), at(150)).unwrap();
        assert!(alone.stand_in && alone.signing_kid == old.kid, "a retired key stands in rather than none");
    }
}
