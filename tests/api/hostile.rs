//! Hostile text (API.md §5.1): every text field, query parameter and path id that carries a NUL
//! or another control character answers 422 `validation_failed` naming the field, on both
//! backends — never 401, 500 or 503. A tab is still welcome in free text (display names). And a
//! database's *data* error (a value the engine refuses) is never taken for an outage.

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;
use tradesage::service::ServiceError;
use tradesage::store::StoreError;
use uuid::Uuid;

use crate::both;
use crate::helpers::{member, outcome, root, send, ROOT};
use crate::helpers::{Backend, TestApp, PASSWORD};

/// NUL, a C0 control, DEL and a C1 control (NEL): none may reach a store or a parser unseen.
const HOSTILE: [&str; 4] = ["\u{0}", "\u{1}", "\u{7f}", "\u{85}"];

/// One input to try: how to send it with the hostile character `h` inside, and the field the
/// 422 must name.
struct Case {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    /// Whose token to send: the tenant admin's (`false`) or the platform admin's (`true`).
    as_root: bool,
    field: &'static str,
}

fn case(method: Method, path: &str, body: Option<Value>, field: &'static str) -> Case {
    Case { method, path: path.to_owned(), query: Vec::new(), body, as_root: false, field }
}

fn query(path: &str, name: &'static str, value: String, as_root: bool) -> Case {
    Case { method: Method::GET, path: path.to_owned(), query: vec![(name, value)], body: None, as_root, field: name }
}

/// Every input of the API, with `h` inside.
fn cases(h: &str, tenant_id: Uuid) -> Vec<Case> {
    let email = format!("ann{h}@example.com");
    let strong = format!("pass{h}word-long-9");
    let register = |field: &'static str, body: Value| case(Method::POST, "/api/v1/auth/register", Some(body), field);
    let login = |field: &'static str, body: Value| case(Method::POST, "/api/v1/auth/login", Some(body), field);
    let create_user = |field: &'static str, body: Value| case(Method::POST, "/api/v1/admin/users", Some(body), field);
    let order = |field: &'static str, body: Value| case(Method::POST, "/api/v1/orders", Some(body), field);
    let good_order = json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "10"});
    let with = |base: &Value, key: &str, value: String| {
        let mut body = base.clone();
        body[key] = json!(value);
        body
    };
    let mut all = vec![
        register("email", json!({"email": email, "password": PASSWORD})),
        register("password", json!({"email": "ann@example.com", "password": strong})),
        register(
            "display_name",
            json!({"email": "ann@example.com", "password": PASSWORD, "display_name": format!("Ann{h}")}),
        ),
        register("tenant", json!({"email": "ann@example.com", "password": PASSWORD, "tenant": format!("default{h}")})),
        login("email", json!({"email": email, "password": PASSWORD})),
        login("password", json!({"email": "ann@example.com", "password": strong})),
        login("tenant", json!({"email": "ann@example.com", "password": PASSWORD, "tenant": format!("acme{h}")})),
        login(
            "token_delivery",
            json!({"email": "ann@example.com", "password": PASSWORD, "token_delivery": format!("body{h}")}),
        ),
        login("scope", json!({"email": "ann@example.com", "password": PASSWORD, "scope": format!("orders:read{h}")})),
        case(Method::PATCH, "/api/v1/users/me", Some(json!({"display_name": format!("Ann{h}")})), "display_name"),
        case(
            Method::POST,
            "/api/v1/users/me/password",
            Some(json!({"current_password": format!("{PASSWORD}{h}"), "new_password": "another-long-pass-7"})),
            "current_password",
        ),
        case(
            Method::POST,
            "/api/v1/users/me/password",
            Some(json!({"current_password": PASSWORD, "new_password": strong})),
            "new_password",
        ),
        create_user("email", json!({"email": email, "password": PASSWORD, "roles": ["viewer"]})),
        create_user("password", json!({"email": "bo@example.com", "password": strong, "roles": ["viewer"]})),
        create_user("roles", json!({"email": "bo@example.com", "password": PASSWORD, "roles": [format!("viewer{h}")]})),
        create_user(
            "display_name",
            json!({"email": "bo@example.com", "password": PASSWORD, "roles": ["viewer"], "display_name": format!("Bo{h}")}),
        ),
        order("symbol", with(&good_order, "symbol", format!("AA{h}PL"))),
        order("side", with(&good_order, "side", format!("buy{h}"))),
        order("quantity", with(&good_order, "quantity", format!("1{h}"))),
        order("limit_price", with(&good_order, "limit_price", format!("10{h}"))),
        query("/api/v1/orders", "status", format!("open{h}"), false),
        query("/api/v1/orders", "cursor", format!("{}{h}", Uuid::now_v7()), false),
        query("/api/v1/orders", "limit", format!("5{h}"), false),
        query("/api/v1/admin/users", "tenant", format!("default{h}"), true),
        query("/api/v1/admin/lockouts", "tenant", format!("default{h}"), false),
        query("/api/v1/tenants", "cursor", format!("x{h}"), true),
        case(Method::POST, "/api/v1/tenants", Some(json!({"slug": format!("ac{h}me"), "name": "Acme"})), "slug"),
        case(Method::POST, "/api/v1/tenants", Some(json!({"slug": "acme", "name": format!("Acme{h}")})), "name"),
        case(Method::PATCH, &format!("/api/v1/tenants/{tenant_id}"), Some(json!({"name": format!("Acme{h}")})), "name"),
    ];
    for name in ["event", "user_id", "outcome", "ip", "since", "until", "cursor", "tenant"] {
        all.push(query("/api/v1/admin/audit", name, format!("x{h}"), false));
    }
    for case in &mut all {
        if case.path.starts_with("/api/v1/tenants") {
            case.as_root = true;
        }
    }
    // Path ids, percent-encoded as a client must send them.
    let encoded: String = h.bytes().map(|b| format!("%{b:02X}")).collect();
    for (method, path) in [
        (Method::DELETE, format!("/api/v1/orders/x{encoded}")),
        (Method::GET, format!("/api/v1/admin/users/{encoded}")),
        (Method::POST, format!("/api/v1/admin/users/{encoded}/unlock")),
        (Method::DELETE, format!("/api/v1/auth/sessions/{encoded}")),
        (Method::DELETE, format!("/api/v1/admin/sessions/{encoded}")),
    ] {
        all.push(case(method, &path, None, "id"));
    }
    all.push(Case { as_root: true, ..case(Method::GET, &format!("/api/v1/tenants/{encoded}"), None, "id") });
    all
}

both!(
    every_text_input_with_a_control_character_answers_422_naming_its_field,
    [("TRADESAGE_ADMIN_EMAIL", ROOT), ("TRADESAGE_ADMIN_PASSWORD", PASSWORD)],
    |app: TestApp| async move {
        let admin = member(&app, "default", &[Role::Admin, Role::Trader]).await;
        let platform = root(&app).await;
        let acme =
            send(&app, Method::POST, "/api/v1/tenants", &platform.token, Some(json!({"slug": "acme", "name": "Acme"})))
                .await;
        assert_eq!(acme.status(), 201);
        let acme_id: Uuid = acme.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap();
        let mut wrong = Vec::new();
        for h in HOSTILE {
            for case in cases(h, acme_id) {
                let token = if case.as_root { &platform.token } else { &admin.token };
                let mut request = app.client.request(case.method.clone(), app.url(&case.path)).bearer_auth(token);
                if !case.query.is_empty() {
                    request = request.query(&case.query);
                }
                if let Some(body) = &case.body {
                    request = request.json(body);
                }
                let got = outcome(request.send().await.unwrap()).await;
                let want = (422, "validation_failed".to_owned(), case.field.to_owned());
                if got != want {
                    wrong.push(format!("{} {} {:?} with {h:?}: {got:?}", case.method, case.path, case.query));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} inputs were not refused as 422 naming their field:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
);

both!(a_tab_is_welcome_in_a_display_name_but_not_in_an_email, |app: TestApp| async move {
    let user = member(&app, "default", &[Role::Viewer]).await;
    let renamed =
        send(&app, Method::PATCH, "/api/v1/users/me", &user.token, Some(json!({"display_name": "Ann\tLee"}))).await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(renamed.json::<Value>().await.unwrap()["display_name"], "Ann\tLee");
    let tabbed = app.post("/api/v1/auth/register", json!({"email": "ann\t@example.com", "password": PASSWORD})).await;
    assert_eq!(outcome(tabbed).await, (422, "validation_failed".to_owned(), "email".to_owned()));
});

both!(a_value_the_database_refuses_is_a_data_error_never_an_outage, |app: TestApp| async move {
    // PostgreSQL refuses a NUL in text (SQLSTATE 22021); SQLite stores it. Neither is an outage.
    let db = &app.core.stores.db;
    match db.tenant_by_slug("ac\u{0}me").await {
        Ok(found) => {
            assert_eq!(app.backend, Backend::Embedded, "PostgreSQL took a NUL");
            assert!(found.is_none());
        }
        Err(error @ StoreError::Unavailable(_)) => panic!("a data error was taken for an outage: {error}"),
        Err(error) => {
            assert_eq!(app.backend, Backend::PostgresRedis, "SQLite refused a NUL: {error}");
            let answered = ServiceError::from(error);
            assert!(matches!(answered, ServiceError::Validation(_)), "answered as {answered:?}");
        }
    }
    let answer = app.post("/api/v1/auth/login", json!({"email": "ann@example.com", "password": PASSWORD})).await;
    assert_eq!(answer.status(), 401, "the store still answers after refusing a value");
});
