//! What operators read beyond health: the actor system of this node or of the whole cluster,
//! its recent history, and the cluster-wide session count; and the background work of a
//! serving node that keeps them current.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::task::JoinHandle;

use super::{Core, ServiceError};
use crate::actors::cluster::NodeSeries;
use crate::actors::ActorsSnapshot;

/// How often the cluster's active sessions are counted in the database.
pub const SESSIONS_COUNT_EVERY: Duration = Duration::from_secs(60);
/// The longest history answered, in minutes.
pub const HISTORY_MINUTES: u32 = 15;

impl Core {
    /// This node's actor system now.
    pub fn actors_here(&self) -> ActorsSnapshot {
        self.actors.snapshot(&self.node)
    }

    /// Every live node's actor system: this node's now, the others' as last reported.
    pub fn actors_cluster(&self) -> Vec<ActorsSnapshot> {
        self.cluster.live(self.actors_here(), Instant::now())
    }

    /// Each node's points of the last `minutes` (1 to [`HISTORY_MINUTES`]), as this node heard
    /// them.
    pub fn actors_history(&self, minutes: u32) -> Vec<NodeSeries> {
        let minutes = minutes.clamp(1, HISTORY_MINUTES);
        let since = Utc::now() - chrono::Duration::minutes(i64::from(minutes));
        self.cluster.history(since, Instant::now())
    }

    /// Counts the cluster's active sessions in the database into
    /// `tradesage_sessions_active_total`. Every node counts the same rows, so every node
    /// reports the same number: dashboards aggregate it with `max`, not `sum`.
    pub async fn refresh_sessions_gauge(&self) -> Result<i64, ServiceError> {
        let count = self.stores.read.count_active_sessions(Utc::now()).await?;
        self.metrics.sessions_active_total.set(count);
        Ok(count)
    }
}

/// Starts what a serving node runs for its operators: publishing and hearing actor snapshots
/// (the cluster view and its history), and counting active sessions each minute. The tasks
/// run until aborted at shutdown.
pub fn start_background(core: &Arc<Core>) -> Vec<JoinHandle<()>> {
    let mut tasks = core.cluster.start(core.actors.clone());
    let counter = core.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(SESSIONS_COUNT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = counter.refresh_sessions_gauge().await {
                // The gauge keeps its last value; the next minute tries again.
                tracing::warn!(error = %e, "could not count the active sessions");
            }
        }
    }));
    tasks
}
