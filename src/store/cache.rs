//! The cache contract: versioned values with a TTL (compare-and-set on the version), rate-limit
//! buckets, and publish/subscribe between nodes.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::StoreResult;

/// The answer of a rate limiter (GCRA), with what the `RateLimit-*` headers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
    /// Until the next request would be allowed (zero when allowed).
    pub retry_after: Duration,
}

impl RateDecision {
    /// The answer of a limit that is `off`.
    pub fn unlimited() -> Self {
        RateDecision { allowed: true, limit: 0, remaining: 0, reset_after: Duration::ZERO, retry_after: Duration::ZERO }
    }
}

/// What a bucket gave: `granted` requests (none when refused), and the decision to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub granted: u32,
    pub decision: RateDecision,
}

/// A rate-limit bucket as stored. A request costs `period_ms` units and the bucket drains
/// `limit` units a millisecond, so `limit` requests fill it (`limit × period_ms` units) and it
/// empties in one period. Everything is a whole number: no rounding at any rate, 10^7 a second
/// included (a request is 1,000 units, the drain 10^7 a millisecond). With the limits the
/// configuration allows (N ≤ 10^7 per hour at most) every value stays below 2^53, so Redis's
/// Lua, whose numbers are doubles, computes exactly the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub level: u64,
    /// When `level` was last brought up to date (Unix ms).
    pub at_ms: u64,
}

/// One atomic step on a bucket, shared by the in-process cache (the Redis script runs the same
/// steps in Lua): drain to `now_ms`, give back `refund` unused requests, then grant up to
/// `want`, but never more than half of what is free (at least one while any is), so nodes near
/// the limit take requests one by one rather than hold them. Returns the grant and the bucket
/// to store (`None` once it is empty).
pub fn take(
    stored: Option<Bucket>,
    now_ms: u64,
    limit: u32,
    period: Duration,
    refund: u32,
    want: u32,
) -> (Grant, Option<Bucket>) {
    let limit = u64::from(limit.max(1));
    let period_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
    let capacity = limit.saturating_mul(period_ms);
    let bucket = stored.unwrap_or(Bucket { level: 0, at_ms: now_ms });
    let elapsed = now_ms.saturating_sub(bucket.at_ms).min(period_ms);
    let level = bucket
        .level
        .saturating_sub(elapsed.saturating_mul(limit))
        .saturating_sub(u64::from(refund).saturating_mul(period_ms));
    let free = capacity.saturating_sub(level) / period_ms;
    let granted = if free == 0 { 0 } else { u64::from(want).min((free / 2).max(1)) };
    let level = level + granted * period_ms;
    let retry_ms = if free == 0 { (level + period_ms - capacity).div_ceil(limit) } else { 0 };
    let decision = RateDecision {
        allowed: granted > 0,
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
        remaining: u32::try_from(free - granted).unwrap_or(u32::MAX),
        reset_after: Duration::from_millis(level.div_ceil(limit)),
        retry_after: Duration::from_millis(retry_ms),
    };
    let granted = u32::try_from(granted).unwrap_or(u32::MAX);
    let stored = (level > 0).then_some(Bucket { level, at_ms: now_ms });
    (Grant { granted, decision }, stored)
}

/// A change announced on the cross-node channel: `<node> <kind> <id> <version>`. The node
/// id lets a node ignore its own announcements; each listener acts on the kinds it owns.
pub struct ChangeEvent {
    pub node_id: Uuid,
    pub kind: String,
    pub id: String,
    pub version: i64,
}

/// The kind of the event that says events may have been lost (Redis failed over, a node
/// could not publish, a subscriber reconnected): every node drops every copy it holds, which
/// reloads from the database when next used.
pub const RESYNC: &str = "resync";

impl ChangeEvent {
    /// A [`RESYNC`] event (from no node in particular, so no node skips it as its own).
    pub fn resync() -> Self {
        ChangeEvent { node_id: Uuid::nil(), kind: RESYNC.to_owned(), id: Uuid::nil().to_string(), version: 0 }
    }

    pub fn render(&self) -> String {
        format!("{} {} {} {}", self.node_id, self.kind, self.id, self.version)
    }

    pub fn parse(message: &str) -> Option<Self> {
        let mut parts = message.split(' ');
        let event = ChangeEvent {
            node_id: parts.next()?.parse().ok()?,
            kind: parts.next()?.to_owned(),
            id: parts.next()?.to_owned(),
            version: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(event)
    }
}

#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// `redis` or `memory`.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;

    /// A value with its version, if present and not expired.
    async fn get_versioned(&self, key: &str) -> StoreResult<Option<(i64, String)>>;
    /// Stores `value` unless a newer version is already there; false when it was newer.
    async fn put_versioned(&self, key: &str, version: i64, value: &str, ttl: Duration) -> StoreResult<bool>;
    async fn delete(&self, key: &str) -> StoreResult<()>;

    /// One atomic [`take`] on the bucket of `key` (a limit of `limit` per `period`): gives back
    /// `refund` requests, then grants up to `want`. Atomic across nodes.
    async fn rate_limit(&self, key: &str, limit: u32, period: Duration, refund: u32, want: u32) -> StoreResult<Grant>;

    /// Sends `message` to every node (this one included).
    async fn publish(&self, message: &str) -> StoreResult<()>;
    /// Messages published by any node.
    fn subscribe(&self) -> broadcast::Receiver<String>;

    /// Drops expired entries where the backend does not do it itself.
    async fn sweep(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const MINUTE: Duration = Duration::from_secs(60);

    /// Takes requests one by one at `now_ms` until refused; returns how many passed.
    fn drain(bucket: &mut Option<Bucket>, now_ms: u64, limit: u32, period: Duration, want: u32) -> u64 {
        let mut passed = 0;
        loop {
            let (grant, next) = take(*bucket, now_ms, limit, period, 0, want);
            *bucket = next.or(*bucket);
            if grant.granted == 0 {
                return passed;
            }
            passed += u64::from(grant.granted);
        }
    }

    #[test]
    fn a_burst_gets_exactly_the_limit_then_a_refusal_with_the_wait() {
        let mut bucket = None;
        for i in 0..10 {
            let (grant, next) = take(bucket, 1_000_000, 10, MINUTE, 0, 1);
            assert_eq!((grant.granted, grant.decision.remaining), (1, 9 - i), "request {i}");
            bucket = next;
        }
        let (refused, _) = take(bucket, 1_000_000, 10, MINUTE, 0, 1);
        assert!(!refused.decision.allowed);
        assert_eq!(refused.decision.retry_after, Duration::from_secs(6));
        assert_eq!(refused.decision.reset_after, MINUTE);
        let (later, _) = take(bucket, 1_006_000, 10, MINUTE, 0, 1);
        assert!(later.decision.allowed, "one request drained in 6 s");
    }

    #[test]
    fn ten_million_a_second_is_exact() {
        let mut bucket = None;
        assert_eq!(drain(&mut bucket, 5_000, 10_000_000, SECOND, 1 << 20), 10_000_000);
        // One millisecond later exactly 10^4 more fit: 10^7 a second, no rounding.
        assert_eq!(drain(&mut bucket, 5_001, 10_000_000, SECOND, 1 << 20), 10_000);
        // A full second later the bucket is empty again.
        assert_eq!(drain(&mut bucket, 6_001, 10_000_000, SECOND, 1 << 20), 10_000_000);
    }

    #[test]
    fn ten_million_a_minute_is_exact() {
        let mut bucket = None;
        assert_eq!(drain(&mut bucket, 0, 10_000_000, MINUTE, 1 << 20), 10_000_000);
        // 10^7 a minute is 166.67 a millisecond: 6 ms free exactly 1,000, 3 ms 500.
        assert_eq!(drain(&mut bucket, 6, 10_000_000, MINUTE, 1 << 20), 1_000);
        assert_eq!(drain(&mut bucket, 9, 10_000_000, MINUTE, 1 << 20), 500);
        assert_eq!(drain(&mut bucket, 10, 10_000_000, MINUTE, 1), 166, "1 ms: 166 whole requests");
        assert_eq!(drain(&mut bucket, 11, 10_000_000, MINUTE, 1), 167, "the fraction carries over");
    }

    #[test]
    fn awkward_rates_are_never_exceeded_nor_refused_below() {
        for (limit, period) in [(3, SECOND), (7, SECOND), (9_999_999, SECOND), (1_000, Duration::from_secs(3600))] {
            let mut bucket = None;
            assert_eq!(drain(&mut bucket, 42, limit, period, 1 << 20), u64::from(limit), "{limit}/{period:?}");
        }
    }

    #[test]
    fn a_lease_takes_at_most_half_of_what_is_free_and_refunds_come_back() {
        let (grant, bucket) = take(None, 0, 100, MINUTE, 0, 1_000);
        assert_eq!((grant.granted, grant.decision.remaining), (50, 50));
        let (grant, bucket) = take(bucket, 0, 100, MINUTE, 0, 1_000);
        assert_eq!(grant.granted, 25);
        let (refunded, bucket) = take(bucket, 0, 100, MINUTE, 70, 0);
        assert_eq!((refunded.granted, refunded.decision.remaining), (0, 95), "70 of 75 given back");
        let (one, _) = take(Some(Bucket { level: 99 * 60_000, at_ms: 0 }), 0, 100, MINUTE, 0, 1_000);
        assert_eq!(one.granted, 1, "the last free request is granted alone");
        assert!(bucket.is_some());
    }
}
