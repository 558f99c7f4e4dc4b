//! `REDIS_URL` in the contract's forms (API.md §5.5) to a fred configuration. The contract
//! lists several hosts in the authority (`redis-sentinel://h1:26379,h2:26379/0?sentinelServiceName=NAME`,
//! `redis-cluster://h1:7000,h2:7001`); fred reads one host there and the others as `node`
//! query parameters, so the extra hosts are moved there.

use fred::prelude::Config;

/// The fred configuration of `url`; the error says what is wrong without repeating the URL
/// (it may hold a password).
pub fn fred_config(url: &str) -> Result<Config, String> {
    let (scheme, rest) = url.split_once("://").ok_or("not a URL")?;
    let sentinel = scheme.ends_with("-sentinel");
    let cluster = scheme.ends_with("-cluster");
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((authority, path)) => (authority, Some(path)),
        None => (before_query, None),
    };
    let (credentials, hosts) = match authority.rsplit_once('@') {
        Some((credentials, hosts)) => (Some(credentials), hosts),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if hosts.iter().any(|h| h.is_empty()) {
        return Err("a host is missing".into());
    }
    if hosts.len() > 1 && !(sentinel || cluster) {
        return Err("several hosts need redis-sentinel:// or redis-cluster://".into());
    }
    if sentinel && !query.is_some_and(|q| q.split('&').any(|p| p.starts_with("sentinelServiceName="))) {
        return Err("a Sentinel URL needs ?sentinelServiceName=NAME".into());
    }
    let mut fred_url = format!("{scheme}://");
    if let Some(credentials) = credentials {
        fred_url.push_str(credentials);
        fred_url.push('@');
    }
    fred_url.push_str(hosts[0]);
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        fred_url.push('/');
        fred_url.push_str(path);
    }
    let mut params: Vec<String> = hosts[1..].iter().map(|h| format!("node={h}")).collect();
    params.extend(query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()).map(str::to_owned));
    if !params.is_empty() {
        fred_url.push('?');
        fred_url.push_str(&params.join("&"));
    }
    // fred's message may quote the URL; only its kind is kept.
    Config::from_url(&fred_url).map_err(|e| format!("not a Redis URL fred can use ({:?})", e.kind()))
}

#[cfg(test)]
mod tests {
    use fred::prelude::ServerConfig;

    use super::*;

    fn hosts(config: &Config) -> Vec<String> {
        let mut hosts: Vec<String> = config.server.hosts().iter().map(|s| format!("{}:{}", s.host, s.port)).collect();
        hosts.sort();
        hosts
    }

    #[test]
    fn a_sentinel_url_lists_every_sentinel_and_the_service() {
        let config = fred_config("redis-sentinel://h1:26379,h2:26380/2?sentinelServiceName=tradesage").unwrap();
        assert_eq!(hosts(&config), ["h1:26379", "h2:26380"]);
        assert_eq!(config.database, Some(2));
        match &config.server {
            ServerConfig::Sentinel { service_name, .. } => assert_eq!(service_name, "tradesage"),
            other => panic!("not sentinel: {other:?}"),
        }
    }

    #[test]
    fn a_cluster_url_lists_every_seed_node() {
        let config = fred_config("redis-cluster://user:pw@h1:7000,h2:7001,h3:7002").unwrap();
        assert_eq!(hosts(&config), ["h1:7000", "h2:7001", "h3:7002"]);
        assert!(matches!(config.server, ServerConfig::Clustered { .. }));
        assert_eq!(config.password.as_deref(), Some("pw"));
    }

    #[test]
    fn one_server_stays_as_it_was_and_bad_forms_are_named() {
        let config = fred_config("redis://127.0.0.1:6379/1").unwrap();
        assert!(matches!(config.server, ServerConfig::Centralized { .. }));
        assert_eq!(config.database, Some(1));
        assert!(fred_config("redis-sentinel://h1:26379/0").unwrap_err().contains("sentinelServiceName"));
        assert!(fred_config("redis://h1:6379,h2:6379").unwrap_err().contains("several hosts"));
        assert!(fred_config("redis-cluster://h1:7000,,h2:7001").is_err());
        let error = fred_config("redis://user:secret@[bad").unwrap_err();
        assert!(!error.contains("secret"), "{error}");
    }
}
