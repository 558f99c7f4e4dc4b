//! Orders at the HTTP level, on both backends: exact decimals in and out, cancelling (once,
//! by the owner or an admin), the status filter, paging while orders arrive, validation.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;
use uuid::Uuid;

use crate::both;
use crate::helpers::TestApp;
use crate::helpers::{expect_invalid, expect_problem, member, send, Member};

const ORDERS: &str = "/api/v1/orders";

async fn place(app: &TestApp, who: &Member, body: Value) -> Value {
    let response = send(app, Method::POST, ORDERS, &who.token, Some(body)).await;
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

async fn list(app: &TestApp, who: &Member, query: &str) -> Value {
    let response = send(app, Method::GET, &format!("{ORDERS}{query}"), &who.token, None).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

both!(decimals_round_trip_exactly_whether_sent_as_strings_or_numbers, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let order =
        place(&app, &trader, json!({"symbol": "AAPL", "side": "buy", "quantity": "0.1", "limit_price": "187.25"}))
            .await;
    assert_eq!(order["quantity"], "0.1");
    assert_eq!(order["limit_price"], "187.25");
    assert_eq!(order["status"], "open");
    assert_eq!(order["side"], "buy");
    assert_eq!(order["symbol"], "AAPL");
    assert_eq!(order["user_id"], trader.id.to_string());
    assert!(order["id"].is_string() && order["created_at"].is_string());
    assert!(order.get("tenant_id").is_none());

    let numbers =
        place(&app, &trader, json!({"symbol": "BRK.B", "side": "sell", "quantity": 0.1, "limit_price": 187.25})).await;
    assert_eq!((numbers["quantity"].clone(), numbers["limit_price"].clone()), (json!("0.1"), json!("187.25")));

    // More digits than an f64 holds survive when sent as a raw JSON number.
    let body = r#"{"symbol":"MSFT","side":"buy","quantity":12345678901234567.25,"limit_price":0.30000000000000000001}"#;
    let response = app
        .client
        .post(app.url(ORDERS))
        .bearer_auth(&trader.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let precise: Value = response.json().await.expect("json");
    assert_eq!(precise["quantity"], "12345678901234567.25");
    assert_eq!(precise["limit_price"], "0.30000000000000000001");

    // And they read back the same from the store.
    let listed = list(&app, &trader, "").await;
    let read: Vec<(String, String)> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| (o["quantity"].as_str().expect("q").to_owned(), o["limit_price"].as_str().expect("p").to_owned()))
        .collect();
    assert_eq!(
        read,
        vec![
            ("12345678901234567.25".to_owned(), "0.30000000000000000001".to_owned()),
            ("0.1".to_owned(), "187.25".to_owned()),
            ("0.1".to_owned(), "187.25".to_owned()),
        ]
    );
});

both!(an_order_is_cancelled_once_and_a_second_cancel_answers_409, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let order =
        place(&app, &trader, json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "100"})).await;
    let path = format!("{ORDERS}/{}", order["id"].as_str().expect("id"));
    let response = send(&app, Method::DELETE, &path, &trader.token, None).await;
    assert_eq!(response.status(), 200);
    let cancelled: Value = response.json().await.expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["id"], order["id"]);
    assert_eq!(cancelled["limit_price"], "100");
    expect_problem(send(&app, Method::DELETE, &path, &trader.token, None).await, 409, "conflict").await;
    expect_problem(
        send(&app, Method::DELETE, &format!("{ORDERS}/{}", Uuid::now_v7()), &trader.token, None).await,
        404,
        "not_found",
    )
    .await;
});

both!(a_trader_cannot_cancel_another_users_order_in_its_tenant_but_an_admin_can, |app: TestApp| async move {
    let owner = member(&app, "default", &[Role::Trader]).await;
    let other = member(&app, "default", &[Role::Trader]).await;
    let admin = member(&app, "default", &[Role::Admin]).await;
    let order =
        place(&app, &owner, json!({"symbol": "TSLA", "side": "sell", "quantity": "3", "limit_price": "250.5"})).await;
    let path = format!("{ORDERS}/{}", order["id"].as_str().expect("id"));
    // 403 rather than 404: the trader already sees the order in the tenant's list.
    assert_eq!(list(&app, &other, "").await["items"][0]["id"], order["id"]);
    expect_problem(send(&app, Method::DELETE, &path, &other.token, None).await, 403, "forbidden").await;
    assert_eq!(list(&app, &owner, "").await["items"][0]["status"], "open");

    let response = send(&app, Method::DELETE, &path, &admin.token, None).await;
    assert_eq!(response.status(), 200);
    let cancelled: Value = response.json().await.expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["user_id"], owner.id.to_string());
    // The admin's action is audited under the owner.
    let trail: Value = send(&app, Method::GET, "/api/v1/admin/audit?event=admin_order_cancelled", &admin.token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(trail["items"][0]["user_id"], owner.id.to_string());
    assert_eq!(trail["items"][0]["detail"]["actor_id"], admin.id.to_string());
});

both!(the_status_filter_lists_open_or_cancelled_orders, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let viewer = member(&app, "default", &[Role::Viewer]).await;
    let keep = place(&app, &trader, json!({"symbol": "A", "side": "buy", "quantity": "1", "limit_price": "1"})).await;
    let drop = place(&app, &trader, json!({"symbol": "B", "side": "buy", "quantity": "1", "limit_price": "1"})).await;
    let path = format!("{ORDERS}/{}", drop["id"].as_str().expect("id"));
    assert_eq!(send(&app, Method::DELETE, &path, &trader.token, None).await.status(), 200);

    let ids = |listing: Value| -> Vec<Value> {
        listing["items"].as_array().expect("items").iter().map(|o| o["id"].clone()).collect()
    };
    assert_eq!(ids(list(&app, &viewer, "?status=open").await), vec![keep["id"].clone()]);
    assert_eq!(ids(list(&app, &viewer, "?status=cancelled").await), vec![drop["id"].clone()]);
    assert_eq!(ids(list(&app, &viewer, "?status=").await), vec![drop["id"].clone(), keep["id"].clone()]);
    expect_invalid(send(&app, Method::GET, &format!("{ORDERS}?status=pending"), &viewer.token, None).await, "status")
        .await;
});

both!(paging_orders_with_limit_two_while_orders_are_placed_loses_and_repeats_nothing, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let mut expected = HashSet::new();
    for n in 1..=5 {
        let order = place(
            &app,
            &trader,
            json!({"symbol": "AAPL", "side": "buy", "quantity": n.to_string(), "limit_price": "10"}),
        )
        .await;
        expected.insert(order["id"].as_str().expect("id").to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_owned(),
        };
        let page = list(&app, &trader, &query).await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|o| o["id"].as_str().expect("id").to_owned()));
        pages += 1;
        // New orders arrive between pages.
        place(&app, &trader, json!({"symbol": "NEW", "side": "sell", "quantity": "1", "limit_price": "10"})).await;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no order repeated");
    assert_eq!(unique, expected, "no order lost");
    // A fresh walk sees all of them, newest first.
    let all = list(&app, &trader, "?limit=200").await;
    assert_eq!(all["items"].as_array().expect("items").len(), 8);
    assert_eq!(all["next_cursor"], Value::Null);
});

both!(every_bad_order_field_answers_422_naming_it, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let good = json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "10"});
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
    let mut cases: Vec<(&str, Value)> = vec![
        ("symbol", with("symbol", json!("aapl"))),
        ("symbol", with("symbol", json!(""))),
        ("symbol", with("symbol", json!("ABCDEFGHIJKLM"))),
        ("symbol", with("symbol", json!(7))),
        ("symbol", without("symbol")),
        ("side", with("side", json!("hold"))),
        ("side", with("side", json!(null))),
        ("side", without("side")),
    ];
    for field in ["quantity", "limit_price"] {
        for bad in [
            json!("0"),
            json!("-1"),
            json!(-1),
            json!(0),
            json!("abc"),
            json!(""),
            json!(null),
            json!(true),
            json!([1]),
            json!({"v": 1}),
        ] {
            cases.push((field, with(field, bad)));
        }
        cases.push((field, without(field)));
    }
    for (field, body) in cases {
        let response = send(&app, Method::POST, ORDERS, &trader.token, Some(body.clone())).await;
        let (status, code, got) = crate::helpers::outcome(response).await;
        assert_eq!((status, code.as_str(), got.as_str()), (422, "validation_failed", field), "{body}");
    }
    for (query, field) in
        [("limit=0", "limit"), ("limit=201", "limit"), ("limit=-3", "limit"), ("cursor=1234", "cursor")]
    {
        expect_invalid(send(&app, Method::GET, &format!("{ORDERS}?{query}"), &trader.token, None).await, field).await;
    }
    assert!(list(&app, &trader, "").await["items"].as_array().expect("items").is_empty());
});

both!(cancelling_someone_elses_order_needs_the_orders_manage_scope_not_just_the_role, |app: TestApp| async move {
    let trader = member(&app, "default", &[Role::Trader]).await;
    let (_, admin_email) = crate::helpers::account(&app, "default", &[Role::Admin]).await;
    let sign_in = |scope: Option<&'static str>| {
        let mut body = json!({"email": admin_email, "password": crate::helpers::PASSWORD, "token_delivery": "body"});
        if let Some(scope) = scope {
            body["scope"] = json!(scope);
        }
        app.new_client().post(app.url("/api/v1/auth/login")).json(&body).send()
    };
    let full: Value = sign_in(None).await.unwrap().json().await.unwrap();
    let scopes: Vec<&str> = full["user"]["scopes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(scopes.contains(&"orders:manage"), "admins hold orders:manage: {scopes:?}");
    let order = || place(&app, &trader, json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "10"}));
    // Narrowed to trading, an admin is a trader: someone else's order is not theirs to cancel.
    let narrowed: Value = sign_in(Some("orders:read orders:write")).await.unwrap().json().await.unwrap();
    let narrowed_token = narrowed["access_token"].as_str().unwrap();
    let first = order().await["id"].as_str().unwrap().to_owned();
    let refused = send(&app, Method::DELETE, &format!("{ORDERS}/{first}"), narrowed_token, None).await;
    expect_problem(refused, 403, "forbidden").await;
    // With orders:manage they may.
    let managing: Value = sign_in(Some("orders:write orders:manage")).await.unwrap().json().await.unwrap();
    let cancelled =
        send(&app, Method::DELETE, &format!("{ORDERS}/{first}"), managing["access_token"].as_str().unwrap(), None)
            .await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "cancelled");
    // The owner needs no more than orders:write.
    let second = order().await["id"].as_str().unwrap().to_owned();
    let own = send(&app, Method::DELETE, &format!("{ORDERS}/{second}"), &trader.token, None).await;
    assert_eq!(own.status(), 200);
});
