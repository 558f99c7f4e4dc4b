//! The root of the supervision tree: it owns every directory's shard supervisors and the
//! janitor, replaces one that fails (one-for-one, under a restart intensity that slows
//! replacements of children that keep failing), and never stops before shutdown.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use super::directory::ShardRestart;
use super::janitor;
use crate::telemetry::Metrics;

/// Root restart intensity: past this many failures of its children (shard supervisors and the
/// janitor) in [`ROOT_WINDOW`], each further replacement waits [`ROOT_BACKOFF`] times the
/// excess, at most [`ROOT_MAX_BACKOFF`].
///
/// The root never gives up on a shard: a shard left dead would refuse a fixed share of the
/// users, and stopping the root would stop them all. But a shard only fails after
/// `MAX_RESTARTS` failed actors in a row, each a store round trip, so shards failing again
/// and again mean a cause that a restart does not cure (a store down, a poisoned state);
/// replacing them at once would spin on it. The wait is a timer message, not a sleep, so the
/// root keeps handling the other shards meanwhile.
const ROOT_MAX_ESCALATIONS: usize = 3;
const ROOT_WINDOW: Duration = Duration::from_secs(60);
const ROOT_BACKOFF: Duration = Duration::from_secs(1);
const ROOT_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Messages of the root.
pub(super) enum RootMsg {
    /// Look after the shards of a directory: replace them when they fail.
    Adopt(Arc<dyn ShardRestart>, RpcReplyPort<()>),
    /// Start a fresh supervisor for shard `index` of directory `directory` in place of `dead`.
    Restart { directory: usize, index: usize, dead: ActorId },
    /// Start the janitor as the root's child, and again whenever it fails.
    StartJanitor(janitor::Janitor, RpcReplyPort<Result<(), ractor::SpawnErr>>),
    /// Start a new janitor in place of `dead`, with the settings of the last one.
    RestartJanitor { dead: ActorId },
    /// Test hook: forwards [`janitor::JanitorMsg::InjectFault`] to the current janitor.
    #[cfg(feature = "test-hooks")]
    InjectJanitorFault,
}

/// Owns the shards and the janitor. Replaces a failed shard supervisor or janitor
/// (one-for-one: the others are untouched); logs anything else that stops, and keeps running.
pub(super) struct Root {
    metrics: Arc<Metrics>,
    escalations: Arc<Escalations>,
}

/// When a child of the root last failed to it, for the health check (a tree that escalated in
/// the last minute is degraded) without scanning counters.
#[derive(Debug, Default)]
pub struct Escalations(std::sync::Mutex<Option<Instant>>);

impl Escalations {
    fn record(&self) {
        match self.0.lock() {
            Ok(mut last) => *last = Some(Instant::now()),
            Err(poisoned) => *poisoned.into_inner() = Some(Instant::now()),
        }
    }

    /// The moment of the latest escalation since the node started, if any.
    pub fn last(&self) -> Option<Instant> {
        match self.0.lock() {
            Ok(last) => *last,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

/// The running janitor and what it takes to start another.
struct JanitorSlot {
    settings: janitor::Janitor,
    actor: ActorRef<janitor::JanitorMsg>,
}

pub(super) struct RootState {
    directories: Vec<Arc<dyn ShardRestart>>,
    janitor: Option<JanitorSlot>,
    recent_escalations: VecDeque<Instant>,
}

/// The names the root's metrics and logs give the janitor (supervisor and kind alike).
const JANITOR: &str = "janitor";

impl Root {
    pub(super) fn new(metrics: Arc<Metrics>, escalations: Arc<Escalations>) -> Self {
        Self { metrics, escalations }
    }

    async fn start_janitor(
        myself: &ActorRef<RootMsg>,
        settings: janitor::Janitor,
        state: &mut RootState,
    ) -> Result<(), ractor::SpawnErr> {
        let (actor, _) = Actor::spawn_linked(None, settings.clone(), (), myself.get_cell()).await?;
        state.janitor = Some(JanitorSlot { settings, actor });
        Ok(())
    }

    /// Counts a failed child against the restart intensity; returns how long its replacement
    /// should wait (zero: at once).
    fn escalation_wait(state: &mut RootState) -> Duration {
        let now = Instant::now();
        state.recent_escalations.retain(|at| now.duration_since(*at) < ROOT_WINDOW);
        state.recent_escalations.push_back(now);
        let excess = state.recent_escalations.len().saturating_sub(ROOT_MAX_ESCALATIONS);
        (ROOT_BACKOFF * excess as u32).min(ROOT_MAX_BACKOFF)
    }
}

impl Actor for Root {
    type Msg = RootMsg;
    type State = RootState;
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<RootMsg>, _: ()) -> Result<RootState, ActorProcessingErr> {
        Ok(RootState { directories: Vec::new(), janitor: None, recent_escalations: VecDeque::new() })
    }

    async fn handle(
        &self,
        myself: ActorRef<RootMsg>,
        message: RootMsg,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RootMsg::Adopt(directory, reply) => {
                state.directories.push(directory);
                let _ = reply.send(());
            }
            RootMsg::Restart { directory, index, dead } => {
                let Some(restarter) = state.directories.get(directory) else { return Ok(()) };
                let kind = restarter.kind();
                let name = format!("{kind}-shard-{index}");
                match restarter.restart(index, dead, myself.get_cell()).await {
                    Ok(true) => {
                        self.metrics.root_restarts.with_label_values(&[&name, kind]).inc();
                        tracing::warn!(kind, supervisor = %name, "the root restarted a failed shard supervisor");
                    }
                    Ok(false) => {}
                    Err(error) => {
                        // Spawning a supervisor does no I/O, so this is next to impossible;
                        // try again later rather than leave the shard dead.
                        tracing::error!(kind, supervisor = %name, error = %error, "restarting a shard supervisor failed");
                        myself.send_after(ROOT_MAX_BACKOFF, move || RootMsg::Restart { directory, index, dead });
                    }
                }
            }
            RootMsg::StartJanitor(settings, reply) => {
                let _ = reply.send(Self::start_janitor(&myself, settings, state).await);
            }
            RootMsg::RestartJanitor { dead } => {
                // Only the janitor that failed is replaced: a late timer finds a newer one.
                let Some(slot) = state.janitor.as_ref().filter(|slot| slot.actor.get_id() == dead) else {
                    return Ok(());
                };
                let settings = slot.settings.clone();
                match Self::start_janitor(&myself, settings, state).await {
                    Ok(()) => {
                        self.metrics.root_restarts.with_label_values(&[JANITOR, JANITOR]).inc();
                        tracing::warn!("the root restarted the janitor");
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "restarting the janitor failed; trying again later");
                        myself.send_after(ROOT_MAX_BACKOFF, move || RootMsg::RestartJanitor { dead });
                    }
                }
            }
            #[cfg(feature = "test-hooks")]
            RootMsg::InjectJanitorFault => {
                if let Some(slot) = &state.janitor {
                    let _ = slot.actor.send_message(janitor::JanitorMsg::InjectFault);
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<RootMsg>,
        event: SupervisionEvent,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        // Overridden on purpose: ractor's default stops the root when any child stops.
        match event {
            SupervisionEvent::ActorFailed(cell, error) => {
                let dead = cell.get_id();
                if state.janitor.as_ref().is_some_and(|slot| slot.actor.get_id() == dead) {
                    self.metrics.root_escalations.with_label_values(&[JANITOR, JANITOR]).inc();
                    self.escalations.record();
                    // One restart intensity for all the root's children, as in OTP: a janitor
                    // failing again and again also slows shard replacements, and vice versa.
                    let wait = Self::escalation_wait(state);
                    tracing::error!(error = %error, wait_ms = wait.as_millis() as u64, "the janitor failed; the root replaces it");
                    if wait.is_zero() {
                        return self.handle(myself, RootMsg::RestartJanitor { dead }, state).await;
                    }
                    myself.send_after(wait, move || RootMsg::RestartJanitor { dead });
                    return Ok(());
                }
                let shard = state
                    .directories
                    .iter()
                    .enumerate()
                    .find_map(|(directory, r)| r.index_of(&dead).map(|index| (directory, index)));
                let Some((directory, index)) = shard else {
                    tracing::error!(actor = %dead, error = %error, "a supervisor escalated a failure to the root");
                    return Ok(());
                };
                let kind = state.directories[directory].kind();
                let name = format!("{kind}-shard-{index}");
                self.metrics.root_escalations.with_label_values(&[&name, kind]).inc();
                self.escalations.record();
                // ractor killed the children without telling anyone: drop them from the
                // directory now (their successors reload from the stores when next asked).
                let purged = state.directories[directory].purge(index, &dead);
                tracing::error!(
                    kind,
                    supervisor = %name,
                    error = %error,
                    purged,
                    "a shard supervisor failed; the root replaces it"
                );
                let wait = Self::escalation_wait(state);
                if wait.is_zero() {
                    return self.handle(myself, RootMsg::Restart { directory, index, dead }, state).await;
                }
                tracing::error!(
                    kind,
                    supervisor = %name,
                    failed_shards = state.recent_escalations.len(),
                    window_s = ROOT_WINDOW.as_secs(),
                    wait_ms = wait.as_millis() as u64,
                    "shard supervisors keep failing; the restart waits"
                );
                myself.send_after(wait, move || RootMsg::Restart { directory, index, dead });
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                // Not restarted: shards and the janitor stop normally only at shutdown, or (a
                // shard) when a directory recycles an empty supervisor it has already replaced.
                tracing::info!(actor = %cell.get_id(), reason = reason.as_deref().unwrap_or(""), "supervisor stopped");
            }
            _ => {}
        }
        Ok(())
    }
}
