//! Readiness (`/health/detailed`): each dependency's state, and the rules that make a check
//! `degraded` or `down`. The overall status is the worst check; `down` answers 503.
//!
//! - `database`: down when it does not answer or its circuit breaker is open (nothing durable
//!   can be acknowledged); degraded when only the read replica fails. The detail names each
//!   breaker's state (`service::circuits`).
//! - `cache`: degraded when it does not answer (everything goes on through the database).
//! - `actors`: degraded when a supervisor escalated a failure to the root in the last
//!   [`ESCALATION_WINDOW`] (a minute), or when the mailboxes of a kind back up: at least
//!   [`MAILBOX_BACKLOG`] (1,000) messages sent to its actors on this node and not yet handled.
//!   In steady state a message waits microseconds, so even a busy node holds a few dozen.
//! - `keys`: degraded when no key signs, when every signing key retires within
//!   [`KEY_RETIRING`] (an hour) with no successor, or when the keys' source has a problem.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::Core;
use crate::auth::keys::SigningStatus;
use crate::store::Cache;

/// A supervisor escalation keeps the `actors` check degraded this long.
pub const ESCALATION_WINDOW: Duration = Duration::from_secs(60);
/// Messages waiting for the actors of one kind on one node from which the `actors` check is
/// degraded.
pub const MAILBOX_BACKLOG: i64 = 1_000;
/// A signing key that retires within this, with no successor, degrades the `keys` check.
pub const KEY_RETIRING: Duration = Duration::from_secs(3_600);

/// The state of one check; ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckStatus {
    Ok,
    Degraded,
    Down,
}

/// One check's finding.
#[derive(Debug, Clone)]
pub struct Check {
    pub status: CheckStatus,
    pub latency_ms: f64,
    /// `postgres`/`sqlite` for the database, `redis`/`memory` for the cache.
    pub backend: Option<&'static str>,
    pub detail: Option<String>,
}

/// Every check.
#[derive(Debug, Clone)]
pub struct HealthReport {
    pub database: Check,
    pub cache: Check,
    pub actors: Check,
    pub keys: Check,
}

impl HealthReport {
    /// The worst of the checks.
    pub fn status(&self) -> CheckStatus {
        [&self.database, &self.cache, &self.actors, &self.keys]
            .into_iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(CheckStatus::Ok)
    }
}

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

impl Core {
    /// Runs every check of `/health/detailed`.
    pub async fn health(&self) -> HealthReport {
        let database = self.database_check().await;
        let started = Instant::now();
        let cache_backend = Some(self.stores.cache.backend());
        let cache = match self.stores.cache.ping().await {
            Ok(()) => Check { status: CheckStatus::Ok, latency_ms: ms(started), backend: cache_backend, detail: None },
            Err(_) => Check {
                status: CheckStatus::Degraded,
                latency_ms: ms(started),
                backend: cache_backend,
                detail: Some("not answering; serving from the database".into()),
            },
        };
        self.export_circuits();
        let started = Instant::now();
        let snapshot = self.actors.snapshot(&self.node);
        let live = snapshot.kinds.iter().map(|k| k.live.max(0) as u64).sum();
        let since_escalation = self.actors.escalations.last().map(|at| at.elapsed());
        let backlog: Vec<(&str, i64)> = snapshot.kinds.iter().map(|k| (k.kind.as_str(), k.mailbox_depth)).collect();
        let (status, detail) = actors_check(live, since_escalation, &backlog);
        let actors = Check { status, latency_ms: ms(started), backend: None, detail: Some(detail) };
        let started = Instant::now();
        let (status, detail) = keys_check(&self.tokens.key_ring().signing_status(), Utc::now());
        let keys = Check { status, latency_ms: ms(started), backend: None, detail: Some(detail) };
        HealthReport { database, cache, actors, keys }
    }
}

/// The `actors` check from the live actor count, the time since the last escalation to the
/// root, and each kind's messages waiting.
pub fn actors_check(live: u64, since_escalation: Option<Duration>, backlog: &[(&str, i64)]) -> (CheckStatus, String) {
    let mut problems = Vec::new();
    if let Some(ago) = since_escalation.filter(|ago| *ago < ESCALATION_WINDOW) {
        problems.push(format!("a supervisor escalated a failure to the root {} s ago", ago.as_secs()));
    }
    for (kind, waiting) in backlog.iter().filter(|(_, waiting)| *waiting >= MAILBOX_BACKLOG) {
        problems.push(format!("{kind} mailboxes back up: {waiting} messages waiting (from {MAILBOX_BACKLOG} on)"));
    }
    let status = if problems.is_empty() { CheckStatus::Ok } else { CheckStatus::Degraded };
    problems.push(format!("{live} live actors"));
    (status, problems.join("; "))
}

/// The `keys` check from the key ring's signing status at `now`.
pub fn keys_check(status: &SigningStatus, now: DateTime<Utc>) -> (CheckStatus, String) {
    let horizon = now + chrono::Duration::from_std(KEY_RETIRING).unwrap_or_default();
    let lasting = status.signers.iter().filter(|s| s.retires_at.is_none_or(|at| at > horizon)).count();
    let mut problems = Vec::new();
    if status.signers.is_empty() {
        problems.push("no signing key".to_owned());
    } else if lasting == 0 {
        let retires = status.signers.iter().filter_map(|s| s.retires_at).max().unwrap_or(now);
        let minutes = (retires - now).num_minutes().max(0);
        problems.push(format!("the signing key retires in {minutes} min and no successor is ready"));
    }
    problems.extend(status.problem.clone());
    let verdict = if problems.is_empty() { CheckStatus::Ok } else { CheckStatus::Degraded };
    problems.push(format!("{} verifying keys", status.verifying));
    (verdict, problems.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::Signer;

    #[test]
    fn actors_degrade_for_a_minute_after_an_escalation() {
        assert_eq!(actors_check(3, None, &[("session", 0)]), (CheckStatus::Ok, "3 live actors".into()));
        let (status, detail) = actors_check(3, Some(Duration::from_secs(12)), &[("session", 0)]);
        assert_eq!(status, CheckStatus::Degraded);
        assert!(detail.contains("escalated") && detail.contains("12 s ago"), "{detail}");
        assert_eq!(actors_check(3, Some(ESCALATION_WINDOW), &[]).0, CheckStatus::Ok);
    }

    #[test]
    fn actors_degrade_when_a_kind_has_a_thousand_messages_waiting() {
        assert_eq!(actors_check(1, None, &[("session", 999), ("lockout", 0)]).0, CheckStatus::Ok);
        let (status, detail) = actors_check(1, None, &[("session", 0), ("lockout", 1_000)]);
        assert_eq!(status, CheckStatus::Degraded);
        assert!(detail.starts_with("lockout mailboxes back up: 1000 messages waiting"), "{detail}");
    }

    fn signing(retires_at: &[Option<DateTime<Utc>>], problem: Option<&str>) -> SigningStatus {
        SigningStatus {
            signers: retires_at.iter().map(|&retires_at| Signer { kid: "k".into(), retires_at }).collect(),
            verifying: 2,
            problem: problem.map(str::to_owned),
        }
    }

    #[test]
    fn keys_degrade_without_a_signer_or_with_only_one_about_to_retire() {
        let now = Utc::now();
        let soon = Some(now + chrono::Duration::minutes(20));
        let later = Some(now + chrono::Duration::days(2));
        assert_eq!(keys_check(&signing(&[None], None), now), (CheckStatus::Ok, "2 verifying keys".into()));
        assert_eq!(keys_check(&signing(&[later], None), now).0, CheckStatus::Ok);
        assert_eq!(keys_check(&signing(&[soon, later], None), now).0, CheckStatus::Ok, "a successor is ready");
        let (status, detail) = keys_check(&signing(&[soon], None), now);
        assert_eq!(status, CheckStatus::Degraded);
        assert!(detail.contains("retires in 19 min") || detail.contains("retires in 20 min"), "{detail}");
        let (status, detail) = keys_check(&signing(&[], None), now);
        assert_eq!((status, detail.starts_with("no signing key")), (CheckStatus::Degraded, true));
        let (status, detail) = keys_check(&signing(&[None], Some("the key files do not load")), now);
        assert_eq!((status, detail.starts_with("the key files")), (CheckStatus::Degraded, true));
    }
}
