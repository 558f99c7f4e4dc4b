//! Output: aligned tables for people, or one JSON document for scripts. The JSON is built
//! from structs, so its keys come in a fixed order (errors by status are sorted).

use std::io::Write;

use serde::Serialize;

use crate::actors::ActorSpeedReport;
use crate::bounds::Bounds;
use crate::load::{BoundRatio, Latency, WorkloadReport};
use crate::memory::MemoryReport;

/// Where and on what the run happened.
#[derive(Debug, Serialize)]
pub struct RunMeta {
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub label: String,
    /// `git rev-parse HEAD` of the working directory, when there is one.
    pub git_commit: Option<String>,
    /// `git status --porcelain` was not empty.
    pub git_dirty: Option<bool>,
    pub started_at: String,
    pub cores: usize,
    pub cpu_model: Option<String>,
    pub mem_total_kib: Option<u64>,
    pub url: String,
    pub bcrypt_cost: u32,
}

fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn proc_field(file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}

impl RunMeta {
    pub fn collect(label: &str, url: &str, bcrypt_cost: u32) -> Self {
        Self {
            tool: "tradesage-bench",
            tool_version: env!("CARGO_PKG_VERSION"),
            label: label.to_owned(),
            git_commit: git(&["rev-parse", "HEAD"]),
            git_dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            cores: crate::bounds::cores(),
            cpu_model: proc_field("/proc/cpuinfo", "model name"),
            mem_total_kib: proc_field("/proc/meminfo", "MemTotal")
                .and_then(|v| v.trim_end_matches("kB").trim().parse().ok()),
            url: url.to_owned(),
            bcrypt_cost,
        }
    }
}

#[derive(Serialize)]
struct LoadDocument<'a> {
    #[serde(flatten)]
    meta: &'a RunMeta,
    /// `per-worker` (127.1.x.y, one per connection) or `single` (127.0.0.1).
    source_ips: &'static str,
    bounds: Option<&'a Bounds>,
    workloads: &'a [WorkloadReport],
}

#[derive(Serialize)]
struct MemoryDocument<'a> {
    #[serde(flatten)]
    meta: &'a RunMeta,
    memory: &'a MemoryReport,
}

#[derive(Serialize)]
struct ActorSpeedDocument<'a> {
    #[serde(flatten)]
    meta: &'a RunMeta,
    actors: &'a ActorSpeedReport,
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn header(meta: &RunMeta) {
    println!(
        "tradesage-bench {} — {}commit {}{}, {} cores ({}), bcrypt cost {}",
        meta.tool_version,
        if meta.label.is_empty() { String::new() } else { format!("{}, ", meta.label) },
        meta.git_commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("?"),
        if meta.git_dirty == Some(true) { " (dirty tree)" } else { "" },
        meta.cores,
        meta.cpu_model.as_deref().unwrap_or("?"),
        meta.bcrypt_cost,
    );
}

fn errors_text(errors: &std::collections::BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        "-".into()
    } else {
        errors.iter().map(|(k, v)| format!("{k}×{v}")).collect::<Vec<_>>().join(" ")
    }
}

fn ratio_text(bound: &Option<BoundRatio>) -> (String, String) {
    match bound {
        Some(b) => (format!("{:.1} ({})", b.bound_per_s, b.of), format!("{:.3}", b.ratio)),
        None => ("-".into(), "-".into()),
    }
}

fn row(name: &str, requests: u64, ok_per_s: f64, l: &Latency, errors: &str, bound: &Option<BoundRatio>) {
    let (bound_text, ratio) = ratio_text(bound);
    println!(
        "{name:<16} {requests:>9} {ok_per_s:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>9.2}  {bound_text:>26} {ratio:>6}  {errors}",
        l.p50, l.p90, l.p99, l.max
    );
}

pub fn print_load(
    meta: &RunMeta,
    spread: bool,
    bounds: Option<&Bounds>,
    reports: &[WorkloadReport],
    json: bool,
) -> anyhow::Result<()> {
    let source_ips = if spread { "per-worker" } else { "single" };
    if json {
        return print_json(&LoadDocument { meta, source_ips, bounds, workloads: reports });
    }
    header(meta);
    println!(
        "source addresses: {}",
        if spread { "one loopback address per connection (127.1.x.y)" } else { "127.0.0.1" }
    );
    if let Some(b) = bounds {
        println!(
            "bounds: bcrypt verify {:.1} ms/core → {:.1} logins/s on {} cores (measured in parallel: {:.1}/s); \
             ES256 sign {:.1} µs, verify {:.1} µs → {:.0} verifies/s",
            b.bcrypt_verify_ms,
            b.login_bound_per_s,
            b.cores,
            b.bcrypt_parallel_per_s,
            b.es256_sign_us,
            b.es256_verify_us,
            b.verify_bound_per_s
        );
    }
    println!();
    println!(
        "{:<16} {:>9} {:>10} {:>8} {:>8} {:>8} {:>9}  {:>26} {:>6}  errors",
        "workload", "requests", "ok/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "bound/s", "ratio"
    );
    for r in reports {
        row(&r.name, r.requests, r.ok_per_s, &r.latency_ms, &errors_text(&r.errors), &r.bound);
        for p in &r.parts {
            row(&format!("  {}", p.name), p.requests, p.ok_per_s, &p.latency_ms, &errors_text(&p.errors), &p.bound);
        }
    }
    println!();
    for r in reports {
        print!("{}: {} at {} connections, {:.1}s", r.name, r.endpoint, r.concurrency, r.seconds);
        if let Some(rss) = &r.server_rss {
            print!("; server RSS {} → {} kB", rss.before_kib, rss.after_kib);
        }
        if let (Some(cpu), Some(per)) = (r.server_cpu_s, r.server_cpu_us_per_ok) {
            print!("; server CPU {cpu:.1}s ({per:.0} µs/ok request)");
        }
        if let Some(cpu) = r.client_cpu_s {
            print!("; load generator CPU {cpu:.1}s");
        }
        if let Some(cpu) = r.other_cpu_s {
            print!("; other processes CPU {cpu:.1}s");
        }
        println!();
        if let Some(note) = &r.note {
            println!("  note: {note}");
        }
    }
    Ok(())
}

pub fn print_memory(meta: &RunMeta, m: &MemoryReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&MemoryDocument { meta, memory: m });
    }
    header(meta);
    println!(
        "in-process session actors on {} + {} cache ({} creations at a time; sealed state {} bytes)",
        m.database, m.cache, m.parallelism, m.sealed_state_bytes
    );
    println!("baseline RSS: {} kB", m.baseline_rss_kib);
    println!("{:>12} {:>12} {:>12} {:>10} {:>12}", "live actors", "RSS kB", "B/session", "seconds", "creates/s");
    for c in &m.checkpoints {
        println!(
            "{:>12} {:>12} {:>12} {:>10.1} {:>12.0}",
            c.live_actors, c.rss_kib, c.bytes_per_session, c.seconds, c.creations_per_s
        );
    }
    if let Some(k) = &m.api_keys {
        println!(
            "+ {} API-key actors beside {} sessions: RSS {} kB ({} B/key, {:.1}s to create)",
            k.live_keys, k.live_sessions, k.rss_kib, k.bytes_per_key, k.seconds
        );
    }
    let p = &m.passivation;
    println!(
        "after passivation ({:.1}s, {} left): RSS {} kB at once, {} kB after {:.0}s — {:+.1}% vs baseline, {:+.1}% vs peak",
        p.seconds_to_passivate, p.live_after, p.rss_kib_at_once, p.rss_kib_settled, p.settled_after_s, p.vs_baseline_pct, p.vs_peak_pct
    );
    println!(
        "{:>10} {:>14} {:>12} {:>14} {:>14} {:>14}",
        "jemalloc", "allocated kB", "active kB", "resident kB", "metadata kB", "retained kB"
    );
    for (name, figures) in
        [("baseline", &m.allocator_baseline), ("peak", &m.allocator_peak), ("settled", &p.allocator_settled)]
    {
        if let Some(f) = figures {
            println!(
                "{name:>10} {:>14} {:>12} {:>14} {:>14} {:>14}",
                f.allocated_kib, f.active_kib, f.resident_kib, f.metadata_kib, f.retained_kib
            );
        }
    }
    Ok(())
}

pub fn print_actor_speed(meta: &RunMeta, a: &ActorSpeedReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&ActorSpeedDocument { meta, actors: a });
    }
    header(meta);
    println!(
        "in-process session actors on {} + {} cache: {} CPUs allowed, {} runtime workers, {} callers at a time",
        a.database, a.cache, a.cpus_allowed, a.runtime_workers, a.parallelism
    );
    println!("{:<34} {:>9} {:>10} {:>12}", "phase", "count", "seconds", "per second");
    for (name, rate) in [
        ("spawn (no message yet)", &a.spawn),
        ("create (persisted)", &a.create),
        ("activate passivated, in parallel", &a.activation_parallel),
        ("validate on live actors", &a.validate_throughput),
    ] {
        println!("{name:<34} {:>9} {:>10.3} {:>12.0}", rate.count, rate.seconds, rate.per_s);
    }
    println!("{:<34} {:>9} {:>10} {:>10} {:>10} {:>10}", "one at a time (µs)", "count", "p50", "p90", "p99", "max");
    for (name, m) in
        [("activate passivated", &a.activation_one_at_a_time), ("validate round trip", &a.validate_round_trip)]
    {
        println!(
            "{name:<34} {:>9} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
            m.count, m.p50_us, m.p90_us, m.p99_us, m.max_us
        );
    }
    Ok(())
}
