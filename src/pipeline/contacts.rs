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
//! one). A fediverse address is served by the instance its handle's WebFinger names (asked
//! once per domain, about one of its contacts, through the run's polite client, with a
//! delegated domain confirmed as the crawl confirms a seed). Addresses whose server was not
//! found are counted apart, by why.
//!
//! [`measure_into`] stores the measurement as a snapshot of kind `contacts` through the one
//! store writer, with who serves each domain (and the steps taken to find it) and each
//! contact (hashed by the store), and says which domains did not resolve ([`Lookups`]): when
//! the run's nameserver was taken for not answering
//! ([`crate::net::dns::Dns::not_answering`]), every domain that timed out is counted as not
//! answering too (so a dead nameserver reads as one cause, not as a few timeouts and then the
//! rest).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Context;
use crate::attribution::provider::{Hit, Kind, Providers};
use crate::attribution::{split_by, Attributor};
use crate::config::Config;
use crate::contacts::serve::{self, Outcome};
use crate::contacts::{spf, Book};
use crate::error::Result;
use crate::model::attribution::{AddressPolicy, HostAttribution};
use crate::model::contact::{ContactWeight, ContactsSnapshot, DomainRecord, Measurement, Protocol, LEVELS, NO_GATEWAY};
use crate::model::handle::Handle;
use crate::net::dns::{NotAnswering, Unresolved, DNS_NOT_ANSWERING};
use crate::net::fanout;
use crate::store::{Begin, Resume, Status, Writer};

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
        Outcome::NoActor(why) => format!("no actor found by WebFinger ({why})"),
        Outcome::Refused(why) => {
            format!("server address refused ({why}; network.allow_private_addresses does not allow it)")
        }
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

/// Ask who serves each of `domains` (DNS; Matrix's `.well-known`; a fediverse domain's
/// WebFinger, asked about `user`, one of its contacts): the outcome, and the steps that led
/// to it.
async fn serve_all(ctx: &Context, domains: Vec<(Key, String)>) -> BTreeMap<Key, serve::Served> {
    let (dns, fetcher) = (ctx.dns.clone(), ctx.fetcher.clone());
    let keys: Vec<Key> = domains.iter().map(|(k, _)| k.clone()).collect();
    let served = fanout::run(domains, CONCURRENCY, move |((protocol, domain), user)| {
        let (dns, fetcher) = (dns.clone(), fetcher.clone());
        async move {
            match protocol {
                Protocol::Email => serve::email(&dns, &domain).await,
                Protocol::Xmpp => serve::xmpp(&dns, &domain).await,
                Protocol::Matrix => serve::matrix(&dns, &fetcher, &domain).await,
                Protocol::Fediverse => match format!("{user}@{domain}").parse::<Handle>() {
                    Ok(handle) => serve::fediverse(&fetcher, &handle).await,
                    Err(_) => serve::Served {
                        outcome: Outcome::NoActor("not a handle".into()),
                        steps: vec![],
                    },
                },
            }
        }
    })
    .await;
    keys.into_iter()
        .zip(served)
        .map(|(k, r)| {
            let s = r.unwrap_or_else(|_| serve::Served {
                outcome: Outcome::Failed("internal error".into()),
                steps: vec![],
            });
            (k, s)
        })
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

/// Who serves one domain, as shares of each level's buckets (each level's shares sum to 1).
#[derive(Debug, Default)]
struct Served {
    server: String,
    provider: Vec<(String, f64)>,
    service: Option<(String, String)>,
    gateway: Option<String>,
    organisation: Vec<(String, f64)>,
    asn: Vec<(String, f64)>,
    country: Vec<(String, f64)>,
}

/// The buckets of `shares`, `; `-separated (`None` when there are none).
fn joined(shares: &[(String, f64)]) -> Option<String> {
    let names: Vec<&str> = shares.iter().map(|(k, _)| k.as_str()).collect();
    (!names.is_empty()).then(|| names.join("; "))
}

/// Who serves `domain`, from its DNS outcome, the rules' names and its server's attribution.
fn served(host: &str, named: Option<&Named>, h: Option<&HostAttribution>, policy: AddressPolicy) -> Served {
    let shares = || {
        h.map(|h| h.shares.clone().into_iter().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let (provider, service) = match (
        named.and_then(|n| n.provider.as_ref()),
        named.and_then(|n| n.gateway.as_ref()),
    ) {
        (Some(p), _) => (vec![(p.name.clone(), 1.0)], Some((p.name.clone(), p.service.clone()))),
        (None, Some(g)) => (vec![(format!("behind gateway {g}"), 1.0)], None),
        (None, None) => (shares(), None),
    };
    let (asn, country) = match h {
        Some(h) => (
            split_by(policy, &h.addresses, None, "no AS found".to_string(), |x| {
                x.asn.map_or_else(
                    || "no AS found".to_string(),
                    |n| {
                        format!("AS{n} {}", x.as_name.clone().unwrap_or_default())
                            .trim_end()
                            .to_string()
                    },
                )
            })
            .into_iter()
            .collect(),
            split_by(policy, &h.addresses, None, "unknown".to_string(), |x| {
                x.country.clone().unwrap_or_else(|| "unknown".into())
            })
            .into_iter()
            .collect(),
        ),
        None => (vec![], vec![]),
    };
    Served {
        server: host.to_string(),
        provider,
        service,
        gateway: named.and_then(|n| n.gateway.clone()),
        organisation: if h.is_some() { shares() } else { vec![] },
        asn,
        country,
    }
}

/// Measure `book` (the owner's addresses already removed) under `weight`.
pub async fn measure(ctx: &Context, attributor: Arc<Attributor>, book: &Book, weight: ContactWeight) -> Measurement {
    measure_domains(ctx, attributor, book, weight).await.measurement
}

/// Whether nothing could be served: domains were asked and every lookup failed (timeouts,
/// SERVFAIL, no resolver), as against answers that say a domain has no server.
fn nothing_served(outcome: &BTreeMap<Key, Outcome>) -> bool {
    !outcome.is_empty() && outcome.values().all(|o| matches!(o, Outcome::Failed(_)))
}

/// What the run's DNS lookups came to: the domains that did not resolve (NXDOMAIN, or no
/// answer), by answer, and the nameserver if it was taken for not answering.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub unresolved: Unresolved,
    pub not_answering: Option<NotAnswering>,
}

/// Once the nameserver is taken for not answering, a domain that timed out did so for the
/// same reason: it is counted as not answering too.
fn not_answering(outcome: &mut BTreeMap<Key, Outcome>) {
    for o in outcome.values_mut() {
        if matches!(o, Outcome::Failed(m) if m == "timeout") {
            *o = Outcome::Failed(DNS_NOT_ANSWERING.into());
        }
    }
}

/// The domains of `outcome` that did not resolve, by answer.
fn unresolved(outcome: &BTreeMap<Key, Outcome>) -> Unresolved {
    let mut u = Unresolved {
        of: outcome.len(),
        ..Unresolved::default()
    };
    for o in outcome.values() {
        match o {
            Outcome::NoDomain => u.add("NXDOMAIN"),
            Outcome::Failed(m) => u.add(m),
            _ => {}
        }
    }
    u
}

/// What [`measure_domains`] found: the measurement, who serves each domain (what a contacts
/// snapshot stores beside the figures), whether every DNS lookup failed, and what the
/// lookups came to.
pub struct Measured {
    pub measurement: Measurement,
    pub domains: Vec<DomainRecord>,
    pub nothing_served: bool,
    pub lookups: Lookups,
}

/// Measure `book` under `weight`, and say who serves each of its domains, whether every DNS
/// lookup failed and which domains did not resolve.
pub async fn measure_domains(
    ctx: &Context,
    attributor: Arc<Attributor>,
    book: &Book,
    weight: ContactWeight,
) -> Measured {
    let a = &ctx.config.attribution;
    let providers = Providers::new(&a.mail_providers, &a.mail_gateways);
    // Each domain once, with the user of its first contact (whom a fediverse domain's
    // WebFinger is asked about).
    let mut first: BTreeMap<Key, String> = BTreeMap::new();
    for a in book.addresses.keys() {
        first
            .entry((a.protocol(), a.domain().as_str().to_string()))
            .or_insert_with(|| a.local().to_string());
    }
    let domains: Vec<(Key, String)> = first.into_iter().collect();
    let mut steps: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    let mut outcome: BTreeMap<Key, Outcome> = BTreeMap::new();
    for (k, s) in serve_all(ctx, domains).await {
        steps.insert(k.clone(), s.steps);
        outcome.insert(k, s.outcome);
    }
    let dead = ctx.dns.not_answering();
    if dead.is_some() {
        not_answering(&mut outcome);
    }
    let lookups = Lookups {
        unresolved: unresolved(&outcome),
        not_answering: dead,
    };
    let failed = nothing_served(&outcome);
    let named = name_all(ctx, &providers, &outcome).await;
    let of_host = attribute_all(attributor, &outcome).await;
    let policy = a.address_policy;
    let served: BTreeMap<&Key, Served> = outcome
        .iter()
        .filter_map(|(k, o)| match o {
            Outcome::Host { host, .. } => Some((k, served(host, named.get(k), of_host.get(host), policy))),
            _ => None,
        })
        .collect();

    let mut records: BTreeMap<&Key, DomainRecord> = BTreeMap::new();
    let mut levels: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    let mut services: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut apart_w: BTreeMap<String, f64> = BTreeMap::new();
    let mut total = 0.0;
    let mut add = |level: &'static str, key: &str, w: f64| {
        *levels.entry(level).or_default().entry(key.to_string()).or_default() += w
    };
    for (addr, aw) in &book.addresses {
        let key = (addr.protocol(), addr.domain().as_str().to_string());
        let (k, o) = outcome.get_key_value(&key).expect("every address's domain was asked");
        let r = records
            .entry(k)
            .or_insert_with(|| record(k, o, served.get(k), steps.remove(k).unwrap_or_default()));
        r.contacts += 1;
        r.messages += aw.messages;
        let w = match weight {
            ContactWeight::Contacts => 1.0,
            ContactWeight::Messages => aw.messages as f64,
        };
        if w <= 0.0 {
            continue;
        }
        total += w;
        if let Some(why) = apart(addr.protocol(), o) {
            *apart_w.entry(why).or_default() += w;
            continue;
        }
        let Some(s) = served.get(k) else { continue };
        add("protocol", addr.protocol().name(), w);
        add("domain", &key.1, w);
        add("server", &s.server, w);
        for (p, share) in &s.provider {
            add("provider", p, w * share);
        }
        if let Some((p, service)) = &s.service {
            *services
                .entry(p.clone())
                .or_default()
                .entry(service.clone())
                .or_default() += w;
        }
        if addr.protocol() == Protocol::Email {
            add("gateway", s.gateway.as_deref().unwrap_or(NO_GATEWAY), w);
        }
        for (level, shares) in [
            ("organisation", &s.organisation),
            ("as", &s.asn),
            ("country", &s.country),
        ] {
            for (b, share) in shares {
                add(level, b, w * share);
            }
        }
    }
    // A level with nothing to tell is left out: no gateway anywhere, no country known.
    let told = |level: &str, b: &BTreeMap<String, f64>| match level {
        "gateway" => b.keys().any(|k| k != NO_GATEWAY),
        "country" => b.keys().any(|k| k != "unknown"),
        _ => true,
    };
    let m = Measurement {
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
    };
    Measured {
        measurement: m,
        domains: records.into_values().collect(),
        nothing_served: failed,
        lookups,
    }
}

/// The stored record of one domain (its counts are added by the caller).
fn record((protocol, domain): &Key, o: &Outcome, s: Option<&Served>, steps: Vec<String>) -> DomainRecord {
    DomainRecord {
        protocol: protocol.name(),
        domain: domain.clone(),
        not_found: apart(*protocol, o),
        server: s.map(|s| s.server.clone()),
        provider: s.and_then(|s| joined(&s.provider)),
        service: s.and_then(|s| s.service.as_ref().map(|x| x.1.clone())),
        gateway: s.and_then(|s| s.gateway.clone()),
        organisation: s.and_then(|s| joined(&s.organisation)),
        asns: s.and_then(|s| joined(&s.asn)),
        country: s.and_then(|s| joined(&s.country)),
        steps,
        ..DomainRecord::default()
    }
}

/// What a contacts snapshot is asked to be: its series and the command that made it.
#[derive(Debug, Clone)]
pub struct Job {
    /// What makes snapshots one series (`--series`, else the files read).
    pub series: String,
    /// The files read, as given.
    pub files: Vec<String>,
    pub weight: ContactWeight,
}

impl Job {
    /// The request stored with the snapshot (JSON): its kind, series, files and weight.
    pub fn request(&self) -> String {
        serde_json::json!({
            "kind": "contacts",
            "series": self.series,
            "files": self.files,
            "weight": self.weight.name(),
        })
        .to_string()
    }
}

/// How a measurement was stored.
#[derive(Debug)]
pub enum Stored {
    /// As the complete snapshot of this id.
    Complete { id: i64, lookups: Lookups },
    /// Every DNS lookup failed, so no server could be found and nothing can be rated: the
    /// snapshot of this id is stored as `failed` (no figures, out of every trend), and the
    /// measurement is what the run saw (every address counted apart), for its report.
    NothingServed {
        id: i64,
        measurement: Measurement,
        lookups: Lookups,
    },
    /// `stop` came before the measurement was done: nothing was stored (the snapshot is
    /// begun only when the measurement is done).
    Interrupted,
}

/// Measure `book` as `job` says and store it through `writer` as a snapshot of kind
/// `contacts`, begun when the measurement is done (so a killed or stopped run leaves nothing behind)
/// and completed in one transaction; when every DNS lookup failed, marked failed instead
/// ([`Stored::NothingServed`]). When `stop` (the caller's signal) resolves before the
/// measurement is done, its lookups are dropped and nothing is stored ([`Stored::Interrupted`]).
///
/// # Errors
/// Network-stack construction, ASN database and store errors.
pub async fn measure_into(
    writer: &Writer,
    config: Config,
    book: &Book,
    job: &Job,
    quiet: bool,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Stored> {
    let started_at = crate::model::time::now();
    let configuration = serde_json::to_string(&config).expect("the configuration serialises");
    let ctx = Context::new(config)?;
    let attributor = Arc::new(ctx.attributor(quiet)?);
    let source = attributor.source();
    let Measured {
        measurement,
        domains,
        nothing_served: nothing,
        lookups,
    } = tokio::select! {
        measured = measure_domains(&ctx, attributor, book, job.weight) => measured,
        () = stop => return Ok(Stored::Interrupted),
    };
    let tool = format!("whohosts {}", env!("CARGO_PKG_VERSION"));
    let begun = writer
        .begin(Begin {
            kind: "contacts",
            request: job.request(),
            configuration,
            tool: tool.clone(),
            started_at,
            resume: Resume::Never,
            resume_within_secs: None,
        })
        .await?;
    if nothing {
        writer.set_status(begun.id, Status::Failed).await?;
        return Ok(Stored::NothingServed {
            id: begun.id,
            measurement,
            lookups,
        });
    }
    let snapshot = ContactsSnapshot {
        measurement,
        domains,
        contacts: book.addresses.iter().map(|(a, w)| (a.clone(), w.messages)).collect(),
        finished_at: crate::model::time::now(),
        tool,
        attribution: source,
    };
    if let Err(e) = writer.complete_contacts(begun.id, snapshot).await {
        let _ = writer.set_status(begun.id, Status::Failed).await;
        return Err(e);
    }
    Ok(Stored::Complete { id: begun.id, lookups })
}
