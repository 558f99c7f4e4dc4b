//! Arbitrary `Cookie` and `Authorization` headers into the two token extractors of the HTTP
//! layer: `refresh_cookie` (the `refresh_token` cookie) and `bearer` (the Authorization
//! scheme, matched case-insensitively). Neither may panic, and what they return must be a
//! clean token: non-empty, no surrounding whitespace, no cookie separator.
//!
//! The input is split at 0xff: the first part is the Authorization value, every other part
//! one `Cookie` header (browsers send one, proxies may send several). Parts that are not valid
//! header values are left out, as hyper would refuse them before any handler runs.

#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tradesage::http::auth::refresh_cookie;
use tradesage::http::extract::bearer;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0xff);
    let mut headers = HeaderMap::new();
    if let Some(Ok(value)) = parts.next().map(HeaderValue::from_bytes) {
        headers.insert(header::AUTHORIZATION, value);
    }
    for part in parts.take(8) {
        if let Ok(value) = HeaderValue::from_bytes(part) {
            headers.append(header::COOKIE, value);
        }
    }

    if let Some(token) = refresh_cookie(&headers) {
        assert!(!token.is_empty());
        assert!(!token.contains(';'), "cookie value runs into the next pair: {token:?}");
        assert_eq!(token, token.trim_end(), "trailing whitespace kept: {token:?}");
        let cookies: Vec<&str> = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(
            cookies.iter().any(|c| c.contains(&format!("refresh_token={token}"))),
            "{token:?} is not the value of a refresh_token cookie in {cookies:?}"
        );
    }

    if let Some(token) = bearer(&headers) {
        assert!(!token.is_empty());
        assert_eq!(token, token.trim(), "surrounding whitespace kept: {token:?}");
        let value = headers[header::AUTHORIZATION].to_str().expect("bearer came from a text value");
        let (scheme, _) = value.split_once(' ').expect("a scheme");
        assert!(scheme.eq_ignore_ascii_case("bearer"), "scheme {scheme:?} taken for Bearer");
        assert!(value.ends_with(token) || value.trim_end().ends_with(token));
    }
});
