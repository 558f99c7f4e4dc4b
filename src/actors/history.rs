//! The recent past of one node's actors, built from the snapshots it reports: one point per
//! kind each [`STEP`] (10 s, aligned on the wall clock so that every node's points line up),
//! kept for [`KEEP`] (15 minutes).
//!
//! A point's counters (`activations`, `passivations`, `restarts`, `failures`) are deltas over
//! its interval, not totals since the node started: a chart of them is a rate, and a node that
//! restarts (a new node, with counters from zero) breaks no line. Gauges (`live`,
//! `mailbox_depth`) are their value at the end of the interval. `p99_ms` is the 99th percentile
//! of the messages handled in the interval, from the difference of the handle-time histogram's
//! buckets at its two ends — not since start, where an old slow spell would hide a new one.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{ActorsSnapshot, KindSnapshot};
use crate::telemetry::bucket_quantile;

/// One point per this much time.
pub const STEP: Duration = Duration::from_secs(10);
/// Points older than this are dropped.
pub const KEEP: Duration = Duration::from_secs(15 * 60);

const STEP_MS: i64 = STEP.as_millis() as i64;

/// One kind's activity over one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The end of the step: a multiple of 10 s.
    pub t: DateTime<Utc>,
    /// The seconds the deltas cover (between the last reports of two steps): about 10, more
    /// after a gap in the reports. Rates are the deltas divided by it.
    pub interval_s: f64,
    pub live: i64,
    pub activations: u64,
    pub passivations: u64,
    pub restarts: u64,
    pub failures: u64,
    pub mailbox_depth: i64,
    /// `None` when no message was handled in the interval.
    pub p99_ms: Option<f64>,
}

/// The points of one kind, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct KindSeries {
    pub kind: String,
    pub points: Vec<Point>,
}

/// A snapshot's counters, and when it was taken (by the reporting node's clock).
#[derive(Debug, Clone)]
struct Reading {
    at_ms: i64,
    kinds: Vec<KindSnapshot>,
}

/// The points of one node, and the readings the next point is made of.
#[derive(Debug, Default)]
pub struct NodeHistory {
    /// The last reading of the latest closed step: the base of the next point.
    base: Option<Reading>,
    /// The latest reading of the step still open.
    open: Option<Reading>,
    /// Per kind, in the order the node first reported them; points oldest first.
    series: Vec<(String, VecDeque<Point>)>,
}

fn step_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(STEP_MS)
}

impl NodeHistory {
    /// Takes a snapshot the node took at `at`. The first report of a step closes the step
    /// before it, making its points.
    pub fn record(&mut self, at: DateTime<Utc>, snapshot: &ActorsSnapshot) {
        let reading = Reading { at_ms: at.timestamp_millis(), kinds: snapshot.kinds.clone() };
        let Some(open) = &self.open else {
            // Heard within a step of its start: its counters were all zero when it started.
            if self.base.is_none() && snapshot.uptime_s < STEP.as_secs() {
                let started = reading.at_ms - snapshot.uptime_s as i64 * 1_000;
                self.base = Some(Reading { at_ms: started, kinds: Vec::new() });
            }
            self.open = Some(reading);
            return;
        };
        if reading.at_ms < open.at_ms {
            return; // Out of order: a later report is in already.
        }
        if step_of(reading.at_ms) == step_of(open.at_ms) {
            self.open = Some(reading);
            return;
        }
        let closed = self.open.replace(reading);
        if let (Some(base), Some(closed)) = (&self.base, &closed) {
            let points = points_between(base, closed);
            for (kind, point) in points {
                match self.series.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, series)) => series.push_back(point),
                    None => self.series.push((kind, VecDeque::from([point]))),
                }
            }
        }
        self.base = closed;
    }

    /// Drops the points older than `oldest`.
    pub fn prune(&mut self, oldest: DateTime<Utc>) {
        for (_, series) in &mut self.series {
            while series.front().is_some_and(|p| p.t < oldest) {
                series.pop_front();
            }
        }
        self.series.retain(|(_, series)| !series.is_empty());
    }

    /// The points from `since` on, per kind.
    pub fn since(&self, since: DateTime<Utc>) -> Vec<KindSeries> {
        self.series
            .iter()
            .map(|(kind, series)| KindSeries {
                kind: kind.clone(),
                points: series.iter().filter(|p| p.t >= since).cloned().collect(),
            })
            .collect()
    }
}

/// One point per kind for the interval from `base` to `closed`, stamped with the end of
/// `closed`'s step.
fn points_between(base: &Reading, closed: &Reading) -> Vec<(String, Point)> {
    let t = DateTime::<Utc>::from_timestamp_millis((step_of(closed.at_ms) + 1) * STEP_MS).unwrap_or_default();
    let interval_s = (closed.at_ms - base.at_ms) as f64 / 1_000.0;
    closed
        .kinds
        .iter()
        .map(|now| {
            let before = base.kinds.iter().find(|k| k.kind == now.kind);
            // A counter lower than before was reset: all of it is new.
            let delta = |read: fn(&KindSnapshot) -> u64| {
                let now = read(now);
                match before.map(read) {
                    Some(then) if then <= now => now - then,
                    _ => now,
                }
            };
            let point = Point {
                t,
                interval_s,
                live: now.live,
                activations: delta(|k| k.activations),
                passivations: delta(|k| k.passivations),
                restarts: delta(|k| k.restarts),
                failures: delta(|k| k.failures),
                mailbox_depth: now.mailbox_depth,
                p99_ms: interval_p99(now, before),
            };
            (now.kind.clone(), point)
        })
        .collect()
}

/// The 99th percentile (ms) of the messages handled between the readings `before` and `now`.
fn interval_p99(now: &KindSnapshot, before: Option<&KindSnapshot>) -> Option<f64> {
    let (handled, buckets) = match before {
        Some(b) if b.handled <= now.handled && b.handle_buckets.len() == now.handle_buckets.len() => {
            let buckets: Vec<(f64, u64)> = now
                .handle_buckets
                .iter()
                .zip(&b.handle_buckets)
                .map(|(&(upper, n), &(_, m))| (upper, n.saturating_sub(m)))
                .collect();
            (now.handled - b.handled, buckets)
        }
        _ => (now.handled, now.handle_buckets.clone()),
    };
    (handled > 0).then(|| bucket_quantile(&buckets, handled, 0.99) * 1_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: [f64; 3] = [0.001, 0.01, 0.1];

    /// A snapshot of one `session` kind: counters and where `handled` messages fell.
    fn snapshot(uptime_s: u64, activations: u64, live: i64, per_bucket: [u64; 3]) -> ActorsSnapshot {
        let mut cumulative = 0;
        let handle_buckets = BOUNDS
            .iter()
            .zip(per_bucket)
            .map(|(&upper, n)| {
                cumulative += n;
                (upper, cumulative)
            })
            .collect();
        ActorsSnapshot {
            node: "n".into(),
            uptime_s,
            kinds: vec![KindSnapshot {
                kind: "session".into(),
                live,
                activations,
                handled: cumulative,
                handle_buckets,
                ..KindSnapshot::default()
            }],
            supervisors: Vec::new(),
        }
    }

    fn at(seconds: f64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_millis((1_700_000_000.0 * 1_000.0 + seconds * 1_000.0) as i64).unwrap()
    }

    fn points(history: &NodeHistory) -> Vec<Point> {
        history.since(at(-1_000.0)).into_iter().flat_map(|s| s.points).collect()
    }

    #[test]
    fn counters_are_deltas_per_step_and_gauges_their_value_at_its_end() {
        let mut history = NodeHistory::default();
        // A node heard long after its start: its first step only gives the base.
        history.record(at(1.0), &snapshot(500, 100, 5, [0, 0, 0]));
        history.record(at(9.0), &snapshot(508, 110, 6, [0, 0, 0]));
        assert!(points(&history).is_empty());
        history.record(at(11.0), &snapshot(510, 120, 7, [0, 0, 0]));
        assert!(points(&history).is_empty(), "the first step had no base");
        history.record(at(19.0), &snapshot(518, 150, 8, [0, 0, 0]));
        history.record(at(21.0), &snapshot(520, 155, 9, [0, 0, 0]));
        let made = points(&history);
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].t, at(20.0));
        assert_eq!((made[0].activations, made[0].live), (40, 8), "150 − 110, and live at 19 s");
        assert_eq!(made[0].interval_s, 10.0);
        assert_eq!(made[0].p99_ms, None, "nothing handled");
    }

    #[test]
    fn a_node_heard_from_its_start_counts_from_zero() {
        let mut history = NodeHistory::default();
        history.record(at(3.0), &snapshot(2, 4, 1, [0, 0, 0]));
        history.record(at(11.0), &snapshot(10, 9, 1, [0, 0, 0]));
        let made = points(&history);
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].activations, 4);
        assert_eq!(made[0].interval_s, 2.0, "from its start, one second past the step's beginning");
    }

    #[test]
    fn the_p99_is_that_of_the_interval_not_since_start() {
        let mut history = NodeHistory::default();
        // A slow spell first: 100 messages over 10 ms.
        history.record(at(1.0), &snapshot(500, 0, 0, [0, 0, 100]));
        history.record(at(11.0), &snapshot(510, 0, 0, [0, 0, 100]));
        // Then 1,000 fast ones (≤ 1 ms) in the next step.
        history.record(at(21.0), &snapshot(520, 0, 0, [1_000, 0, 100]));
        history.record(at(31.0), &snapshot(530, 0, 0, [1_000, 0, 100]));
        let made = points(&history);
        assert_eq!(made.len(), 2);
        assert_eq!(made[0].p99_ms, None, "the first interval handled nothing");
        let p99 = made[1].p99_ms.expect("messages were handled");
        assert!(p99 <= 1.0, "p99 of the interval is within its fast bucket: {p99} ms");
        let since_start = bucket_quantile(&[(0.001, 1_000), (0.01, 1_000), (0.1, 1_100)], 1_100, 0.99) * 1_000.0;
        assert!(since_start > 10.0, "since start it would have been {since_start} ms");
    }

    #[test]
    fn a_gap_in_the_reports_makes_one_longer_interval_and_late_reports_are_ignored() {
        let mut history = NodeHistory::default();
        history.record(at(1.0), &snapshot(2, 0, 0, [0, 0, 0]));
        history.record(at(9.0), &snapshot(10, 10, 0, [0, 0, 0]));
        history.record(at(39.0), &snapshot(40, 40, 0, [0, 0, 0]));
        history.record(at(38.0), &snapshot(39, 99, 0, [0, 0, 0]));
        history.record(at(41.0), &snapshot(42, 41, 0, [0, 0, 0]));
        let made = points(&history);
        assert_eq!(made.iter().map(|p| p.t).collect::<Vec<_>>(), [at(10.0), at(40.0)]);
        assert_eq!((made[1].activations, made[1].interval_s), (30, 30.0));
    }

    #[test]
    fn old_points_are_pruned() {
        let mut history = NodeHistory::default();
        for step in 0..5 {
            history.record(at(step as f64 * 10.0 + 1.0), &snapshot(step * 10 + 1, step, 0, [0, 0, 0]));
        }
        assert_eq!(points(&history).len(), 4);
        history.prune(at(30.0));
        assert_eq!(points(&history).iter().map(|p| p.t).collect::<Vec<_>>(), [at(30.0), at(40.0)]);
        assert_eq!(history.since(at(40.0))[0].points.len(), 1);
        history.prune(at(100.0));
        assert!(history.since(at(0.0)).is_empty());
    }
}
