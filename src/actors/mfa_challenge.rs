//! The pending two-factor sign-in actor: one per `mfa_token` (found by the token's hash), the
//! single writer of that sign-in on this node. It counts wrong codes (the fifth spends it),
//! lets exactly one right code use it, and persists every change before answering, so any
//! node behind a load balancer can take the code and a second use fails everywhere.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::directory::Reply;
use super::persist::{version_in_field, ActorContext, Persistent};
use super::persistent_actor::{Held, PersistentKind, Rules};
use crate::domain::challenge::MfaChallenge;
use crate::store::{Database, MfaChallengeRow, StoreResult};

pub const KIND: &str = "mfa_challenge";

/// What a pending sign-in actor is asked.
pub enum ChallengeMsg {
    /// Persist a new pending sign-in (both stores) and own it.
    Create(Box<MfaChallenge>, Reply<()>),
    /// The pending sign-in while a code may still be tried; `None` when it is unknown,
    /// expired, used or spent.
    Open(Reply<Option<MfaChallenge>>),
    /// Counts a wrong code; answers the state after it (`None`: there was none to count on).
    WrongCode(Reply<Option<MfaChallenge>>),
    /// Uses it for a right code; answers true for the one use that wins.
    Spend(Reply<bool>),
    /// Another node wrote `version`: drop an older copy.
    Invalidate(i64),
}

#[async_trait]
impl Persistent for MfaChallenge {
    const KIND: &'static str = KIND;
    type Key = String;
    version_in_field!();

    fn belongs_to(&self, key: &String) -> bool {
        self.key == *key
    }

    fn cache_ttl(&self, now: DateTime<Utc>) -> Duration {
        self.remaining(now)
    }

    async fn read(db: &dyn Database, key: &String) -> StoreResult<Option<(i64, String)>> {
        db.mfa_challenge(key).await
    }

    async fn read_version(db: &dyn Database, key: &String) -> StoreResult<Option<i64>> {
        db.mfa_challenge_version(key).await
    }

    async fn write(&self, db: &dyn Database, key: &String, sealed: &str, expected: i64) -> StoreResult<bool> {
        let row = MfaChallengeRow {
            key: key.clone(),
            state: sealed.to_owned(),
            version: self.version,
            expires_at: self.expires_at,
        };
        db.save_mfa_challenge(&row, expected).await
    }
}

/// The rules of pending sign-in actors.
pub struct ChallengeRules;

/// The directory's kind for pending sign-ins.
pub type ChallengeKind = PersistentKind<ChallengeRules>;

#[async_trait]
impl Rules for ChallengeRules {
    type State = MfaChallenge;
    type Msg = ChallengeMsg;
    type Memory = ();

    async fn handle(ctx: &ActorContext, message: ChallengeMsg, held: &mut Held<Self>) {
        let state = &mut held.stored;
        let now = Utc::now();
        match message {
            ChallengeMsg::Create(new, reply) => {
                let _ = reply.send(state.create(ctx, *new).await);
            }
            ChallengeMsg::Open(reply) => {
                let open = state.load(ctx).await.map(|c| c.filter(|c| c.is_open(now)).cloned());
                let _ = reply.send(open);
            }
            ChallengeMsg::WrongCode(reply) => {
                let counted = state.change(ctx, || None, |c| (c.record_wrong_code(now), ())).await;
                let _ = reply.send(counted.map(|counted| counted.and(state.current().cloned())));
            }
            ChallengeMsg::Spend(reply) => {
                let spent = state.change(
                    ctx,
                    || None,
                    |c| {
                        let won = c.spend(now);
                        (won, won)
                    },
                );
                let _ = reply.send(spent.await.map(|won| won == Some(true)));
            }
            ChallengeMsg::Invalidate(version) => state.invalidate(version),
        }
    }

    /// A pending sign-in that can take no more codes has nothing left to guard.
    fn is_over(held: &Held<Self>) -> bool {
        held.stored.is_missing() || held.stored.current().is_some_and(|c| !c.is_open(Utc::now()))
    }
}
