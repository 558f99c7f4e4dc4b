//! Rate limits that hold across nodes without a Redis round trip per request: a node takes a
//! *lease* of a few requests from the shared GCRA bucket in one atomic call and spends it
//! locally. The sum over nodes never exceeds the limit (a lease is taken all or none); a lease
//! lasts at most as long as its tokens take to accrue, so an idle node holds back little.
//! Limits of a few requests per second lease one at a time, which is exact.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::cache::{Cache, RateDecision};
use super::StoreResult;
use crate::config::Rate;

/// A lease holds about this much of the limit's time: at full rate a node goes to the shared
/// bucket once per window.
const LEASE_WINDOW: Duration = Duration::from_millis(50);
const MAX_LEASE: u32 = 1_000;

struct Lease {
    left: u32,
    expires: Instant,
    limit: u32,
}

pub struct RateLimiter {
    cache: Arc<dyn Cache>,
    leases: DashMap<String, Lease>,
}

impl RateLimiter {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self { cache, leases: DashMap::new() }
    }

    fn lease_size(rate: Rate) -> u32 {
        let per_window = f64::from(rate.count) * LEASE_WINDOW.as_secs_f64() / rate.per.as_secs_f64();
        (per_window as u32).clamp(1, MAX_LEASE)
    }

    /// One request under `rate` for `key`.
    pub async fn check(&self, key: &str, rate: Rate) -> StoreResult<RateDecision> {
        let lease = Self::lease_size(rate);
        if lease > 1 {
            if let Some(mut held) = self.leases.get_mut(key) {
                if held.left > 0 && held.expires > Instant::now() {
                    held.left -= 1;
                    let remaining = held.left;
                    let limit = held.limit;
                    return Ok(RateDecision {
                        allowed: true,
                        limit,
                        remaining,
                        reset_after: rate.per,
                        retry_after: Duration::ZERO,
                    });
                }
            }
            let decision = self.cache.rate_limit(key, rate.count, rate.per, lease).await?;
            if decision.allowed {
                let expires = Instant::now() + rate.per.mul_f64(f64::from(lease) / f64::from(rate.count));
                self.leases.insert(key.to_owned(), Lease { left: lease - 1, expires, limit: rate.count });
                return Ok(decision);
            }
            // Fewer than a lease left: take requests one by one, exactly.
        }
        self.cache.rate_limit(key, rate.count, rate.per, 1).await
    }

    /// Drops expired leases (the janitor calls this).
    pub fn sweep(&self) {
        let now = Instant::now();
        self.leases.retain(|_, lease| lease.expires > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryCache;

    #[tokio::test]
    async fn leases_never_let_more_than_the_limit_through() {
        let cache: Arc<dyn Cache> = Arc::new(MemoryCache::new());
        let nodes = [RateLimiter::new(cache.clone()), RateLimiter::new(cache.clone())];
        let rate = Rate { count: 1_000, per: Duration::from_secs(60) };
        let mut allowed = 0;
        for i in 0..3_000 {
            if nodes[i % 2].check("k", rate).await.unwrap().allowed {
                allowed += 1;
            }
        }
        assert!((990..=1_000).contains(&allowed), "{allowed}");
    }

    #[test]
    fn small_limits_lease_one_request_at_a_time() {
        assert_eq!(RateLimiter::lease_size(Rate { count: 600, per: Duration::from_secs(60) }), 1);
        assert_eq!(RateLimiter::lease_size(Rate { count: 1_000_000, per: Duration::from_secs(60) }), 833);
    }
}
