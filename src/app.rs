//! Builds the server from a [`Config`]: stores, keys, actors, services, router; binds (port 0
//! in tests) and serves until a shutdown signal, then stops gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::actors::{ActorContext, ActorSettings, ActorSystem};
use crate::auth::{KeyRing, PasswordHasher, StateCipher, TokenIssuer};
use crate::config::Config;
use crate::domain::tenant::{DEFAULT_SLUG, PLATFORM_SLUG};
use crate::domain::{Email, Password, Role, Tenant};
use crate::service::{Audit, Core};
use crate::telemetry::Metrics;

/// Everything but the listener: what the CLI's offline commands and the server share.
pub async fn build_core(config: Config) -> anyhow::Result<Arc<Core>> {
    crate::auth::files::create_private_dir(&config.data_dir)
        .with_context(|| format!("TRADESAGE_DATA_DIR {}", config.data_dir.display()))?;
    let stores = crate::store::open(&config).await.context("opening the stores")?;
    let cipher = Arc::new(StateCipher::load(&config)?);
    // Key files rule when configured; otherwise the keys live in the database (API.md §5.4).
    let keys = Arc::new(match config.jwt_private_key_path {
        Some(_) => KeyRing::load(&config)?,
        None => crate::service::signing_keys::load_ring(stores.db.as_ref(), &cipher, &config).await?,
    });
    let metrics = Metrics::new();
    let tokens = Arc::new(TokenIssuer::new(keys, config.access_ttl));
    let ctx = Arc::new(ActorContext {
        stores: stores.clone(),
        cipher,
        metrics: metrics.clone(),
        node_id: Uuid::new_v4(),
        reuse_grace: chrono::Duration::from_std(config.refresh_reuse_grace)?,
        lockout: config.lockout.clone(),
    });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let settings = ActorSettings {
        shards: cores * 4,
        idle_passivate: config.session_idle_passivate,
        janitor_interval: config.janitor_interval,
        audit_retention: config.audit_retention,
    };
    let actors = ActorSystem::start(ctx, tokens.clone(), settings).await?;
    let node = format!("{}-{}", hostname(), &actors.ctx.node_id.to_string()[..8]);
    let cluster = crate::actors::cluster::ClusterView::new(actors.ctx.node_id, node.clone());
    let core = Arc::new(Core {
        passwords: Arc::new(PasswordHasher::new(config.bcrypt_rounds, config.bcrypt_workers)),
        audit: Audit::new(stores.db.clone()),
        config: Arc::new(config),
        stores,
        actors,
        tokens,
        metrics,
        node,
        cluster,
    });
    bootstrap(&core).await?;
    Ok(core)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

/// Makes sure the `platform` and `default` tenants exist, and the configured platform admin.
pub async fn bootstrap(core: &Core) -> anyhow::Result<()> {
    for (slug, name, self_signup) in [(PLATFORM_SLUG, "Platform", false), (DEFAULT_SLUG, "Default", true)] {
        if core.stores.db.tenant_by_slug(slug).await?.is_none() {
            let tenant = Tenant {
                id: Uuid::now_v7(),
                slug: slug.into(),
                name: name.into(),
                allow_self_signup: self_signup,
                require_mfa: false,
                is_active: true,
                created_at: Utc::now(),
            };
            match core.stores.db.insert_tenant(&tenant).await {
                // Another node created it at the same moment: fine.
                Ok(()) | Err(crate::store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if let (Some(email), Some(password)) = (&core.config.admin_email, &core.config.admin_password) {
        let email = Email::parse(email).map_err(|e| anyhow::anyhow!("TRADESAGE_ADMIN_EMAIL: {e}"))?;
        let password = Password::parse_new(password.expose(), "password")
            .map_err(|e| anyhow::anyhow!("TRADESAGE_ADMIN_PASSWORD: {e}"))?;
        let platform = core.stores.db.tenant_by_slug(PLATFORM_SLUG).await?.context("platform tenant")?;
        if core.stores.db.user_by_email(platform.id, email.as_str()).await?.is_none() {
            match core.create_user(&platform, &email, &password, "Platform admin".into(), vec![Role::Admin]).await {
                Ok(_) | Err(crate::service::ServiceError::Conflict(_)) => {}
                Err(e) => return Err(anyhow::anyhow!("creating the platform admin: {e}")),
            }
            tracing::info!("platform admin created");
        }
    }
    Ok(())
}

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    core: Arc<Core>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let bind = config.bind;
        let core = build_core(config).await?;
        let listener = TcpListener::bind(bind).await.with_context(|| format!("TRADESAGE_BIND {bind}"))?;
        Ok(Self { listener, core })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn core(&self) -> Arc<Core> {
        self.core.clone()
    }

    /// Serves until `shutdown` resolves; then in-flight requests finish, actors stop (their
    /// state is already persisted write-through) and the function returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let core = self.core.clone();
        let key_tasks = crate::service::signing_keys::start(&core);
        let operators = crate::service::operators::start_background(&core);
        let app = crate::http::router(core.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tracing::info!(address = %self.address(), database = core.stores.db.backend(), cache = crate::store::Cache::backend(core.stores.cache.as_ref()), "tradesage listening");
        let served = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        key_tasks.iter().for_each(JoinHandle::abort);
        operators.iter().for_each(JoinHandle::abort);
        core.actors.shutdown().await;
        tracing::info!("tradesage stopped");
        served.context("serving HTTP")
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
