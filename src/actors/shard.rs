//! Shard supervisors: each supervises one shard of a kind's actors — forgets stopped children,
//! restarts failed ones within a restart intensity (past which it fails, and the root replaces
//! it through [`ShardRestart`]), and stops idle ones when the passivation ticker asks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};

use super::directory::{
    read, shard_index, write, ActorError, Msg, ShardMsg, Shards, Shared, Slot, VirtualKind, MAX_RESTARTS,
    RESTART_WINDOW,
};

/// Replaces the failed shard supervisors of one directory, whatever its kind: the root holds
/// one per directory, type-erased, and is told of a failure only by the dead supervisor's id.
pub trait ShardRestart: Send + Sync + 'static {
    /// `session` or `lockout`.
    fn kind(&self) -> &'static str;
    /// The index of the shard `supervisor` currently serves, if it is one of this directory's.
    fn index_of(&self, supervisor: &ActorId) -> Option<usize>;
    /// Forgets every actor of shard `index`, whose supervisor `dead` has failed, and kills the
    /// ones still running; gives how many were forgotten. Their successors activate lazily.
    fn purge(&self, index: usize, dead: &ActorId) -> usize;
    /// Starts a fresh supervisor for shard `index` linked to `root` and swaps it in for `dead`.
    /// Gives `false` when the slot no longer holds `dead` (already replaced).
    fn restart(&self, index: usize, dead: ActorId, root: ActorCell) -> BoxFuture<'_, Result<bool, ActorError>>;
}

pub(super) struct Restarter<K: VirtualKind> {
    pub(super) shared: Arc<Shared<K>>,
    pub(super) shards: Shards,
}

impl<K: VirtualKind> ShardRestart for Restarter<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn index_of(&self, supervisor: &ActorId) -> Option<usize> {
        self.shards.iter().position(|slot| read(slot).get_id() == *supervisor)
    }

    fn purge(&self, index: usize, dead: &ActorId) -> usize {
        let Some(slot) = self.shards.get(index) else { return 0 };
        // The write lock waits out activations that saw the supervisor still running; later
        // ones see it stopping and refuse, and the slot keeps the dead supervisor until the
        // fresh one is swapped in. So right now every actor of this shard's keys is one the
        // dead supervisor owned (ractor killed and unlinked them without telling anyone), and
        // they are found by their key's hash: no per-actor record of its supervisor is kept.
        if write(slot).get_id() != *dead {
            return 0;
        }
        let count = self.shards.len();
        let mut orphans = Vec::new();
        self.shared.live.retain(|key, slot| {
            let mine = shard_index(key, count) == index;
            if mine {
                orphans.push(slot.actor.clone());
            }
            !mine
        });
        // A child spawned while its supervisor was dying may have linked to it afterwards and
        // outlived it: kill it too, so no actor of this shard runs unsupervised.
        orphans.iter().for_each(|actor| actor.kill());
        let mut forgotten = 0;
        self.shared.keys_by_actor.retain(|_, key| {
            let mine = shard_index(key, count) == index;
            forgotten += usize::from(mine);
            !mine
        });
        let metrics = &self.shared.metrics;
        metrics.actor_live.with_label_values(&[K::KIND]).sub(forgotten as i64);
        metrics.supervisor_children.with_label_values(&[&shard_name::<K>(index), K::KIND]).set(0);
        forgotten
    }

    fn restart(&self, index: usize, dead: ActorId, root: ActorCell) -> BoxFuture<'_, Result<bool, ActorError>> {
        Box::pin(async move {
            let Some(slot) = self.shards.get(index) else { return Ok(false) };
            if read(slot).get_id() != dead {
                return Ok(false);
            }
            let fresh = spawn_shard(&self.shared, index, root).await?;
            *write(slot) = fresh;
            Ok(true)
        })
    }
}

pub(super) fn shard_name<K: VirtualKind>(index: usize) -> String {
    format!("{}-shard-{index}", K::KIND)
}

pub(super) async fn spawn_shard<K: VirtualKind>(
    shared: &Arc<Shared<K>>,
    index: usize,
    root: ActorCell,
) -> Result<ActorRef<ShardMsg>, ActorError> {
    let supervisor = ShardSupervisor { shared: shared.clone(), name: shard_name::<K>(index) };
    let (shard, _) = Actor::spawn_linked(None, supervisor, (), root).await?;
    Ok(shard)
}

pub(super) fn spawn_child<K: VirtualKind>(
    shared: &Arc<Shared<K>>,
    key: K::Key,
    shard: ActorCell,
) -> Result<Arc<Slot<Msg<K>>>, ActorError> {
    let (actor, _) = ractor::ActorRuntime::spawn_linked_instant(None, shared.kind.behaviour(), key.clone(), shard)?;
    shared.keys_by_actor.insert(actor.get_id(), key);
    shared.metrics.actor_live.with_label_values(&[K::KIND]).inc();
    Ok(Arc::new(Slot { actor, last_used_ms: AtomicU64::new(shared.now_ms()) }))
}

/// Supervises one shard of a kind's actors: forgets stopped children, restarts failed ones
/// (within a restart intensity, past which it fails and the root replaces it), stops idle ones.
struct ShardSupervisor<K: VirtualKind> {
    shared: Arc<Shared<K>>,
    name: String,
}

struct ShardState {
    recent_restarts: VecDeque<Instant>,
}

impl<K: VirtualKind> Actor for ShardSupervisor<K> {
    type Msg = ShardMsg;
    type State = ShardState;
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<ShardMsg>, _: ()) -> Result<ShardState, ActorProcessingErr> {
        Ok(ShardState { recent_restarts: VecDeque::new() })
    }

    async fn handle(
        &self,
        myself: ActorRef<ShardMsg>,
        message: ShardMsg,
        _state: &mut ShardState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ShardMsg::Passivate(idle) => {
                let cutoff = self.shared.now_ms().saturating_sub(idle.as_millis() as u64);
                let mine = myself.get_children();
                // Set here, once a round, not at every supervision event: counting children
                // clones the whole list, and 100k passivations would clone it 100k times.
                self.shared
                    .metrics
                    .supervisor_children
                    .with_label_values(&[self.name.as_str(), K::KIND])
                    .set(mine.len() as i64);
                for child in mine {
                    let Some(key) = self.shared.keys_by_actor.get(&child.get_id()).map(|k| k.clone()) else { continue };
                    let idle_child = self
                        .shared
                        .live
                        .get(&key)
                        .is_some_and(|slot| slot.last_used_ms.load(Ordering::Relaxed) < cutoff);
                    if idle_child {
                        child.stop(Some("passivated".into()));
                    }
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<ShardMsg>,
        event: SupervisionEvent,
        state: &mut ShardState,
    ) -> Result<(), ActorProcessingErr> {
        // Overridden on purpose: ractor's default stops the supervisor when any child stops,
        // and a passivating child stops normally all the time.
        let metrics = &self.shared.metrics;
        let labels = [self.name.as_str(), K::KIND];
        match event {
            SupervisionEvent::ActorStarted(_) | SupervisionEvent::ProcessGroupChanged(_) => {}
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                self.forget(&cell);
                if reason.as_deref() == Some("passivated") {
                    metrics.actor_passivations.with_label_values(&[K::KIND]).inc();
                }
            }
            SupervisionEvent::ActorFailed(cell, error) => {
                let key = self.forget(&cell);
                metrics.actor_failures.with_label_values(&[K::KIND]).inc();
                metrics.supervisor_failures.with_label_values(&labels).inc();
                tracing::error!(kind = K::KIND, supervisor = %self.name, error = %error, "actor failed");
                let now = Instant::now();
                state.recent_restarts.retain(|at| now.duration_since(*at) < RESTART_WINDOW);
                if state.recent_restarts.len() >= MAX_RESTARTS {
                    tracing::error!(kind = K::KIND, supervisor = %self.name, "restart intensity exceeded; escalating");
                    return Err(
                        format!("{}: more than {MAX_RESTARTS} restarts in {RESTART_WINDOW:?}", self.name).into()
                    );
                }
                if let Some(key) = key {
                    state.recent_restarts.push_back(now);
                    // The successor reloads the persisted state on its first message; an
                    // acknowledged change was persisted before it was acknowledged.
                    if let dashmap::Entry::Vacant(vacant) = self.shared.live.entry(key.clone()) {
                        let slot = spawn_child(&self.shared, key, myself.get_cell())?;
                        vacant.insert(slot);
                    }
                    metrics.actor_restarts.with_label_values(&[K::KIND]).inc();
                    metrics.supervisor_restarts.with_label_values(&labels).inc();
                }
            }
        }
        Ok(())
    }
}

impl<K: VirtualKind> ShardSupervisor<K> {
    fn forget(&self, cell: &ActorCell) -> Option<K::Key> {
        let (_, key) = self.shared.keys_by_actor.remove(&cell.get_id())?;
        self.shared.live.remove_if(&key, |_, slot| slot.actor.get_id() == cell.get_id());
        self.shared.metrics.actor_live.with_label_values(&[K::KIND]).dec();
        Some(key)
    }
}
