//! Logs (one JSON object a line, or pretty) and the Prometheus registry with every metric the
//! server exports. Nothing here ever receives a password, token or cookie value.

use std::sync::Arc;

use prometheus::{
    exponential_buckets, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::config::LogFormat;

/// Installs the global subscriber; level from `RUST_LOG` (default `info`). Lines are written by
/// a background thread so a request never waits on stderr; keep the returned guard alive until
/// exit, it flushes what is buffered. Safe to call twice (the second call installs nothing).
pub fn init_logging(format: LogFormat) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,fred=warn"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let installed = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    installed.ok().map(|()| guard)
}

/// Every metric, registered once; shared by `Arc`.
pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub http_panics: IntCounter,
    pub logins: IntCounterVec,
    pub mfa_checks: IntCounterVec,
    pub refreshes: IntCounterVec,
    /// Active sessions of the whole cluster, counted in the database each minute.
    pub sessions_active_total: IntGauge,
    pub token_validations: IntCounterVec,
    /// Requests authenticated (or refused) by an API key, by outcome.
    pub api_key_requests: IntCounterVec,
    pub lockouts: IntCounterVec,
    pub refresh_reuse: IntCounterVec,
    pub active_sessions: IntGauge,
    pub rate_limited: IntCounterVec,
    pub bcrypt_queue: IntGauge,
    pub store_duration: HistogramVec,
    pub cache_circuit_open: IntGauge,
    /// Each circuit breaker (`database`, `database_read`, `cache`): 0 closed, 1 open, 2 half-open.
    pub circuit_state: IntGaugeVec,
    pub circuit_rejected: IntCounterVec,
    pub circuit_opened: IntCounterVec,
    pub janitor_removed: IntCounterVec,
    pub actor_live: IntGaugeVec,
    pub actor_activations: IntCounterVec,
    pub actor_passivations: IntCounterVec,
    pub actor_restarts: IntCounterVec,
    pub actor_failures: IntCounterVec,
    pub actor_mailbox: IntGaugeVec,
    pub actor_handle: HistogramVec,
    pub supervisor_children: IntGaugeVec,
    pub supervisor_restarts: IntCounterVec,
    pub supervisor_failures: IntCounterVec,
    pub root_escalations: IntCounterVec,
    pub root_restarts: IntCounterVec,
    /// Records still sealed under a session encryption key other than the first, by family
    /// (counted by the janitor): all zero means the older keys can go.
    pub sealed_stale: IntGaugeVec,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    metric
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str], buckets: Vec<f64>) -> HistogramVec {
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    metric
}

impl Metrics {
    /// Builds the registry. Names are fixed at compile time, so a registration failure is a
    /// programming error caught by the first test that starts a server.
    #[allow(clippy::expect_used)]
    pub fn new() -> Arc<Self> {
        let r = Registry::new_custom(Some("tradesage".into()), None).expect("registry");
        let micro_to_seconds = exponential_buckets(0.000_001, 2.0, 24).expect("buckets");
        let http_buckets = exponential_buckets(0.000_1, 2.0, 18).expect("buckets");
        let single = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help).expect("gauge");
            r.register(Box::new(metric.clone())).expect("register");
            metric
        };
        let http_panics = IntCounter::new("http_panics_total", "Handler panics answered with 500").expect("counter");
        r.register(Box::new(http_panics.clone())).expect("register");
        Arc::new(Self {
            http_requests: counter(
                &r,
                "http_requests_total",
                "HTTP requests by route template, method and status",
                &["route", "method", "status"],
            ),
            http_duration: histogram(
                &r,
                "http_request_duration_seconds",
                "HTTP request latency",
                &["route", "method"],
                http_buckets.clone(),
            ),
            http_panics,
            logins: counter(&r, "login_attempts_total", "Login attempts by outcome", &["outcome"]),
            mfa_checks: counter(
                &r,
                "mfa_checks_total",
                "Two-factor codes checked, by outcome: success, invalid, replayed, locked, expired (the pending \
                 sign-in was unknown, used or spent)",
                &["outcome"],
            ),
            refreshes: counter(&r, "refreshes_total", "Refresh-token presentations by outcome", &["outcome"]),
            sessions_active_total: single(
                "sessions_active_total",
                "Active sessions of the whole cluster, counted in the database once a minute; every node \
                 reports the same number, so aggregate with max, not sum",
            ),
            token_validations: counter(
                &r,
                "token_validations_total",
                "Access-token validations by outcome",
                &["outcome"],
            ),
            api_key_requests: counter(
                &r,
                "api_key_requests_total",
                "Requests presenting an API key, by outcome: valid, invalid (unknown or malformed key, wrong \
                 secret), revoked, expired, ip_not_allowed, owner_disabled, unavailable",
                &["outcome"],
            ),
            lockouts: counter(&r, "lockouts_total", "Locks applied, by ladder step", &["step"]),
            refresh_reuse: counter(&r, "refresh_reuse_total", "Spent refresh tokens presented again", &["verdict"]),
            active_sessions: single("active_sessions", "Live session actors on this node that hold an active session"),
            rate_limited: counter(&r, "rate_limited_total", "Requests refused by a rate limit", &["limit"]),
            bcrypt_queue: single("bcrypt_queue_depth", "Password checks waiting for a bcrypt thread"),
            store_duration: histogram(
                &r,
                "store_operation_duration_seconds",
                "Store round trips",
                &["store", "operation"],
                http_buckets,
            ),
            cache_circuit_open: single("cache_circuit_open", "1 while the cache circuit breaker is open"),
            circuit_state: gauge(
                &r,
                "circuit_state",
                "Circuit breakers by store: 0 closed, 1 open (calls refused at once), 2 half-open (probing)",
                &["store"],
            ),
            circuit_rejected: counter(&r, "circuit_rejected_total", "Calls refused by an open breaker", &["store"]),
            circuit_opened: counter(&r, "circuit_opened_total", "Times a breaker opened", &["store"]),
            janitor_removed: counter(&r, "janitor_removed_total", "Rows removed by the janitor", &["what"]),
            actor_live: gauge(&r, "actor_live", "Live actors by kind", &["kind"]),
            actor_activations: counter(&r, "actor_activations_total", "Actor activations by kind", &["kind"]),
            actor_passivations: counter(
                &r,
                "actor_passivations_total",
                "Idle actors stopped (state stays persisted)",
                &["kind"],
            ),
            actor_restarts: counter(&r, "actor_restarts_total", "Actors restarted by their supervisor", &["kind"]),
            actor_failures: counter(&r, "actor_failures_total", "Actor panics and errors", &["kind"]),
            actor_mailbox: gauge(
                &r,
                "actor_mailbox_depth",
                "Messages sent to actors of a kind and not yet answered",
                &["kind"],
            ),
            actor_handle: histogram(&r, "actor_handle_seconds", "Message handling time", &["kind"], micro_to_seconds),
            supervisor_children: gauge(
                &r,
                "supervisor_children",
                "Children per supervisor, as of its last passivation round",
                &["supervisor", "kind"],
            ),
            supervisor_restarts: counter(
                &r,
                "supervisor_restarts_total",
                "Restarts per supervisor",
                &["supervisor", "kind"],
            ),
            supervisor_failures: counter(
                &r,
                "supervisor_failures_total",
                "Child failures per supervisor",
                &["supervisor", "kind"],
            ),
            root_escalations: counter(
                &r,
                "root_escalations_total",
                "Children of the root that failed to it: shard supervisors past their restart intensity, or the janitor",
                &["supervisor", "kind"],
            ),
            root_restarts: counter(
                &r,
                "root_restarts_total",
                "Failed shard supervisors and janitors replaced by the root",
                &["supervisor", "kind"],
            ),
            sealed_stale: gauge(
                &r,
                "sealed_records_stale",
                "Records sealed under a SESSION_ENCRYPTION_KEYS key other than the first (or under none of them), by \
                 family, counted by the janitor while more than one key is configured; 0 in every family: the older \
                 keys can go (after `tradesage keys reseal`)",
                &["family"],
            ),
            registry: r,
        })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Estimates a quantile (in the histogram's unit) from its buckets, interpolating linearly
/// inside the bucket where the quantile falls.
pub fn histogram_quantile(histogram: &Histogram, q: f64) -> f64 {
    let (buckets, total) = histogram_buckets(histogram);
    bucket_quantile(&buckets, total, q)
}

/// A histogram's finite buckets as (upper bound, cumulative count), and its sample count
/// (the `+Inf` bucket).
pub fn histogram_buckets(histogram: &Histogram) -> (Vec<(f64, u64)>, u64) {
    use prometheus::core::Metric;
    let proto = histogram.metric();
    let h = proto.get_histogram();
    let buckets = h.get_bucket().iter().map(|b| (b.upper_bound(), b.cumulative_count())).collect();
    (buckets, h.get_sample_count())
}

/// The quantile `q` of `total` samples spread over cumulative `buckets` (upper bound, count),
/// interpolating linearly inside the bucket where it falls; the highest finite bound when it
/// falls beyond them, 0 without samples. Works as well on the difference of two readings of
/// one histogram (the samples of an interval).
pub fn bucket_quantile(buckets: &[(f64, u64)], total: u64, q: f64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let rank = q * total as f64;
    let mut lower_bound = 0.0;
    let mut lower_count = 0u64;
    for &(upper, count) in buckets {
        if count as f64 >= rank {
            let in_bucket = count.saturating_sub(lower_count).max(1) as f64;
            return lower_bound + (upper - lower_bound) * ((rank - lower_count as f64) / in_bucket);
        }
        lower_bound = upper;
        lower_count = count;
    }
    lower_bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantile_interpolates_inside_its_bucket() {
        // 10 samples: 4 at or below 1, 6 more at or below 2.
        let buckets = [(1.0, 4), (2.0, 10), (4.0, 10)];
        assert_eq!(bucket_quantile(&buckets, 10, 0.5), 1.0 + (5.0 - 4.0) / 6.0);
        assert_eq!(bucket_quantile(&buckets, 10, 0.2), 0.5);
        assert_eq!(bucket_quantile(&buckets, 0, 0.99), 0.0);
        // Samples beyond every finite bound: the highest bound.
        assert_eq!(bucket_quantile(&[(1.0, 1)], 5, 0.99), 1.0);
    }

    #[test]
    fn the_histogram_quantile_reads_the_registered_buckets() {
        let metrics = Metrics::new();
        let handle = metrics.actor_handle.with_label_values(&["session"]);
        for _ in 0..99 {
            handle.observe(0.000_010);
        }
        handle.observe(0.5);
        let (buckets, total) = histogram_buckets(&handle);
        assert_eq!(total, 100);
        assert_eq!(histogram_quantile(&handle, 0.5), bucket_quantile(&buckets, total, 0.5));
        assert!(histogram_quantile(&handle, 0.5) <= 0.000_016, "within the 10 µs sample's bucket");
    }
}
