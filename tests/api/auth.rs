//! Registration, login, tokens and their attacks (RFC 8725), refresh rotation with reuse
//! detection, logout and sessions — at the HTTP level, on both backends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{outcome, TestApp, KEY_FILES, PASSWORD};

const SESSIONS: &str = "/api/v1/auth/sessions";

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().expect("header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64")).expect("json")
}

async fn status_and_code(response: reqwest::Response) -> (u16, String) {
    let (status, code, _) = outcome(response).await;
    (status, code)
}

both!(registration_answers_201_and_refuses_duplicates_weak_passwords_and_bad_input, |app: TestApp| async move {
    let user = app.register("  Mixed@Example.COM ").await;
    assert_eq!(user["email"], "mixed@example.com");
    assert_eq!(user["roles"], json!(["viewer"]));
    assert_eq!(user["tenant"]["slug"], "default");
    assert!(user.get("password_hash").is_none());
    let dup = app.post("/api/v1/auth/register", json!({"email": "mixed@example.com", "password": PASSWORD})).await;
    assert_eq!(status_and_code(dup).await, (409, "conflict".into()));
    for (body, field) in [
        (json!({"email": "x@example.com", "password": "password1"}), "password"),
        (json!({"email": "x@example.com", "password": "short"}), "password"),
        (json!({"email": "x@example.com", "password": "y".repeat(73)}), "password"),
        (json!({"email": "not-an-email", "password": PASSWORD}), "email"),
        (json!({"password": PASSWORD}), "email"),
        (json!({"email": 5, "password": PASSWORD}), "email"),
        (json!({"email": "x@example.com", "password": PASSWORD, "tenant": "nope"}), "tenant"),
    ] {
        let response = app.post("/api/v1/auth/register", body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(problem["field"], field, "{body}");
    }
    let malformed = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let wrong_type = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
});

both!(login_issues_es256_tokens_with_the_contracted_claims, |app: TestApp| async move {
    let (email, login) = app.signed_in_user().await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 900);
    let access = login["access_token"].as_str().unwrap();
    let header = header_of(access);
    assert_eq!(header["alg"], "ES256");
    let jwks: Value = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"), Some("sig"))
    );
    let claims = claims_of(access);
    assert_eq!(claims["iss"], "tradesage");
    assert_eq!(claims["aud"], "tradesage-api-gateway");
    assert_eq!(claims["token_type"], "access");
    assert_eq!(claims["email"], email.as_str());
    assert_eq!(claims["sub"], claims["user_id"]);
    assert_eq!(claims["session_id"], login["session_id"]);
    assert_eq!(claims["roles"], json!(["viewer"]));
    assert_eq!(claims["scope"], "orders:read");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert!(claims["nbf"].is_i64() && claims["jti"].is_string() && claims["tenant_id"].is_string());
    let refresh = claims_of(login["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["token_type"], "refresh");
    let lifetime = refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap();
    assert!((lifetime - 30 * 86_400).abs() <= 2, "refresh lives 30 days: {lifetime}");
});

both!(
    cookie_delivery_sets_a_strict_http_only_cookie_and_keeps_the_token_out_of_the_body,
    [("COOKIE_SECURE", "true")],
    |app: TestApp| async move {
        let email = "cookie@example.com";
        app.register(email).await;
        let response = app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
        for part in ["refresh_token=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1/auth", "Max-Age="] {
            assert!(cookie.contains(part), "{part} missing in {cookie}");
        }
        let max_age: i64 = cookie.split("Max-Age=").nth(1).unwrap().trim().parse().unwrap();
        assert!((max_age - 30 * 86_400).abs() <= 2);
        let body: Value = response.json().await.unwrap();
        assert!(body.get("refresh_token").is_none());
        let body_login = app
            .post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD, "token_delivery": "body"}))
            .await;
        assert!(body_login.headers().get("set-cookie").is_none());
    }
);

both!(unknown_email_and_wrong_password_answer_the_same_401, |app: TestApp| async move {
    app.register("known@example.com").await;
    let wrong =
        app.post("/api/v1/auth/login", json!({"email": "known@example.com", "password": "wrong-password-1"})).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let wrong_body: Value = wrong.json().await.unwrap();
    let unknown =
        app.post("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "wrong-password-1"})).await;
    assert_eq!(unknown.status(), 401);
    let unknown_body: Value = unknown.json().await.unwrap();
    assert_eq!(wrong_body["code"], "invalid_credentials");
    assert_eq!(wrong_body, unknown_body);
});

both!(a_protected_route_needs_a_valid_access_token_and_bearer_is_case_insensitive, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    let missing = app.client.get(app.url(SESSIONS)).send().await.unwrap();
    assert_eq!(status_and_code(missing).await, (401, "token_missing".into()));
    let lower =
        app.client.get(app.url(SESSIONS)).header("authorization", format!("bearer {access}")).send().await.unwrap();
    assert_eq!(lower.status(), 200);
});

/// Signs `claims` with a private key PEM.
fn sign(claims: &Value, kid: Option<&str>, pem: &[u8]) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_pem(pem).unwrap()).unwrap()
}

both!(the_jwt_attacks_of_rfc_8725_are_refused, [KEY_FILES], |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let claims = claims_of(&access);
    let kid = header_of(&access)["kid"].as_str().unwrap().to_owned();
    let our_private = std::fs::read(app.data_dir().join("jwt-private.pem")).unwrap();
    let our_public = std::fs::read(app.data_dir().join("jwt-public.pem")).unwrap();
    let foreign_dir = std::env::temp_dir().join(format!("foreign-{}", uuid::Uuid::new_v4().simple()));
    tradesage::auth::keys::generate_pair(&foreign_dir.join("p.pem"), &foreign_dir.join("q.pem")).unwrap();
    let foreign = std::fs::read(foreign_dir.join("p.pem")).unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());

    let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})), b64(&claims));
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&our_public)).unwrap()
    };
    let foreign_under_our_kid = sign(&claims, Some(&kid), &foreign);
    let unknown_kid = sign(&claims, Some("not-our-kid"), &foreign);
    let no_kid = sign(&claims, None, &our_private);
    let mut wrong_aud_claims = claims.clone();
    wrong_aud_claims["aud"] = json!("someone-else");
    let wrong_aud = sign(&wrong_aud_claims, Some(&kid), &our_private);
    let mut wrong_iss_claims = claims.clone();
    wrong_iss_claims["iss"] = json!("evil");
    let wrong_iss = sign(&wrong_iss_claims, Some(&kid), &our_private);
    let mut tampered_claims = claims.clone();
    tampered_claims["scope"] = json!("orders:read orders:write users:manage");
    let parts: Vec<&str> = access.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(claims["iat"].as_i64().unwrap() - 10);
    let expired = sign(&expired_claims, Some(&kid), &our_private);
    let mut future_claims = claims.clone();
    future_claims["nbf"] = json!(claims["iat"].as_i64().unwrap() + 3600);
    let not_yet = sign(&future_claims, Some(&kid), &our_private);

    for (name, token, code) in [
        ("alg none", alg_none.as_str(), "token_invalid"),
        ("HS256 signed with the public key", &hs256, "token_invalid"),
        ("a foreign key under our kid", &foreign_under_our_kid, "token_invalid"),
        ("an unknown kid", &unknown_kid, "token_invalid"),
        ("no kid", &no_kid, "token_invalid"),
        ("wrong aud", &wrong_aud, "token_invalid"),
        ("wrong iss", &wrong_iss, "token_invalid"),
        ("a tampered payload", &tampered, "token_invalid"),
        ("a refresh token used as access", &refresh, "token_invalid"),
        ("garbage", "garbage", "token_invalid"),
        ("expired", &expired, "token_expired"),
        ("not yet valid", &not_yet, "token_invalid"),
    ] {
        let response = app.get_with(SESSIONS, token).await;
        assert_eq!(status_and_code(response).await, (401, code.to_string()), "{name}");
    }
    let access_as_refresh = app.refresh_with(&access).await;
    assert_eq!(status_and_code(access_as_refresh).await, (401, "token_invalid".into()));
    // The real token still works: nothing above damaged the session.
    assert_eq!(app.get_with(SESSIONS, &access).await.status(), 200);
});

both!(refresh_rotates_and_a_spent_token_within_grace_is_token_rotated, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let first = login["refresh_token"].as_str().unwrap();
    let response = app.refresh_with(first).await;
    assert_eq!(response.status(), 200);
    let rotated: Value = response.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(rotated["session_id"], login["session_id"]);
    assert_eq!(claims_of(second)["exp"], claims_of(first)["exp"], "refresh never extends the session");
    let again = app.refresh_with(first).await;
    assert_eq!(status_and_code(again).await, (401, "token_rotated".into()));
    // The session is kept: the newest token still rotates and the access token still works.
    assert_eq!(app.refresh_with(second).await.status(), 200);
    assert_eq!(app.get_with(SESSIONS, rotated["access_token"].as_str().unwrap()).await.status(), 200);
});

both!(
    a_spent_token_after_grace_is_token_reused_and_ends_the_session,
    [("REFRESH_REUSE_GRACE", "300ms")],
    |app: TestApp| async move {
        let (_, login) = app.signed_in_user().await;
        let first = login["refresh_token"].as_str().unwrap();
        let rotated: Value = app.refresh_with(first).await.json().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let reuse = app.refresh_with(first).await;
        assert_eq!(status_and_code(reuse).await, (401, "token_reused".into()));
        let newest = app.refresh_with(rotated["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status_and_code(newest).await, (401, "session_revoked".into()));
        let access = app.get_with(SESSIONS, rotated["access_token"].as_str().unwrap()).await;
        assert_eq!(status_and_code(access).await, (401, "session_revoked".into()));
        let audit = app
            .core
            .stores
            .db
            .list_audit(
                None,
                &tradesage::store::AuditFilter { event: Some("token_reuse_detected".into()), ..Default::default() },
                tradesage::store::Page { limit: 10, before: None },
            )
            .await
            .unwrap();
        assert_eq!(audit.len(), 1);
    }
);

both!(of_twenty_concurrent_refreshes_with_one_token_exactly_one_succeeds, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let token = login["refresh_token"].as_str().unwrap().to_owned();
    let attempts = (0..20).map(|_| {
        let request = app.client.post(app.url("/api/v1/auth/refresh")).bearer_auth(&token).send();
        async move { request.await.unwrap().status().as_u16() }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 19, "{statuses:?}");
});

both!(
    refresh_from_another_ip_is_refused_under_strict_binding,
    [("TRUSTED_PROXIES", "127.0.0.1/32")],
    |app: TestApp| async move {
        let email = "ip@example.com";
        app.register(email).await;
        let login: Value = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "10.1.1.1")
            .json(&json!({"email": email, "password": PASSWORD, "token_delivery": "body"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["refresh_token"].as_str().unwrap();
        let moved = app
            .client
            .post(app.url("/api/v1/auth/refresh"))
            .header("x-forwarded-for", "10.1.1.2")
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(status_and_code(moved).await, (401, "session_ip_mismatch".into()));
        let home = app
            .client
            .post(app.url("/api/v1/auth/refresh"))
            .header("x-forwarded-for", "10.1.1.1")
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), 200);
        // Behind a trusted proxy the session records the forwarded client address.
        let sessions: Value =
            app.get_with(SESSIONS, login["access_token"].as_str().unwrap()).await.json().await.unwrap();
        assert_eq!(sessions["items"][0]["client_ip"], "10.1.1.1");
    }
);

both!(the_session_cap_ends_the_oldest_session, [("MAX_SESSIONS_PER_USER", "2")], |app: TestApp| async move {
    let email = "cap@example.com";
    app.register(email).await;
    let first = app.login_body(email).await;
    let second = app.login_body(email).await;
    let third = app.login_body(email).await;
    let oldest = app.get_with(SESSIONS, first["access_token"].as_str().unwrap()).await;
    assert_eq!(status_and_code(oldest).await, (401, "session_revoked".into()));
    let list: Value = app.get_with(SESSIONS, third["access_token"].as_str().unwrap()).await.json().await.unwrap();
    let ids: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|s| &s["session_id"]).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&&second["session_id"]) && ids.contains(&&third["session_id"]));
});

both!(logout_ends_the_session_at_once_and_clears_the_cookie, |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(app.get_with(SESSIONS, access).await.status(), 200);
    let logout = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(access).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    assert!(logout.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(status_and_code(app.get_with(SESSIONS, access).await).await, (401, "session_revoked".into()));
    let refresh = app.refresh_with(login["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status_and_code(refresh).await, (401, "session_revoked".into()));
});

both!(logout_all_ends_every_session_of_the_user, |app: TestApp| async move {
    let (email, one) = app.signed_in_user().await;
    let two = app.login_body(&email).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/logout-all"))
        .bearer_auth(one["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for login in [one, two] {
        assert_eq!(
            status_and_code(app.get_with(SESSIONS, login["access_token"].as_str().unwrap()).await).await,
            (401, "session_revoked".into())
        );
    }
});

both!(users_list_their_sessions_and_end_their_own_but_never_another_users, |app: TestApp| async move {
    let (email, here) = app.signed_in_user().await;
    let there = app.login_body(&email).await;
    let (_, stranger) = app.signed_in_user().await;
    let access = here["access_token"].as_str().unwrap();
    let list: Value = app.get_with(SESSIONS, access).await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let current: Vec<&Value> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["session_id"], here["session_id"]);
    for field in ["created_at", "last_seen_at", "expires_at", "client_ip", "user_agent"] {
        assert!(current[0].get(field).is_some(), "{field}");
    }
    let strangers = format!("{SESSIONS}/{}", stranger["session_id"].as_str().unwrap());
    let refused = app.client.delete(app.url(&strangers)).bearer_auth(access).send().await.unwrap();
    assert_eq!(status_and_code(refused).await, (404, "not_found".into()));
    assert_eq!(app.get_with(SESSIONS, stranger["access_token"].as_str().unwrap()).await.status(), 200);
    let garbage =
        app.client.delete(app.url(&format!("{SESSIONS}/not-a-uuid"))).bearer_auth(access).send().await.unwrap();
    assert_eq!(garbage.status(), 404);
    let mine = format!("{SESSIONS}/{}", there["session_id"].as_str().unwrap());
    assert_eq!(app.client.delete(app.url(&mine)).bearer_auth(access).send().await.unwrap().status(), 204);
    assert_eq!(
        status_and_code(app.get_with(SESSIONS, there["access_token"].as_str().unwrap()).await).await,
        (401, "session_revoked".into())
    );
});

both!(cookie_refresh_needs_a_trusted_origin_or_x_requested_with, |app: TestApp| async move {
    let email = "csrf@example.com";
    app.register(email).await;
    assert_eq!(app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})).await.status(), 200);
    let bare = app.client.post(app.url("/api/v1/auth/refresh")).send().await.unwrap();
    assert_eq!(status_and_code(bare).await, (403, "forbidden".into()));
    let foreign =
        app.client.post(app.url("/api/v1/auth/refresh")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(foreign.status(), 403);
    let same_origin =
        app.client.post(app.url("/api/v1/auth/refresh")).header("origin", app.base.clone()).send().await.unwrap();
    assert_eq!(same_origin.status(), 200);
    assert!(same_origin.headers()["set-cookie"].to_str().unwrap().starts_with("refresh_token="));
    let body: Value = same_origin.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "delivered the way it came: by cookie");
    let xhr = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(xhr.status(), 200);
});

both!(an_expired_access_token_answers_token_expired, [("ACCESS_TOKEN_TTL", "1s")], |app: TestApp| async move {
    let (_, login) = app.signed_in_user().await;
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(app.get_with(SESSIONS, access).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(status_and_code(app.get_with(SESSIONS, access).await).await, (401, "token_expired".into()));
});
