//! The lockout actor: one per (tenant, normalised email), whether or not the account exists.
//! It counts failed logins, applies the ladder, and persists each change before answering, so
//! counts stay exact across restarts and across nodes (a lost compare-and-set reloads).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::directory::Reply;
use super::persist::{version_in_field, ActorContext, PersistError, Persistent};
use super::persistent_actor::{Held, PersistentKind, Rules};
use crate::domain::{LockoutState, LockoutVerdict};
use crate::store::{pseudonym, Database, LockoutRow, StoreResult};

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

fn lock_ends_at(state: &LockoutState) -> Option<DateTime<Utc>> {
    if state.permanent {
        Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).single()
    } else {
        state.locked_until
    }
}

#[async_trait]
impl Persistent for LockoutState {
    const KIND: &'static str = KIND;
    type Key = String;
    version_in_field!();

    fn belongs_to(&self, key: &String) -> bool {
        Subject { tenant_id: self.tenant_id, email: self.email.clone() }.key() == *key
    }

    fn cache_ttl(&self, _now: DateTime<Utc>) -> Duration {
        CACHE_TTL
    }

    async fn read(db: &dyn Database, key: &String) -> StoreResult<Option<(i64, String)>> {
        Ok(db.lockout(key).await?.map(|row| (row.version, row.state)))
    }

    async fn read_version(db: &dyn Database, key: &String) -> StoreResult<Option<i64>> {
        db.lockout_version(key).await
    }

    async fn write(&self, db: &dyn Database, key: &String, sealed: &str, expected: i64) -> StoreResult<bool> {
        let row = LockoutRow {
            key: key.clone(),
            tenant_id: self.tenant_id,
            state: sealed.to_owned(),
            version: self.version,
            lock_ends_at: lock_ends_at(self),
            updated_at: Utc::now(),
        };
        db.save_lockout(&row, expected).await
    }
}

/// The rules of lockout actors.
pub struct LockoutRules;

/// The directory's kind for lockout counters.
pub type LockoutKind = PersistentKind<LockoutRules>;

/// A counter with nothing stored yet starts empty, at version 0.
fn fresh(subject: &Subject) -> impl Fn() -> Option<LockoutState> + '_ {
    || Some(LockoutState::new(subject.tenant_id, subject.email.clone()))
}

/// `change` always has a state to work on (`fresh` gives one), so it always answers.
fn answered<T>(outcome: Option<T>) -> Result<T, PersistError> {
    outcome.ok_or(PersistError::Conflict)
}

#[async_trait]
impl Rules for LockoutRules {
    type State = LockoutState;
    type Msg = LockoutMsg;
    type Memory = ();

    async fn handle(ctx: &ActorContext, message: LockoutMsg, held: &mut Held<Self>) {
        let state = &mut held.stored;
        let now = Utc::now();
        let policy = &ctx.lockout;
        match message {
            LockoutMsg::Check(subject, reply) => {
                let verdict = state.load(ctx).await.map(|stored| {
                    let mut view =
                        stored.cloned().unwrap_or_else(|| LockoutState::new(subject.tenant_id, subject.email.clone()));
                    view.settle(now, policy);
                    view.verdict(now)
                });
                let _ = reply.send(verdict);
            }
            LockoutMsg::RecordFailure(subject, reply) => {
                let verdict = state
                    .change(ctx, fresh(&subject), |s| {
                        let before = (s.failures, s.step, s.locked_until, s.permanent);
                        let verdict = s.record_failure(now, policy);
                        (before != (s.failures, s.step, s.locked_until, s.permanent), verdict)
                    })
                    .await
                    .and_then(answered);
                if let Ok(LockoutVerdict::Locked { step, .. }) = &verdict {
                    if state.current().is_some_and(|s| s.last_lock_at == Some(now)) {
                        ctx.metrics.lockouts.with_label_values(&[&step.to_string()]).inc();
                    }
                }
                let _ = reply.send(verdict);
            }
            LockoutMsg::RecordSuccess(subject, reply) => {
                let verdict = state
                    .change(ctx, fresh(&subject), |s| {
                        let changed = s.verdict(now) == LockoutVerdict::Open && s.record_success(now, policy);
                        (changed, s.verdict(now))
                    })
                    .await
                    .and_then(answered);
                let _ = reply.send(verdict);
            }
            LockoutMsg::Unlock(subject, reply) => {
                let unlocked = state
                    .change(ctx, fresh(&subject), |s| {
                        let was_locked = s.permanent || s.locked_until.is_some() || s.step > 0 || s.failures > 0;
                        s.unlock();
                        (was_locked, ())
                    })
                    .await
                    .and_then(answered);
                let _ = reply.send(unlocked);
            }
            LockoutMsg::Snapshot(reply) => {
                let _ = reply.send(state.load(ctx).await.map(|s| s.cloned()));
            }
            LockoutMsg::Invalidate(version) => state.invalidate(version),
        }
    }
}
