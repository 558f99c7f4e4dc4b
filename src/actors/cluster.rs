//! The cluster-wide actor view. Every node publishes its [`ActorsSnapshot`] each
//! [`PUBLISH_EVERY`] (2 s) on the cross-node events channel (the cache's publish/subscribe:
//! Redis pub/sub, or in-process in the embedded mode), and keeps what it hears: the latest
//! snapshot of each node, live while heard within [`LIVE_WITHIN`] (10 s), and each node's
//! history (see [`history`](super::history)) for 15 minutes, also after it stopped reporting.
//!
//! A report is one line, `actors-snapshot <json>`; the other listeners of the channel parse
//! [`ChangeEvent`](crate::store::cache::ChangeEvent)s, which never start with that word, so
//! they pass it by. A node records its own snapshots directly, so it sees itself even while
//! the channel is down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::history::{KindSeries, NodeHistory, KEEP};
use super::{ActorSystem, ActorsSnapshot};
use crate::store::Cache;

/// How often a node publishes its snapshot.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(2);
/// A node not heard for longer is no longer live (it stopped, or cannot reach the channel).
pub const LIVE_WITHIN: Duration = Duration::from_secs(10);

/// The first word of a report on the events channel.
const PREFIX: &str = "actors-snapshot ";

/// What a node publishes: its snapshot and when it took it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Tells a node its own reports apart.
    pub node_id: Uuid,
    /// When the snapshot was taken, by the reporting node's clock (history steps use it).
    pub at: DateTime<Utc>,
    pub snapshot: ActorsSnapshot,
}

impl Report {
    pub fn render(&self) -> String {
        format!("{PREFIX}{}", serde_json::to_string(self).unwrap_or_default())
    }

    /// A report, or `None` for any other message of the channel.
    pub fn parse(message: &str) -> Option<Self> {
        serde_json::from_str(message.strip_prefix(PREFIX)?).ok()
    }
}

/// What this node knows of another (or of itself).
struct Heard {
    node_id: Uuid,
    latest: ActorsSnapshot,
    /// When this node last heard it, by this node's clock: liveness needs no clock agreement.
    heard: Instant,
    last_report_at: DateTime<Utc>,
    history: NodeHistory,
}

/// One node's history as answered.
#[derive(Debug, Clone)]
pub struct NodeSeries {
    pub node: String,
    /// Heard within the last [`LIVE_WITHIN`].
    pub reporting: bool,
    /// The time its latest report was taken.
    pub last_report_at: DateTime<Utc>,
    pub kinds: Vec<KindSeries>,
}

/// The latest snapshot and the history of every node heard in the last 15 minutes.
pub struct ClusterView {
    node_id: Uuid,
    /// This node's name.
    node: String,
    nodes: Mutex<HashMap<String, Heard>>,
}

impl ClusterView {
    pub fn new(node_id: Uuid, node: String) -> Arc<Self> {
        Arc::new(Self { node_id, node, nodes: Mutex::new(HashMap::new()) })
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn nodes(&self) -> MutexGuard<'_, HashMap<String, Heard>> {
        self.nodes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a report heard at `heard` (this node's own included).
    pub fn record(&self, report: Report, heard: Instant) {
        let mut nodes = self.nodes();
        let name = report.snapshot.node.clone();
        let entry = nodes.entry(name).or_insert_with(|| Heard {
            node_id: report.node_id,
            latest: report.snapshot.clone(),
            heard,
            last_report_at: report.at,
            history: NodeHistory::default(),
        });
        if entry.node_id != report.node_id {
            // Another process under the same name: its counters are not the previous one's.
            entry.node_id = report.node_id;
            entry.history = NodeHistory::default();
        }
        entry.history.record(report.at, &report.snapshot);
        if report.at >= entry.last_report_at {
            entry.latest = report.snapshot;
            entry.last_report_at = report.at;
        }
        entry.heard = heard;
        let oldest = report.at - chrono::Duration::from_std(KEEP).unwrap_or_default();
        nodes.retain(|_, node| {
            node.history.prune(oldest);
            heard.saturating_duration_since(node.heard) < KEEP
        });
    }

    /// The snapshot of every live node, `own` (this node's, fresh) among them, by name.
    pub fn live(&self, own: ActorsSnapshot, now: Instant) -> Vec<ActorsSnapshot> {
        let mut live: Vec<ActorsSnapshot> = self
            .nodes()
            .iter()
            .filter(|(name, node)| **name != own.node && now.saturating_duration_since(node.heard) <= LIVE_WITHIN)
            .map(|(_, node)| node.latest.clone())
            .collect();
        live.push(own);
        live.sort_by(|a, b| a.node.cmp(&b.node));
        live
    }

    /// The points of every node heard in the last 15 minutes, from `since` on, by name;
    /// nodes no longer heard keep their past points and show `reporting: false`.
    pub fn history(&self, since: DateTime<Utc>, now: Instant) -> Vec<NodeSeries> {
        let mut nodes: Vec<NodeSeries> = self
            .nodes()
            .iter()
            .filter(|(_, node)| now.saturating_duration_since(node.heard) < KEEP)
            .map(|(name, node)| NodeSeries {
                node: name.clone(),
                reporting: now.saturating_duration_since(node.heard) <= LIVE_WITHIN,
                last_report_at: node.last_report_at,
                kinds: node.history.since(since),
            })
            .collect();
        nodes.sort_by(|a, b| a.node.cmp(&b.node));
        nodes
    }

    /// Starts publishing this node's snapshots and listening to the others'; the tasks run
    /// until aborted (at shutdown).
    pub fn start(self: &Arc<Self>, system: Arc<ActorSystem>) -> Vec<JoinHandle<()>> {
        let cache = system.ctx.stores.cache.clone();
        let mut events = cache.subscribe();
        let view = self.clone();
        let listener = tokio::spawn(async move {
            loop {
                let message = match events.recv().await {
                    Ok(message) => message,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                if let Some(report) = Report::parse(&message).filter(|r| r.node_id != view.node_id) {
                    view.record(report, Instant::now());
                }
            }
        });
        let view = self.clone();
        let publisher = tokio::spawn(async move {
            let mut tick = tokio::time::interval(PUBLISH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let report = Report { node_id: view.node_id, at: Utc::now(), snapshot: system.snapshot(&view.node) };
                let message = report.render();
                view.record(report, Instant::now());
                match cache.publish(&message).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("actor snapshots reach the other nodes again");
                    }
                    Ok(()) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "could not publish this node's actor snapshot; the other nodes will see it as not reporting");
                    }
                    Err(_) => {}
                }
            }
        });
        vec![listener, publisher]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::KindSnapshot;
    use crate::store::cache::ChangeEvent;

    fn snapshot(node: &str, uptime_s: u64, activations: u64) -> ActorsSnapshot {
        let kind = KindSnapshot { kind: "session".into(), live: 1, activations, ..KindSnapshot::default() };
        ActorsSnapshot { node: node.into(), uptime_s, kinds: vec![kind], supervisors: Vec::new() }
    }

    /// A report of `node` taken `seconds` after 1_700_000_001 (1 s into a step), when it had
    /// been up that long plus one second.
    fn report(node_id: Uuid, node: &str, seconds: i64) -> Report {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_001 + seconds, 0).unwrap();
        Report { node_id, at, snapshot: snapshot(node, seconds as u64 + 1, seconds as u64) }
    }

    fn points(series: &NodeSeries) -> usize {
        series.kinds.iter().map(|k| k.points.len()).sum()
    }

    #[test]
    fn a_report_is_no_change_event_and_a_change_event_is_no_report() {
        let line = report(Uuid::new_v4(), "a", 0).render();
        assert!(line.starts_with("actors-snapshot {"));
        assert!(ChangeEvent::parse(&line).is_none(), "the other listeners pass it by");
        assert_eq!(Report::parse(&line).unwrap().snapshot.node, "a");
        let event = ChangeEvent { node_id: Uuid::new_v4(), kind: "session".into(), id: "x".into(), version: 1 };
        assert!(Report::parse(&event.render()).is_none());
    }

    #[test]
    fn a_node_not_heard_for_ten_seconds_leaves_the_live_view_but_keeps_its_history() {
        let view = ClusterView::new(Uuid::new_v4(), "self".into());
        let start = Instant::now();
        let other = Uuid::new_v4();
        for seconds in [0, 10, 20, 30] {
            view.record(report(other, "other", seconds), start);
        }
        let names = |at: Instant| view.live(snapshot("self", 5, 0), at).into_iter().map(|s| s.node).collect::<Vec<_>>();
        assert_eq!(names(start + Duration::from_secs(10)), ["other", "self"]);
        assert_eq!(names(start + Duration::from_secs(11)), ["self"]);
        let since = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let reporting = view.history(since, start + Duration::from_secs(10));
        assert!(reporting[0].reporting);
        let history = view.history(since, start + Duration::from_secs(11));
        assert_eq!(history.len(), 1);
        assert!(!history[0].reporting);
        assert_eq!(history[0].last_report_at, since + chrono::Duration::seconds(31));
        assert_eq!(points(&history[0]), 3, "steps ending at 10, 20 and 30 s");
        assert!(view.history(since, start + KEEP).is_empty(), "forgotten after 15 minutes");
    }

    #[test]
    fn a_restarted_process_under_an_old_name_starts_a_new_history() {
        let view = ClusterView::new(Uuid::new_v4(), "self".into());
        let now = Instant::now();
        let first = Uuid::new_v4();
        for seconds in [0, 10, 20] {
            view.record(report(first, "n", seconds), now);
        }
        let since = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(points(&view.history(since, now)[0]), 2);
        view.record(report(Uuid::new_v4(), "n", 25), now);
        let history = view.history(since, now);
        assert_eq!(points(&history[0]), 0, "the new process's counters are not deltas of the old one's");
        assert_eq!(history[0].last_report_at, since + chrono::Duration::seconds(26));
    }
}
