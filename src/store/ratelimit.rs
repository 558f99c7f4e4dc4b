//! Rate limits that hold across nodes without a Redis round trip per request: a node takes a
//! *lease* of requests from the shared GCRA bucket in one atomic call (all or none) and spends
//! it locally, so the sum over nodes never exceeds the limit. Leases adapt to each key's
//! traffic: they start at one request, double while a key uses them up, shrink to what was
//! used when they expire with tokens left, and never hold more than [`LEASE_TTL`] of the limit
//! — so a slow client costs a Redis call per request, exactly, and a busy one about one a
//! second, while an idle node holds back little.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::cache::{Cache, RateDecision};
use super::StoreResult;
use crate::config::Rate;

/// How long a lease may be held before its unused tokens are given up.
const LEASE_TTL: Duration = Duration::from_secs(1);
const MAX_LEASE: u32 = 1_000;

struct Lease {
    size: u32,
    left: u32,
    expires: Instant,
}

pub struct RateLimiter {
    cache: Arc<dyn Cache>,
    leases: DashMap<String, Lease>,
}

impl RateLimiter {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self { cache, leases: DashMap::new() }
    }

    /// The most a lease may take: what the limit grants in [`LEASE_TTL`].
    fn max_lease(rate: Rate) -> u32 {
        let per_ttl = f64::from(rate.count) * LEASE_TTL.as_secs_f64() / rate.per.as_secs_f64();
        (per_ttl as u32).clamp(1, MAX_LEASE)
    }

    /// One request under `rate` for `key`.
    pub async fn check(&self, key: &str, rate: Rate) -> StoreResult<RateDecision> {
        let now = Instant::now();
        let next_size = match self.leases.get_mut(key) {
            Some(mut lease) if lease.left > 0 && lease.expires > now => {
                lease.left -= 1;
                let remaining = lease.left;
                return Ok(RateDecision {
                    allowed: true,
                    limit: rate.count,
                    remaining,
                    reset_after: rate.per,
                    retry_after: Duration::ZERO,
                });
            }
            // Used up before it expired: the key is busy, take twice as much.
            Some(lease) if lease.left == 0 => lease.size.saturating_mul(2),
            // Expired with tokens left: take what was used.
            Some(lease) => (lease.size - lease.left).max(1),
            None => 1,
        };
        let size = next_size.clamp(1, Self::max_lease(rate));
        if size > 1 {
            let decision = self.cache.rate_limit(key, rate.count, rate.per, size).await?;
            if decision.allowed {
                self.leases.insert(key.to_owned(), Lease { size, left: size - 1, expires: now + LEASE_TTL });
                return Ok(decision);
            }
            // Fewer than a lease left in the bucket: take requests one by one, exactly.
        }
        let decision = self.cache.rate_limit(key, rate.count, rate.per, 1).await?;
        if decision.allowed {
            self.leases.insert(key.to_owned(), Lease { size: 1, left: 0, expires: now + LEASE_TTL });
        }
        Ok(decision)
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
    fn a_lease_never_holds_more_than_a_second_of_the_limit() {
        assert_eq!(RateLimiter::max_lease(Rate { count: 30, per: Duration::from_secs(60) }), 1);
        assert_eq!(RateLimiter::max_lease(Rate { count: 600, per: Duration::from_secs(60) }), 10);
        assert_eq!(RateLimiter::max_lease(Rate { count: 1_000_000, per: Duration::from_secs(60) }), 1_000);
    }

    #[tokio::test]
    async fn a_busy_key_grows_its_lease_and_a_slow_one_keeps_taking_one() {
        let cache: Arc<dyn Cache> = Arc::new(MemoryCache::new());
        let limiter = RateLimiter::new(cache);
        let rate = Rate { count: 60_000, per: Duration::from_secs(60) };
        for _ in 0..100 {
            assert!(limiter.check("busy", rate).await.unwrap().allowed);
        }
        assert!(limiter.leases.get("busy").unwrap().size >= 32, "the lease doubled while used up");
        assert!(limiter.check("slow", rate).await.unwrap().allowed);
        assert_eq!(limiter.leases.get("slow").unwrap().size, 1);
    }
}
