//! What the operators' endpoints answer: the health report, the actor view of one node or of
//! the cluster, and the actors' history — view types built from the service's plain data
//! (`From`), deriving their OpenAPI schema (`ToSchema`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::ActorsView;
use crate::actors::cluster::NodeSeries;
use crate::actors::history::{KindSeries, Point};
use crate::service::health::{Check, CheckStatus, HealthReport};

/// The state of one dependency; the overall status is the worst of them.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Degraded,
    Down,
}

impl From<CheckStatus> for Status {
    fn from(status: CheckStatus) -> Self {
        match status {
            CheckStatus::Ok => Status::Ok,
            CheckStatus::Degraded => Status::Degraded,
            CheckStatus::Down => Status::Down,
        }
    }
}

/// One check of `/health/detailed`.
#[derive(Serialize, ToSchema)]
#[schema(as = Check)]
pub struct CheckView {
    status: Status,
    latency_ms: f64,
    /// `postgres` or `sqlite` for the database, `redis` or `memory` for the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<&'static str>,
    /// What was found: why the check is not `ok`, and a figure or two (live actors, verifying
    /// keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl From<&Check> for CheckView {
    fn from(c: &Check) -> Self {
        Self { status: c.status.into(), latency_ms: c.latency_ms, backend: c.backend, detail: c.detail.clone() }
    }
}

/// The answer of `/health/detailed`.
// Fields in the order the `json!` map this replaced wrote them (alphabetical).
#[derive(Serialize, ToSchema)]
pub struct DetailedHealth {
    checks: Checks,
    /// The worst of the checks.
    pub status: Status,
}

/// The checks. `actors` is degraded for a minute after a supervisor escalated a failure to the
/// root, or while 1,000 or more messages wait for the actors of one kind; `keys` is degraded
/// when no key signs, when the only signing key retires within an hour, or when the key files
/// changed on disk and do not load.
#[derive(Serialize, ToSchema)]
pub struct Checks {
    actors: CheckView,
    cache: CheckView,
    database: CheckView,
    keys: CheckView,
}

impl From<&HealthReport> for DetailedHealth {
    fn from(r: &HealthReport) -> Self {
        Self {
            checks: Checks {
                actors: (&r.actors).into(),
                cache: (&r.cache).into(),
                database: (&r.database).into(),
                keys: (&r.keys).into(),
            },
            status: r.status().into(),
        }
    }
}

/// Which actor systems `GET /api/v1/admin/actors` shows.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorsScope {
    /// This node's.
    Node,
    /// Every live node's.
    Cluster,
}

/// Every live node's actor system: each node publishes its snapshot every 2 s; a node not
/// heard for 10 s is left out.
#[derive(Serialize, ToSchema)]
pub struct ClusterActorsView {
    /// The node that answered (its own entry is fresh, the others' at most 2 s old).
    pub node: String,
    /// One entry per live node, by name, in the shape of the single-node answer.
    pub nodes: Vec<ActorsView>,
}

/// The answer of `GET /api/v1/admin/actors`: one node's actor system (`scope=node`), or every
/// live node's (`scope=cluster`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ActorsAnswer {
    Node(ActorsView),
    Cluster(ClusterActorsView),
}

/// The actors' recent past, per node and kind, as the answering node heard it.
#[derive(Serialize, ToSchema)]
pub struct ActorsHistoryView {
    /// Seconds between points (10).
    pub step_s: u64,
    /// The minutes covered.
    pub minutes: u32,
    /// Every node heard in the last 15 minutes, by name, reporting or not.
    pub nodes: Vec<NodeHistoryView>,
}

/// One node's points.
#[derive(Serialize, ToSchema)]
pub struct NodeHistoryView {
    pub node: String,
    /// False once the node has not been heard for 10 s (stopped, or cut off): its past
    /// points stay until they are 15 minutes old.
    pub reporting: bool,
    /// When its latest report was taken.
    pub last_report_at: DateTime<Utc>,
    pub kinds: Vec<KindHistoryView>,
}

/// One kind's points on one node, oldest first.
#[derive(Serialize, ToSchema)]
pub struct KindHistoryView {
    #[schema(example = "session")]
    pub kind: String,
    pub points: Vec<PointView>,
}

/// One step (10 s) of one kind on one node. Counters (`activations`, `passivations`,
/// `restarts`, `failures`) are deltas over the interval, not totals since the node started
/// (divide by `interval_s` for a rate); gauges (`live`, `mailbox_depth`) are their value at
/// the end of the interval.
#[derive(Serialize, ToSchema)]
#[schema(as = ActorsPoint)]
pub struct PointView {
    /// The end of the step (a multiple of 10 s).
    pub t: DateTime<Utc>,
    /// Seconds the deltas cover: about 10, more after a gap in the node's reports.
    pub interval_s: f64,
    pub live: i64,
    pub activations: u64,
    pub passivations: u64,
    pub restarts: u64,
    pub failures: u64,
    pub mailbox_depth: i64,
    /// The 99th percentile of the handle time of the messages handled in this interval (not
    /// since start), in ms; null when none was.
    pub p99_ms: Option<f64>,
}

impl From<&Point> for PointView {
    fn from(p: &Point) -> Self {
        Self {
            t: p.t,
            interval_s: p.interval_s,
            live: p.live,
            activations: p.activations,
            passivations: p.passivations,
            restarts: p.restarts,
            failures: p.failures,
            mailbox_depth: p.mailbox_depth,
            p99_ms: p.p99_ms,
        }
    }
}

impl From<&KindSeries> for KindHistoryView {
    fn from(k: &KindSeries) -> Self {
        Self { kind: k.kind.clone(), points: k.points.iter().map(PointView::from).collect() }
    }
}

impl From<&NodeSeries> for NodeHistoryView {
    fn from(n: &NodeSeries) -> Self {
        Self {
            node: n.node.clone(),
            reporting: n.reporting,
            last_report_at: n.last_report_at,
            kinds: n.kinds.iter().map(KindHistoryView::from).collect(),
        }
    }
}
