//! The session actor: one per session id, the single writer of that session's state on this
//! node. It validates access tokens from memory, serialises refresh rotations (of N concurrent
//! rotations of one token exactly one wins), and persists every change before answering.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::directory::Reply;
use super::persist::{version_in_field, ActorContext, Persistent};
use super::persistent_actor::{Held, PersistentKind, Rules};
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
    version_in_field!();

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

/// The rules of session actors.
pub struct SessionRules;

/// The directory's kind for sessions.
pub type SessionKind = PersistentKind<SessionRules>;

/// What a session actor keeps beside its stored state.
#[derive(Default)]
pub struct SessionMemory {
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

impl Held<SessionRules> {
    /// The state as callers should see it: with the latest validation's last-seen time.
    fn view(&self) -> Option<SessionState> {
        let mut state = self.stored.current()?.clone();
        if let Some(seen) = self.memory.seen.filter(|seen| *seen > state.last_seen_at) {
            state.last_seen_at = seen;
        }
        Some(state)
    }

    /// Brings the active-sessions gauge in step with the state; called before each reply, so
    /// whoever got the answer sees the gauge that goes with it.
    fn count(&mut self, ctx: &ActorContext) {
        let active = self.stored.current().is_some_and(|s| s.is_active);
        if active != self.memory.counted.is_some() {
            self.memory.counted = active.then(|| ActiveCount::new(&ctx.metrics.active_sessions));
        }
    }

    /// Writes the last validation's time when it is newer than the stored one by `at_least`.
    async fn flush_last_seen(&mut self, ctx: &ActorContext, at_least: chrono::Duration) {
        let Some(seen) = self.memory.seen else { return };
        let due = self.stored.current().is_some_and(|s| s.is_active && seen - s.last_seen_at >= at_least);
        if !due {
            return;
        }
        let flushed = self
            .stored
            .flush(ctx, "a session's last-seen time", |s| {
                let newer = s.is_active && seen > s.last_seen_at;
                if newer {
                    s.last_seen_at = seen;
                }
                newer
            })
            .await;
        if flushed {
            // Otherwise kept in memory; the next validation or the passivation tries again.
            self.memory.seen = None;
        }
    }
}

#[async_trait]
impl Rules for SessionRules {
    type State = SessionState;
    type Msg = SessionMsg;
    type Memory = SessionMemory;

    async fn handle(ctx: &ActorContext, message: SessionMsg, held: &mut Held<Self>) {
        let now = Utc::now();
        match message {
            SessionMsg::Create(new, reply) => {
                let created = held.stored.create(ctx, *new).await;
                held.count(ctx);
                let _ = reply.send(created);
            }
            SessionMsg::Validate(ip, reply) => {
                let verdict = held.stored.load(ctx).await.map(|s| s.map(|s| s.validity(now, ip)));
                if matches!(verdict, Ok(Some(Validity::Valid))) {
                    held.memory.seen = Some(now);
                }
                held.count(ctx);
                let _ = reply.send(verdict);
                held.flush_last_seen(ctx, LAST_SEEN_EVERY).await;
            }
            SessionMsg::Rotate { presented, new_hash, ip, reply } => {
                let grace = ctx.reuse_grace;
                let rotated =
                    held.stored.change(ctx, || None, |s| s.rotate(&presented, new_hash, ip, now, grace)).await;
                held.count(ctx);
                let _ = reply.send(rotated.map(|outcome| outcome.zip(held.view())));
            }
            SessionMsg::End(reason, reply) => {
                let ended = held.stored.change(
                    ctx,
                    || None,
                    |s| {
                        let ended = s.end(reason, now);
                        (ended, ended)
                    },
                );
                // Only the message that ended it answers the final state (once, for the audit).
                let ended = ended.await.map(|ended| if ended == Some(true) { held.view() } else { None });
                held.count(ctx);
                let _ = reply.send(ended);
            }
            SessionMsg::Snapshot(reply) => {
                let loaded = held.stored.load(ctx).await.map(|_| ());
                held.count(ctx);
                let _ = reply.send(loaded.map(|()| held.view()));
            }
            SessionMsg::Invalidate(version) => {
                held.stored.invalidate(version);
                held.count(ctx);
            }
            #[cfg(feature = "test-hooks")]
            SessionMsg::InjectFault => panic!("fault injected into session actor {}", held.stored.key()),
        }
    }

    /// An ended, expired or unknown session has nothing left to guard.
    fn is_over(held: &Held<Self>) -> bool {
        let over = held.stored.current().is_some_and(|s| !s.is_active || Utc::now() >= s.expires_at);
        held.stored.is_missing() || over
    }

    /// The last-seen time is not lost with the actor.
    async fn on_stop(ctx: &ActorContext, held: &mut Held<Self>) {
        held.flush_last_seen(ctx, chrono::Duration::zero()).await;
    }
}
