//! Administration at the HTTP level, on both backends: the role × endpoint matrix built from
//! the role table, tenant isolation of every id-taking route, disabling users, the
//! last-admin rule, sessions, unlocking (even a permanent lock), the audit trail, paging and
//! validation. The fixtures at the top are shared with the users, tenants and orders tests.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::role::scopes_for;
use tradesage::domain::{Role, Scope, Tenant};
use uuid::Uuid;

use crate::both;
use crate::helpers::{
    account, expect_invalid, expect_problem, me_status, member, outcome, root, send, sign_in, stored_order, tenant,
    try_sign_in, Member, TestApp, PASSWORD,
};

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    response.json().await.expect("json")
}

fn ids(items: &Value) -> Vec<String> {
    items["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect()
}

// ---------------------------------------------------------------------------------------
// The role × endpoint matrix
// ---------------------------------------------------------------------------------------

/// Every guarded route (and the two `me` routes every signed-in user may use).
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Me,
    RenameMe,
    ListUsers,
    CreateUser,
    GetUser,
    PatchUser,
    Unlock,
    UserSessions,
    EndSession,
    Lockouts,
    Audit,
    ListTenants,
    CreateTenant,
    GetTenant,
    PatchTenant,
    ListOrders,
    PlaceOrder,
    CancelOrder,
}

impl Endpoint {
    const ALL: [Endpoint; 18] = [
        Endpoint::Me,
        Endpoint::RenameMe,
        Endpoint::ListUsers,
        Endpoint::CreateUser,
        Endpoint::GetUser,
        Endpoint::PatchUser,
        Endpoint::Unlock,
        Endpoint::UserSessions,
        Endpoint::EndSession,
        Endpoint::Lockouts,
        Endpoint::Audit,
        Endpoint::ListTenants,
        Endpoint::CreateTenant,
        Endpoint::GetTenant,
        Endpoint::PatchTenant,
        Endpoint::ListOrders,
        Endpoint::PlaceOrder,
        Endpoint::CancelOrder,
    ];

    fn scope(self) -> Option<Scope> {
        use Endpoint::*;
        match self {
            Me | RenameMe => None,
            ListUsers | CreateUser | GetUser | PatchUser | Unlock | Lockouts => Some(Scope::UsersManage),
            UserSessions | EndSession => Some(Scope::SessionsManage),
            Audit => Some(Scope::AuditRead),
            ListTenants | CreateTenant | GetTenant | PatchTenant => Some(Scope::TenantsManage),
            ListOrders => Some(Scope::OrdersRead),
            PlaceOrder | CancelOrder => Some(Scope::OrdersWrite),
        }
    }

    fn success(self) -> u16 {
        use Endpoint::*;
        match self {
            CreateUser | CreateTenant | PlaceOrder => 201,
            Unlock | EndSession => 204,
            _ => 200,
        }
    }

    /// Makes the request as `who` (of tenant `slug`), creating what it needs in that tenant.
    async fn call(self, app: &TestApp, slug: &str, who: &Member) -> reqwest::Response {
        use Endpoint::*;
        let tenant_id = tenant(app, slug).await.id;
        let t = &who.token;
        match self {
            Me => send(app, Method::GET, "/api/v1/users/me", t, None).await,
            RenameMe => send(app, Method::PATCH, "/api/v1/users/me", t, Some(json!({"display_name": "Renamed"}))).await,
            ListUsers => send(app, Method::GET, "/api/v1/admin/users", t, None).await,
            CreateUser => {
                let body = json!({"email": format!("new-{}@example.com", Uuid::new_v4().simple()), "password": PASSWORD, "roles": ["viewer"]});
                send(app, Method::POST, "/api/v1/admin/users", t, Some(body)).await
            }
            GetUser | PatchUser | Unlock | UserSessions => {
                let (target, _) = account(app, slug, &[Role::Viewer]).await;
                let (method, path, body) = match self {
                    GetUser => (Method::GET, format!("/api/v1/admin/users/{target}"), None),
                    PatchUser => {
                        (Method::PATCH, format!("/api/v1/admin/users/{target}"), Some(json!({"roles": ["trader"]})))
                    }
                    Unlock => (Method::POST, format!("/api/v1/admin/users/{target}/unlock"), None),
                    _ => (Method::GET, format!("/api/v1/admin/users/{target}/sessions"), None),
                };
                send(app, method, &path, t, body).await
            }
            EndSession => {
                let target = member(app, slug, &[Role::Viewer]).await;
                send(app, Method::DELETE, &format!("/api/v1/admin/sessions/{}", target.session_id), t, None).await
            }
            Lockouts => send(app, Method::GET, "/api/v1/admin/lockouts", t, None).await,
            Audit => send(app, Method::GET, "/api/v1/admin/audit", t, None).await,
            ListTenants => send(app, Method::GET, "/api/v1/tenants", t, None).await,
            CreateTenant => {
                let body = json!({"slug": format!("t-{}", &Uuid::new_v4().simple().to_string()[..12]), "name": "New"});
                send(app, Method::POST, "/api/v1/tenants", t, Some(body)).await
            }
            GetTenant => send(app, Method::GET, &format!("/api/v1/tenants/{tenant_id}"), t, None).await,
            PatchTenant => {
                let scratch = Tenant {
                    id: Uuid::now_v7(),
                    slug: format!("s-{}", &Uuid::new_v4().simple().to_string()[..12]),
                    name: "Scratch".into(),
                    allow_self_signup: false,
                    require_mfa: false,
                    is_active: true,
                    created_at: chrono::Utc::now(),
                };
                app.core.stores.db.insert_tenant(&scratch).await.expect("insert tenant");
                send(
                    app,
                    Method::PATCH,
                    &format!("/api/v1/tenants/{}", scratch.id),
                    t,
                    Some(json!({"name": "Renamed"})),
                )
                .await
            }
            ListOrders => send(app, Method::GET, "/api/v1/orders", t, None).await,
            PlaceOrder => {
                let body = json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "187.25"});
                send(app, Method::POST, "/api/v1/orders", t, Some(body)).await
            }
            CancelOrder => {
                let order = stored_order(app, tenant_id, who.id).await;
                send(app, Method::DELETE, &format!("/api/v1/orders/{order}"), t, None).await
            }
        }
    }
}

both!(
    every_role_reaches_exactly_the_endpoints_its_scopes_allow_and_gets_403_forbidden_elsewhere,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        // Every role in an ordinary tenant, and the admin of the platform tenant.
        let mut principals: Vec<(&str, Role, Member)> = Vec::new();
        for role in Role::ALL {
            principals.push(("default", role, member(&app, "default", &[role]).await));
        }
        principals.push(("platform", Role::Admin, root(&app).await));
        let mut mismatches = Vec::new();
        let mut checked = 0;
        for (slug, role, who) in &principals {
            let granted = scopes_for(&[*role], *slug == "platform");
            for endpoint in Endpoint::ALL {
                let allowed = endpoint.scope().is_none_or(|scope| granted.contains(&scope));
                let (status, code, field) = outcome(endpoint.call(&app, slug, who).await).await;
                let expected: (u16, &str) = if allowed { (endpoint.success(), "") } else { (403, "forbidden") };
                if (status, code.as_str()) != expected {
                    mismatches.push(format!(
                        "{role} of {slug} on {endpoint:?}: got {status} {code} {field}, expected {expected:?}"
                    ));
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 5 * Endpoint::ALL.len());
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }
);

// ---------------------------------------------------------------------------------------
// Tenant isolation
// ---------------------------------------------------------------------------------------

both!(
    ids_of_another_tenant_answer_404_on_every_id_taking_route_and_change_nothing,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let root = root(&app).await;
        let created =
            send(&app, Method::POST, "/api/v1/tenants", &root.token, Some(json!({"slug": "acme", "name": "Acme"})))
                .await;
        assert_eq!(created.status(), 201);
        let acme_admin = member(&app, "acme", &[Role::Admin]).await;
        let acme_trader = member(&app, "acme", &[Role::Trader]).await;

        // What lives in the default tenant.
        let victim = member(&app, "default", &[Role::Trader]).await;
        let placed = send(
            &app,
            Method::POST,
            "/api/v1/orders",
            &victim.token,
            Some(json!({"symbol": "MSFT", "side": "sell", "quantity": "2", "limit_price": "400"})),
        )
        .await;
        let order: Value = json_of(placed, 201).await;
        let order_id = order["id"].as_str().expect("order id").to_owned();
        let default_id = tenant(&app, "default").await.id;

        let v = victim.id;
        let s = victim.session_id;
        let attempts: Vec<(&Member, Method, String, Option<Value>)> = vec![
            (&acme_admin, Method::GET, format!("/api/v1/admin/users/{v}"), None),
            (&acme_admin, Method::PATCH, format!("/api/v1/admin/users/{v}"), Some(json!({"is_active": false}))),
            (&acme_admin, Method::POST, format!("/api/v1/admin/users/{v}/unlock"), None),
            (&acme_admin, Method::GET, format!("/api/v1/admin/users/{v}/sessions"), None),
            (&acme_admin, Method::DELETE, format!("/api/v1/admin/sessions/{s}"), None),
            (&acme_admin, Method::DELETE, format!("/api/v1/orders/{order_id}"), None),
            (&acme_trader, Method::DELETE, format!("/api/v1/orders/{order_id}"), None),
            // Ids that are not UUIDs, or of nothing at all, answer the same.
            (&acme_admin, Method::GET, "/api/v1/admin/users/not-a-uuid".into(), None),
            (&acme_admin, Method::GET, format!("/api/v1/admin/users/{}", Uuid::now_v7()), None),
            (&acme_admin, Method::DELETE, "/api/v1/admin/sessions/123".into(), None),
            (&acme_trader, Method::DELETE, "/api/v1/orders/x".into(), None),
            (&root, Method::GET, format!("/api/v1/tenants/{}", Uuid::now_v7()), None),
            (&root, Method::PATCH, "/api/v1/tenants/not-a-uuid".into(), Some(json!({"name": "X"}))),
            // A platform admin acts on its own tenant unless it names another.
            (&root, Method::GET, format!("/api/v1/admin/users/{v}"), None),
            (&root, Method::DELETE, format!("/api/v1/admin/sessions/{s}"), None),
        ];
        for (who, method, path, body) in attempts {
            let (status, code, _) = outcome(send(&app, method.clone(), &path, &who.token, body).await).await;
            assert_eq!((status, code.as_str()), (404, "not_found"), "{method} {path}");
        }

        // Tenants are for platform admins: others get one 403 for every id, existing or not.
        for id in [default_id, Uuid::now_v7()] {
            expect_problem(
                send(&app, Method::GET, &format!("/api/v1/tenants/{id}"), &acme_admin.token, None).await,
                403,
                "forbidden",
            )
            .await;
        }
        // Only platform admins may name a tenant; the answer does not depend on it existing.
        for slug in ["default", "no-such-tenant"] {
            let path = format!("/api/v1/admin/users?tenant={slug}");
            expect_problem(send(&app, Method::GET, &path, &acme_admin.token, None).await, 403, "forbidden").await;
        }

        // Lists show the caller's tenant only.
        let users = json_of(send(&app, Method::GET, "/api/v1/admin/users", &acme_admin.token, None).await, 200).await;
        let listed: HashSet<String> = ids(&users).into_iter().collect();
        assert_eq!(listed, HashSet::from([acme_admin.id.to_string(), acme_trader.id.to_string()]));
        let orders = json_of(send(&app, Method::GET, "/api/v1/orders", &acme_trader.token, None).await, 200).await;
        assert!(ids(&orders).is_empty());

        // Nothing happened to the victim.
        assert_eq!(me_status(&app, &victim.token).await, (200, String::new()));
        let mine = json_of(send(&app, Method::GET, "/api/v1/orders", &victim.token, None).await, 200).await;
        assert_eq!(mine["items"][0]["status"], "open");
        // And the platform admin reaches it by naming the tenant.
        let path = format!("/api/v1/admin/users/{v}?tenant=default");
        let seen = json_of(send(&app, Method::GET, &path, &root.token, None).await, 200).await;
        assert_eq!(seen["email"], victim.email.as_str());
    }
);

// ---------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------

both!(an_admin_creates_reads_and_updates_users_of_its_tenant, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let body = json!({"email": "  New.Trader@Example.com ", "password": PASSWORD, "roles": ["trader", "viewer"], "display_name": "Nina"});
    let created = json_of(send(&app, Method::POST, "/api/v1/admin/users", &admin.token, Some(body)).await, 201).await;
    assert_eq!(created["email"], "new.trader@example.com");
    assert_eq!(created["display_name"], "Nina");
    assert_eq!(created["roles"], json!(["trader", "viewer"]));
    assert_eq!(created["tenant"]["slug"], "default");
    assert_eq!(created["is_active"], true);
    assert!(created.get("password_hash").is_none() && created.get("password").is_none());
    let id = created["id"].as_str().expect("id").to_owned();

    // The same email again (in any case) conflicts.
    let again = json!({"email": "new.trader@EXAMPLE.com", "password": PASSWORD, "roles": ["viewer"]});
    expect_problem(send(&app, Method::POST, "/api/v1/admin/users", &admin.token, Some(again)).await, 409, "conflict")
        .await;

    let read =
        json_of(send(&app, Method::GET, &format!("/api/v1/admin/users/{id}"), &admin.token, None).await, 200).await;
    for key in ["id", "email", "display_name", "roles", "scopes", "tenant", "is_active"] {
        assert_eq!(read[key], created[key], "{key}");
    }
    let patched = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/users/{id}"),
        &admin.token,
        Some(json!({"roles": ["viewer"]})),
    )
    .await;
    let patched = json_of(patched, 200).await;
    assert_eq!(patched["roles"], json!(["viewer"]));
    assert_eq!(patched["scopes"], json!(["orders:read"]));

    // The new account signs in with what the admin set.
    let user = sign_in(&app, "default", "new.trader@example.com", PASSWORD).await;
    assert_eq!(user.id.to_string(), id);
});

both!(
    disabling_a_user_revokes_its_live_token_at_once_and_its_next_login_answers_account_disabled,
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin]).await;
        let victim = member(&app, "default", &[Role::Trader]).await;
        let other_device = sign_in(&app, "default", &victim.email, PASSWORD).await;
        assert_eq!(me_status(&app, &victim.token).await, (200, String::new()));

        let path = format!("/api/v1/admin/users/{}", victim.id);
        let patched =
            json_of(send(&app, Method::PATCH, &path, &admin.token, Some(json!({"is_active": false}))).await, 200).await;
        assert_eq!(patched["is_active"], false);

        assert_eq!(me_status(&app, &victim.token).await, (401, "session_revoked".to_owned()));
        assert_eq!(me_status(&app, &other_device.token).await, (401, "session_revoked".to_owned()));
        expect_problem(try_sign_in(&app, "default", &victim.email, PASSWORD).await, 403, "account_disabled").await;
        // A wrong password still reads as wrong credentials, not as "disabled".
        expect_problem(
            try_sign_in(&app, "default", &victim.email, "wrong-password-123").await,
            401,
            "invalid_credentials",
        )
        .await;

        // Enabled again, it signs in.
        let enabled =
            json_of(send(&app, Method::PATCH, &path, &admin.token, Some(json!({"is_active": true}))).await, 200).await;
        assert_eq!(enabled["is_active"], true);
        sign_in(&app, "default", &victim.email, PASSWORD).await;
    }
);

both!(a_role_change_ends_the_users_sessions_so_no_token_keeps_old_scopes, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let other_admin = member(&app, "default", &[Role::Admin]).await;
    let path = format!("/api/v1/admin/users/{}", other_admin.id);
    let patched =
        json_of(send(&app, Method::PATCH, &path, &admin.token, Some(json!({"roles": ["trader"]}))).await, 200).await;
    assert_eq!(patched["roles"], json!(["trader"]));
    assert_eq!(me_status(&app, &other_admin.token).await, (401, "session_revoked".to_owned()));
    let again = sign_in(&app, "default", &other_admin.email, PASSWORD).await;
    expect_problem(send(&app, Method::GET, "/api/v1/admin/users", &again.token, None).await, 403, "forbidden").await;
});

both!(
    a_tenant_always_keeps_an_active_admin_and_admins_cannot_demote_or_disable_themselves,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin]).await;
        let own = format!("/api/v1/admin/users/{}", admin.id);
        for body in [
            json!({"roles": ["trader"]}),
            json!({"is_active": false}),
            json!({"roles": ["viewer"], "is_active": false}),
        ] {
            expect_problem(send(&app, Method::PATCH, &own, &admin.token, Some(body)).await, 409, "conflict").await;
        }
        // Not even a platform admin can take the tenant's last admin away.
        let root = root(&app).await;
        let via_platform = format!("{own}?tenant=default");
        expect_problem(
            send(&app, Method::PATCH, &via_platform, &root.token, Some(json!({"roles": ["trader"]}))).await,
            409,
            "conflict",
        )
        .await;
        expect_problem(
            send(&app, Method::PATCH, &via_platform, &root.token, Some(json!({"is_active": false}))).await,
            409,
            "conflict",
        )
        .await;
        // Nor its own last admin.
        let root_path = format!("/api/v1/admin/users/{}", root.id);
        expect_problem(
            send(&app, Method::PATCH, &root_path, &root.token, Some(json!({"is_active": false}))).await,
            409,
            "conflict",
        )
        .await;
        assert_eq!(me_status(&app, &admin.token).await, (200, String::new()));

        // With a second admin, either may be demoted by the other (or by the platform).
        let body = json!({"email": "second@example.com", "password": PASSWORD, "roles": ["admin"]});
        let second =
            json_of(send(&app, Method::POST, "/api/v1/admin/users", &admin.token, Some(body)).await, 201).await;
        let second_id = second["id"].as_str().expect("id").to_owned();
        // Keeping the admin role while adding another is not a demotion.
        let kept = send(&app, Method::PATCH, &own, &admin.token, Some(json!({"roles": ["admin", "trader"]}))).await;
        assert_eq!(kept.status(), 200);
        let admin = sign_in(&app, "default", &admin.email, PASSWORD).await;
        let demoted = send(&app, Method::PATCH, &via_platform, &root.token, Some(json!({"roles": ["viewer"]}))).await;
        assert_eq!(demoted.status(), 200);
        assert_eq!(me_status(&app, &admin.token).await, (401, "session_revoked".to_owned()));
        // Now `second` is the last one.
        let second_path = format!("/api/v1/admin/users/{second_id}?tenant=default");
        expect_problem(
            send(&app, Method::PATCH, &second_path, &root.token, Some(json!({"is_active": false}))).await,
            409,
            "conflict",
        )
        .await;
    }
);

// ---------------------------------------------------------------------------------------
// Sessions and lockouts
// ---------------------------------------------------------------------------------------

both!(an_admin_lists_a_users_sessions_and_ends_one_of_them, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let first = member(&app, "default", &[Role::Viewer]).await;
    let second = sign_in(&app, "default", &first.email, PASSWORD).await;
    let path = format!("/api/v1/admin/users/{}/sessions", first.id);
    let listed = json_of(send(&app, Method::GET, &path, &admin.token, None).await, 200).await;
    let sessions: HashSet<String> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["session_id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(sessions, HashSet::from([first.session_id.to_string(), second.session_id.to_string()]));
    assert_eq!(listed["items"][0]["current"], false);
    assert!(listed["items"][0]["client_ip"].is_string());
    assert_eq!(listed["next_cursor"], Value::Null);

    let end = format!("/api/v1/admin/sessions/{}", first.session_id);
    assert_eq!(send(&app, Method::DELETE, &end, &admin.token, None).await.status(), 204);
    assert_eq!(me_status(&app, &first.token).await, (401, "session_revoked".to_owned()));
    assert_eq!(me_status(&app, &second.token).await, (200, String::new()));
    // An ended session is gone.
    expect_problem(send(&app, Method::DELETE, &end, &admin.token, None).await, 404, "not_found").await;
    let listed = json_of(send(&app, Method::GET, &path, &admin.token, None).await, 200).await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
});

both!(
    an_admin_unlock_lifts_a_permanent_lock,
    [("LOCKOUT_THRESHOLD", "2"), ("LOCKOUT_LADDER", "permanent")],
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin]).await;
        let (victim_id, victim) = account(&app, "default", &[Role::Trader]).await;
        expect_problem(try_sign_in(&app, "default", &victim, "wrong-password-1").await, 401, "invalid_credentials")
            .await;
        expect_problem(try_sign_in(&app, "default", &victim, "wrong-password-2").await, 423, "account_locked").await;
        let locked = try_sign_in(&app, "default", &victim, PASSWORD).await;
        assert!(locked.headers().get("retry-after").is_none(), "a permanent lock has no Retry-After");
        expect_problem(locked, 423, "account_locked").await;
        // A lock on an email without an account shows too, without a user.
        for _ in 0..2 {
            try_sign_in(&app, "default", "ghost@example.com", "wrong-password-1").await;
        }

        let listed = json_of(send(&app, Method::GET, "/api/v1/admin/lockouts", &admin.token, None).await, 200).await;
        let items = listed["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{listed}");
        let of = |email: &str| items.iter().find(|i| i["email"] == email).cloned().expect("lockout listed");
        let lock = of(&victim);
        assert_eq!(lock["user_id"], victim_id.to_string());
        assert_eq!(lock["permanent"], true);
        assert_eq!(lock["step"], 1);
        assert_eq!(lock["locked_until"], Value::Null);
        assert_eq!(of("ghost@example.com")["user_id"], Value::Null);

        let unlock = format!("/api/v1/admin/users/{victim_id}/unlock");
        assert_eq!(send(&app, Method::POST, &unlock, &admin.token, None).await.status(), 204);
        sign_in(&app, "default", &victim, PASSWORD).await;
        let listed = json_of(send(&app, Method::GET, "/api/v1/admin/lockouts", &admin.token, None).await, 200).await;
        let emails: Vec<&str> =
            listed["items"].as_array().expect("items").iter().filter_map(|i| i["email"].as_str()).collect();
        assert_eq!(emails, vec!["ghost@example.com"]);
        // Unlocking someone who is not locked is fine too.
        assert_eq!(send(&app, Method::POST, &unlock, &admin.token, None).await.status(), 204);
    }
);

// ---------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------

both!(
    the_audit_trail_is_tenant_scoped_newest_first_and_filterable,
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")],
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin]).await;
        let mut created = Vec::new();
        for n in 0..3 {
            let body = json!({"email": format!("audited-{n}@example.com"), "password": PASSWORD, "roles": ["viewer"]});
            let user =
                json_of(send(&app, Method::POST, "/api/v1/admin/users", &admin.token, Some(body)).await, 201).await;
            created.push(user["id"].as_str().expect("id").to_owned());
        }
        let trail = json_of(
            send(&app, Method::GET, "/api/v1/admin/audit?event=admin_user_created", &admin.token, None).await,
            200,
        )
        .await;
        let items = trail["items"].as_array().expect("items");
        let subjects: Vec<&str> = items.iter().map(|e| e["user_id"].as_str().expect("user id")).collect();
        let newest_first: Vec<&str> = created.iter().rev().map(String::as_str).collect();
        assert_eq!(subjects, newest_first);
        assert!(items
            .iter()
            .all(|e| e["event"] == "admin_user_created" && e["detail"]["actor_id"] == admin.id.to_string()));
        let at: Vec<&str> = items.iter().map(|e| e["at"].as_str().expect("at")).collect();
        assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");

        let path = format!("/api/v1/admin/audit?user_id={}&event=", created[0]);
        let one = json_of(send(&app, Method::GET, &path, &admin.token, None).await, 200).await;
        assert!(one["items"].as_array().expect("items").iter().all(|e| e["user_id"] == created[0].as_str()));
        assert!(!one["items"].as_array().expect("items").is_empty());

        // The platform admin sees its own tenant's trail, or the one it names.
        let root = root(&app).await;
        let own = json_of(
            send(&app, Method::GET, "/api/v1/admin/audit?event=admin_user_created", &root.token, None).await,
            200,
        )
        .await;
        assert!(own["items"].as_array().expect("items").is_empty());
        let named =
            send(&app, Method::GET, "/api/v1/admin/audit?event=admin_user_created&tenant=default", &root.token, None)
                .await;
        assert_eq!(json_of(named, 200).await["items"].as_array().expect("items").len(), 3);
        // A tenant admin never sees the platform's trail (its logins, for one).
        let logins =
            json_of(send(&app, Method::GET, "/api/v1/admin/audit?event=login", &admin.token, None).await, 200).await;
        let root_id = root.id.to_string();
        assert!(logins["items"].as_array().expect("items").iter().all(|e| e["user_id"] != root_id.as_str()));

        expect_invalid(
            send(&app, Method::GET, "/api/v1/admin/audit?user_id=nope", &admin.token, None).await,
            "user_id",
        )
        .await;
        let long = format!("/api/v1/admin/audit?event={}", "e".repeat(65));
        expect_invalid(send(&app, Method::GET, &long, &admin.token, None).await, "event").await;
    }
);

// ---------------------------------------------------------------------------------------
// Paging and validation
// ---------------------------------------------------------------------------------------

both!(paging_users_with_limit_two_while_users_are_added_loses_and_repeats_nothing, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let mut expected: HashSet<String> = HashSet::from([admin.id.to_string()]);
    for _ in 0..4 {
        expected.insert(account(&app, "default", &[Role::Viewer]).await.0.to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/users?limit=2&cursor={c}"),
            None => "/api/v1/admin/users?limit=2".to_owned(),
        };
        let page = json_of(send(&app, Method::GET, &path, &admin.token, None).await, 200).await;
        let items = ids(&page);
        assert!(items.len() <= 2);
        seen.extend(items);
        pages += 1;
        // Someone adds a user between pages: it is newer than every cursor, so it never shows.
        account(&app, "default", &[Role::Viewer]).await;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no user repeated");
    assert_eq!(unique, expected, "no user lost");
});

both!(every_bad_admin_field_answers_422_naming_it, |app: TestApp| async move {
    let admin = member(&app, "default", &[Role::Admin]).await;
    let good = json!({"email": "fine@example.com", "password": PASSWORD, "roles": ["viewer"], "display_name": "Fine"});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().expect("object").remove(field);
        body
    };
    let cases: Vec<(&str, Value)> = vec![
        ("email", with("email", json!("not-an-email"))),
        ("email", with("email", json!(""))),
        ("email", with("email", json!(42))),
        ("email", without("email")),
        ("password", with("password", json!("short"))),
        ("password", with("password", json!("password1"))),
        ("password", with("password", json!("x".repeat(73)))),
        ("password", without("password")),
        ("roles", with("roles", json!([]))),
        ("roles", with("roles", json!(["root"]))),
        ("roles", with("roles", json!("admin"))),
        ("roles", without("roles")),
        ("display_name", with("display_name", json!("n".repeat(101)))),
        ("display_name", with("display_name", json!("bad\u{0007}name"))),
        ("display_name", with("display_name", json!(7))),
    ];
    for (field, body) in cases {
        expect_invalid(send(&app, Method::POST, "/api/v1/admin/users", &admin.token, Some(body)).await, field).await;
    }

    let target = format!("/api/v1/admin/users/{}", account(&app, "default", &[Role::Viewer]).await.0);
    let patches: Vec<(&str, Value)> = vec![
        ("roles", json!({"roles": []})),
        ("roles", json!({"roles": ["superuser"]})),
        ("roles", json!({"roles": [1]})),
        ("is_active", json!({"is_active": "no"})),
        ("display_name", json!({"display_name": "  "})),
    ];
    for (field, body) in patches {
        expect_invalid(send(&app, Method::PATCH, &target, &admin.token, Some(body)).await, field).await;
    }

    for (query, field) in
        [("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"), ("cursor=abc", "cursor")]
    {
        let path = format!("/api/v1/admin/users?{query}");
        expect_invalid(send(&app, Method::GET, &path, &admin.token, None).await, field).await;
        let path = format!("/api/v1/admin/audit?{query}");
        expect_invalid(send(&app, Method::GET, &path, &admin.token, None).await, field).await;
    }
    assert_eq!(send(&app, Method::GET, "/api/v1/admin/users?limit=200", &admin.token, None).await.status(), 200);
});
