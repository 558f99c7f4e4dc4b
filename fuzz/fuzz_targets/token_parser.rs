//! Arbitrary input to the token checks of `TokenIssuer`: `verify_access` and `verify_refresh`
//! must answer (never panic, never hang) and accept nothing but a well-formed token of ours.
//!
//! The first byte picks how the rest is used:
//! - 0, 1: the bytes as a string, as they would arrive in a header or cookie;
//! - 2: `header.payload.signature` built from three parts of the input (split at 0xff), each
//!   base64url-encoded, to get past the segment split into the JSON parsers;
//! - 3: the input as the payload of a token that carries a real ES256 signature of the
//!   issuer's key, to reach claim deserialisation and validation.

#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use libfuzzer_sys::fuzz_target;
use tradesage::auth::keys::KeyRing;
use tradesage::auth::tokens::{TokenIssuer, AUDIENCE, ISSUER};
use tradesage::config::Config;

/// An issuer on a key pair generated once per process in a temporary directory.
static ISSUER_UNDER_TEST: LazyLock<TokenIssuer> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("tradesage-fuzz-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("key dir");
    let data_dir = dir.display().to_string();
    let config = Config::from_lookup(|name| (name == "TRADESAGE_DATA_DIR").then(|| data_dir.clone())).expect("config");
    let ring = KeyRing::load(&config).expect("key ring");
    TokenIssuer::new(Arc::new(ring), Duration::from_secs(900))
});

fn check(token: &str) {
    let issuer = &*ISSUER_UNDER_TEST;
    let now = chrono::Utc::now();
    if let Ok(claims) = issuer.verify_access(token, now) {
        assert_eq!(claims.token_type, "access", "accepted as access: {token}");
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        assert!(claims.exp >= now.timestamp() - 1, "expired token accepted: {token}");
        assert!(claims.nbf <= now.timestamp() + 2, "not-yet-valid token accepted: {token}");
    }
    if let Ok(claims) = issuer.verify_refresh(token) {
        assert_eq!(claims.token_type, "refresh", "accepted as refresh: {token}");
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        assert!(claims.exp >= now.timestamp() - 1, "expired token accepted: {token}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        0 | 1 => check(&String::from_utf8_lossy(rest)),
        2 => {
            let mut parts = rest.splitn(3, |&b| b == 0xff);
            let mut segment = || URL_SAFE_NO_PAD.encode(parts.next().unwrap_or_default());
            let token = format!("{}.{}.{}", segment(), segment(), segment());
            check(&token);
        }
        _ => {
            let keys = ISSUER_UNDER_TEST.key_ring().keys();
            let header = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#, keys.signing_kid);
            let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(rest));
            let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &keys.signing, Algorithm::ES256)
                .expect("signing with our own key");
            check(&format!("{message}.{signature}"));
        }
    }
});
