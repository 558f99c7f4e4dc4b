//! Accounts and their trail stay whole: a password change racing an admin's edit does not
//! put back what the admin changed (lost update), and a tenant's admin sees every event of
//! its users, theft signals included. Each test failed before its fix (issue 13).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;

use crate::both;
use crate::helpers::{code_of, TestApp, PASSWORD};
use crate::helpers::{member, send};

// Cost 12: each bcrypt run takes a quarter of a second, so the race window below (two runs)
// is wide enough to land an admin's change inside it on any machine.
both!(
    a_password_change_racing_an_admins_disable_leaves_the_account_disabled,
    [("BCRYPT_ROUNDS", "12")],
    |app: TestApp| async move {
        let target = member(&app, "default", &[Role::Trader]).await;
        let admin = member(&app, "default", &[Role::Admin]).await;
        let change = {
            let client = app.new_client();
            let url = app.url("/api/v1/users/me/password");
            let token = target.token.clone();
            let body = json!({"current_password": PASSWORD, "new_password": "another-long-passphrase-7"});
            tokio::spawn(async move { client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status() })
        };
        tokio::time::sleep(Duration::from_millis(120)).await;
        let path = format!("/api/v1/admin/users/{}", target.id);
        let disabled = send(&app, Method::PATCH, &path, &admin.token, Some(json!({"is_active": false}))).await;
        assert_eq!(disabled.status(), 200);
        let changed = change.await.unwrap();
        assert!(changed.as_u16() == 204 || changed.as_u16() == 401, "the password change answered {changed}");
        let after: Value = send(&app, Method::GET, &path, &admin.token, None).await.json().await.unwrap();
        assert_eq!(after["is_active"], false, "the admin's disable was not overwritten");
    }
);

both!(
    a_tenant_admin_sees_the_reuse_detection_and_logout_of_their_users,
    [("REFRESH_REUSE_GRACE", "0s")],
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin]).await;
        let (email, login) = app.signed_in_user().await;
        let user_id = login["user"]["id"].clone();
        let spent = login["refresh_token"].as_str().unwrap();
        assert_eq!(app.refresh_with(spent).await.status(), 200);
        assert_eq!(code_of(app.refresh_with(spent).await).await, "token_reused");
        let again = app.login_body(&email).await;
        let logout = app
            .client
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(again["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), 204);
        for event in ["token_reuse_detected", "logout"] {
            let path = format!("/api/v1/admin/audit?event={event}");
            let listed: Value = send(&app, Method::GET, &path, &admin.token, None).await.json().await.unwrap();
            let items = listed["items"].as_array().expect("items");
            assert!(items.iter().any(|e| e["user_id"] == user_id), "{event} is in the tenant's trail: {listed}");
        }
    }
);
