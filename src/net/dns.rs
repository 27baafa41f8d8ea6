//! Name resolution shared by the HTTP client and attribution.
//!
//! # Architecture
//! One [`Dns`] wraps one hickory resolver and a cache of [`Resolution`]s for the run (kept for
//! the records' TTL). The HTTP client resolves through [`Dns`] (it implements reqwest's
//! `Resolve`), so the address attributed to an instance is one the crawler could connect to,
//! and the address policy ([`AddressGate`]) is enforced at the only place addresses enter the
//! client. CNAME chains are kept because they reveal managed hosting and CDNs.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};

use crate::config::{self, PrivateAddresses};
use crate::error::{Error, Result};

/// What DNS said about one host name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// The name asked for, lower-cased, without trailing dot.
    pub host: String,
    /// CNAME targets in the order they were followed.
    pub cnames: Vec<String>,
    /// IPv4 then IPv6 addresses, in the order the server gave them.
    pub addresses: Vec<IpAddr>,
    /// Smallest TTL seen, seconds.
    pub ttl: u32,
    /// `NXDOMAIN`, `SERVFAIL`, `timeout`, `no address records`, or another failure.
    pub error: Option<String>,
}

/// Which addresses may be connected to.
#[derive(Debug, Clone)]
pub struct AddressGate {
    allow: PrivateAddresses,
}

impl AddressGate {
    /// A gate following `network.allow_private_addresses`.
    pub fn new(allow: PrivateAddresses) -> Self {
        AddressGate { allow }
    }

    /// `None` when `ip` may be connected to, else why not.
    pub fn check(&self, ip: IpAddr) -> Option<&'static str> {
        let why = non_public(ip)?;
        match &self.allow {
            PrivateAddresses::All(true) => None,
            PrivateAddresses::All(false) => Some(why),
            PrivateAddresses::Networks(nets) if nets.iter().any(|n| n.contains(ip)) => None,
            PrivateAddresses::Networks(_) => Some(why),
        }
    }
}

/// IPv4 blocks that are not public unicast, most specific first: every block of the IANA IPv4
/// Special-Purpose Address Registry (RFC 6890; registry as updated in 2025), plus multicast.
/// Blocks the registry marks globally reachable (AS112, AMT, anycast relays) are refused too:
/// no fediverse server lives there.
const V4_BLOCKS: &[(u32, u8, &str)] = &[
    (0x0000_0000, 8, "\"this\" network"),
    (0x0a00_0000, 8, "private"),
    (0x6440_0000, 10, "shared (carrier-grade NAT)"),
    (0x7f00_0000, 8, "loopback"),
    (0xa9fe_0000, 16, "link-local"),
    (0xac10_0000, 12, "private"),
    (0xc000_0000, 24, "reserved for IETF protocol assignments"),
    (0xc000_0200, 24, "documentation"),
    (0xc01f_c400, 24, "AS112 anycast"),
    (0xc034_c100, 24, "AMT anycast"),
    (0xc058_6300, 24, "6to4 relay anycast (deprecated)"),
    (0xc0a8_0000, 16, "private"),
    (0xc0af_3000, 24, "AS112 anycast"),
    (0xc612_0000, 15, "benchmarking"),
    (0xc633_6400, 24, "documentation"),
    (0xcb00_7100, 24, "documentation"),
    (0xe000_0000, 4, "multicast"),
    (0xffff_ffff, 32, "broadcast"),
    (0xf000_0000, 4, "reserved"),
];

/// IPv6 blocks that are not public unicast, most specific first: every block of the IANA IPv6
/// Special-Purpose Address Registry (RFC 6890; registry as updated 2025-10-09) except the
/// three that embed an IPv4 address (`::ffff:0:0/96`, `64:ff9b::/96`, `2002::/16`), which are
/// judged by that address; plus deprecated forms (IPv4-compatible, site-local) and multicast.
/// Anything outside global unicast `2000::/3` is refused as well.
const V6_BLOCKS: &[(u128, u8, &str)] = &[
    (0x0000_0000_0000_0000_0000_0000_0000_0001, 128, "loopback"),
    (0, 128, "unspecified"),
    (0, 96, "IPv4-compatible (deprecated)"),
    (0x0064_ff9b_0001 << 80, 48, "NAT64 local-use"),
    (0x0100 << 112, 64, "discard-only"),
    (0x0100_0000_0000_0001 << 64, 64, "dummy prefix"),
    (0x2001 << 112, 32, "Teredo"),
    (0x2001_0002_0000 << 80, 48, "benchmarking"),
    (0x2001_0003 << 96, 32, "AMT anycast"),
    (0x2001_0004_0112 << 80, 48, "AS112 anycast"),
    (0x2001_0010 << 96, 28, "ORCHID (deprecated)"),
    (0x2001_0020 << 96, 28, "ORCHIDv2"),
    (0x2001_0030 << 96, 28, "drone remote ID tags"),
    (0x2001 << 112, 23, "reserved for IETF protocol assignments"),
    (0x2001_0db8 << 96, 32, "documentation"),
    (0x2620_004f_8000 << 80, 48, "AS112 anycast"),
    (0x3fff << 112, 20, "documentation"),
    (0x5f00 << 112, 16, "segment routing (SRv6)"),
    (0xfc00 << 112, 7, "private (unique local)"),
    (0xfe80 << 112, 10, "link-local"),
    (0xfec0 << 112, 10, "site-local (deprecated)"),
    (0xff00 << 112, 8, "multicast"),
];

/// Whether `addr` lies in `net/len`.
fn in_block<T: PrefixMask>(addr: T, net: T, len: u8) -> bool {
    addr & T::prefix_mask(len) == net
}

/// Address integers and their prefix masks.
trait PrefixMask: Copy + PartialEq + std::ops::BitAnd<Output = Self> {
    /// Ones in the first `len` bits, zeros after (no overflow for any `len`).
    fn prefix_mask(len: u8) -> Self;
}

impl PrefixMask for u32 {
    fn prefix_mask(len: u8) -> Self {
        !u32::MAX.checked_shr(u32::from(len)).unwrap_or(0)
    }
}

impl PrefixMask for u128 {
    fn prefix_mask(len: u8) -> Self {
        !u128::MAX.checked_shr(u32::from(len)).unwrap_or(0)
    }
}

/// Why an address is not a public unicast address, if it is not. Forms embedding an IPv4
/// address (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that address.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let a = u32::from(v4);
    V4_BLOCKS
        .iter()
        .find(|(net, len, _)| in_block(a, *net, *len))
        .map(|b| b.2)
}

fn non_public_v6(v6: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(v6) {
        return non_public_v4(v4);
    }
    let a = u128::from(v6);
    if let Some(b) = V6_BLOCKS.iter().find(|(net, len, _)| in_block(a, *net, *len)) {
        return Some(b.2);
    }
    (!in_block(a, 0x2000 << 112, 3)).then_some("reserved (not global unicast)")
}

/// The IPv4 address inside an IPv4-mapped, NAT64 (`64:ff9b::/96`) or 6to4 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let a = u128::from(v6);
    let low32 = Ipv4Addr::from((a & 0xffff_ffff) as u32);
    if in_block(a, 0xffff << 32, 96) || in_block(a, 0x0064_ff9b << 96, 96) {
        return Some(low32);
    }
    in_block(a, 0x2002 << 112, 16).then(|| Ipv4Addr::from(((a >> 80) & 0xffff_ffff) as u32))
}

struct Cached {
    resolution: Resolution,
    expires: Instant,
}

/// The run's resolver.
pub struct Dns {
    resolver: TokioResolver,
    cache: Mutex<HashMap<String, Cached>>,
    gate: AddressGate,
}

impl Dns {
    /// Build the resolver from `[dns]` (system nameservers when the list is empty).
    ///
    /// # Errors
    /// [`Error::Dns`] when the system configuration cannot be read, [`Error::ConfigValue`] for
    /// a bad nameserver entry.
    pub fn new(cfg: &config::Dns, gate: AddressGate) -> Result<Self> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if cfg.nameservers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| Error::Dns {
                host: "/etc/resolv.conf".into(),
                message: e.to_string(),
            })?
        } else {
            let mut rc = ResolverConfig::default();
            for ns in &cfg.nameservers {
                let sa = config::parse_nameserver(ns)?;
                let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
                for c in &mut ns.connections {
                    c.port = sa.port();
                }
                rc.add_name_server(ns);
            }
            let mut b = TokioResolver::builder_with_config(rc, provider);
            b.options_mut().use_hosts_file = ResolveHosts::Never;
            b
        };
        let opts = builder.options_mut();
        opts.timeout = config::seconds(cfg.timeout_secs);
        opts.attempts = cfg.attempts.max(1);
        opts.preserve_intermediates = true;
        opts.ndots = 0;
        let resolver = builder.build().map_err(|e| Error::Dns {
            host: "resolver".into(),
            message: e.to_string(),
        })?;
        Ok(Dns {
            resolver,
            cache: Mutex::new(HashMap::new()),
            gate,
        })
    }

    /// The address policy this resolver enforces for connections.
    pub fn gate(&self) -> &AddressGate {
        &self.gate
    }

    /// A and AAAA records of `host`, following CNAMEs; cached for the records' TTL.
    pub async fn resolve(&self, host: &str) -> Resolution {
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = key.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Resolution {
                host: key,
                cnames: vec![],
                addresses: vec![ip],
                ttl: u32::MAX,
                error: None,
            };
        }
        if let Some(hit) = self.cached(&key) {
            return hit;
        }
        let resolution = self.query_addresses(&key).await;
        let ttl = Duration::from_secs(u64::from(resolution.ttl.clamp(1, 86_400)));
        let mut cache = self
            .cache
            .lock()
            .expect("DNS cache lock is never poisoned: no panics while held");
        cache.insert(
            key,
            Cached {
                resolution: resolution.clone(),
                expires: Instant::now() + ttl,
            },
        );
        resolution
    }

    fn cached(&self, key: &str) -> Option<Resolution> {
        let cache = self
            .cache
            .lock()
            .expect("DNS cache lock is never poisoned: no panics while held");
        cache
            .get(key)
            .filter(|c| c.expires > Instant::now())
            .map(|c| c.resolution.clone())
    }

    async fn query_addresses(&self, host: &str) -> Resolution {
        let fqdn = format!("{host}.");
        let (a, aaaa) = tokio::join!(
            self.resolver.lookup(fqdn.as_str(), RecordType::A),
            self.resolver.lookup(fqdn.as_str(), RecordType::AAAA)
        );
        let mut res = Resolution {
            host: host.to_string(),
            cnames: vec![],
            addresses: vec![],
            ttl: u32::MAX,
            error: None,
        };
        let mut errors = vec![];
        for lookup in [a, aaaa] {
            match lookup {
                Ok(l) => {
                    for r in l.answers() {
                        res.ttl = res.ttl.min(r.ttl);
                        match &r.data {
                            RData::A(a) => res.addresses.push(IpAddr::V4(a.0)),
                            RData::AAAA(a) => res.addresses.push(IpAddr::V6(a.0)),
                            RData::CNAME(c) => {
                                let target = c.0.to_ascii().trim_end_matches('.').to_ascii_lowercase();
                                if !res.cnames.contains(&target) {
                                    res.cnames.push(target);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) => errors.push(classify(&e)),
            }
        }
        if res.addresses.is_empty() {
            res.error = Some(pick_error(&errors));
            res.ttl = res.ttl.min(60);
        }
        res
    }

    /// The answer records of one query, as record data.
    async fn records(&self, name: &str, kind: RecordType) -> Result<Vec<RData>> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = self
            .resolver
            .lookup(fqdn.as_str(), kind)
            .await
            .map_err(|e| Error::Dns {
                host: name.to_string(),
                message: classify(&e),
            })?;
        Ok(lookup.answers().iter().map(|r| r.data.clone()).collect())
    }

    /// TXT records of `name`, each record's strings joined.
    ///
    /// # Errors
    /// [`Error::Dns`] with the classified failure.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>> {
        let records = self.records(name, RecordType::TXT).await?;
        Ok(records
            .iter()
            .filter_map(|d| match d {
                RData::TXT(t) => Some(t.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect()),
                _ => None,
            })
            .collect())
    }

    /// MX records of `name` as (preference, exchange host), lowest preference first.
    ///
    /// # Errors
    /// [`Error::Dns`] with the classified failure.
    pub async fn mx(&self, name: &str) -> Result<Vec<(u16, String)>> {
        let records = self.records(name, RecordType::MX).await?;
        let mut out: Vec<(u16, String)> = records
            .iter()
            .filter_map(|d| match d {
                RData::MX(mx) => Some((
                    mx.preference,
                    mx.exchange.to_ascii().trim_end_matches('.').to_ascii_lowercase(),
                )),
                _ => None,
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Addresses of `host` that the gate lets the client connect to.
    ///
    /// # Errors
    /// [`Error::Dns`] when resolution failed, [`Error::Refused`] when every address is barred.
    pub async fn connectable(&self, host: &str) -> Result<Vec<IpAddr>> {
        let res = self.resolve(host).await;
        if let Some(e) = res.error {
            return Err(Error::Dns {
                host: host.to_string(),
                message: e,
            });
        }
        let mut refused = vec![];
        let ok: Vec<IpAddr> = res
            .addresses
            .iter()
            .copied()
            .filter(|ip| match self.gate.check(*ip) {
                None => true,
                Some(why) => {
                    refused.push(format!("{ip} is {why}"));
                    false
                }
            })
            .collect();
        if ok.is_empty() {
            return Err(Error::Refused {
                url: host.to_string(),
                reason: format!(
                    "{} (network.allow_private_addresses does not allow it)",
                    refused.join(", ")
                ),
            });
        }
        Ok(ok)
    }
}

fn classify(e: &NetError) -> String {
    if e.is_nx_domain() {
        return "NXDOMAIN".into();
    }
    if e.is_no_records_found() {
        return "no address records".into();
    }
    match e {
        NetError::Timeout => "timeout".into(),
        NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(ResponseCode::ServFail)) => "SERVFAIL".into(),
        NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(rc)) => rc.to_string(),
        other => other.to_string(),
    }
}

fn pick_error(errors: &[String]) -> String {
    for preferred in ["NXDOMAIN", "SERVFAIL", "timeout"] {
        if errors.iter().any(|e| e == preferred) {
            return preferred.into();
        }
    }
    errors
        .iter()
        .find(|e| e.as_str() != "no address records")
        .or(errors.first())
        .cloned()
        .unwrap_or_else(|| "no address records".into())
}

/// The resolver as reqwest sees it: every connection's addresses pass the gate.
#[derive(Clone)]
pub struct ClientResolver(pub Arc<Dns>);

impl reqwest::dns::Resolve for ClientResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let dns = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = dns.connectable(&host).await?;
            // reqwest puts the URL's port on each address.
            let addrs: reqwest::dns::Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (IPv4 registry
    /// as updated in 2025, IPv6 registry as updated 2025-10-09), one sample address each, and
    /// the verdict; then the forms outside the registries (multicast, deprecated, embedded
    /// IPv4) and public addresses that must stay allowed.
    const VERDICTS: &[(&str, Option<&str>)] = &[
        // IPv4 Special-Purpose Address Registry.
        ("0.0.0.0", Some("\"this\" network")),
        ("0.1.2.3", Some("\"this\" network")),
        ("10.1.2.3", Some("private")),
        ("100.64.0.1", Some("shared (carrier-grade NAT)")),
        ("100.127.255.254", Some("shared (carrier-grade NAT)")),
        ("127.0.0.1", Some("loopback")),
        ("169.254.169.254", Some("link-local")),
        ("172.16.0.1", Some("private")),
        ("172.31.255.1", Some("private")),
        ("192.0.0.1", Some("reserved for IETF protocol assignments")),
        ("192.0.0.8", Some("reserved for IETF protocol assignments")),
        ("192.0.0.9", Some("reserved for IETF protocol assignments")),
        ("192.0.0.10", Some("reserved for IETF protocol assignments")),
        ("192.0.0.170", Some("reserved for IETF protocol assignments")),
        ("192.0.0.171", Some("reserved for IETF protocol assignments")),
        ("192.0.2.1", Some("documentation")),
        ("192.31.196.1", Some("AS112 anycast")),
        ("192.52.193.1", Some("AMT anycast")),
        ("192.88.99.1", Some("6to4 relay anycast (deprecated)")),
        ("192.88.99.2", Some("6to4 relay anycast (deprecated)")),
        ("192.168.1.1", Some("private")),
        ("192.175.48.1", Some("AS112 anycast")),
        ("198.18.0.1", Some("benchmarking")),
        ("198.19.255.1", Some("benchmarking")),
        ("198.51.100.7", Some("documentation")),
        ("203.0.113.7", Some("documentation")),
        ("240.0.0.1", Some("reserved")),
        ("255.255.255.254", Some("reserved")),
        ("255.255.255.255", Some("broadcast")),
        ("224.0.0.1", Some("multicast")),
        ("239.255.255.250", Some("multicast")),
        // IPv6 Special-Purpose Address Registry.
        ("::1", Some("loopback")),
        ("::", Some("unspecified")),
        ("::ffff:10.0.0.1", Some("private")),
        ("::ffff:127.0.0.1", Some("loopback")),
        ("64:ff9b::10.0.0.1", Some("private")),
        ("64:ff9b::169.254.169.254", Some("link-local")),
        ("64:ff9b:1::a00:1", Some("NAT64 local-use")),
        ("64:ff9b:1:ffff::1", Some("NAT64 local-use")),
        ("100::1", Some("discard-only")),
        ("100:0:0:1::1", Some("dummy prefix")),
        ("2001::1", Some("Teredo")),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some("Teredo")),
        ("2001:1::1", Some("reserved for IETF protocol assignments")),
        ("2001:1::2", Some("reserved for IETF protocol assignments")),
        ("2001:1::3", Some("reserved for IETF protocol assignments")),
        ("2001:2::1", Some("benchmarking")),
        ("2001:3::1", Some("AMT anycast")),
        ("2001:4:112::1", Some("AS112 anycast")),
        ("2001:10::1", Some("ORCHID (deprecated)")),
        ("2001:20::1", Some("ORCHIDv2")),
        ("2001:30::1", Some("drone remote ID tags")),
        ("2001:1ff::1", Some("reserved for IETF protocol assignments")),
        ("2001:db8::1", Some("documentation")),
        ("2002:a00:1::1", Some("private")),
        ("2002:7f00:1::1", Some("loopback")),
        ("2620:4f:8000::1", Some("AS112 anycast")),
        ("3fff::1", Some("documentation")),
        ("3fff:fff::1", Some("documentation")),
        ("5f00::1", Some("segment routing (SRv6)")),
        ("fc00::1", Some("private (unique local)")),
        ("fd00::1", Some("private (unique local)")),
        ("fe80::1", Some("link-local")),
        // Outside the registries: deprecated forms, multicast, unassigned space.
        ("::1.2.3.4", Some("IPv4-compatible (deprecated)")),
        ("::127.0.0.1", Some("IPv4-compatible (deprecated)")),
        ("::ffff:0:a00:1", Some("reserved (not global unicast)")),
        ("fec0::1", Some("site-local (deprecated)")),
        ("ff02::1", Some("multicast")),
        ("4000::1", Some("reserved (not global unicast)")),
        // Public addresses stay allowed.
        ("1.1.1.1", None),
        ("8.8.8.8", None),
        ("192.0.1.1", None),
        ("100.128.0.1", None),
        ("2606:4700::1111", None),
        ("2001:200::1", None),
        ("3fff:1000::1", None),
        ("2002:101:101::1", None),
        ("64:ff9b::1.1.1.1", None),
        ("::ffff:1.1.1.1", None),
    ];

    #[test]
    fn every_special_purpose_block_is_refused() {
        for (ip, want) in VERDICTS {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(non_public(addr), *want, "{ip}");
        }
    }

    #[test]
    fn gate_allows_listed_networks_only() {
        let gate = AddressGate::new(PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()]));
        assert_eq!(gate.check("127.3.0.9".parse().unwrap()), None);
        assert_eq!(gate.check("10.0.0.1".parse().unwrap()), Some("private"));
        assert_eq!(gate.check("8.8.8.8".parse().unwrap()), None);
        let strict = AddressGate::new(PrivateAddresses::All(false));
        assert_eq!(strict.check("127.0.0.1".parse().unwrap()), Some("loopback"));
    }
}
