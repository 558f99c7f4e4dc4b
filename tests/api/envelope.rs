//! The envelope every answer goes through (tower-http layers since issue 14): the request id
//! is echoed when it is sane and replaced when it is not, and the security headers sit on the
//! web app's answers as on the API's.

use crate::both;
use crate::helpers::TestApp;

both!(a_sane_request_id_is_echoed_and_any_other_is_replaced, |app: TestApp| async move {
    let send = |id: String| app.client.get(app.url("/health")).header("x-request-id", id).send();
    let sane = send("req-42.a_b".into()).await.unwrap();
    assert_eq!(sane.headers()["x-request-id"], "req-42.a_b");
    for insane in ["x".repeat(129), "two words".to_owned(), String::new()] {
        let response = send(insane.clone()).await.unwrap();
        let given = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(given, insane);
        assert!(uuid::Uuid::parse_str(&given).is_ok(), "a fresh id replaces {insane:?}: {given}");
    }
    let fresh = app.client.get(app.url("/health")).send().await.unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
});

both!(the_web_app_answers_carry_the_security_headers, |app: TestApp| async move {
    for path in ["/", "/some/client/route", "/favicon-that-is-not-there.ico"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        for header in ["x-content-type-options", "x-frame-options", "content-security-policy", "x-request-id"] {
            assert!(response.headers().contains_key(header), "{header} on {path} ({})", response.status());
        }
    }
});
