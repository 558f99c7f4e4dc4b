//! Fernet encryption of actor state at rest: the first key encrypts, every key decrypts, so a
//! new key can be put in front while old state still reads.

use std::path::Path;

use fernet::{Fernet, MultiFernet};

use super::files;
use crate::config::Config;

/// Encrypts and decrypts session and lockout state.
pub struct StateCipher {
    keys: MultiFernet,
    /// The key that encrypts, alone: what tells a record sealed under an older key.
    first: Fernet,
    /// How many keys are configured (more than one while a key change is under way).
    count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("state could not be decrypted with any configured key")]
    Undecryptable,
    #[error("session encryption keys: {0}")]
    Keys(String),
}

impl StateCipher {
    /// Builds from url-safe base64 Fernet keys, first one encrypting.
    pub fn from_keys(keys: &[String]) -> Result<Self, CipherError> {
        let fernets = keys
            .iter()
            .map(|k| Fernet::new(k).ok_or_else(|| CipherError::Keys("a key is not a Fernet key".into())))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(first) = fernets.first().cloned() else {
            return Err(CipherError::Keys("no key given".into()));
        };
        Ok(Self { count: fernets.len(), first, keys: MultiFernet::new(fernets) })
    }

    /// Keys from `SESSION_ENCRYPTION_KEYS`, else from `<data_dir>/session-keys` (created 0600 with
    /// a fresh key on first start).
    pub fn load(config: &Config) -> Result<Self, CipherError> {
        if let Some(keys) = &config.session_encryption_keys {
            return Self::from_keys(keys.expose());
        }
        let path = config.data_dir.join("session-keys");
        Self::from_keys(&load_or_create_key_file(&path)?)
    }

    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        self.keys.encrypt(plaintext)
    }

    pub fn decrypt(&self, token: &str) -> Result<Vec<u8>, CipherError> {
        self.keys.decrypt(token).map_err(|_| CipherError::Undecryptable)
    }

    /// Whether `token` was sealed with the first key (the one that encrypts now).
    pub fn is_current(&self, token: &str) -> bool {
        self.first.decrypt(token).is_ok()
    }

    /// How many keys are configured: one means every readable record is sealed with it.
    pub fn key_count(&self) -> usize {
        self.count
    }

    /// `token` sealed again with the first key; `None` when it already is. Fails when no
    /// configured key opens it.
    pub fn reseal(&self, token: &str) -> Result<Option<String>, CipherError> {
        if self.is_current(token) {
            return Ok(None);
        }
        let plain = zeroize::Zeroizing::new(self.decrypt(token)?);
        Ok(Some(self.encrypt(&plain)))
    }
}

fn load_or_create_key_file(path: &Path) -> Result<Vec<String>, CipherError> {
    if !path.exists() {
        files::write_private(path, format!("{}\n", Fernet::generate_key()).as_bytes())
            .map_err(|e| CipherError::Keys(format!("{}: {e}", path.display())))?;
    }
    let raw = files::read_private(path).map_err(CipherError::Keys)?;
    let text = String::from_utf8(raw).map_err(|_| CipherError::Keys(format!("{} is not text", path.display())))?;
    Ok(text.split([',', '\n']).map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_first_key_encrypts_while_the_old_one_still_decrypts() {
        let old = Fernet::generate_key();
        let new = Fernet::generate_key();
        let before = StateCipher::from_keys(std::slice::from_ref(&old)).unwrap();
        let sealed_before = before.encrypt(b"state");
        let after = StateCipher::from_keys(&[new.clone(), old]).unwrap();
        assert_eq!(after.decrypt(&sealed_before).unwrap(), b"state");
        let sealed_after = after.encrypt(b"state");
        let only_new = StateCipher::from_keys(&[new]).unwrap();
        assert_eq!(only_new.decrypt(&sealed_after).unwrap(), b"state");
        assert!(only_new.decrypt(&sealed_before).is_err());
        assert!(!after.is_current(&sealed_before) && after.is_current(&sealed_after));
        let resealed = after.reseal(&sealed_before).unwrap().unwrap();
        assert_eq!(only_new.decrypt(&resealed).unwrap(), b"state");
        assert_eq!(after.reseal(&resealed).unwrap(), None, "already under the first key");
        assert!(only_new.reseal(&sealed_before).is_err());
    }
}
