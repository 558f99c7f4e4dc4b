//! The Redis cache (fred): a pooled, reconnecting client, Lua scripts for the atomic parts
//! (compare-and-set on a version, the rate-limit bucket), and one pub/sub channel for
//! cross-node events.
//! Every key and the channel carry the configured prefix.
//!
//! One server, Sentinel or Cluster (`store::redis_url`): each script reads and writes the one
//! key it is given, so on a Cluster it runs on that key's node and no keys need a shared hash
//! tag (a script that touched several keys would have to give them one, `{…}`). Classic
//! pub/sub reaches every node of a Cluster.

use std::time::Duration;

use async_trait::async_trait;
use fred::clients::SubscriberClient;
use fred::prelude::*;
use fred::types::scripts::Script;
use tokio::sync::broadcast;

use super::cache::{Cache, ChangeEvent, Grant, RateDecision};
use super::{StoreError, StoreResult};

/// SET unless the stored value carries a higher version. Values are `<version>:<payload>`.
const PUT_VERSIONED: &str = r#"
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%-?%d+):'))
  if version and version > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
"#;

/// `store::cache::take`, step for step, on the server's clock (so nodes with skewed clocks
/// agree). Lua's numbers are doubles: every value here stays below 2^53 (see `Bucket`), and
/// `idiv` corrects the one place where a double could round, floor division. The bucket is
/// stored as `level:at_ms`. ARGV: limit, period_ms, refund, want. Returns {granted,
/// remaining, reset_ms, retry_ms}.
const TAKE: &str = r#"
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local refund = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local capacity = limit * period
local level, at = 0, now
local stored = redis.call('GET', KEYS[1])
if stored then
  local l, a = string.match(stored, '^(%d+):(%d+)$')
  if l then level, at = tonumber(l), tonumber(a) end
end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
if elapsed > period then elapsed = period end
level = level - elapsed * limit
if level < 0 then level = 0 end
level = level - refund * period
if level < 0 then level = 0 end
local free = idiv(capacity - level, period)
local granted = 0
if free > 0 then granted = math.min(want, math.max(1, idiv(free, 2))) end
level = level + granted * period
local reset = idiv(level + limit - 1, limit)
local retry = 0
if free == 0 then retry = idiv(level + period - capacity + limit - 1, limit) end
if level > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f:%.0f', level, now), 'PX', reset + 1)
else
  redis.call('DEL', KEYS[1])
end
return {granted, free - granted, reset, retry}
"#;

pub struct RedisCache {
    pool: Pool,
    prefix: String,
    channel: String,
    events: broadcast::Sender<String>,
    put_versioned: Script,
    take: Script,
    /// Kept so its subscription task lives as long as the cache.
    _subscriber: SubscriberClient,
}

fn unavailable(error: fred::error::Error) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

impl RedisCache {
    /// Connects a pool and a subscriber. Start-up waits up to 3 s for Redis; past that the
    /// clients keep reconnecting in the background and the circuit breaker covers the gap.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let config = super::redis_url::fred_config(url)
            .map_err(|e| StoreError::Unavailable(format!("REDIS_URL: {e}").into()))?;
        let mut builder = Builder::from_config(config);
        builder
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(2);
                c.internal_command_timeout = Duration::from_secs(2);
                c.max_command_attempts = 2;
            })
            .with_performance_config(|p| {
                p.default_command_timeout = Duration::from_secs(2);
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2));
        let pool = builder.build_pool(4).map_err(unavailable)?;
        let subscriber = builder.build_subscriber_client().map_err(unavailable)?;
        pool.connect_pool();
        subscriber.connect();
        let connected = tokio::time::timeout(Duration::from_secs(3), async {
            pool.wait_for_connect().await?;
            subscriber.wait_for_connect().await
        })
        .await;
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "redis is not answering yet; continuing with the breaker open"),
            Err(_) => tracing::warn!("redis did not answer within 3 s; continuing with the breaker open"),
        }
        let channel = format!("{prefix}events");
        let (events, _) = broadcast::channel(4096);
        if let Err(e) = subscriber.subscribe(channel.clone()).await {
            tracing::warn!(error = %e, "redis subscribe failed; it is retried on reconnect");
        }
        tokio::spawn(resubscribe(subscriber.clone(), channel.clone(), events.clone()));
        let mut messages = subscriber.message_rx();
        let forward = events.clone();
        tokio::spawn(async move {
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if let Some(text) = message.value.as_string() {
                            let _ = forward.send(text);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "cross-node events were dropped; affected actors reload on next write");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            channel,
            events,
            put_versioned: Script::from_lua(PUT_VERSIONED),
            take: Script::from_lua(TAKE),
            _subscriber: subscriber,
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Deletes every key under this cache's prefix (tests use it to clean their key space).
    pub async fn clear_prefix(&self) -> StoreResult<u64> {
        const CLEAR: &str = "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n";
        let pattern = format!("{}*", self.prefix);
        self.pool.next().eval::<u64, _, _, _>(CLEAR, Vec::<String>::new(), vec![pattern]).await.map_err(unavailable)
    }
}

/// On every reconnection of the subscriber (a failover, a restarted Redis, a cluster node
/// that moved): subscribes again, then tells this node's listeners that events may have been
/// lost meanwhile ([`ChangeEvent::resync`]) — once at once and once a second later, for
/// anything published while the subscription was being made.
async fn resubscribe(subscriber: SubscriberClient, channel: String, events: broadcast::Sender<String>) {
    let mut reconnects = subscriber.reconnect_rx();
    loop {
        match reconnects.recv().await {
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
        if let Err(e) = subscriber.subscribe(channel.clone()).await {
            tracing::warn!(error = %e, "redis subscribe after a reconnection failed; retried on the next");
        }
        let _ = events.send(ChangeEvent::resync().render());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = events.send(ChangeEvent::resync().render());
    }
}

fn millis(d: Duration) -> i64 {
    (d.as_millis() as i64).max(1)
}

#[async_trait]
impl Cache for RedisCache {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.pool.next().ping::<String>(None).await.map(|_| ()).map_err(unavailable)
    }

    async fn get_versioned(&self, key: &str) -> StoreResult<Option<(i64, String)>> {
        let raw: Option<String> = self.pool.get(self.key(key)).await.map_err(unavailable)?;
        Ok(raw.and_then(|raw| {
            let (version, value) = raw.split_once(':')?;
            Some((version.parse().ok()?, value.to_owned()))
        }))
    }

    async fn put_versioned(&self, key: &str, version: i64, value: &str, ttl: Duration) -> StoreResult<bool> {
        let stored: i64 = self
            .put_versioned
            .evalsha_with_reload(
                self.pool.next(),
                vec![self.key(key)],
                vec![version.to_string(), value.to_owned(), millis(ttl).to_string()],
            )
            .await
            .map_err(unavailable)?;
        Ok(stored == 1)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.pool.del::<i64, _>(self.key(key)).await.map(|_| ()).map_err(unavailable)
    }

    async fn rate_limit(&self, key: &str, limit: u32, period: Duration, refund: u32, want: u32) -> StoreResult<Grant> {
        let limit = limit.max(1);
        let period_ms = period.as_millis().max(1);
        let answer: Vec<i64> = self
            .take
            .evalsha_with_reload(
                self.pool.next(),
                vec![self.key(key)],
                vec![limit.to_string(), period_ms.to_string(), refund.to_string(), want.to_string()],
            )
            .await
            .map_err(unavailable)?;
        let [granted, remaining, reset_ms, retry_ms] = answer[..] else {
            return Err(StoreError::Corrupt("redis: unexpected rate-limit answer".into()));
        };
        let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        Ok(Grant {
            granted: count(granted),
            decision: RateDecision {
                allowed: granted > 0,
                limit,
                remaining: count(remaining),
                reset_after: Duration::from_millis(reset_ms.max(0) as u64),
                retry_after: Duration::from_millis(retry_ms.max(0) as u64),
            },
        })
    }

    async fn publish(&self, message: &str) -> StoreResult<()> {
        self.pool.next().publish::<i64, _, _>(self.channel.clone(), message).await.map(|_| ()).map_err(unavailable)
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }
}
