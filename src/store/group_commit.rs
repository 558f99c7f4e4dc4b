//! Group commit for the embedded SQLite store. SQLite has one writer at a time and, with
//! `synchronous = FULL`, every commit waits for an fsync (~0.5 ms on this kind of disk), so
//! writes committed one by one cap a node at a few thousand per second however many requests
//! wait. Here one writer task takes every write queued meanwhile, runs them in one transaction
//! and commits once; each caller is answered only after that commit, so nothing acknowledged
//! can be lost, and a failed commit fails every write of its batch.

use std::any::Any;
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult};

/// The most writes one commit takes: a bound on how long the write lock is held.
const MAX_BATCH: usize = 256;
/// Writes that may wait for the writer; callers beyond wait for room (back-pressure).
const QUEUE: usize = 4_096;

/// One write on a connection of type `C`: a single statement (SQLite undoes a failed statement
/// alone, so the other writes of a batch stand).
pub type WriteOp<C, T> = Box<dyn for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, StoreResult<T>> + Send>;

/// Boxes a write; the bound gives the closure its signature.
pub fn write_op<C, T, F>(op: F) -> WriteOp<C, T>
where
    F: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    Box::new(op)
}

type AnyResult = StoreResult<Box<dyn Any + Send>>;

struct Job {
    op: WriteOp<SqliteConnection, Box<dyn Any + Send>>,
    reply: oneshot::Sender<AnyResult>,
}

/// The handle of the writer task: clones share it.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer on `pool`; it ends when every handle is dropped.
    pub fn start(pool: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, queue));
        Self { jobs }
    }

    /// Runs `op` in the next batch; answers its result once the batch is committed.
    pub async fn write<T: Send + 'static>(&self, op: WriteOp<SqliteConnection, T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let op = write_op(move |conn: &mut SqliteConnection| {
            Box::pin(async move { op(conn).await.map(|t| Box::new(t) as Box<dyn Any + Send>) })
        });
        let gone = || StoreError::Unavailable("the database writer has stopped".into());
        self.jobs.send(Job { op, reply }).await.map_err(|_| gone())?;
        let value = answer.await.map_err(|_| gone())??;
        // Never fails: the op boxed above answers a `T`.
        value
            .downcast::<T>()
            .map(|value| *value)
            .map_err(|_| StoreError::Corrupt("a write answered another type".into()))
    }
}

async fn writer(pool: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit(&pool, &mut batch).await;
    }
}

/// Runs the batch's writes in one transaction and answers each after the commit.
async fn commit(pool: &SqlitePool, batch: &mut Vec<Job>) {
    let mut transaction = match pool.begin().await {
        Ok(transaction) => transaction,
        Err(e) => return fail_all(batch.drain(..).map(|job| job.reply), e),
    };
    let mut done = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        let result = (job.op)(&mut transaction).await;
        done.push((job.reply, result));
    }
    match transaction.commit().await {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => fail_all(done.into_iter().map(|(reply, _)| reply), e),
    }
}

/// Answers every write of a batch that could not be committed with the same failure.
fn fail_all(replies: impl Iterator<Item = oneshot::Sender<AnyResult>>, error: sqlx::Error) {
    tracing::warn!(error = %error, "a batch of database writes could not be committed");
    let error = Arc::new(error);
    for reply in replies {
        let _ = reply.send(Err(StoreError::Unavailable(Box::new(Arc::clone(&error)))));
    }
}
