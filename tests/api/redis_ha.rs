//! `REDIS_URL` in its Sentinel and Cluster forms (API.md §5.5), on real `redis-server`
//! processes this test starts on free loopback ports: two nodes log in, validate, refresh and
//! hear each other's events (an end on one node refuses the session on the other); then the
//! Redis primary dies — Sentinel promotes the replica, or the Cluster fails over — and the
//! nodes ride it out without a restart: everything works again and the cache is written to
//! the new primary.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{base_vars, fresh_database, spawn_with_vars, Backend, TestApp};
use crate::redis_procs::{cli, ClusterSet, SentinelSet};

const ME: &str = "/api/v1/users/me";

async fn two_nodes(redis_url: &str) -> (TestApp, TestApp, String) {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    vars.insert("REDIS_URL".into(), redis_url.into());
    let prefix = vars["REDIS_KEY_PREFIX"].clone();
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    (a, b, prefix)
}

/// Sign in on A, validate on B (B's actor goes live), refresh on B, log out on A: B refuses
/// within 2 s, which only the event from A can tell it.
async fn login_refresh_and_events_work(a: &TestApp, b: &TestApp) {
    let (_, login) = a.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(b.get_with(ME, access).await.status(), 200, "B validates A's session");
    let refreshed = b.refresh_with(login["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200, "B rotates A's refresh token");
    let refreshed: Value = refreshed.json().await.unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(b.get_with(ME, access).await.status(), 200);
    let logout = a.client.post(a.url("/api/v1/auth/logout")).bearer_auth(access).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let status = b.get_with(ME, access).await.status();
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "B heard of the end within 2 s (still {status})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until the cache check of both nodes is ok again: the breaker closed.
async fn cache_recovered(nodes: [&TestApp; 2]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for node in nodes {
        loop {
            let body: Value = node.client.get(node.url("/health/detailed")).send().await.unwrap().json().await.unwrap();
            if body["checks"]["cache"]["status"] == "ok" {
                break;
            }
            assert!(Instant::now() < deadline, "the cache recovered: {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn keys(port: u16, prefix: &str) -> usize {
    cli(port, &["--scan", "--pattern", &format!("{prefix}*")]).lines().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_sentinel_two_nodes_work_and_ride_out_a_failover() {
    let mut set = SentinelSet::start().await;
    let (a, b, prefix) = two_nodes(&set.url()).await;
    login_refresh_and_events_work(&a, &b).await;
    assert!(keys(set.primary.port, &prefix) > 0, "the cache lives on the Sentinel primary");

    set.fail_over().await;
    cache_recovered([&a, &b]).await;
    login_refresh_and_events_work(&a, &b).await;
    assert_eq!(set.primary_port(), set.replica.port);
    let before = keys(set.replica.port, &format!("{prefix}session:"));
    a.signed_in_user().await;
    assert!(keys(set.replica.port, &format!("{prefix}session:")) > before, "new sessions go to the new primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_two_nodes_work_and_ride_out_a_primary_failure() {
    let mut set = ClusterSet::start().await;
    let (a, b, prefix) = two_nodes(&set.url()).await;
    for _ in 0..3 {
        login_refresh_and_events_work(&a, &b).await;
    }
    // Live sessions enough that every primary holds some (all of 12 keys on one of three
    // primaries by chance: 3 · 3⁻¹² ≈ 6 in a million).
    for _ in 0..12 {
        a.signed_in_user().await;
    }
    let spread = set.primaries().iter().filter(|&&i| keys(set.nodes[i].port, &prefix) > 0).count();
    assert!(spread >= 2, "keys spread over the primaries ({spread})");

    let victim = set.primaries()[0];
    set.kill_primary(victim).await;
    cache_recovered([&a, &b]).await;
    for _ in 0..3 {
        login_refresh_and_events_work(&a, &b).await;
    }
    let before = set.keys(&format!("{prefix}session:"));
    for _ in 0..5 {
        a.signed_in_user().await;
    }
    assert!(set.keys(&format!("{prefix}session:")) >= before + 5, "new sessions are cached on the cluster");
}
