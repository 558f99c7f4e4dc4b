//! Tenant management at the HTTP level, on both backends: platform admins create, list, read
//! and update tenants; a disabled tenant's users are signed out and cannot sign in; nobody
//! else learns anything about tenants.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;
use uuid::Uuid;

use crate::both;
use crate::helpers::{expect_invalid, expect_problem, me_status, member, root, send, sign_in, tenant, try_sign_in};
use crate::helpers::{TestApp, PASSWORD};

const TENANTS: &str = "/api/v1/tenants";

both!(
    platform_admins_create_list_read_and_update_tenants_and_slugs_are_unique,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let root = root(&app).await;
        let response = send(
            &app,
            Method::POST,
            TENANTS,
            &root.token,
            Some(json!({"slug": "acme-1", "name": " Acme Corp ", "allow_self_signup": true})),
        )
        .await;
        assert_eq!(response.status(), 201);
        let acme: Value = response.json().await.expect("json");
        assert_eq!(acme["slug"], "acme-1");
        assert_eq!(acme["name"], "Acme Corp");
        assert_eq!(acme["allow_self_signup"], true);
        assert_eq!(acme["is_active"], true);
        let id = acme["id"].as_str().expect("id").to_owned();

        let again =
            send(&app, Method::POST, TENANTS, &root.token, Some(json!({"slug": "acme-1", "name": "Other"}))).await;
        expect_problem(again, 409, "conflict").await;
        let builtin =
            send(&app, Method::POST, TENANTS, &root.token, Some(json!({"slug": "default", "name": "Other"}))).await;
        expect_problem(builtin, 409, "conflict").await;

        let listed: Value = send(&app, Method::GET, TENANTS, &root.token, None).await.json().await.expect("json");
        let slugs: HashSet<&str> =
            listed["items"].as_array().expect("items").iter().filter_map(|t| t["slug"].as_str()).collect();
        assert_eq!(slugs, HashSet::from(["platform", "default", "acme-1"]));
        assert_eq!(listed["next_cursor"], Value::Null);
        let paged: Value =
            send(&app, Method::GET, &format!("{TENANTS}?limit=2"), &root.token, None).await.json().await.expect("json");
        assert_eq!(paged["items"].as_array().expect("items").len(), 2);
        assert_eq!(paged["items"][0]["slug"], "acme-1", "newest first");
        assert!(paged["next_cursor"].is_string());

        let path = format!("{TENANTS}/{id}");
        let read: Value = send(&app, Method::GET, &path, &root.token, None).await.json().await.expect("json");
        assert_eq!(read["slug"], "acme-1");
        let patched = send(
            &app,
            Method::PATCH,
            &path,
            &root.token,
            Some(json!({"name": "Acme Ltd", "allow_self_signup": false})),
        )
        .await;
        assert_eq!(patched.status(), 200);
        let patched: Value = patched.json().await.expect("json");
        assert_eq!(
            (patched["name"].clone(), patched["allow_self_signup"].clone(), patched["is_active"].clone()),
            (json!("Acme Ltd"), json!(false), json!(true))
        );
        let reread: Value = send(&app, Method::GET, &path, &root.token, None).await.json().await.expect("json");
        assert_eq!(reread["name"], "Acme Ltd");

        // Closing self sign-up takes effect on registration.
        let register = app
            .post(
                "/api/v1/auth/register",
                json!({"email": "walk-in@example.com", "password": PASSWORD, "tenant": "acme-1"}),
            )
            .await;
        expect_invalid(register, "tenant").await;

        // Managed tenants are audited in the platform's trail.
        let trail: Value = send(&app, Method::GET, "/api/v1/admin/audit?event=tenant_updated", &root.token, None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(trail["items"][0]["detail"]["tenant_id"], id.as_str());
    }
);

both!(
    a_disabled_tenants_users_are_signed_out_at_once_and_cannot_sign_in,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let root = root(&app).await;
        let created: Value =
            send(&app, Method::POST, TENANTS, &root.token, Some(json!({"slug": "shut", "name": "Shut"})))
                .await
                .json()
                .await
                .expect("json");
        let path = format!("{TENANTS}/{}", created["id"].as_str().expect("id"));
        let body = json!({"email": "worker@example.com", "password": PASSWORD, "roles": ["trader"]});
        let made = send(&app, Method::POST, "/api/v1/admin/users?tenant=shut", &root.token, Some(body)).await;
        assert_eq!(made.status(), 201);
        let worker = sign_in(&app, "shut", "worker@example.com", PASSWORD).await;
        let bystander = member(&app, "default", &[Role::Trader]).await;

        let disabled = send(&app, Method::PATCH, &path, &root.token, Some(json!({"is_active": false}))).await;
        assert_eq!(disabled.status(), 200);
        assert_eq!(disabled.json::<Value>().await.expect("json")["is_active"], false);
        assert_eq!(me_status(&app, &worker.token).await, (401, "session_revoked".to_owned()));
        expect_problem(try_sign_in(&app, "shut", "worker@example.com", PASSWORD).await, 403, "account_disabled").await;
        assert_eq!(me_status(&app, &bystander.token).await, (200, String::new()));

        let enabled = send(&app, Method::PATCH, &path, &root.token, Some(json!({"is_active": true}))).await;
        assert_eq!(enabled.status(), 200);
        sign_in(&app, "shut", "worker@example.com", PASSWORD).await;
    }
);

both!(
    the_platform_tenant_can_be_neither_disabled_nor_opened_to_sign_up,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let root = root(&app).await;
        let path = format!("{TENANTS}/{}", tenant(&app, "platform").await.id);
        expect_problem(
            send(&app, Method::PATCH, &path, &root.token, Some(json!({"is_active": false}))).await,
            409,
            "conflict",
        )
        .await;
        expect_invalid(
            send(&app, Method::PATCH, &path, &root.token, Some(json!({"allow_self_signup": true}))).await,
            "allow_self_signup",
        )
        .await;
        assert_eq!(me_status(&app, &root.token).await, (200, String::new()));
    }
);

both!(
    every_bad_tenant_field_answers_422_naming_it,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let root = root(&app).await;
        let cases: Vec<(&str, Value)> = vec![
            ("slug", json!({"slug": "A", "name": "X"})),
            ("slug", json!({"slug": "Acme", "name": "X"})),
            ("slug", json!({"slug": "acme_corp", "name": "X"})),
            ("slug", json!({"slug": "a".repeat(33), "name": "X"})),
            ("slug", json!({"slug": 12, "name": "X"})),
            ("slug", json!({"name": "X"})),
            ("name", json!({"slug": "okay", "name": ""})),
            ("name", json!({"slug": "okay", "name": "   "})),
            ("name", json!({"slug": "okay", "name": "n".repeat(101)})),
            ("name", json!({"slug": "okay"})),
            ("allow_self_signup", json!({"slug": "okay", "name": "X", "allow_self_signup": "yes"})),
        ];
        for (field, body) in cases {
            expect_invalid(send(&app, Method::POST, TENANTS, &root.token, Some(body)).await, field).await;
        }
        let path = format!("{TENANTS}/{}", tenant(&app, "default").await.id);
        for (field, body) in [
            ("name", json!({"name": ""})),
            ("is_active", json!({"is_active": "no"})),
            ("allow_self_signup", json!({"allow_self_signup": 1})),
        ] {
            expect_invalid(send(&app, Method::PATCH, &path, &root.token, Some(body)).await, field).await;
        }
        for (query, field) in [("limit=0", "limit"), ("limit=500", "limit"), ("cursor=zzz", "cursor")] {
            expect_invalid(send(&app, Method::GET, &format!("{TENANTS}?{query}"), &root.token, None).await, field)
                .await;
        }
    }
);

both!(tenant_admins_get_the_same_403_for_every_tenant_id_existing_or_not, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let existing = tenant(&app, "default").await.id.to_string();
    for id in [existing.as_str(), &Uuid::now_v7().to_string(), "not-a-uuid"] {
        let path = format!("{TENANTS}/{id}");
        expect_problem(send(&app, Method::GET, &path, &admin.token, None).await, 403, "forbidden").await;
        expect_problem(
            send(&app, Method::PATCH, &path, &admin.token, Some(json!({"name": "Mine"}))).await,
            403,
            "forbidden",
        )
        .await;
    }
    expect_problem(send(&app, Method::GET, TENANTS, &admin.token, None).await, 403, "forbidden").await;
    assert_eq!(tenant(&app, "default").await.name, "Default");
});
