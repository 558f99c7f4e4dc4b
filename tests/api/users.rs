//! The caller's own account at the HTTP level, on both backends: the profile with the token's
//! scopes, renaming, and changing the password (other sessions end, this one stays).

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;

use crate::both;
use crate::helpers::{expect_invalid, expect_problem, me_status, member, send, sign_in, try_sign_in};
use crate::helpers::{TestApp, PASSWORD};

const ME: &str = "/api/v1/users/me";
const PASSWORD_PATH: &str = "/api/v1/users/me/password";
const NEW_PASSWORD: &str = "staple-lantern-orbit-42";

both!(me_shows_the_account_its_tenant_and_the_scopes_of_the_token_in_hand, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let response = send(&app, Method::GET, ME, &trader.token, None).await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["id"], trader.id.to_string());
    assert_eq!(me["email"], trader.email.as_str());
    assert_eq!(me["display_name"], "Member");
    assert_eq!(me["tenant"]["slug"], "default");
    assert!(me["tenant"]["id"].is_string() && me["tenant"]["name"].is_string());
    assert_eq!(me["roles"], json!(["trader"]));
    assert_eq!(me["scopes"], json!(["orders:read", "orders:write"]));
    assert!(me["created_at"].is_string());
    assert!(me.get("password_hash").is_none());

    // A token narrowed at login shows only what it can do.
    let narrowed = app
        .post(
            "/api/v1/auth/login",
            json!({"email": trader.email, "password": PASSWORD, "scope": "orders:read", "token_delivery": "body"}),
        )
        .await;
    assert_eq!(narrowed.status(), 200);
    let narrowed: Value = narrowed.json().await.expect("json");
    let token = narrowed["access_token"].as_str().expect("token");
    let me: Value = send(&app, Method::GET, ME, token, None).await.json().await.expect("json");
    assert_eq!(me["scopes"], json!(["orders:read"]));
    assert_eq!(me["roles"], json!(["trader"]));
});

both!(me_needs_a_token, |app: TestApp| async move {
    let response = app.client.get(app.url(ME)).send().await.expect("request");
    assert!(response.headers().contains_key("www-authenticate"));
    expect_problem(response, 401, "token_missing").await;
});

both!(a_user_renames_itself_and_bad_names_answer_422, |app: TestApp| async move {
    let viewer = member(&app, "default", &[Role::Viewer]).await;
    let response = send(&app, Method::PATCH, ME, &viewer.token, Some(json!({"display_name": "  Vera Viewer "}))).await;
    assert_eq!(response.status(), 200);
    let renamed: Value = response.json().await.expect("json");
    assert_eq!(renamed["display_name"], "Vera Viewer");
    assert_eq!(renamed["scopes"], json!(["orders:read"]));
    let me: Value = send(&app, Method::GET, ME, &viewer.token, None).await.json().await.expect("json");
    assert_eq!(me["display_name"], "Vera Viewer");

    for bad in [json!(""), json!("   "), json!("x".repeat(101)), json!("nul\u{0}name"), json!(5), json!(["a"])] {
        expect_invalid(
            send(&app, Method::PATCH, ME, &viewer.token, Some(json!({"display_name": bad}))).await,
            "display_name",
        )
        .await;
    }
    // Nothing to change is not an error.
    assert_eq!(send(&app, Method::PATCH, ME, &viewer.token, Some(json!({}))).await.status(), 200);
});

both!(
    changing_the_password_ends_the_other_sessions_keeps_this_one_and_retires_the_old_password,
    |app: TestApp| async move {
        let here = member(&app, "default", &[Role::Trader]).await;
        let elsewhere = sign_in(&app, "default", &here.email, PASSWORD).await;
        let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
        let response = send(&app, Method::POST, PASSWORD_PATH, &here.token, Some(body)).await;
        assert_eq!(response.status(), 204);

        assert_eq!(me_status(&app, &here.token).await, (200, String::new()));
        assert_eq!(me_status(&app, &elsewhere.token).await, (401, "session_revoked".to_owned()));
        expect_problem(try_sign_in(&app, "default", &here.email, PASSWORD).await, 401, "invalid_credentials").await;
        sign_in(&app, "default", &here.email, NEW_PASSWORD).await;
        // The audit trail has it, without the passwords.
        let trail = app
            .core
            .stores
            .db
            .list_audit(None, &Default::default(), tradesage::store::Page { limit: 200, before: None })
            .await
            .expect("audit");
        let event = trail.iter().find(|e| e.event == "password_change" && e.outcome == "success").expect("audited");
        assert_eq!(event.user_id, Some(here.id));
        assert!(!event.detail.to_string().contains(NEW_PASSWORD));
    }
);

both!(a_wrong_current_password_or_a_weak_new_one_answers_422_naming_the_field, |app: TestApp| async move {
    let user = member(&app, "default", &[Role::Viewer]).await;
    let cases = [
        ("current_password", json!({"current_password": "not-the-password", "new_password": NEW_PASSWORD})),
        ("current_password", json!({"current_password": "", "new_password": NEW_PASSWORD})),
        ("current_password", json!({"new_password": NEW_PASSWORD})),
        ("current_password", json!({"current_password": 12345678, "new_password": NEW_PASSWORD})),
        ("new_password", json!({"current_password": PASSWORD, "new_password": "short"})),
        ("new_password", json!({"current_password": PASSWORD, "new_password": "password1"})),
        ("new_password", json!({"current_password": PASSWORD, "new_password": "y".repeat(73)})),
        ("new_password", json!({"current_password": PASSWORD, "new_password": PASSWORD})),
        ("new_password", json!({"current_password": PASSWORD, "new_password": 123456789})),
        ("new_password", json!({"current_password": PASSWORD})),
    ];
    for (field, body) in cases {
        expect_invalid(send(&app, Method::POST, PASSWORD_PATH, &user.token, Some(body)).await, field).await;
    }
    // None of that changed anything.
    sign_in(&app, "default", &user.email, PASSWORD).await;
    assert_eq!(me_status(&app, &user.token).await, (200, String::new()));
});

both!(
    guessing_the_current_password_counts_towards_the_lockout,
    [("LOCKOUT_THRESHOLD", "2"), ("LOCKOUT_LADDER", "permanent")],
    |app: TestApp| async move {
        let user = member(&app, "default", &[Role::Viewer]).await;
        let guess = json!({"current_password": "guess-number-one", "new_password": NEW_PASSWORD});
        expect_invalid(
            send(&app, Method::POST, PASSWORD_PATH, &user.token, Some(guess.clone())).await,
            "current_password",
        )
        .await;
        expect_problem(send(&app, Method::POST, PASSWORD_PATH, &user.token, Some(guess)).await, 423, "account_locked")
            .await;
        let right = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
        expect_problem(send(&app, Method::POST, PASSWORD_PATH, &user.token, Some(right)).await, 423, "account_locked")
            .await;
        expect_problem(try_sign_in(&app, "default", &user.email, PASSWORD).await, 423, "account_locked").await;
    }
);
