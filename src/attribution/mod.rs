//! Attribution: who hosts a host.
//!
//! # Architecture
//! A host is resolved by the run's [`Dns`] (the same answers the HTTP client connected to),
//! each address is looked up in the offline [`AsnDb`] (or, without one, Team Cymru's DNS
//! service), mapped to an organisation by [`Orgs`], and flagged when it is a CDN edge. The
//! host's weight is then shared out according to the [`AddressPolicy`]; a CDN-fronted host is
//! credited to a "behind CDN X" bucket, never to the CDN as its hosting provider.

pub mod asn;
pub mod org;
pub mod provider;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::attribution::asn::{cymru, AsnDb, AsnHit};
use crate::attribution::org::Orgs;
use crate::model::attribution::{
    AddressAttribution, AddressPolicy, AttributionSource, HostAttribution, LOOKUP_FAILED, NO_AS, UNRESOLVED,
};
use crate::net::dns::Dns;

/// Turns hosts and addresses into organisations.
pub struct Attributor {
    db: Option<Arc<AsnDb>>,
    orgs: Orgs,
    dns: Arc<Dns>,
    policy: AddressPolicy,
    online: bool,
}

impl Attributor {
    /// An attributor over `db` (or the online fallback when `db` is `None` and `online`).
    pub fn new(db: Option<Arc<AsnDb>>, orgs: Orgs, dns: Arc<Dns>, policy: AddressPolicy, online: bool) -> Self {
        Attributor {
            db,
            orgs,
            dns,
            policy,
            online,
        }
    }

    /// What this attributor uses.
    pub fn source(&self) -> AttributionSource {
        AttributionSource {
            database: self.db.as_ref().map(|d| d.info.clone()),
            online_fallback: self.db.is_none() && self.online,
            address_policy: self.policy,
        }
    }

    /// The answer for `ip`, its source, and why there is none when that is not "no AS".
    async fn hit(&self, ip: IpAddr) -> (Option<AsnHit>, String, Option<String>) {
        match &self.db {
            Some(db) => (db.lookup(ip), database_source(db), None),
            None if self.online => match cymru::lookup(&self.dns, ip).await {
                Ok(hit) => (Some(hit), cymru::SOURCE.to_string(), None),
                Err(e) => (None, cymru::SOURCE.to_string(), cymru::failure(&e)),
            },
            None => (None, "no database".to_string(), None),
        }
    }

    /// The nameserver taken for not answering, if it was during this run
    /// ([`Dns::not_answering`]).
    pub fn not_answering(&self) -> Option<crate::net::dns::NotAnswering> {
        self.dns.not_answering()
    }

    /// The database in use, if any.
    pub fn database(&self) -> Option<&AsnDb> {
        self.db.as_deref()
    }

    /// The organisation an AS is credited to, and the CDN its address is an edge of:
    /// `cdn_hint` (a CDN the CNAME chain named), else the organisation when its AS is a CDN
    /// edge. The one rule of [`Attributor::address`] and of the `lookup -` stream.
    pub fn organisation(&self, asn: u32, as_name: &str, cdn_hint: Option<&str>) -> (String, Option<String>) {
        let org = self.orgs.of(asn, as_name);
        let cdn = match cdn_hint {
            Some(c) => Some(c.to_string()),
            None => org.cdn.then(|| org.name.clone()),
        };
        (org.name, cdn)
    }

    /// Attribute one address; `cdn_hint` is a CDN already named by the CNAME chain.
    pub async fn address(&self, ip: IpAddr, cdn_hint: Option<&str>) -> AddressAttribution {
        let (hit, source, lookup_error) = self.hit(ip).await;
        let (org, cdn) = match &hit {
            Some(h) => {
                let (org, cdn) = self.organisation(h.asn, &h.name, cdn_hint);
                (Some(org), cdn)
            }
            None => (None, cdn_hint.map(str::to_string)),
        };
        AddressAttribution {
            ip,
            asn: hit.as_ref().map(|h| h.asn),
            as_name: hit.as_ref().map(|h| h.name.clone()),
            organisation: match (org, &lookup_error) {
                (Some(o), _) => o,
                (None, Some(_)) => LOOKUP_FAILED.to_string(),
                (None, None) => NO_AS.to_string(),
            },
            cdn,
            range_start: hit.as_ref().map(|h| h.range_start),
            range_end: hit.as_ref().map(|h| h.range_end),
            cidr: hit.as_ref().map(|h| h.cidr),
            cover: crate::attribution::asn::cover(ip),
            country: hit.and_then(|h| h.country),
            source,
            lookup_error,
        }
    }

    /// Attribute a host name; `connected` is the address the crawler used, if any.
    pub async fn host(&self, host: &str, connected: Option<IpAddr>) -> HostAttribution {
        let res = self.dns.resolve(host).await;
        let cdn_hint = self.orgs.cdn_in(&res.cnames);
        let mut addresses = vec![];
        for ip in &res.addresses {
            addresses.push(self.address(*ip, cdn_hint.as_deref()).await);
        }
        let shares = shares(self.policy, &addresses, connected);
        HostAttribution {
            host: res.host,
            hosting_service: self.orgs.hosting_in(&res.cnames),
            cnames: res.cnames,
            dns_error: res.error,
            dns_ttl: res.ttl,
            addresses,
            connected,
            shares,
        }
    }
}

/// The `source` of an address a database answered: its file and format.
pub fn database_source(db: &AsnDb) -> String {
    format!("{} ({})", db.info.file, db.info.format)
}

/// The addresses of a host that count under `policy`: all of them (`split`), the IPv4 ones
/// when there are any (`ipv4`), or the one connected to, else the first (`first`).
pub fn counted_addresses(
    policy: AddressPolicy,
    addresses: &[AddressAttribution],
    connected: Option<IpAddr>,
) -> Vec<&AddressAttribution> {
    match policy {
        AddressPolicy::Split => addresses.iter().collect(),
        AddressPolicy::Ipv4 => {
            let v4: Vec<_> = addresses.iter().filter(|a| a.ip.is_ipv4()).collect();
            if v4.is_empty() {
                addresses.iter().collect()
            } else {
                v4
            }
        }
        AddressPolicy::First => connected
            .and_then(|c| addresses.iter().find(|a| a.ip == c))
            .or(addresses.first())
            .into_iter()
            .collect(),
    }
}

/// Share one host's weight (1) evenly between the distinct values `key` gives its counted
/// addresses under `policy`. No counted address at all gives `{empty: 1}`.
///
/// This is the one implementation of the address policy: [`shares`] (organisations) and the
/// metrics of every address level ([`crate::metrics`]) go through it.
pub fn split_by<K: Ord + Clone>(
    policy: AddressPolicy,
    addresses: &[AddressAttribution],
    connected: Option<IpAddr>,
    empty: K,
    key: impl Fn(&AddressAttribution) -> K,
) -> BTreeMap<K, f64> {
    let mut keys: Vec<K> = counted_addresses(policy, addresses, connected)
        .into_iter()
        .map(key)
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return BTreeMap::from([(empty, 1.0)]);
    }
    let each = 1.0 / keys.len() as f64;
    keys.into_iter().map(|k| (k, each)).collect()
}

/// Share one host's weight between organisation buckets under `policy`.
pub fn shares(
    policy: AddressPolicy,
    addresses: &[AddressAttribution],
    connected: Option<IpAddr>,
) -> BTreeMap<String, f64> {
    split_by(
        policy,
        addresses,
        connected,
        UNRESOLVED.to_string(),
        AddressAttribution::bucket,
    )
}

#[cfg(test)]
mod tests;
