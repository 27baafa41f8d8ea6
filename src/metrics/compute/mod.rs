//! From a [`Snapshot`] to the buckets of every level under every weight.
//!
//! First the listed accounts are made distinct (one key per actor URI, else per handle; an
//! account seen under both is merged) and the follow edges counted; then each weight is a
//! weight per instance host plus what is counted apart; then each level shares every host's
//! weight between its buckets, with the address policy of the snapshot
//! ([`crate::attribution::split_by`], the one implementation of it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{DepthLists, Level, LevelMetrics, Population, SnapshotMetrics, Weight, ACTIVE_DAYS};
use crate::attribution::split_by;
use crate::model::account::{key_digest, normal_handle, Account, Cause, Direction, KeyDigest, ListStatus};
use crate::model::attribution::{AddressAttribution, AddressPolicy, HostAttribution};
use crate::model::snapshot::Snapshot;

/// Reasons weight is counted apart.
pub const NO_SERVER: &str = "no server";
pub const ACTIVITY_UNKNOWN: &str = "activity unknown";
pub const NO_NODEINFO: &str = "no nodeinfo";
pub const NO_USER_COUNT: &str = "no user count";
pub const NOT_ATTRIBUTED: &str = "not attributed";
pub const UNRESOLVED: &str = "unresolved";
pub const NO_AS: &str = "no AS";
/// The AS look-up itself failed (e.g. Team Cymru timed out): not known to have no AS.
pub const AS_LOOKUP_FAILED: &str = "AS look-up failed";
pub const NO_COUNTRY: &str = "no country";
pub const NOT_MANAGED: &str = "not managed";

/// One distinct account, merged over its appearances. Kept small (a snapshot may reach a
/// million accounts): its instance as an index into [`Graph::hosts`], its last post as a day.
#[derive(Debug, Default)]
struct Distinct {
    server: Option<u32>,
    /// The first `last_status_at` met (outer `Some`), as a day number when it is a date.
    last_day: Option<Option<i64>>,
    opted_out: bool,
    fetch_failed: bool,
}

/// The accounts and edges of a snapshot, made distinct.
#[derive(Debug, Default)]
struct Graph {
    accounts: Vec<Distinct>,
    /// Instance hosts, each once, and where each is in `hosts`.
    hosts: Vec<String>,
    host_ids: HashMap<String, u32>,
    /// Accounts by the digest of their actor URI, and of their normal handle
    /// ([`key_digest`]): 16 bytes a key, however long.
    by_uri: HashMap<KeyDigest, u32>,
    by_handle: HashMap<KeyDigest, u32>,
    /// (seed, following, account) of each distinct edge (sorted, each once); seeds numbered
    /// by `seeds`.
    edges: Vec<(u32, bool, u32)>,
    seeds: HashMap<String, u32>,
    entries: usize,
}

impl Graph {
    fn of(snapshot: &Snapshot) -> Graph {
        let mut g = Graph::default();
        // A deeper crawl's expanded accounts list accounts too: every account reached at any
        // depth is one distinct account, as one followed by two seeds is.
        for seed in snapshot.crawl.all() {
            let key = seed.actor_uri.as_ref().or(seed.handle.as_ref()).unwrap_or(&seed.input);
            let next = g.seeds.len() as u32;
            let seed_id = *g.seeds.entry(key.clone()).or_insert(next);
            for list in [&seed.following, &seed.followers].into_iter().flatten() {
                let following = list.direction == Direction::Following;
                for a in &list.accounts {
                    g.entries += 1;
                    let id = g.account(a);
                    g.edges.push((seed_id, following, id));
                }
            }
        }
        g.edges.sort_unstable();
        g.edges.dedup();
        g.edges.shrink_to_fit();
        g
    }

    /// The distinct account `a` is, merging what this appearance adds.
    fn account(&mut self, a: &Account) -> u32 {
        let uri = a.actor_uri.as_deref().map(key_digest);
        let handle = a.handle.as_deref().map(|h| key_digest(&normal_handle(h)));
        let known = uri
            .and_then(|u| self.by_uri.get(&u))
            .or_else(|| handle.and_then(|h| self.by_handle.get(&h)))
            .copied();
        let id = known.unwrap_or_else(|| {
            self.accounts.push(Distinct::default());
            (self.accounts.len() - 1) as u32
        });
        if let Some(u) = uri {
            self.by_uri.entry(u).or_insert(id);
        }
        if let Some(h) = handle {
            self.by_handle.entry(h).or_insert(id);
        }
        let server = match (self.accounts[id as usize].server, &a.server) {
            (Some(s), _) => Some(s),
            (None, Some(host)) => Some(self.host_id(host.as_str())),
            (None, None) => None,
        };
        let d = &mut self.accounts[id as usize];
        d.server = server;
        d.last_day = d.last_day.or_else(|| a.last_status_at.as_deref().map(day_number));
        d.opted_out |= !a.may_expand();
        d.fetch_failed |= a.fetch_error.is_some();
        id
    }

    /// The index of instance `host` in `hosts`, adding it when new.
    fn host_id(&mut self, host: &str) -> u32 {
        if let Some(id) = self.host_ids.get(host) {
            return *id;
        }
        let id = self.hosts.len() as u32;
        self.hosts.push(host.to_string());
        self.host_ids.insert(host.to_string(), id);
        id
    }

    /// The instance host of `a`, if known.
    fn server(&self, a: &Distinct) -> Option<&String> {
        a.server.map(|i| &self.hosts[i as usize])
    }
}

/// A weight per instance host, and the weight counted apart.
#[derive(Debug, Default)]
struct HostWeights {
    hosts: BTreeMap<String, f64>,
    apart: BTreeMap<String, f64>,
}

impl HostWeights {
    fn add(&mut self, server: Option<&String>, w: f64) {
        match server {
            Some(s) => *self.hosts.entry(s.clone()).or_default() += w,
            None => *self.apart.entry(NO_SERVER.into()).or_default() += w,
        }
    }

    fn apart(&mut self, reason: &str) {
        *self.apart.entry(reason.into()).or_default() += 1.0;
    }
}

/// Days since 1970-01-01 of the `YYYY-MM-DD` that starts `s` (a date or an RFC 3339 time).
fn day_number(s: &str) -> Option<i64> {
    let d = s.get(..10)?;
    let mut parts = d.split('-');
    let (y, m, day): (i64, i64, i64) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || !(0..=9999).contains(&y) {
        return None;
    }
    // Days from civil (proleptic Gregorian), after Howard Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Whether a last post on `last` is within [`ACTIVE_DAYS`] of `end`; `None` when unknown.
#[cfg(test)]
fn is_active(last: Option<&str>, end: Option<i64>) -> Option<bool> {
    active_on(last.map(day_number), end)
}

/// [`is_active`] of a last post already made a day number ([`Distinct::last_day`]).
fn active_on(last_day: Option<Option<i64>>, end: Option<i64>) -> Option<bool> {
    let (last, end) = (last_day??, end?);
    Some(end - last <= ACTIVE_DAYS)
}

fn host_weights(snapshot: &Snapshot, g: &Graph, weight: Weight) -> HostWeights {
    let mut hw = HostWeights::default();
    let end = day_number(&snapshot.crawl.finished_at);
    match weight {
        Weight::Accounts => g.accounts.iter().for_each(|a| hw.add(g.server(a), 1.0)),
        Weight::Edges => g
            .edges
            .iter()
            .for_each(|(_, _, id)| hw.add(g.server(&g.accounts[*id as usize]), 1.0)),
        Weight::Active => {
            for a in &g.accounts {
                match active_on(a.last_day, end) {
                    Some(true) => hw.add(g.server(a), 1.0),
                    Some(false) => {}
                    None => hw.apart(ACTIVITY_UNKNOWN),
                }
            }
        }
        Weight::Instances | Weight::Users => {
            for host in instances(g) {
                if weight == Weight::Instances {
                    hw.add(Some(&host), 1.0);
                    continue;
                }
                match nodeinfo(snapshot, &host).map(|n| n.users_total) {
                    Some(Some(users)) => hw.add(Some(&host), users as f64),
                    Some(None) => hw.apart(NO_USER_COUNT),
                    None => hw.apart(NO_NODEINFO),
                }
            }
        }
    }
    hw
}

/// The NodeInfo of instance `host`, when it published one.
fn nodeinfo<'a>(snapshot: &'a Snapshot, host: &str) -> Option<&'a crate::model::snapshot::NodeInfo> {
    let report = snapshot
        .crawl
        .instances
        .get(&crate::model::handle::InstanceHost::new(host))?;
    report.nodeinfo.as_ref()
}

/// The instance hosts holding at least one counted account.
fn instances(g: &Graph) -> BTreeSet<String> {
    g.accounts.iter().filter_map(|a| g.server(a).cloned()).collect()
}

/// Where one address goes at an address level: a bucket key, or a reason to count it apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Bucket(String),
    Apart(&'static str),
}

/// The slot and the bucket label of an address at `level`.
fn address_slot(level: Level, a: &AddressAttribution) -> (Slot, String) {
    let as_label = || match (a.asn, &a.as_name) {
        (Some(n), Some(name)) => format!("AS{n} {name}"),
        (Some(n), None) => format!("AS{n}"),
        _ => String::new(),
    };
    match level {
        Level::Organisation if a.cdn.is_some() => (Slot::Bucket(a.bucket()), a.bucket()),
        Level::Organisation | Level::As | Level::Range if a.asn.is_none() && a.lookup_error.is_some() => {
            (Slot::Apart(AS_LOOKUP_FAILED), String::new())
        }
        Level::Organisation | Level::As if a.asn.is_none() => (Slot::Apart(NO_AS), String::new()),
        Level::Organisation => (Slot::Bucket(a.organisation.clone()), a.organisation.clone()),
        Level::As => (Slot::Bucket(format!("AS{}", a.asn.unwrap_or_default())), as_label()),
        Level::Range => match (a.range_start, a.range_end) {
            (Some(s), Some(e)) => (Slot::Bucket(format!("{s}-{e}")), format!("{s}-{e} ({})", as_label())),
            _ => (Slot::Apart(NO_AS), String::new()),
        },
        Level::Block => (Slot::Bucket(a.cover.to_string()), a.cover.to_string()),
        Level::Country => match &a.country {
            Some(c) => (Slot::Bucket(c.to_uppercase()), c.to_uppercase()),
            None => (Slot::Apart(NO_COUNTRY), String::new()),
        },
        Level::Instance | Level::Hosting => (Slot::Apart(NOT_ATTRIBUTED), String::new()),
    }
}

/// How one host's weight (1) is shared between the slots of `level`; labels of new bucket
/// keys go into `labels`.
fn host_split(
    attribution: Option<&HostAttribution>,
    policy: AddressPolicy,
    level: Level,
    host: &str,
    labels: &mut BTreeMap<String, String>,
) -> BTreeMap<Slot, f64> {
    let one = |slot: Slot| BTreeMap::from([(slot, 1.0)]);
    match (level, attribution) {
        (Level::Instance, _) => {
            labels.entry(host.to_string()).or_insert_with(|| host.to_string());
            one(Slot::Bucket(host.to_string()))
        }
        (_, None) => one(Slot::Apart(NOT_ATTRIBUTED)),
        (Level::Hosting, Some(h)) => match &h.hosting_service {
            Some(s) => {
                labels.entry(s.clone()).or_insert_with(|| s.clone());
                one(Slot::Bucket(s.clone()))
            }
            None if h.addresses.is_empty() => one(Slot::Apart(UNRESOLVED)),
            None => one(Slot::Apart(NOT_MANAGED)),
        },
        (_, Some(h)) => {
            for a in &h.addresses {
                if let (Slot::Bucket(k), label) = address_slot(level, a) {
                    labels.entry(k).or_insert(label);
                }
            }
            split_by(policy, &h.addresses, h.connected, Slot::Apart(UNRESOLVED), |a| {
                address_slot(level, a).0
            })
        }
    }
}

/// How one host's weight (1) is shared at an address level: by bucket, each named by its
/// label (`AS24940 Hetzner Online GmbH`, `Hetzner`, `DE`), and by reason counted apart
/// (`no AS`, `unresolved`, `AS look-up failed`, `no country`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostShares {
    pub buckets: BTreeMap<String, f64>,
    pub apart: BTreeMap<&'static str, f64>,
}

/// The weight (1) of `host`, attributed as `attribution` (`None`: it was not), shared at
/// `level` under `policy` exactly as the follow-graph metrics share an instance's
/// ([`host_split`]): what counts an address apart there (no AS, no address, a failed AS
/// look-up, no country, not attributed) counts it apart here. The contacts measurement shares
/// each serving host so.
pub fn host_shares(
    host: &str,
    attribution: Option<&HostAttribution>,
    policy: AddressPolicy,
    level: Level,
) -> HostShares {
    let mut labels = BTreeMap::new();
    let mut out = HostShares::default();
    let split = host_split(attribution, policy, level, host, &mut labels);
    for (slot, part) in split {
        match slot {
            Slot::Bucket(k) => {
                let label = labels.get(&k).filter(|l| !l.is_empty()).cloned().unwrap_or(k);
                *out.buckets.entry(label).or_default() += part;
            }
            Slot::Apart(why) => *out.apart.entry(why).or_default() += part,
        }
    }
    out
}

fn level_metrics(snapshot: &Snapshot, level: Level, weight: Weight, hw: &HostWeights) -> LevelMetrics {
    let attributed = Attributed {
        hosts: &snapshot.hosts,
        policy: snapshot.attribution.address_policy,
    };
    by_host(&attributed, level, weight, &hw.hosts, &hw.apart)
}

/// The attribution of a set of hosts and the address policy that shares a host between its
/// addresses.
#[derive(Debug, Clone, Copy)]
pub struct Attributed<'a> {
    pub hosts: &'a BTreeMap<String, HostAttribution>,
    pub policy: AddressPolicy,
}

/// `level` under `weight` from a weight per host (`weights`) and the weight already counted
/// apart (`apart`): each host's weight shared between its buckets as in [`compute()`], by
/// [`LevelSums`]. The follow-graph metrics go through here with their account weights.
pub fn by_host(
    attributed: &Attributed<'_>,
    level: Level,
    weight: Weight,
    weights: &BTreeMap<String, f64>,
    apart: &BTreeMap<String, f64>,
) -> LevelMetrics {
    let mut sums = LevelSums::new(level, weight, apart.clone());
    for (host, w) in weights {
        sums.add(attributed.hosts.get(host), attributed.policy, host, *w);
    }
    sums.finish()
}

/// `level` under `weight` summed one host at a time: what is held is a sum and a label per
/// bucket and a sum per reason counted apart, never the hosts. Hosts added in the order of
/// their names give the sums [`by_host`] gives (it adds them so) to the last bit. The
/// instance-list survey (`whohosts instances`) adds each stored instance as it reads it, with
/// NodeInfo users, active users or 1.
#[derive(Debug, Clone)]
pub struct LevelSums {
    level: Level,
    weight: Weight,
    labels: BTreeMap<String, String>,
    sums: BTreeMap<String, f64>,
    apart: BTreeMap<String, f64>,
}

impl LevelSums {
    /// No host yet; `apart`: the weight already counted apart.
    pub fn new(level: Level, weight: Weight, apart: BTreeMap<String, f64>) -> LevelSums {
        LevelSums {
            level,
            weight,
            labels: BTreeMap::new(),
            sums: BTreeMap::new(),
            apart,
        }
    }

    /// Host `host` (attributed as `attribution`, `None` when it was not) of weight `w`,
    /// shared between its buckets under `policy`.
    pub fn add(&mut self, attribution: Option<&HostAttribution>, policy: AddressPolicy, host: &str, w: f64) {
        for (slot, part) in host_split(attribution, policy, self.level, host, &mut self.labels) {
            let target = match slot {
                Slot::Bucket(k) => self.sums.entry(k),
                Slot::Apart(reason) => self.apart.entry(reason.to_string()),
            };
            *target.or_default() += w * part;
        }
    }

    /// The level's buckets, ranked, and its figures.
    pub fn finish(self) -> LevelMetrics {
        let LevelSums {
            level,
            weight,
            labels,
            sums,
            mut apart,
        } = self;
        let entries = sums.into_iter().map(|(key, weight)| {
            let label = labels.get(&key).cloned().unwrap_or_else(|| key.clone());
            (key, label, weight)
        });
        let (buckets, summary) = crate::metrics::rank(entries);
        apart.retain(|_, w| *w > 0.0);
        LevelMetrics {
            level,
            weight,
            buckets,
            summary,
            apart,
        }
    }
}

/// Count `lists` by status into `p`.
fn count_lists(p: &mut Population, lists: &[&crate::model::account::FollowList]) {
    for l in lists {
        p.lists += 1;
        match &l.status {
            ListStatus::Complete => p.lists_complete += 1,
            ListStatus::Hidden { unseen } => {
                p.lists_hidden += 1;
                p.accounts_unseen += unseen.unwrap_or(0);
            }
            ListStatus::NotExposed { unseen } => {
                p.lists_not_exposed += 1;
                p.accounts_unseen += unseen.unwrap_or(0);
            }
            ListStatus::Refused { .. } => p.lists_refused += 1,
            ListStatus::Partial { .. } => p.lists_partial += 1,
        }
    }
}

fn population(snapshot: &Snapshot, g: &Graph) -> Population {
    let mut p = Population {
        seeds: snapshot.crawl.seeds.len(),
        list_entries: g.entries,
        edges: g.edges.len(),
        accounts: g.accounts.len(),
        ..Population::default()
    };
    // The lists of every depth are counted, as the list entries and accounts are; the seeds'
    // own figures (failed, duplicate …) are the command's handles only.
    let crawl = &snapshot.crawl;
    let mut by_depth: BTreeMap<u32, DepthLists> = BTreeMap::new();
    // One walk (the expanded accounts' reports are unpacked as they are reached).
    for s in crawl.all() {
        let depth = s.depth.saturating_add(1);
        let d = by_depth.entry(depth).or_insert_with(|| DepthLists {
            depth,
            ..DepthLists::default()
        });
        for l in [&s.following, &s.followers].into_iter().flatten() {
            d.lists += 1;
            d.lists_complete += usize::from(l.status == ListStatus::Complete);
            d.list_entries += l.accounts.len();
        }
        let lists: Vec<_> = [&s.following, &s.followers].into_iter().flatten().collect();
        if s.depth > 0 {
            count_lists(&mut p, &lists);
            continue;
        }
        if s.error.is_some() {
            p.seeds_failed += 1;
        } else if s.duplicate_of.is_some() {
            p.seeds_duplicate += 1;
        } else if lists.iter().all(|l| l.status == ListStatus::Complete) {
            p.seeds_complete += 1;
        }
        let opted_out = |l: &&crate::model::account::FollowList| {
            matches!(
                &l.status,
                ListStatus::Refused {
                    kind: Cause::OptedOut,
                    ..
                }
            )
        };
        if lists.iter().any(opted_out) {
            p.seeds_opted_out += 1;
        }
        count_lists(&mut p, &lists);
    }
    if crawl.depth.is_some() {
        p.by_depth = by_depth.into_values().collect();
    }
    let end = day_number(&snapshot.crawl.finished_at);
    for a in &g.accounts {
        p.accounts_without_server += usize::from(a.server.is_none());
        p.accounts_opted_out += usize::from(a.opted_out);
        p.accounts_fetch_failed += usize::from(a.fetch_failed);
        match active_on(a.last_day, end) {
            Some(true) => p.accounts_active += 1,
            Some(false) => p.accounts_inactive += 1,
            None => p.accounts_activity_unknown += 1,
        }
    }
    for host in instances(g) {
        p.instances += 1;
        p.instances_without_nodeinfo += usize::from(nodeinfo(snapshot, &host).is_none());
        match snapshot.hosts.get(&host) {
            None => p.instances_not_attributed += 1,
            Some(h) if h.addresses.is_empty() => p.instances_unresolved += 1,
            Some(_) => {}
        }
    }
    p
}

/// Every level under every weight, and the population, of `snapshot`.
pub fn compute(snapshot: &Snapshot) -> SnapshotMetrics {
    let g = Graph::of(snapshot);
    let mut levels = vec![];
    for weight in Weight::ALL {
        let hw = host_weights(snapshot, &g, *weight);
        for level in Level::ALL {
            levels.push(level_metrics(snapshot, *level, *weight, &hw));
        }
    }
    levels.sort_by_key(|l| (l.level, l.weight));
    SnapshotMetrics {
        population: population(snapshot, &g),
        levels,
    }
}

#[cfg(test)]
mod tests;
