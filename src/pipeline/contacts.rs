//! Contacts measured: each distinct domain asked once who serves it
//! ([`crate::contacts::serve`]), each serving host named by the provider rules
//! ([`Providers`]) and attributed once (the same [`Attributor`] as instances), and every
//! address's weight put in its buckets at each level.
//!
//! Levels: `protocol`, `domain`, `server` (the host that serves it: the MX, the XMPP or
//! Matrix server), `provider` (the company a rule names; behind a filtering gateway, the one
//! the domain's SPF record names, marked inferred, else "behind gateway X"; without a rule,
//! the server's organisation), `gateway` (e-mail only, when any address is behind one: the
//! gateways, the mail that reaches its provider directly counted apart), `organisation` (who
//! hosts that server), `as` and `country` (when the attribution gives one); the address levels
//! share a server as the follows metrics share an instance, and count apart what they count
//! apart (no AS, …). A fediverse address is served by the instance its handle's WebFinger
//! names (asked about each contact, through the run's polite client, a domain's contacts
//! queued on its host; a delegated domain confirmed as the crawl confirms a seed), so an
//! account its server does not know is counted apart alone; at most
//! `contacts.max_lookups_per_domain` contacts of one domain are asked, the others counted on
//! the instance those were found on (`capped`, `stand_in`). Addresses whose server was not
//! found are counted apart, by why.
//!
//! [`measure_into`] stores the measurement as a snapshot of kind `contacts` through the one
//! store writer, with who serves each domain (and the steps taken to find it) and each
//! contact (hashed by the store), and says which domains did not resolve ([`Lookups`]): when
//! the run's nameserver was taken for not answering
//! ([`crate::net::dns::Dns::not_answering`]), every domain that timed out is counted as not
//! answering too (so a dead nameserver reads as one cause, not as a few timeouts and then the
//! rest).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Context;
use crate::attribution::provider::{Hit, Kind, Providers};
use crate::attribution::Attributor;
use crate::config::Config;
use crate::contacts::serve::{self, Outcome};
use crate::contacts::{spf, Book};
use crate::error::Result;
use crate::metrics::{host_shares, HostShares, Level};
use crate::model::attribution::{AddressPolicy, HostAttribution};
use crate::model::contact::{
    Address, ContactWeight, ContactsSnapshot, DomainRecord, Measurement, Protocol, DIRECT, LEVELS,
};
use crate::model::handle::Handle;
use crate::net::dns::{NotAnswering, Unresolved, DNS_NOT_ANSWERING, NXDOMAIN};
use crate::net::fanout::{self, Cap};
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
    /// The step that inferred the provider behind the gateway from the SPF record.
    step: Option<String>,
}

type Key = (Protocol, String);

/// What is asked who serves it: a domain, or for the fediverse one contact of a domain (its
/// user), since an instance knows its accounts one by one.
type Target = (Key, Option<String>);

/// The target of `a`: its domain, with its user when it is a fediverse handle.
fn target(a: &Address) -> Target {
    let user = (a.protocol() == Protocol::Fediverse).then(|| a.local().to_string());
    ((a.protocol(), a.domain().as_str().to_string()), user)
}

/// Ask who serves each target (DNS; Matrix's `.well-known`; each fediverse contact's
/// WebFinger, through the run's polite client, queued by its domain so that the domain's host
/// is asked no more at once than its limits allow): the outcome, and the steps that led to it.
/// A target whose job failed (a bug) is left out: its caller counts it as an internal error.
async fn serve_all(ctx: &Context, targets: Vec<Target>) -> BTreeMap<Target, serve::Served> {
    let (dns, fetcher) = (ctx.dns.clone(), ctx.fetcher.clone());
    // DNS-only targets share one lane; a fediverse domain's contacts are its host's lane.
    let lane = |((protocol, domain), _): &Target| match protocol {
        Protocol::Fediverse => {
            let (host, cap) = ctx.fetcher.lane(domain);
            (Some(host), cap)
        }
        _ => (None, Cap::from(CONCURRENCY)),
    };
    let served = fanout::run_fair(fanout::queued(targets), CONCURRENCY, lane, move |(key, user)| {
        let (dns, fetcher) = (dns.clone(), fetcher.clone());
        async move {
            let (protocol, domain) = &key;
            let served = match protocol {
                Protocol::Email => serve::email(&dns, domain).await,
                Protocol::Xmpp => serve::xmpp(&dns, domain).await,
                Protocol::Matrix => serve::matrix(&dns, &fetcher, domain).await,
                Protocol::Fediverse => {
                    match format!("{}@{domain}", user.as_deref().unwrap_or_default()).parse::<Handle>() {
                        Ok(handle) => serve::fediverse(&fetcher, &handle).await,
                        Err(_) => serve::Served {
                            outcome: Outcome::NoActor("not a handle".into()),
                            steps: vec![],
                        },
                    }
                }
            };
            ((key, user), served)
        }
    })
    .await;
    served.into_iter().filter_map(Result::ok).collect()
}

/// The step of a fediverse contact not asked by WebFinger (beyond
/// `contacts.max_lookups_per_domain`).
pub const NOT_LOOKED_UP: &str = "not looked up: over contacts.max_lookups_per_domain";

/// `targets` split into those asked and those not: of each fediverse domain, the first
/// `cap` contacts are asked by WebFinger, the rest are not (a book of thousands of handles
/// on one server costs that server `cap` lookups); every other target is asked.
fn capped(targets: BTreeSet<Target>, cap: usize) -> (Vec<Target>, Vec<Target>) {
    let mut per_domain: BTreeMap<String, usize> = BTreeMap::new();
    targets.into_iter().partition(|((protocol, domain), _)| {
        if *protocol != Protocol::Fediverse {
            return true;
        }
        let n = per_domain.entry(domain.clone()).or_default();
        *n += 1;
        *n <= cap
    })
}

/// Give each target of `beyond` (fediverse contacts not asked) what its domain's asked
/// contacts found: the instance the first of them found was found on, with the step
/// [`NOT_LOOKED_UP`]; when none was found, no actor, not looked up. Returns how many were
/// not looked up, by domain.
fn stand_in(asked: &mut BTreeMap<Target, serve::Served>, beyond: Vec<Target>) -> BTreeMap<String, usize> {
    let mut found: BTreeMap<Key, Outcome> = BTreeMap::new();
    for ((key, _), s) in asked.iter() {
        if matches!(s.outcome, Outcome::Host { .. }) && !found.contains_key(key) {
            found.insert(key.clone(), s.outcome.clone());
        }
    }
    let mut counted: BTreeMap<String, usize> = BTreeMap::new();
    for t in beyond {
        let outcome = (found.get(&t.0).cloned()).unwrap_or_else(|| Outcome::NoActor(NOT_LOOKED_UP.into()));
        *counted.entry(t.0 .1.clone()).or_default() += 1;
        asked.insert(
            t,
            serve::Served {
                outcome,
                steps: vec![NOT_LOOKED_UP.into()],
            },
        );
    }
    counted
}

/// One domain as its targets found it: the target that stands for it (its first contact
/// whose server was found, else its first), and its steps (those of its one target; of a
/// fediverse domain's contacts, each distinct step once, with how many contacts it was when
/// not all: `WebFinger: HTTP 404 (1 of 3 contacts)`).
struct Domain<'a> {
    target: &'a Target,
    served: &'a serve::Served,
    steps: Vec<String>,
}

/// Each domain of `asked`, as [`Domain`] says.
fn domains(asked: &BTreeMap<Target, serve::Served>) -> BTreeMap<&Key, Domain<'_>> {
    let mut of: BTreeMap<&Key, Vec<(&Target, &serve::Served)>> = BTreeMap::new();
    for (t, s) in asked {
        of.entry(&t.0).or_default().push((t, s));
    }
    of.into_iter()
        .map(|(k, all)| {
            let (target, served) = all
                .iter()
                .find(|(_, s)| matches!(s.outcome, Outcome::Host { .. }))
                .unwrap_or(&all[0]);
            let steps = merged_steps(&all.iter().map(|(_, s)| s.steps.as_slice()).collect::<Vec<_>>());
            (k, Domain { target, served, steps })
        })
        .collect()
}

/// The steps of several contacts of one domain: each distinct step once, in the order first
/// met, with `(n of m contacts)` when it was not every contact's.
fn merged_steps(all: &[&[String]]) -> Vec<String> {
    if let [one] = all {
        return one.to_vec();
    }
    let mut counted: Vec<(&str, usize)> = vec![];
    for steps in all {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for step in steps.iter().map(String::as_str) {
            if !seen.insert(step) {
                continue;
            }
            match counted.iter_mut().find(|(s, _)| *s == step) {
                Some((_, n)) => *n += 1,
                None => counted.push((step, 1)),
            }
        }
    }
    counted
        .into_iter()
        .map(|(step, n)| match n == all.len() {
            true => step.to_string(),
            false => format!("{step} ({n} of {} contacts)", all.len()),
        })
        .collect()
}

/// Name each served domain by the rules; behind a gateway, read the domain's SPF record (the
/// include that named the provider is a step of the domain: `SPF include:_spf.google.com
/// (Google)`, with control and unprintable characters escaped, since a TXT record holds any
/// bytes).
async fn name_all(ctx: &Context, providers: &Providers, domains: &BTreeMap<&Key, Domain<'_>>) -> BTreeMap<Key, Named> {
    let mut named: BTreeMap<Key, Named> = BTreeMap::new();
    for ((protocol, domain), d) in domains {
        let Outcome::Host { host, .. } = &d.served.outcome else {
            continue;
        };
        let hit = match protocol {
            Protocol::Email => providers.mail(host, domain),
            Protocol::Xmpp | Protocol::Matrix => providers.chat(host),
            Protocol::Fediverse => None,
        };
        let n = match hit {
            Some(h) if h.kind == Kind::Gateway => Named {
                provider: None,
                gateway: Some(h.name),
                step: None,
            },
            provider => Named {
                provider,
                gateway: None,
                step: None,
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
    let spf = fanout::run(behind, CONCURRENCY, move |d| {
        let dns = dns.clone();
        async move {
            let targets = spf::of(&dns, &d).await;
            (d, targets)
        }
    })
    .await;
    for (domain, targets) in spf.into_iter().filter_map(Result::ok) {
        let inferred = providers.behind_gateway(&targets, &domain);
        if let (Some(n), Some(mut hit)) = (named.get_mut(&(Protocol::Email, domain)), inferred) {
            n.step = Some(spf_step(&hit));
            hit.service = format!("{} (inferred from SPF)", hit.service);
            n.provider = Some(hit);
        }
    }
    named
}

/// The step that says which include of a domain's SPF record named `hit`, its provider
/// behind the gateway: `SPF include:spf.protection.outlook.com (Microsoft)`, the include's
/// control and unprintable characters escaped (`\u{1b}`).
fn spf_step(hit: &Hit) -> String {
    format!("SPF include:{} ({})", hit.rule.escape_debug(), hit.name)
}

/// Attribute each serving host once.
async fn attribute_all<'a>(
    attributor: Arc<Attributor>,
    outcomes: impl Iterator<Item = &'a Outcome>,
) -> BTreeMap<String, HostAttribution> {
    let hosts: BTreeSet<&str> = outcomes
        .filter_map(|o| match o {
            Outcome::Host { host, .. } => Some(host.as_str()),
            _ => None,
        })
        .collect();
    let attributed = fanout::run(hosts.into_iter().map(str::to_string), CONCURRENCY, move |h| {
        let a = attributor.clone();
        async move { (h.clone(), a.host(&h, None).await) }
    })
    .await;
    attributed.into_iter().filter_map(Result::ok).collect()
}

/// Who serves one domain (or fediverse contact), as shares of each level's buckets and what
/// each level counts apart (each level's shares sum to 1).
#[derive(Debug, Default)]
struct Served {
    server: String,
    provider: HostShares,
    service: Option<(String, String)>,
    gateway: Option<String>,
    organisation: HostShares,
    asn: HostShares,
    country: HostShares,
}

/// The buckets of `shares`, then what it counts apart in brackets (`(no AS)`), `; `-separated
/// (`None` when there are none).
fn joined(shares: &HostShares) -> Option<String> {
    let names: Vec<String> = (shares.buckets.keys().cloned())
        .chain(shares.apart.keys().map(|why| format!("({why})")))
        .collect();
    (!names.is_empty()).then(|| names.join("; "))
}

/// Who serves `domain`, from its DNS outcome, the rules' names and its server's attribution:
/// the address levels shared as the follows metrics share an instance ([`host_shares`]).
fn served(host: &str, named: Option<&Named>, h: Option<&HostAttribution>, policy: AddressPolicy) -> Served {
    let at = |level: Level| host_shares(host, h, policy, level);
    let one = |bucket: String| HostShares {
        buckets: BTreeMap::from([(bucket, 1.0)]),
        apart: BTreeMap::new(),
    };
    let (provider, service) = match (
        named.and_then(|n| n.provider.as_ref()),
        named.and_then(|n| n.gateway.as_ref()),
    ) {
        (Some(p), _) => (one(p.name.clone()), Some((p.name.clone(), p.service.clone()))),
        (None, Some(g)) => (one(format!("behind gateway {g}")), None),
        (None, None) => (at(Level::Organisation), None),
    };
    Served {
        server: host.to_string(),
        provider,
        service,
        gateway: named.and_then(|n| n.gateway.clone()),
        organisation: at(Level::Organisation),
        asn: at(Level::As),
        country: at(Level::Country),
    }
}

/// Measure `book` (the owner's addresses already removed) under `weight`.
pub async fn measure(ctx: &Context, attributor: Arc<Attributor>, book: &Book, weight: ContactWeight) -> Measurement {
    measure_domains(ctx, attributor, book, weight).await.measurement
}

/// Whether nothing could be served: domains were asked and every lookup failed (timeouts,
/// SERVFAIL, no resolver), as against answers that say a domain has no server.
fn nothing_served(domains: &BTreeMap<&Key, Domain<'_>>) -> bool {
    !domains.is_empty() && domains.values().all(|d| matches!(d.served.outcome, Outcome::Failed(_)))
}

/// What the run's DNS lookups came to: the domains that did not resolve (NXDOMAIN, or no
/// answer), by answer, and the nameserver if it was taken for not answering.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub unresolved: Unresolved,
    pub not_answering: Option<NotAnswering>,
    /// Fediverse contacts not asked by WebFinger, by domain: those beyond
    /// `contacts.max_lookups_per_domain`.
    pub not_looked_up: BTreeMap<String, usize>,
    /// The contacts of the domains that did not resolve, and of every domain: what the
    /// report's "Server not found" counts, said beside the domains.
    pub unresolved_contacts: (u64, u64),
}

/// Once the nameserver is taken for not answering, a domain that timed out did so for the
/// same reason: it is counted as not answering too.
fn not_answering(asked: &mut BTreeMap<Target, serve::Served>) {
    for s in asked.values_mut() {
        if matches!(&s.outcome, Outcome::Failed(m) if m == "timeout") {
            s.outcome = Outcome::Failed(DNS_NOT_ANSWERING.into());
        }
    }
}

/// The domains that did not resolve, by answer.
fn unresolved(domains: &BTreeMap<&Key, Domain<'_>>) -> Unresolved {
    let mut u = Unresolved {
        of: domains.len(),
        ..Unresolved::default()
    };
    for d in domains.values() {
        match &d.served.outcome {
            Outcome::NoDomain => u.add(NXDOMAIN),
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

/// Each level's buckets and what it counts apart, summed over the addresses.
#[derive(Default)]
struct Sums {
    levels: BTreeMap<&'static str, BTreeMap<String, f64>>,
    apart: BTreeMap<&'static str, BTreeMap<String, f64>>,
}

impl Sums {
    fn add(&mut self, level: &'static str, bucket: &str, w: f64) {
        *self
            .levels
            .entry(level)
            .or_default()
            .entry(bucket.to_string())
            .or_default() += w;
    }

    fn apart(&mut self, level: &'static str, why: &str, w: f64) {
        *self.apart.entry(level).or_default().entry(why.to_string()).or_default() += w;
    }

    fn shares(&mut self, level: &'static str, shares: &HostShares, w: f64) {
        for (b, share) in &shares.buckets {
            self.add(level, b, w * share);
        }
        for (why, share) in &shares.apart {
            self.apart(level, why, w * share);
        }
    }
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
    // Each domain once; each fediverse contact once (its instance knows its accounts one by
    // one, so an account unknown there says nothing of the domain's others).
    let targets: BTreeSet<Target> = book.addresses.keys().map(target).collect();
    let (ask, beyond) = capped(targets, ctx.config.contacts.max_lookups_per_domain);
    let mut asked = serve_all(ctx, ask).await;
    let not_looked_up = stand_in(&mut asked, beyond);
    for addr in book.addresses.keys() {
        asked.entry(target(addr)).or_insert_with(|| serve::Served {
            outcome: Outcome::Failed("internal error".into()),
            steps: vec![],
        });
    }
    let dead = ctx.dns.not_answering();
    if dead.is_some() {
        not_answering(&mut asked);
    }
    let domains = domains(&asked);
    let dead_domains: BTreeSet<&Key> = (domains.iter())
        .filter(|(_, d)| matches!(d.served.outcome, Outcome::NoDomain | Outcome::Failed(_)))
        .map(|(k, _)| *k)
        .collect();
    let mut lookups = Lookups {
        unresolved: unresolved(&domains),
        not_answering: dead,
        not_looked_up,
        unresolved_contacts: (0, 0),
    };
    let failed = nothing_served(&domains);
    let named = name_all(ctx, &providers, &domains).await;
    let of_host = attribute_all(attributor, asked.values().map(|s| &s.outcome)).await;
    let policy = a.address_policy;
    let served: BTreeMap<&Target, Served> = asked
        .iter()
        .filter_map(|(t, s)| match &s.outcome {
            Outcome::Host { host, .. } => Some((t, served(host, named.get(&t.0), of_host.get(host), policy))),
            _ => None,
        })
        .collect();
    let mut records: BTreeMap<&Key, DomainRecord> = domains
        .iter()
        .map(|(k, d)| {
            let mut steps = d.steps.clone();
            steps.extend(named.get(*k).and_then(|n| n.step.clone()));
            (*k, record(k, &d.served.outcome, served.get(d.target), steps))
        })
        .collect();

    let mut sums = Sums::default();
    let mut services: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut apart_w: BTreeMap<String, f64> = BTreeMap::new();
    let mut total = 0.0;
    for (addr, aw) in &book.addresses {
        let Some((t, s)) = asked.get_key_value(&target(addr)) else {
            continue;
        };
        if let Some(r) = records.get_mut(&t.0) {
            r.contacts += 1;
            r.messages += aw.messages;
        }
        let w = match weight {
            ContactWeight::Contacts => 1.0,
            ContactWeight::Messages => aw.messages as f64,
        };
        if w <= 0.0 {
            continue;
        }
        total += w;
        if let Some(why) = apart(addr.protocol(), &s.outcome) {
            *apart_w.entry(why).or_default() += w;
            continue;
        }
        let Some(s) = served.get(t) else { continue };
        sums.add("protocol", addr.protocol().name(), w);
        sums.add("domain", &t.0 .1, w);
        sums.add("server", &s.server, w);
        sums.shares("provider", &s.provider, w);
        if let Some((p, service)) = &s.service {
            *services
                .entry(p.clone())
                .or_default()
                .entry(service.clone())
                .or_default() += w;
        }
        if addr.protocol() == Protocol::Email {
            match &s.gateway {
                Some(g) => sums.add("gateway", g, w),
                None => sums.apart("gateway", DIRECT, w),
            }
        }
        sums.shares("organisation", &s.organisation, w);
        sums.shares("as", &s.asn, w);
        sums.shares("country", &s.country, w);
    }
    // A level with nothing to tell is left out (with what it counted apart): no gateway
    // anywhere, no country known.
    let told = |level: &str, b: &BTreeMap<String, f64>| match level {
        "gateway" | "country" => !b.is_empty(),
        _ => true,
    };
    let mut levels = vec![];
    let mut level_apart = BTreeMap::new();
    for l in LEVELS {
        let b = sums.levels.remove(l).unwrap_or_default();
        if told(l, &b) {
            levels.push((l.to_string(), b));
            if let Some(apart) = sums.apart.remove(l) {
                level_apart.insert(l.to_string(), apart);
            }
        }
    }
    let in_dead: u64 = (records.iter())
        .filter(|(k, _)| dead_domains.contains(*k))
        .map(|(_, r)| r.contacts)
        .sum();
    lookups.unresolved_contacts = (in_dead, book.addresses.len() as u64);
    let m = Measurement {
        weight: weight.name(),
        addresses: book.addresses.len(),
        total,
        malformed: book.malformed.len(),
        levels,
        services,
        apart: apart_w,
        level_apart,
    };
    Measured {
        measurement: m,
        domains: records.into_values().collect(),
        nothing_served: failed,
        lookups,
    }
}

/// The stored record of one domain (its counts are added by the caller): that of the
/// contact that stands for it (a fediverse domain's first contact whose server was found).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spf_step_names_the_include_escaped() {
        let hit = |rule: &str| Hit {
            name: "Microsoft".into(),
            service: "Microsoft 365".into(),
            kind: Kind::Mailbox,
            rule: rule.into(),
        };
        assert_eq!(
            spf_step(&hit("spf.protection.outlook.com")),
            "SPF include:spf.protection.outlook.com (Microsoft)"
        );
        assert_eq!(
            spf_step(&hit("x\u{1b}[2J.spf.protection.outlook.com")),
            "SPF include:x\\u{1b}[2J.spf.protection.outlook.com (Microsoft)"
        );
    }

    #[test]
    fn the_steps_of_several_contacts_say_how_many_took_each() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (found, unknown) = (s(&["WebFinger: actor on m.example"]), s(&["WebFinger: HTTP 404"]));
        let (found, unknown) = (found.as_slice(), unknown.as_slice());
        assert_eq!(merged_steps(&[found]), found);
        assert_eq!(merged_steps(&[found, found]), found);
        assert_eq!(
            merged_steps(&[found, unknown, found]),
            s(&[
                "WebFinger: actor on m.example (2 of 3 contacts)",
                "WebFinger: HTTP 404 (1 of 3 contacts)"
            ])
        );
    }
}
