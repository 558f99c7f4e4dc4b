//! The audit trail's filters and retention (API.md §5.1): `GET /api/v1/admin/audit` filters by
//! `event`, `user_id`, `outcome`, `ip`, `since` and `until`, refusing a bad value with 422
//! naming it; `AUDIT_RETENTION` has the janitor remove older events, counted.

use chrono::{Duration as Days, Utc};
use serde_json::{json, Value};
use tradesage::domain::Role;
use tradesage::store::AuditEvent;
use uuid::Uuid;

use crate::both;
use crate::helpers::TestApp;
use crate::helpers::{expect_invalid, member, Member};

const AUDIT: &str = "/api/v1/admin/audit";

async fn events(app: &TestApp, admin: &Member, query: &[(&str, String)]) -> Vec<Value> {
    let response = app.client.get(app.url(AUDIT)).bearer_auth(&admin.token).query(query).send().await.unwrap();
    assert_eq!(response.status(), 200, "{query:?}");
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// Stores an event of the admin's tenant, at `at`, straight through the store.
async fn stored(
    app: &TestApp,
    admin: &Member,
    event: &str,
    outcome: &str,
    ip: &str,
    at: chrono::DateTime<Utc>,
) -> Uuid {
    let tenant = app.core.stores.db.tenant_by_slug("default").await.unwrap().unwrap();
    let row = AuditEvent {
        id: Uuid::now_v7(),
        at,
        tenant_id: Some(tenant.id),
        user_id: Some(admin.id),
        event: event.into(),
        outcome: outcome.into(),
        ip: Some(ip.into()),
        user_agent: None,
        request_id: None,
        detail: json!({}),
    };
    app.core.stores.db.insert_audit(std::slice::from_ref(&row)).await.unwrap();
    row.id
}

both!(the_audit_trail_filters_by_event_user_outcome_ip_and_time, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let viewer = member(&app, "default", &[Role::Viewer]).await;
    let now = Utc::now();
    let old = stored(&app, &admin, "probe", "success", "203.0.113.7", now - Days::days(3)).await;
    let failed = stored(&app, &admin, "probe", "failure", "198.51.100.2", now - Days::days(1)).await;
    let locked = stored(&app, &admin, "probe", "locked", "198.51.100.2", now - Days::hours(1)).await;
    let ids = |items: Vec<Value>| -> Vec<String> {
        items.iter().filter(|e| e["event"] == "probe").map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    let probe = |extra: &[(&'static str, String)]| {
        let mut query = vec![("event", "probe".to_owned())];
        query.extend(extra.iter().cloned());
        query
    };
    assert_eq!(ids(events(&app, &admin, &probe(&[])).await), [locked, failed, old].map(|i| i.to_string()));
    assert_eq!(ids(events(&app, &admin, &probe(&[("outcome", "success".into())])).await), [old.to_string()], "success");
    assert_eq!(
        ids(events(&app, &admin, &probe(&[("outcome", "failure".into())])).await),
        [locked, failed].map(|i| i.to_string()),
        "failure: every outcome that is not a success"
    );
    assert_eq!(
        ids(events(&app, &admin, &probe(&[("ip", "198.51.100.2".into())])).await),
        [locked, failed].map(|i| i.to_string())
    );
    assert_eq!(
        ids(events(&app, &admin, &probe(&[("ip", "::ffff:203.0.113.7".into())])).await),
        [old.to_string()],
        "an IPv4-mapped filter is the IPv4 address"
    );
    let since = (now - Days::days(2)).to_rfc3339();
    let until = (now - Days::hours(2)).to_rfc3339();
    assert_eq!(
        ids(events(&app, &admin, &probe(&[("since", since.clone())])).await),
        [locked, failed].map(|i| i.to_string())
    );
    assert_eq!(
        ids(events(&app, &admin, &probe(&[("until", until.clone())])).await),
        [failed, old].map(|i| i.to_string())
    );
    assert_eq!(ids(events(&app, &admin, &probe(&[("since", since), ("until", until)])).await), [failed.to_string()]);
    // A user's own sign-in is found by user, outcome and time together.
    let mine = events(
        &app,
        &admin,
        &[("user_id", viewer.id.to_string()), ("event", "login".into()), ("outcome", "success".into())],
    )
    .await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["ip"], "127.0.0.1");

    for (name, bad) in [
        ("outcome", "maybe"),
        ("ip", "not-an-ip"),
        ("since", "yesterday"),
        ("until", "2024-13-01T00:00:00Z"),
        ("user_id", "nobody"),
        ("event", &"e".repeat(65)),
    ] {
        let response = app.client.get(app.url(AUDIT)).bearer_auth(&admin.token).query(&[(name, bad)]).send().await;
        expect_invalid(response.unwrap(), name).await;
    }
    let backwards = [("since", now.to_rfc3339()), ("until", (now - Days::days(1)).to_rfc3339())];
    let response = app.client.get(app.url(AUDIT)).bearer_auth(&admin.token).query(&backwards).send().await;
    expect_invalid(response.unwrap(), "until").await;
});

both!(
    the_janitor_removes_events_older_than_the_retention_and_counts_them,
    [("AUDIT_RETENTION", "2d"), ("JANITOR_INTERVAL", "200ms")],
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin]).await;
        let now = Utc::now();
        let expired = stored(&app, &admin, "ancient", "success", "203.0.113.7", now - Days::days(3)).await;
        let kept = stored(&app, &admin, "ancient", "success", "203.0.113.7", now - Days::days(1)).await;
        let started = std::time::Instant::now();
        loop {
            let left: Vec<String> = events(&app, &admin, &[("event", "ancient".into())])
                .await
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect();
            if left == [kept.to_string()] {
                break;
            }
            assert!(left.contains(&kept.to_string()), "a recent event went: {left:?}");
            assert!(left.contains(&expired.to_string()));
            assert!(started.elapsed() < std::time::Duration::from_secs(15), "the old event stays: {left:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let removed = metrics
            .lines()
            .find_map(|l| l.strip_prefix("tradesage_janitor_removed_total{what=\"audit_events\"} "))
            .map(|v| v.trim().parse::<f64>().unwrap());
        assert!(removed.is_some_and(|n| n >= 1.0), "not counted: {removed:?}");
    }
);
