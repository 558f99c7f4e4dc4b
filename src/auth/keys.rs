//! The ES256 key ring: the signing key, the public keys that still verify (current and retired
//! ones whose tokens may still be alive), their RFC 7638 `kid`s and the JWKS document.
//!
//! On disk: the private key (PKCS#8 PEM, mode 0600) and public key at the configured paths or
//! in the data dir; retired public keys in `<data_dir>/retired-keys/<kid>.pem`, whose file time
//! is when they were retired. `keys rotate` retires the current key and writes a new pair; a
//! running server notices within seconds, and drops a retired key from JWKS once the last
//! token it signed has expired ([`KeyRing::refresh`], on the watcher's every tick).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::{PublicKey, SecretKey};
use serde_json::{json, Value};

use super::files;
use crate::config::Config;

/// A public key able to verify tokens.
pub struct VerifyingKey {
    pub kid: String,
    pub decoding: DecodingKey,
    /// The JWK published in `/.well-known/jwks.json`.
    pub jwk: Value,
    /// When a retired key stops verifying: the last token it signed has expired by then.
    /// `None` for the signing key.
    pub retires_at: Option<SystemTime>,
}

/// The keys in force at one moment.
pub struct KeySet {
    pub signing_kid: String,
    pub signing: EncodingKey,
    /// Current key first, then retired keys still within their grace.
    pub verifying: Vec<VerifyingKey>,
}

impl KeySet {
    pub fn find(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.iter().find(|k| k.kid == kid)
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": self.verifying.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }

    /// Whether a retired key here has outlived its grace (so the set must be rebuilt).
    fn has_expired_key(&self, now: SystemTime) -> bool {
        self.verifying.iter().any(|k| k.retires_at.is_some_and(|at| at <= now))
    }
}

/// Where the key files are.
#[derive(Debug, Clone)]
pub struct KeyPaths {
    pub private: PathBuf,
    pub public: PathBuf,
    pub retired_dir: PathBuf,
}

impl KeyPaths {
    pub fn from_config(config: &Config) -> Self {
        Self {
            private: config.jwt_private_key_path.clone().unwrap_or_else(|| config.data_dir.join("jwt-private.pem")),
            public: config.jwt_public_key_path.clone().unwrap_or_else(|| config.data_dir.join("jwt-public.pem")),
            retired_dir: config.data_dir.join("retired-keys"),
        }
    }
}

/// Shared, hot-reloadable key set.
pub struct KeyRing {
    paths: KeyPaths,
    /// Retired keys verify for this long after retirement (the longest a token lives).
    retired_grace: Duration,
    current: RwLock<Arc<KeySet>>,
    loaded_mtime: RwLock<Option<SystemTime>>,
    /// Why the last reload failed (the key files changed on disk and do not load), until one
    /// succeeds; meanwhile the last good keys stay in force.
    reload_error: RwLock<Option<String>>,
}

/// A key that signs tokens, as the health check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub kid: String,
    /// When it stops signing; `None`: not scheduled (key files sign until `keys rotate`).
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

impl KeyRing {
    /// Loads the keys; with no key at the default place, generates a pair there first.
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
        let ring = Self {
            retired_grace,
            current: RwLock::new(Arc::new(read_key_set(&paths, retired_grace)?)),
            loaded_mtime: RwLock::new(mtime(&paths.private)),
            reload_error: RwLock::new(None),
            paths,
        };
        Ok(ring)
    }

    /// The keys now; cheap (an `Arc` clone), never held across an await by callers.
    pub fn keys(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the files when the private key changed on disk (`keys rotate`), and also when
    /// a retired key has outlived its grace, so it leaves JWKS while the server runs. Cheap when
    /// neither happened (a file time and a clock read). True when the keys in force changed.
    pub fn refresh(&self) -> Result<bool, KeyError> {
        let now = mtime(&self.paths.private);
        let before = self.loaded_mtime.read().map(|g| *g).unwrap_or(None);
        if now == before && !self.keys().has_expired_key(SystemTime::now()) {
            return Ok(false);
        }
        let set = match read_key_set(&self.paths, self.retired_grace) {
            Ok(set) => Arc::new(set),
            Err(e) => {
                if let Ok(mut guard) = self.reload_error.write() {
                    *guard = Some(e.0.clone());
                }
                return Err(e);
            }
        };
        if let Ok(mut guard) = self.current.write() {
            *guard = set;
        }
        if let Ok(mut guard) = self.reload_error.write() {
            *guard = None;
        }
        if let Ok(mut guard) = self.loaded_mtime.write() {
            *guard = now;
        }
        Ok(true)
    }

    /// What the health check needs: the keys that sign (and when they retire), how many
    /// verify, and whether the keys' source has a problem. Key files have one signer that
    /// never retires by itself (rotation is manual); a failed reload is the problem. Keys kept
    /// in the database (API.md §5.4) change only this method.
    pub fn signing_status(&self) -> SigningStatus {
        let keys = self.keys();
        let problem = self.reload_error.read().ok().and_then(|e| e.clone()).map(|e| {
            format!("the key files changed on disk and do not load ({e}); still signing with the last good key")
        });
        SigningStatus {
            signers: vec![Signer { kid: keys.signing_kid.clone(), retires_at: None }],
            verifying: keys.verifying.len(),
            problem,
        }
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Generates a P-256 pair: the private key as PKCS#8 PEM (0600), the public key as SPKI PEM.
pub fn generate_pair(private: &Path, public: &Path) -> Result<String, KeyError> {
    let secret = SecretKey::random(&mut rand::rngs::OsRng);
    let private_pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
    let public_key = secret.public_key();
    let public_pem = public_key.to_public_key_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
    files::write_private(private, private_pem.as_bytes())
        .map_err(|e| KeyError(format!("{}: {e}", private.display())))?;
    if let Some(parent) = public.parent() {
        std::fs::create_dir_all(parent).map_err(|e| KeyError(e.to_string()))?;
    }
    std::fs::write(public, public_pem.as_bytes()).map_err(|e| KeyError(format!("{}: {e}", public.display())))?;
    Ok(thumbprint(&public_key))
}

/// Retires the current key (its public half stays valid for its tokens' lifetime) and writes
/// a new pair in its place. Returns the new `kid`.
pub fn rotate(paths: &KeyPaths) -> Result<String, KeyError> {
    let old_private = files::read_private(&paths.private).map_err(KeyError)?;
    let old_secret = parse_private(&old_private)?;
    let old_public = old_secret.public_key();
    let old_pem = old_public.to_public_key_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
    std::fs::create_dir_all(&paths.retired_dir).map_err(|e| KeyError(e.to_string()))?;
    let retired = paths.retired_dir.join(format!("{}.pem", thumbprint(&old_public)));
    std::fs::write(&retired, old_pem.as_bytes()).map_err(|e| KeyError(format!("{}: {e}", retired.display())))?;
    // Write the new pair beside the old one, then rename over it: a reader never sees half a key.
    let tmp_private = paths.private.with_extension("new");
    let tmp_public = paths.public.with_extension("new");
    let kid = generate_pair(&tmp_private, &tmp_public)?;
    std::fs::rename(&tmp_public, &paths.public).map_err(|e| KeyError(e.to_string()))?;
    std::fs::rename(&tmp_private, &paths.private).map_err(|e| KeyError(e.to_string()))?;
    Ok(kid)
}

fn parse_private(pem: &[u8]) -> Result<SecretKey, KeyError> {
    let text = std::str::from_utf8(pem).map_err(|_| KeyError("private key is not PEM text".into()))?;
    SecretKey::from_pkcs8_pem(text)
        .or_else(|_| SecretKey::from_sec1_pem(text))
        .map_err(|_| KeyError("private key is not a P-256 key in PKCS#8 (or SEC1) PEM".into()))
}

fn read_key_set(paths: &KeyPaths, retired_grace: Duration) -> Result<KeySet, KeyError> {
    let private_pem = files::read_private(&paths.private).map_err(KeyError)?;
    let secret = parse_private(&private_pem)?;
    let public = secret.public_key();
    if let Ok(text) = std::fs::read_to_string(&paths.public) {
        let declared = PublicKey::from_public_key_pem(&text)
            .map_err(|_| KeyError(format!("{} is not a P-256 public key PEM", paths.public.display())))?;
        if declared != public {
            return Err(KeyError(format!("{} does not match the private key", paths.public.display())));
        }
    }
    let pkcs8 = secret.to_pkcs8_der().map_err(|e| KeyError(e.to_string()))?;
    let signing = EncodingKey::from_ec_der(pkcs8.as_bytes());
    let current = verifying_key(&public, None)?;
    let signing_kid = current.kid.clone();
    let mut verifying = vec![current];
    if let Ok(entries) = std::fs::read_dir(&paths.retired_dir) {
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let retired_at = entry.metadata().and_then(|m| m.modified()).unwrap_or(now);
            let retires_at = retired_at + retired_grace;
            let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
            let Ok(key) = PublicKey::from_public_key_pem(&text) else { continue };
            if retires_at > now && key != public {
                verifying.push(verifying_key(&key, Some(retires_at))?);
            }
        }
    }
    Ok(KeySet { signing_kid, signing, verifying })
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

fn verifying_key(key: &PublicKey, retires_at: Option<SystemTime>) -> Result<VerifyingKey, KeyError> {
    let (x, y) = coordinates(key);
    let kid = thumbprint(key);
    let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| KeyError(e.to_string()))?;
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"});
    Ok(VerifyingKey { kid, decoding, jwk, retires_at })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let set = read_key_set(&paths, Duration::from_secs(3600)).unwrap();
        assert_eq!(set.signing_kid, second);
        assert!(set.find(&first).is_some() && set.find(&second).is_some());
        let expired = read_key_set(&paths, Duration::ZERO).unwrap();
        assert!(expired.find(&first).is_none());
        assert!(set.find(&second).unwrap().retires_at.is_none(), "the signing key does not retire");
        let retires_at = set.find(&first).unwrap().retires_at.unwrap();
        assert!(!set.has_expired_key(retires_at - Duration::from_secs(1)));
        assert!(set.has_expired_key(retires_at), "a retired key expires with its grace");
        std::fs::set_permissions(&paths.private, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_key_set(&paths, Duration::ZERO).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
