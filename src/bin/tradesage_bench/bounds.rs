//! The physical bounds of this machine, measured in-process with the server's own code: one
//! bcrypt verify at the configured cost, one ES256 sign and one verify through
//! `tradesage::auth::TokenIssuer` (jsonwebtoken on aws_lc_rs, as the server runs it), each on
//! one core. A workload's ratio is its rate over `cores ÷ time of its dominant operation`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use serde::Serialize;
use tradesage::auth::tokens::AccessGrant;
use tradesage::auth::{KeyRing, TokenIssuer};
use tradesage::config::Config;
use tradesage::domain::AuthMethod;
use uuid::Uuid;

/// What one core does per operation, and what all cores allow together.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Bounds {
    pub cores: usize,
    pub bcrypt_cost: u32,
    /// Median of single-threaded verifies.
    pub bcrypt_verify_ms: f64,
    /// Verifies per second with one thread per core, measured (hyper-threads may share a core).
    pub bcrypt_parallel_per_s: f64,
    pub es256_sign_us: f64,
    /// An uncached verify (`verify_refresh`: signature, header and claim checks).
    pub es256_verify_us: f64,
    /// cores ÷ bcrypt verify time: the most logins per second this machine can answer.
    pub login_bound_per_s: f64,
    /// cores ÷ ES256 verify time: the most never-seen access tokens per second.
    pub verify_bound_per_s: f64,
    /// 1-minute load average when measured: above ~0.5 other work was competing.
    pub loadavg_1m: Option<f64>,
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn measure(cost: u32) -> anyhow::Result<Bounds> {
    let cores = cores();
    let bcrypt_verify_ms = bcrypt_verify(cost)?.as_secs_f64() * 1e3;
    let bcrypt_parallel_per_s = bcrypt_parallel(cost, cores)?;
    let (sign, verify) = es256()?;
    Ok(Bounds {
        cores,
        bcrypt_cost: cost,
        bcrypt_verify_ms,
        bcrypt_parallel_per_s,
        es256_sign_us: sign.as_secs_f64() * 1e6,
        es256_verify_us: verify.as_secs_f64() * 1e6,
        login_bound_per_s: cores as f64 / (bcrypt_verify_ms / 1e3),
        verify_bound_per_s: cores as f64 / verify.as_secs_f64(),
        loadavg_1m: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next()?.parse().ok()),
    })
}

const PASSWORD: &[u8] = b"bench-bound-password";

/// Median time of one verify; at least 3 and at most 50 runs, about a second in all.
fn bcrypt_verify(cost: u32) -> anyhow::Result<Duration> {
    let hash = bcrypt::hash(PASSWORD, cost).context("bcrypt hash")?;
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 50 && (times.len() < 3 || started.elapsed() < Duration::from_secs(1)) {
        let t = Instant::now();
        let ok = bcrypt::verify(PASSWORD, &hash).context("bcrypt verify")?;
        times.push(t.elapsed());
        anyhow::ensure!(ok, "bcrypt verify of the right password failed");
    }
    Ok(median(&mut times))
}

/// Verifies per second with `threads` threads verifying at once for about a second.
fn bcrypt_parallel(cost: u32, threads: usize) -> anyhow::Result<f64> {
    let hash = bcrypt::hash(PASSWORD, cost).context("bcrypt hash")?;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut n = 0u32;
                while n < 100_000 && (n < 2 || started.elapsed() < Duration::from_secs(1)) {
                    let _ = bcrypt::verify(PASSWORD, &hash);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0u32;
    for handle in handles {
        total += handle.join().map_err(|_| anyhow::anyhow!("a bcrypt thread panicked"))?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Median per-operation time over batches of ES256 signs and uncached verifies.
fn es256() -> anyhow::Result<(Duration, Duration)> {
    let dir = std::env::temp_dir().join(format!("tradesage-bench-keys-{}", Uuid::new_v4().simple()));
    let lookup_dir = dir.display().to_string();
    let config =
        Config::from_lookup(|k| (k == "TRADESAGE_DATA_DIR").then(|| lookup_dir.clone())).context("key config")?;
    std::fs::create_dir_all(&dir)?;
    let measured = (|| -> anyhow::Result<(Duration, Duration)> {
        let ring = Arc::new(KeyRing::load(&config).context("generating a key pair")?);
        let issuer = TokenIssuer::new(ring, Duration::from_secs(900));
        let now = Utc::now();
        let (user_id, tenant_id, session_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let grant = || AccessGrant {
            user_id,
            email: "bench-0@example.com",
            tenant_id,
            roles: vec!["viewer".into()],
            scope: "orders:read",
            session_id,
            amr: &[AuthMethod::Pwd],
        };
        const BATCH: u32 = 200;
        let mut signs = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            for _ in 0..BATCH {
                std::hint::black_box(issuer.issue_access(grant(), now).map_err(|e| anyhow::anyhow!("sign: {e}"))?);
            }
            signs.push(t.elapsed() / BATCH);
        }
        let refresh = issuer
            .issue_refresh(user_id, session_id, now, now + chrono::Duration::days(30))
            .map_err(|e| anyhow::anyhow!("sign: {e}"))?;
        let mut verifies = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            for _ in 0..BATCH {
                std::hint::black_box(issuer.verify_refresh(&refresh).map_err(|e| anyhow::anyhow!("verify: {e}"))?);
            }
            verifies.push(t.elapsed() / BATCH);
        }
        Ok((median(&mut signs), median(&mut verifies)))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    measured
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
