//! Rate limits: fixed windows per person (residents, staff, admins) or, for anonymous calls, per
//! client address, which behind load balancers is read from `X-Forwarded-For` as far as the
//! configured proxies vouch for it.
use std::{net::IpAddr, time::Duration};

use ipnet::IpNet;
use poem::{Endpoint, IntoResponse, Request, Response, http::header};

use super::state_of;
use crate::{
    error::{ApiError, Code},
    services::auth::PrincipalKind,
    state::SharedState,
};

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// The address a request is counted against. The connection's own address, unless it is one of
/// `trusted` proxies: then the right-most `X-Forwarded-For` hop that is not a trusted proxy (each
/// proxy appends the address it saw, so hops to the left of the first untrusted one were written
/// by the client and prove nothing).
pub fn client_address(peer: Option<IpAddr>, forwarded: &[&str], trusted: &[IpNet]) -> String {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => continue,
            Some(ip) => return ip.to_string(),
            // Garbage written by whoever stood there: that sender is the client.
            None => return (*hop).to_owned(),
        }
    }
    // Every hop is a trusted proxy: the first one is where the request began.
    hops.first()
        .and_then(|h| parse_hop(h))
        .unwrap_or(peer)
        .to_string()
}

/// What an anonymous client's requests are counted against: its address, or for IPv6 its /64
/// (one subscriber's network: anyone with one holds millions of addresses).
fn client_key(req: &Request, trusted: &[IpNet]) -> String {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let address = client_address(peer, &forwarded, trusted);
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => ipnet::Ipv6Net::new(v6, 64)
            .map(|net| net.trunc().to_string())
            .unwrap_or(address),
        _ => address,
    }
}

/// Fixed-window limits per person (residents, staff, admins) or, for anonymous calls, per
/// client address. A cache outage lets requests through (logged): availability over strictness.
pub async fn rate_limit<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let Some(state) = state_of(&req) else {
        return ep.call(req).await.map(IntoResponse::into_response);
    };
    let path = req.uri().path();
    if !path.starts_with("/api/v1/") && !path.starts_with("/open311/") {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let limits = &state.settings.rate_limits;
    let claims = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| state.tokens.verify(t));
    let (key, limit) = match claims {
        Some(c) if c.kind == PrincipalKind::Resident => (
            format!("rl:r:{}", c.sub),
            limits.resident_requests_per_minute,
        ),
        Some(c) if path.starts_with("/api/v1/admin") => {
            (format!("rl:a:{}", c.sub), limits.admin_requests_per_minute)
        }
        Some(c) => (format!("rl:s:{}", c.sub), limits.staff_requests_per_minute),
        None => (
            format!("rl:ip:{}", client_key(&req, &limits.trusted_proxies)),
            limits.ip_requests_per_minute,
        ),
    };
    check(&state, &key, limit, Duration::from_secs(60)).await?;
    ep.call(req).await.map(IntoResponse::into_response)
}

/// Counts one hit against `key`; past `limit` in the window, a 429 with the seconds to wait.
pub async fn check(
    state: &SharedState,
    key: &str,
    limit: u64,
    window: Duration,
) -> Result<(), ApiError> {
    match state.cache.hit(key, window).await {
        Ok((count, left)) if count > limit => Err(ApiError {
            retry_after: Some(left.as_secs() + u64::from(left.subsec_nanos() > 0)),
            ..ApiError::new(Code::RateLimited).detail(crate::error::bi(
                format_args!("每 {} 秒最多 {limit} 次", window.as_secs()),
                format_args!("at most {limit} per {} s", window.as_secs()),
            ))
        }),
        Ok(_) => Ok(()),
        Err(e) => {
            state
                .metrics
                .cache_errors
                .with_label_values(&["rate_limit"])
                .inc();
            tracing::warn!(error = %e, "rate limit skipped: cache unavailable");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().filter_map(|n| n.parse().ok()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let lb = nets(&["10.0.0.0/8"]);
        // A client that writes its own first hop cannot choose its address.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4, 203.0.113.7, 10.0.0.9"], &lb),
            "203.0.113.7"
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4", "203.0.113.7"], &lb),
            "203.0.113.7"
        );
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(
            client_address(ip("198.51.100.1"), &["1.2.3.4"], &lb),
            "198.51.100.1"
        );
        // Nothing trusted configured: never the header.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4"], &[]),
            "10.0.0.2"
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &["203.0.113.7:5555"], &lb),
            "203.0.113.7"
        );
        assert_eq!(client_address(ip("10.0.0.2"), &[], &lb), "10.0.0.2");
    }
}
