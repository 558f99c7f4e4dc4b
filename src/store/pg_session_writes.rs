//! Session compare-and-set writes on PostgreSQL, batched: every update queued while earlier
//! batches were running goes to PostgreSQL as one `UPDATE … FROM UNNEST(…)` statement, one
//! round trip and one commit for the lot. Each refresh rotates its session (one such write);
//! written one by one, every rotation cost PostgreSQL a statement, a commit and a wake-up of
//! one of its backend processes, which on a small machine is CPU the signatures need. Each
//! caller is answered after the statement's commit, so nothing acknowledged can be lost, and a
//! failed statement fails every write of its batch (as a failed single write would).

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};
use uuid::Uuid;

use super::{SessionRow, StoreError, StoreResult};

/// The most rows one statement updates: a bound on its size and on how long its locks are held.
const MAX_BATCH: usize = 256;
/// Batches in flight at once: while one waits for its commit (a WAL flush), the next gathers
/// and runs, so a write never waits behind more than a few commits.
const IN_FLIGHT: usize = 4;
/// Writes that may wait for the writer; callers beyond wait for room (back-pressure).
const QUEUE: usize = 4_096;

/// One row's update where its stored version is `expected`.
struct Update {
    id: Uuid,
    state: String,
    version: i64,
    is_active: bool,
    expected: i64,
}

struct Job {
    update: Update,
    reply: oneshot::Sender<StoreResult<bool>>,
}

/// The handle of the batching writer: clones share it.
#[derive(Clone)]
pub struct SessionWrites {
    jobs: mpsc::Sender<Job>,
}

impl SessionWrites {
    /// Starts the writer on `pool`; it ends when every handle is dropped.
    pub fn start(pool: PgPool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, queue));
        Self { jobs }
    }

    /// Writes `row` where the stored version is `expected`; true when it was written, false
    /// when another writer had changed the row (or it is gone).
    pub async fn update(&self, row: &SessionRow, expected: i64) -> StoreResult<bool> {
        let update =
            Update { id: row.id, state: row.state.clone(), version: row.version, is_active: row.is_active, expected };
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the session writer has stopped".into());
        self.jobs.send(Job { update, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes everything queued (up to [`MAX_BATCH`]) and runs it as one statement, up to
/// [`IN_FLIGHT`] statements at a time.
async fn writer(pool: PgPool, mut queue: mpsc::Receiver<Job>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    // A second write of a session already in the batch being gathered: it goes in the next
    // one, so that its compare-and-set sees the first one's version.
    let mut held: Option<Job> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let mut ids = HashSet::from([first.update.id]);
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let Ok(job) = queue.try_recv() else { break };
            if !ids.insert(job.update.id) {
                held = Some(job);
                break;
            }
            batch.push(job);
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            let _slot = slot;
            answer(batch, &pool).await;
        });
    }
}

const UPDATE_BATCH: &str = "UPDATE sessions AS s SET state = u.state, version = u.version, is_active = u.is_active \
     FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::bool[], $5::int8[]) AS u(id, state, version, is_active, expected) \
     WHERE s.id = u.id AND s.version = u.expected RETURNING s.id";

async fn answer(mut batch: Vec<Job>, pool: &PgPool) {
    // Rows in one order in every statement: two statements in flight that share rows (another
    // node's, or a write held back above) then take their row locks in the same order (the
    // plan walks the arrays in order, an index lookup per row) instead of deadlocking. A
    // statement that still fails fails its batch as unavailable; nothing was written, so each
    // caller's retry finds the row as it was.
    batch.sort_unstable_by_key(|job| job.update.id);
    let mut ids = Vec::with_capacity(batch.len());
    let mut states = Vec::with_capacity(batch.len());
    let mut versions = Vec::with_capacity(batch.len());
    let mut actives = Vec::with_capacity(batch.len());
    let mut expected = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for Job { update, reply } in batch {
        ids.push(update.id);
        states.push(update.state);
        versions.push(update.version);
        actives.push(update.is_active);
        expected.push(update.expected);
        replies.push(reply);
    }
    let written = sqlx::query_scalar::<_, Uuid>(UPDATE_BATCH)
        .bind(&ids)
        .bind(&states)
        .bind(&versions)
        .bind(&actives)
        .bind(&expected)
        .fetch_all(pool)
        .await;
    match written {
        Ok(written) => {
            let written: HashSet<Uuid> = written.into_iter().collect();
            for (id, reply) in ids.iter().zip(replies) {
                let _ = reply.send(Ok(written.contains(id)));
            }
        }
        Err(error) => {
            // The rows are sealed text and numbers the engine cannot refuse as data, so a
            // failure here is an outage: every write of the batch gets it.
            tracing::warn!(error = %error, rows = replies.len(), "a batch of session writes failed");
            let error = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable(Box::new(Arc::clone(&error)))));
            }
        }
    }
}
