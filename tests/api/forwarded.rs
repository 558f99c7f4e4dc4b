//! Who the client is (API.md §5.1): `X-Forwarded-For` is read from the right, skipping trusted
//! proxies; the first other hop is the client, and an unparsable hop ends the walk at the last
//! trusted one. IPv4-mapped IPv6 addresses count as IPv4: the socket peer, proxy matching,
//! session binding and the audit trail all see `a.b.c.d`.

use serde_json::{json, Value};
use tradesage::store::{AuditFilter, Page};
use uuid::Uuid;

use crate::both;
use crate::helpers::{code_of, TestApp, PASSWORD};

/// Signs `email` in with these `X-Forwarded-For` lines; returns the login answer.
async fn login_via(app: &TestApp, email: &str, forwarded: &[&str]) -> Value {
    let mut request = app
        .new_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD, "token_delivery": "body"}));
    for line in forwarded {
        request = request.header("x-forwarded-for", *line);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "login via {forwarded:?}");
    response.json().await.unwrap()
}

/// The client address the server recorded for the session of `login`.
async fn session_ip(app: &TestApp, login: &Value) -> String {
    let token = login["access_token"].as_str().unwrap();
    let sessions: Value = app.get_with("/api/v1/auth/sessions", token).await.json().await.unwrap();
    let mine = sessions["items"].as_array().unwrap().iter().find(|s| s["session_id"] == login["session_id"]);
    mine.expect("the session is listed")["client_ip"].as_str().unwrap().to_owned()
}

both!(
    forwarded_hops_are_read_from_the_right_and_an_unparsable_hop_ends_the_walk,
    [("TRUSTED_PROXIES", "127.0.0.1/32,10.0.0.0/8")],
    |app: TestApp| async move {
        let email = format!("walker-{}@example.com", Uuid::new_v4().simple());
        app.register(&email).await;
        let cases: [(&[&str], &str); 10] = [
            (&["203.0.113.9, 10.0.0.2"], "203.0.113.9"),
            // A client that writes its own hops is not believed past the proxy that appended
            // an unparsable one: the last trusted hop (here the socket peer) counts.
            (&["198.51.100.1, unknown"], "127.0.0.1"),
            (&["198.51.100.1, bogus, 10.0.0.3"], "10.0.0.3"),
            (&["198.51.100.1, 203.0.113.9:notaport"], "127.0.0.1"),
            // `ip:port` and `[v6]:port`, as some proxies append them, are that address.
            (&["198.51.100.1, 203.0.113.9:4711"], "203.0.113.9"),
            (&["198.51.100.1, [2001:db8::7]:443"], "2001:db8::7"),
            // Several header lines are one list, in order.
            (&["198.51.100.1", "203.0.113.9"], "203.0.113.9"),
            // Only trusted hops: the left-most of them.
            (&["10.0.0.5, 10.0.0.6"], "10.0.0.5"),
            // IPv4-mapped hops are IPv4: a mapped proxy is trusted, a mapped client is IPv4.
            (&["198.51.100.1, ::ffff:10.0.0.4"], "198.51.100.1"),
            (&["::ffff:203.0.113.9"], "203.0.113.9"),
        ];
        let mut wrong = Vec::new();
        for (forwarded, expected) in cases {
            let login = login_via(&app, &email, forwarded).await;
            let seen = session_ip(&app, &login).await;
            if seen != expected {
                wrong.push(format!("{forwarded:?}: {seen}, expected {expected}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
);

both!(
    a_client_seen_as_ipv4_mapped_and_as_ipv4_is_one_client_for_binding,
    [("TRUSTED_PROXIES", "127.0.0.1/32"), ("SESSION_IP_BINDING", "strict")],
    |app: TestApp| async move {
        let email = format!("bound-{}@example.com", Uuid::new_v4().simple());
        app.register(&email).await;
        let login = login_via(&app, &email, &["::ffff:203.0.113.9"]).await;
        let refresh = app
            .new_client()
            .post(app.url("/api/v1/auth/refresh"))
            .bearer_auth(login["refresh_token"].as_str().unwrap())
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap();
        assert_eq!(refresh.status(), 200, "{}", code_of(refresh).await);
    }
);

both!(
    an_ipv4_mapped_socket_peer_is_ipv4_for_proxies_sessions_and_the_audit_trail,
    [("TRADESAGE_BIND", "[::]:0"), ("TRUSTED_PROXIES", "127.0.0.1/32")],
    |app: TestApp| async move {
        // Bound to [::], an IPv4 client arrives as ::ffff:127.0.0.1.
        let base = format!("http://127.0.0.1:{}", app.address.port());
        let email = format!("mapped-{}@example.com", Uuid::new_v4().simple());
        let client = reqwest::Client::new();
        let register = client
            .post(format!("{base}/api/v1/auth/register"))
            .header("x-request-id", format!("mapped-{email}"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(register.status(), 201);
        let filter = AuditFilter { event: Some("register".into()), ..Default::default() };
        let rows = app.core.stores.db.list_audit(None, &filter, Page { limit: 50, before: None }).await.unwrap();
        let row = rows.iter().find(|r| r.request_id.as_deref() == Some(&format!("mapped-{email}"))).unwrap();
        assert_eq!(row.ip.as_deref(), Some("127.0.0.1"), "the audit trail");
        let login = |forwarded: Option<&'static str>| {
            let mut request = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": PASSWORD, "token_delivery": "body"}));
            if let Some(hop) = forwarded {
                request = request.header("x-forwarded-for", hop);
            }
            request.send()
        };
        let direct: Value = login(None).await.unwrap().json().await.unwrap();
        assert_eq!(session_ip(&app, &direct).await, "127.0.0.1", "the session of a direct client");
        // The mapped peer matches the IPv4 proxy range, so its X-Forwarded-For is believed.
        let proxied: Value = login(Some("203.0.113.9")).await.unwrap().json().await.unwrap();
        assert_eq!(session_ip(&app, &proxied).await, "203.0.113.9", "a client behind a mapped proxy");
    }
);
