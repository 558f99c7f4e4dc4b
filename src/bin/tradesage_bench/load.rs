//! The HTTP workloads. Each worker owns one connection (its own client) and one session;
//! every loop stops by itself at the deadline or after `max_requests_per_worker` requests,
//! whichever comes first, and only loopback addresses are ever targeted.
//!
//! Users: `bench-<i>@example.com`. The first half hold the workers' long-lived sessions
//! (worker `w` signs in as user `w mod half`); logins of `login`, `mixed` and `storm` use the
//! second half, so the per-user session cap (which ends a user's oldest session) never ends a
//! session a worker still reads or refreshes with.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::StreamExt;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use crate::bounds::Bounds;

/// The password of every bench user (8–72 bytes, not a common password).
pub const PASSWORD: &str = "bench-Load-passw0rd-7";
const ME: &str = "/api/v1/users/me";
const SESSIONS: &str = "/api/v1/auth/sessions";
/// A request slower than this is a transport error (the deadline of one request).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What to load and how hard.
pub struct Plan {
    pub base: String,
    pub users: usize,
    pub duration: Duration,
    pub concurrency: usize,
    pub storm_logins: usize,
    pub max_requests_per_worker: u64,
    pub server_pid: Option<u32>,
    /// Give every worker its own loopback source address (see `source_of`).
    pub spread_sources: bool,
    /// Skip registering the users (a previous run on this server did).
    pub seeded: bool,
    /// Before each workload wait (up to `quiet_wait`) until the machine is nearly idle.
    pub quiet: Option<Quiet>,
}

/// "Nearly idle": busy CPU over 3 s below `max_busy_pct` of all cores.
#[derive(Debug, Clone, Copy)]
pub struct Quiet {
    pub max_busy_pct: f64,
    pub max_wait: Duration,
}

impl Quiet {
    /// Waits for a quiet machine; returns the seconds waited and whether it got quiet.
    pub async fn wait(&self) -> (f64, bool) {
        let started = Instant::now();
        let cores = crate::bounds::cores() as f64;
        loop {
            let before = machine_busy_seconds();
            tokio::time::sleep(Duration::from_secs(3)).await;
            let busy = machine_busy_seconds().zip(before).map(|(a, b)| (a - b) / 3.0 / cores * 100.0);
            let waited = started.elapsed().as_secs_f64();
            match busy {
                Some(pct) if pct < self.max_busy_pct => return (round2(waited), true),
                None => return (round2(waited), false),
                Some(pct) if started.elapsed() >= self.max_wait => {
                    eprintln!("  machine still {pct:.0}% busy after {waited:.0}s; running anyway");
                    return (round2(waited), false);
                }
                Some(_) => {}
            }
        }
    }
}

impl Plan {
    /// Users holding the workers' sessions: `[0, holders)`.
    fn holders(&self) -> usize {
        (self.users / 2).max(1)
    }
    /// Users taking the workloads' logins: `[holders, users)`.
    fn login_pool(&self) -> std::ops::Range<usize> {
        self.holders()..self.users.max(self.holders() + 1)
    }
}

/// The URL's scheme and authority, refusing anything but loopback.
pub fn loopback_base(url: &str) -> anyhow::Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("--url {url}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--url: only http:// or https://");
    }
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("--url: this tool only targets loopback (127.0.0.0/8, ::1, localhost), not `{host}`");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// A rate compared with the bound of its dominant operation.
#[derive(Debug, Clone, Serialize)]
pub struct BoundRatio {
    /// Which bound: `bcrypt` (cores ÷ verify time), `es256_verify`, or `es256_refresh`
    /// (cores ÷ (verify + 2 signs)).
    pub of: &'static str,
    pub bound_per_s: f64,
    /// ok/s ÷ bound.
    pub ratio: f64,
}

/// One kind of request within a workload.
#[derive(Debug, Clone, Serialize)]
pub struct PartReport {
    pub name: String,
    pub requests: u64,
    pub ok: u64,
    pub ok_per_s: f64,
    pub latency_ms: Latency,
    /// Non-success answers by status; `transport` for connection errors and timeouts.
    pub errors: BTreeMap<String, u64>,
    pub bound: Option<BoundRatio>,
}

/// The server's resident memory around a workload (kB, from /proc/<pid>/status VmRSS).
#[derive(Debug, Clone, Serialize)]
pub struct RssPair {
    pub before_kib: u64,
    pub after_kib: u64,
}

/// One workload's result.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    pub name: String,
    /// What was requested, e.g. `GET /api/v1/users/me`.
    pub endpoint: String,
    pub note: Option<String>,
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: u64,
    pub ok: u64,
    pub requests_per_s: f64,
    pub ok_per_s: f64,
    pub latency_ms: Latency,
    pub errors: BTreeMap<String, u64>,
    pub bound: Option<BoundRatio>,
    /// Per kind of request (mixed, storm); empty when the workload has one kind.
    pub parts: Vec<PartReport>,
    pub server_rss: Option<RssPair>,
    /// CPU seconds the server used during the workload (with `--server-pid`).
    pub server_cpu_s: Option<f64>,
    /// Server CPU per successful request, in µs: what one request costs the server.
    pub server_cpu_us_per_ok: Option<f64>,
    /// CPU seconds this load generator used (it shares the machine with the server).
    pub client_cpu_s: Option<f64>,
    /// CPU seconds used by everything else on the machine meanwhile (other processes): a
    /// number well above zero means the run was disturbed.
    pub other_cpu_s: Option<f64>,
    /// 1-minute load average at the end of the workload.
    pub loadavg_1m: Option<f64>,
    /// With `--wait-quiet`: seconds waited for a quiet machine, and whether it got quiet.
    pub quiet_wait_s: Option<f64>,
    pub started_quiet: Option<bool>,
}

/// Counts and latencies of one worker (merged at the end).
struct Stats {
    hist: Histogram<u64>,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl Stats {
    fn new() -> Self {
        // Microseconds from 1 µs to 10 minutes, 3 significant digits.
        #[allow(clippy::expect_used)]
        let hist = Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds");
        Self { hist, requests: 0, ok: 0, errors: BTreeMap::new() }
    }

    fn record(&mut self, started: Instant, outcome: &Result<(StatusCode, Body), reqwest::Error>, expected: StatusCode) {
        self.requests += 1;
        match outcome {
            Ok((status, _)) => {
                self.hist.saturating_record(started.elapsed().as_micros().max(1) as u64);
                if *status == expected {
                    self.ok += 1;
                } else {
                    *self.errors.entry(status.as_u16().to_string()).or_default() += 1;
                }
            }
            Err(_) => *self.errors.entry("transport".into()).or_default() += 1,
        }
    }

    fn merge(&mut self, other: &Stats) {
        let _ = self.hist.add(&other.hist);
        self.requests += other.requests;
        self.ok += other.ok;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
    }

    fn latency(&self) -> Latency {
        let ms = |us: u64| (us as f64 / 1e3 * 1000.0).round() / 1000.0;
        if self.hist.is_empty() {
            return Latency { p50: 0.0, p90: 0.0, p99: 0.0, max: 0.0, mean: 0.0 };
        }
        Latency {
            p50: ms(self.hist.value_at_quantile(0.50)),
            p90: ms(self.hist.value_at_quantile(0.90)),
            p99: ms(self.hist.value_at_quantile(0.99)),
            max: ms(self.hist.max()),
            mean: ms(self.hist.mean().round() as u64),
        }
    }

    fn part(&self, name: &str, seconds: f64, bound: Option<(&'static str, f64)>) -> PartReport {
        let ok_per_s = self.ok as f64 / seconds;
        PartReport {
            name: name.to_owned(),
            requests: self.requests,
            ok: self.ok,
            ok_per_s: round2(ok_per_s),
            latency_ms: self.latency(),
            errors: self.errors.clone(),
            bound: bound.map(|(of, per_s)| ratio(of, per_s, ok_per_s)),
        }
    }
}

fn ratio(of: &'static str, bound_per_s: f64, ok_per_s: f64) -> BoundRatio {
    BoundRatio { of, bound_per_s: round2(bound_per_s), ratio: (ok_per_s / bound_per_s * 1e4).round() / 1e4 }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// An answer's body: always read to the end (so the connection is reused), kept only when asked.
type Body = Option<Vec<u8>>;

/// Sends, reads the whole answer, and keeps the body when `keep` says so.
async fn send(request: RequestBuilder, keep: bool) -> Result<(StatusCode, Body), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    Ok((status, keep.then(|| body.to_vec())))
}

/// A client whose connections come from `source` (a loopback address of its own, so each
/// worker is a distinct client IP to the server's per-IP limiter), or from the default.
fn client_from(source: Option<IpAddr>) -> anyhow::Result<Client> {
    Client::builder()
        .local_address(source)
        .no_proxy()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client")
}

fn client() -> anyhow::Result<Client> {
    client_from(None)
}

/// The source address of worker `w`: 127.1.x.y, one per worker (all of 127/8 is loopback).
fn source_of(w: usize, spread: bool) -> Option<IpAddr> {
    spread.then(|| IpAddr::from([127, 1, (w / 250) as u8, (w % 250 + 1) as u8]))
}

fn email(index: usize) -> String {
    format!("bench-{index}@example.com")
}

/// A worker's own session.
#[derive(Debug, Clone)]
struct Session {
    email: String,
    access: String,
    refresh: String,
}

fn login_request(client: &Client, base: &str, email: &str) -> RequestBuilder {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD, "token_delivery": "body" }))
}

fn tokens_of(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    Some((value["access_token"].as_str()?.to_owned(), value["refresh_token"].as_str()?.to_owned()))
}

async fn sign_in(client: &Client, base: &str, email: &str) -> anyhow::Result<Session> {
    let (status, body) =
        send(login_request(client, base, email), true).await.with_context(|| format!("login {email}"))?;
    let body = body.unwrap_or_default();
    if status != StatusCode::OK {
        bail!("login {email}: {status}: {}", String::from_utf8_lossy(&body));
    }
    let (access, refresh) = tokens_of(&body).context("login answer without access_token/refresh_token")?;
    Ok(Session { email: email.to_owned(), access, refresh })
}

/// Registers every bench user (an existing one answers 409, which is fine).
async fn seed(plan: &Plan) -> anyhow::Result<()> {
    let started = Instant::now();
    let base = plan.base.clone();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..plan.users)
        .map(|i| {
            let base = base.clone();
            async move {
                let client = client()?;
                let body = json!({ "email": email(i), "password": PASSWORD, "display_name": format!("Bench {i}") });
                let (status, answer) =
                    send(client.post(format!("{base}/api/v1/auth/register")).json(&body), true).await?;
                if status == StatusCode::CREATED || status == StatusCode::CONFLICT {
                    Ok(())
                } else {
                    bail!("register {}: {status}: {}", email(i), String::from_utf8_lossy(&answer.unwrap_or_default()))
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    if let Some(error) = results.into_iter().find_map(Result::err) {
        return Err(error);
    }
    eprintln!("seeded {} users in {:.1}s", plan.users, started.elapsed().as_secs_f64());
    Ok(())
}

/// One session per worker, signed in as holder users.
async fn open_sessions(plan: &Plan, count: usize) -> anyhow::Result<Vec<Session>> {
    let started = Instant::now();
    let holders = plan.holders();
    let spread = plan.spread_sources;
    let base = plan.base.clone();
    let sessions: Vec<anyhow::Result<Session>> = futures::stream::iter(0..count)
        .map(|w| {
            let base = base.clone();
            async move { sign_in(&client_from(source_of(w, spread))?, &base, &email(w % holders)).await }
        })
        .buffered(16)
        .collect()
        .await;
    let sessions = sessions.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!("opened {count} sessions in {:.1}s", started.elapsed().as_secs_f64());
    Ok(sessions)
}

/// `GET /api/v1/users/me` when the server has it, else the session list (noted).
async fn read_path(base: &str, session: &Session) -> anyhow::Result<(&'static str, Option<String>)> {
    let (status, _) = send(client()?.get(format!("{base}{ME}")).bearer_auth(&session.access), false).await?;
    match status {
        StatusCode::OK => Ok((ME, None)),
        StatusCode::NOT_FOUND => Ok((
            SESSIONS,
            Some(format!(
                "GET {ME} answered 404 (route not built yet): measured GET {SESSIONS} instead, which also \
                 lists the caller's sessions from the database and asks each session actor for a snapshot"
            )),
        )),
        other => bail!("GET {ME}: unexpected {other}"),
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at `state` (field 3).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// Busy CPU seconds of the whole machine so far (all of /proc/stat's `cpu` line but idle
/// and iowait): with the server's and the load generator's, tells what else ran meanwhile.
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    let busy: f64 = values.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum();
    Some(busy / clock_ticks())
}

fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Limits shared by every worker of a workload.
#[derive(Clone)]
struct Run {
    base: String,
    deadline: Instant,
    max: u64,
    spread: bool,
}

impl Run {
    fn going(&self, done: u64) -> bool {
        done < self.max && Instant::now() < self.deadline
    }
}

async fn read_worker(run: Run, w: usize, path: &'static str, session: Session) -> anyhow::Result<(Stats, Session)> {
    let client = client_from(source_of(w, run.spread))?;
    let url = format!("{}{path}", run.base);
    let mut stats = Stats::new();
    while run.going(stats.requests) {
        let started = Instant::now();
        let outcome = send(client.get(&url).bearer_auth(&session.access), false).await;
        stats.record(started, &outcome, StatusCode::OK);
    }
    Ok((stats, session))
}

/// Rotates its own session; after a refused rotation it signs in again and goes on.
async fn refresh_once(client: &Client, run: &Run, session: &mut Session, stats: &mut Stats, relogins: &mut u64) {
    let started = Instant::now();
    let outcome =
        send(client.post(format!("{}/api/v1/auth/refresh", run.base)).bearer_auth(&session.refresh), true).await;
    stats.record(started, &outcome, StatusCode::OK);
    match outcome {
        Ok((StatusCode::OK, Some(body))) => {
            if let Some((access, refresh)) = tokens_of(&body) {
                session.access = access;
                session.refresh = refresh;
            }
        }
        Ok((StatusCode::UNAUTHORIZED, _)) | Err(_) => {
            if let Ok(fresh) = sign_in(client, &run.base, &session.email).await {
                *session = fresh;
                *relogins += 1;
            }
        }
        _ => {}
    }
}

async fn refresh_worker(run: Run, w: usize, mut session: Session) -> anyhow::Result<(Stats, Session, u64)> {
    let client = client_from(source_of(w, run.spread))?;
    let mut stats = Stats::new();
    let mut relogins = 0;
    while run.going(stats.requests) {
        refresh_once(&client, &run, &mut session, &mut stats, &mut relogins).await;
    }
    Ok((stats, session, relogins))
}

/// Signs in again and again, round-robin over the login pool (`offset`, `stride` spread the
/// workers over it).
async fn login_worker(
    run: Run,
    w: usize,
    pool: std::ops::Range<usize>,
    offset: usize,
    stride: usize,
) -> anyhow::Result<Stats> {
    let client = client_from(source_of(w, run.spread))?;
    let mut stats = Stats::new();
    let size = pool.len().max(1);
    let mut k = 0usize;
    while run.going(stats.requests) {
        let user = pool.start + (offset + k * stride) % size;
        k += 1;
        let started = Instant::now();
        let outcome = send(login_request(&client, &run.base, &email(user)), false).await;
        stats.record(started, &outcome, StatusCode::OK);
    }
    Ok(stats)
}

/// 70 % reads, 25 % refreshes, 5 % logins.
struct MixedStats {
    read: Stats,
    refresh: Stats,
    login: Stats,
    relogins: u64,
}

async fn mixed_worker(
    run: Run,
    w: usize,
    path: &'static str,
    mut session: Session,
    pool: std::ops::Range<usize>,
) -> anyhow::Result<(MixedStats, Session)> {
    let client = client_from(source_of(w, run.spread))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(w as u64 + 1);
    let mut s = MixedStats { read: Stats::new(), refresh: Stats::new(), login: Stats::new(), relogins: 0 };
    let read_url = format!("{}{path}", run.base);
    let mut done = 0;
    while run.going(done) {
        done += 1;
        let dice: u32 = rng.gen_range(0..100);
        if dice < 70 {
            let started = Instant::now();
            let outcome = send(client.get(&read_url).bearer_auth(&session.access), false).await;
            s.read.record(started, &outcome, StatusCode::OK);
        } else if dice < 95 {
            refresh_once(&client, &run, &mut session, &mut s.refresh, &mut s.relogins).await;
        } else {
            let user = pool.start + rng.gen_range(0..pool.len().max(1));
            let started = Instant::now();
            let outcome = send(login_request(&client, &run.base, &email(user)), false).await;
            s.login.record(started, &outcome, StatusCode::OK);
        }
    }
    Ok((s, session))
}

fn join_error(e: tokio::task::JoinError) -> anyhow::Error {
    anyhow::anyhow!("a worker panicked: {e}")
}

/// Seeds, opens the workers' sessions, then runs each workload in turn.
pub async fn run(plan: Plan, workloads: Vec<String>, bounds: Option<Bounds>) -> anyhow::Result<Vec<WorkloadReport>> {
    let health = send(client()?.get(format!("{}/health", plan.base)), false)
        .await
        .with_context(|| format!("the server does not answer at {}", plan.base))?;
    if health.0 != StatusCode::OK {
        bail!("GET /health answered {}", health.0);
    }
    if plan.concurrency.div_ceil(plan.holders()) > 10 {
        eprintln!(
            "warning: {} workers share {} holder users: more than MAX_SESSIONS_PER_USER's default of 10 \
             sessions per user; raise --users",
            plan.concurrency,
            plan.holders()
        );
    }
    if !plan.seeded {
        seed(&plan).await?;
    }
    let needs_sessions = workloads.iter().any(|w| w != "login");
    let mut sessions = if needs_sessions { open_sessions(&plan, plan.concurrency).await? } else { Vec::new() };
    let (path, path_note) = match sessions.first() {
        Some(first) => read_path(&plan.base, first).await?,
        None => (ME, None),
    };
    let login_bound = bounds.map(|b| ("bcrypt", b.login_bound_per_s));
    let read_bound = bounds.map(|b| ("es256_verify", b.verify_bound_per_s));
    let refresh_bound =
        bounds.map(|b| ("es256_refresh", b.cores as f64 / ((b.es256_verify_us + 2.0 * b.es256_sign_us) / 1e6)));
    // One API key per worker for `key_read`, made before any workload is timed.
    let mut keyed = Vec::new();
    if workloads.iter().any(|w| w == "key_read") {
        for (w, s) in sessions.iter().enumerate() {
            let key = crate::keys::key_for(&client()?, &plan.base, &s.access, w).await?;
            keyed.push(Session { access: key, ..s.clone() });
        }
    }
    let mut reports = Vec::new();
    for name in &workloads {
        let quiet = match plan.quiet {
            Some(q) => Some(q.wait().await),
            None => None,
        };
        eprintln!("running {name} for {}s at {} connections…", plan.duration.as_secs(), plan.concurrency);
        let rss_before = plan.server_pid.and_then(rss_kib);
        let server_cpu_before = plan.server_pid.and_then(|pid| cpu_seconds(&pid.to_string()));
        let client_cpu_before = cpu_seconds("self");
        let machine_before = machine_busy_seconds();
        let started = Instant::now();
        let run = Run {
            base: plan.base.clone(),
            deadline: started + plan.duration,
            max: plan.max_requests_per_worker,
            spread: plan.spread_sources,
        };
        let pool = plan.login_pool();
        let stride = plan.concurrency;
        let (endpoint, mut note, total, parts, bound) = match name.as_str() {
            "login" => {
                let handles: Vec<_> = (0..plan.concurrency)
                    .map(|w| tokio::spawn(login_worker(run.clone(), w, pool.clone(), w, stride)))
                    .collect();
                let mut total = Stats::new();
                for handle in handles {
                    total.merge(&handle.await.map_err(join_error)??);
                }
                ("POST /api/v1/auth/login".to_owned(), None, total, Vec::new(), login_bound)
            }
            "read" => {
                let handles: Vec<_> = sessions
                    .drain(..)
                    .enumerate()
                    .map(|(w, s)| tokio::spawn(read_worker(run.clone(), w, path, s)))
                    .collect();
                let mut total = Stats::new();
                for handle in handles {
                    let (stats, session) = handle.await.map_err(join_error)??;
                    total.merge(&stats);
                    sessions.push(session);
                }
                (format!("GET {path}"), path_note.clone(), total, Vec::new(), read_bound)
            }
            "key_read" => {
                // The `read` workload with an API key per worker in place of its access token.
                let handles: Vec<_> = keyed
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(w, s)| tokio::spawn(read_worker(run.clone(), w, path, s)))
                    .collect();
                let mut total = Stats::new();
                for handle in handles {
                    total.merge(&handle.await.map_err(join_error)??.0);
                }
                (format!("GET {path} (Authorization: Bearer tsk_…)"), path_note.clone(), total, Vec::new(), read_bound)
            }
            "refresh" => {
                let handles: Vec<_> = sessions
                    .drain(..)
                    .enumerate()
                    .map(|(w, s)| tokio::spawn(refresh_worker(run.clone(), w, s)))
                    .collect();
                let mut total = Stats::new();
                let mut relogins = 0;
                for handle in handles {
                    let (stats, session, again) = handle.await.map_err(join_error)??;
                    total.merge(&stats);
                    relogins += again;
                    sessions.push(session);
                }
                let note =
                    (relogins > 0).then(|| format!("{relogins} refused rotations; those workers signed in again"));
                (
                    "POST /api/v1/auth/refresh (Authorization: Bearer <refresh>)".to_owned(),
                    note,
                    total,
                    Vec::new(),
                    refresh_bound,
                )
            }
            "mixed" => {
                let handles: Vec<_> = sessions
                    .drain(..)
                    .enumerate()
                    .map(|(w, s)| tokio::spawn(mixed_worker(run.clone(), w, path, s, pool.clone())))
                    .collect();
                let mut m = MixedStats { read: Stats::new(), refresh: Stats::new(), login: Stats::new(), relogins: 0 };
                for handle in handles {
                    let (stats, session) = handle.await.map_err(join_error)??;
                    m.read.merge(&stats.read);
                    m.refresh.merge(&stats.refresh);
                    m.login.merge(&stats.login);
                    m.relogins += stats.relogins;
                    sessions.push(session);
                }
                let seconds = started.elapsed().as_secs_f64();
                let mut total = Stats::new();
                for part in [&m.read, &m.refresh, &m.login] {
                    total.merge(part);
                }
                let parts = vec![
                    m.read.part("read", seconds, read_bound),
                    m.refresh.part("refresh", seconds, refresh_bound),
                    m.login.part("login", seconds, login_bound),
                ];
                let mut note = path_note.clone().map(|n| format!("reads: {n}"));
                if m.relogins > 0 {
                    note = Some(format!(
                        "{}{} refused rotations re-signed in",
                        note.map(|n| n + "; ").unwrap_or_default(),
                        m.relogins
                    ));
                }
                ("70% read, 25% refresh, 5% login".to_owned(), note, total, parts, None)
            }
            "storm" => {
                let readers: Vec<_> = sessions
                    .drain(..)
                    .enumerate()
                    .map(|(w, s)| tokio::spawn(read_worker(run.clone(), w, path, s)))
                    .collect();
                let logins: Vec<_> = (0..plan.storm_logins)
                    .map(|w| {
                        tokio::spawn(login_worker(
                            run.clone(),
                            plan.concurrency + w,
                            pool.clone(),
                            w,
                            plan.storm_logins,
                        ))
                    })
                    .collect();
                let (mut read, mut login) = (Stats::new(), Stats::new());
                for handle in readers {
                    let (stats, session) = handle.await.map_err(join_error)??;
                    read.merge(&stats);
                    sessions.push(session);
                }
                for handle in logins {
                    login.merge(&handle.await.map_err(join_error)??);
                }
                let seconds = started.elapsed().as_secs_f64();
                let parts = vec![read.part("read", seconds, read_bound), login.part("login", seconds, login_bound)];
                // The headline of a storm is the reads' latency while bcrypt is saturated.
                (
                    format!(
                        "GET {path} at {} connections + POST /api/v1/auth/login at {}",
                        plan.concurrency, plan.storm_logins
                    ),
                    path_note.clone().map(|n| format!("reads: {n}")),
                    read,
                    parts,
                    read_bound,
                )
            }
            _ => unreachable!("workload names are checked at start"),
        };
        let seconds = started.elapsed().as_secs_f64();
        let rss_after = plan.server_pid.and_then(rss_kib);
        let server_cpu =
            plan.server_pid.and_then(|pid| cpu_seconds(&pid.to_string())).zip(server_cpu_before).map(|(a, b)| a - b);
        let client_cpu = cpu_seconds("self").zip(client_cpu_before).map(|(a, b)| a - b);
        let machine = machine_busy_seconds().zip(machine_before).map(|(a, b)| a - b);
        let other_cpu = machine.zip(client_cpu).map(|(m, c)| round2((m - c - server_cpu.unwrap_or(0.0)).max(0.0)));
        if name == "storm" {
            note = Some(format!("{}headline = reads only; see parts", note.map(|n| n + "; ").unwrap_or_default()));
        }
        let ok_per_s = total.ok as f64 / seconds;
        reports.push(WorkloadReport {
            name: name.clone(),
            endpoint,
            note,
            concurrency: plan.concurrency + if name == "storm" { plan.storm_logins } else { 0 },
            seconds: round2(seconds),
            requests: total.requests,
            ok: total.ok,
            requests_per_s: round2(total.requests as f64 / seconds),
            ok_per_s: round2(ok_per_s),
            latency_ms: total.latency(),
            errors: total.errors.clone(),
            bound: bound.map(|(of, per_s)| ratio(of, per_s, ok_per_s)),
            parts,
            server_rss: rss_before.zip(rss_after).map(|(before_kib, after_kib)| RssPair { before_kib, after_kib }),
            server_cpu_s: server_cpu.map(round2),
            server_cpu_us_per_ok: server_cpu
                .filter(|_| total.ok > 0 && name != "storm")
                .map(|cpu| round2(cpu * 1e6 / total.ok as f64)),
            client_cpu_s: client_cpu.map(round2),
            other_cpu_s: if plan.server_pid.is_some() { other_cpu } else { None },
            loadavg_1m: loadavg(),
            quiet_wait_s: quiet.map(|q| q.0),
            started_quiet: quiet.map(|q| q.1),
        });
    }
    Ok(reports)
}
