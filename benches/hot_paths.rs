//! Micro-benchmarks of the hot paths of DESIGN.md ("Hot paths and their bounds"), on the
//! server's own code: ES256 sign and verify, the verified-token cache, a session actor's
//! validate round trip, Fernet sealing of a session, and store round trips (SQLite session
//! get; Redis GET when Redis answers at 127.0.0.1:6379 — skipped otherwise).
//!
//! `cargo bench --bench hot_paths` (add `-- <filter>` to run some). Under `cargo test` (no
//! `--bench` argument) each path runs once as a smoke test instead: criterion's argument parser
//! would refuse libtest's `--test-threads`. Async benchmarks run their
//! loop in a task spawned on a 2-worker runtime, as a request handler would: calls made from
//! `block_on` are much slower (DESIGN.md), and `actor/validate_block_on` shows by how much.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{black_box, criterion_group, Criterion};
use tokio::runtime::Runtime;
use tradesage::actors::SessionMsg;
use tradesage::auth::tokens::AccessGrant;
use tradesage::auth::StateCipher;
use tradesage::config::Config;
use tradesage::domain::session::NewSession;
use tradesage::domain::{AuthMethod, Role, SessionState};
use tradesage::service::Core;
use tradesage::store::redis::RedisCache;
use tradesage::store::Cache;
use uuid::Uuid;

struct Fixture {
    rt: Runtime,
    core: Arc<Core>,
    dir: std::path::PathBuf,
    session: SessionState,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn session_state(tenant_id: Uuid) -> SessionState {
    let new = NewSession {
        user_id: Uuid::new_v4(),
        email: "bench-0@example.com",
        tenant_id,
        roles: &[Role::Viewer],
        scope: "orders:read".into(),
        amr: vec![AuthMethod::Pwd],
        client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent:
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    };
    let mut state = SessionState::open(Uuid::new_v4(), new, [7; 32], Utc::now(), chrono::Duration::days(30));
    state.previous_hash = Some([6; 32]);
    state.rotated_at = Some(state.created_at);
    state
}

/// The embedded server core (SQLite + in-process cache) in a temp dir, with one live session.
fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("tradesage-hot-paths-{}", Uuid::new_v4().simple()));
    let data_dir = dir.display().to_string();
    let config = Config::from_lookup(|k| match k {
        "TRADESAGE_DATA_DIR" => Some(data_dir.clone()),
        "BCRYPT_ROUNDS" => Some("4".into()),
        "SESSION_IDLE_PASSIVATE" => Some("1h".into()),
        _ => None,
    })
    .unwrap();
    let core = rt.block_on(tradesage::app::build_core(config)).unwrap();
    let session = session_state(Uuid::new_v4());
    let created = session.clone();
    let id = session.session_id;
    let actors_core = core.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            actors_core.actors.sessions.call(&id, |r| SessionMsg::Create(Box::new(created.clone()), r)).await
        })
        .await
        .unwrap()
        .unwrap();
    });
    Fixture { rt, core, dir, session }
}

/// Runs `iters` awaits of `work` in one task on a runtime worker; returns their total time.
fn on_worker<F, Fut>(rt: &Runtime, iters: u64, work: F) -> Duration
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future + Send,
    Fut::Output: Send,
{
    rt.block_on(async move {
        tokio::spawn(async move {
            let started = Instant::now();
            for _ in 0..iters {
                black_box(work().await);
            }
            started.elapsed()
        })
        .await
        .unwrap()
    })
}

fn grant(s: &SessionState) -> AccessGrant<'_> {
    AccessGrant {
        user_id: s.user_id,
        email: &s.email,
        tenant_id: s.tenant_id,
        roles: vec!["viewer".into()],
        scope: &s.scope,
        session_id: s.session_id,
        amr: &s.amr,
    }
}

fn tokens(c: &mut Criterion, f: &Fixture) {
    let tokens = &f.core.tokens;
    let now = Utc::now();
    let mut group = c.benchmark_group("tokens");
    group.bench_function("es256_sign_access", |b| b.iter(|| tokens.issue_access(grant(&f.session), now).unwrap()));
    let refresh = tokens.issue_refresh(f.session.user_id, f.session.session_id, now, f.session.expires_at).unwrap();
    // verify_refresh never caches: a full ES256 verify with header and claim checks.
    group.bench_function("es256_verify_uncached", |b| b.iter(|| tokens.verify_refresh(black_box(&refresh)).unwrap()));
    let (access, _) = tokens.issue_access(grant(&f.session), now).unwrap();
    tokens.verify_access(&access, now).unwrap();
    group.bench_function("verify_access_cache_hit", |b| {
        b.iter(|| tokens.verify_access(black_box(&access), now).unwrap())
    });
    group.finish();
}

fn actor(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("actor");
    let id = f.session.session_id;
    let core = f.core.clone();
    group.bench_function("validate_round_trip", |b| {
        b.iter_custom(|iters| {
            let core = core.clone();
            on_worker(&f.rt, iters, move || {
                let core = core.clone();
                async move { core.actors.sessions.call(&id, |r| SessionMsg::Validate(None, r)).await.unwrap() }
            })
        })
    });
    group.bench_function("validate_block_on", |b| {
        b.to_async(&f.rt)
            .iter(|| async { core.actors.sessions.call(&id, |r| SessionMsg::Validate(None, r)).await.unwrap() })
    });
    group.finish();
}

fn cipher(c: &mut Criterion, f: &Fixture) {
    let cipher = StateCipher::from_keys(&[fernet::Fernet::generate_key()]).unwrap();
    let json = serde_json::to_vec(&f.session).unwrap();
    let sealed = cipher.encrypt(&json);
    let mut group = c.benchmark_group(format!("fernet_session_{}B", json.len()));
    group.bench_function("encrypt", |b| b.iter(|| cipher.encrypt(black_box(&json))));
    group.bench_function("decrypt", |b| b.iter(|| cipher.decrypt(black_box(&sealed)).unwrap()));
    // What an actor does per persisted change: serialise + encrypt.
    group.bench_function("seal_state", |b| b.iter(|| f.core.actors.ctx.seal(black_box(&f.session)).unwrap()));
    group.finish();
}

fn stores(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("store");
    let id = f.session.session_id;
    let db = f.core.stores.db.clone();
    group.bench_function("sqlite_session_get", |b| {
        b.iter_custom(|iters| {
            let db = db.clone();
            on_worker(&f.rt, iters, move || {
                let db = db.clone();
                async move { db.session(id).await.unwrap().unwrap() }
            })
        })
    });
    let prefix = format!("bench-hot:{}:", Uuid::new_v4().simple());
    let redis = f.rt.block_on(async {
        let reachable =
            tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect("127.0.0.1:6379")).await;
        if !matches!(reachable, Ok(Ok(_))) {
            return None;
        }
        let redis = RedisCache::connect("redis://127.0.0.1:6379", &prefix).await.ok()?;
        tokio::time::timeout(Duration::from_secs(1), redis.ping()).await.ok()?.ok()?;
        Some(Arc::new(redis))
    });
    match redis {
        None => eprintln!("store/redis_get: skipped (no Redis answering at 127.0.0.1:6379)"),
        Some(redis) => {
            let sealed = f.core.actors.ctx.seal(&f.session).unwrap();
            f.rt.block_on(redis.put_versioned("session:bench", 1, &sealed, Duration::from_secs(600))).unwrap();
            let r = redis.clone();
            group.bench_function("redis_get", |b| {
                b.iter_custom(|iters| {
                    let r = r.clone();
                    on_worker(&f.rt, iters, move || {
                        let r = r.clone();
                        async move { r.get_versioned("session:bench").await.unwrap().unwrap() }
                    })
                })
            });
            let _ = f.rt.block_on(redis.clear_prefix());
        }
    }
    group.finish();
}

fn hot_paths(c: &mut Criterion) {
    let f = fixture();
    tokens(c, &f);
    actor(c, &f);
    cipher(c, &f);
    stores(c, &f);
    let core = f.core.clone();
    f.rt.block_on(async move { core.actors.shutdown().await });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50);
    targets = hot_paths
}

/// Each path once, checking it works (what `cargo test --all-targets` runs).
fn smoke() {
    let f = fixture();
    let now = Utc::now();
    let tokens = &f.core.tokens;
    let (access, _) = tokens.issue_access(grant(&f.session), now).unwrap();
    tokens.verify_access(&access, now).unwrap();
    tokens.verify_access(&access, now).unwrap();
    let refresh = tokens.issue_refresh(f.session.user_id, f.session.session_id, now, f.session.expires_at).unwrap();
    tokens.verify_refresh(&refresh).unwrap();
    let id = f.session.session_id;
    let core = f.core.clone();
    let verdict = on_worker(&f.rt, 1, move || {
        let core = core.clone();
        async move { core.actors.sessions.call(&id, |r| SessionMsg::Validate(None, r)).await.unwrap() }
    });
    black_box(verdict);
    let sealed = f.core.actors.ctx.seal(&f.session).unwrap();
    assert!(f.core.actors.ctx.open::<SessionState>(&sealed).is_some());
    let db = f.core.stores.db.clone();
    f.rt.block_on(async move { db.session(id).await.unwrap().unwrap() });
    let core = f.core.clone();
    f.rt.block_on(async move { core.actors.shutdown().await });
    println!("hot_paths: every path ran once (measure with `cargo bench --bench hot_paths`)");
}

fn main() {
    if std::env::args().any(|arg| arg == "--bench") {
        benches();
        Criterion::default().configure_from_args().final_summary();
    } else {
        smoke();
    }
}
