//! Real `redis-server` processes for the Redis HA tests, on free loopback ports, each in a
//! temporary folder and killed when dropped: a Sentinel set (a primary, a replica and three
//! sentinels) and a Redis Cluster (three primaries, each with a replica). Waits are bounded.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `redis-cli -p PORT ARGS…`, its output trimmed ("" when it fails).
pub fn cli(port: u16, args: &[&str]) -> String {
    Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Polls `done` every 100 ms for up to `limit`; panics naming `what` when it never holds.
pub async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub struct RedisProc {
    pub port: u16,
    child: Option<Child>,
}

impl RedisProc {
    fn spawn(dir: &PathBuf, port: u16, config: &str, sentinel: bool) -> RedisProc {
        let file = dir.join(format!("{port}.conf"));
        std::fs::write(&file, config).unwrap();
        let mut command = Command::new("redis-server");
        command.arg(&file);
        if sentinel {
            command.arg("--sentinel");
        }
        let child = command
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        RedisProc { port, child: Some(child) }
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tradesage-{what}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn server_config(port: u16, extra: &str) -> String {
    format!("port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\n{extra}\n")
}

pub const SERVICE: &str = "tradesage";

/// A primary, one replica and three sentinels (quorum 2, a primary is down after 1 s).
pub struct SentinelSet {
    pub primary: RedisProc,
    pub replica: RedisProc,
    pub sentinels: Vec<RedisProc>,
}

impl SentinelSet {
    pub async fn start() -> SentinelSet {
        let dir = temp_dir("sentinel");
        let (p, r) = (free_port(), free_port());
        let primary = RedisProc::spawn(&dir, p, &server_config(p, ""), false);
        let replica = RedisProc::spawn(&dir, r, &server_config(r, &format!("replicaof 127.0.0.1 {p}")), false);
        wait_for("the replica in sync", Duration::from_secs(10), || {
            cli(r, &["info", "replication"]).contains("master_link_status:up")
        })
        .await;
        let sentinels = (0..3)
            .map(|_| {
                let s = free_port();
                let config = format!(
                    "port {s}\nbind 127.0.0.1\nsentinel monitor {SERVICE} 127.0.0.1 {p} 2\n\
                     sentinel down-after-milliseconds {SERVICE} 1000\nsentinel failover-timeout {SERVICE} 5000\n\
                     sentinel parallel-syncs {SERVICE} 1\n"
                );
                RedisProc::spawn(&dir, s, &config, true)
            })
            .collect::<Vec<_>>();
        for sentinel in &sentinels {
            let port = sentinel.port;
            wait_for("a sentinel that sees the replica and the others", Duration::from_secs(15), || {
                let info = cli(port, &["info", "sentinel"]);
                info.contains("slaves=1") && info.contains("sentinels=3")
            })
            .await;
        }
        SentinelSet { primary, replica, sentinels }
    }

    /// The contract's URL form.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.sentinels.iter().map(|s| format!("127.0.0.1:{}", s.port)).collect();
        format!("redis-sentinel://{}/0?sentinelServiceName={SERVICE}", hosts.join(","))
    }

    /// The port the sentinels name as primary.
    pub fn primary_port(&self) -> u16 {
        let answer = cli(self.sentinels[0].port, &["sentinel", "get-master-addr-by-name", SERVICE]);
        answer.lines().nth(1).and_then(|p| p.trim().parse().ok()).unwrap_or(0)
    }

    /// Kills the primary and waits until the sentinels have promoted the replica.
    pub async fn fail_over(&mut self) {
        self.primary.kill();
        let replica = self.replica.port;
        let sentinel = self.sentinels[0].port;
        wait_for("the sentinels to promote the replica", Duration::from_secs(20), || {
            let answer = cli(sentinel, &["sentinel", "get-master-addr-by-name", SERVICE]);
            answer.lines().nth(1).is_some_and(|p| p.trim() == replica.to_string())
                && cli(replica, &["role"]).starts_with("master")
        })
        .await;
    }
}

/// Three primaries with a replica each; a node is failed after 1 s.
pub struct ClusterSet {
    pub nodes: Vec<RedisProc>,
}

impl ClusterSet {
    pub async fn start() -> ClusterSet {
        let dir = temp_dir("cluster");
        let nodes: Vec<RedisProc> = (0..6)
            .map(|_| {
                let port = free_port();
                let extra = format!(
                    "cluster-enabled yes\ncluster-config-file nodes-{port}.conf\ncluster-node-timeout 1000\n\
                     cluster-replica-validity-factor 0\n"
                );
                RedisProc::spawn(&dir, port, &server_config(port, &extra), false)
            })
            .collect();
        for node in &nodes {
            let port = node.port;
            wait_for("a cluster node answering", Duration::from_secs(10), || cli(port, &["ping"]) == "PONG").await;
        }
        let addresses: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli --cluster create");
        assert!(created.success(), "cluster created");
        for node in &nodes {
            let port = node.port;
            wait_for("the cluster ok on every node", Duration::from_secs(20), || {
                cli(port, &["cluster", "info"]).contains("cluster_state:ok")
            })
            .await;
        }
        ClusterSet { nodes }
    }

    /// The contract's URL form (every node as a seed).
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        format!("redis-cluster://{}", hosts.join(","))
    }

    /// Indexes of the nodes that are primaries now.
    pub fn primaries(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| cli(self.nodes[i].port, &["role"]).starts_with("master")).collect()
    }

    /// Kills primary `index` and waits until the cluster is ok again (its replica promoted).
    pub async fn kill_primary(&mut self, index: usize) {
        self.nodes[index].kill();
        let survivors: Vec<u16> = (0..self.nodes.len()).filter(|&i| i != index).map(|i| self.nodes[i].port).collect();
        wait_for("the cluster ok after a primary died", Duration::from_secs(30), || {
            survivors.iter().all(|&port| cli(port, &["cluster", "info"]).contains("cluster_state:ok"))
        })
        .await;
    }

    /// Keys under `prefix` across the primaries.
    pub fn keys(&self, prefix: &str) -> usize {
        self.primaries()
            .into_iter()
            .map(|i| cli(self.nodes[i].port, &["--scan", "--pattern", &format!("{prefix}*")]).lines().count())
            .sum()
    }
}
