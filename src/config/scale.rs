//! The scale-out variables (API.md §5.5): a read replica, the database's circuit breaker, and
//! which `REDIS_URL` forms are accepted.

use std::time::Duration;

use super::{err, positive, ConfigError, Env, Secret};

/// How the node reaches a replicated PostgreSQL and guards the primary.
#[derive(Debug, Clone)]
pub struct ScaleOut {
    /// `DATABASE_READ_URL`: a replica for list queries (admin lists, audit, session lists).
    pub database_read_url: Option<Secret<String>>,
    /// `DB_BREAKER_FAILURES`: consecutive outage errors or timeouts that open the breaker.
    pub db_breaker_failures: u32,
    /// `DB_BREAKER_OPEN`: how long it refuses before a probe goes through.
    pub db_breaker_open: Duration,
    /// `DB_CALL_TIMEOUT`: a database call unanswered by then fails (and counts).
    pub db_call_timeout: Duration,
}

/// The schemes `REDIS_URL` takes: one server, Sentinel, Cluster (each also over TLS).
pub const REDIS_SCHEMES: [&str; 6] =
    ["redis://", "rediss://", "redis-sentinel://", "rediss-sentinel://", "redis-cluster://", "rediss-cluster://"];

pub(super) fn scale_out(env: &Env<'_>, database_url: Option<&str>) -> Result<ScaleOut, ConfigError> {
    let database_read_url = env.get("DATABASE_READ_URL");
    if let Some(url) = &database_read_url {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(err("DATABASE_READ_URL", "must start with postgres://"));
        }
        if database_url.is_none() {
            return Err(err(
                "DATABASE_READ_URL",
                "needs DATABASE_URL (a replica of the embedded database makes no sense)",
            ));
        }
    }
    let db_breaker_failures: u32 = env.parse_or("DB_BREAKER_FAILURES", 5)?;
    if db_breaker_failures == 0 {
        return Err(err("DB_BREAKER_FAILURES", "must be at least 1"));
    }
    Ok(ScaleOut {
        database_read_url: database_read_url.map(Secret::new),
        db_breaker_failures,
        db_breaker_open: positive("DB_BREAKER_OPEN", env.duration_or("DB_BREAKER_OPEN", Duration::from_secs(5))?)?,
        db_call_timeout: positive("DB_CALL_TIMEOUT", env.duration_or("DB_CALL_TIMEOUT", Duration::from_secs(5))?)?,
    })
}

/// Checks a `REDIS_URL`'s scheme and, for the multi-host forms, that it can be read.
pub(super) fn check_redis_url(url: &str) -> Result<(), ConfigError> {
    if !REDIS_SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
        return Err(err("REDIS_URL", "must start with redis://, redis-sentinel:// or redis-cluster:// (or rediss…)"));
    }
    crate::store::redis_url::fred_config(url).map(|_| ()).map_err(|m| err("REDIS_URL", m))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::Config;

    fn config(vars: &[(&str, &str)]) -> Result<Config, super::ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_breaker_defaults_and_bad_values_name_their_variable() {
        let c = config(&[]).unwrap();
        assert_eq!(c.scale_out.db_breaker_failures, 5);
        assert_eq!(c.scale_out.db_breaker_open.as_secs(), 5);
        assert_eq!(c.scale_out.db_call_timeout.as_secs(), 5);
        for (name, value) in [
            ("DB_BREAKER_FAILURES", "0"),
            ("DB_BREAKER_OPEN", "soon"),
            ("DB_CALL_TIMEOUT", "0s"),
            ("DATABASE_READ_URL", "mysql://replica"),
            ("REDIS_URL", "memcached://x"),
            ("REDIS_URL", "redis-sentinel://h1:26379/0"),
            ("REDIS_URL", "redis-cluster://"),
        ] {
            let error = config(&[(name, value), ("DATABASE_URL", "postgres://h/db")]).unwrap_err();
            assert_eq!(error.variable, name, "{value}: {error}");
        }
        let error = config(&[("DATABASE_READ_URL", "postgres://replica/db")]).unwrap_err();
        assert_eq!(error.variable, "DATABASE_READ_URL", "a replica needs a primary");
    }

    #[test]
    fn every_redis_form_of_the_contract_is_accepted() {
        for url in [
            "redis://127.0.0.1:6379",
            "redis-sentinel://h1:26379,h2:26379/0?sentinelServiceName=tradesage",
            "redis-cluster://h1:7000,h2:7001",
        ] {
            assert!(config(&[("REDIS_URL", url)]).is_ok(), "{url}");
        }
    }
}
