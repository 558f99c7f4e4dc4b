//! Signing keys from files (`JWT_PRIVATE_KEY_PATH`): rotation keeps old tokens verifying, JWKS
//! lists the keys in force, and a private key that group or others can read is refused. Keys
//! in the database are the subject of `key_ring`.

use serde_json::Value;
use tradesage::app::Application;
use tradesage::auth::keys::{rotate, KeyPaths};
use tradesage::config::Config;

use crate::both;
use crate::helpers::{base_vars, Backend, TestApp, KEY_FILES};

both!(after_keys_rotate_old_tokens_verify_and_new_ones_use_the_new_key, [KEY_FILES], |app: TestApp| async move {
    let (_, before) = app.signed_in_user().await;
    let config = Config::from_lookup(|k| app.vars.get(k).cloned()).unwrap();
    let new_kid = rotate(&KeyPaths::from_config(&config)).unwrap();
    assert!(app.core.tokens.key_ring().refresh().unwrap());
    let jwks: Value = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0], new_kid);
    assert_eq!(app.get_with("/api/v1/auth/sessions", before["access_token"].as_str().unwrap()).await.status(), 200);
    let refreshed = app.refresh_with(before["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200, "a refresh token of the old key still works");
    let (_, after) = app.signed_in_user().await;
    let header = after["access_token"].as_str().unwrap().split('.').next().unwrap().to_owned();
    use base64::Engine;
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], new_kid);
});

#[tokio::test]
async fn a_private_key_readable_by_others_is_refused_with_a_clear_message() {
    use std::os::unix::fs::PermissionsExt;
    let vars = base_vars(Backend::Embedded);
    let dir = std::path::PathBuf::from(&vars["TRADESAGE_DATA_DIR"]);
    let key = dir.join("jwt-private.pem");
    tradesage::auth::keys::generate_pair(&key, &dir.join("jwt-public.pem")).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut vars = vars;
    vars.insert("JWT_PRIVATE_KEY_PATH".into(), key.display().to_string());
    let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let error = Application::build(config).await.err().expect("start-up refused");
    let message = format!("{error:#}");
    assert!(message.contains("readable by group or others") && message.contains("chmod 600"), "{message}");
}

both!(
    a_retired_key_leaves_jwks_once_its_grace_has_passed_while_the_server_runs,
    [KEY_FILES, ("ACCESS_TOKEN_TTL", "1s"), ("REFRESH_TOKEN_TTL", "8s")],
    |app: TestApp| async move {
        use std::time::{Duration, Instant};
        let jwks_kids = || async {
            let jwks: Value =
                app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        let old_kid = jwks_kids().await.remove(0);
        let config = Config::from_lookup(|k| app.vars.get(k).cloned()).unwrap();
        let new_kid = rotate(&KeyPaths::from_config(&config)).unwrap();
        // The watcher notices the rotation on its own (the test calls no reload)…
        let started = Instant::now();
        let mut kids = jwks_kids().await;
        while kids.first() != Some(&new_kid) {
            assert!(started.elapsed() < Duration::from_secs(20), "the rotation never showed in JWKS: {kids:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            kids = jwks_kids().await;
        }
        assert_eq!(kids, [new_kid.clone(), old_kid.clone()], "the retired key verifies its tokens for a while");
        // …and, with the key files unchanged since, drops the retired key once no token it
        // signed can still be alive (8 s after its retirement, the longest a token lives).
        while kids.contains(&old_kid) {
            assert!(started.elapsed() < Duration::from_secs(30), "the retired key is still published: {kids:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
            kids = jwks_kids().await;
        }
        assert_eq!(kids, [new_kid]);
        assert!(started.elapsed() >= Duration::from_secs(7), "it left before its tokens could expire");
    }
);
