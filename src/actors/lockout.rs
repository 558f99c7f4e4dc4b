//! The lockout actor: one per (tenant, normalised email), whether or not the account exists.
//! It counts failed logins, applies the ladder, and persists each change before answering, so
//! counts stay exact across restarts and across nodes (a lost compare-and-set reloads).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use uuid::Uuid;

use super::directory::VirtualKind;
use super::persist::{ActorContext, PersistError};
use crate::domain::{LockoutState, LockoutVerdict};
use crate::store::{pseudonym, LockoutRow};

pub const KIND: &str = "lockout";
/// Lockout state stays cached this long after its last change.
const CACHE_TTL: Duration = Duration::from_secs(7 * 86_400);

/// Whose counter: the tenant and the normalised email (kept in the encrypted state only).
#[derive(Debug, Clone)]
pub struct Subject {
    pub tenant_id: Uuid,
    pub email: String,
}

impl Subject {
    /// The actor key and the store key: a pseudonym, so no email sits in clear in a store.
    pub fn key(&self) -> String {
        pseudonym("lockout", &format!("{}:{}", self.tenant_id, self.email))
    }
}

fn cache_key(key: &str) -> String {
    format!("lockout:{key}")
}

type Reply<T> = RpcReplyPort<Result<T, PersistError>>;

pub enum LockoutMsg {
    Check(Subject, Reply<LockoutVerdict>),
    RecordFailure(Subject, Reply<LockoutVerdict>),
    /// Clears the failure count; answers the verdict after it (a lock set meanwhile by another
    /// node still refuses the login).
    RecordSuccess(Subject, Reply<LockoutVerdict>),
    Unlock(Subject, Reply<()>),
    Snapshot(Reply<Option<LockoutState>>),
    Invalidate(i64),
}

pub struct LockoutKind {
    pub ctx: Arc<ActorContext>,
}

impl VirtualKind for LockoutKind {
    type Key = String;
    type Actor = LockoutActor;
    const KIND: &'static str = KIND;
    fn behaviour(&self) -> LockoutActor {
        LockoutActor { ctx: self.ctx.clone() }
    }
}

pub struct LockoutActor {
    ctx: Arc<ActorContext>,
}

pub struct LockoutActorState {
    key: String,
    /// `None` until loaded; a counter never stored starts at version 0.
    loaded: Option<LockoutState>,
}

fn lock_ends_at(state: &LockoutState) -> Option<DateTime<Utc>> {
    if state.permanent {
        Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).single()
    } else {
        state.locked_until
    }
}

impl LockoutActor {
    async fn load(
        &self,
        key: &str,
        subject: Option<&Subject>,
        fresh: bool,
    ) -> Result<Option<LockoutState>, PersistError> {
        if !fresh {
            if let Some(state) = self.ctx.cached::<LockoutState>(&cache_key(key)).await {
                return Ok(Some(state));
            }
        }
        let started = Instant::now();
        let row = self.ctx.stores.db.lockout(key).await?;
        self.ctx.observe("database", "lockout_get", started);
        match row {
            Some(row) => self
                .ctx
                .open(&row.state)
                .map(Some)
                .ok_or_else(|| PersistError::Unavailable("lockout state does not decrypt".into())),
            None => Ok(subject.map(|s| LockoutState::new(s.tenant_id, s.email.clone()))),
        }
    }

    async fn persist(&self, key: &str, next: &LockoutState, expected_version: i64) -> Result<(), PersistError> {
        let sealed = self.ctx.seal(next)?;
        let row = LockoutRow {
            key: key.to_owned(),
            tenant_id: next.tenant_id,
            state: sealed.clone(),
            version: next.version,
            lock_ends_at: lock_ends_at(next),
            updated_at: Utc::now(),
        };
        let started = Instant::now();
        let written = self.ctx.stores.db.save_lockout(&row, expected_version).await?;
        self.ctx.observe("database", "lockout_write", started);
        if !written {
            return Err(PersistError::Conflict);
        }
        self.ctx.mirror(KIND, key, &cache_key(key), next.version, &sealed, CACHE_TTL).await;
        Ok(())
    }

    /// Applies `change`, persisting when it changed something; on a lost race, reloads the
    /// winner's state and applies `change` again.
    async fn change<T>(
        &self,
        state: &mut LockoutActorState,
        subject: &Subject,
        change: impl Fn(&mut LockoutState) -> (bool, T),
    ) -> Result<T, PersistError> {
        for attempt in 0..4 {
            if state.loaded.is_none() || attempt > 0 {
                state.loaded = self.load(&state.key, Some(subject), attempt > 0).await?;
            }
            let Some(current) = &state.loaded else { return Err(PersistError::Unavailable("no state".into())) };
            let mut next = current.clone();
            let (changed, outcome) = change(&mut next);
            if !changed {
                return Ok(outcome);
            }
            next.version = current.version + 1;
            match self.persist(&state.key, &next, current.version).await {
                Ok(()) => {
                    state.loaded = Some(next);
                    return Ok(outcome);
                }
                Err(PersistError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(PersistError::Conflict)
    }
}

impl Actor for LockoutActor {
    type Msg = LockoutMsg;
    type State = LockoutActorState;
    type Arguments = String;

    async fn pre_start(
        &self,
        _myself: ActorRef<LockoutMsg>,
        key: String,
    ) -> Result<LockoutActorState, ActorProcessingErr> {
        Ok(LockoutActorState { key, loaded: None })
    }

    async fn handle(
        &self,
        myself: ActorRef<LockoutMsg>,
        message: LockoutMsg,
        state: &mut LockoutActorState,
    ) -> Result<(), ActorProcessingErr> {
        // Boxed on purpose: the task of every idle actor would otherwise reserve room for the
        // largest handling future (store and cache round trips) for its whole life.
        Box::pin(self.handle_message(myself, message, state)).await
    }
}

impl LockoutActor {
    async fn handle_message(
        &self,
        _myself: ActorRef<LockoutMsg>,
        message: LockoutMsg,
        state: &mut LockoutActorState,
    ) -> Result<(), ActorProcessingErr> {
        let started = Instant::now();
        let now = Utc::now();
        let policy = self.ctx.lockout.clone();
        match message {
            LockoutMsg::Check(subject, reply) => {
                let result = async {
                    if state.loaded.is_none() {
                        state.loaded = self.load(&state.key, Some(&subject), false).await?;
                    }
                    let mut view = state
                        .loaded
                        .clone()
                        .unwrap_or_else(|| LockoutState::new(subject.tenant_id, subject.email.clone()));
                    view.settle(now, &policy);
                    Ok(view.verdict(now))
                }
                .await;
                let _ = reply.send(result);
            }
            LockoutMsg::RecordFailure(subject, reply) => {
                let result = self
                    .change(state, &subject, |s| {
                        let before = (s.failures, s.step, s.locked_until, s.permanent);
                        let verdict = s.record_failure(now, &policy);
                        (before != (s.failures, s.step, s.locked_until, s.permanent), verdict)
                    })
                    .await;
                if let Ok(LockoutVerdict::Locked { step, .. }) = &result {
                    if state.loaded.as_ref().is_some_and(|s| s.last_lock_at == Some(now)) {
                        self.ctx.metrics.lockouts.with_label_values(&[&step.to_string()]).inc();
                    }
                }
                let _ = reply.send(result);
            }
            LockoutMsg::RecordSuccess(subject, reply) => {
                let result = self
                    .change(state, &subject, |s| {
                        let changed = s.verdict(now) == LockoutVerdict::Open && s.record_success(now, &policy);
                        (changed, s.verdict(now))
                    })
                    .await;
                let _ = reply.send(result);
            }
            LockoutMsg::Unlock(subject, reply) => {
                let result = self
                    .change(state, &subject, |s| {
                        let was_locked = s.permanent || s.locked_until.is_some() || s.step > 0 || s.failures > 0;
                        s.unlock();
                        (was_locked, ())
                    })
                    .await;
                let _ = reply.send(result);
            }
            LockoutMsg::Snapshot(reply) => {
                let result = async {
                    if state.loaded.is_none() {
                        state.loaded = self.load(&state.key, None, false).await?;
                    }
                    Ok(state.loaded.clone())
                }
                .await;
                let _ = reply.send(result);
            }
            LockoutMsg::Invalidate(version) => {
                if state.loaded.as_ref().is_some_and(|s| s.version < version) {
                    state.loaded = None;
                }
            }
        }
        self.ctx.metrics.actor_handle.with_label_values(&[KIND]).observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}
