//! Name resolution shared by the HTTP client and attribution.
//!
//! # Architecture
//! One [`Dns`] wraps one hickory resolver and a cache of [`Resolution`]s for the run (kept for
//! the records' TTL). The HTTP client resolves through [`Dns`] (it implements reqwest's
//! `Resolve`), so the address attributed to an instance is one the crawler could connect to,
//! and the address policy ([`AddressGate`]) is enforced at the only place addresses enter the
//! client. CNAME chains are kept because they reveal managed hosting and CDNs.
//!
//! Every query goes through one place ([`Dns::ask`]), which tells the nameserver's `health`
//! how it ended: after `dns.not_answering_after` queries in a row that timed out with no
//! answer at all, the nameserver is taken for not answering and the run's remaining queries
//! fail at once as [`DNS_NOT_ANSWERING`] instead of each waiting `attempts × timeout_secs`
//! ([`Dns::not_answering`] says so, for the one line a run ends with).
//!
//! `dns.attempts` counts tries, the first included; hickory's `attempts` counts the retries
//! after the first (its `RetryDnsHandle` sends once, then once more per attempt left), so
//! the resolver is given one less.
//!
//! The policy itself, and the special-purpose blocks it refuses, are in `gate`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};

use crate::config;
pub use crate::error::DNS_NOT_ANSWERING;
use crate::error::{Error, Result};

/// The failure of a name that does not exist.
pub const NXDOMAIN: &str = "NXDOMAIN";

/// The failure of a name that exists but has none of the records asked for.
pub const NO_RECORDS: &str = "no address records";

/// Whether a DNS failure says the name does not exist or has no records ([`NXDOMAIN`],
/// [`NO_RECORDS`]): an answer, as against a failure to get one (SERVFAIL, timeout).
pub fn is_absent(message: &str) -> bool {
    message == NXDOMAIN || message == NO_RECORDS
}

mod gate;
mod health;

use health::{Health, Heard, Verdict};

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
    health: Health,
    /// The nameservers asked, `ip:port`.
    nameservers: Vec<String>,
}

/// A nameserver taken for not answering (see [`Dns::not_answering`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnswering {
    /// The nameservers asked, `ip:port`.
    pub nameservers: Vec<String>,
    /// The queries in a row that timed out before it was (`dns.not_answering_after`).
    pub after: usize,
    /// How long nothing answered before it was ([`quiet_for`]).
    pub quiet: Duration,
    /// Queries failed at once since.
    pub cut: usize,
}

impl NotAnswering {
    /// The nameservers `cfg` has a run ask, taken for not answering after its
    /// `not_answering_after` (for a caller that only saw the failures it left).
    pub fn of(cfg: &config::Dns) -> Self {
        NotAnswering {
            nameservers: nameservers(cfg).unwrap_or_else(|_| cfg.nameservers.clone()),
            after: cfg.not_answering_after,
            quiet: quiet_for(cfg),
            cut: 0,
        }
    }

    /// `nameserver 127.0.0.1:53 not answering (5 DNS queries in a row timed out, no answer
    /// for 20 s; the rest failed at once)`.
    pub fn sentence(&self) -> String {
        format!(
            "{} {} not answering ({} DNS queries in a row timed out, no answer for {} s; the rest failed at once)",
            if self.nameservers.len() == 1 {
                "nameserver"
            } else {
                "nameservers"
            },
            self.nameservers.join(", "),
            self.after,
            self.quiet.as_secs_f64()
        )
    }
}

/// Names asked of DNS that did not resolve, counted by DNS answer (`NXDOMAIN`, `SERVFAIL`,
/// `timeout`, [`DNS_NOT_ANSWERING`] …), for the one warning line a run ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unresolved {
    /// Names asked in all.
    pub of: usize,
    /// Names that did not resolve, by answer.
    pub by: std::collections::BTreeMap<String, usize>,
    /// What those names hold, when the caller counts something else (`5 of 12 contacts`),
    /// said beside them.
    pub holding: Option<String>,
}

impl Unresolved {
    /// Count one name that did not resolve, for `answer`.
    pub fn add(&mut self, answer: &str) {
        *self.by.entry(answer.to_string()).or_default() += 1;
    }

    /// Names that did not resolve.
    pub fn count(&self) -> usize {
        self.by.values().sum()
    }

    /// `12 of 150 domains did not resolve: 9 NXDOMAIN, 2 SERVFAIL, 1 timeout` (most first),
    /// with `noun` in the singular and `nouns` in the plural, and what they hold in brackets
    /// when [`Unresolved::holding`] says (`12 of 150 domains did not resolve (20 of 300
    /// contacts): …`).
    pub fn sentence(&self, noun: &str, nouns: &str) -> String {
        let mut by: Vec<(&String, &usize)> = self.by.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let kinds: Vec<String> = by.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let n = self.count();
        let holding = self.holding.as_ref().map(|h| format!(" ({h})")).unwrap_or_default();
        format!(
            "{n} of {} {} did not resolve{holding}: {}",
            self.of,
            if self.of == 1 { noun } else { nouns },
            kinds.join(", ")
        )
    }
}

/// How long nothing may answer before a nameserver is taken for not answering: twice the
/// time one query may take (`attempts × timeout_secs`), so that a second round of queries,
/// started after the first timed out, went unanswered too (see `health`).
pub fn quiet_for(cfg: &config::Dns) -> Duration {
    config::seconds(cfg.timeout_secs)
        .saturating_mul(2)
        .saturating_mul(u32::try_from(cfg.attempts.max(1)).unwrap_or(u32::MAX))
}

/// The nameservers `cfg` names (else the system's, from `/etc/resolv.conf`) as hickory's
/// configuration, with the options read from the system's when it is the system's.
fn system_or_listed(cfg: &config::Dns) -> Result<(ResolverConfig, Option<ResolverOpts>)> {
    if cfg.nameservers.is_empty() {
        let (rc, opts) = hickory_resolver::system_conf::read_system_conf().map_err(|e| Error::Dns {
            host: "/etc/resolv.conf".into(),
            message: e.to_string(),
        })?;
        return Ok((rc, Some(opts)));
    }
    let mut rc = ResolverConfig::default();
    for ns in &cfg.nameservers {
        let sa = config::parse_nameserver(ns)?;
        let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
        for c in &mut ns.connections {
            c.port = sa.port();
        }
        rc.add_name_server(ns);
    }
    Ok((rc, None))
}

/// The nameservers `cfg` has the run ask, `ip:port` (the system's when it lists none).
///
/// # Errors
/// As [`Dns::new`].
pub fn nameservers(cfg: &config::Dns) -> Result<Vec<String>> {
    Ok(names(&system_or_listed(cfg)?.0))
}

fn names(rc: &ResolverConfig) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for ns in rc.name_servers() {
        let port = ns.connections.first().map_or(53, |c| c.port);
        let name = SocketAddr::new(ns.ip, port).to_string();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

impl Dns {
    /// Build the resolver from `[dns]` (system nameservers when the list is empty).
    ///
    /// # Errors
    /// [`Error::Dns`] when the system configuration cannot be read, [`Error::ConfigValue`] for
    /// a bad nameserver entry.
    pub fn new(cfg: &config::Dns, gate: AddressGate) -> Result<Self> {
        let provider = TokioRuntimeProvider::default();
        let (rc, system) = system_or_listed(cfg)?;
        let nameservers = names(&rc);
        let mut builder = TokioResolver::builder_with_config(rc, provider);
        match system {
            Some(opts) => *builder.options_mut() = opts,
            None => builder.options_mut().use_hosts_file = ResolveHosts::Never,
        }
        let opts = builder.options_mut();
        opts.timeout = config::seconds(cfg.timeout_secs);
        // Tries (ours, validated from 1) to retries after the first (hickory's).
        opts.attempts = cfg.attempts.max(1) - 1;
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
            health: Health::new(cfg.not_answering_after, quiet_for(cfg)),
            nameservers,
        })
    }

    /// The nameserver taken for not answering, if it was during this run.
    pub fn not_answering(&self) -> Option<NotAnswering> {
        self.health.dead().then(|| NotAnswering {
            nameservers: self.nameservers.clone(),
            after: self.health.limit(),
            quiet: self.health.quiet(),
            cut: self.health.cut(),
        })
    }

    /// One query, told to the nameserver's health; failed at once (as [`DNS_NOT_ANSWERING`])
    /// once the nameserver is taken for not answering, even while waiting. A timeout that
    /// took it for not answering (or ended after) says so too.
    async fn ask(&self, fqdn: &str, kind: RecordType) -> std::result::Result<Lookup, String> {
        let not_answering = || {
            self.health.cut_one();
            Err(DNS_NOT_ANSWERING.to_string())
        };
        if self.health.dead() {
            return not_answering();
        }
        tokio::select! {
            biased;
            r = self.resolver.lookup(fqdn, kind) => {
                let verdict = self.health.heard(match &r {
                    Ok(_) | Err(NetError::Dns(_)) => Heard::Answer,
                    Err(NetError::Timeout) => Heard::Silence,
                    Err(_) => Heard::Other,
                });
                if verdict == Verdict::Probe {
                    // A question every working nameserver answers (NXDOMAIN or a refusal is
                    // an answer too): silence here gives the nameserver up.
                    let probe = self.resolver.lookup(".", RecordType::NS).await;
                    self.health.probed(!matches!(probe, Err(NetError::Timeout)));
                }
                match r {
                    // The timeout that took the nameserver for not answering, or one that
                    // ended as it was: said as such.
                    Err(NetError::Timeout) if self.health.dead() => Err(DNS_NOT_ANSWERING.to_string()),
                    r => r.map_err(|e| classify(&e)),
                }
            }
            () = self.health.until_dead() => not_answering(),
        }
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

    /// Let go of the cached answer for `host` (its last connection made and attributed).
    pub fn forget(&self, host: &str) {
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        self.cache
            .lock()
            .expect("DNS cache lock is never poisoned: no panics while held")
            .remove(&key);
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
            self.ask(fqdn.as_str(), RecordType::A),
            self.ask(fqdn.as_str(), RecordType::AAAA)
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
                Err(e) => errors.push(e),
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
        let lookup = self.ask(fqdn.as_str(), kind).await.map_err(|message| Error::Dns {
            host: name.to_string(),
            message,
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

    /// The first address of `host` and why the gate bars it, when it bars every address
    /// `host` resolves to (the client cannot connect to it); `None` when one is allowed or
    /// the name does not resolve (that failure is the connection's to report).
    pub async fn barred(&self, host: &str) -> Option<(IpAddr, &'static str)> {
        let res = self.resolve(host).await;
        let (ok, refused) = self.sorted(&res.addresses);
        (res.error.is_none() && ok.is_empty())
            .then(|| refused.first().copied())
            .flatten()
    }

    /// `addresses` the gate allows, and those it bars with why.
    fn sorted(&self, addresses: &[IpAddr]) -> (Vec<IpAddr>, Vec<(IpAddr, &'static str)>) {
        let mut refused = vec![];
        let ok = addresses
            .iter()
            .copied()
            .filter(|ip| match self.gate.check(*ip) {
                None => true,
                Some(why) => {
                    refused.push((*ip, why));
                    false
                }
            })
            .collect();
        (ok, refused)
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
        let (ok, refused) = self.sorted(&res.addresses);
        let refused: Vec<String> = refused.iter().map(|(ip, why)| format!("{ip} is {why}")).collect();
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
        return NXDOMAIN.into();
    }
    if e.is_no_records_found() {
        return NO_RECORDS.into();
    }
    match e {
        NetError::Timeout => "timeout".into(),
        NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(ResponseCode::ServFail)) => "SERVFAIL".into(),
        NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(rc)) => rc.to_string(),
        other => other.to_string(),
    }
}

fn pick_error(errors: &[String]) -> String {
    for preferred in [NXDOMAIN, "SERVFAIL", DNS_NOT_ANSWERING, "timeout"] {
        if errors.iter().any(|e| e == preferred) {
            return preferred.into();
        }
    }
    errors
        .iter()
        .find(|e| e.as_str() != NO_RECORDS)
        .or(errors.first())
        .cloned()
        .unwrap_or_else(|| NO_RECORDS.into())
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
