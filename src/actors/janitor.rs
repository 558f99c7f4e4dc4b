//! The janitor: at an interval, removes expired sessions, stale lockout rows, expired pending
//! two-factor sign-ins, audit events older than `AUDIT_RETENTION` and signing keys that left
//! JWKS in batches, trims the verified-token cache and the in-process cache, and counts what it
//! removed — and the records still sealed under an older session encryption key. A supervised
//! actor: a sweep that fails is logged and the next one runs; a janitor that panics is
//! replaced by the root (`super::Root`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::persist::ActorContext;
use crate::auth::TokenIssuer;
use crate::store::{Cache, StoreResult};

/// Rows deleted per statement, so a sweep never holds long locks.
const BATCH: i64 = 1_000;

pub enum JanitorMsg {
    Sweep,
    /// Test hook: the janitor panics, so the root's restart of it can be shown.
    #[cfg(feature = "test-hooks")]
    InjectFault,
}

/// The janitor's settings; the root keeps a copy to start a new one after a failure.
#[derive(Clone)]
pub struct Janitor {
    pub ctx: Arc<ActorContext>,
    pub tokens: Arc<TokenIssuer>,
    pub interval: Duration,
    /// Audit events older than this are removed (`None`: kept for good).
    pub audit_retention: Option<Duration>,
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct SweepReport {
    pub sessions: u64,
    pub lockouts: u64,
    pub mfa_challenges: u64,
    pub audit_events: u64,
    pub verified_tokens: usize,
}

/// Runs `delete` (one batch of at most [`BATCH`] rows) until a batch comes back short, counting
/// each batch under `what` as soon as it is removed; returns the total.
async fn in_batches<F, Fut>(ctx: &ActorContext, what: &str, mut delete: F) -> StoreResult<u64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<u64>>,
{
    let counter = ctx.metrics.janitor_removed.with_label_values(&[what]);
    let mut total = 0;
    loop {
        let removed = delete().await?;
        counter.inc_by(removed);
        total += removed;
        if removed < BATCH as u64 {
            return Ok(total);
        }
    }
}

impl Janitor {
    /// One sweep. Each batch is counted as soon as it is removed, so rows removed before a
    /// later step fails are counted too.
    pub async fn sweep(&self) -> StoreResult<SweepReport> {
        let (ctx, tokens) = (&self.ctx, &self.tokens);
        let now = Utc::now();
        let db = &ctx.stores.db;
        let sessions = in_batches(ctx, "sessions", || db.delete_expired_sessions(now, BATCH)).await?;
        // A lockout row means nothing once every step could have decayed.
        let steps = ctx.lockout.ladder.len() as i32 + 1;
        let stale_before = now - ctx.lockout.decay * steps;
        let lockouts = in_batches(ctx, "lockouts", || db.delete_stale_lockouts(stale_before, BATCH)).await?;
        let audit_events = match self.audit_retention.and_then(|r| chrono::Duration::from_std(r).ok()) {
            Some(retention) => {
                in_batches(ctx, "audit_events", || db.delete_audit_before(now - retention, BATCH)).await?
            }
            None => 0,
        };
        let mfa_challenges = in_batches(ctx, "mfa_challenges", || db.delete_expired_mfa_challenges(now, BATCH)).await?;
        let signing_keys = db.delete_expired_signing_keys(now).await?;
        ctx.metrics.janitor_removed.with_label_values(&["signing_keys"]).inc_by(signing_keys);
        match super::sealed::count_stale(db.as_ref(), &ctx.cipher).await {
            Ok(counts) => {
                for (family, stale) in counts {
                    ctx.metrics.sealed_stale.with_label_values(&[family]).set(stale as i64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not count the records sealed under older keys"),
        }
        let verified_tokens = tokens.purge_expired(now);
        let report = SweepReport { sessions, lockouts, mfa_challenges, audit_events, verified_tokens };
        ctx.stores.cache.sweep().await;
        ctx.stores.limits.sweep();
        Ok(report)
    }
}

impl Actor for Janitor {
    type Msg = JanitorMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, myself: ActorRef<JanitorMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        myself.send_interval(self.interval, || JanitorMsg::Sweep);
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<JanitorMsg>,
        message: JanitorMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match message {
            JanitorMsg::Sweep => match self.sweep().await {
                Ok(report) if report.sessions + report.lockouts + report.mfa_challenges + report.audit_events > 0 => {
                    tracing::info!(
                        sessions = report.sessions,
                        lockouts = report.lockouts,
                        mfa_challenges = report.mfa_challenges,
                        audit_events = report.audit_events,
                        "janitor removed expired rows"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "janitor sweep failed; the next one retries"),
            },
            #[cfg(feature = "test-hooks")]
            JanitorMsg::InjectFault => panic!("fault injected into the janitor"),
        }
        Ok(())
    }
}
