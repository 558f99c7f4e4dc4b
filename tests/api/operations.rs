//! What operators meet outside the API (API.md §5.1, issue 13): the data directory is the
//! owner's only, `tradesage user unlock` is the way out of a permanent lockout,
//! `tradesage health` probes `/health`, `RATE_LIMIT_ROUTES` is checked at start-up, and the
//! release binary serves the web app from any working directory.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::both;
use crate::helpers::{base_vars, spawn_with_vars, Backend, TestApp, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_tradesage");

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ts-ops-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with exactly `vars` as its environment, started in `/tmp`.
fn tradesage(vars: &HashMap<String, String>) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).envs(vars).current_dir("/tmp");
    command
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

// ---- the data directory -----------------------------------------------------------------------

#[test]
fn the_data_directory_is_created_for_its_owner_only_and_an_open_one_is_reported() {
    let parent = temp_dir();
    let data = parent.join("nested/data");
    let mut vars = base_vars(Backend::Embedded);
    vars.insert("TRADESAGE_DATA_DIR".into(), data.display().to_string());
    let output = tradesage(&vars).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "a new data dir is the owner's only");
    // One that others can read (made by hand, say) is left alone but reported.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = tradesage(&vars).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let said = text(&output);
    assert!(said.contains("TRADESAGE_DATA_DIR") && said.contains("chmod 700"), "no warning: {said}");
}

// ---- user unlock ------------------------------------------------------------------------------

/// Locks `email` for good with one wrong password (the tests' ladder is `permanent`).
async fn lock_for_good(app: &TestApp, email: &str) {
    app.register(email).await;
    let wrong = app.post("/api/v1/auth/login", json!({"email": email, "password": "wrong-password-1"})).await;
    assert_eq!(wrong.status(), 423);
    let right = app.post("/api/v1/auth/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(right.status(), 423, "locked even with the right password");
}

fn unlock(vars: &HashMap<String, String>, email: &str) -> Output {
    tradesage(vars).args(["user", "unlock", "--email", email, "--tenant", "default"]).output().unwrap()
}

both!(
    user_unlock_lifts_a_permanent_lock_and_says_what_it_did,
    [("LOCKOUT_THRESHOLD", "1"), ("LOCKOUT_LADDER", "permanent")],
    |app: TestApp| async move {
        let email = format!("locked-{}@example.com", Uuid::new_v4().simple());
        lock_for_good(&app, &email).await;
        let vars = app.vars.clone();
        let login = json!({"email": email, "password": PASSWORD});
        let app = if app.backend == Backend::Embedded {
            // The embedded cache lives in the server's process: unlock while it is stopped.
            app.stop().await;
            let output = unlock(&vars, &email);
            assert!(output.status.success(), "{}", text(&output));
            let said = String::from_utf8_lossy(&output.stdout).to_string();
            assert!(said.contains("unlocked") && said.contains(&email) && said.contains("permanent"), "{said}");
            spawn_with_vars(Backend::Embedded, vars.clone()).await
        } else {
            // With Redis the running server hears of it at once.
            let output = unlock(&vars, &email);
            assert!(output.status.success(), "{}", text(&output));
            let said = String::from_utf8_lossy(&output.stdout).to_string();
            assert!(said.contains("unlocked") && said.contains(&email) && said.contains("permanent"), "{said}");
            app
        };
        let started = Instant::now();
        loop {
            let status = app.post("/api/v1/auth/login", login.clone()).await.status();
            if status == 200 {
                break;
            }
            assert_eq!(status, 423);
            assert!(started.elapsed() < Duration::from_secs(5), "still locked after the unlock");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Unlocking what is not locked says so, and an unknown tenant is an error.
        let again = unlock(&vars, &email);
        assert!(again.status.success());
        assert!(String::from_utf8_lossy(&again.stdout).contains("was not locked"), "{}", text(&again));
        let nowhere =
            tradesage(&vars).args(["user", "unlock", "--email", &email, "--tenant", "nowhere"]).output().unwrap();
        assert!(!nowhere.status.success());
        assert!(text(&nowhere).contains("nowhere"), "{}", text(&nowhere));
    }
);

// ---- tradesage health -------------------------------------------------------------------------

fn health(vars: &HashMap<String, String>, url: Option<&str>) -> (Option<i32>, Duration) {
    let mut command = tradesage(vars);
    command.arg("health");
    if let Some(url) = url {
        command.args(["--url", url]);
    }
    let started = Instant::now();
    let status = command.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    (status.code(), started.elapsed())
}

/// A listener that answers every connection with `answer` (or, when `None`, never answers).
async fn fake_server(answer: Option<&'static str>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer).await;
            match answer {
                Some(answer) => {
                    let _ = stream.write_all(answer.as_bytes()).await;
                }
                None => held.push(stream),
            }
        }
    });
    port
}

both!(tradesage_health_exits_0_only_when_health_answers_200, |app: TestApp| async move {
    let vars: HashMap<String, String> = HashMap::new();
    let (code, _) = health(&vars, Some(&app.base));
    assert_eq!(code, Some(0), "a base URL");
    let (code, _) = health(&vars, Some(&app.url("/health")));
    assert_eq!(code, Some(0), "the /health URL");
    let bound = HashMap::from([("TRADESAGE_BIND".to_owned(), app.address.to_string())]);
    assert_eq!(health(&bound, None).0, Some(0), "by default, the server TRADESAGE_BIND names");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, took) = health(&vars, Some(&format!("http://127.0.0.1:{closed}")));
    assert!(code.is_some_and(|c| c != 0), "nothing listening: {code:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let unavailable = fake_server(Some("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")).await;
    let (code, _) = health(&vars, Some(&format!("http://127.0.0.1:{unavailable}")));
    assert!(code.is_some_and(|c| c != 0), "503: {code:?}");
    let silent = fake_server(None).await;
    let (code, took) = health(&vars, Some(&format!("http://127.0.0.1:{silent}")));
    assert!(code.is_some_and(|c| c != 0), "no answer: {code:?}");
    assert!(took < Duration::from_secs(10), "the probe times out quickly: {took:?}");
    let (code, _) = health(&vars, Some("ftp://example.com"));
    assert!(code.is_some_and(|c| c != 0), "a URL it cannot probe");
});

// ---- RATE_LIMIT_ROUTES at start-up ------------------------------------------------------------

/// Runs `command` to its end, killing it (and failing) if it is still running after `limit`.
fn exits_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().ok();
            panic!("still running after {limit:?}: {}", text(&child.wait_with_output().unwrap()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_bad_route_limit_stops_start_up_with_exit_code_2_naming_the_variable() {
    let dir = temp_dir();
    for value in [
        "POST /api/v1/orders",
        "POST /api/v1/orders=lots",
        "FETCH /api/v1/orders=1/s",
        "POST api/v1/orders=1/s",
        "POST /api/v1/nothing-here=1/s",
        "POST /api/v1/orders=1/s;POST /api/v1/orders=2/s",
    ] {
        let mut vars = base_vars(Backend::Embedded);
        vars.insert("TRADESAGE_DATA_DIR".into(), dir.display().to_string());
        vars.insert("RATE_LIMIT_ROUTES".into(), value.into());
        let output = exits_within(tradesage(&vars).arg("serve"), Duration::from_secs(20));
        assert_eq!(output.status.code(), Some(2), "{value}: {}", text(&output));
        let said = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(said.trim().lines().count(), 1, "{said}");
        assert!(said.contains("RATE_LIMIT_ROUTES"), "{said}");
    }
}

// ---- the web app ------------------------------------------------------------------------------

/// `web/dist/index.html` as built, if the web app has been built.
fn built_index() -> Option<String> {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/web/dist/index.html")).ok()
}

async fn serve_binary(vars: &mut HashMap<String, String>) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    vars.insert("TRADESAGE_BIND".into(), format!("127.0.0.1:{port}"));
    let child = tradesage(vars).arg("serve").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/health")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(started.elapsed() < Duration::from_secs(20), "no /health");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

#[tokio::test]
async fn the_binary_serves_the_web_app_whatever_its_working_directory() {
    let mut vars = base_vars(Backend::Embedded);
    let (mut child, base) = serve_binary(&mut vars).await;
    let index = reqwest::get(format!("{base}/")).await.unwrap();
    let deep = reqwest::get(format!("{base}/admin/users")).await.unwrap();
    match built_index() {
        Some(built) => {
            for (what, response) in [("/", index), ("a client-side route", deep)] {
                assert_eq!(response.status(), 200, "{what}");
                let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
                assert!(content_type.starts_with("text/html"), "{what}: {content_type}");
                assert_eq!(response.headers()["cache-control"], "no-cache", "{what}");
                assert_eq!(response.text().await.unwrap(), built, "{what}");
            }
            // A hashed asset is served with its type and cached for good.
            let asset = built.split("src=\"/").nth(1).and_then(|rest| rest.split('"').next()).expect("a script");
            let response = reqwest::get(format!("{base}/{asset}")).await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            assert!(response.headers()["content-type"].to_str().unwrap().contains("javascript"), "{asset}");
            assert!(response.headers()["cache-control"].to_str().unwrap().contains("immutable"), "{asset}");
            let missing = reqwest::get(format!("{base}/assets/nothing-here.js")).await.unwrap();
            assert_eq!(missing.status(), 404, "a missing asset is not the index page");
        }
        None => {
            // Built before the web app: `/` says how to get it rather than a bare 404.
            assert_eq!(index.status(), 404);
            assert!(index.text().await.unwrap().contains("web app"));
        }
    }
    child.kill().ok();
    child.wait().ok();
}

#[tokio::test]
async fn tradesage_web_dir_serves_a_folder_instead() {
    let folder = temp_dir();
    std::fs::write(folder.join("index.html"), "<!doctype html><p>from the folder</p>").unwrap();
    std::fs::write(folder.join("app.css"), "p { color: teal }").unwrap();
    let mut vars = base_vars(Backend::Embedded);
    vars.insert("TRADESAGE_WEB_DIR".into(), folder.display().to_string());
    let (mut child, base) = serve_binary(&mut vars).await;
    for path in ["/", "/some/client/route"] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.text().await.unwrap().contains("from the folder"), "{path}");
    }
    let css = reqwest::get(format!("{base}/app.css")).await.unwrap();
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    child.kill().ok();
    child.wait().ok();
}
