//! bcrypt, always on a bounded set of blocking threads: logins queue for a slot while the
//! async workers stay free for token checks. Unknown accounts are checked against a dummy
//! hash so that response time does not tell whether an email exists.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// Hashes and verifies passwords off the async runtime.
pub struct PasswordHasher {
    rounds: u32,
    slots: Arc<Semaphore>,
    /// Logins waiting for a bcrypt slot (exported as a metric).
    queued: AtomicI64,
    dummy_hash: OnceLock<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("bcrypt failed")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("the hashing pool is closed")]
    PoolClosed(#[from] tokio::sync::AcquireError),
    #[error("a hashing task did not finish")]
    Task(#[from] tokio::task::JoinError),
}

impl PasswordHasher {
    pub fn new(rounds: u32, workers: usize) -> Self {
        Self {
            rounds,
            slots: Arc::new(Semaphore::new(workers.max(1))),
            queued: AtomicI64::new(0),
            dummy_hash: OnceLock::new(),
        }
    }

    pub fn queue_depth(&self) -> i64 {
        self.queued.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = Zeroizing::new(password.to_owned());
        let rounds = self.rounds;
        Ok(self.run(move || bcrypt::hash(password.as_bytes(), rounds)).await??)
    }

    /// Checks `password` against `hash`, or against a dummy hash of the same cost when there
    /// is no account, so both cases take the same time. Returns true only for a real match.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, HashError> {
        let has_account = hash.is_some();
        let hash = match hash {
            Some(hash) => hash.to_owned(),
            None => self.dummy_hash().await?,
        };
        let password = Zeroizing::new(password.to_owned());
        let matched = self.run(move || bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false)).await?;
        Ok(matched && has_account)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = self.hash("tradesage-dummy-password-for-timing").await?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        self.queued.fetch_add(1, Ordering::Relaxed);
        let permit = self.slots.clone().acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        let permit = permit?;
        let result = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(4, 2);
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = PasswordHasher::new(4, 1);
        assert!(!hasher.verify("tradesage-dummy-password-for-timing", None).await.unwrap());
    }
}
