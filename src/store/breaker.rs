//! Circuit breakers: one state machine ([`CircuitBreaker`]) used in front of the cache
//! ([`GuardedCache`], here) and of the database (`store::guarded_db`). After a run of
//! consecutive outage errors it opens and calls fail fast with [`StoreError::CircuitOpen`]
//! until its open time passes; then one call at a time goes through as a probe (half-open),
//! and the first that succeeds closes it. Only outages count: a conflict or a value refused as
//! data is an answer, and an answer proves the backend is up.
//! While the cache's breaker is open, callers fall back to the database and rate limits to an
//! in-process limiter.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::cache::{Cache, ChangeEvent, Grant};
use super::memory::MemoryCache;
use super::{StoreError, StoreResult};

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive outage errors (or timeouts) that open it.
    pub failures: u32,
    /// How long it stays open before a probe is let through.
    pub open_for: Duration,
}

impl BreakerSettings {
    /// The cache's: Redis is optional to correctness, so give up on it quickly.
    pub const CACHE: BreakerSettings = BreakerSettings { failures: 3, open_for: Duration::from_secs(5) };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// The value of the `tradesage_circuit_state` gauge.
    pub fn gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Machine {
    Closed {
        failures: u32,
    },
    /// Refusing until `until`; after it, the next call is a probe.
    Open {
        until: Instant,
        failures: u32,
    },
    /// A probe is in flight; other calls are refused meanwhile.
    Probing {
        failures: u32,
    },
}

/// The breaker's state machine. Held briefly under a mutex, never across an await.
pub struct CircuitBreaker {
    settings: BreakerSettings,
    machine: Mutex<Machine>,
    rejected: AtomicU64,
    opened: AtomicU64,
}

/// A call the breaker let through; its outcome must be [`recorded`](Permit::record). A probe
/// dropped without an outcome (its request was cancelled) lets the next call probe instead.
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    recorded: bool,
}

impl Permit<'_> {
    /// Records whether the backend answered (`true`) or was out (`false`).
    pub fn record(mut self, answered: bool) {
        self.recorded = true;
        self.breaker.observe(answered);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.recorded {
            let mut machine = self.breaker.lock();
            if let Machine::Probing { failures } = *machine {
                *machine = Machine::Open { until: Instant::now(), failures };
            }
        }
    }
}

/// Whether an error means the backend is out (what opens a breaker).
pub fn is_outage(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(_))
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(BreakerSettings::CACHE)
    }
}

impl CircuitBreaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings: BreakerSettings { failures: settings.failures.max(1), ..settings },
            machine: Mutex::new(Machine::Closed { failures: 0 }),
            rejected: AtomicU64::new(0),
            opened: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Machine> {
        // The machine is a few words updated in one step: a panic cannot leave it half-written.
        self.machine.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn settings(&self) -> BreakerSettings {
        self.settings
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Machine::Closed { .. } => BreakerState::Closed,
            Machine::Open { until, .. } if Instant::now() < until => BreakerState::Open,
            Machine::Open { .. } | Machine::Probing { .. } => BreakerState::HalfOpen,
        }
    }

    /// Consecutive outage errors seen (those that opened it, while it is open).
    pub fn failures(&self) -> u32 {
        match *self.lock() {
            Machine::Closed { failures } | Machine::Open { failures, .. } | Machine::Probing { failures } => failures,
        }
    }

    /// How long until a probe is let through; `None` unless open.
    pub fn retry_in(&self) -> Option<Duration> {
        match *self.lock() {
            Machine::Open { until, .. } => until.checked_duration_since(Instant::now()),
            _ => None,
        }
    }

    /// Calls refused while open, since start.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Times it opened, since start.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Lets a call through (closed, or as the one probe of half-open), or refuses it.
    pub fn admit(&self) -> Result<Permit<'_>, StoreError> {
        let mut machine = self.lock();
        let probe = match *machine {
            Machine::Closed { .. } => false,
            Machine::Open { until, failures } if Instant::now() >= until => {
                *machine = Machine::Probing { failures };
                true
            }
            Machine::Open { .. } | Machine::Probing { .. } => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(StoreError::CircuitOpen);
            }
        };
        Ok(Permit { breaker: self, probe, recorded: false })
    }

    /// Records an outcome seen outside a permit (a health check's ping), or a permit's.
    pub fn observe(&self, answered: bool) {
        let mut machine = self.lock();
        if answered {
            *machine = Machine::Closed { failures: 0 };
            return;
        }
        let reopen = |failures: u32| Machine::Open { until: Instant::now() + self.settings.open_for, failures };
        *machine = match *machine {
            Machine::Closed { failures } if failures + 1 >= self.settings.failures => {
                self.opened.fetch_add(1, Ordering::Relaxed);
                reopen(failures + 1)
            }
            Machine::Closed { failures } => Machine::Closed { failures: failures + 1 },
            // A failed probe, or a late failure of a call let through before it opened.
            Machine::Probing { failures } | Machine::Open { failures, .. } => reopen(failures.saturating_add(1)),
        };
    }

    /// Runs `call` under the breaker: refused at once while open; its outcome recorded.
    pub async fn guard<T>(&self, call: impl std::future::Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let permit = self.admit()?;
        let result = call.await;
        permit.record(!matches!(&result, Err(e) if is_outage(e)));
        result
    }
}

/// The cache as the rest of the server sees it: guarded by a breaker.
pub struct GuardedCache {
    inner: Arc<dyn Cache>,
    fallback: MemoryCache,
    breaker: CircuitBreaker,
    /// A publish failed: other nodes missed an event of this one, so once publishing works
    /// again a resync is owed to them.
    owes_resync: AtomicBool,
}

impl GuardedCache {
    pub fn new(inner: Arc<dyn Cache>) -> Self {
        Self {
            inner,
            fallback: MemoryCache::new(),
            breaker: CircuitBreaker::new(BreakerSettings::CACHE),
            owes_resync: AtomicBool::new(false),
        }
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    async fn guarded<T>(&self, call: impl std::future::Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.breaker.guard(call).await
    }
}

#[async_trait]
impl Cache for GuardedCache {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> StoreResult<()> {
        // Health checks always probe, so they can close the breaker as soon as Redis is back.
        let result = self.inner.ping().await;
        self.breaker.observe(!matches!(&result, Err(e) if is_outage(e)));
        result
    }

    async fn get_versioned(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
        self.guarded(self.inner.get_versioned(key)).await
    }

    async fn put_versioned(&self, key: &str, version: i64, value: &str, ttl: Duration) -> StoreResult<bool> {
        self.guarded(self.inner.put_versioned(key, version, value, ttl)).await
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.guarded(self.inner.delete(key)).await
    }

    async fn rate_limit(&self, key: &str, limit: u32, period: Duration, refund: u32, want: u32) -> StoreResult<Grant> {
        match self.guarded(self.inner.rate_limit(key, limit, period, refund, want)).await {
            Err(StoreError::Unavailable(_) | StoreError::CircuitOpen) => {
                self.fallback.rate_limit(key, limit, period, refund, want).await
            }
            other => other,
        }
    }

    async fn publish(&self, message: &str) -> StoreResult<()> {
        let published = self.guarded(self.inner.publish(message)).await;
        if published.is_err() {
            self.owes_resync.store(true, Ordering::Relaxed);
        } else if self.owes_resync.swap(false, Ordering::Relaxed) {
            let resync = ChangeEvent::resync().render();
            if self.guarded(self.inner.publish(&resync)).await.is_err() {
                self.owes_resync.store(true, Ordering::Relaxed);
            }
        }
        published
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.inner.subscribe()
    }

    async fn sweep(&self) {
        self.inner.sweep().await;
        self.fallback.sweep().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: BreakerSettings = BreakerSettings { failures: 3, open_for: Duration::from_millis(40) };

    fn fail(breaker: &CircuitBreaker) {
        breaker.admit().expect("admitted").record(false);
    }

    #[test]
    fn it_opens_after_the_set_run_of_consecutive_failures_only() {
        let breaker = CircuitBreaker::new(SETTINGS);
        fail(&breaker);
        fail(&breaker);
        breaker.admit().unwrap().record(true);
        assert_eq!((breaker.state(), breaker.failures()), (BreakerState::Closed, 0), "a success resets the run");
        fail(&breaker);
        fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Closed);
        fail(&breaker);
        assert_eq!((breaker.state(), breaker.opened()), (BreakerState::Open, 1));
        assert!(matches!(breaker.admit(), Err(StoreError::CircuitOpen)));
        assert_eq!(breaker.rejected(), 1);
        assert!(breaker.retry_in().is_some_and(|d| d <= SETTINGS.open_for));
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_outcome_decides() {
        let breaker = CircuitBreaker::new(SETTINGS);
        (0..3).for_each(|_| fail(&breaker));
        std::thread::sleep(SETTINGS.open_for);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let probe = breaker.admit().expect("the probe");
        assert!(breaker.admit().is_err(), "one probe at a time");
        probe.record(false);
        assert_eq!(breaker.state(), BreakerState::Open, "a failed probe opens it again");
        std::thread::sleep(SETTINGS.open_for);
        breaker.admit().expect("the next probe").record(true);
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.admit().is_ok());
    }

    #[test]
    fn a_probe_dropped_without_an_outcome_lets_the_next_call_probe() {
        let breaker = CircuitBreaker::new(SETTINGS);
        (0..3).for_each(|_| fail(&breaker));
        std::thread::sleep(SETTINGS.open_for);
        drop(breaker.admit().expect("the probe"));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.admit().is_ok(), "not stuck refusing");
    }

    #[tokio::test]
    async fn answers_that_are_not_outages_never_count() {
        let breaker = CircuitBreaker::new(SETTINGS);
        for _ in 0..10 {
            let _ = breaker.guard(async { StoreResult::<()>::Err(StoreError::Invalid("NUL".into())) }).await;
            let _ = breaker.guard(async { StoreResult::<()>::Err(StoreError::Conflict("taken".into())) }).await;
            let _ = breaker.guard(async { StoreResult::<()>::Err(StoreError::Corrupt("bad".into())) }).await;
        }
        assert_eq!((breaker.state(), breaker.failures()), (BreakerState::Closed, 0));
        for _ in 0..3 {
            let _ = breaker.guard(async { StoreResult::<()>::Err(StoreError::Unavailable("down".into())) }).await;
        }
        assert_eq!(breaker.state(), BreakerState::Open);
    }
}
