//! Rate limits that hold across nodes without a Redis round trip per request, exact at any
//! rate up to 10^7 a second (API.md §5.1).
//!
//! The shared bucket ([`take`](super::cache::take), in Lua on Redis) is the one authority. A
//! node takes a *lease* of requests from it in one atomic call and spends them locally, so the
//! sum allowed over nodes never exceeds the limit. Leases follow each key's traffic: they start
//! at one request, double while a key uses them up within [`LEASE_TTL`], and shrink to what was
//! used when they expire with requests left — those are given back to the bucket, at the key's
//! next request or by [`refund_ticker`] within a lease's life. A lease never takes more than
//! half of what the bucket has left, so near the limit every node asks for each request. A
//! slow key therefore costs a Redis call per request, a busy one a few a second; on one node a
//! key is never refused below its limit, and across nodes only while another node holds a
//! lease taken less than [`LEASE_TTL`] ago.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::cache::{Cache, RateDecision};
use super::StoreResult;
use crate::config::Rate;

/// How long a lease may be held before its unused requests are given back.
pub const LEASE_TTL: Duration = Duration::from_secs(1);
/// A lease idle this long is forgotten (its requests were given back long before); until then
/// its size tells how much the key's next lease should take.
const LEASE_MEMORY: Duration = Duration::from_secs(60);

struct Lease {
    rate: Rate,
    /// Requests taken from the bucket for this lease.
    size: u32,
    /// Of those, not spent yet.
    left: u32,
    expires: Instant,
}

pub struct RateLimiter {
    cache: Arc<dyn Cache>,
    leases: DashMap<String, Lease>,
    lease_ttl: Duration,
}

impl RateLimiter {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self::with_lease_ttl(cache, LEASE_TTL)
    }

    /// A limiter whose leases live `lease_ttl` (tests shorten it).
    pub fn with_lease_ttl(cache: Arc<dyn Cache>, lease_ttl: Duration) -> Self {
        Self { cache, leases: DashMap::new(), lease_ttl }
    }

    /// The most a lease may take: what the limit grants in a lease's life.
    fn max_lease(&self, rate: Rate) -> u32 {
        let per_lease = u128::from(rate.count) * self.lease_ttl.as_millis() / rate.per.as_millis().max(1);
        u32::try_from(per_lease).unwrap_or(u32::MAX).clamp(1, rate.count.max(1))
    }

    /// Spends one request of `key`'s lease if it has one left.
    fn spend(&self, key: &str, now: Instant) -> Option<u32> {
        let mut lease = self.leases.get_mut(key)?;
        (lease.expires > now && lease.left > 0).then(|| {
            lease.left -= 1;
            lease.left
        })
    }

    /// One request under `limit` for `key` (`None`: the limit is `off`).
    pub async fn check(&self, key: &str, limit: Option<Rate>) -> StoreResult<RateDecision> {
        let Some(rate) = limit else { return Ok(RateDecision::unlimited()) };
        let now = Instant::now();
        if let Some(left) = self.spend(key, now) {
            return Ok(allowed(rate, left));
        }
        let (refund, want) = match self.leases.get_mut(key) {
            // Used up before it expired: the key is busy, take twice as much.
            Some(lease) if lease.expires > now => (0, lease.size.saturating_mul(2)),
            // Expired: give back what is left, and take what was used.
            Some(mut lease) => {
                let unused = std::mem::take(&mut lease.left);
                (unused, (lease.size - unused).max(1))
            }
            None => (0, 1),
        };
        let want = want.clamp(1, self.max_lease(rate));
        let grant = match self.cache.rate_limit(key, rate.count, rate.per, refund, want).await {
            Ok(grant) => grant,
            Err(e) => {
                // Keep the requests to give back for the next attempt.
                if let Some(mut lease) = self.leases.get_mut(key) {
                    lease.left += refund;
                }
                return Err(e);
            }
        };
        if grant.granted == 0 {
            // A concurrent request of this key may have taken a lease meanwhile: use it rather
            // than refuse below the limit.
            return Ok(match self.spend(key, now) {
                Some(left) => allowed(rate, left),
                None => grant.decision,
            });
        }
        let fresh = Lease { rate, size: grant.granted, left: grant.granted - 1, expires: now + self.lease_ttl };
        let mut lease = self.leases.entry(key.to_owned()).or_insert(Lease { left: 0, ..fresh });
        if lease.expires > now && lease.left > 0 {
            // Another request of this key took a lease meanwhile: keep both.
            lease.size += fresh.size;
            lease.left += fresh.left;
            lease.expires = lease.expires.max(fresh.expires);
        } else {
            *lease = fresh;
        }
        Ok(grant.decision)
    }

    /// Gives back the unused requests of expired leases, and forgets leases idle for long.
    pub async fn refund_expired(&self) {
        let now = Instant::now();
        let mut due = Vec::new();
        self.leases.retain(|key, lease| {
            if lease.expires <= now && lease.left > 0 {
                // From now on the lease counts what was used: the key's next lease takes that.
                let unused = std::mem::take(&mut lease.left);
                lease.size -= unused;
                due.push((key.clone(), lease.rate, unused));
            }
            lease.expires + LEASE_MEMORY > now
        });
        for (key, rate, unused) in due {
            if let Err(e) = self.cache.rate_limit(&key, rate.count, rate.per, unused, 0).await {
                // The bucket drains them anyway within one period.
                tracing::debug!(error = %e, "unused rate-limit requests could not be given back");
            }
        }
    }

    /// Forgets leases idle for long whose requests have been given back (the janitor calls it).
    pub fn sweep(&self) {
        let now = Instant::now();
        self.leases.retain(|_, lease| lease.left > 0 || lease.expires + LEASE_MEMORY > now);
    }
}

fn allowed(rate: Rate, left: u32) -> RateDecision {
    RateDecision {
        allowed: true,
        limit: rate.count,
        remaining: left,
        reset_after: rate.per,
        retry_after: Duration::ZERO,
    }
}

/// Every lease lifetime, gives back what expired leases left unused, until the limiter is
/// dropped. `store::open` spawns it.
pub async fn refund_ticker(limiter: Weak<RateLimiter>) {
    let mut tick = tokio::time::interval(LEASE_TTL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(limiter) = limiter.upgrade() else { return };
        limiter.refund_expired().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryCache;

    const HOUR: Duration = Duration::from_secs(3_600);

    fn rate(count: u32, per: Duration) -> Option<Rate> {
        Some(Rate { count, per })
    }

    async fn allowed_of(limiter: &RateLimiter, key: &str, limit: Option<Rate>, requests: usize) -> usize {
        let mut passed = 0;
        for _ in 0..requests {
            if limiter.check(key, limit).await.unwrap().allowed {
                passed += 1;
            }
        }
        passed
    }

    #[tokio::test]
    async fn two_nodes_sharing_a_bucket_allow_exactly_the_limit_in_sum() {
        let cache: Arc<dyn Cache> = Arc::new(MemoryCache::new());
        let nodes = [RateLimiter::new(cache.clone()), RateLimiter::new(cache.clone())];
        let limit = rate(1_000, HOUR);
        let mut allowed = 0;
        for i in 0..3_000 {
            if nodes[i % 2].check("k", limit).await.unwrap().allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 1_000);
    }

    #[tokio::test]
    async fn one_node_is_never_refused_below_the_limit_at_any_rate() {
        for (count, per) in [(30, Duration::from_secs(60)), (7, Duration::from_secs(1)), (50_000, HOUR)] {
            let limiter = RateLimiter::new(Arc::new(MemoryCache::new()));
            let passed = allowed_of(&limiter, "k", rate(count, per), count as usize).await;
            assert_eq!(passed, count as usize, "{count}/{per:?}");
        }
    }

    #[tokio::test]
    async fn a_busy_key_grows_its_lease_without_a_cap_and_a_slow_one_keeps_taking_one() {
        let limiter = RateLimiter::new(Arc::new(MemoryCache::new()));
        let limit = rate(10_000_000, Duration::from_secs(1));
        assert_eq!(allowed_of(&limiter, "busy", limit, 200_000).await, 200_000);
        assert!(limiter.leases.get("busy").unwrap().size >= 65_536, "the lease doubled past the old cap of 1,000");
        assert!(limiter.check("slow", limit).await.unwrap().allowed);
        assert_eq!(limiter.leases.get("slow").unwrap().size, 1);
        assert_eq!(limiter.max_lease(Rate { count: 30, per: Duration::from_secs(60) }), 1);
        assert_eq!(limiter.max_lease(Rate { count: 10_000_000, per: Duration::from_secs(1) }), 10_000_000);
    }

    /// A cache that records what each rate-limit call gave back and asked for.
    struct Recording {
        inner: MemoryCache,
        calls: std::sync::Mutex<Vec<(u32, u32)>>,
    }

    #[async_trait::async_trait]
    impl Cache for Recording {
        fn backend(&self) -> &'static str {
            "recording"
        }
        async fn ping(&self) -> StoreResult<()> {
            Ok(())
        }
        async fn get_versioned(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
            self.inner.get_versioned(key).await
        }
        async fn put_versioned(&self, key: &str, version: i64, value: &str, ttl: Duration) -> StoreResult<bool> {
            self.inner.put_versioned(key, version, value, ttl).await
        }
        async fn delete(&self, key: &str) -> StoreResult<()> {
            self.inner.delete(key).await
        }
        async fn rate_limit(
            &self,
            key: &str,
            limit: u32,
            period: Duration,
            refund: u32,
            want: u32,
        ) -> StoreResult<crate::store::Grant> {
            self.calls.lock().unwrap().push((refund, want));
            self.inner.rate_limit(key, limit, period, refund, want).await
        }
        async fn publish(&self, message: &str) -> StoreResult<()> {
            self.inner.publish(message).await
        }
        fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
            self.inner.subscribe()
        }
    }

    #[tokio::test]
    async fn what_a_lease_left_unused_goes_back_to_the_bucket() {
        let cache = Arc::new(Recording { inner: MemoryCache::new(), calls: Default::default() });
        let lease_ttl = Duration::from_millis(200);
        let limiter = RateLimiter::with_lease_ttl(cache.clone(), lease_ttl);
        let limit = rate(1_000_000, Duration::from_secs(1));
        // Leases of 1, 2, 4, then 8 of which one is spent.
        assert_eq!(allowed_of(&limiter, "k", limit, 8).await, 8);
        assert_eq!(*cache.calls.lock().unwrap(), [(0, 1), (0, 2), (0, 4), (0, 8)]);
        tokio::time::sleep(lease_ttl + Duration::from_millis(50)).await;
        limiter.refund_expired().await;
        assert_eq!(cache.calls.lock().unwrap().last(), Some(&(7, 0)), "the 7 unused went back");
        limiter.refund_expired().await;
        assert_eq!(cache.calls.lock().unwrap().len(), 5, "given back once");
        // The key's next request takes what the last lease used, not what it held.
        assert!(limiter.check("k", limit).await.unwrap().allowed);
        assert_eq!(cache.calls.lock().unwrap().last(), Some(&(0, 1)));
    }

    #[tokio::test]
    async fn off_is_never_refused() {
        let limiter = RateLimiter::new(Arc::new(MemoryCache::new()));
        assert_eq!(allowed_of(&limiter, "k", None, 10_000).await, 10_000);
        assert!(limiter.leases.is_empty());
    }
}
