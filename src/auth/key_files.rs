//! Signing keys as files, the source of the key ring when `JWT_PRIVATE_KEY_PATH` is set (and
//! what `keygen` writes): the private key (PKCS#8 PEM, mode 0600) and public key at the
//! configured paths; retired public keys in `<data_dir>/retired-keys/<kid>.pem`, whose file
//! time is when they were retired. `keys rotate` with key files retires the current key and
//! writes a new pair; a running server notices within seconds ([`super::KeyRing::refresh`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use p256::PublicKey;

use super::files;
use super::keys::{new_key, parse_private, thumbprint, KeyError, RingKey};
use crate::config::Config;

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

/// Generates a P-256 pair: the private key as PKCS#8 PEM (0600), the public key as SPKI PEM.
pub fn generate_pair(private: &Path, public: &Path) -> Result<String, KeyError> {
    let key = new_key()?;
    files::write_private(private, key.private_pem.as_bytes())
        .map_err(|e| KeyError(format!("{}: {e}", private.display())))?;
    if let Some(parent) = public.parent() {
        std::fs::create_dir_all(parent).map_err(|e| KeyError(e.to_string()))?;
    }
    std::fs::write(public, key.public_pem.as_bytes()).map_err(|e| KeyError(format!("{}: {e}", public.display())))?;
    Ok(key.kid)
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

/// The modification time of a file, if it has one.
pub(super) fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The keys the files hold: the current pair, which signs from always and never retires by
/// itself, and the retired public keys still within `retired_grace` of their retirement.
pub(super) fn read_keys(paths: &KeyPaths, retired_grace: Duration) -> Result<Vec<RingKey>, KeyError> {
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
    let always = DateTime::<Utc>::UNIX_EPOCH;
    let mut keys = vec![RingKey::new(public, Some(&secret), always, always, None, None)?];
    if let Ok(entries) = std::fs::read_dir(&paths.retired_dir) {
        let now = SystemTime::now();
        let grace = chrono::Duration::from_std(retired_grace).unwrap_or(chrono::Duration::MAX);
        for entry in entries.flatten() {
            let retired_at: DateTime<Utc> = entry.metadata().and_then(|m| m.modified()).unwrap_or(now).into();
            let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
            let Ok(key) = PublicKey::from_public_key_pem(&text) else { continue };
            if key != public {
                let expires_at = retired_at.checked_add_signed(grace).unwrap_or(DateTime::<Utc>::MAX_UTC);
                keys.push(RingKey::new(key, None, always, always, Some(retired_at), Some(expires_at))?);
            }
        }
    }
    Ok(keys)
}
