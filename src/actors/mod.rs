//! The supervision tree. Every live session and every lockout counter is a virtual actor
//! (ractor) that owns its encrypted state and persists it write-through; HTTP handlers send
//! them messages through [`ActorSystem`].
//!
//! ```text
//! Root ─┬─ session-shard-0..N ── SessionActor{id}
//!       ├─ lockout-shard-0..N ── LockoutActor{key}
//!       └─ janitor
//! ```
//!
//! One-for-one at both levels: a shard supervisor restarts a failed actor; a shard supervisor
//! that fails (its children failed too often) is replaced by the root, alone, while the other
//! shards and their actors run on. A janitor that fails is replaced by the root too.

pub mod directory;
pub mod janitor;
pub mod lockout;
pub mod persist;
pub mod session;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use serde::Serialize;
use uuid::Uuid;

pub use directory::{ActorError, Directory, ShardRestart};
pub use lockout::{LockoutKind, LockoutMsg, Subject};
pub use persist::{ActorContext, PersistError};
pub use session::{SessionKind, SessionMsg};

use crate::auth::TokenIssuer;
use crate::store::Cache;
use crate::telemetry::{histogram_quantile, Metrics};

/// The running actor system of one node.
pub struct ActorSystem {
    pub sessions: Directory<SessionKind>,
    pub lockouts: Directory<LockoutKind>,
    pub ctx: Arc<ActorContext>,
    root: ActorRef<RootMsg>,
    started: Instant,
    /// The passivation ticker and the cross-node listener, aborted at shutdown.
    background: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

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
enum RootMsg {
    /// Look after the shards of a directory: replace them when they fail.
    Adopt(Arc<dyn ShardRestart>, RpcReplyPort<()>),
    /// Start a fresh supervisor for shard `index` of directory `directory` in place of `dead`.
    Restart { directory: usize, index: usize, dead: ActorId },
    /// Start the janitor as the root's child, and again whenever it fails.
    StartJanitor(janitor::Janitor, RpcReplyPort<Result<(), String>>),
    /// Start a new janitor in place of `dead`, with the settings of the last one.
    RestartJanitor { dead: ActorId },
    /// Test hook: forwards [`janitor::JanitorMsg::InjectFault`] to the current janitor.
    InjectJanitorFault,
}

/// Owns the shards and the janitor. Replaces a failed shard supervisor or janitor
/// (one-for-one: the others are untouched); logs anything else that stops, and keeps running.
struct Root {
    metrics: Arc<Metrics>,
}

/// The running janitor and what it takes to start another.
struct JanitorSlot {
    settings: janitor::Janitor,
    actor: ActorRef<janitor::JanitorMsg>,
}

struct RootState {
    directories: Vec<Arc<dyn ShardRestart>>,
    janitor: Option<JanitorSlot>,
    recent_escalations: VecDeque<Instant>,
}

/// The names the root's metrics and logs give the janitor (supervisor and kind alike).
const JANITOR: &str = "janitor";

impl Root {
    async fn start_janitor(
        myself: &ActorRef<RootMsg>,
        settings: janitor::Janitor,
        state: &mut RootState,
    ) -> Result<(), String> {
        let (actor, _) =
            Actor::spawn_linked(None, settings.clone(), (), myself.get_cell()).await.map_err(|e| e.to_string())?;
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

/// How the system is laid out.
#[derive(Debug, Clone)]
pub struct ActorSettings {
    pub shards: usize,
    pub idle_passivate: Duration,
    pub janitor_interval: Duration,
    pub audit_retention: Option<Duration>,
}

impl ActorSystem {
    pub async fn start(
        ctx: Arc<ActorContext>,
        tokens: Arc<TokenIssuer>,
        settings: ActorSettings,
    ) -> Result<Arc<Self>, ActorError> {
        let (root, _) = Actor::spawn(None, Root { metrics: ctx.metrics.clone() }, ())
            .await
            .map_err(|e| ActorError::Unreachable(e.to_string()))?;
        let sessions =
            Directory::start(SessionKind { ctx: ctx.clone() }, settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        let lockouts =
            Directory::start(LockoutKind { ctx: ctx.clone() }, settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        for restarter in [sessions.restarter(), lockouts.restarter()] {
            // A call, not a cast: the root knows the shards before any traffic can fail them.
            match root.call(|reply| RootMsg::Adopt(restarter, reply), Some(Duration::from_secs(5))).await {
                Ok(CallResult::Success(())) => {}
                _ => return Err(ActorError::Unreachable("the root did not adopt the shards".into())),
            }
        }
        let janitor = janitor::Janitor {
            ctx: ctx.clone(),
            tokens,
            interval: settings.janitor_interval,
            audit_retention: settings.audit_retention,
        };
        match root.call(|reply| RootMsg::StartJanitor(janitor, reply), Some(Duration::from_secs(5))).await {
            Ok(CallResult::Success(Ok(()))) => {}
            Ok(CallResult::Success(Err(e))) => return Err(ActorError::Unreachable(format!("the janitor: {e}"))),
            _ => return Err(ActorError::Unreachable("the root did not start the janitor".into())),
        }
        let system = Arc::new(Self {
            sessions,
            lockouts,
            ctx,
            root,
            started: Instant::now(),
            background: std::sync::Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&system);
        let idle = settings.idle_passivate;
        let tick = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        let passivator = tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            loop {
                interval.tick().await;
                let Some(system) = weak.upgrade() else { break };
                system.sessions.tick(idle).await;
                system.lockouts.tick(idle).await;
            }
        });
        let listener = Self::listen_for_changes(&system);
        if let Ok(mut handles) = system.background.lock() {
            handles.extend([passivator, listener]);
        }
        Ok(system)
    }

    /// Drops this node's copy of state that another node changed.
    fn listen_for_changes(system: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let mut events = system.ctx.stores.cache.subscribe();
        let node_id = system.ctx.node_id;
        let system = Arc::downgrade(system);
        tokio::spawn(async move {
            loop {
                let message = match events.recv().await {
                    Ok(message) => message,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let Some(system) = system.upgrade() else { break };
                let Some(event) = crate::store::cache::ChangeEvent::parse(&message) else { continue };
                if event.node_id == node_id {
                    continue;
                }
                match event.kind.as_str() {
                    session::KIND => {
                        if let Some(actor) = event.id.parse::<Uuid>().ok().and_then(|id| system.sessions.live(&id)) {
                            let _ = actor.send_message(SessionMsg::Invalidate(event.version));
                        }
                    }
                    lockout::KIND => {
                        if let Some(actor) = system.lockouts.live(&event.id) {
                            let _ = actor.send_message(LockoutMsg::Invalidate(event.version));
                        }
                    }
                    _ => {}
                }
            }
        })
    }

    /// Test hook: makes the live actor of `session_id` panic.
    pub fn inject_session_fault(&self, session_id: Uuid) -> bool {
        self.sessions.live(&session_id).is_some_and(|actor| actor.send_message(SessionMsg::InjectFault).is_ok())
    }

    /// Test hook: makes the janitor panic.
    pub fn inject_janitor_fault(&self) {
        let _ = self.root.send_message(RootMsg::InjectJanitorFault);
    }

    /// Stops every actor gracefully, then the tree.
    pub async fn shutdown(&self) {
        if let Ok(mut handles) = self.background.lock() {
            handles.drain(..).for_each(|h| h.abort());
        }
        self.sessions.stop_all(Duration::from_secs(5)).await;
        self.lockouts.stop_all(Duration::from_secs(5)).await;
        self.root.stop(Some("shutdown".into()));
    }

    /// Crash simulation for tests: the tree is killed without any graceful stop.
    pub fn kill(&self) {
        if let Ok(mut handles) = self.background.lock() {
            handles.drain(..).for_each(|h| h.abort());
        }
        self.root.kill();
    }

    /// The operators' view: `GET /api/v1/admin/actors`.
    pub fn snapshot(&self, node: &str) -> ActorsView {
        let m = &self.ctx.metrics;
        let kinds = [session::KIND, lockout::KIND]
            .into_iter()
            .map(|kind| {
                let handle = m.actor_handle.with_label_values(&[kind]);
                KindView {
                    kind,
                    live: m.actor_live.with_label_values(&[kind]).get(),
                    activations: m.actor_activations.with_label_values(&[kind]).get(),
                    passivations: m.actor_passivations.with_label_values(&[kind]).get(),
                    restarts: m.actor_restarts.with_label_values(&[kind]).get(),
                    failures: m.actor_failures.with_label_values(&[kind]).get(),
                    mailbox_depth: m.actor_mailbox.with_label_values(&[kind]).get(),
                    handle_time_ms: Quantiles {
                        p50: histogram_quantile(&handle, 0.5) * 1_000.0,
                        p99: histogram_quantile(&handle, 0.99) * 1_000.0,
                    },
                }
            })
            .collect();
        let mut supervisors = Vec::new();
        for (kind, shards) in [(session::KIND, self.sessions.shard_refs()), (lockout::KIND, self.lockouts.shard_refs())]
        {
            for (index, shard) in shards.iter().enumerate() {
                let name = format!("{kind}-shard-{index}");
                supervisors.push(SupervisorView {
                    children: shard.get_children().len(),
                    restarts: m.supervisor_restarts.with_label_values(&[&name, kind]).get(),
                    failures: m.supervisor_failures.with_label_values(&[&name, kind]).get(),
                    name,
                    kind,
                });
            }
        }
        ActorsView { node: node.to_owned(), uptime_s: self.started.elapsed().as_secs(), kinds, supervisors }
    }
}

#[derive(Debug, Serialize)]
pub struct ActorsView {
    pub node: String,
    pub uptime_s: u64,
    pub kinds: Vec<KindView>,
    pub supervisors: Vec<SupervisorView>,
}

#[derive(Debug, Serialize)]
pub struct KindView {
    pub kind: &'static str,
    pub live: i64,
    pub activations: u64,
    pub passivations: u64,
    pub restarts: u64,
    pub failures: u64,
    pub mailbox_depth: i64,
    pub handle_time_ms: Quantiles,
}

#[derive(Debug, Serialize)]
pub struct Quantiles {
    pub p50: f64,
    pub p99: f64,
}

#[derive(Debug, Serialize)]
pub struct SupervisorView {
    pub name: String,
    pub kind: &'static str,
    pub children: usize,
    pub restarts: u64,
    pub failures: u64,
}
