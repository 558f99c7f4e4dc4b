//! The janitor: at an interval, removes expired sessions and stale lockout rows in batches,
//! trims the verified-token cache and the in-process cache, and counts what it removed. A supervised actor: a sweep that fails is logged and the next one runs; a janitor
//! that panics is replaced by the root (`super::Root`).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::persist::ActorContext;
use crate::auth::TokenIssuer;
use crate::store::Cache;

/// Rows deleted per statement, so a sweep never holds long locks.
const BATCH: i64 = 1_000;

pub enum JanitorMsg {
    Sweep,
    /// Test hook: the janitor panics, so the root's restart of it can be shown.
    InjectFault,
}

/// The janitor's settings; the root keeps a copy to start a new one after a failure.
#[derive(Clone)]
pub struct Janitor {
    pub ctx: Arc<ActorContext>,
    pub tokens: Arc<TokenIssuer>,
    pub interval: Duration,
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct SweepReport {
    pub sessions: u64,
    pub lockouts: u64,
    pub verified_tokens: usize,
}

impl Janitor {
    /// One sweep. Each batch is counted as soon as it is removed, so rows removed before a
    /// later step fails are counted too.
    pub async fn sweep(ctx: &ActorContext, tokens: &TokenIssuer) -> Result<SweepReport, crate::store::StoreError> {
        let now = Utc::now();
        let db = &ctx.stores.db;
        let counter = |what: &str| ctx.metrics.janitor_removed.with_label_values(&[what]);
        let mut report = SweepReport::default();
        loop {
            let removed = db.delete_expired_sessions(now, BATCH).await?;
            counter("sessions").inc_by(removed);
            report.sessions += removed;
            if removed < BATCH as u64 {
                break;
            }
        }
        // A lockout row means nothing once every step could have decayed.
        let steps = ctx.lockout.ladder.len() as i32 + 1;
        let stale_before = now - ctx.lockout.decay * steps;
        loop {
            let removed = db.delete_stale_lockouts(stale_before, BATCH).await?;
            counter("lockouts").inc_by(removed);
            report.lockouts += removed;
            if removed < BATCH as u64 {
                break;
            }
        }
        report.verified_tokens = tokens.purge_expired(now);
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
            JanitorMsg::Sweep => match Self::sweep(&self.ctx, &self.tokens).await {
                Ok(report) if report.sessions + report.lockouts > 0 => {
                    tracing::info!(
                        sessions = report.sessions,
                        lockouts = report.lockouts,
                        "janitor removed expired rows"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "janitor sweep failed; the next one retries"),
            },
            JanitorMsg::InjectFault => panic!("fault injected into the janitor"),
        }
        Ok(())
    }
}
