//! The operators' actor views: this node's or the cluster's (`?scope=`), and the history per
//! node and kind; with two nodes on one PostgreSQL + Redis, each sees the other, and a node
//! that stops reporting leaves the live view after 10 s while its history stays.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::both;
use crate::helpers::{base_vars, fresh_database, spawn_with_vars, Backend, TestApp};

const TOKEN: &str = "operators-metrics-token";
const ACTORS: &str = "/api/v1/admin/actors";
const HISTORY: &str = "/api/v1/admin/actors/history";

async fn get(app: &TestApp, path: &str) -> Value {
    let response = app.get_with(path, TOKEN).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Polls `path` (up to `limit`) until `done` holds of its answer; gives the last answer.
async fn poll(app: &TestApp, path: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let body = get(app, path).await;
        if done(&body) || started.elapsed() > limit {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn node_names(cluster: &Value) -> Vec<String> {
    cluster["nodes"].as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap().to_owned()).collect()
}

/// The history entry of `node`, if any.
fn history_of<'a>(history: &'a Value, node: &str) -> Option<&'a Value> {
    history["nodes"].as_array().unwrap().iter().find(|n| n["node"] == node)
}

/// The points of `kind` in a node's history entry.
fn points<'a>(entry: &'a Value, kind: &str) -> Vec<&'a Value> {
    entry["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kind"] == kind)
        .flat_map(|k| k["points"].as_array().unwrap())
        .collect()
}

async fn field_of_422(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    body["field"].as_str().unwrap_or_default().to_owned()
}

both!(the_actor_view_answers_for_this_node_or_the_cluster, [("METRICS_TOKEN", TOKEN)], |app: TestApp| async move {
    let node = get(&app, ACTORS).await;
    assert_eq!(node["node"], app.core.node.as_str());
    assert!(node["kinds"].is_array() && node["supervisors"].is_array());
    assert_eq!(get(&app, &format!("{ACTORS}?scope=node")).await["node"], app.core.node.as_str());
    let cluster = get(&app, &format!("{ACTORS}?scope=cluster")).await;
    assert_eq!(cluster["node"], app.core.node.as_str());
    assert_eq!(node_names(&cluster), [app.core.node.as_str()], "one node, in the single-node shape");
    let kinds: Vec<&str> =
        cluster["nodes"][0]["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"session") && kinds.contains(&"lockout"), "{kinds:?}");
    assert!(cluster["nodes"][0]["kinds"][0]["handle_time_ms"]["p99"].is_number());
    for bad in ["galaxy", "NODE", "node%00"] {
        assert_eq!(field_of_422(app.get_with(&format!("{ACTORS}?scope={bad}"), TOKEN).await).await, "scope");
    }
    let anonymous = app.new_client().get(app.url(&format!("{ACTORS}?scope=cluster"))).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (_, viewer) = app.signed_in_user().await;
    let viewer = viewer["access_token"].as_str().unwrap();
    assert_eq!(app.get_with(&format!("{ACTORS}?scope=cluster"), viewer).await.status(), 403);
});

both!(
    the_history_has_a_point_per_kind_each_ten_seconds_with_deltas,
    [("METRICS_TOKEN", TOKEN)],
    |app: TestApp| async move {
        for bad in ["0", "16", "-1", "abc", "1.5"] {
            let response = app.get_with(&format!("{HISTORY}?minutes={bad}"), TOKEN).await;
            assert_eq!(field_of_422(response).await, "minutes", "minutes={bad}");
        }
        let (_, viewer) = app.signed_in_user().await;
        assert_eq!(app.get_with(HISTORY, viewer["access_token"].as_str().unwrap()).await.status(), 403);
        assert_eq!(app.new_client().get(app.url(HISTORY)).send().await.unwrap().status(), 401);
        let short = get(&app, &format!("{HISTORY}?minutes=1")).await;
        assert_eq!((short["minutes"].as_u64(), short["step_s"].as_u64()), (Some(1), Some(10)));

        // The node counts from its start: its first points hold the sign-in's activation.
        let node = app.core.node.clone();
        let has_points = |h: &Value| history_of(h, &node).is_some_and(|n| points(n, "session").len() >= 2);
        let history = poll(&app, HISTORY, Duration::from_secs(40), has_points).await;
        let entry = history_of(&history, &node).expect("this node is in its own history");
        assert_eq!(entry["reporting"], true);
        assert!(entry["last_report_at"].is_string());
        let sessions = points(entry, "session");
        assert!(sessions.len() >= 2, "{history}");
        let activations: u64 = sessions.iter().map(|p| p["activations"].as_u64().unwrap()).sum();
        assert_eq!(activations, 1, "deltas add up to the one session activated: {history}");
        let times: Vec<i64> = sessions
            .iter()
            .map(|p| chrono::DateTime::parse_from_rfc3339(p["t"].as_str().unwrap()).unwrap().timestamp())
            .collect();
        assert!(times.iter().all(|t| t % 10 == 0), "points on 10 s steps: {times:?}");
        assert!(times.windows(2).all(|w| w[1] - w[0] == 10), "one point each 10 s: {times:?}");
        let handled = sessions.iter().find(|p| !p["p99_ms"].is_null()).expect("a step that handled messages");
        assert!(handled["p99_ms"].as_f64().unwrap() > 0.0);
        for field in ["live", "passivations", "restarts", "failures", "mailbox_depth", "interval_s"] {
            assert!(sessions[0][field].is_number(), "{field}");
        }
        assert!(!points(entry, "lockout").is_empty(), "every kind has its points");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_see_each_other_and_a_stopped_node_leaves_the_view_after_ten_seconds_but_keeps_its_history() {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    vars.insert("METRICS_TOKEN".into(), TOKEN.into());
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    let (name_a, name_b) = (a.core.node.clone(), b.core.node.clone());
    let mut both_names = vec![name_a.clone(), name_b.clone()];
    both_names.sort();

    // Each publishes every 2 s: within a few seconds each lists both.
    let cluster = format!("{ACTORS}?scope=cluster");
    let limit = Duration::from_secs(10);
    assert_eq!(node_names(&poll(&a, &cluster, limit, |c| node_names(c).len() == 2).await), both_names);
    let seen_by_b = poll(&b, &cluster, limit, |c| node_names(c).len() == 2).await;
    assert_eq!(node_names(&seen_by_b), both_names);
    assert_eq!(seen_by_b["node"], name_b.as_str());

    // Sessions on either node count in one cluster-wide gauge.
    a.signed_in_user().await;
    b.signed_in_user().await;
    assert_eq!(a.core.refresh_sessions_gauge().await.unwrap(), 2);
    assert_eq!(b.core.refresh_sessions_gauge().await.unwrap(), 2);

    // A hears B's history.
    let b_has_points = |h: &Value| history_of(h, &name_b).is_some_and(|n| !points(n, "session").is_empty());
    let history = poll(&a, HISTORY, Duration::from_secs(40), b_has_points).await;
    let entry = history_of(&history, &name_b).unwrap_or_else(|| panic!("A has no history of B: {history}"));
    assert_eq!(entry["reporting"], true);
    let b_points = points(entry, "session").len();
    assert!(b_points >= 1, "{history}");

    // B stops. A still lists it at first (heard within 10 s), then drops it.
    b.stop().await;
    let stopped = Instant::now();
    assert!(node_names(&get(&a, &cluster).await).contains(&name_b), "B was heard less than 10 s ago");
    let gone = poll(&a, &cluster, Duration::from_secs(25), |c| !node_names(c).contains(&name_b)).await;
    assert_eq!(node_names(&gone), [name_a.as_str()], "B left A's live view");
    let after = stopped.elapsed();
    assert!(after >= Duration::from_secs(7), "B left after {after:?}, before 10 s without a report");

    // Its history stays, marked as not reporting.
    let history = get(&a, HISTORY).await;
    let entry = history_of(&history, &name_b).unwrap_or_else(|| panic!("B's history is gone: {history}"));
    assert_eq!(entry["reporting"], false);
    assert!(entry["last_report_at"].is_string());
    assert!(points(entry, "session").len() >= b_points, "B's past points stay");
    assert_eq!(history_of(&history, &name_a).unwrap()["reporting"], true);
}
