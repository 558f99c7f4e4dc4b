//! The binary as a user meets it: configuration errors, `--help`, the embedded server that
//! answers and keeps its data across a restart, SIGTERM, `keygen`, `migrate`, `user create`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::helpers::PASSWORD;

const BIN: &str = env!("CARGO_BIN_EXE_tradesage");

fn command(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TRADESAGE_DATA_DIR", data_dir)
        .env("BCRYPT_ROUNDS", "4");
    command.current_dir(data_dir);
    command
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ts-cli-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_bad_value_stops_start_up_with_exit_code_2_and_one_line_naming_the_variable() {
    let dir = temp_dir();
    for (name, value) in
        [("TRADESAGE_BIND", "nowhere"), ("ACCESS_TOKEN_TTL", "soon"), ("LOCKOUT_LADDER", "permanent,1m")]
    {
        let output = command(&dir).env(name, value).arg("serve").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
}

#[test]
fn every_command_has_help() {
    let dir = temp_dir();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["keygen", "--help"],
        vec!["user", "create", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["keys", "reseal", "--help"],
    ] {
        let output = command(&dir).args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8(output.stdout).unwrap().contains("Usage"), "{args:?}");
    }
}

#[test]
fn keygen_writes_an_owner_only_private_key_and_a_public_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let output = command(&dir).args(["keygen", "--out", "keys"]).output().unwrap();
    assert!(output.status.success());
    let private = std::fs::metadata(dir.join("keys/private.pem")).unwrap();
    assert_eq!(private.permissions().mode() & 0o777, 0o600);
    let public = std::fs::read_to_string(dir.join("keys/public.pem")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
}

#[test]
fn migrate_runs_twice_and_user_create_refuses_what_registration_refuses() {
    let dir = temp_dir();
    for _ in 0..2 {
        assert!(command(&dir).arg("migrate").output().unwrap().status.success());
    }
    let create = |password: &str| {
        let mut child = command(&dir)
            .args(["user", "create", "--email", "ops@example.com", "--role", "trader,viewer"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let common = create("password123");
    assert!(!common.status.success());
    assert!(String::from_utf8_lossy(&common.stderr).contains("too common"));
    let created = create(PASSWORD);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created user"));
    assert!(!create(PASSWORD).status.success(), "the email is taken now");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(dir: &std::path::Path, port: u16) -> std::process::Child {
    command(dir)
        .env("TRADESAGE_BIND", format!("127.0.0.1:{port}"))
        .env("COOKIE_SECURE", "false")
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_for_health(base: &str) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(response) = reqwest::get(format!("{base}/health")).await {
            if response.status() == 200 {
                return started.elapsed();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no /health within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn terminate(child: &mut std::process::Child) -> Option<i32> {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn the_embedded_server_answers_keeps_its_data_across_a_restart_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&dir, port);
    wait_for_health(&base).await;
    let client = reqwest::Client::new();
    let register = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": "keep@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    assert_eq!(terminate(&mut server), Some(0));
    let mut server = serve(&dir, port);
    wait_for_health(&base).await;
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "keep@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "the account survived the restart");
    assert_eq!(terminate(&mut server), Some(0));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("session-keys")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "session-keys");
    assert!(!dir.join("jwt-private.pem").exists(), "the signing keys are in the embedded database, not in files");
}
