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

/// GCRA in plain arithmetic, shared by the in-process limiter (the Redis one runs the same
/// steps in Lua). `tat` is the theoretical arrival time in ms; `cost` requests are taken at
/// once (all or none); returns the decision and the new `tat` to store when allowed.
pub fn gcra(tat: Option<u64>, now_ms: u64, limit: u32, period: Duration, cost: u32) -> (RateDecision, Option<u64>) {
    let interval = (period.as_millis() as u64 / limit.max(1) as u64).max(1);
    let tolerance = period.as_millis() as u64;
    let tat = tat.unwrap_or(now_ms).max(now_ms);
    let new_tat = tat + interval * u64::from(cost.max(1));
    let allow_at = new_tat.saturating_sub(tolerance);
    if allow_at > now_ms {
        let used = tat - now_ms;
        let decision = RateDecision {
            allowed: false,
            limit,
            remaining: 0,
            reset_after: Duration::from_millis(used),
            retry_after: Duration::from_millis(allow_at - now_ms),
        };
        return (decision, None);
    }
    let used = new_tat - now_ms;
    let remaining = ((tolerance - used) / interval) as u32;
    let decision = RateDecision {
        allowed: true,
        limit,
        remaining,
        reset_after: Duration::from_millis(used),
        retry_after: Duration::ZERO,
    };
    (decision, Some(new_tat))
}

/// A change announced on the cross-node channel: `<node> <kind> <id> <version>`. The node
/// id lets a node ignore its own announcements; each listener acts on the kinds it owns.
pub struct ChangeEvent {
    pub node_id: Uuid,
    pub kind: String,
    pub id: String,
    pub version: i64,
}

impl ChangeEvent {
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

    /// Takes `cost` requests (all or none) from a GCRA limit of `limit` per `period`, atomic
    /// across nodes.
    async fn rate_limit(&self, key: &str, limit: u32, period: Duration, cost: u32) -> StoreResult<RateDecision>;

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

    #[test]
    fn gcra_allows_the_limit_within_a_period_then_refuses() {
        let period = Duration::from_secs(60);
        let mut tat = None;
        for i in 0..10 {
            let (decision, new_tat) = gcra(tat, 1_000_000, 10, period, 1);
            assert!(decision.allowed, "request {i}");
            assert_eq!(decision.remaining, 9 - i);
            tat = new_tat;
        }
        let (refused, _) = gcra(tat, 1_000_000, 10, period, 1);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(6));
        let (later, _) = gcra(tat, 1_006_000, 10, period, 1);
        assert!(later.allowed);
    }
}
