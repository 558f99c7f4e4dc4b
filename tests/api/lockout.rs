//! Progressive lockout at the HTTP level: the ladder with short steps, the same for an unknown
//! email, 423 with Retry-After, permanent locks, and state that survives a restart.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both;
use crate::helpers::{code_of, spawn_with_vars, TestApp, PASSWORD};

const LADDER: [(&str, &str); 2] = [("LOCKOUT_THRESHOLD", "2"), ("LOCKOUT_LADDER", "1s,2s,permanent")];

async fn attempt(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post("/api/v1/auth/login", json!({"email": email, "password": password, "token_delivery": "body"})).await
}

async fn expect_locked(response: reqwest::Response, retry_after: Option<u64>) {
    assert_eq!(response.status(), 423);
    let header = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    assert_eq!(header, retry_after);
    assert_eq!(code_of(response).await, "account_locked");
}

async fn climb_the_ladder(app: &TestApp, email: &str) {
    // Step 1: the failure that reaches the threshold answers 423 at once.
    assert_eq!(attempt(app, email, "wrong-password-1").await.status(), 401);
    expect_locked(attempt(app, email, "wrong-password-1").await, Some(1)).await;
    // While locked, even the right password is refused.
    expect_locked(attempt(app, email, PASSWORD).await, Some(1)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The count starts again from zero: one failure is not yet a lock.
    assert_eq!(attempt(app, email, "wrong-password-1").await.status(), 401);
    expect_locked(attempt(app, email, "wrong-password-1").await, Some(2)).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(attempt(app, email, "wrong-password-1").await.status(), 401);
    expect_locked(attempt(app, email, "wrong-password-1").await, None).await;
}

both!(the_full_ladder_locks_a_real_account_up_to_permanent, [LADDER[0], LADDER[1]], |app: TestApp| async move {
    app.register("victim@example.com").await;
    climb_the_ladder(&app, "victim@example.com").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    expect_locked(attempt(&app, "victim@example.com", PASSWORD).await, None).await;
    let lockouts = app.core.metrics.render();
    assert!(lockouts.contains("tradesage_lockouts_total{step=\"3\"} 1"), "lock metrics counted");
});

both!(an_unknown_email_is_locked_exactly_like_a_real_one, [LADDER[0], LADDER[1]], |app: TestApp| async move {
    climb_the_ladder(&app, "ghost@example.com").await;
});

both!(a_success_resets_the_failure_count, [LADDER[0], LADDER[1]], |app: TestApp| async move {
    app.register("steady@example.com").await;
    for _ in 0..3 {
        assert_eq!(attempt(&app, "steady@example.com", "wrong-password-1").await.status(), 401);
        assert_eq!(attempt(&app, "steady@example.com", PASSWORD).await.status(), 200);
    }
});

both!(lockouts_are_per_tenant_and_email_case_insensitive, [LADDER[0], LADDER[1]], |app: TestApp| async move {
    app.register("case@example.com").await;
    assert_eq!(attempt(&app, "CASE@example.com", "wrong-password-1").await.status(), 401);
    expect_locked(attempt(&app, " Case@Example.com ", "wrong-password-1").await, Some(1)).await;
    let other_tenant = app
        .post(
            "/api/v1/auth/login",
            json!({"email": "case@example.com", "password": "x-wrong-pass", "tenant": "platform"}),
        )
        .await;
    assert_eq!(other_tenant.status(), 401, "the platform tenant's counter is separate");
});

both!(
    a_lock_survives_a_restart,
    [("LOCKOUT_THRESHOLD", "2"), ("LOCKOUT_LADDER", "1h,permanent")],
    |app: TestApp| async move {
        app.register("durable@example.com").await;
        assert_eq!(attempt(&app, "durable@example.com", "wrong-password-1").await.status(), 401);
        assert_eq!(attempt(&app, "durable@example.com", "wrong-password-1").await.status(), 423);
        let vars = app.vars.clone();
        let backend = app.backend;
        app.stop().await;
        let restarted = spawn_with_vars(backend, vars).await;
        let response = attempt(&restarted, "durable@example.com", PASSWORD).await;
        assert_eq!(response.status(), 423);
        let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((3500..=3600).contains(&retry), "{retry}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "account_locked");
    }
);
