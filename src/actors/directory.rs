//! Virtual actors: find the live actor for a key, or activate one, with no global lock (a
//! sharded map whose entry lock makes activation of one key happen once per node); shard
//! supervisors that restart failed children; idle passivation; per-kind metrics.
//!
//! A shard supervisor whose children fail too often fails itself; ractor then kills its
//! children and tells the root. The root replaces it through [`ShardRestart`]: the dead
//! shard's children are purged from the directory (their successors reload from the stores on
//! the next message) and a fresh supervisor is swapped into the shard's slot.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorId, ActorRef, RpcReplyPort, ACTIVE_STATES};

use super::persist::PersistError;
pub use super::shard::ShardRestart;
use super::shard::{spawn_child, spawn_shard, Restarter};
use crate::telemetry::Metrics;

/// How long a caller waits for an actor's answer before giving up.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Restart intensity: a failure after this many restarts in [`RESTART_WINDOW`] escalates to
/// the root.
pub const MAX_RESTARTS: usize = 20;
pub const RESTART_WINDOW: Duration = Duration::from_secs(10);
/// How many times [`Directory::call`] tries: a message that meets a stopping actor, or a key
/// whose shard is being replaced, is tried again after a short backoff.
const CALL_ATTEMPTS: u32 = 6;

/// A kind of virtual actor: how to make one for a key.
pub trait VirtualKind: Send + Sync + 'static {
    type Key: Clone + Eq + Hash + Debug + Send + Sync + 'static;
    type Actor: Actor<Arguments = Self::Key>;
    /// `session` or `lockout`: the label of its metrics.
    const KIND: &'static str;
    fn behaviour(&self) -> Self::Actor;
}

pub(super) type Msg<K> = <<K as VirtualKind>::Actor as Actor>::Msg;

/// A live actor and when it was last asked something.
pub struct Slot<M: ractor::Message> {
    pub actor: ActorRef<M>,
    pub(super) last_used_ms: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum ActorError {
    #[error("the actor did not answer in time")]
    Timeout,
    /// The actor (or its shard's supervisor) was not there to take the message, again and
    /// again: `reason` says what the last attempt met.
    #[error("the actor could not be reached: {reason}")]
    Unreachable { reason: &'static str },
    #[error("an actor could not be started")]
    Spawn(#[from] ractor::SpawnErr),
    /// The actor answered that its state could not be loaded or stored.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

/// What a request to an actor of a persistent kind is answered with.
pub type Reply<T> = RpcReplyPort<Result<T, PersistError>>;

/// Messages of a shard supervisor.
pub enum ShardMsg {
    /// Stop children idle for longer than the given time.
    Passivate(Duration),
}

pub(super) struct Shared<K: VirtualKind> {
    pub(super) kind: K,
    pub(super) live: DashMap<K::Key, Arc<Slot<Msg<K>>>>,
    pub(super) keys_by_actor: DashMap<ActorId, K::Key>,
    pub(super) metrics: Arc<Metrics>,
    epoch: Instant,
}

impl<K: VirtualKind> Shared<K> {
    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// The shard supervisors of a kind, by index. The root swaps a slot when it replaces a failed
/// supervisor. Activation takes the read lock (only on a miss) and holds it across the spawn,
/// so taking the write lock once waits out every spawn still linking to the old supervisor.
pub(super) type Shards = Arc<[RwLock<ActorRef<ShardMsg>>]>;

pub(super) fn read(slot: &RwLock<ActorRef<ShardMsg>>) -> RwLockReadGuard<'_, ActorRef<ShardMsg>> {
    // Nothing panics while holding the lock; if something did, the ref inside is still whole.
    slot.read().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn write(slot: &RwLock<ActorRef<ShardMsg>>) -> RwLockWriteGuard<'_, ActorRef<ShardMsg>> {
    slot.write().unwrap_or_else(PoisonError::into_inner)
}

/// Which shard a key belongs to: fixed for the life of the directory.
pub(super) fn shard_index<Q: Hash>(key: &Q, shard_count: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % shard_count as u64) as usize
}

/// A shard supervisor that has held at least this many children at once is replaced by a
/// fresh one when it stands empty. ractor keeps a supervisor's children in a map that never
/// shrinks (about 40 bytes per child at its largest), so after 100k sessions passivate the
/// shards would otherwise keep ~5 MB for life.
const RECYCLE_AFTER_CHILDREN: usize = 4_096;
/// How long a swapped-out shard supervisor is kept before it may stop (see
/// `recycle_empty_shards`).
const RETIRE_GRACE: Duration = Duration::from_secs(10);

/// The directory of one kind of actor.
pub struct Directory<K: VirtualKind> {
    shared: Arc<Shared<K>>,
    shards: Shards,
    /// The most children each shard's current supervisor was seen with, at ticks.
    peak_children: Box<[AtomicUsize]>,
    /// Replaced supervisors that still had children linked when they were swapped out;
    /// stopped once their last child is gone.
    retiring: std::sync::Mutex<Vec<(ActorRef<ShardMsg>, Instant)>>,
    root: ActorCell,
}

impl<K: VirtualKind> Directory<K> {
    /// Starts `shard_count` shard supervisors linked to `root`.
    pub async fn start(
        kind: K,
        shard_count: usize,
        metrics: Arc<Metrics>,
        root: ActorCell,
    ) -> Result<Self, ActorError> {
        let shared = Arc::new(Shared {
            kind,
            live: DashMap::new(),
            keys_by_actor: DashMap::new(),
            metrics,
            epoch: Instant::now(),
        });
        let mut shards = Vec::with_capacity(shard_count);
        for index in 0..shard_count.max(1) {
            shards.push(RwLock::new(spawn_shard(&shared, index, root.clone()).await?));
        }
        let peak_children = (0..shards.len()).map(|_| AtomicUsize::new(0)).collect();
        Ok(Self { shared, shards: shards.into(), peak_children, retiring: std::sync::Mutex::new(Vec::new()), root })
    }

    /// The index of the shard whose supervisor activates `key`.
    pub fn shard_index(&self, key: &K::Key) -> usize {
        shard_index(key, self.shards.len())
    }

    /// What the root needs to replace this directory's failed shard supervisors.
    pub fn restarter(&self) -> Arc<dyn ShardRestart> {
        Arc::new(Restarter { shared: self.shared.clone(), shards: self.shards.clone() })
    }

    /// The live actor for `key`, activating it when there is none. Activation only spawns: the
    /// actor loads its state from the stores when its first message arrives, so no lock is
    /// held across a store round trip.
    pub fn activate(&self, key: &K::Key) -> Result<Arc<Slot<Msg<K>>>, ActorError> {
        if let Some(slot) = self.shared.live.get(key) {
            return Ok(slot.clone());
        }
        let entry = self.shared.live.entry(key.clone());
        match entry {
            dashmap::Entry::Occupied(occupied) => Ok(occupied.get().clone()),
            dashmap::Entry::Vacant(vacant) => {
                // Held until the slot is in the map: see [`Shards`].
                let shard = read(&self.shards[self.shard_index(key)]);
                // A failed supervisor is Stopping before the root hears of it; until the root
                // swaps in a fresh one, a child linked to it would run unsupervised.
                if !ACTIVE_STATES.contains(&shard.get_status()) {
                    return Err(ActorError::Unreachable { reason: "the shard supervisor is being restarted" });
                }
                let slot = spawn_child(&self.shared, key.clone(), shard.get_cell())?;
                vacant.insert(slot.clone());
                drop(shard);
                self.shared.metrics.actor_activations.with_label_values(&[K::KIND]).inc();
                Ok(slot)
            }
        }
    }

    /// Sends a request to the actor of `key` and waits for its answer. A message that meets
    /// a stopping actor (passivated, restarted, or killed with its failed shard) is sent again
    /// to its successor.
    pub async fn call<R: Send + 'static>(
        &self,
        key: &K::Key,
        make: impl Fn(Reply<R>) -> Msg<K>,
    ) -> Result<R, ActorError> {
        let depth = self.shared.metrics.actor_mailbox.with_label_values(&[K::KIND]);
        let mut last_error = ActorError::Unreachable { reason: "no attempt was made" };
        for attempt in 0..CALL_ATTEMPTS {
            if attempt > 0 {
                // A successor is usually there at once (yield); a shard the root is replacing
                // takes a message round trip to the root, so back off a little (2..16 ms).
                match attempt {
                    1 => tokio::task::yield_now().await,
                    n => tokio::time::sleep(Duration::from_millis(1 << (n - 1))).await,
                }
            }
            let slot = match self.activate(key) {
                Ok(slot) => slot,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            slot.last_used_ms.store(self.shared.now_ms(), Ordering::Relaxed);
            depth.inc();
            let answer = slot.actor.call(&make, Some(CALL_TIMEOUT)).await;
            depth.dec();
            last_error = match answer {
                Ok(CallResult::Success(reply)) => return reply.map_err(ActorError::from),
                Ok(CallResult::Timeout) => return Err(ActorError::Timeout),
                Ok(CallResult::SenderError) => ActorError::Unreachable { reason: "the actor stopped before answering" },
                Err(_) => ActorError::Unreachable { reason: "the actor had stopped" },
            };
            // The actor is gone: forget it (if nobody replaced it yet) and try its successor.
            let gone = slot.actor.get_id();
            self.shared.live.remove_if(key, |_, s| s.actor.get_id() == gone);
        }
        Err(last_error)
    }

    /// The live actor of `key`, if any, without activating one.
    pub fn live(&self, key: &K::Key) -> Option<ActorRef<Msg<K>>> {
        self.shared.live.get(key).map(|slot| slot.actor.clone())
    }

    /// Every live actor of this kind on this node.
    pub fn live_actors(&self) -> Vec<ActorRef<Msg<K>>> {
        self.shared.live.iter().map(|slot| slot.actor.clone()).collect()
    }

    pub fn live_count(&self) -> usize {
        self.shared.live.len()
    }

    /// Asks every shard to stop its children idle for longer than `idle`; gives back the
    /// directory's room once most of it stands empty, so memory follows the live actors down.
    pub fn passivate_idle(&self, idle: Duration) {
        for (index, shard) in self.shards.iter().enumerate() {
            let shard = read(shard);
            // The peak is taken here, before the idle children stop: a burst that rose and
            // passivated between two ticks would otherwise never be seen by the recycling.
            self.peak_children[index].fetch_max(shard.get_children().len(), Ordering::Relaxed);
            let _ = shard.send_message(ShardMsg::Passivate(idle));
        }
        for (len, capacity) in [
            (self.shared.live.len(), self.shared.live.capacity()),
            (self.shared.keys_by_actor.len(), self.shared.keys_by_actor.capacity()),
        ] {
            if capacity > 1_024 && len * 4 < capacity {
                self.shared.live.shrink_to_fit();
                self.shared.keys_by_actor.shrink_to_fit();
                break;
            }
        }
    }

    /// One round of the passivation ticker: stops actors idle for longer than `idle`, then
    /// replaces the shard supervisors that stand empty after holding many children.
    pub async fn tick(&self, idle: Duration) {
        self.passivate_idle(idle);
        self.recycle_empty_shards(idle).await;
    }

    async fn recycle_empty_shards(&self, idle: Duration) {
        // A swapped-out supervisor is stopped once empty, but not before RETIRE_GRACE: an
        // actor spawned just before the swap links to its supervisor only when its task first
        // runs, so the old supervisor can still gain children for a moment (stopping it then
        // would leave them unsupervised). Until it stops it is asked to passivate like the rest.
        let mut retiring = std::mem::take(&mut *self.retiring.lock().unwrap_or_else(PoisonError::into_inner));
        retiring.retain(|(shard, swapped_at)| {
            let done = shard.get_children().is_empty() && swapped_at.elapsed() >= RETIRE_GRACE;
            if done {
                shard.stop(Some("recycled".into()));
            } else {
                let _ = shard.send_message(ShardMsg::Passivate(idle));
            }
            !done
        });
        for (index, slot) in self.shards.iter().enumerate() {
            let current = read(slot).clone();
            let children = current.get_children().len();
            let peak = self.peak_children[index].fetch_max(children, Ordering::Relaxed).max(children);
            if children > 0 || peak < RECYCLE_AFTER_CHILDREN || !ACTIVE_STATES.contains(&current.get_status()) {
                continue;
            }
            let Ok(fresh) = spawn_shard(&self.shared, index, self.root.clone()).await else { continue };
            {
                let mut guard = write(slot);
                if guard.get_id() != current.get_id() {
                    // The root replaced it meanwhile.
                    drop(guard);
                    fresh.stop(Some("recycled".into()));
                    continue;
                }
                *guard = fresh;
            }
            self.peak_children[index].store(0, Ordering::Relaxed);
            tracing::debug!(
                kind = K::KIND,
                shard = index,
                peak,
                "replaced an empty shard supervisor to free its child table"
            );
            retiring.push((current, Instant::now()));
        }
        self.retiring.lock().unwrap_or_else(PoisonError::into_inner).extend(retiring);
    }

    /// Stops every live actor gracefully (their `post_stop` flushes state) and waits for them.
    pub async fn stop_all(&self, timeout: Duration) {
        let actors: Vec<_> = self.shared.live.iter().map(|slot| slot.actor.clone()).collect();
        for actor in &actors {
            actor.stop(Some("shutdown".into()));
        }
        let deadline = Instant::now() + timeout;
        while !self.shared.live.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The current shard supervisors, by index.
    pub fn shard_refs(&self) -> Vec<ActorRef<ShardMsg>> {
        self.shards.iter().map(|slot| read(slot).clone()).collect()
    }
}
