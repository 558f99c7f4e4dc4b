//! The supervision tree. Every live session and every lockout counter is a virtual actor
//! (ractor) that owns its encrypted state and persists it write-through; HTTP handlers send
//! them messages through [`ActorSystem`].
//!
//! ```text
//! Root ─┬─ session-shard-0..N ── SessionActor{id}
//!       ├─ lockout-shard-0..N ── LockoutActor{key}
//!       └─ janitor
//! ```

pub mod directory;
pub mod janitor;
pub mod lockout;
pub mod persist;
pub mod session;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use serde::Serialize;
use uuid::Uuid;

pub use directory::{ActorError, Directory};
pub use lockout::{LockoutKind, LockoutMsg, Subject};
pub use persist::{ActorContext, PersistError};
pub use session::{SessionKind, SessionMsg};

use crate::auth::TokenIssuer;
use crate::store::Cache;
use crate::telemetry::histogram_quantile;

/// The running actor system of one node.
pub struct ActorSystem {
    pub sessions: Directory<SessionKind>,
    pub lockouts: Directory<LockoutKind>,
    pub ctx: Arc<ActorContext>,
    root: ActorRef<()>,
    started: Instant,
    /// The passivation ticker and the cross-node listener, aborted at shutdown.
    background: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Restarts nothing itself: it owns the shards and the janitor, logs and counts what they
/// escalate, and keeps running.
struct Root;

impl Actor for Root {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, error) => {
                tracing::error!(actor = %cell.get_id(), error = %error, "a supervisor escalated a failure to the root");
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
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
}

impl ActorSystem {
    pub async fn start(
        ctx: Arc<ActorContext>,
        tokens: Arc<TokenIssuer>,
        settings: ActorSettings,
    ) -> Result<Arc<Self>, ActorError> {
        let (root, _) = Actor::spawn(None, Root, ()).await.map_err(|e| ActorError::Unreachable(e.to_string()))?;
        let sessions =
            Directory::start(SessionKind { ctx: ctx.clone() }, settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        let lockouts =
            Directory::start(LockoutKind { ctx: ctx.clone() }, settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        let janitor = janitor::Janitor { ctx: ctx.clone(), tokens, interval: settings.janitor_interval };
        Actor::spawn_linked(None, janitor, (), root.get_cell())
            .await
            .map_err(|e| ActorError::Unreachable(e.to_string()))?;
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
                system.sessions.passivate_idle(idle);
                system.lockouts.passivate_idle(idle);
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
