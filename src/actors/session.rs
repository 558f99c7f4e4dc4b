//! The session actor: one per session id, the single writer of that session's state on this
//! node. It validates access tokens from memory, serialises refresh rotations (of N concurrent
//! rotations of one token exactly one wins), and persists every change before answering.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use uuid::Uuid;

use super::directory::{Reply, VirtualKind};
use super::persist::{ActorContext, Persisted, Persistent};
use crate::domain::session::{RotateOutcome, TokenHash, Validity};
use crate::domain::{EndReason, SessionState};
use crate::store::{pseudonym, Database, SessionRow, StoreError, StoreResult};

pub const KIND: &str = "session";

/// A validated session's last-seen time is written at most this often (and at passivation):
/// a write per request would turn every read into a database write.
const LAST_SEEN_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The pseudonym under which a user's sessions are found.
pub fn user_ref(user_id: Uuid) -> String {
    pseudonym("session-user", &user_id.to_string())
}

/// What a session actor is asked.
pub enum SessionMsg {
    /// Persist a new session (both stores) and own it.
    Create(Box<SessionState>, Reply<()>),
    /// The verdict for an access token of this session; `None`: no such session.
    Validate(Option<IpAddr>, Reply<Option<Validity>>),
    /// Spend `presented` and make `new_hash` current; answers what happened and the session
    /// after it. `None`: no such session.
    Rotate {
        presented: TokenHash,
        new_hash: TokenHash,
        ip: Option<IpAddr>,
        reply: Reply<Option<(RotateOutcome, SessionState)>>,
    },
    /// End the session; answers its final state when it was active until now.
    End(EndReason, Reply<Option<SessionState>>),
    Snapshot(Reply<Option<SessionState>>),
    /// Another node wrote `version`: drop an older copy.
    Invalidate(i64),
    /// Test hook: panic while handling, to exercise the supervisor.
    #[cfg(feature = "test-hooks")]
    InjectFault,
}

#[async_trait]
impl Persistent for SessionState {
    const KIND: &'static str = KIND;
    type Key = Uuid;

    fn version(&self) -> i64 {
        self.version
    }

    fn set_version(&mut self, version: i64) {
        self.version = version;
    }

    fn belongs_to(&self, key: &Uuid) -> bool {
        self.session_id == *key
    }

    fn cache_ttl(&self, now: DateTime<Utc>) -> Duration {
        self.remaining(now)
    }

    async fn read(db: &dyn Database, key: &Uuid) -> StoreResult<Option<(i64, String)>> {
        Ok(db.session(*key).await?.map(|row| (row.version, row.state)))
    }

    async fn read_version(db: &dyn Database, key: &Uuid) -> StoreResult<Option<i64>> {
        db.session_version(*key).await
    }

    async fn write(&self, db: &dyn Database, key: &Uuid, sealed: &str, expected: i64) -> StoreResult<bool> {
        let row = SessionRow {
            id: *key,
            user_ref: user_ref(self.user_id),
            state: sealed.to_owned(),
            version: self.version,
            expires_at: self.expires_at,
            is_active: self.is_active,
            created_at: self.created_at,
        };
        if expected != 0 {
            return db.update_session(&row, expected).await;
        }
        match db.insert_session(&row).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
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

pub struct SessionActorState {
    session: Persisted<SessionState>,
    /// The last successful validation not yet written (see [`LAST_SEEN_EVERY`]).
    seen: Option<DateTime<Utc>>,
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

impl SessionActorState {
    /// The state as callers should see it: with the latest validation's last-seen time.
    fn view(&self) -> Option<SessionState> {
        let mut state = self.session.current()?.clone();
        if let Some(seen) = self.seen.filter(|seen| *seen > state.last_seen_at) {
            state.last_seen_at = seen;
        }
        Some(state)
    }
}

impl SessionActor {
    /// Brings the active-sessions gauge in step with the state; called before each reply, so
    /// whoever got the answer sees the gauge that goes with it.
    fn count(&self, state: &mut SessionActorState) {
        let active = state.session.current().is_some_and(|s| s.is_active);
        if active != state.counted.is_some() {
            state.counted = active.then(|| ActiveCount::new(&self.ctx.metrics.active_sessions));
        }
    }

    /// Writes the last validation's time when it is newer than the stored one by `at_least`.
    async fn flush_last_seen(&self, state: &mut SessionActorState, at_least: chrono::Duration) {
        let Some(seen) = state.seen else { return };
        let due = state.session.current().is_some_and(|s| s.is_active && seen - s.last_seen_at >= at_least);
        if !due {
            return;
        }
        let written = state
            .session
            .change(
                &self.ctx,
                || None,
                |s| {
                    let newer = s.is_active && seen > s.last_seen_at;
                    if newer {
                        s.last_seen_at = seen;
                    }
                    (newer, ())
                },
            )
            .await;
        match written {
            Ok(_) => state.seen = None,
            // Kept in memory; the next validation or the passivation tries again.
            Err(e) => tracing::debug!(error = %e, "could not write a session's last-seen time"),
        }
    }

    /// An ended, expired or unknown session's actor stops: nothing is left for it to guard.
    fn stop_if_over(&self, myself: &ActorRef<SessionMsg>, state: &SessionActorState) {
        // Drained, not stopped: a stop would drop the messages already queued behind this one
        // (their callers would see "stopped before answering" and, under load, a 503); drained,
        // each is answered from the final state and later senders find a successor.
        let over = state.session.current().is_some_and(|s| !s.is_active || Utc::now() >= s.expires_at);
        if state.session.is_missing() || over {
            let _ = myself.drain();
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
        Ok(SessionActorState { session: Persisted::new(id), seen: None, counted: None })
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

    async fn post_stop(
        &self,
        _myself: ActorRef<SessionMsg>,
        state: &mut SessionActorState,
    ) -> Result<(), ActorProcessingErr> {
        // Passivation or shutdown: the last-seen time is not lost with the actor.
        Box::pin(self.flush_last_seen(state, chrono::Duration::zero())).await;
        Ok(())
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
        let ctx = &self.ctx;
        match message {
            SessionMsg::Create(new, reply) => {
                let created = state.session.create(ctx, *new).await;
                self.count(state);
                let _ = reply.send(created);
            }
            SessionMsg::Validate(ip, reply) => {
                let verdict = state.session.load(ctx).await.map(|s| s.map(|s| s.validity(now, ip)));
                if matches!(verdict, Ok(Some(Validity::Valid))) {
                    state.seen = Some(now);
                }
                self.count(state);
                let _ = reply.send(verdict);
                self.flush_last_seen(state, LAST_SEEN_EVERY).await;
            }
            SessionMsg::Rotate { presented, new_hash, ip, reply } => {
                let grace = ctx.reuse_grace;
                let rotated =
                    state.session.change(ctx, || None, |s| s.rotate(&presented, new_hash, ip, now, grace)).await;
                self.count(state);
                let _ = reply.send(rotated.map(|outcome| outcome.zip(state.view())));
            }
            SessionMsg::End(reason, reply) => {
                let ended = state.session.change(
                    ctx,
                    || None,
                    |s| {
                        let ended = s.end(reason, now);
                        (ended, ended)
                    },
                );
                // Only the message that ended it answers the final state (once, for the audit).
                let ended = ended.await.map(|ended| if ended == Some(true) { state.view() } else { None });
                self.count(state);
                let _ = reply.send(ended);
            }
            SessionMsg::Snapshot(reply) => {
                let loaded = state.session.load(ctx).await.map(|_| ());
                self.count(state);
                let _ = reply.send(loaded.map(|()| state.view()));
            }
            SessionMsg::Invalidate(version) => {
                state.session.invalidate(version);
                self.count(state);
            }
            #[cfg(feature = "test-hooks")]
            SessionMsg::InjectFault => panic!("fault injected into session actor {}", state.session.key()),
        }
        self.stop_if_over(&myself, state);
        self.ctx.metrics.actor_handle.with_label_values(&[KIND]).observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}
