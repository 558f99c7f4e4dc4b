//! `tradesage-bench`: the load tool behind BENCHMARKS.md.
//!
//! Three jobs in one binary, so one run gives numbers that belong together:
//!
//! - **bounds** ([`bounds`]): what this machine can do at most — one bcrypt verify at the
//!   server's cost, one ES256 sign and verify — measured in-process, per core.
//! - **load** ([`load`]): named HTTP workloads (`login`, `read`, `key_read`, `refresh`, `mixed`, `storm`)
//!   against a running server on loopback, each bounded in time and in request count, reported
//!   as requests/s, latency percentiles and errors by status, and as a ratio to its bound.
//! - **memory** ([`memory`]): the actor system built in-process on the configured stores,
//!   N session actors created through `SessionMsg::Create`, process RSS before, at
//!   checkpoints, and after passivation.
//! - **actors** ([`actors`]): the actor core's speed in-process — bare spawns, persisted
//!   creations, activations of passivated sessions from the cache, validate round trips and
//!   validations per second.
//!
//! Output is a table, or with `--json` one stable JSON document (fields in a fixed order).
//! Built only with `--features bench-tool`:
//! `cargo build --release --features bench-tool --bin tradesage-bench`.

// Same allocator as the server binary, so in-process RSS figures mean the same thing.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc hands freed pages back to the OS within about a second (background purging), so
/// RSS follows the live sessions down after they passivate instead of staying at its peak.
/// Slabs of 16 pages for the small size classes: each slab costs a record that jemalloc never
/// frees, and with the default 1–7-page slabs 100k sessions left 20 MB of such records
/// behind (BENCHMARKS.md, "Memory"). Idle workers also flush their caches (src/allocator.rs).
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000,slab_sizes:1-4096:16\0";

#[path = "tradesage_bench/actors.rs"]
mod actors;
#[path = "tradesage_bench/bounds.rs"]
mod bounds;
#[path = "tradesage_bench/keys.rs"]
mod keys;
#[path = "tradesage_bench/load.rs"]
mod load;
#[path = "tradesage_bench/memory.rs"]
mod memory;
#[path = "tradesage_bench/report.rs"]
mod report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;

/// Load and bounds of a Tradesage server (loopback only).
#[derive(Debug, Parser)]
#[command(name = "tradesage-bench", version)]
struct Args {
    /// The server to load; must be a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Users to seed (`bench-<i>@example.com`); the first half hold the long-lived sessions
    /// of the read/refresh workers, the second half take the logins of `login`, `mixed` and
    /// `storm` (so the per-user session cap never ends a worker's session).
    #[arg(long, default_value_t = 128)]
    users: usize,
    /// Seconds each workload runs.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections (one worker, one connection each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Concurrent login connections of the `storm` workload (besides `--concurrency` readers).
    #[arg(long, default_value_t = 8)]
    storm_logins: usize,
    /// Comma-separated workloads: login, read, key_read, refresh, mixed, storm. Empty: none.
    #[arg(long, default_value = "login,read,key_read,refresh,mixed,storm", value_delimiter = ',')]
    workloads: Vec<String>,
    /// Upper bound of requests per worker and workload (the run also stops at `--duration`).
    #[arg(long, default_value_t = 2_000_000)]
    max_requests_per_worker: u64,
    /// bcrypt cost for the bound; must match the server's BCRYPT_ROUNDS.
    #[arg(long, default_value_t = 12)]
    bcrypt_cost: u32,
    /// Skip measuring the bounds (ratios are then left out).
    #[arg(long)]
    no_bounds: bool,
    /// A name for this run in the report (e.g. `embedded`, `postgres+redis`).
    #[arg(long, default_value = "")]
    label: String,
    /// The server's pid: its RSS (VmRSS) is read before and after every workload.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Threads of the load generator's runtime (it shares the machine with the server).
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Send every connection from 127.0.0.1 instead of one loopback address per worker
    /// (127.1.x.y). The server's per-IP limiter allows at most 1,000 requests/s per IP
    /// whatever RATE_LIMIT_IP says (its GCRA interval is counted in whole milliseconds).
    #[arg(long)]
    one_source_ip: bool,
    /// Do not register the users (an earlier run against this server did).
    #[arg(long)]
    no_seed: bool,
    /// On a shared machine: before the bounds and each workload, wait until busy CPU over 3 s
    /// is below this percentage of all cores (at most `--quiet-max-wait` seconds).
    #[arg(long)]
    wait_quiet: Option<f64>,
    #[arg(long, default_value_t = 300)]
    quiet_max_wait: u64,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// Memory mode: build the actor system in-process and create this many session actors
    /// (no HTTP). Stores follow DATABASE_URL / REDIS_URL / REDIS_KEY_PREFIX when set, else
    /// embedded SQLite and the in-process cache.
    #[arg(long)]
    in_process_actors: Option<usize>,
    /// Memory mode: RSS is also sampled when this many actors are live (comma-separated).
    #[arg(long, default_value = "10000", value_delimiter = ',')]
    checkpoints: Vec<usize>,
    /// Memory mode: concurrent creations.
    #[arg(long, default_value_t = 64)]
    create_parallelism: usize,
    /// Memory mode: data dir of the embedded database (default: a fresh temp dir).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Memory mode: API-key actors created after the sessions (live beside them at the peak).
    #[arg(long, default_value_t = 0)]
    api_key_actors: usize,
    /// Memory mode: seconds to wait after passivation for the allocator to hand memory back.
    #[arg(long, default_value_t = 15)]
    settle: u64,
    /// Actor speed mode: spawn, create, passivate and re-activate this many session actors
    /// in-process, then time validations (stores as in memory mode).
    #[arg(long)]
    actor_speed: Option<usize>,
    /// Actor speed mode: activations timed one at a time (the rest run in parallel).
    #[arg(long, default_value_t = 10_000)]
    activation_sample: usize,
    /// Actor speed mode: seconds of the validation throughput phase.
    #[arg(long, default_value_t = 5)]
    validate_seconds: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        // As the server's runtime does (src/cli.rs).
        .on_thread_park(tradesage::allocator::flush_thread_cache)
        .build()
        .context("starting the runtime")?;
    let meta = report::RunMeta::collect(&args.label, &args.url, args.bcrypt_cost);
    if let Some(sessions) = args.actor_speed {
        let options = actors::Options {
            sessions,
            parallelism: args.create_parallelism.max(1),
            sample: args.activation_sample,
            validate_for: Duration::from_secs(args.validate_seconds),
        };
        let workers = args.client_threads.max(1);
        let result = runtime.block_on(async move { tokio::spawn(actors::run(options, workers)).await })??;
        report::print_actor_speed(&meta, &result, args.json)?;
        return Ok(());
    }
    if let Some(count) = args.in_process_actors {
        let options = memory::Options {
            sessions: count,
            checkpoints: args.checkpoints.clone(),
            parallelism: args.create_parallelism.max(1),
            data_dir: args.data_dir.clone(),
            settle: Duration::from_secs(args.settle),
            api_keys: args.api_key_actors,
        };
        // Actor calls from a spawned task, not from `block_on` (10–30× slower, DESIGN.md).
        let result = runtime.block_on(async move { tokio::spawn(memory::in_process(options)).await })??;
        report::print_memory(&meta, &result, args.json)?;
        return Ok(());
    }
    let base = load::loopback_base(&args.url)?;
    let known = ["login", "read", "key_read", "refresh", "mixed", "storm"];
    let workloads: Vec<String> = args.workloads.iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
    if let Some(unknown) = workloads.iter().find(|w| !known.contains(&w.as_str())) {
        bail!("--workloads: unknown workload `{unknown}` (known: {})", known.join(", "));
    }
    if args.users < 2 {
        bail!("--users: at least 2 (one half holds sessions, the other logs in)");
    }
    let quiet = args
        .wait_quiet
        .map(|pct| load::Quiet { max_busy_pct: pct, max_wait: Duration::from_secs(args.quiet_max_wait) });
    let bounds = if args.no_bounds {
        None
    } else {
        if let Some(quiet) = quiet {
            runtime.block_on(quiet.wait());
        }
        eprintln!("measuring the bounds (bcrypt cost {}, ES256)…", args.bcrypt_cost);
        Some(bounds::measure(args.bcrypt_cost)?)
    };
    if workloads.is_empty() {
        // Bounds only: nothing is sent to the server.
        return report::print_load(&meta, !args.one_source_ip, bounds.as_ref(), &[], args.json);
    }
    let plan = load::Plan {
        base,
        users: args.users,
        duration: Duration::from_secs(args.duration.max(1)),
        concurrency: args.concurrency.max(1),
        storm_logins: args.storm_logins.max(1),
        max_requests_per_worker: args.max_requests_per_worker.max(1),
        server_pid: args.server_pid,
        spread_sources: !args.one_source_ip,
        seeded: args.no_seed,
        quiet,
    };
    let reports = runtime.block_on(async move { tokio::spawn(load::run(plan, workloads, bounds)).await })??;
    report::print_load(&meta, !args.one_source_ip, bounds.as_ref(), &reports, args.json)?;
    Ok(())
}
