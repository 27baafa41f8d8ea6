//! Contacts measured: each distinct domain asked once who serves it
//! ([`crate::contacts::serve`]), each serving host named by the provider rules
//! ([`Providers`]) and attributed once (the same [`Attributor`] as instances), and every
//! address's weight put in its buckets at each level.
//!
//! Levels: `protocol`, `domain`, `server` (the host that serves it: the MX, the XMPP or
//! Matrix server), `provider` (the company a rule names; behind a filtering gateway, the one
//! the domain's SPF record names, marked inferred, else "behind gateway X"; without a rule,
//! the server's organisation), `gateway` (e-mail only, when any address is behind one),
//! `organisation` (who hosts that server), `as` and `country` (when the attribution gives
//! one). A fediverse address is served by its handle's domain here (no WebFinger: the crawl
//! does that for follows). Addresses whose server was not found are counted apart, by why.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Context;
use crate::attribution::provider::{Hit, Kind, Providers};
use crate::attribution::{split_by, Attributor};
use crate::contacts::serve::{self, Outcome};
use crate::contacts::{spf, Book};
use crate::model::attribution::HostAttribution;
use crate::model::contact::{Address, ContactWeight, Measurement, Protocol};
use crate::net::fanout;

/// Domains asked (and hosts attributed) at once.
pub const CONCURRENCY: usize = 16;

/// The gateway level's bucket for mail that reaches its provider directly.
const NO_GATEWAY: &str = "no gateway";

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

/// Who the rules say runs one domain's server.
#[derive(Debug, Default)]
struct Named {
    /// The mailbox or chat provider (named by a rule, or inferred from SPF).
    provider: Option<Hit>,
    /// The filtering gateway in front of it.
    gateway: Option<String>,
}

type Key = (Protocol, String);

/// Ask DNS who serves each of `domains`.
async fn serve_all(ctx: &Context, domains: Vec<Key>) -> BTreeMap<Key, Outcome> {
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
    domains
        .into_iter()
        .zip(served)
        .map(|(k, r)| (k, r.unwrap_or_else(|_| Outcome::Failed("internal error".into()))))
        .collect()
}

/// Name each served domain by the rules; behind a gateway, read the domain's SPF record.
async fn name_all(ctx: &Context, providers: &Providers, outcome: &BTreeMap<Key, Outcome>) -> BTreeMap<Key, Named> {
    let mut named: BTreeMap<Key, Named> = BTreeMap::new();
    for ((protocol, domain), o) in outcome {
        let Outcome::Host { host, .. } = o else { continue };
        let hit = match protocol {
            Protocol::Email => providers.mail(host, domain),
            Protocol::Xmpp | Protocol::Matrix => providers.chat(host),
            Protocol::Fediverse => None,
        };
        let n = match hit {
            Some(h) if h.kind == Kind::Gateway => Named {
                provider: None,
                gateway: Some(h.name),
            },
            provider => Named {
                provider,
                gateway: None,
            },
        };
        named.insert((*protocol, domain.clone()), n);
    }
    let behind: Vec<String> = named
        .iter()
        .filter(|(_, n)| n.gateway.is_some())
        .map(|(k, _)| k.1.clone())
        .collect();
    let dns = ctx.dns.clone();
    let spf = fanout::run(behind.clone(), CONCURRENCY, move |d| {
        let dns = dns.clone();
        async move { spf::of(&dns, &d).await }
    })
    .await;
    for (domain, targets) in behind.into_iter().zip(spf) {
        let inferred = targets.ok().and_then(|t| providers.behind_gateway(&t, &domain));
        if let (Some(n), Some(mut hit)) = (named.get_mut(&(Protocol::Email, domain.clone())), inferred) {
            hit.service = format!("{} (inferred from SPF)", hit.service);
            n.provider = Some(hit);
        }
    }
    named
}

/// Attribute each serving host once.
async fn attribute_all(
    attributor: Arc<Attributor>,
    outcome: &BTreeMap<Key, Outcome>,
) -> BTreeMap<String, HostAttribution> {
    let mut hosts: Vec<String> = outcome
        .values()
        .filter_map(|o| match o {
            Outcome::Host { host, .. } => Some(host.clone()),
            _ => None,
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    let attributed = fanout::run(hosts.clone(), CONCURRENCY, move |h| {
        let a = attributor.clone();
        async move { a.host(&h, None).await }
    })
    .await;
    hosts
        .into_iter()
        .zip(attributed)
        .filter_map(|(h, r)| r.ok().map(|a| (h, a)))
        .collect()
}

/// The levels, in report order.
const LEVELS: [&str; 8] = [
    "protocol",
    "domain",
    "server",
    "provider",
    "gateway",
    "organisation",
    "as",
    "country",
];

/// Measure `book` (the owner's addresses already removed) under `weight`.
pub async fn measure(ctx: &Context, attributor: Arc<Attributor>, book: &Book, weight: ContactWeight) -> Measurement {
    let a = &ctx.config.attribution;
    let providers = Providers::new(&a.mail_providers, &a.mail_gateways);
    let mut domains: Vec<Key> = book
        .addresses
        .keys()
        .map(|a: &Address| (a.protocol(), a.domain().as_str().to_string()))
        .collect();
    domains.sort();
    domains.dedup();
    let outcome = serve_all(ctx, domains).await;
    let named = name_all(ctx, &providers, &outcome).await;
    let of_host = attribute_all(attributor, &outcome).await;

    let policy = a.address_policy;
    let mut levels: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    let mut services: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut apart_w: BTreeMap<String, f64> = BTreeMap::new();
    let mut total = 0.0;
    let mut add =
        |level: &'static str, key: String, w: f64| *levels.entry(level).or_default().entry(key).or_default() += w;
    for (addr, w) in &book.addresses {
        let w = match weight {
            ContactWeight::Contacts => 1.0,
            ContactWeight::Messages => w.messages as f64,
        };
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
        add("protocol", addr.protocol().name().to_string(), w);
        add("domain", key.1.clone(), w);
        add("server", host.clone(), w);
        let n = named.get(&key);
        let h = of_host.get(host);
        match (n.and_then(|n| n.provider.as_ref()), n.and_then(|n| n.gateway.as_ref())) {
            (Some(p), _) => {
                add("provider", p.name.clone(), w);
                *services
                    .entry(p.name.clone())
                    .or_default()
                    .entry(p.service.clone())
                    .or_default() += w;
            }
            (None, Some(g)) => add("provider", format!("behind gateway {g}"), w),
            (None, None) => {
                for (org, share) in h.map(|h| h.shares.clone()).unwrap_or_default() {
                    add("provider", org, w * share);
                }
            }
        }
        if addr.protocol() == Protocol::Email {
            let g = n.and_then(|n| n.gateway.clone()).unwrap_or_else(|| NO_GATEWAY.into());
            add("gateway", g, w);
        }
        let Some(h) = h else { continue };
        for (org, share) in &h.shares {
            add("organisation", org.clone(), w * share);
        }
        for (k, share) in split_by(policy, &h.addresses, None, "no AS found".to_string(), |x| {
            x.asn.map_or_else(
                || "no AS found".to_string(),
                |n| {
                    format!("AS{n} {}", x.as_name.clone().unwrap_or_default())
                        .trim_end()
                        .to_string()
                },
            )
        }) {
            add("as", k, w * share);
        }
        for (k, share) in split_by(policy, &h.addresses, None, "unknown".to_string(), |x| {
            x.country.clone().unwrap_or_else(|| "unknown".into())
        }) {
            add("country", k, w * share);
        }
    }
    // A level with nothing to tell is left out: no gateway anywhere, no country known.
    let told = |level: &str, b: &BTreeMap<String, f64>| match level {
        "gateway" => b.keys().any(|k| k != NO_GATEWAY),
        "country" => b.keys().any(|k| k != "unknown"),
        _ => true,
    };
    Measurement {
        weight: weight.name(),
        addresses: book.addresses.len(),
        total,
        malformed: book.malformed.len(),
        levels: LEVELS
            .iter()
            .filter_map(|l| {
                let b = levels.remove(l).unwrap_or_default();
                told(l, &b).then(|| (l.to_string(), b))
            })
            .collect(),
        services,
        apart: apart_w,
    }
}
