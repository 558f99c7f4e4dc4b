//! The in-process cache of the embedded mode: the same contract as Redis, for one node.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use dashmap::DashMap;
use tokio::sync::broadcast;

use super::cache::{take, Bucket, Cache, Grant};
use super::StoreResult;

struct Entry {
    version: i64,
    value: String,
    expires: Instant,
}

/// A concurrent map with expiry, rate-limit buckets and a local broadcast.
pub struct MemoryCache {
    entries: DashMap<String, Entry>,
    /// Rate-limit buckets, with when each will have drained empty (Unix ms).
    buckets: DashMap<String, (Bucket, u64)>,
    events: broadcast::Sender<String>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCache {
    pub fn new() -> Self {
        Self { entries: DashMap::new(), buckets: DashMap::new(), events: broadcast::channel(4096).0 }
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[async_trait]
impl Cache for MemoryCache {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn get_versioned(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
        let now = Instant::now();
        Ok(self.entries.get(key).filter(|e| e.expires > now).map(|e| (e.version, e.value.clone())))
    }

    async fn put_versioned(&self, key: &str, version: i64, value: &str, ttl: Duration) -> StoreResult<bool> {
        let now = Instant::now();
        let mut stored = false;
        self.entries
            .entry(key.to_owned())
            .and_modify(|e| {
                if e.expires <= now || e.version <= version {
                    *e = Entry { version, value: value.to_owned(), expires: now + ttl };
                    stored = true;
                }
            })
            .or_insert_with(|| {
                stored = true;
                Entry { version, value: value.to_owned(), expires: now + ttl }
            });
        Ok(stored)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.entries.remove(key);
        Ok(())
    }

    async fn rate_limit(&self, key: &str, limit: u32, period: Duration, refund: u32, want: u32) -> StoreResult<Grant> {
        let now = now_ms();
        let grant = match self.buckets.entry(key.to_owned()) {
            dashmap::Entry::Occupied(mut entry) => {
                let (grant, next) = take(Some(entry.get().0), now, limit, period, refund, want);
                match next {
                    Some(bucket) => *entry.get_mut() = (bucket, now + grant.decision.reset_after.as_millis() as u64),
                    None => {
                        entry.remove();
                    }
                }
                grant
            }
            dashmap::Entry::Vacant(entry) => {
                let (grant, next) = take(None, now, limit, period, refund, want);
                if let Some(bucket) = next {
                    entry.insert((bucket, now + grant.decision.reset_after.as_millis() as u64));
                }
                grant
            }
        };
        Ok(grant)
    }

    async fn publish(&self, message: &str) -> StoreResult<()> {
        // No subscriber is not an error: a lone node has no one to tell.
        let _ = self.events.send(message.to_owned());
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }

    async fn sweep(&self) {
        let now = Instant::now();
        let now_ms = now_ms();
        self.entries.retain(|_, e| e.expires > now);
        self.buckets.retain(|_, (_, empty_at)| *empty_at > now_ms);
    }
}
