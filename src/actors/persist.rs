//! The persistent-actor core, shared by every kind of actor that owns stored state (sessions,
//! lockout counters, …): loading on activation (the cache, checked against the database's
//! version, else the database), sealing, the write-through (database compare-and-set on
//! `version`, then the cache, then an announcement to the other nodes) and the retry when
//! another node won the write. Each actor keeps only its messages and their rules.
//!
//! A new kind of persistent actor is a state type implementing [`Persistent`], a message enum
//! and a handler that calls [`Persisted::change`].

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::StateCipher;
use crate::domain::LockoutPolicy;
use crate::store::cache::ChangeEvent;
use crate::store::{Cache, Database, StoreError, StoreResult, Stores};
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

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Other writers kept winning the compare-and-set (another node, again and again).
    #[error("version conflict: another writer kept winning")]
    Conflict,
    #[error("the state could not be stored or read")]
    Store(#[from] StoreError),
    /// The stored state does not decrypt, does not parse, or belongs to another key.
    #[error("stored {kind} state {key} is unreadable")]
    Unreadable { kind: &'static str, key: String },
    #[error("the state could not be serialised")]
    Serialise(#[from] serde_json::Error),
}

/// A state a persistent actor owns. It is sealed (serialised, Fernet-encrypted) before it
/// leaves the actor; its `version` orders every write (compare-and-set in the database, newest
/// wins in the cache).
#[async_trait]
pub trait Persistent: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind: the label of its metrics, its cache keys and its cross-node events.
    const KIND: &'static str;
    /// What an actor of this kind is found by.
    type Key: Clone + Eq + Hash + Debug + Display + Send + Sync + 'static;

    fn version(&self) -> i64;
    fn set_version(&mut self, version: i64);
    /// Whether this opened state is the one of `key`. A sealed value copied under another
    /// key (a bug, or someone with write access to Redis) is refused, not served.
    fn belongs_to(&self, key: &Self::Key) -> bool;
    /// How long the cache keeps this version (ended states too: they are tombstones that an
    /// older copy cannot overwrite).
    fn cache_ttl(&self, now: DateTime<Utc>) -> Duration;

    /// The stored version and sealed state of `key`.
    async fn read(db: &dyn Database, key: &Self::Key) -> StoreResult<Option<(i64, String)>>;
    /// Only the stored version: what an activation checks a cache entry against.
    async fn read_version(db: &dyn Database, key: &Self::Key) -> StoreResult<Option<i64>>;
    /// Writes `sealed` (this state, already at its new version) where the stored version is
    /// `expected` (0: insert unless a row exists). False when another writer won.
    async fn write(&self, db: &dyn Database, key: &Self::Key, sealed: &str, expected: i64) -> StoreResult<bool>;
}

/// The `version` and `set_version` of a [`Persistent`] state that keeps its version in a
/// field named `version`: written once here instead of in every kind.
macro_rules! version_in_field {
    () => {
        fn version(&self) -> i64 {
            self.version
        }

        fn set_version(&mut self, version: i64) {
            self.version = version;
        }
    };
}
pub(crate) use version_in_field;

/// How many times a change is tried when other writers keep winning the compare-and-set.
const CHANGE_ATTEMPTS: usize = 4;

/// What an actor holds: not read from the stores yet, known not to exist, or the state.
enum Loaded<S> {
    Unread,
    Missing,
    Live(Box<S>),
}

/// The state of one persistent actor, with the operations that keep it and the stores in step.
pub struct Persisted<S: Persistent> {
    key: S::Key,
    loaded: Loaded<S>,
}

impl<S: Persistent> Persisted<S> {
    pub fn new(key: S::Key) -> Self {
        Self { key, loaded: Loaded::Unread }
    }

    pub fn key(&self) -> &S::Key {
        &self.key
    }

    /// The state in memory, if loaded and stored.
    pub fn current(&self) -> Option<&S> {
        match &self.loaded {
            Loaded::Live(state) => Some(state),
            _ => None,
        }
    }

    /// For changes that live in memory only until a later write (last-seen times).
    pub fn current_mut(&mut self) -> Option<&mut S> {
        match &mut self.loaded {
            Loaded::Live(state) => Some(state),
            _ => None,
        }
    }

    /// Known not to exist in the stores.
    pub fn is_missing(&self) -> bool {
        matches!(self.loaded, Loaded::Missing)
    }

    /// Loads the state on first use; answers it (`None`: no such state).
    pub async fn load(&mut self, ctx: &ActorContext) -> Result<Option<&S>, PersistError> {
        if matches!(self.loaded, Loaded::Unread) {
            self.loaded = match ctx.activate::<S>(&self.key).await? {
                Some(state) => Loaded::Live(Box::new(state)),
                None => Loaded::Missing,
            };
        }
        Ok(self.current())
    }

    /// Stores a new state (version 1) and owns it.
    pub async fn create(&mut self, ctx: &ActorContext, mut state: S) -> Result<(), PersistError> {
        state.set_version(1);
        if !ctx.persist(&self.key, &state, 0).await? {
            return Err(PersistError::Conflict);
        }
        self.loaded = Loaded::Live(Box::new(state));
        Ok(())
    }

    /// Applies `change` to the current state — or, when none is stored, to `fresh` (which is
    /// then inserted) — and persists it when `change` says it changed something, at the next
    /// version. When another writer won, reloads the winner's state from the database and
    /// applies `change` to that. Answers `None` when there is no state and no `fresh` one.
    pub async fn change<T>(
        &mut self,
        ctx: &ActorContext,
        fresh: impl Fn() -> Option<S>,
        change: impl Fn(&mut S) -> (bool, T),
    ) -> Result<Option<T>, PersistError> {
        for _ in 0..CHANGE_ATTEMPTS {
            self.load(ctx).await?;
            let current = match &self.loaded {
                Loaded::Live(state) => (**state).clone(),
                _ => match fresh() {
                    Some(state) => state,
                    None => return Ok(None),
                },
            };
            let mut next = current.clone();
            let (changed, outcome) = change(&mut next);
            if !changed {
                if matches!(self.loaded, Loaded::Missing) {
                    // Nothing stored, nothing to store: the fresh state is what holds.
                    self.loaded = Loaded::Live(Box::new(current));
                }
                return Ok(Some(outcome));
            }
            next.set_version(current.version() + 1);
            if ctx.persist(&self.key, &next, current.version()).await? {
                self.loaded = Loaded::Live(Box::new(next));
                return Ok(Some(outcome));
            }
            // Another writer won: read what it wrote, bypassing a cache that may lag.
            self.loaded = match ctx.read_stored::<S>(&self.key).await? {
                Some(state) => Loaded::Live(Box::new(state)),
                None => Loaded::Missing,
            };
        }
        Err(PersistError::Conflict)
    }

    /// Stores a change that was kept in memory only until now (a last-seen time): `apply`
    /// makes it on the current state and says whether it changed anything. True when it is
    /// stored (or there was nothing to store); false when it could not be (logged): the caller
    /// keeps it in memory and tries again later.
    pub async fn flush(&mut self, ctx: &ActorContext, what: &str, apply: impl Fn(&mut S) -> bool) -> bool {
        match self.change(ctx, || None, |state| (apply(state), ())).await {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(error = %e, kind = S::KIND, "could not write {what}");
                false
            }
        }
    }

    /// Another node wrote `version`: an older copy here is dropped and reloaded when next asked.
    pub fn invalidate(&mut self, version: i64) {
        if matches!(&self.loaded, Loaded::Live(state) if state.version() < version) {
            self.loaded = Loaded::Unread;
        }
    }
}

/// The cache key of a persistent state.
pub fn cache_key<S: Persistent>(key: &S::Key) -> String {
    format!("{}:{key}", S::KIND)
}

impl ActorContext {
    pub fn seal<T: Serialize>(&self, state: &T) -> Result<String, PersistError> {
        Ok(self.cipher.encrypt(&serde_json::to_vec(state)?))
    }

    pub fn open<T: DeserializeOwned>(&self, sealed: &str) -> Option<T> {
        let json = self.cipher.decrypt(sealed).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// Opens a sealed state read under `key`, refusing one that does not decrypt or belongs
    /// to another key.
    fn open_state<S: Persistent>(&self, key: &S::Key, sealed: &str) -> Result<S, PersistError> {
        self.open::<S>(sealed)
            .filter(|state| state.belongs_to(key))
            .ok_or_else(|| PersistError::Unreadable { kind: S::KIND, key: key.to_string() })
    }

    /// The state of `key` as an activation finds it. The cache entry and the database's
    /// version are read at once; the entry is used only when it is the database's version
    /// (an end whose cache write was lost must not come back from an older copy), or when
    /// the database cannot answer (availability: the cache is then the best there is).
    /// Otherwise the database's row is read and the cache mended.
    async fn activate<S: Persistent>(&self, key: &S::Key) -> Result<Option<S>, PersistError> {
        let cache_key = cache_key::<S>(key);
        let started = Instant::now();
        let (cached, stored_version) =
            tokio::join!(self.stores.cache.get_versioned(&cache_key), S::read_version(self.stores.db.as_ref(), key));
        self.observe("cache", "get", started);
        let cached = match cached {
            Ok(entry) => entry,
            Err(e) => {
                tracing::debug!(error = %e, kind = S::KIND, "cache read failed; reading the database");
                None
            }
        };
        let usable = |entry: &Option<(i64, String)>, version: Option<i64>| -> Option<S> {
            let (cached_version, sealed) = entry.as_ref()?;
            if version.is_some_and(|v| v != *cached_version) {
                return None;
            }
            match self.open_state::<S>(key, sealed) {
                Ok(state) if state.version() == *cached_version => Some(state),
                _ => {
                    tracing::warn!(kind = S::KIND, "a cache entry does not open as its key's state; ignored");
                    None
                }
            }
        };
        match stored_version {
            Ok(None) => Ok(None),
            Ok(Some(version)) => match usable(&cached, Some(version)) {
                Some(state) => Ok(Some(state)),
                None => {
                    let state = self.read_stored::<S>(key).await?;
                    if let Some(state) = &state {
                        self.mirror_quietly(key, state).await;
                    }
                    Ok(state)
                }
            },
            Err(error) => match usable(&cached, None) {
                Some(state) => {
                    tracing::debug!(error = %error, kind = S::KIND, "database unreachable; activated from the cache");
                    Ok(Some(state))
                }
                None => Err(error.into()),
            },
        }
    }

    /// The state of `key` as the database holds it.
    async fn read_stored<S: Persistent>(&self, key: &S::Key) -> Result<Option<S>, PersistError> {
        let started = Instant::now();
        let row = S::read(self.stores.db.as_ref(), key).await;
        self.observe_kind::<S>("get", started);
        match row? {
            None => Ok(None),
            Some((version, sealed)) => {
                let mut state = self.open_state::<S>(key, &sealed)?;
                state.set_version(version);
                Ok(Some(state))
            }
        }
    }

    /// Writes `state` over the stored `expected` version (0: insert), then mirrors it into
    /// the cache and tells the other nodes. False when another writer won.
    async fn persist<S: Persistent>(&self, key: &S::Key, state: &S, expected: i64) -> Result<bool, PersistError> {
        let sealed = self.seal(state)?;
        let started = Instant::now();
        let written = state.write(self.stores.db.as_ref(), key, &sealed, expected).await;
        self.observe_kind::<S>("write", started);
        if !written? {
            return Ok(false);
        }
        self.mirror(key, state, &sealed).await;
        self.announce(S::KIND, &key.to_string(), state.version()).await;
        Ok(true)
    }

    /// Puts a version into the cache unless a newer one is there. Failures are logged, not
    /// returned: the database already holds the truth, and activations check against it.
    async fn mirror<S: Persistent>(&self, key: &S::Key, state: &S, sealed: &str) {
        let started = Instant::now();
        let ttl = state.cache_ttl(Utc::now());
        if let Err(e) = self.stores.cache.put_versioned(&cache_key::<S>(key), state.version(), sealed, ttl).await {
            cache_trouble(&e, S::KIND, "cache write failed; the database holds the state");
        }
        self.observe("cache", "put", started);
    }

    /// Mends the cache after an activation read the database (best effort).
    async fn mirror_quietly<S: Persistent>(&self, key: &S::Key, state: &S) {
        if let Ok(sealed) = self.seal(state) {
            self.mirror(key, state, &sealed).await;
        }
    }

    /// Tells the other nodes that `kind` `id` is at `version` now.
    pub async fn announce(&self, kind: &str, id: &str, version: i64) {
        let message = ChangeEvent { node_id: self.node_id, kind: kind.to_owned(), id: id.to_owned(), version }.render();
        if let Err(e) = self.stores.cache.publish(&message).await {
            cache_trouble(&e, kind, "could not tell other nodes of a change");
        }
    }

    fn observe_kind<S: Persistent>(&self, operation: &str, started: Instant) {
        self.observe("database", &format!("{}_{operation}", S::KIND), started);
    }

    pub fn observe(&self, store: &str, operation: &str, started: Instant) {
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
