//! The circuit breakers as operators see them: the `database` check of `/health/detailed`
//! (which says the breaker's state) and the `tradesage_circuit_*` metrics.

use std::time::Instant;

use super::health::{Check, CheckStatus};
use super::Core;
use crate::store::breaker::{BreakerState, CircuitBreaker};
use crate::store::StoreError;

/// How one breaker reads in a health detail.
pub fn describe(name: &str, breaker: &CircuitBreaker) -> String {
    match breaker.state() {
        BreakerState::Closed => format!("{name} circuit closed"),
        BreakerState::HalfOpen => format!("{name} circuit half-open: probing"),
        BreakerState::Open => {
            let seconds = breaker.retry_in().map_or(0, |d| d.as_secs_f64().ceil() as u64);
            format!(
                "{name} circuit open after {} consecutive failures: requests that need it answer 503 at once; \
                 next probe in {seconds} s",
                breaker.failures()
            )
        }
    }
}

impl Core {
    /// Sets the `tradesage_circuit_*` metrics (and `cache_circuit_open`) from the breakers.
    pub fn export_circuits(&self) {
        let cache = self.stores.cache.breaker();
        let breakers = self.stores.db_breakers.iter().map(|(name, b)| (*name, b.as_ref())).chain([("cache", cache)]);
        for (name, breaker) in breakers {
            self.metrics.circuit_state.with_label_values(&[name]).set(breaker.state().gauge());
            let rejected = self.metrics.circuit_rejected.with_label_values(&[name]);
            rejected.inc_by(breaker.rejected().saturating_sub(rejected.get()));
            let opened = self.metrics.circuit_opened.with_label_values(&[name]);
            opened.inc_by(breaker.opened().saturating_sub(opened.get()));
        }
        self.metrics.cache_circuit_open.set(i64::from(cache.state() == BreakerState::Open));
    }

    /// The `database` check: down while the primary's breaker is open (without trying it: the
    /// breaker already knows), else a ping through the breaker (a probe when half-open). A read
    /// replica that does not answer degrades it: lists fail, sign-ins do not.
    pub(super) async fn database_check(&self) -> Check {
        let started = Instant::now();
        let backend = Some(self.stores.db.backend());
        let mut details: Vec<String> = Vec::new();
        let mut status = match self.stores.db.ping().await {
            Ok(()) => CheckStatus::Ok,
            // Refused by the open breaker: its description below says so.
            Err(StoreError::CircuitOpen) => CheckStatus::Down,
            Err(_) => {
                details.push("not answering".into());
                CheckStatus::Down
            }
        };
        for (name, breaker) in &self.stores.db_breakers {
            if *name != "database" && breaker.state() != BreakerState::Closed {
                status = status.max(CheckStatus::Degraded);
            }
            details.push(describe(name, breaker));
        }
        let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1_000.0;
        Check { status, latency_ms, backend, detail: Some(details.join("; ")) }
    }
}
