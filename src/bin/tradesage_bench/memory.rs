//! Memory of live session actors, in-process: the server's actor system is built with
//! `tradesage::app::build_core` on the configured stores (embedded SQLite and the in-process
//! cache unless DATABASE_URL / REDIS_URL say otherwise), N session actors are created through
//! `SessionMsg::Create` — the same message a login sends, so each one is persisted
//! write-through — and this process's RSS is read at checkpoints. Then every actor is
//! passivated (what `SESSION_IDLE_PASSIVATE` does after its idle time, triggered here at once)
//! and RSS is read again, right away and after the allocator has had time to hand pages back.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use serde::Serialize;
use tradesage::actors::{ApiKeyMsg, SessionMsg};
use tradesage::config::Config;
use tradesage::domain::api_key::NewKey;
use tradesage::domain::session::NewSession;
use tradesage::domain::{ApiKeyState, AuthMethod, Role, Scope, SessionState};
use tradesage::service::Core;
use uuid::Uuid;

/// What the memory run does.
pub struct Options {
    pub sessions: usize,
    pub checkpoints: Vec<usize>,
    pub parallelism: usize,
    pub data_dir: Option<PathBuf>,
    /// How long to keep sampling RSS after the last actor stopped.
    pub settle: Duration,
    /// API-key actors created after the sessions (each persisted, like a key a user made).
    pub api_keys: usize,
}

/// RSS once the API-key actors are live beside the sessions.
#[derive(Debug, Serialize)]
pub struct KeyCheckpoint {
    pub live_keys: usize,
    pub live_sessions: usize,
    pub rss_kib: u64,
    /// (RSS − RSS before the keys) ÷ live keys.
    pub bytes_per_key: u64,
    pub seconds: f64,
}

/// RSS with a number of live actors.
#[derive(Debug, Serialize)]
pub struct Checkpoint {
    pub live_actors: usize,
    pub rss_kib: u64,
    /// (RSS − baseline) ÷ live actors: everything a session costs this process, including
    /// its copy in the in-process cache when there is no Redis.
    pub bytes_per_session: u64,
    /// Time to create the actors so far (each persisted before it answered).
    pub seconds: f64,
    pub creations_per_s: f64,
}

/// jemalloc's own account of the heap at one moment: what is live, what it keeps resident,
/// and its bookkeeping. It tells a leak (allocated stays up) from pages the allocator has not
/// handed back yet (resident stays up while allocated is down).
#[derive(Debug, Serialize, Clone, Copy)]
pub struct AllocatorFigures {
    pub allocated_kib: u64,
    pub active_kib: u64,
    pub resident_kib: u64,
    pub metadata_kib: u64,
    pub retained_kib: u64,
}

impl AllocatorFigures {
    pub fn read() -> Option<Self> {
        use tikv_jemalloc_ctl::{epoch, stats};
        // jemalloc caches its statistics; advancing the epoch refreshes them.
        epoch::advance().ok()?;
        let kib = |bytes: usize| bytes as u64 / 1024;
        Some(Self {
            allocated_kib: kib(stats::allocated::read().ok()?),
            active_kib: kib(stats::active::read().ok()?),
            resident_kib: kib(stats::resident::read().ok()?),
            metadata_kib: kib(stats::metadata::read().ok()?),
            retained_kib: kib(stats::retained::read().ok()?),
        })
    }
}

/// With `TRADESAGE_BENCH_BINS` set: prints, for every jemalloc size class holding memory,
/// the live regions and the slabs (or extents, for large classes) they sit in. Each slab or
/// extent costs a metadata record that the allocator keeps for good.
pub fn print_size_classes(moment: &str) {
    use tikv_jemalloc_ctl::raw;
    if std::env::var_os("TRADESAGE_BENCH_BINS").is_none() {
        return;
    }
    let _ = tikv_jemalloc_ctl::epoch::advance();
    // SAFETY (every `raw::read` here): each name is NUL-terminated and read as the C type
    // jemalloc's manual gives it: size_t for sizes and region/slab counts, unsigned for
    // nbins/nlextents, uint64_t for curlextents.
    let read = |name: String| unsafe { raw::read::<usize>(format!("{name}\0").as_bytes()) }.unwrap_or(0);
    let read_u64 = |name: String| unsafe { raw::read::<u64>(format!("{name}\0").as_bytes()) }.unwrap_or(0);
    eprintln!("size classes at {moment}: class bytes, live regions, slabs/extents");
    let bins = unsafe { raw::read::<u32>(b"arenas.nbins\0") }.unwrap_or(0);
    for bin in 0..bins {
        let size = read(format!("arenas.bin.{bin}.size"));
        let regions = read(format!("stats.arenas.4096.bins.{bin}.curregs"));
        let slabs = read(format!("stats.arenas.4096.bins.{bin}.curslabs"));
        if regions > 1_000 || slabs > 1_000 {
            eprintln!("  small {size:>6}: {regions:>9} regions in {slabs:>8} slabs");
        }
    }
    let large = unsafe { raw::read::<u32>(b"arenas.nlextents\0") }.unwrap_or(0);
    for class in 0..large.min(64) {
        let size = read(format!("arenas.lextent.{class}.size"));
        let extents = read_u64(format!("stats.arenas.4096.lextents.{class}.curlextents"));
        if extents > 0 {
            eprintln!("  large {size:>6}: {extents:>9} extents");
        }
    }
}

/// With `TRADESAGE_BENCH_STATS` set: prints the kernel's split of RSS (anonymous memory;
/// file pages, such as the binary's code; shared memory) and jemalloc's full statistics, so
/// a difference between two moments can be put down to live objects, the allocator's
/// metadata or neither. `TRADESAGE_BENCH_STATS=arenas` prints each arena instead of their sum
/// (arena 0 holds the global page map); `TRADESAGE_BENCH_SMAPS=<path>` also copies
/// `/proc/self/smaps` to `<path>.<moment>`, for a mapping-by-mapping comparison.
pub fn print_detailed_memory(moment: &str) {
    let Ok(detail) = std::env::var("TRADESAGE_BENCH_STATS") else {
        return;
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let split: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("RssAnon") || l.starts_with("RssFile") || l.starts_with("RssShmem"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    eprintln!("memory at {moment}: {}", split.join(", "));
    if let Ok(path) = std::env::var("TRADESAGE_BENCH_SMAPS") {
        let copy = format!("{path}.{}", moment.replace(' ', "-"));
        if let Err(e) = std::fs::copy("/proc/self/smaps", &copy) {
            eprintln!("could not copy /proc/self/smaps to {copy}: {e}");
        }
    }
    let _ = tikv_jemalloc_ctl::epoch::advance();
    extern "C" fn write(_: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: jemalloc passes a NUL-terminated string that lives for this call.
        let text = unsafe { std::ffi::CStr::from_ptr(text) };
        eprint!("{}", text.to_string_lossy());
    }
    // Options: b, l and x leave out each size class, each large extent class and the mutex
    // counters; a also leaves out each arena, keeping their sum.
    let options = if detail == "arenas" { c"blx" } else { c"blxa" };
    // SAFETY: `write` has the signature of jemalloc's `write_cb`; the opaque pointer may be
    // null, and the options are a NUL-terminated string.
    unsafe { tikv_jemalloc_sys::malloc_stats_print(Some(write), std::ptr::null_mut(), options.as_ptr()) };
}

/// RSS after passivation.
#[derive(Debug, Serialize)]
pub struct Passivation {
    pub seconds_to_passivate: f64,
    pub live_after: usize,
    pub rss_kib_at_once: u64,
    pub rss_kib_settled: u64,
    pub settled_after_s: f64,
    /// settled ÷ baseline − 1, in percent (the target: within 20 %).
    pub vs_baseline_pct: f64,
    /// settled ÷ peak − 1, in percent.
    pub vs_peak_pct: f64,
    /// The allocator's figures when the settled RSS was read.
    pub allocator_settled: Option<AllocatorFigures>,
}

#[derive(Debug, Serialize)]
pub struct MemoryReport {
    pub database: &'static str,
    pub cache: &'static str,
    pub sessions: usize,
    pub sealed_state_bytes: usize,
    pub parallelism: usize,
    /// RSS with the core built and no session actor.
    pub baseline_rss_kib: u64,
    pub allocator_baseline: Option<AllocatorFigures>,
    pub allocator_peak: Option<AllocatorFigures>,
    pub checkpoints: Vec<Checkpoint>,
    pub api_keys: Option<KeyCheckpoint>,
    pub passivation: Passivation,
}

pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

pub fn session(index: usize, tenant_id: Uuid) -> SessionState {
    let mut refresh_hash = [0u8; 32];
    refresh_hash[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    let email = format!("bench-{index}@example.com");
    let new = NewSession {
        user_id: Uuid::new_v4(),
        email: &email,
        tenant_id,
        roles: &[Role::Viewer],
        scope: "orders:read".into(),
        amr: vec![AuthMethod::Pwd],
        client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent: USER_AGENT,
    };
    SessionState::open(Uuid::new_v4(), new, refresh_hash, Utc::now(), chrono::Duration::days(30))
}

/// The server's core on the configured stores; the `bool` says the data dir is temporary.
pub async fn build(data_dir: Option<&PathBuf>) -> anyhow::Result<(Arc<Core>, PathBuf, bool)> {
    let (dir, temporary) = match data_dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("tradesage-bench-mem-{}", Uuid::new_v4().simple())), true),
    };
    let mut vars = std::collections::HashMap::from([
        ("TRADESAGE_DATA_DIR".to_owned(), dir.display().to_string()),
        // Passivation is triggered by hand below; the ticker must not do it during creation.
        ("SESSION_IDLE_PASSIVATE".to_owned(), "1h".to_owned()),
        ("JANITOR_INTERVAL".to_owned(), "1h".to_owned()),
        ("BCRYPT_ROUNDS".to_owned(), "4".to_owned()),
    ]);
    for name in ["DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX"] {
        if let Ok(value) = std::env::var(name) {
            vars.insert(name.to_owned(), value);
        }
    }
    if vars.contains_key("REDIS_URL") && !vars.contains_key("REDIS_KEY_PREFIX") {
        vars.insert("REDIS_KEY_PREFIX".into(), format!("bench-mem:{}:", Uuid::new_v4().simple()));
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).context("configuration")?;
    let core = tradesage::app::build_core(config).await.context("building the actor system")?;
    Ok((core, dir, temporary))
}

/// Creates actors until `target` are live, `parallelism` at a time.
async fn create_until(
    core: &Arc<Core>,
    next: &Arc<AtomicUsize>,
    target: usize,
    parallelism: usize,
    tenant: Uuid,
) -> anyhow::Result<()> {
    let workers: Vec<_> = (0..parallelism)
        .map(|_| {
            let core = core.clone();
            let next = next.clone();
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= target {
                        next.fetch_min(target, Ordering::Relaxed);
                        return anyhow::Ok(());
                    }
                    let state = session(index, tenant);
                    let id = state.session_id;
                    core.actors
                        .sessions
                        .call(&id, |reply| SessionMsg::Create(Box::new(state.clone()), reply))
                        .await
                        .map_err(|e| anyhow::anyhow!("create session {index}: {e}"))?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| anyhow::anyhow!("a creator panicked: {e}"))??;
    }
    Ok(())
}

/// Creates `count` API-key actors, `parallelism` at a time, through `ApiKeyMsg::Create` (the
/// message a user's new key sends).
async fn create_keys(core: &Arc<Core>, count: usize, parallelism: usize, tenant: Uuid) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let scopes = [Scope::OrdersRead].into_iter().collect();
    let workers: Vec<_> = (0..parallelism)
        .map(|_| {
            let (core, next, scopes) = (core.clone(), next.clone(), std::collections::BTreeSet::clone(&scopes));
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    let key = NewKey::generate();
                    let state = ApiKeyState::new(
                        &key,
                        tenant,
                        Uuid::new_v4(),
                        "bench key".into(),
                        &scopes,
                        Vec::new(),
                        None,
                        Utc::now(),
                    );
                    core.actors
                        .api_keys
                        .call(&key.id, |reply| ApiKeyMsg::Create(Box::new(state.clone()), reply))
                        .await
                        .map_err(|e| anyhow::anyhow!("create API key: {e}"))?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| anyhow::anyhow!("a creator panicked: {e}"))??;
    }
    Ok(())
}

pub async fn in_process(options: Options) -> anyhow::Result<MemoryReport> {
    let (core, dir, temporary) = build(options.data_dir.as_ref()).await?;
    let database = core.stores.db.backend();
    let cache = tradesage::store::Cache::backend(core.stores.cache.as_ref());
    let tenant = Uuid::new_v4();
    let sealed_state_bytes = core.actors.ctx.seal(&session(0, tenant)).map(|s| s.len()).unwrap_or(0);
    // Let start-up allocations settle before the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = rss_kib();
    let allocator_baseline = AllocatorFigures::read();
    print_detailed_memory("the baseline");
    eprintln!(
        "memory: {database} + {cache}, baseline RSS {baseline} kB; creating {} session actors…",
        options.sessions
    );
    let mut targets: Vec<usize> =
        options.checkpoints.iter().copied().filter(|&c| c > 0 && c < options.sessions).collect();
    targets.push(options.sessions);
    targets.sort_unstable();
    targets.dedup();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut checkpoints = Vec::new();
    for target in targets {
        create_until(&core, &next, target, options.parallelism, tenant).await?;
        let seconds = started.elapsed().as_secs_f64();
        let live = core.actors.sessions.live_count();
        let rss = rss_kib();
        let bytes_per_session = (rss.saturating_sub(baseline) * 1024) / live.max(1) as u64;
        eprintln!("  {live} live: RSS {rss} kB ({bytes_per_session} B/session), {seconds:.1}s");
        checkpoints.push(Checkpoint {
            live_actors: live,
            rss_kib: rss,
            bytes_per_session,
            seconds: (seconds * 100.0).round() / 100.0,
            creations_per_s: (target as f64 / seconds).round(),
        });
    }
    let api_keys = if options.api_keys > 0 {
        let before = rss_kib();
        let creating = Instant::now();
        create_keys(&core, options.api_keys, options.parallelism, tenant).await?;
        let (live_keys, rss) = (core.actors.api_keys.live_count(), rss_kib());
        let bytes_per_key = (rss.saturating_sub(before) * 1024) / live_keys.max(1) as u64;
        eprintln!("  + {live_keys} API-key actors: RSS {rss} kB ({bytes_per_key} B/key)");
        Some(KeyCheckpoint {
            live_keys,
            live_sessions: core.actors.sessions.live_count(),
            rss_kib: rss,
            bytes_per_key,
            seconds: (creating.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        })
    } else {
        None
    };
    let peak = rss_kib();
    let allocator_peak = AllocatorFigures::read();
    print_size_classes("the peak");
    // Every actor is now idle for longer than a second: passivate them all.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let passivating = Instant::now();
    core.actors.sessions.passivate_idle(Duration::from_secs(1));
    core.actors.api_keys.passivate_idle(Duration::from_secs(1));
    let live = || core.actors.sessions.live_count() + core.actors.api_keys.live_count();
    let deadline = passivating + Duration::from_secs(300);
    while live() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds_to_passivate = passivating.elapsed().as_secs_f64();
    // The passivation ticker's next round, run at once instead of waiting for its interval
    // (30 s at most): it gives back the directory's room and swaps each emptied shard
    // supervisor for a fresh one. Rounds go on each second while RSS settles; the old
    // supervisors, whose tables of children never shrink, stop 10 s after their swap.
    core.actors.sessions.tick(Duration::from_secs(1)).await;
    core.actors.api_keys.tick(Duration::from_secs(1)).await;
    let live_after = live();
    let at_once = rss_kib();
    eprintln!("  passivated in {seconds_to_passivate:.1}s ({live_after} left): RSS {at_once} kB; settling…");
    let settling = Instant::now();
    let mut settled = at_once;
    let mut allocator_settled = AllocatorFigures::read();
    while settling.elapsed() < options.settle {
        tokio::time::sleep(Duration::from_secs(1)).await;
        core.actors.sessions.tick(Duration::from_secs(1)).await;
        core.actors.api_keys.tick(Duration::from_secs(1)).await;
        let now = rss_kib();
        if now <= settled {
            settled = now;
            allocator_settled = AllocatorFigures::read();
        }
    }
    print_size_classes("the end of settling");
    print_detailed_memory("the end of settling");
    let pct = |x: u64, of: u64| ((x as f64 / of.max(1) as f64 - 1.0) * 1000.0).round() / 10.0;
    let report = MemoryReport {
        database,
        cache,
        sessions: options.sessions,
        sealed_state_bytes,
        parallelism: options.parallelism,
        baseline_rss_kib: baseline,
        allocator_baseline,
        allocator_peak,
        checkpoints,
        api_keys,
        passivation: Passivation {
            seconds_to_passivate: (seconds_to_passivate * 100.0).round() / 100.0,
            live_after,
            rss_kib_at_once: at_once,
            rss_kib_settled: settled,
            settled_after_s: options.settle.as_secs_f64(),
            vs_baseline_pct: pct(settled, baseline),
            vs_peak_pct: pct(settled, peak),
            allocator_settled,
        },
    };
    core.actors.shutdown().await;
    if let Some(redis) = redis_prefix_cleanup(&core) {
        redis.await;
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(report)
}

/// With Redis, the sessions written under the run's own prefix are removed afterwards.
pub fn redis_prefix_cleanup(core: &Arc<Core>) -> Option<impl std::future::Future<Output = ()>> {
    let url = core.config.redis_url.as_ref()?.expose().clone();
    let prefix = core.config.redis_prefix.clone();
    if !prefix.starts_with("bench-mem:") {
        return None;
    }
    Some(async move {
        if let Ok(redis) = tradesage::store::redis::RedisCache::connect(&url, &prefix).await {
            let _ = redis.clear_prefix().await;
        }
    })
}
