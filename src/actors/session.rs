//! The session actor: one per session id, the single writer of that session's state on this
//! node. It validates access tokens from memory, serialises refresh rotations (of N concurrent
//! rotations of one token exactly one wins), and persists every change before answering.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use uuid::Uuid;

use super::directory::VirtualKind;
use super::persist::{ActorContext, PersistError};
use crate::domain::session::{RotateOutcome, TokenHash, Validity};
use crate::domain::{EndReason, SessionState};
use crate::store::{pseudonym, Cache, SessionRow};

pub const KIND: &str = "session";

pub fn cache_key(id: Uuid) -> String {
    format!("session:{id}")
}

/// The pseudonym under which a user's sessions are found.
pub fn user_ref(user_id: Uuid) -> String {
    pseudonym("session-user", &user_id.to_string())
}

type Reply<T> = RpcReplyPort<Result<T, PersistError>>;

/// What a session actor is asked.
pub enum SessionMsg {
    /// Persist a new session (both stores) and own it.
    Create(Box<SessionState>, Reply<()>),
    /// The verdict for an access token of this session; `None`: no such session.
    Validate(Option<IpAddr>, Reply<Option<Validity>>),
    /// Spend `presented` and make `new_hash` current; `None`: no such session.
    Rotate {
        presented: TokenHash,
        new_hash: TokenHash,
        ip: Option<IpAddr>,
        reply: Reply<Option<RotateOutcome>>,
    },
    /// End the session; answers its final state when it was active until now.
    End(EndReason, Reply<Option<SessionState>>),
    Snapshot(Reply<Option<SessionState>>),
    /// Another node wrote `version`: drop an older copy.
    Invalidate(i64),
    /// Test hook: panic while handling, to exercise the supervisor.
    InjectFault,
}

pub struct SessionKind {
    pub ctx: Arc<ActorContext>,
}

impl VirtualKind for SessionKind {
    type Key = Uuid;
    type Actor = SessionActor;
    const KIND: &'static str = KIND;
    fn behaviour(&self) -> SessionActor {
        SessionActor { ctx: self.ctx.clone() }
    }
}

pub struct SessionActor {
    ctx: Arc<ActorContext>,
}

/// What the actor holds: not read from the stores yet, known not to exist, or the state.
enum Loaded {
    Unread,
    Missing,
    Live(Box<SessionState>),
}

pub struct SessionActorState {
    id: Uuid,
    loaded: Loaded,
    /// Held while the state is an active session: counts it in the active-sessions gauge.
    counted: Option<ActiveCount>,
}

/// One active session in the gauge. The count is taken back when this is dropped, which
/// happens with the actor's state whichever way the actor ends: stopped, passivated, or
/// panicked (ractor skips `post_stop` after a panic, so a decrement there would drift).
struct ActiveCount(prometheus::IntGauge);

impl ActiveCount {
    fn new(gauge: &prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for ActiveCount {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl SessionActor {
    async fn load(&self, id: Uuid, fresh: bool) -> Result<Loaded, PersistError> {
        if !fresh {
            if let Some(state) = self.ctx.cached::<SessionState>(&cache_key(id)).await {
                return Ok(Loaded::Live(Box::new(state)));
            }
        }
        let started = Instant::now();
        let row = self.ctx.stores.db.session(id).await?;
        self.ctx.observe("database", "session_get", started);
        let Some(row) = row else { return Ok(Loaded::Missing) };
        let state: SessionState = self
            .ctx
            .open(&row.state)
            .ok_or_else(|| PersistError::Unavailable(format!("session {id}: state does not decrypt")))?;
        if state.is_active {
            let sealed = self.ctx.seal(&state)?;
            if let Err(e) = self
                .ctx
                .stores
                .cache
                .put_versioned(&cache_key(id), state.version, &sealed, state.remaining(Utc::now()))
                .await
            {
                tracing::debug!(error = %e, "could not warm the cache");
            }
        }
        Ok(Loaded::Live(Box::new(state)))
    }

    async fn ensure_loaded(&self, state: &mut SessionActorState) -> Result<(), PersistError> {
        if matches!(state.loaded, Loaded::Unread) {
            state.loaded = self.load(state.id, false).await?;
            self.count(state);
        }
        Ok(())
    }

    fn count(&self, state: &mut SessionActorState) {
        let active = matches!(&state.loaded, Loaded::Live(s) if s.is_active);
        if active != state.counted.is_some() {
            state.counted = active.then(|| ActiveCount::new(&self.ctx.metrics.active_sessions));
        }
    }

    /// Writes `next` over the stored `expected_version` (0: insert), then mirrors it.
    async fn persist(&self, next: &SessionState, expected_version: i64) -> Result<(), PersistError> {
        let sealed = self.ctx.seal(next)?;
        let row = SessionRow {
            id: next.session_id,
            user_ref: user_ref(next.user_id),
            state: sealed.clone(),
            version: next.version,
            expires_at: next.expires_at,
            is_active: next.is_active,
            created_at: next.created_at,
        };
        let started = Instant::now();
        let written = if expected_version == 0 {
            self.ctx.stores.db.insert_session(&row).await.map(|_| true)
        } else {
            self.ctx.stores.db.update_session(&row, expected_version).await
        };
        self.ctx.observe("database", "session_write", started);
        if !written? {
            return Err(PersistError::Conflict);
        }
        let id = next.session_id.to_string();
        if next.is_active {
            self.ctx
                .mirror(KIND, &id, &cache_key(next.session_id), next.version, &sealed, next.remaining(Utc::now()))
                .await;
        } else {
            self.ctx.forget(KIND, &id, &cache_key(next.session_id), next.version).await;
        }
        Ok(())
    }

    /// Applies `change` to the current state and persists it; when another node won the
    /// write, reloads the winner's state from the database and applies `change` to that.
    async fn change<T>(
        &self,
        state: &mut SessionActorState,
        change: impl Fn(&mut SessionState) -> (bool, T),
    ) -> Result<Option<T>, PersistError> {
        for _ in 0..3 {
            self.ensure_loaded(state).await?;
            let Loaded::Live(current) = &state.loaded else { return Ok(None) };
            let mut next = (**current).clone();
            let (changed, outcome) = change(&mut next);
            if !changed {
                return Ok(Some(outcome));
            }
            match self.persist(&next, current.version).await {
                Ok(()) => {
                    state.loaded = Loaded::Live(Box::new(next));
                    self.count(state);
                    return Ok(Some(outcome));
                }
                Err(PersistError::Conflict) => state.loaded = self.load(state.id, true).await?,
                Err(e) => return Err(e),
            }
        }
        Err(PersistError::Conflict)
    }

    /// An ended or expired session's actor stops, and its cache entry goes.
    fn stop_if_over(&self, myself: &ActorRef<SessionMsg>, state: &SessionActorState) {
        if let Loaded::Live(s) = &state.loaded {
            if !s.is_active || Utc::now() >= s.expires_at {
                myself.stop(Some("ended".into()));
            }
        } else if matches!(state.loaded, Loaded::Missing) {
            myself.stop(Some("unknown".into()));
        }
    }
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionActorState;
    type Arguments = Uuid;

    async fn pre_start(
        &self,
        _myself: ActorRef<SessionMsg>,
        id: Uuid,
    ) -> Result<SessionActorState, ActorProcessingErr> {
        Ok(SessionActorState { id, loaded: Loaded::Unread, counted: None })
    }

    async fn handle(
        &self,
        myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        state: &mut SessionActorState,
    ) -> Result<(), ActorProcessingErr> {
        // Boxed on purpose: the task of every idle actor would otherwise reserve room for the
        // largest handling future (store and cache round trips) for its whole life.
        Box::pin(self.handle_message(myself, message, state)).await
    }
}

impl SessionActor {
    async fn handle_message(
        &self,
        myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        state: &mut SessionActorState,
    ) -> Result<(), ActorProcessingErr> {
        let started = Instant::now();
        let now = Utc::now();
        match message {
            SessionMsg::Create(new, reply) => {
                let result = self.persist(&new, 0).await;
                if result.is_ok() {
                    state.loaded = Loaded::Live(new);
                    self.count(state);
                }
                let _ = reply.send(result);
            }
            SessionMsg::Validate(ip, reply) => {
                let result = self.ensure_loaded(state).await.map(|()| match &mut state.loaded {
                    Loaded::Live(s) => {
                        let verdict = s.validity(now, ip);
                        if verdict == Validity::Valid {
                            s.last_seen_at = now;
                        }
                        Some(verdict)
                    }
                    _ => None,
                });
                let _ = reply.send(result);
                self.stop_if_over(&myself, state);
            }
            SessionMsg::Rotate { presented, new_hash, ip, reply } => {
                let grace = self.ctx.reuse_grace;
                let result = self.change(state, |s| s.rotate(&presented, new_hash, ip, now, grace)).await;
                let _ = reply.send(result);
                self.stop_if_over(&myself, state);
            }
            SessionMsg::End(reason, reply) => {
                let result = self.change(state, |s| {
                    let ended = s.end(reason, now);
                    (ended, ended.then(|| s.clone()))
                });
                let _ = reply.send(result.await.map(Option::flatten));
                self.stop_if_over(&myself, state);
            }
            SessionMsg::Snapshot(reply) => {
                let result = self.ensure_loaded(state).await.map(|()| match &state.loaded {
                    Loaded::Live(s) => Some((**s).clone()),
                    _ => None,
                });
                let _ = reply.send(result);
            }
            SessionMsg::Invalidate(version) => {
                if matches!(&state.loaded, Loaded::Live(s) if s.version < version) {
                    state.loaded = Loaded::Unread;
                    self.count(state);
                }
            }
            SessionMsg::InjectFault => panic!("fault injected into session actor {}", state.id),
        }
        self.ctx.metrics.actor_handle.with_label_values(&[KIND]).observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}
