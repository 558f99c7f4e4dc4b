//! The supervision tree. Every live session, every lockout counter and every pending
//! two-factor sign-in is a virtual actor (ractor) that owns its encrypted state and persists
//! it write-through; HTTP handlers send them messages through [`ActorSystem`].
//!
//! ```text
//! Root ─┬─ session-shard-0..N ── PersistentActor<SessionRules>{id}
//!       ├─ lockout-shard-0..N ── PersistentActor<LockoutRules>{key}
//!       ├─ mfa_challenge-shard-0..N ── PersistentActor<ChallengeRules>{token hash}
//!       ├─ api_key-shard-0..N ── PersistentActor<ApiKeyRules>{key id}
//!       └─ janitor
//! ```
//!
//! One-for-one at both levels: a shard supervisor restarts a failed actor; a shard supervisor
//! that fails (its children failed too often) is replaced by the root, alone, while the other
//! shards and their actors run on. A janitor that fails is replaced by the root too.

pub mod api_key;
pub mod cluster;
pub mod directory;
pub mod history;
pub mod janitor;
pub mod lockout;
pub mod mfa_challenge;
pub mod mfa_state;
pub mod persist;
pub mod persistent_actor;
mod resync;
mod root;
pub mod sealed;
pub mod session;
mod shard;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use root::Escalations;
use root::{Root, RootMsg};

pub use api_key::{ApiKeyKind, ApiKeyMsg, KeyGrant};
pub use directory::{ActorError, Directory, Reply, ShardRestart};
pub use lockout::{LockoutKind, LockoutMsg, Subject};
pub use mfa_challenge::{ChallengeKind, ChallengeMsg};
pub use persist::{ActorContext, PersistError, Persisted, Persistent};
pub use session::{SessionKind, SessionMsg};

use crate::auth::TokenIssuer;
use crate::store::Cache;
use crate::telemetry::{histogram_buckets, histogram_quantile};

/// The running actor system of one node.
pub struct ActorSystem {
    pub sessions: Directory<SessionKind>,
    pub lockouts: Directory<LockoutKind>,
    /// Pending two-factor sign-ins.
    pub challenges: Directory<ChallengeKind>,
    /// API keys in use.
    pub api_keys: Directory<ApiKeyKind>,
    pub ctx: Arc<ActorContext>,
    root: ActorRef<RootMsg>,
    /// When a child of the root last failed to it.
    pub escalations: Arc<Escalations>,
    started: Instant,
    /// The passivation ticker and the cross-node listener, aborted at shutdown.
    background: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
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
        let escalations = Arc::new(Escalations::default());
        let (root, _) = Actor::spawn(None, Root::new(ctx.metrics.clone(), escalations.clone()), ()).await?;
        let sessions =
            Directory::start(SessionKind::new(ctx.clone()), settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        let lockouts =
            Directory::start(LockoutKind::new(ctx.clone()), settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        let challenges =
            Directory::start(ChallengeKind::new(ctx.clone()), settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        let api_keys =
            Directory::start(ApiKeyKind::new(ctx.clone()), settings.shards, ctx.metrics.clone(), root.get_cell())
                .await?;
        for restarter in [sessions.restarter(), lockouts.restarter(), challenges.restarter(), api_keys.restarter()] {
            // A call, not a cast: the root knows the shards before any traffic can fail them.
            match root.call(|reply| RootMsg::Adopt(restarter, reply), Some(Duration::from_secs(5))).await {
                Ok(CallResult::Success(())) => {}
                _ => return Err(ActorError::Unreachable { reason: "the root did not adopt the shards" }),
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
            Ok(CallResult::Success(Err(e))) => return Err(ActorError::Spawn(e)),
            _ => return Err(ActorError::Unreachable { reason: "the root did not start the janitor" }),
        }
        let system = Arc::new(Self {
            sessions,
            lockouts,
            challenges,
            api_keys,
            ctx,
            root,
            escalations,
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
                system.challenges.tick(idle).await;
                system.api_keys.tick(idle).await;
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
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Events were lost: no copy here can be trusted to be current.
                        let Some(system) = system.upgrade() else { break };
                        system.resync();
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let Some(system) = system.upgrade() else { break };
                let Some(event) = crate::store::cache::ChangeEvent::parse(&message) else { continue };
                if event.kind == crate::store::cache::RESYNC {
                    system.resync();
                    continue;
                }
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
                    mfa_challenge::KIND => {
                        if let Some(actor) = system.challenges.live(&event.id) {
                            let _ = actor.send_message(ChallengeMsg::Invalidate(event.version));
                        }
                    }
                    api_key::KIND => {
                        if let Some(actor) = event.id.parse::<Uuid>().ok().and_then(|id| system.api_keys.live(&id)) {
                            let _ = actor.send_message(ApiKeyMsg::Invalidate(event.version));
                        }
                    }
                    _ => {}
                }
            }
        })
    }

    /// Test hook: makes the live actor of `session_id` panic.
    #[cfg(feature = "test-hooks")]
    pub fn inject_session_fault(&self, session_id: Uuid) -> bool {
        self.sessions.live(&session_id).is_some_and(|actor| actor.send_message(SessionMsg::InjectFault).is_ok())
    }

    /// Test hook: makes the janitor panic.
    #[cfg(feature = "test-hooks")]
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
        self.challenges.stop_all(Duration::from_secs(5)).await;
        self.api_keys.stop_all(Duration::from_secs(5)).await;
        self.root.stop(Some("shutdown".into()));
    }

    /// Crash simulation for tests: the tree is killed without any graceful stop.
    #[cfg(feature = "test-hooks")]
    pub fn kill(&self) {
        if let Ok(mut handles) = self.background.lock() {
            handles.drain(..).for_each(|h| h.abort());
        }
        self.root.kill();
    }

    /// What this node's actor system looks like now (the operators' view).
    pub fn snapshot(&self, node: &str) -> ActorsSnapshot {
        let m = &self.ctx.metrics;
        let kinds = [session::KIND, lockout::KIND, mfa_challenge::KIND, api_key::KIND]
            .into_iter()
            .map(|kind| {
                let handle = m.actor_handle.with_label_values(&[kind]);
                let (handle_buckets, handled) = histogram_buckets(&handle);
                KindSnapshot {
                    kind: kind.to_owned(),
                    live: m.actor_live.with_label_values(&[kind]).get(),
                    activations: m.actor_activations.with_label_values(&[kind]).get(),
                    passivations: m.actor_passivations.with_label_values(&[kind]).get(),
                    restarts: m.actor_restarts.with_label_values(&[kind]).get(),
                    failures: m.actor_failures.with_label_values(&[kind]).get(),
                    mailbox_depth: m.actor_mailbox.with_label_values(&[kind]).get(),
                    handle_p50_ms: histogram_quantile(&handle, 0.5) * 1_000.0,
                    handle_p99_ms: histogram_quantile(&handle, 0.99) * 1_000.0,
                    handled,
                    handle_buckets,
                }
            })
            .collect();
        let mut supervisors = Vec::new();
        let directories = [
            (session::KIND, self.sessions.shard_refs()),
            (lockout::KIND, self.lockouts.shard_refs()),
            (mfa_challenge::KIND, self.challenges.shard_refs()),
            (api_key::KIND, self.api_keys.shard_refs()),
        ];
        for (kind, shards) in directories {
            for (index, shard) in shards.iter().enumerate() {
                let name = format!("{kind}-shard-{index}");
                supervisors.push(SupervisorSnapshot {
                    children: shard.get_children().len() as u64,
                    restarts: m.supervisor_restarts.with_label_values(&[&name, kind]).get(),
                    failures: m.supervisor_failures.with_label_values(&[&name, kind]).get(),
                    name,
                    kind: kind.to_owned(),
                });
            }
        }
        ActorsSnapshot { node: node.to_owned(), uptime_s: self.started.elapsed().as_secs(), kinds, supervisors }
    }
}

/// One node's actor system at a moment: plain data (the HTTP layer has its view of it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActorsSnapshot {
    pub node: String,
    pub uptime_s: u64,
    pub kinds: Vec<KindSnapshot>,
    pub supervisors: Vec<SupervisorSnapshot>,
}

/// The actors of one kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KindSnapshot {
    pub kind: String,
    pub live: i64,
    pub activations: u64,
    pub passivations: u64,
    pub restarts: u64,
    pub failures: u64,
    pub mailbox_depth: i64,
    pub handle_p50_ms: f64,
    pub handle_p99_ms: f64,
    /// Messages handled since the node started (the handle-time histogram's count).
    #[serde(default)]
    pub handled: u64,
    /// The handle-time histogram (seconds): finite upper bounds with cumulative counts, so
    /// that a quantile of any interval is the quantile of two readings' difference.
    #[serde(default)]
    pub handle_buckets: Vec<(f64, u64)>,
}

/// One shard supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SupervisorSnapshot {
    pub name: String,
    pub kind: String,
    pub children: u64,
    pub restarts: u64,
    pub failures: u64,
}
