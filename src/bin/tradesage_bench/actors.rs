//! Speed of the actor core in-process (no HTTP), on the configured stores: spawning session
//! actors, creating persisted sessions, activating passivated sessions from the cache (Redis
//! when REDIS_URL is set), and validations on live actors — a round trip's latency and how
//! many per second the process does. Run it under `taskset -c 0` with `--client-threads 1`
//! for the one-core figure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;
use tradesage::actors::SessionMsg;
use tradesage::domain::session::Validity;
use tradesage::domain::SessionState;
use tradesage::service::Core;
use uuid::Uuid;

use crate::memory;

/// What the speed run does.
pub struct Options {
    /// Sessions created, passivated and activated again; also the number of bare spawns.
    pub sessions: usize,
    /// Concurrent callers of the parallel phases.
    pub parallelism: usize,
    /// Sessions activated one after another, each timed on its own.
    pub sample: usize,
    /// How long the validation throughput phase runs.
    pub validate_for: Duration,
}

/// A count done in a time.
#[derive(Debug, Serialize)]
pub struct Rate {
    pub count: usize,
    pub seconds: f64,
    pub per_s: f64,
}

impl Rate {
    fn of(count: usize, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64();
        Self { count, seconds: round(seconds, 3), per_s: (count as f64 / seconds.max(1e-9)).round() }
    }
}

/// Latency percentiles of timed one-at-a-time operations, in microseconds.
#[derive(Debug, Serialize)]
pub struct Micros {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Micros {
    fn of(hist: &Histogram<u64>) -> Self {
        let us = |ns: u64| round(ns as f64 / 1_000.0, 2);
        Self {
            count: hist.len(),
            p50_us: us(hist.value_at_quantile(0.5)),
            p90_us: us(hist.value_at_quantile(0.9)),
            p99_us: us(hist.value_at_quantile(0.99)),
            max_us: us(hist.max()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ActorSpeedReport {
    pub database: &'static str,
    pub cache: &'static str,
    /// CPUs this process may run on (`taskset` narrows it).
    pub cpus_allowed: usize,
    pub runtime_workers: usize,
    pub parallelism: usize,
    /// Actors spawned through the directory with no message yet (what an activation costs
    /// before its state is read).
    pub spawn: Rate,
    /// Sessions created through `SessionMsg::Create`: spawn, seal, database write, cache mirror.
    pub create: Rate,
    /// After all of them passivated: one activation at a time, each timed from the first
    /// message to its answer (spawn, cache read, decrypt, validate).
    pub activation_one_at_a_time: Micros,
    /// The rest activated `parallelism` at a time.
    pub activation_parallel: Rate,
    /// Validate on a live actor, one at a time.
    pub validate_round_trip: Micros,
    /// Validations on live actors, `parallelism` callers at a time, for the configured time.
    pub validate_throughput: Rate,
}

fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).context("histogram bounds")
}

/// Runs `work(index)` for every index below `count`, `parallelism` tasks at a time.
async fn in_parallel<F, Fut>(count: usize, parallelism: usize, work: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..parallelism)
        .map(|_| {
            let (work, next) = (work.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        return anyhow::Ok(());
                    }
                    work(index).await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| anyhow::anyhow!("a worker panicked: {e}"))??;
    }
    Ok(())
}

async fn validate(core: &Core, id: Uuid) -> anyhow::Result<()> {
    let verdict = core
        .actors
        .sessions
        .call(&id, |reply| SessionMsg::Validate(None, reply))
        .await
        .map_err(|e| anyhow::anyhow!("validate {id}: {e}"))?;
    anyhow::ensure!(verdict == Some(Validity::Valid), "session {id}: {verdict:?}, expected valid");
    Ok(())
}

/// Passivates every live session actor and waits until none is left, asking again every
/// 200 ms as the server's passivation ticker would (an actor still starting when asked is
/// stopped in a later round).
async fn passivate_all(core: &Core) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while core.actors.sessions.live_count() > 0 {
        anyhow::ensure!(Instant::now() < deadline, "{} actors still live", core.actors.sessions.live_count());
        tokio::time::sleep(Duration::from_millis(20)).await;
        core.actors.sessions.tick(Duration::from_millis(10)).await;
        tokio::time::sleep(Duration::from_millis(180)).await;
    }
    // The ticker's next round, which gives back the directory's room.
    core.actors.sessions.tick(Duration::from_millis(10)).await;
    Ok(())
}

pub async fn run(options: Options, runtime_workers: usize) -> anyhow::Result<ActorSpeedReport> {
    let (core, dir, temporary) = memory::build(None).await?;
    let outcome = measure(&core, &options, runtime_workers).await;
    core.actors.shutdown().await;
    if let Some(cleanup) = memory::redis_prefix_cleanup(&core) {
        cleanup.await;
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome
}

async fn measure(core: &Arc<Core>, options: &Options, runtime_workers: usize) -> anyhow::Result<ActorSpeedReport> {
    let n = options.sessions.max(1);
    let parallelism = options.parallelism.max(1);
    let sample = options.sample.clamp(1, n);

    eprintln!("actors: spawning {n} bare actors…");
    let started = Instant::now();
    for _ in 0..n {
        core.actors.sessions.activate(&Uuid::new_v4()).map_err(|e| anyhow::anyhow!("spawn: {e}"))?;
    }
    let spawn = Rate::of(n, started.elapsed());
    passivate_all(core).await?;

    eprintln!("actors: creating {n} sessions…");
    let tenant = Uuid::new_v4();
    let states: Arc<Vec<SessionState>> = Arc::new((0..n).map(|i| memory::session(i, tenant)).collect());
    let ids: Arc<Vec<Uuid>> = Arc::new(states.iter().map(|s| s.session_id).collect());
    let started = Instant::now();
    {
        let (core, states) = (core.clone(), states.clone());
        in_parallel(n, parallelism, move |i| {
            let (core, state) = (core.clone(), states[i].clone());
            async move {
                core.actors
                    .sessions
                    .call(&state.session_id, |reply| SessionMsg::Create(Box::new(state.clone()), reply))
                    .await
                    .map_err(|e| anyhow::anyhow!("create: {e}"))
            }
        })
        .await?;
    }
    let create = Rate::of(n, started.elapsed());
    drop(states);
    passivate_all(core).await?;

    eprintln!("actors: activating {sample} one at a time, then {} in parallel…", n - sample);
    let mut activation = new_histogram()?;
    for id in &ids[..sample] {
        let started = Instant::now();
        validate(core, *id).await?;
        activation.record(started.elapsed().as_nanos() as u64)?;
    }
    let started = Instant::now();
    {
        let (core, ids) = (core.clone(), ids.clone());
        in_parallel(n - sample, parallelism, move |i| {
            let (core, id) = (core.clone(), ids[sample + i]);
            async move { validate(&core, id).await }
        })
        .await?;
    }
    let activation_parallel = Rate::of(n - sample, started.elapsed());
    anyhow::ensure!(core.actors.sessions.live_count() == n, "every session is live again");

    eprintln!("actors: validating on live actors…");
    let mut round_trip = new_histogram()?;
    for i in 0..100_000 {
        let id = ids[i % ids.len()];
        let started = Instant::now();
        validate(core, id).await?;
        round_trip.record(started.elapsed().as_nanos() as u64)?;
    }
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + options.validate_for;
    let started = Instant::now();
    let workers: Vec<_> = (0..parallelism)
        .map(|worker| {
            let (core, ids, done) = (core.clone(), ids.clone(), done.clone());
            tokio::spawn(async move {
                let mut index = worker * 7_919;
                let mut count = 0;
                while Instant::now() < until {
                    // Batches of 64 between clock reads, so the clock is not what is measured.
                    for _ in 0..64 {
                        index = (index + 1) % ids.len();
                        validate(&core, ids[index]).await?;
                    }
                    count += 64;
                }
                done.fetch_add(count, Ordering::Relaxed);
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| anyhow::anyhow!("a validator panicked: {e}"))??;
    }
    let validate_throughput = Rate::of(done.load(Ordering::Relaxed), started.elapsed());

    Ok(ActorSpeedReport {
        database: core.stores.db.backend(),
        cache: tradesage::store::Cache::backend(core.stores.cache.as_ref()),
        cpus_allowed: crate::bounds::cores(),
        runtime_workers,
        parallelism,
        spawn,
        create,
        activation_one_at_a_time: Micros::of(&activation),
        activation_parallel,
        validate_round_trip: Micros::of(&round_trip),
        validate_throughput,
    })
}
