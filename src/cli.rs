//! The command line: `serve` (the default), `migrate`, `keygen`, `user create`, `user unlock`,
//! `keys rotate`, `keys reseal`, `health`.
//! Configuration comes from the environment (and `.env`); a bad value exits with code 2 and
//! one line naming the variable.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(name = "tradesage", version, about = "Authentication and session server of the Tradesage trading platform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default). Embedded SQLite + in-process cache unless DATABASE_URL / REDIS_URL are set.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a new ES256 (P-256) key pair as PEM: private.pem (mode 0600) and public.pem.
    Keygen {
        /// Directory to write the pair into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the JWT signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Probe a running server's /health (for container probes): exit 0 when it answers 200
    /// within 3 s, 1 otherwise.
    Health {
        /// The server (`http://host:port`) or its health URL; by default the one TRADESAGE_BIND
        /// names (an unspecified address such as 0.0.0.0 is probed on loopback).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (without echo on a terminal).
    Create {
        #[arg(long)]
        email: String,
        /// admin, trader, viewer or api_user (repeat or comma-separate for several).
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
        /// Tenant slug.
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Lift the lockout of an email, a permanent one included (the way back in when the only
    /// platform admin is locked out: `--tenant platform`). With the embedded backends, run it
    /// while the server is stopped: a running one keeps the lock in memory until it restarts.
    Unlock {
        #[arg(long)]
        email: String,
        /// Tenant slug.
        #[arg(long, default_value = "default")]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Retire the current signing key (its tokens keep verifying until they expire) and make a
    /// new one that signs at once. Without JWT_PRIVATE_KEY_PATH the keys are in the database and
    /// every node follows within 5 s; with it, the key files are rotated.
    Rotate,
    /// Re-encrypt every sealed record (sessions, lockouts, two-factor state, signing keys) with
    /// the first of SESSION_ENCRYPTION_KEYS, while the server runs; prints counts per family.
    /// Afterwards the older keys can be removed.
    Reseal,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    let config = match Config::from_env().and_then(|config| crate::http::check_route_limits(&config).map(|()| config)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tradesage: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let _log_flush = crate::telemetry::init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(crate::allocator::flush_thread_cache)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tradesage: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tradesage: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = crate::app::Application::build(config).await?;
            app.run_until(crate::app::shutdown_signal()).await
        }
        Command::Migrate => {
            crate::auth::files::create_private_dir(&config.data_dir)?;
            let stores = crate::store::open(&config).await?;
            println!("migrations applied ({})", stores.db.backend());
            Ok(())
        }
        Command::Keygen { out } => {
            let kid = crate::auth::keys::generate_pair(&out.join("private.pem"), &out.join("public.pem"))?;
            println!(
                "wrote {} and {} (kid {kid})",
                out.join("private.pem").display(),
                out.join("public.pem").display()
            );
            Ok(())
        }
        Command::Keys { command: KeysCommand::Rotate } => rotate_keys(config).await,
        Command::Keys { command: KeysCommand::Reseal } => reseal(config).await,
        Command::User { command: UserCommand::Create { email, role, tenant } } => {
            create_user(config, email, role, tenant).await
        }
        Command::User { command: UserCommand::Unlock { email, tenant } } => unlock_user(config, email, tenant).await,
        Command::Health { url } => {
            let url = url.unwrap_or_else(|| health_url(config.bind));
            probe_health(&url, Duration::from_secs(3)).await?;
            println!("{url}: ok");
            Ok(())
        }
    }
}

/// `keys rotate`: the key files when configured, else the keys in the database.
async fn rotate_keys(config: Config) -> anyhow::Result<()> {
    if config.jwt_private_key_path.is_some() {
        let paths = crate::auth::keys::KeyPaths::from_config(&config);
        let kid = crate::auth::keys::rotate(&paths)?;
        println!("new signing key {kid}; the previous key verifies until its tokens expire");
        return Ok(());
    }
    crate::auth::files::create_private_dir(&config.data_dir)?;
    let stores = crate::store::open(&config).await?;
    let cipher = crate::auth::StateCipher::load(&config)?;
    let kid =
        crate::service::signing_keys::rotate_now(stores.db.as_ref(), stores.cache.as_ref(), &cipher, &config).await?;
    println!(
        "new signing key {kid} signs now (every node within {} s); the previous keys verify until their tokens expire",
        crate::service::signing_keys::CHECK_EVERY.as_secs()
    );
    Ok(())
}

/// `keys reseal`: every sealed record under the first session encryption key.
async fn reseal(config: Config) -> anyhow::Result<()> {
    crate::auth::files::create_private_dir(&config.data_dir)?;
    let stores = crate::store::open(&config).await?;
    let cipher = crate::auth::StateCipher::load(&config)?;
    let batch = crate::actors::sealed::BATCH;
    let counts = crate::actors::sealed::reseal(stores.db.as_ref(), stores.cache.as_ref(), &cipher, batch).await?;
    println!("{:<16} {:>10} {:>10} {:>10} {:>10}", "family", "resealed", "current", "unreadable", "contended");
    for c in &counts {
        println!("{:<16} {:>10} {:>10} {:>10} {:>10}", c.family, c.resealed, c.current, c.unreadable, c.contended);
    }
    if counts.iter().any(|c| c.unreadable + c.contended > 0) {
        println!("some records are not under the first key: keep the older keys (contended: run again)");
    } else {
        println!("every record is sealed under the first key; the older keys can be removed");
    }
    Ok(())
}

/// `http://<TRADESAGE_BIND>`, with an unspecified address probed on loopback.
fn health_url(bind: std::net::SocketAddr) -> String {
    let ip = match bind.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, bind.port()))
}

async fn unlock_user(config: Config, email: String, tenant: String) -> anyhow::Result<()> {
    let email = crate::domain::Email::parse(&email)?;
    let core = crate::app::build_core(config).await?;
    let unlocked = async {
        let tenant =
            core.stores.db.tenant_by_slug(&tenant).await?.ok_or_else(|| anyhow::anyhow!("no tenant `{tenant}`"))?;
        let before = core.lift_lockout(&tenant, email.as_str()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let user_id = core.stores.db.user_by_email(tenant.id, email.as_str()).await?.map(|u| u.id);
        core.audit
            .record(crate::service::AuditRecord {
                event: crate::service::AuditKind::AdminUnlock,
                outcome: crate::service::Outcome::Success,
                tenant_id: Some(tenant.id),
                user_id,
                meta: None,
                detail: serde_json::json!({ "via": "cli", "email_known": user_id.is_some() }),
            })
            .await;
        Ok::<_, anyhow::Error>((tenant.slug, before))
    }
    .await;
    core.actors.shutdown().await;
    let (slug, before) = unlocked?;
    let was = match before {
        crate::domain::LockoutVerdict::Open => {
            println!("{email} in tenant {slug} was not locked; its failure count is cleared");
            return Ok(());
        }
        crate::domain::LockoutVerdict::Locked { retry_after: None, step } => {
            format!("locked permanently (step {step})")
        }
        crate::domain::LockoutVerdict::Locked { retry_after: Some(left), step } => {
            format!("locked for another {} s (step {step})", left.as_secs().max(1))
        }
    };
    println!("unlocked {email} in tenant {slug}: it was {was}");
    Ok(())
}

async fn create_user(config: Config, email: String, roles: Vec<String>, tenant: String) -> anyhow::Result<()> {
    let email = crate::domain::Email::parse(&email)?;
    let roles = crate::domain::role::parse_roles(&roles)?;
    let password = read_password()?;
    let password = crate::domain::Password::parse_new(&password, "password")?;
    let core = crate::app::build_core(config).await?;
    let tenant =
        core.stores.db.tenant_by_slug(&tenant).await?.ok_or_else(|| anyhow::anyhow!("no tenant `{tenant}`"))?;
    let name = crate::service::auth::display_name(None, &email)?;
    let user = core.create_user(&tenant, &email, &password, name, roles).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    core.actors.shutdown().await;
    println!("created user {} in tenant {}", user.id, tenant.slug);
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password("password: ")?);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Sends `GET /health` to `url` over plain HTTP/1.1 and succeeds when the status line says 200
/// within `limit`. A few lines rather than an HTTP client crate: the server's build carries no
/// client, and a probe reads nothing but the status line.
async fn probe_health(url: &str, limit: Duration) -> anyhow::Result<()> {
    let (authority, path) = health_target(url)?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&authority).await.with_context(|| url.to_owned())?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: tradesage-health\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::with_capacity(64);
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n") && head.len() < 256 {
            if stream.read(&mut byte).await? == 0 {
                break;
            }
            head.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&head);
        match line.split(' ').nth(1) {
            Some("200") => Ok(()),
            Some(status) => bail!("{url} answered {status}"),
            None => bail!("{url} did not answer HTTP"),
        }
    };
    tokio::time::timeout(limit, exchange).await.map_err(|_| anyhow!("{url} did not answer within {limit:?}"))?
}

/// The `host:port` to connect to and the path to ask for: a base URL means its `/health`.
fn health_target(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow!("`{url}`: only http:// URLs can be probed"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let bad = |c: char| c.is_whitespace() || c.is_control();
    if authority.is_empty() || rest.contains(bad) {
        bail!("`{url}` is not a URL like http://127.0.0.1:8080");
    }
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => authority.contains(':'),
    };
    let authority = if has_port { authority.to_owned() } else { format!("{authority}:80") };
    let path = if path.is_empty() || path == "/" { "/health" } else { path };
    Ok((authority, path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_health_url_is_a_base_or_the_health_url_itself() {
        let target = |url: &str| health_target(url).map_err(|e| e.to_string());
        assert_eq!(target("http://127.0.0.1:8080").unwrap(), ("127.0.0.1:8080".into(), "/health".into()));
        assert_eq!(target("http://127.0.0.1:8080/").unwrap(), ("127.0.0.1:8080".into(), "/health".into()));
        assert_eq!(target("http://[::1]:9/health").unwrap(), ("[::1]:9".into(), "/health".into()));
        assert_eq!(target("http://node-1/health").unwrap(), ("node-1:80".into(), "/health".into()));
        assert_eq!(target("http://[::1]/x").unwrap(), ("[::1]:80".into(), "/x".into()));
        for bad in ["https://x", "ftp://x", "http://", "http://a b", "127.0.0.1:8080"] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unspecified_bind_address_is_probed_on_loopback() {
        assert_eq!(health_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(health_url("[::]:8080".parse().unwrap()), "http://[::1]:8080");
        assert_eq!(health_url("10.1.2.3:80".parse().unwrap()), "http://10.1.2.3:80");
    }
}
