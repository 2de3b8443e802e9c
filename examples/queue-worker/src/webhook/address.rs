//! Where webhooks may go. A webhook URL is refused at submission unless it is a plain
//! `http(s)` URL without credentials whose host is, or resolves only to, public addresses;
//! every delivery checks again through its own DNS resolver (a name that resolved publicly at
//! submission may not point inside later), and redirects are never followed. Loopback,
//! private, link-local, shared, multicast, unspecified, documentation and other reserved
//! ranges are refused, also when embedded in IPv6 (mapped, NAT64, 6to4) or written in
//! shorthand (`0x7f000001`, `127.1`: URL parsing normalises those). The operator can allow
//! them (`STENOGRAPH_WEBHOOK_ALLOW_PRIVATE`), e.g. for receivers inside the cluster.
//!
//! Written here rather than taken from a crate: `std`'s `is_global` is unstable, and the
//! crates that offer it do not cover the IPv6 embeddings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Longest webhook URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_public(v4),
        IpAddr::V6(v6) => v6_public(v6),
    }
}

fn v4_public(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network"
        || a == 10
        || a == 127
        || a >= 224 // multicast, reserved, broadcast
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // protocol assignments, documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113);
    !reserved
}

fn v6_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_public(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // NAT64's well-known prefix 64:ff9b::/96 reaches the IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_public(embedded(s[6], s[7]));
    }
    // 6to4, 2002::/16, reaches the IPv4 address in bits 16–48.
    if s[0] == 0x2002 {
        return v4_public(embedded(s[1], s[2]));
    }
    // Only 2000::/3 is global unicast; inside it, protocol assignments (Teredo, ORCHID…)
    // and documentation ranges are not destinations.
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    let reserved =
        (s[0] == 0x2001 && (s[1] < 0x200 || s[1] == 0xdb8)) || (s[0] == 0x3fff && s[1] < 0x1000);
    global_unicast && !reserved
}

/// Checks a webhook URL at submission; returns it normalised, or why it is refused.
pub async fn check_url(url: &str, allow_private: bool) -> Result<String, String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!("webhook_url is longer than {MAX_URL_LEN} bytes"));
    }
    let parsed = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or("webhook_url must be an http(s) URL")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("webhook_url must not contain credentials (user:password@)".into());
    }
    if allow_private {
        return Ok(parsed.to_string());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match parsed.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(name)) => resolve(name, port)
            .await
            .map_err(|()| format!("webhook host '{name}' does not resolve"))?
            .into_iter()
            .map(|a| a.ip())
            .collect(),
        None => Vec::new(),
    };
    if addrs.is_empty() || !addrs.iter().all(|ip| is_public(*ip)) {
        return Err(
            "webhook_url must reach a public address (loopback, private, link-local and \
             other reserved addresses are refused)"
                .into(),
        );
    }
    Ok(parsed.to_string())
}

/// Whether a delivery to `url` may go ahead as far as its literal host says (names are checked
/// by [`GuardedResolver`] when the request connects).
pub fn literal_allowed(url: &str, allow_private: bool) -> bool {
    if allow_private {
        return true;
    }
    match Url::parse(url).ok().as_ref().and_then(Url::host) {
        Some(Host::Ipv4(ip)) => v4_public(ip),
        Some(Host::Ipv6(ip)) => v6_public(ip),
        Some(Host::Domain(_)) => true,
        None => false,
    }
}

async fn resolve(name: &str, port: u16) -> Result<Vec<SocketAddr>, ()> {
    let lookup = tokio::net::lookup_host((name, port));
    match tokio::time::timeout(Duration::from_secs(5), lookup).await {
        Ok(Ok(addrs)) => Ok(addrs.collect()),
        _ => Err(()),
    }
}

/// The error a delivery gets when its host resolves to a refused address.
#[derive(Debug, thiserror::Error)]
#[error("the webhook host resolves to a non-public address")]
pub struct Refused;

/// The webhook client's DNS resolver: resolves with the system resolver and fails the
/// connection when any address is not public (unless allowed).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Let non-public addresses through.
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let name = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve(&name, 0)
                .await
                .map_err(|()| format!("webhook host '{name}' does not resolve"))?;
            if addrs.is_empty() {
                return Err(format!("webhook host '{name}' does not resolve").into());
            }
            if !allow_private && !addrs.iter().all(|a| is_public(a.ip())) {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ranges_are_not_public() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.10",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.0.1",
            "192.0.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn submission_refuses_private_hosts_in_every_spelling() {
        for url in [
            "http://127.0.0.1/hook",
            "http://127.1:8080/hook",
            "http://0x7f000001/hook",
            "http://2130706433/hook",
            "http://017700000001/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/",
            "https://192.168.0.1/",
            "http://[fe80::1]/",
            "http://0.0.0.0:9090/metrics",
            "http://224.0.0.1/",
            "http://user:pass@example.com/hook",
            "http://token@example.com/hook",
            "ftp://example.com/hook",
            "file:///etc/passwd",
            "http:///nohost",
            "not a url",
            "http://does-not-exist.invalid/hook",
        ] {
            assert!(check_url(url, false).await.is_err(), "{url}");
        }
        let long = format!("http://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_url(&long, true).await.is_err());
        // Allowed by the operator: anything but credentials and non-HTTP schemes.
        assert!(check_url("http://127.0.0.1:9/x", true).await.is_ok());
        assert!(check_url("http://u:p@127.0.0.1/x", true).await.is_err());
        // A public literal passes without any lookup.
        assert_eq!(
            check_url("https://93.184.216.34/hook", false)
                .await
                .unwrap(),
            "https://93.184.216.34/hook"
        );
    }

    #[test]
    fn literal_hosts_are_checked_at_delivery() {
        assert!(!literal_allowed("http://127.0.0.1:1/x", false));
        assert!(!literal_allowed("http://[::1]:1/x", false));
        assert!(literal_allowed("http://127.0.0.1:1/x", true));
        assert!(literal_allowed("http://example.com/x", false));
        assert!(literal_allowed("http://8.8.8.8/x", false));
    }

    #[tokio::test]
    async fn the_delivery_resolver_refuses_names_that_point_inside() {
        let guarded = GuardedResolver {
            allow_private: false,
        };
        let name: Name = "localhost".parse().unwrap();
        let err = guarded.resolve(name).await.err().unwrap();
        assert!(err.downcast_ref::<Refused>().is_some(), "{err}");
        let open = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()));
    }
}
