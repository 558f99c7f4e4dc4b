//! Progressive account lockout: failures count up to a threshold, each lock takes the next step
//! of the ladder (1m → 5m → 30m → 24h → permanent by default), and steps decay after 24 h
//! without a lock. Kept per (tenant, normalised email), whether or not the account exists.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LadderStep {
    For(Duration),
    Permanent,
}

/// Threshold and ladder, from configuration.
#[derive(Debug, Clone)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub ladder: Vec<LadderStep>,
    /// Quiet time after which one step is forgiven.
    pub decay: Duration,
}

/// A lockout counter's state; the lockout actor owns it and persists it encrypted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockoutState {
    pub tenant_id: Uuid,
    pub email: String,
    pub failures: u32,
    /// How many locks have been applied (and not yet decayed): the next lock uses this rung.
    pub step: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub permanent: bool,
    pub last_lock_at: Option<DateTime<Utc>>,
    /// Start of the current quiet period, from which decay is counted.
    pub quiet_since: Option<DateTime<Utc>>,
    pub version: i64,
}

/// The answer to a login attempt's lockout check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockoutVerdict {
    Open,
    /// Locked; `retry_after` is `None` for a permanent lock. `step` is 1-based.
    Locked {
        retry_after: Option<std::time::Duration>,
        step: u32,
    },
}

impl LockoutState {
    pub fn new(tenant_id: Uuid, email: String) -> Self {
        Self {
            tenant_id,
            email,
            failures: 0,
            step: 0,
            locked_until: None,
            permanent: false,
            last_lock_at: None,
            quiet_since: None,
            version: 0,
        }
    }

    /// Brings time-dependent fields up to `now`: an ended lock resets the count, quiet days
    /// forgive steps. Returns whether anything changed.
    pub fn settle(&mut self, now: DateTime<Utc>, policy: &LockoutPolicy) -> bool {
        let mut changed = false;
        if let Some(until) = self.locked_until.filter(|until| *until <= now) {
            self.locked_until = None;
            self.failures = 0;
            self.quiet_since = Some(until);
            changed = true;
        }
        if self.locked_until.is_none() && !self.permanent {
            while let Some(since) = self.quiet_since.filter(|s| self.step > 0 && now - *s >= policy.decay) {
                self.step -= 1;
                self.quiet_since = Some(since + policy.decay);
                changed = true;
            }
        }
        changed
    }

    pub fn verdict(&self, now: DateTime<Utc>) -> LockoutVerdict {
        if self.permanent {
            return LockoutVerdict::Locked { retry_after: None, step: self.step };
        }
        match self.locked_until {
            Some(until) if until > now => LockoutVerdict::Locked {
                retry_after: Some((until - now).to_std().unwrap_or_default()),
                step: self.step,
            },
            _ => LockoutVerdict::Open,
        }
    }

    /// Counts a failed login; the failure that reaches the threshold locks at once.
    pub fn record_failure(&mut self, now: DateTime<Utc>, policy: &LockoutPolicy) -> LockoutVerdict {
        self.settle(now, policy);
        if let locked @ LockoutVerdict::Locked { .. } = self.verdict(now) {
            return locked;
        }
        self.failures += 1;
        if self.failures < policy.threshold {
            return LockoutVerdict::Open;
        }
        let rung =
            policy.ladder.get(self.step as usize).or(policy.ladder.last()).copied().unwrap_or(LadderStep::Permanent);
        self.step += 1;
        self.failures = 0;
        self.last_lock_at = Some(now);
        match rung {
            LadderStep::For(duration) => {
                self.locked_until = Some(now + duration);
                self.quiet_since = self.locked_until;
            }
            LadderStep::Permanent => {
                self.permanent = true;
                self.locked_until = None;
            }
        }
        self.verdict(now)
    }

    /// A successful login clears the failure count; the step stays until it decays.
    pub fn record_success(&mut self, now: DateTime<Utc>, policy: &LockoutPolicy) -> bool {
        let settled = self.settle(now, policy);
        let had_failures = self.failures > 0;
        self.failures = 0;
        settled || had_failures
    }

    /// An admin's unlock lifts any lock, permanent included, and forgets the ladder.
    pub fn unlock(&mut self) {
        self.failures = 0;
        self.step = 0;
        self.locked_until = None;
        self.permanent = false;
        self.quiet_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 3,
            ladder: vec![
                LadderStep::For(Duration::minutes(1)),
                LadderStep::For(Duration::minutes(5)),
                LadderStep::Permanent,
            ],
            decay: Duration::hours(24),
        }
    }

    fn fail(state: &mut LockoutState, now: DateTime<Utc>, times: u32) -> LockoutVerdict {
        (0..times).map(|_| state.record_failure(now, &policy())).last().unwrap()
    }

    #[test]
    fn the_failure_that_reaches_the_threshold_locks_for_the_first_step() {
        let now = Utc::now();
        let mut s = LockoutState::new(Uuid::nil(), "a@b.c".into());
        assert_eq!(fail(&mut s, now, 2), LockoutVerdict::Open);
        let locked = s.record_failure(now, &policy());
        assert_eq!(locked, LockoutVerdict::Locked { retry_after: Some(std::time::Duration::from_secs(60)), step: 1 });
    }

    #[test]
    fn the_ladder_climbs_to_a_permanent_lock() {
        let mut now = Utc::now();
        let mut s = LockoutState::new(Uuid::nil(), "a@b.c".into());
        fail(&mut s, now, 3);
        now += Duration::minutes(2);
        assert_eq!(s.verdict(now), LockoutVerdict::Open);
        assert!(matches!(fail(&mut s, now, 3), LockoutVerdict::Locked { step: 2, .. }));
        now += Duration::minutes(6);
        assert_eq!(fail(&mut s, now, 3), LockoutVerdict::Locked { retry_after: None, step: 3 });
        now += Duration::days(30);
        assert!(matches!(s.record_failure(now, &policy()), LockoutVerdict::Locked { retry_after: None, .. }));
    }

    #[test]
    fn attempts_while_locked_do_not_count() {
        let now = Utc::now();
        let mut s = LockoutState::new(Uuid::nil(), "a@b.c".into());
        fail(&mut s, now, 3);
        fail(&mut s, now, 10);
        assert_eq!(s.step, 1);
    }

    #[test]
    fn success_resets_failures_but_keeps_the_step_until_a_quiet_day() {
        let mut now = Utc::now();
        let mut s = LockoutState::new(Uuid::nil(), "a@b.c".into());
        fail(&mut s, now, 3);
        now += Duration::minutes(2);
        fail(&mut s, now, 2);
        s.record_success(now, &policy());
        assert_eq!((s.failures, s.step), (0, 1));
        now += Duration::hours(25);
        s.settle(now, &policy());
        assert_eq!(s.step, 0);
    }

    #[test]
    fn unlock_lifts_a_permanent_lock() {
        let mut s = LockoutState::new(Uuid::nil(), "a@b.c".into());
        s.permanent = true;
        s.unlock();
        assert_eq!(s.verdict(Utc::now()), LockoutVerdict::Open);
    }
}
