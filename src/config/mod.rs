//! The environment (API.md §1), parsed once into a typed, validated [`Config`].
//!
//! Every variable is optional. A bad value is a [`ConfigError`] naming the variable; the CLI
//! prints it as one line and exits with code 2.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::domain::lockout::LockoutPolicy;

mod scale;
mod values;

pub use scale::{ScaleOut, REDIS_SCHEMES};
use values::ipv4_mapped_as_ipv4;
pub use values::{parse_duration, parse_ladder, parse_rate, parse_route_limits, Rate, RouteLimit};

/// A secret value: usable, but never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The only way to read the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A bad configuration value: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Everything the server needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; unset selects embedded SQLite under `data_dir`.
    pub database_url: Option<Secret<String>>,
    /// `redis://…` selects Redis; unset selects the in-process cache.
    pub redis_url: Option<Secret<String>>,
    /// Prefix of every Redis key and channel, so deployments (and tests) can share a server.
    pub redis_prefix: String,
    pub jwt_private_key_path: Option<PathBuf>,
    pub jwt_public_key_path: Option<PathBuf>,
    /// `SIGNING_KEY_ROTATION`: how long a signing key kept in the database signs before its
    /// successor takes over (`None`: `off`). Key files are rotated by hand.
    pub signing_key_rotation: Option<Duration>,
    /// `SIGNING_KEY_PREPUBLISH`: how long a new key is in JWKS before it signs.
    pub signing_key_prepublish: Duration,
    /// Fernet keys: the first encrypts, all decrypt. Unset: generated into `data_dir`.
    pub session_encryption_keys: Option<Secret<Vec<String>>>,
    pub access_ttl: Duration,
    /// Also a session's absolute lifetime.
    pub refresh_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub bcrypt_rounds: u32,
    /// Threads that run bcrypt; logins beyond them queue instead of blocking async workers.
    pub bcrypt_workers: usize,
    pub lockout: LockoutPolicy,
    pub max_sessions_per_user: u32,
    pub session_ip_binding: bool,
    pub session_idle_passivate: Duration,
    pub janitor_interval: Duration,
    /// Audit events older than this are removed by the janitor (`None`: `off`, kept for good).
    pub audit_retention: Option<Duration>,
    pub cors_allowed_origins: Vec<String>,
    /// `None` when the limit is `off`.
    pub rate_limit_ip: Option<Rate>,
    pub rate_limit_user: Option<Rate>,
    pub rate_limit_login: Option<Rate>,
    /// `RATE_LIMIT_ROUTES`: extra limits on single routes, per client.
    pub rate_limit_routes: Vec<RouteLimit>,
    pub trusted_proxies: Vec<IpNet>,
    pub cookie_secure: bool,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret<String>>,
    pub metrics_token: Option<Secret<String>>,
    pub log_format: LogFormat,
    /// `TRADESAGE_WEB_DIR`: a folder to serve the web app from instead of the one built into
    /// the binary (development).
    pub web_dir: Option<PathBuf>,
    /// A read replica and the database's circuit breaker (`config::scale`).
    pub scale_out: ScaleOut,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup`, so tests can give their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup: &lookup };
        let access_ttl = match env.get("ACCESS_TOKEN_TTL") {
            Some(raw) => parse_duration(&raw).map_err(|m| err("ACCESS_TOKEN_TTL", m))?,
            None => Duration::from_secs(60 * env.parse_or("ACCESS_TOKEN_EXPIRE_MINUTES", 15u64)?),
        };
        let refresh_ttl = match env.get("REFRESH_TOKEN_TTL") {
            Some(raw) => parse_duration(&raw).map_err(|m| err("REFRESH_TOKEN_TTL", m))?,
            None => Duration::from_secs(86_400 * env.parse_or("REFRESH_TOKEN_EXPIRE_DAYS", 30u64)?),
        };
        positive("ACCESS_TOKEN_TTL", access_ttl)?;
        positive("REFRESH_TOKEN_TTL", refresh_ttl)?;
        let bcrypt_rounds: u32 = env.parse_or("BCRYPT_ROUNDS", 12)?;
        if !(4..=31).contains(&bcrypt_rounds) {
            return Err(err("BCRYPT_ROUNDS", "must be between 4 and 31"));
        }
        let threshold: u32 = env.parse_or("LOCKOUT_THRESHOLD", 5)?;
        if threshold == 0 {
            return Err(err("LOCKOUT_THRESHOLD", "must be at least 1"));
        }
        let ladder = parse_ladder(&env.get("LOCKOUT_LADDER").unwrap_or_else(|| "1m,5m,30m,24h,permanent".into()))
            .map_err(|m| err("LOCKOUT_LADDER", m))?;
        let max_sessions_per_user: u32 = env.parse_or("MAX_SESSIONS_PER_USER", 10)?;
        if max_sessions_per_user == 0 {
            return Err(err("MAX_SESSIONS_PER_USER", "must be at least 1"));
        }
        let session_ip_binding = match env.get("SESSION_IP_BINDING").as_deref() {
            None | Some("strict") => true,
            Some("off") => false,
            Some(_) => return Err(err("SESSION_IP_BINDING", "must be `strict` or `off`")),
        };
        let database_url = env.get("DATABASE_URL");
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(err("DATABASE_URL", "must start with postgres:// (unset it for embedded SQLite)"));
            }
        }
        let redis_url = env.get("REDIS_URL");
        if let Some(url) = &redis_url {
            scale::check_redis_url(url)?;
        }
        let scale_out = scale::scale_out(&env, database_url.as_deref())?;
        let session_encryption_keys = match env.get("SESSION_ENCRYPTION_KEYS") {
            None => None,
            Some(raw) => {
                let keys: Vec<String> = raw.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect();
                if keys.is_empty() || keys.iter().any(|k| fernet::Fernet::new(k).is_none()) {
                    return Err(err(
                        "SESSION_ENCRYPTION_KEYS",
                        "each key must be a url-safe base64 32-byte Fernet key",
                    ));
                }
                Some(Secret::new(keys))
            }
        };
        let trusted_proxies = env
            .list("TRUSTED_PROXIES")
            .iter()
            .map(|raw| {
                raw.parse::<IpNet>()
                    .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map(ipv4_mapped_as_ipv4)
                    .map_err(|_| err("TRUSTED_PROXIES", format!("`{raw}` is not a CIDR")))
            })
            .collect::<Result<_, _>>()?;
        let cors_allowed_origins = env.list("CORS_ALLOWED_ORIGINS");
        for origin in &cors_allowed_origins {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://")) && !origin.ends_with('/');
            if !ok || axum::http::HeaderValue::from_str(origin).is_err() {
                return Err(err(
                    "CORS_ALLOWED_ORIGINS",
                    format!("`{origin}` is not an origin like https://app.example.com"),
                ));
            }
        }
        let admin_email = env.get("TRADESAGE_ADMIN_EMAIL");
        let admin_password = env.get("TRADESAGE_ADMIN_PASSWORD");
        if admin_email.is_some() != admin_password.is_some() {
            return Err(err(
                "TRADESAGE_ADMIN_PASSWORD",
                "TRADESAGE_ADMIN_EMAIL and TRADESAGE_ADMIN_PASSWORD go together",
            ));
        }
        let log_format = match env.get("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => return Err(err("LOG_FORMAT", "must be `json` or `pretty`")),
        };
        let signing_key_rotation = match env.get("SIGNING_KEY_ROTATION").as_deref() {
            Some("off") => None,
            raw => Some(positive(
                "SIGNING_KEY_ROTATION",
                raw.map_or(Ok(Duration::from_secs(30 * 86_400)), parse_duration)
                    .map_err(|m| err("SIGNING_KEY_ROTATION", m))?,
            )?),
        };
        let signing_key_prepublish = env.duration_or("SIGNING_KEY_PREPUBLISH", Duration::from_secs(3_600))?;
        if signing_key_rotation.is_some_and(|rotation| signing_key_prepublish >= rotation) {
            return Err(err("SIGNING_KEY_PREPUBLISH", "must be shorter than SIGNING_KEY_ROTATION"));
        }
        let default_workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Ok(Config {
            bind: env.parse_or("TRADESAGE_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            data_dir: env.get("TRADESAGE_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("./data")),
            database_url: database_url.map(Secret::new),
            redis_url: redis_url.map(Secret::new),
            redis_prefix: env.get("REDIS_KEY_PREFIX").unwrap_or_else(|| "tradesage:".into()),
            jwt_private_key_path: env.get("JWT_PRIVATE_KEY_PATH").map(PathBuf::from),
            jwt_public_key_path: env.get("JWT_PUBLIC_KEY_PATH").map(PathBuf::from),
            signing_key_rotation,
            signing_key_prepublish,
            session_encryption_keys,
            access_ttl,
            refresh_ttl,
            refresh_reuse_grace: env.duration_or("REFRESH_REUSE_GRACE", Duration::from_secs(10))?,
            bcrypt_rounds,
            bcrypt_workers: env.parse_or("BCRYPT_WORKERS", default_workers)?.max(1),
            lockout: LockoutPolicy { threshold, ladder, decay: chrono::Duration::hours(24) },
            max_sessions_per_user,
            session_ip_binding,
            session_idle_passivate: positive(
                "SESSION_IDLE_PASSIVATE",
                env.duration_or("SESSION_IDLE_PASSIVATE", Duration::from_secs(300))?,
            )?,
            janitor_interval: positive(
                "JANITOR_INTERVAL",
                env.duration_or("JANITOR_INTERVAL", Duration::from_secs(300))?,
            )?,
            audit_retention: match env.get("AUDIT_RETENTION").as_deref() {
                Some("off") => None,
                raw => Some(positive(
                    "AUDIT_RETENTION",
                    raw.map_or(Ok(Duration::from_secs(365 * 86_400)), parse_duration)
                        .map_err(|m| err("AUDIT_RETENTION", m))?,
                )?),
            },
            cors_allowed_origins,
            rate_limit_ip: env.rate_or("RATE_LIMIT_IP", Rate { count: 600, per: Duration::from_secs(60) })?,
            rate_limit_user: env.rate_or("RATE_LIMIT_USER", Rate { count: 1200, per: Duration::from_secs(60) })?,
            rate_limit_login: env.rate_or("RATE_LIMIT_LOGIN", Rate { count: 30, per: Duration::from_secs(60) })?,
            rate_limit_routes: env
                .get("RATE_LIMIT_ROUTES")
                .map_or(Ok(Vec::new()), |raw| parse_route_limits(&raw))
                .map_err(|m| err("RATE_LIMIT_ROUTES", m))?,
            trusted_proxies,
            cookie_secure: env.bool_or("COOKIE_SECURE", true)?,
            admin_email,
            admin_password: admin_password.map(Secret::new),
            metrics_token: env.get("METRICS_TOKEN").filter(|t| !t.is_empty()).map(Secret::new),
            log_format,
            web_dir: env.get("TRADESAGE_WEB_DIR").map(PathBuf::from),
            scale_out,
        })
    }
}

struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|raw| raw.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    fn parse_or<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|_| err(name, format!("`{raw}` is not a valid value"))),
        }
    }

    fn duration_or(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        self.get(name).map_or(Ok(default), |raw| parse_duration(&raw).map_err(|m| err(name, m)))
    }

    /// A rate, or `None` for `off`.
    fn rate_or(&self, name: &'static str, default: Rate) -> Result<Option<Rate>, ConfigError> {
        match self.get(name).as_deref() {
            None => Ok(Some(default)),
            Some("off") => Ok(None),
            Some(raw) => parse_rate(raw).map(Some).map_err(|m| err(name, m)),
        }
    }

    fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(_) => Err(err(name, "must be `true` or `false`")),
        }
    }
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { variable, message: message.into() }
}

fn positive(variable: &'static str, value: Duration) -> Result<Duration, ConfigError> {
    if value.is_zero() {
        Err(err(variable, "must be longer than zero"))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn with_nothing_set_the_defaults_of_the_contract_hold() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(c.lockout.ladder.len(), 5);
        assert!(c.database_url.is_none() && c.redis_url.is_none() && c.session_ip_binding);
        assert_eq!(c.rate_limit_login, Some(Rate { count: 30, per: Duration::from_secs(60) }));
        assert!(c.rate_limit_routes.is_empty());
        assert_eq!(c.audit_retention, Some(Duration::from_secs(365 * 86_400)));
        assert_eq!(config(&[("AUDIT_RETENTION", "off")]).unwrap().audit_retention, None);
        assert_eq!(c.signing_key_rotation, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(c.signing_key_prepublish, Duration::from_secs(3_600));
        assert_eq!(config(&[("SIGNING_KEY_ROTATION", "off")]).unwrap().signing_key_rotation, None);
    }

    #[test]
    fn the_ttl_form_wins_over_minutes() {
        let c = config(&[("ACCESS_TOKEN_EXPIRE_MINUTES", "5"), ("ACCESS_TOKEN_TTL", "90s")]).unwrap();
        assert_eq!(c.access_ttl, Duration::from_secs(90));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("TRADESAGE_BIND", "nowhere"),
            ("ACCESS_TOKEN_TTL", "soon"),
            ("BCRYPT_ROUNDS", "99"),
            ("LOCKOUT_LADDER", "permanent,1m"),
            ("RATE_LIMIT_IP", "600 per minute"),
            ("RATE_LIMIT_USER", "10000001/s"),
            ("RATE_LIMIT_LOGIN", "0/min"),
            ("RATE_LIMIT_ROUTES", "POST /api/v1/orders"),
            ("RATE_LIMIT_ROUTES", "post /api/v1/orders=1/s"),
            ("RATE_LIMIT_ROUTES", "POST api/v1/orders=1/s"),
            ("RATE_LIMIT_ROUTES", "POST /api/v1/orders=many"),
            ("RATE_LIMIT_ROUTES", "POST /a=1/s;POST /a=2/s"),
            ("SESSION_IP_BINDING", "loose"),
            ("DATABASE_URL", "mysql://x"),
            ("TRUSTED_PROXIES", "10.0.0.0/99"),
            ("COOKIE_SECURE", "maybe"),
            ("SESSION_ENCRYPTION_KEYS", "short"),
            ("AUDIT_RETENTION", "a year"),
            ("AUDIT_RETENTION", "0d"),
            ("SIGNING_KEY_ROTATION", "monthly"),
            ("SIGNING_KEY_ROTATION", "0s"),
            ("SIGNING_KEY_PREPUBLISH", "31d"),
        ] {
            let error = config(&[(name, value)]).unwrap_err();
            assert_eq!(error.variable, name, "{error}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let c = config(&[("METRICS_TOKEN", "hunter2-token"), ("DATABASE_URL", "postgres://u:pw@h/db")]).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2") && !printed.contains(":pw@"));
    }

    #[test]
    fn ipv4_mapped_proxy_ranges_are_ipv4_ranges() {
        let c = config(&[("TRUSTED_PROXIES", "::ffff:10.0.0.0/104, ::ffff:192.0.2.1, 2001:db8::/32")]).unwrap();
        let nets: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
    }

    #[test]
    fn off_switches_a_limit_off_and_route_limits_are_read() {
        let c = config(&[
            ("RATE_LIMIT_IP", "off"),
            ("RATE_LIMIT_USER", "10000000/min"),
            ("RATE_LIMIT_ROUTES", " POST /api/v1/orders=10/s; POST /api/v1/auth/refresh=60/min ;"),
        ])
        .unwrap();
        assert_eq!(c.rate_limit_ip, None);
        assert_eq!(c.rate_limit_user, Some(Rate { count: 10_000_000, per: Duration::from_secs(60) }));
        let routes: Vec<(&str, &str, u32)> =
            c.rate_limit_routes.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.rate.count)).collect();
        assert_eq!(routes, [("POST", "/api/v1/orders", 10), ("POST", "/api/v1/auth/refresh", 60)]);
    }
}
