//! The values of configuration variables: durations, rates, per-route limits, the lockout
//! ladder and proxy ranges, parsed from their text with the message a bad one gets.

use std::time::Duration;

use ipnet::IpNet;

use crate::domain::lockout::LadderStep;

/// A rate: `count` requests per `per` (a second, a minute or an hour; `count` ≤ 10^7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// The largest count a rate may have (API.md §5.1); it keeps every value of a rate-limit
    /// bucket below 2^53, where Redis's Lua numbers are exact.
    pub const MAX_COUNT: u32 = 10_000_000;
}

/// A per-route limit of `RATE_LIMIT_ROUTES`, counted per client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLimit {
    /// Upper case, as in `POST`.
    pub method: String,
    /// The route as the router spells it, as in `/api/v1/orders/{id}`.
    pub path: String,
    pub rate: Rate,
}

/// Parses `90s`, `15m`, `24h`, `30d` (and `500ms`).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let value: u64 = digits.parse().map_err(|_| format!("`{raw}` is not a duration like 90s, 15m, 24h or 30d"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(value)),
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("`{raw}` is not a duration like 90s, 15m, 24h or 30d")),
    };
    value.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| format!("`{raw}` is too long"))
}

/// Parses `N/s`, `N/min`, `N/h` (1 ≤ N ≤ 10^7).
pub fn parse_rate(raw: &str) -> Result<Rate, String> {
    let bad = || format!("`{raw}` is not a rate like 600/min, 10/s or 1000/h (or `off`)");
    let (count, unit) = raw.split_once('/').ok_or_else(bad)?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    let per = match unit.trim() {
        "s" | "sec" => Duration::from_secs(1),
        "min" | "m" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3_600),
        _ => return Err(bad()),
    };
    if count == 0 || count > Rate::MAX_COUNT {
        return Err(format!("`{raw}`: the count must be from 1 to 10000000"));
    }
    Ok(Rate { count, per })
}

/// Parses `METHOD /path=RATE;…`, as in `POST /api/v1/orders=10/s;POST /api/v1/auth/refresh=60/min`.
/// Whether each route exists is checked against the router at start-up
/// (`http::check_route_limits`).
pub fn parse_route_limits(raw: &str) -> Result<Vec<RouteLimit>, String> {
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let mut limits: Vec<RouteLimit> = Vec::new();
    for entry in raw.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || format!("`{entry}` is not like `POST /api/v1/orders=10/s`");
        let (route, rate) = entry.rsplit_once('=').ok_or_else(bad)?;
        let mut words = route.split_whitespace();
        let (Some(method), Some(path), None) = (words.next(), words.next(), words.next()) else { return Err(bad()) };
        if !METHODS.contains(&method) {
            return Err(format!("`{entry}`: `{method}` is not an HTTP method in upper case"));
        }
        if !path.starts_with('/') {
            return Err(format!("`{entry}`: the path must start with /"));
        }
        let rate = parse_rate(rate.trim()).map_err(|m| format!("`{entry}`: {m}"))?;
        if limits.iter().any(|l| l.method == method && l.path == path) {
            return Err(format!("`{method} {path}` is limited twice"));
        }
        limits.push(RouteLimit { method: method.to_owned(), path: path.to_owned(), rate });
    }
    Ok(limits)
}

/// Parses `1m,5m,30m,24h,permanent`: durations, and `permanent` only as the last step.
pub fn parse_ladder(raw: &str) -> Result<Vec<LadderStep>, String> {
    let words: Vec<&str> = raw.split(',').map(str::trim).collect();
    let mut ladder = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        if *word == "permanent" {
            if i + 1 != words.len() {
                return Err("`permanent` can only be the last step".into());
            }
            ladder.push(LadderStep::Permanent);
        } else {
            let duration = parse_duration(word)?;
            let duration = chrono::Duration::from_std(duration).map_err(|_| format!("`{word}` is too long"))?;
            ladder.push(LadderStep::For(duration));
        }
    }
    if ladder.is_empty() {
        return Err("needs at least one step".into());
    }
    Ok(ladder)
}

/// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as the IPv4 range it is: client
/// addresses are compared in their IPv4 form.
pub(super) fn ipv4_mapped_as_ipv4(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map(IpNet::V4).unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_take_their_units() {
        assert_eq!(parse_duration("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_rate("10/s").unwrap().per, Duration::from_secs(1));
        assert_eq!(parse_rate("1000/h").unwrap().count, 1000);
    }
}
