//! Write-through persistence shared by the actors: state is serialised and Fernet-encrypted
//! before it leaves the actor, written to the database (compare-and-set on `version`) and then
//! to the cache, and announced to the other nodes — all before the change is acknowledged.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::StateCipher;
use crate::domain::LockoutPolicy;
use crate::store::cache::ChangeEvent;
use crate::store::{Cache, StoreError, Stores};
use crate::telemetry::Metrics;

/// What every actor needs: the stores, the cipher, metrics and the node's identity.
pub struct ActorContext {
    pub stores: Stores,
    pub cipher: Arc<StateCipher>,
    pub metrics: Arc<Metrics>,
    /// Tags this node's cross-node events so it ignores its own.
    pub node_id: Uuid,
    pub reuse_grace: chrono::Duration,
    pub lockout: LockoutPolicy,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PersistError {
    /// Another node wrote a newer version first.
    #[error("version conflict")]
    Conflict,
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for PersistError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(_) => PersistError::Conflict,
            other => PersistError::Unavailable(other.to_string()),
        }
    }
}

impl ActorContext {
    pub fn seal<T: Serialize>(&self, state: &T) -> Result<String, PersistError> {
        let json = serde_json::to_vec(state).map_err(|e| PersistError::Unavailable(e.to_string()))?;
        Ok(self.cipher.encrypt(&json))
    }

    pub fn open<T: DeserializeOwned>(&self, sealed: &str) -> Option<T> {
        let json = self.cipher.decrypt(sealed).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// Reads a sealed value from the cache; a miss, an outage or an unreadable value all
    /// answer `None` so the caller goes to the database.
    pub async fn cached<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let started = std::time::Instant::now();
        let found = self.stores.cache.get_versioned(key).await;
        self.observe("cache", "get", started);
        match found {
            Ok(Some((_, sealed))) => self.open(&sealed),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, "cache read failed; reading the database");
                None
            }
        }
    }

    /// Mirrors a persisted value into the cache and tells the other nodes. Failures here are
    /// logged, not returned: the database already holds the truth.
    pub async fn mirror(&self, kind: &str, id: &str, cache_key: &str, version: i64, sealed: &str, ttl: Duration) {
        let started = std::time::Instant::now();
        if let Err(e) = self.stores.cache.put_versioned(cache_key, version, sealed, ttl).await {
            cache_trouble(&e, kind, "cache write failed; the database holds the state");
        }
        self.observe("cache", "put", started);
        self.announce(kind, id, version).await;
    }

    /// Removes a value from the cache and tells the other nodes.
    pub async fn forget(&self, kind: &str, id: &str, cache_key: &str, version: i64) {
        if let Err(e) = self.stores.cache.delete(cache_key).await {
            cache_trouble(&e, kind, "cache delete failed");
        }
        self.announce(kind, id, version).await;
    }

    async fn announce(&self, kind: &str, id: &str, version: i64) {
        let message = ChangeEvent { node_id: self.node_id, kind: kind.to_owned(), id: id.to_owned(), version }.render();
        if let Err(e) = self.stores.cache.publish(&message).await {
            cache_trouble(&e, kind, "could not tell other nodes of a change");
        }
    }

    pub fn observe(&self, store: &str, operation: &str, started: std::time::Instant) {
        self.metrics.store_duration.with_label_values(&[store, operation]).observe(started.elapsed().as_secs_f64());
    }
}

/// Logs a cache failure: a warning when it is news, debug while the breaker is open (health
/// and the `cache_circuit_open` metric already say so; one line per request would flood).
fn cache_trouble(error: &StoreError, kind: &str, what: &str) {
    if matches!(error, StoreError::CircuitOpen) {
        tracing::debug!(error = %error, kind, "{what}");
    } else {
        tracing::warn!(error = %error, kind, "{what}");
    }
}
