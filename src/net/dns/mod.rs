//! Name resolution shared by the HTTP client and attribution.
//!
//! # Architecture
//! One [`Dns`] wraps one hickory resolver and a cache of [`Resolution`]s for the run (kept for
//! the records' TTL). The HTTP client resolves through [`Dns`] (it implements reqwest's
//! `Resolve`), so the address attributed to an instance is one the crawler could connect to,
//! and the address policy ([`AddressGate`]) is enforced at the only place addresses enter the
//! client. CNAME chains are kept because they reveal managed hosting and CDNs.
//!
//! The policy itself, and the special-purpose blocks it refuses, are in `gate`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};

use crate::config;
use crate::error::{Error, Result};

mod gate;

pub use gate::{embedded_v4, non_public, AddressGate};

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

    /// SRV records of `name` as (priority, weight, port, target), lowest priority first and
    /// the heavier first within a priority (a deterministic order, not RFC 2782's weighted
    /// draw: whohosts asks who serves a name, not which server to try now). A target of `.`
    /// ("no service", RFC 2782) is kept as an empty target.
    ///
    /// # Errors
    /// [`Error::Dns`] with the classified failure.
    pub async fn srv(&self, name: &str) -> Result<Vec<(u16, u16, u16, String)>> {
        let records = self.records(name, RecordType::SRV).await?;
        let mut out: Vec<(u16, u16, u16, String)> = records
            .iter()
            .filter_map(|d| match d {
                RData::SRV(s) => Some((
                    s.priority,
                    s.weight,
                    s.port,
                    s.target.to_ascii().trim_end_matches('.').to_ascii_lowercase(),
                )),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.3.cmp(&b.3)));
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
mod tests;
