//! The client's address: the peer, or the right-most `X-Forwarded-For` entry when the service
//! is configured to sit behind a proxy it trusts (anything to the left is client-supplied).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

pub fn client_addr(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for && let Some(forwarded) = last_forwarded_for(headers) {
        return Some(forwarded);
    }
    peer.map(|p| p.ip())
}

fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last_header = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last_entry = last_header.to_str().ok()?.rsplit(',').next()?.trim();
    last_entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| last_entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The key per-address limits count a client under: an IPv4 address as it is, an IPv6 address
/// by its /64 — the smallest block a subscriber is usually given, so rotating through its
/// 2^64 addresses earns no fresh limits. An IPv4-mapped IPv6 address counts as its IPv4.
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

/// The peer address the server recorded for this connection.
pub fn peer(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_block() {
        let key = |s: &str| limit_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn the_right_most_forwarded_entry_wins_only_when_trusted() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let h = headers(&["1.1.1.1, 2.2.2.2", "3.3.3.3"]);
        assert_eq!(client_addr(&h, Some(peer), true), "3.3.3.3".parse().ok());
        assert_eq!(client_addr(&h, Some(peer), false), Some(peer.ip()));
        let h = headers(&["1.1.1.1, 2.2.2.2"]);
        assert_eq!(client_addr(&h, Some(peer), true), "2.2.2.2".parse().ok());
        let h = headers(&["garbage"]);
        assert_eq!(client_addr(&h, Some(peer), true), Some(peer.ip()));
    }
}
