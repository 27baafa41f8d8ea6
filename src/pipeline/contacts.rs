//! Contacts measured: each distinct domain asked once who serves it
//! ([`crate::contacts::serve`]), each serving host attributed once (the same [`Attributor`]
//! as instances), and every address's weight put in its buckets at each level.
//!
//! Levels: `protocol`, `domain`, `server` (the host that serves it: the MX, the XMPP or
//! Matrix server), `organisation` (who hosts that server) and `as`. A fediverse address is
//! served by its handle's domain here (no WebFinger: the crawl does that for follows).
//! Addresses whose server was not found are counted apart, by why.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Context;
use crate::attribution::{split_by, Attributor};
use crate::contacts::serve::{self, Outcome};
use crate::contacts::Book;
use crate::model::attribution::HostAttribution;
use crate::model::contact::{Address, ContactWeight, Measurement, Protocol};
use crate::net::fanout;

/// Domains asked (and hosts attributed) at once.
pub const CONCURRENCY: usize = 16;

/// Why a server was not found, as a report says it.
fn apart(protocol: Protocol, o: &Outcome) -> Option<String> {
    Some(match o {
        Outcome::Host { .. } => return None,
        Outcome::NoService if protocol == Protocol::Email => "receives no mail (null MX)".into(),
        Outcome::NoService => "no service announced (SRV target \".\")".into(),
        Outcome::Dangling { .. } => "dangling (MX or SRV names a host that does not resolve)".into(),
        Outcome::NoServer => "no server (no records, no address)".into(),
        Outcome::NoDomain => "no such domain (NXDOMAIN)".into(),
        Outcome::Failed(why) => format!("DNS failed ({why})"),
    })
}

/// Measure `book` (the owner's addresses already removed) under `weight`.
pub async fn measure(ctx: &Context, attributor: Arc<Attributor>, book: &Book, weight: ContactWeight) -> Measurement {
    let weigh = |w: &crate::contacts::Weight| match weight {
        ContactWeight::Contacts => 1.0,
        ContactWeight::Messages => w.messages as f64,
    };
    let mut domains: Vec<(Protocol, String)> = book
        .addresses
        .keys()
        .map(|a: &Address| (a.protocol(), a.domain().as_str().to_string()))
        .collect();
    domains.sort();
    domains.dedup();
    let (dns, fetcher) = (ctx.dns.clone(), ctx.fetcher.clone());
    let served = fanout::run(domains.clone(), CONCURRENCY, move |(protocol, domain)| {
        let (dns, fetcher) = (dns.clone(), fetcher.clone());
        async move {
            match protocol {
                Protocol::Email => serve::email(&dns, &domain).await.outcome,
                Protocol::Xmpp => serve::xmpp(&dns, &domain).await.outcome,
                Protocol::Matrix => serve::matrix(&dns, &fetcher, &domain).await.outcome,
                Protocol::Fediverse => Outcome::Host {
                    host: domain,
                    port: None,
                },
            }
        }
    })
    .await;
    let outcome: BTreeMap<(Protocol, String), Outcome> = domains
        .into_iter()
        .zip(served)
        .map(|(k, r)| (k, r.unwrap_or_else(|_| Outcome::Failed("internal error".into()))))
        .collect();
    let mut hosts: Vec<String> = outcome
        .values()
        .filter_map(|o| match o {
            Outcome::Host { host, .. } => Some(host.clone()),
            _ => None,
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    let a = attributor.clone();
    let attributed = fanout::run(hosts.clone(), CONCURRENCY, move |h| {
        let a = a.clone();
        async move { a.host(&h, None).await }
    })
    .await;
    let of_host: BTreeMap<String, HostAttribution> = hosts
        .into_iter()
        .zip(attributed)
        .filter_map(|(h, r)| r.ok().map(|a| (h, a)))
        .collect();

    let policy = ctx.config.attribution.address_policy;
    let names = ["protocol", "domain", "server", "organisation", "as"];
    let mut levels: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); names.len()];
    let mut apart_w: BTreeMap<String, f64> = BTreeMap::new();
    let mut total = 0.0;
    for (addr, w) in &book.addresses {
        let w = weigh(w);
        if w <= 0.0 {
            continue;
        }
        total += w;
        let key = (addr.protocol(), addr.domain().as_str().to_string());
        let o = &outcome[&key];
        if let Some(why) = apart(addr.protocol(), o) {
            *apart_w.entry(why).or_default() += w;
            continue;
        }
        let Outcome::Host { host, .. } = o else { continue };
        *levels[0].entry(addr.protocol().name().to_string()).or_default() += w;
        *levels[1].entry(key.1.clone()).or_default() += w;
        *levels[2].entry(host.clone()).or_default() += w;
        if let Some(h) = of_host.get(host) {
            for (org, share) in &h.shares {
                *levels[3].entry(org.clone()).or_default() += w * share;
            }
            let by_as = split_by(policy, &h.addresses, None, "no AS found".to_string(), |x| {
                x.asn.map_or_else(
                    || "no AS found".to_string(),
                    |n| {
                        format!("AS{n} {}", x.as_name.clone().unwrap_or_default())
                            .trim_end()
                            .to_string()
                    },
                )
            });
            for (k, share) in by_as {
                *levels[4].entry(k).or_default() += w * share;
            }
        }
    }
    Measurement {
        weight: weight.name(),
        addresses: book.addresses.len(),
        total,
        malformed: book.malformed.len(),
        levels: names.iter().map(|n| n.to_string()).zip(levels).collect(),
        apart: apart_w,
    }
}
