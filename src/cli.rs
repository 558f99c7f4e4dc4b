//! The command line: `serve` (the default), `migrate`, `keygen`, `user create`, `keys rotate`.
//! Configuration comes from the environment (and `.env`); a bad value exits with code 2 and
//! one line naming the variable.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

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
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Retire the current signing key (its tokens keep verifying until they expire) and make a new one.
    Rotate,
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
            std::fs::create_dir_all(&config.data_dir)?;
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
        Command::Keys { command: KeysCommand::Rotate } => {
            let paths = crate::auth::keys::KeyPaths::from_config(&config);
            if !paths.private.exists() {
                anyhow::bail!("no signing key at {}; start the server once or run keygen", paths.private.display());
            }
            let kid = crate::auth::keys::rotate(&paths)?;
            println!("new signing key {kid}; the previous key verifies until its tokens expire");
            Ok(())
        }
        Command::User { command: UserCommand::Create { email, role, tenant } } => {
            create_user(config, email, role, tenant).await
        }
    }
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
