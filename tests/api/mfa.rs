//! Two-factor sign-in (API.md §5.2) at the HTTP level, on both backends: enrolment and
//! confirmation, the two-step login and `amr`, clock drift of one step either way (not two),
//! a code accepted once, the `mfa_token`'s five wrong codes and single use, wrong codes in the
//! lockout, recovery codes, turning it off, the admins' reset, the tenant's `require_mfa`, the
//! secret never in clear in any store, and a pending sign-in finished on a second node.
//!
//! Codes are computed here from the secret the enrolment hands out (with `totp-rs` directly,
//! not through the server's own code).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tradesage::domain::Role;
use tradesage::store::{AuditFilter, Cache};
use uuid::Uuid;

use crate::both;
use crate::helpers::{account, expect_invalid, expect_problem, member, root, send, sign_in};
use crate::helpers::{base_vars, code_of, fresh_database, spawn_with_vars, Backend, TestApp, PASSWORD};

const ENROL: &str = "/api/v1/users/me/mfa/totp";
const CONFIRM: &str = "/api/v1/users/me/mfa/totp/confirm";
const MFA: &str = "/api/v1/users/me/mfa";
const RECOVERY: &str = "/api/v1/users/me/mfa/recovery-codes";
const VERIFY: &str = "/api/v1/auth/mfa/verify";
const LOGIN: &str = "/api/v1/auth/login";
const ROOT_VARS: [(&str, &str); 2] =
    [("TRADESAGE_ADMIN_EMAIL", "root@example.com"), ("TRADESAGE_ADMIN_PASSWORD", "correct-horse-battery-9")];

fn step_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() / 30
}

/// The RFC 6238 code of `step` for a base32 secret.
fn code_at(secret: &str, step: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().expect("base32 secret");
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes, None, String::new()).expect("totp");
    totp.generate(step * 30)
}

/// A code that is none of the secret's codes around now.
fn wrong_code(secret: &str) -> String {
    let now = step_now();
    let near: Vec<String> = (now - 3..=now + 3).map(|s| code_at(secret, s)).collect();
    ["000000", "111111", "222222"].into_iter().find(|c| !near.iter().any(|n| n == c)).unwrap().to_owned()
}

/// A user with two-factor on, and what the test needs to act as them.
struct Enrolled {
    email: String,
    user_id: Uuid,
    /// An access token from before the enrolment (`amr: ["pwd"]`).
    token: String,
    secret: String,
    recovery_codes: Vec<String>,
    /// The last time step a code was accepted for.
    last_step: u64,
}

impl Enrolled {
    /// A code the server has not accepted yet: the current step's, or the next one's (within
    /// the one step of drift either way, so a step boundary passing meanwhile does no harm).
    /// Waits (a bounded poll on the clock) when both are used.
    async fn next_code(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(35);
        let step = loop {
            let step = (self.last_step + 1).max(step_now());
            if step <= step_now() + 1 {
                break step;
            }
            assert!(Instant::now() < deadline, "the clock did not move on");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        self.last_step = step;
        code_at(&self.secret, step)
    }
}

async fn post_with(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    send(app, Method::POST, path, token, Some(body)).await
}

/// Starts an enrolment; answers the base32 secret.
async fn begin_enrolment(app: &TestApp, token: &str) -> String {
    let response = post_with(app, ENROL, token, json!({"password": PASSWORD})).await;
    assert_eq!(response.status(), 200, "enrolment");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Tradesage:") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("issuer=Tradesage"), "{uri}");
    secret
}

/// Registers a user in `default`, signs in and turns two-factor on (first code: this step's).
async fn enrolled_user(app: &TestApp) -> Enrolled {
    let (email, login) = app.signed_in_user().await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    enrol_signed_in(app, email, &login, token).await
}

async fn enrol_signed_in(app: &TestApp, email: String, login: &Value, token: String) -> Enrolled {
    let secret = begin_enrolment(app, &token).await;
    let step = step_now();
    let response = post_with(app, CONFIRM, &token, json!({"code": code_at(&secret, step)})).await;
    assert_eq!(response.status(), 200, "confirmation");
    let body: Value = response.json().await.unwrap();
    let recovery_codes: Vec<String> =
        body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(recovery_codes.len(), 10);
    let user_id = login["user"]["id"].as_str().unwrap().parse().unwrap();
    Enrolled { email, user_id, token, secret, recovery_codes, last_step: step }
}

/// The password step; answers the login's JSON (the `mfa_token` answer for enrolled users).
async fn password_step(app: &TestApp, client: &reqwest::Client, email: &str, delivery: &str) -> Value {
    let response = client
        .post(app.url(LOGIN))
        .json(&json!({"email": email, "password": PASSWORD, "token_delivery": delivery}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "password step");
    assert!(response.headers().get("set-cookie").is_none(), "no refresh cookie before the second factor");
    response.json().await.unwrap()
}

async fn mfa_token(app: &TestApp, email: &str) -> String {
    let answer = password_step(app, &app.client, email, "body").await;
    assert_eq!(answer["mfa_required"], true, "{answer}");
    answer["mfa_token"].as_str().unwrap().to_owned()
}

async fn verify(app: &TestApp, body: Value) -> reqwest::Response {
    app.client.post(app.url(VERIFY)).json(&body).send().await.unwrap()
}

/// The claims of a JWT (not verified: the server did that).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn counter(app: &TestApp, line_start: &str) -> f64 {
    app.core
        .metrics
        .render()
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The audit events named `event` about `user_id`.
async fn audited(app: &TestApp, event: &str, user_id: Uuid) -> Vec<tradesage::store::AuditEvent> {
    let filter = AuditFilter { event: Some(event.into()), user_id: Some(user_id), ..AuditFilter::default() };
    let page = tradesage::store::Page { limit: 100, before: None };
    app.core.stores.db.list_audit(None, &filter, page).await.unwrap()
}

both!(a_two_factor_sign_in_takes_a_code_after_the_password_and_its_tokens_say_otp, |app: TestApp| async move {
    let (_, plain) = app.signed_in_user().await;
    assert_eq!(claims(plain["access_token"].as_str().unwrap())["amr"], json!(["pwd"]));
    assert_eq!(plain["user"]["mfa_enabled"], false);

    let mut user = enrolled_user(&app).await;
    let me: Value = app.get_with("/api/v1/users/me", &user.token).await.json().await.unwrap();
    assert_eq!(me["mfa_enabled"], true);
    assert_eq!(me["tenant"]["require_mfa"], false);

    let answer = password_step(&app, &app.client, &user.email, "body").await;
    assert_eq!(answer["mfa_required"], true);
    assert_eq!(answer["expires_in"], 300);
    assert_eq!(answer["methods"], json!(["totp", "recovery_code"]));
    for absent in ["access_token", "refresh_token", "session_id", "user"] {
        assert!(answer.get(absent).is_none(), "{absent} before the second factor: {answer}");
    }
    let token = answer["mfa_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 1, "the mfa_token is no JWT");
    assert_eq!(code_of(app.get_with("/api/v1/users/me", token).await).await, "token_invalid", "nor an access token");

    let response = verify(&app, json!({"mfa_token": token, "code": user.next_code().await})).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none(), "delivered in the body, as asked at login");
    let signed_in: Value = response.json().await.unwrap();
    assert_eq!(claims(signed_in["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));
    assert_eq!(signed_in["user"]["mfa_enabled"], true);
    let refreshed: Value = app.refresh_with(signed_in["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]), "refresh keeps amr");

    // Cookie delivery (the default), finished with a recovery code.
    let browser = app.new_client();
    let answer = password_step(&app, &browser, &user.email, "cookie").await;
    let body = json!({"mfa_token": answer["mfa_token"], "recovery_code": user.recovery_codes[0]});
    let response = browser.post(app.url(VERIFY)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("refresh_token=") && cookie.contains("HttpOnly"), "{cookie}");
    let signed_in: Value = response.json().await.unwrap();
    assert!(signed_in.get("refresh_token").is_none());
    let refreshed = browser
        .post(app.url("/api/v1/auth/refresh"))
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));

    assert_eq!(counter(&app, "tradesage_mfa_checks_total{outcome=\"success\"}"), 3.0, "confirm and two sign-ins");
    for event in ["mfa_enrolled", "mfa_confirmed"] {
        assert_eq!(audited(&app, event, user.user_id).await.len(), 1, "{event}");
    }
    let verified = audited(&app, "mfa_verify", user.user_id).await;
    assert_eq!(verified.len(), 2);
    assert!(verified.iter().all(|e| e.outcome == "success"));
    assert_eq!(verified[0].detail["method"], "recovery_code", "newest first");
});

both!(one_step_of_drift_either_way_is_accepted_two_are_not_and_a_code_works_once, |app: TestApp| async move {
    // The steps are computed here and checked there: an attempt during which the clock
    // crossed a step boundary proves nothing and is made again with a fresh user.
    for attempt in 1..=4 {
        let (email, login) = app.signed_in_user().await;
        let access = login["access_token"].as_str().unwrap().to_owned();
        let secret = begin_enrolment(&app, &access).await;
        let t = step_now();
        let confirm = post_with(&app, CONFIRM, &access, json!({"code": code_at(&secret, t - 1)})).await;
        let confirmed = confirm.status().as_u16();
        let token = mfa_token(&app, &email).await;
        let late = verify(&app, json!({"mfa_token": token, "code": code_at(&secret, t + 2)})).await;
        let early = verify(&app, json!({"mfa_token": token, "code": code_at(&secret, t - 2)})).await;
        let ahead = verify(&app, json!({"mfa_token": token, "code": code_at(&secret, t + 1)})).await;
        let (late, early, ahead) = (late.status().as_u16(), code_of(early).await, ahead.status().as_u16());
        let replays_before = counter(&app, "tradesage_mfa_checks_total{outcome=\"replayed\"}");
        let again = mfa_token(&app, &email).await;
        let replay = code_of(verify(&app, json!({"mfa_token": again, "code": code_at(&secret, t + 1)})).await).await;
        let older = code_of(verify(&app, json!({"mfa_token": again, "code": code_at(&secret, t)})).await).await;
        let replays = counter(&app, "tradesage_mfa_checks_total{outcome=\"replayed\"}") - replays_before;
        if step_now() != t {
            assert!(attempt < 4, "the clock kept crossing step boundaries");
            continue;
        }
        assert_eq!(confirmed, 200, "one step behind is accepted (confirmation)");
        assert_eq!(late, 401, "two steps ahead is refused");
        assert_eq!(early, "mfa_invalid", "two steps behind is refused");
        assert_eq!(ahead, 200, "one step ahead is accepted");
        assert_eq!(replay, "mfa_invalid", "a code is accepted once");
        assert_eq!(older, "mfa_invalid", "a step before the last used one is refused, though in the window");
        assert_eq!(replays, 2.0, "both refused as replays, not as wrong codes");
        return;
    }
});

both!(
    the_fifth_wrong_code_spends_the_mfa_token_and_a_used_token_opens_nothing,
    [("LOCKOUT_THRESHOLD", "50")],
    |app: TestApp| async move {
        let mut user = enrolled_user(&app).await;
        let token = mfa_token(&app, &user.email).await;
        let wrong = wrong_code(&user.secret);
        for _ in 0..5 {
            let response = verify(&app, json!({"mfa_token": token, "code": wrong})).await;
            assert_eq!(response.status(), 401);
            assert!(response.headers().get("www-authenticate").is_some());
            assert_eq!(code_of(response).await, "mfa_invalid");
        }
        let right = user.next_code().await;
        let spent = verify(&app, json!({"mfa_token": token, "code": right})).await;
        assert_eq!(code_of(spent).await, "token_invalid", "five wrong codes spent the token");
        // The right code was not used up by the spent token: a new sign-in takes it.
        let token = mfa_token(&app, &user.email).await;
        assert_eq!(verify(&app, json!({"mfa_token": token, "code": right})).await.status(), 200);
        let reused = verify(&app, json!({"mfa_token": token, "recovery_code": user.recovery_codes[0]})).await;
        assert_eq!(code_of(reused).await, "token_invalid", "single use");
        let unknown = verify(&app, json!({"mfa_token": "bm90LWEtdG9rZW4", "code": wrong})).await;
        assert_eq!(code_of(unknown).await, "token_invalid");

        let token = mfa_token(&app, &user.email).await;
        expect_invalid(verify(&app, json!({"mfa_token": token, "code": "12ab56"})).await, "code").await;
        expect_invalid(verify(&app, json!({"mfa_token": token})).await, "code").await;
        expect_invalid(verify(&app, json!({"mfa_token": token, "code": right, "recovery_code": "x"})).await, "code")
            .await;
        expect_invalid(verify(&app, json!({"mfa_token": token, "recovery_code": "nope"})).await, "recovery_code").await;
        expect_invalid(verify(&app, json!({"mfa_token": 5, "code": right})).await, "mfa_token").await;
        expect_invalid(verify(&app, json!({"code": right})).await, "mfa_token").await;
        let failures = audited(&app, "mfa_verify", user.user_id).await;
        let last_wrong = failures.iter().find(|e| e.outcome == "failure").expect("a failure row");
        assert_eq!(
            (last_wrong.detail["wrong_codes"].as_u64(), last_wrong.detail["spent"].as_bool()),
            (Some(5), Some(true))
        );
        assert_eq!(counter(&app, "tradesage_mfa_checks_total{outcome=\"invalid\"}"), 5.0);
    }
);

both!(wrong_codes_count_toward_the_lockout_and_a_right_password_does_not_clear_them, |app: TestApp| async move {
    let mut user = enrolled_user(&app).await;
    let wrong_password = json!({"email": user.email, "password": "wrong-password-1", "token_delivery": "body"});
    for _ in 0..2 {
        assert_eq!(code_of(app.post(LOGIN, wrong_password.clone()).await).await, "invalid_credentials");
    }
    // The right password opens a pending sign-in but leaves the two failures counted.
    let token = mfa_token(&app, &user.email).await;
    let wrong = wrong_code(&user.secret);
    for _ in 0..2 {
        assert_eq!(code_of(verify(&app, json!({"mfa_token": token, "code": wrong})).await).await, "mfa_invalid");
    }
    let locked = verify(&app, json!({"mfa_token": token, "code": wrong})).await;
    assert_eq!(locked.status(), 423, "the fifth failure locks, codes and passwords alike");
    assert!(locked.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    let right = verify(&app, json!({"mfa_token": token, "code": user.next_code().await})).await;
    assert_eq!(code_of(right).await, "account_locked", "even a right code while locked");
    let login = app.post(LOGIN, json!({"email": user.email, "password": PASSWORD})).await;
    assert_eq!(code_of(login).await, "account_locked");
    assert_eq!(audited(&app, "lockout", user.user_id).await.len(), 1);
    assert_eq!(counter(&app, "tradesage_mfa_checks_total{outcome=\"locked\"}"), 1.0);
});

both!(turning_two_factor_off_needs_the_password_and_a_code_and_recovery_codes_work_once, |app: TestApp| async move {
    let mut user = enrolled_user(&app).await;
    let token = user.token.clone();
    let again = post_with(&app, ENROL, &token, json!({"password": PASSWORD})).await;
    expect_problem(again, 409, "conflict").await;
    expect_problem(post_with(&app, CONFIRM, &token, json!({"code": "123456"})).await, 409, "conflict").await;

    let code = wrong_code(&user.secret);
    let disable = |body: Value| send(&app, Method::DELETE, MFA, &token, Some(body));
    expect_invalid(disable(json!({"password": "wrong-password-1", "code": code})).await, "password").await;
    expect_problem(disable(json!({"password": PASSWORD, "code": code})).await, 401, "mfa_invalid").await;
    expect_invalid(disable(json!({"password": PASSWORD})).await, "code").await;
    expect_invalid(disable(json!({"code": code})).await, "password").await;

    // New recovery codes: the old set stops working, each new one works once.
    let renewed = post_with(&app, RECOVERY, &token, json!({"code": user.next_code().await})).await;
    assert_eq!(renewed.status(), 200);
    assert_eq!(renewed.headers()["cache-control"], "no-store");
    let renewed: Value = renewed.json().await.unwrap();
    let renewed: Vec<&str> =
        renewed["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(renewed.len(), 10);
    let old =
        verify(&app, json!({"mfa_token": mfa_token(&app, &user.email).await, "recovery_code": user.recovery_codes[1]}));
    assert_eq!(code_of(old.await).await, "mfa_invalid", "the old set stopped working");
    let typed = renewed[0].to_lowercase().replace('-', " ");
    let fresh = verify(&app, json!({"mfa_token": mfa_token(&app, &user.email).await, "recovery_code": typed}));
    assert_eq!(fresh.await.status(), 200, "in any spelling");
    let twice = verify(&app, json!({"mfa_token": mfa_token(&app, &user.email).await, "recovery_code": renewed[0]}));
    assert_eq!(code_of(twice.await).await, "mfa_invalid", "a recovery code works once");

    // Off with the password and a recovery code (a lost device).
    let off = disable(json!({"password": PASSWORD, "recovery_code": renewed[1]})).await;
    assert_eq!(off.status(), 204);
    let me: Value = app.get_with("/api/v1/users/me", &token).await.json().await.unwrap();
    assert_eq!(me["mfa_enabled"], false);
    let direct = password_step(&app, &app.client, &user.email, "body").await;
    assert_eq!(claims(direct["access_token"].as_str().unwrap())["amr"], json!(["pwd"]), "one step again");
    expect_problem(disable(json!({"password": PASSWORD, "code": code})).await, 409, "conflict").await;
    expect_problem(post_with(&app, RECOVERY, &token, json!({"code": code})).await, 409, "conflict").await;
    // A new enrolment hands out a new secret.
    assert_ne!(begin_enrolment(&app, &token).await, user.secret);
    assert_eq!(audited(&app, "mfa_disabled", user.user_id).await.iter().filter(|e| e.outcome == "success").count(), 1);
    assert_eq!(audited(&app, "mfa_recovery_codes_renewed", user.user_id).await.len(), 1);
});

both!(
    a_tenant_that_requires_two_factor_lets_its_users_do_nothing_else_until_they_enrol,
    [ROOT_VARS[0], ROOT_VARS[1]],
    |app: TestApp| async move {
        let root = root(&app).await;
        let body = json!({"slug": "strict-1", "name": "Strict", "allow_self_signup": true, "require_mfa": true});
        let created = post_with(&app, "/api/v1/tenants", &root.token, body).await;
        assert_eq!(created.status(), 201);
        let tenant: Value = created.json().await.unwrap();
        assert_eq!(tenant["require_mfa"], true);
        let tenant_path = format!("/api/v1/tenants/{}", tenant["id"].as_str().unwrap());
        let (user_id, email) = account(&app, "strict-1", &[Role::Trader]).await;
        let login = sign_in(&app, "strict-1", &email, PASSWORD).await;
        let token = login.token.clone();

        let me: Value = app.get_with("/api/v1/users/me", &token).await.json().await.unwrap();
        assert_eq!((me["tenant"]["require_mfa"].clone(), me["mfa_enabled"].clone()), (json!(true), json!(false)));
        let refused = [
            (Method::GET, "/api/v1/orders", None),
            (
                Method::POST,
                "/api/v1/orders",
                Some(json!({"symbol": "AAPL", "side": "buy", "quantity": "1", "limit_price": "1"})),
            ),
            (Method::GET, "/api/v1/auth/sessions", None),
            (Method::PATCH, "/api/v1/users/me", Some(json!({"display_name": "X"}))),
            (
                Method::POST,
                "/api/v1/users/me/password",
                Some(json!({"current_password": PASSWORD, "new_password": "another-horse-battery-9"})),
            ),
            (Method::GET, "/api/v1/admin/actors", None),
        ];
        for (method, path, body) in &refused {
            let response = send(&app, method.clone(), path, &token, body.clone()).await;
            expect_problem(response, 403, "mfa_enrollment_required").await;
        }
        // Refresh stays open, and so does enrolling.
        let refreshed = app
            .client
            .post(app.url("/api/v1/auth/refresh"))
            .bearer_auth(&login_refresh(&app, &email).await)
            .send()
            .await
            .unwrap();
        assert_eq!(refreshed.status(), 200);
        let secret = begin_enrolment(&app, &token).await;
        let confirmed = post_with(&app, CONFIRM, &token, json!({"code": code_at(&secret, step_now())})).await;
        assert_eq!(confirmed.status(), 200);
        assert_eq!(app.get_with("/api/v1/orders", &token).await.status(), 200, "enrolled: the same session may go on");

        // An admin's reset puts the user back behind the rule; lifting the rule frees them.
        let reset = send(
            &app,
            Method::DELETE,
            &format!("/api/v1/admin/users/{user_id}/mfa?tenant=strict-1"),
            &root.token,
            None,
        )
        .await;
        assert_eq!(reset.status(), 204);
        expect_problem(app.get_with("/api/v1/orders", &token).await, 403, "mfa_enrollment_required").await;
        let lifted = send(&app, Method::PATCH, &tenant_path, &root.token, Some(json!({"require_mfa": false}))).await;
        assert_eq!(lifted.status(), 200);
        assert_eq!(lifted.json::<Value>().await.unwrap()["require_mfa"], false);
        assert_eq!(app.get_with("/api/v1/orders", &token).await.status(), 200);

        // Logging out stays open to a user who must enrol.
        let required = send(&app, Method::PATCH, &tenant_path, &root.token, Some(json!({"require_mfa": true}))).await;
        assert_eq!(required.status(), 200);
        expect_problem(app.get_with("/api/v1/orders", &token).await, 403, "mfa_enrollment_required").await;
        let out = app.client.post(app.url("/api/v1/auth/logout-all")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(out.status(), 204);
        let other = sign_in(&app, "strict-1", &email, PASSWORD).await;
        let out = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(&other.token).send().await.unwrap();
        assert_eq!(out.status(), 204);
    }
);

/// Signs `email` in to `strict-1` and answers its refresh token.
async fn login_refresh(app: &TestApp, email: &str) -> String {
    let body = json!({"tenant": "strict-1", "email": email, "password": PASSWORD, "token_delivery": "body"});
    let login: Value = app.new_client().post(app.url(LOGIN)).json(&body).send().await.unwrap().json().await.unwrap();
    login["refresh_token"].as_str().expect("a refresh token").to_owned()
}

both!(an_admin_turns_a_users_two_factor_off_audited_and_a_pending_sign_in_dies_with_it, |app: TestApp| async move {
    let mut user = enrolled_user(&app).await;
    let pending = mfa_token(&app, &user.email).await;
    let path = format!("/api/v1/admin/users/{}/mfa", user.user_id);
    let viewer = member(&app, "default", &[Role::Viewer]).await;
    expect_problem(send(&app, Method::DELETE, &path, &viewer.token, None).await, 403, "forbidden").await;
    let admin = member(&app, "default", &[Role::Admin]).await;
    let unknown = format!("/api/v1/admin/users/{}/mfa", Uuid::now_v7());
    expect_problem(send(&app, Method::DELETE, &unknown, &admin.token, None).await, 404, "not_found").await;
    assert_eq!(send(&app, Method::DELETE, &path, &admin.token, None).await.status(), 204);
    let viewed: Value = send(&app, Method::GET, &format!("/api/v1/admin/users/{}", user.user_id), &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(viewed["mfa_enabled"], false);
    let late = verify(&app, json!({"mfa_token": pending, "code": user.next_code().await})).await;
    assert_eq!(code_of(late).await, "token_invalid", "the pending sign-in died with the reset");
    let direct = password_step(&app, &app.client, &user.email, "body").await;
    assert!(direct["access_token"].is_string(), "one step again");
    let audit: Value = send(&app, Method::GET, "/api/v1/admin/audit?event=admin_mfa_reset", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    let rows = audit["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["user_id"], json!(user.user_id));
    assert_eq!(rows[0]["detail"]["actor_id"], json!(admin.id));
    assert_eq!(send(&app, Method::DELETE, &path, &admin.token, None).await.status(), 204, "again: nothing to do");
    assert_eq!(audited(&app, "admin_mfa_reset", user.user_id).await.len(), 1, "and nothing audited");
});

/// Every stored text, as it lies in the database: each row of each table, rendered whole.
async fn database_dump(app: &TestApp) -> String {
    use sqlx::{Connection, Row};
    let mut out = String::new();
    match app.backend {
        Backend::PostgresRedis => {
            let mut db = sqlx::PgConnection::connect(&app.vars["DATABASE_URL"]).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut db)
            .await
            .unwrap();
            assert!(tables.iter().any(|t| t == "mfa_challenges"), "{tables:?}");
            for table in tables {
                let rows = sqlx::query(&format!("SELECT t::text FROM \"{table}\" t")).fetch_all(&mut db).await.unwrap();
                out.extend(rows.iter().map(|r| format!("{}\n", r.get::<String, _>(0))));
            }
        }
        Backend::Embedded => {
            let url = format!("sqlite://{}", app.data_dir().join("tradesage.db").display());
            let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut db)
                .await
                .unwrap();
            assert!(tables.iter().any(|t| t == "mfa_challenges"), "{tables:?}");
            for table in tables {
                let columns: Vec<String> = sqlx::query(&format!("PRAGMA table_info(\"{table}\")"))
                    .fetch_all(&mut db)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>("name"))
                    .collect();
                // quote() renders every value, BLOBs as X'…' hex.
                let row = columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || ',' || ");
                let rows = sqlx::query(&format!("SELECT {row} FROM \"{table}\"")).fetch_all(&mut db).await.unwrap();
                out.extend(rows.iter().map(|r| format!("{}\n", r.get::<String, _>(0))));
            }
        }
    }
    out
}

/// Every key and value under the test's Redis prefix, read raw.
async fn redis_dump(app: &TestApp) -> String {
    use fred::prelude::*;
    let client = Builder::from_config(Config::from_url(crate::helpers::REDIS_URL).unwrap()).build().unwrap();
    client.init().await.unwrap();
    const DUMP: &str = "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do \
        local t = redis.call('TYPE', k).ok \
        if t == 'string' then table.insert(out, k .. '=' .. redis.call('GET', k)) \
        elseif t == 'hash' then table.insert(out, k .. '=' .. table.concat(redis.call('HGETALL', k), ',')) \
        else table.insert(out, k .. '=<' .. t .. '>') end end return out";
    let pattern = format!("{}*", app.vars["REDIS_KEY_PREFIX"]);
    let entries: Vec<String> = client.eval(DUMP, Vec::<String>::new(), vec![pattern]).await.unwrap();
    assert!(entries.iter().all(|e| !e.ends_with('>')), "a Redis type this test cannot read: {entries:?}");
    entries.join("\n")
}

both!(the_secret_and_the_recovery_codes_are_never_in_clear_in_any_store, |app: TestApp| async move {
    let mut user = enrolled_user(&app).await;
    let pending = mfa_token(&app, &user.email).await;
    let signed_in = verify(&app, json!({"mfa_token": pending, "code": user.next_code().await})).await;
    assert_eq!(signed_in.status(), 200);
    let _waiting = mfa_token(&app, &user.email).await;
    let bytes = totp_rs::Secret::Encoded(user.secret.clone()).to_bytes().unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut needles = vec![
        user.secret.clone(),
        user.secret.to_lowercase(),
        hex.clone(),
        hex.to_uppercase(),
        format!("{bytes:?}").replace(' ', ""),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
    ];
    for code in &user.recovery_codes {
        needles.push(code.clone());
        needles.push(code.replace('-', ""));
    }
    let mut places = vec![("database", database_dump(&app).await)];
    let (text_id, blob_id) = (user.user_id.to_string(), user.user_id.simple().to_string().to_uppercase());
    assert!(places[0].1.contains(&text_id) || places[0].1.contains(&blob_id), "the dump reads the users table");
    if app.backend == Backend::PostgresRedis {
        let redis = redis_dump(&app).await;
        assert!(redis.contains(&format!("mfa:{}", user.user_id)), "the dump reads the cached two-factor state");
        places.push(("redis", redis));
    }
    // Whatever the cache backend, the cached copies are sealed too.
    let cached = app.core.stores.cache.get_versioned(&format!("mfa:{}", user.user_id)).await.unwrap();
    places.push(("cache", cached.expect("a cached copy").1));
    for (place, text) in &places {
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{needle} in clear in the {place}");
        }
        // The raw bytes, too (a BLOB or a binary value).
        assert!(!text.as_bytes().windows(bytes.len()).any(|w| w == bytes.as_slice()), "raw secret in the {place}");
    }
});

/// Every operation that a user who must still enrol is refused declares its 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_closed_to_a_user_who_must_enrol_declares_403() {
    let app = crate::helpers::spawn_app(Backend::Embedded).await;
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let open = [
        ("get", "/api/v1/users/me"),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/auth/logout-all"),
        ("post", "/api/v1/auth/refresh"),
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let bearer = operation["security"].as_array().into_iter().flatten().any(|r| r.get("bearer").is_some());
            let exempt = open.contains(&(method.as_str(), path.as_str())) || path.starts_with("/api/v1/users/me/mfa");
            if !bearer || exempt {
                continue;
            }
            assert!(
                operation["responses"].get("403").is_some(),
                "{method} {path} can answer 403 mfa_enrollment_required"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
    let forbidden = doc["components"]["responses"]["Forbidden"]["description"].as_str().unwrap();
    assert!(forbidden.contains("mfa_enrollment_required"));
    let unauthorized = doc["components"]["responses"]["Unauthorized"]["description"].as_str().unwrap();
    assert!(unauthorized.contains("mfa_invalid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pending_sign_in_is_finished_on_a_second_node_and_used_up_on_both() {
    let mut vars = base_vars(Backend::PostgresRedis);
    vars.insert("DATABASE_URL".into(), fresh_database().await);
    vars.insert("LOCKOUT_THRESHOLD".into(), "50".into());
    let a = spawn_with_vars(Backend::PostgresRedis, vars.clone()).await;
    let b = spawn_with_vars(Backend::PostgresRedis, vars).await;
    let mut user = enrolled_user(&a).await;

    // Wrong codes on either node add up to one spent token.
    let token = mfa_token(&a, &user.email).await;
    let wrong = wrong_code(&user.secret);
    for node in [&a, &b, &a, &b, &b] {
        assert_eq!(code_of(verify(node, json!({"mfa_token": token, "code": wrong})).await).await, "mfa_invalid");
    }
    let right = user.next_code().await;
    assert_eq!(code_of(verify(&a, json!({"mfa_token": token, "code": right})).await).await, "token_invalid");

    // Opened on A, finished on B, used up for A too.
    let token = mfa_token(&a, &user.email).await;
    let finished = verify(&b, json!({"mfa_token": token, "code": right})).await;
    assert_eq!(finished.status(), 200, "B finishes A's pending sign-in");
    let signed_in: Value = finished.json().await.unwrap();
    assert_eq!(claims(signed_in["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));
    let again = verify(&a, json!({"mfa_token": token, "recovery_code": user.recovery_codes[0]})).await;
    assert_eq!(code_of(again).await, "token_invalid", "A sees it used");
    // A code accepted on B is refused on A (the last used step is shared).
    let token = mfa_token(&a, &user.email).await;
    assert_eq!(code_of(verify(&a, json!({"mfa_token": token, "code": right})).await).await, "mfa_invalid");
}
