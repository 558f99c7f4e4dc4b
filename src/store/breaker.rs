//! A circuit breaker in front of the cache: after a run of failures it opens and calls fail
//! fast (callers fall back to the database) until a cool-down passes and one probe succeeds.
//! Rate limits fall back to an in-process limiter meanwhile.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::cache::{Cache, Grant};
use super::memory::MemoryCache;
use super::{StoreError, StoreResult};

const FAILURES_TO_OPEN: u32 = 3;
const COOL_DOWN: Duration = Duration::from_secs(5);

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
}

#[derive(Default)]
pub struct CircuitBreaker {
    consecutive_failures: AtomicU32,
    open_until_ms: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl CircuitBreaker {
    pub fn state(&self) -> BreakerState {
        let until = self.open_until_ms.load(Ordering::Relaxed);
        if until == 0 {
            BreakerState::Closed
        } else if now_ms() < until {
            BreakerState::Open
        } else {
            BreakerState::HalfOpen
        }
    }

    fn allows(&self) -> bool {
        self.state() != BreakerState::Open
    }

    fn record<T>(&self, result: &StoreResult<T>) {
        match result {
            Err(StoreError::Unavailable(_)) => {
                let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
                if failures >= FAILURES_TO_OPEN || self.state() == BreakerState::HalfOpen {
                    self.open_until_ms.store(now_ms() + COOL_DOWN.as_millis() as u64, Ordering::Relaxed);
                }
            }
            _ => {
                self.consecutive_failures.store(0, Ordering::Relaxed);
                self.open_until_ms.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// The cache as the rest of the server sees it: guarded by a breaker.
pub struct GuardedCache {
    inner: Arc<dyn Cache>,
    fallback: MemoryCache,
    breaker: CircuitBreaker,
}

impl GuardedCache {
    pub fn new(inner: Arc<dyn Cache>) -> Self {
        Self { inner, fallback: MemoryCache::new(), breaker: CircuitBreaker::default() }
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    async fn guarded<T>(&self, call: impl std::future::Future<Output = StoreResult<T>>) -> StoreResult<T> {
        if !self.breaker.allows() {
            return Err(StoreError::CircuitOpen);
        }
        let result = call.await;
        self.breaker.record(&result);
        result
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
        self.breaker.record(&result);
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
        self.guarded(self.inner.publish(message)).await
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.inner.subscribe()
    }

    async fn sweep(&self) {
        self.inner.sweep().await;
        self.fallback.sweep().await;
    }
}
