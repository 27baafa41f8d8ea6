//! The rows of one snapshot: seeds, lists, instances, accounts, follows, opt-out counts,
//! DNS answers, addresses and host shares, as the [`Privacy`] view lets them be shown.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::privacy::{identity, identity_of, normal_handle, Privacy, SMALL_GROUPS};
use super::table::{count, opt_count, Value};
use super::Tables;
use crate::model::account::{Account, FollowList, ListStatus};
use crate::model::attribution::HostAttribution;
use crate::model::snapshot::SeedReport;
use crate::model::snapshot::Snapshot;

/// One distinct account of a snapshot, merged over its appearances (as the metrics count it).
struct Seen<'s> {
    first: &'s Account,
    server: Option<String>,
    opted_out: bool,
}

/// The distinct accounts of a snapshot, by identity (`.0`), and identity by handle (`.1`).
struct Accounts<'s>(BTreeMap<String, Seen<'s>>, BTreeMap<String, String>);

impl<'s> Accounts<'s> {
    fn of(reports: &'s [Cow<'_, SeedReport>]) -> Accounts<'s> {
        let mut map: BTreeMap<String, Seen<'s>> = BTreeMap::new();
        for a in lists(reports).flat_map(|(_, l)| &l.accounts) {
            let Some(id) = identity(a) else { continue };
            let seen = map.entry(id).or_insert(Seen {
                first: a,
                server: None,
                opted_out: false,
            });
            seen.server = seen.server.take().or_else(|| a.server.as_ref().map(|s| s.to_string()));
            seen.opted_out |= !a.may_expand();
        }
        let by_handle = map
            .iter()
            .filter_map(|(id, s)| Some((normal_handle(s.first.handle.as_deref()?), id.clone())))
            .collect();
        Accounts(map, by_handle)
    }

    /// The identity `reference` (an actor URI or a handle, as `moved_to` holds) names:
    /// that of the account with this URI or handle when the snapshot has it.
    fn resolve(&self, reference: &str) -> String {
        if self.0.contains_key(reference) {
            return reference.to_string();
        }
        let handle = normal_handle(reference);
        match self.1.get(&handle) {
            Some(id) => id.clone(),
            None if reference.contains("://") => reference.to_string(),
            None => handle,
        }
    }

    fn opted_out(&self, a: &Account) -> bool {
        identity(a).and_then(|id| self.0.get(&id)).is_some_and(|s| s.opted_out)
    }

    /// Distinct accounts per server host.
    fn per_host(&self) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for s in self.0.values() {
            if let Some(h) = &s.server {
                *out.entry(h.as_str()).or_default() += 1;
            }
        }
        out
    }
}

/// Distinct accounts (opted-out ones too) per server host of `snapshot`, as the instances
/// table lists them: the group sizes [`Privacy`] decides by.
pub fn accounts_per_host(snapshot: &Snapshot) -> BTreeMap<String, u64> {
    Accounts::of(&reports(snapshot))
        .per_host()
        .into_iter()
        .map(|(h, n)| (h.to_string(), n))
        .collect()
}

/// The NodeInfo users (trusted counts) each instance of `snapshot` declares: the group sizes
/// [`Privacy`] decides by for a survey, which lists no accounts.
pub fn users_per_host(snapshot: &Snapshot) -> BTreeMap<String, u64> {
    snapshot
        .crawl
        .instances
        .iter()
        .map(|(h, r)| {
            let users = r.nodeinfo.as_ref().and_then(|n| n.users_total).unwrap_or(0);
            (h.to_string(), users)
        })
        .collect()
}

/// Every report of `snapshot`: the seeds' (depth 0), then those of the accounts a deeper
/// crawl expanded (depth 1 and beyond), whose lists are rows as a seed's are.
fn reports(snapshot: &Snapshot) -> Vec<Cow<'_, SeedReport>> {
    snapshot.crawl.all().collect()
}

/// Every list of every report, with its report's position.
fn lists<'s>(reports: &'s [Cow<'_, SeedReport>]) -> impl Iterator<Item = (usize, &'s FollowList)> {
    reports
        .iter()
        .enumerate()
        .flat_map(|(i, s)| [&s.following, &s.followers].into_iter().flatten().map(move |l| (i, l)))
}

fn seed_opted_out(s: &SeedReport) -> bool {
    s.account.as_ref().is_some_and(|a| !a.may_expand())
}

/// Add the rows of snapshot `id`; returns how many seeds were left out (opted out).
pub fn add(tables: &mut Tables, id: i64, snapshot: &Snapshot, view: &Privacy<'_>) -> usize {
    let reports = reports(snapshot);
    let accounts = Accounts::of(&reports);
    let omitted = seeds(tables, id, &reports, view);
    follow_lists(tables, id, &reports, view, &accounts);
    instances(tables, id, snapshot, &reports, view, &accounts);
    account_rows(tables, id, view, &accounts);
    opted_out(tables, id, &reports, view, &accounts);
    hosts(tables, id, snapshot, &reports, view, &accounts);
    omitted
}

fn seeds(tables: &mut Tables, id: i64, all: &[Cow<'_, SeedReport>], view: &Privacy<'_>) -> usize {
    let mut omitted = 0;
    for (pos, s) in all.iter().enumerate() {
        if seed_opted_out(s) {
            // A seed the command named is counted in `snapshots.seeds_omitted`; an account a
            // deeper crawl found opted out at its profile is in the opt-out counts already.
            omitted += usize::from(s.depth == 0);
            continue;
        }
        let who = identity_of(s.actor_uri.as_deref(), s.handle.as_deref());
        let seed = match &who {
            _ if view.includes_handles() => Value::Text(s.handle.clone().unwrap_or_else(|| s.input.clone())),
            Some(w) => view.account(w).into(),
            None => view.identifying("input", Some(&s.input)),
        };
        let outcome = match (&s.error, &s.duplicate_of) {
            (Some(_), _) => "failed",
            (None, Some(_)) => "duplicate",
            (None, None) => "crawled",
        };
        let duplicate_of = s
            .duplicate_of
            .as_ref()
            .and_then(|d| all.iter().position(|o| &o.input == d))
            .map_or(Value::Null, count);
        tables.get("seeds").push(vec![
            id.into(),
            count(pos),
            seed,
            who.as_deref().map_or(Value::Null, |w| view.account(w).into()),
            s.server.as_ref().map(|h| view.instance(h.as_str())).into(),
            outcome.into(),
            duplicate_of,
            s.error.as_ref().map(|e| e.kind.clone()).into(),
            view.free_text(s.error.as_ref().map(|e| e.message.as_str())),
            count(s.depth as usize),
        ]);
    }
    omitted
}

fn status(l: &FollowList) -> (&'static str, Option<u64>, Option<&str>) {
    match &l.status {
        ListStatus::Complete => ("complete", None, None),
        ListStatus::Hidden { unseen } => ("hidden", *unseen, None),
        ListStatus::NotExposed { unseen } => ("not-exposed", *unseen, None),
        ListStatus::Refused { reason, .. } => ("refused", None, Some(reason)),
        ListStatus::Partial { reason, .. } => ("partial", None, Some(reason)),
    }
}

fn follow_lists(
    tables: &mut Tables,
    id: i64,
    reports: &[Cow<'_, SeedReport>],
    view: &Privacy<'_>,
    accounts: &Accounts<'_>,
) {
    for (pos, l) in lists(reports) {
        if reports.get(pos).is_none_or(|s| seed_opted_out(s)) {
            continue;
        }
        let direction = l.direction.segment();
        let mut rows = 0usize;
        let mut hidden = 0usize;
        for a in &l.accounts {
            let Some(who) = identity(a) else { continue };
            if accounts.opted_out(a) {
                hidden += 1;
                continue;
            }
            tables.get("follows").push(vec![
                id.into(),
                count(pos),
                direction.into(),
                count(rows),
                view.account(&who).into(),
            ]);
            rows += 1;
        }
        let (state, unseen, reason) = status(l);
        tables.get("lists").push(vec![
            id.into(),
            count(pos),
            direction.into(),
            l.source.as_str().into(),
            opt_count(l.declared),
            state.into(),
            crate::store::kinds::list_kind(&l.status).into(),
            opt_count(unseen),
            view.free_text(reason),
            count(l.pages),
            count(rows),
            count(hidden),
        ]);
    }
}

/// Every host of the snapshot, grouped by how it appears; members of a generalised
/// instance in an order that says nothing about their names.
fn groups(
    snapshot: &Snapshot,
    reports: &[Cow<'_, SeedReport>],
    view: &Privacy<'_>,
    accounts: &Accounts<'_>,
) -> BTreeMap<String, Vec<String>> {
    let mut hosts: BTreeSet<String> = snapshot.crawl.instances.keys().map(|h| h.to_string()).collect();
    hosts.extend(snapshot.hosts.keys().cloned());
    hosts.extend(accounts.0.values().filter_map(|s| s.server.clone()));
    hosts.extend(reports.iter().filter_map(|s| s.server.as_ref().map(|h| h.to_string())));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in hosts {
        out.entry(view.instance(&h)).or_default().push(h);
    }
    for members in out.values_mut() {
        members.sort_by_cached_key(|h| view.member_order(h));
    }
    out
}

fn instances(
    tables: &mut Tables,
    id: i64,
    snapshot: &Snapshot,
    reports: &[Cow<'_, SeedReport>],
    view: &Privacy<'_>,
    accounts: &Accounts<'_>,
) {
    let per_host = accounts.per_host();
    for (key, members) in groups(snapshot, reports, view, accounts) {
        let generalised = members.iter().any(|h| view.is_small(h));
        let listed: u64 = members
            .iter()
            .map(|h| per_host.get(h.as_str()).copied().unwrap_or(0))
            .sum();
        let report = members.first().filter(|_| !generalised).and_then(|h| {
            snapshot
                .crawl
                .instances
                .get(&crate::model::handle::InstanceHost::new(h))
        });
        let nodeinfo = report.and_then(|r| r.nodeinfo.as_ref());
        let bots = accounts
            .0
            .values()
            .filter(|s| !s.opted_out && s.first.bot == Some(true))
            .filter(|s| s.server.as_ref().is_some_and(|h| members.contains(h)))
            .count();
        tables.get("instances").push(vec![
            id.into(),
            key.into(),
            generalised.into(),
            count(members.len()),
            count(listed),
            nodeinfo.and_then(|n| n.software.clone()).into(),
            nodeinfo.and_then(|n| n.version.clone()).into(),
            opt_count(nodeinfo.and_then(|n| n.users_total)),
            opt_count(nodeinfo.and_then(|n| n.users_active_month)),
            report
                .and_then(|r| r.nodeinfo_error.as_ref())
                .map(|e| e.kind.clone())
                .into(),
            count(bots),
        ]);
    }
}

fn account_rows(tables: &mut Tables, id: i64, view: &Privacy<'_>, accounts: &Accounts<'_>) {
    for (who, seen) in accounts.0.iter().filter(|(_, s)| !s.opted_out) {
        let a = seen.first;
        tables.get("accounts").push(vec![
            id.into(),
            view.account(who).into(),
            view.identifying("handle", a.handle.as_deref()),
            view.identifying("uri", a.actor_uri.as_deref()),
            view.identifying("name", a.display_name.as_deref()),
            seen.server.as_deref().map(|h| view.instance(h)).into(),
            view.bot(a.bot),
            view.account_ref(a.moved_to.as_deref().map(|m| accounts.resolve(m)).as_deref()),
            a.hide_collections.into(),
            view.account_count(a.followers_count),
            view.account_count(a.following_count),
            view.last_active(a.last_status_at.as_deref()),
            a.fetch_error.is_some().into(),
        ]);
    }
}

fn opted_out(
    tables: &mut Tables,
    id: i64,
    reports: &[Cow<'_, SeedReport>],
    view: &Privacy<'_>,
    accounts: &Accounts<'_>,
) {
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for seen in accounts.0.values().filter(|s| s.opted_out) {
        if let Some(h) = &seen.server {
            per.entry(view.instance(h)).or_default().0 += 1;
        }
    }
    let mut edges = BTreeSet::new();
    for (pos, l) in lists(reports) {
        for a in l.accounts.iter().filter(|a| accounts.opted_out(a)) {
            if let Some(who) = identity(a) {
                edges.insert((pos, l.direction.segment(), who));
            }
        }
    }
    for (_, _, who) in &edges {
        if let Some(h) = accounts.0.get(who).and_then(|s| s.server.as_deref()) {
            per.entry(view.instance(h)).or_default().1 += 1;
        }
    }
    for (key, (n, e)) in at_least(per, view.min_group().members) {
        tables
            .get("opted_out")
            .push(vec![id.into(), key.into(), count(n), count(e)]);
    }
}

/// Opt-out counts `(accounts, edges)` per instance with every row of fewer than `min`
/// accounts merged into [`SMALL_GROUPS`], and that row left out when it is under `min` too
/// (the snapshot's total is `population.accounts_opted_out`): no row counts one person.
fn at_least(per: BTreeMap<String, (usize, usize)>, min: u64) -> BTreeMap<String, (usize, usize)> {
    let admits = |n: usize| n as u64 >= min;
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (key, (n, e)) in per {
        let key = if admits(n) && key != SMALL_GROUPS {
            key
        } else {
            SMALL_GROUPS.to_string()
        };
        let row = out.entry(key).or_default();
        row.0 += n;
        row.1 += e;
    }
    if out.get(SMALL_GROUPS).is_some_and(|(n, _)| !admits(*n)) {
        out.remove(SMALL_GROUPS);
    }
    out
}

fn hosts(
    tables: &mut Tables,
    id: i64,
    snapshot: &Snapshot,
    reports: &[Cow<'_, SeedReport>],
    view: &Privacy<'_>,
    accounts: &Accounts<'_>,
) {
    let per_host = accounts.per_host();
    for (key, members) in groups(snapshot, reports, view, accounts) {
        // The DNS answers, addresses and shares of the small groups' members would name their
        // AS, /24 or hosting: left out (the group is only its `instances` row).
        if key == SMALL_GROUPS {
            continue;
        }
        let mut shares: BTreeMap<String, f64> = BTreeMap::new();
        let mut weight = 0.0;
        for (m, host) in members.iter().enumerate() {
            let Some(h) = snapshot.hosts.get(host) else { continue };
            let small = view.is_small(host);
            dns_row(tables, id, &key, m + 1, h, small, view);
            address_rows(tables, id, &key, m + 1, h, small);
            let w = per_host.get(host.as_str()).copied().unwrap_or(0) as f64;
            let w = if members.len() == 1 { 1.0 } else { w };
            weight += w;
            for (bucket, s) in &h.shares {
                *shares.entry(bucket.clone()).or_default() += w * s;
            }
        }
        if weight <= 0.0 {
            // Generalised members with no accounts: their plain average.
            weight = members
                .iter()
                .filter(|h| snapshot.hosts.contains_key(h.as_str()))
                .count() as f64;
            shares = members
                .iter()
                .filter_map(|h| snapshot.hosts.get(h.as_str()))
                .flat_map(|h| h.shares.iter())
                .fold(BTreeMap::new(), |mut acc, (b, s)| {
                    *acc.entry(b.clone()).or_default() += s;
                    acc
                });
        }
        for (bucket, s) in shares {
            let share = if weight > 0.0 { s / weight } else { 0.0 };
            tables
                .get("host_shares")
                .push(vec![id.into(), key.as_str().into(), bucket.into(), share.into()]);
        }
    }
}

fn dns_row(
    tables: &mut Tables,
    id: i64,
    key: &str,
    member: usize,
    h: &HostAttribution,
    small: bool,
    view: &Privacy<'_>,
) {
    let chain = serde_json::to_string(&h.cnames).ok();
    tables.get("dns_answers").push(vec![
        id.into(),
        key.into(),
        count(member),
        if small { Value::Null } else { chain.into() },
        count(h.dns_ttl),
        (!h.addresses.is_empty()).into(),
        view.free_text(h.dns_error.as_deref()),
        h.connected.filter(|_| !small).map(|a| a.to_string()).into(),
        h.hosting_service.clone().into(),
    ]);
}

fn address_rows(tables: &mut Tables, id: i64, key: &str, member: usize, h: &HostAttribution, small: bool) {
    let shown = |s: String| if small { Value::Null } else { Value::Text(s) };
    for (pos, a) in h.addresses.iter().enumerate() {
        tables.get("addresses").push(vec![
            id.into(),
            key.into(),
            count(member),
            count(pos),
            shown(a.ip.to_string()),
            Value::Int(if a.ip.is_ipv4() { 4 } else { 6 }),
            a.asn.map_or(Value::Null, |n| Value::Int(i64::from(n))),
            a.as_name.clone().into(),
            a.organisation.as_str().into(),
            a.cdn.clone().into(),
            a.range_start.map_or(Value::Null, |x| shown(x.to_string())),
            a.range_end.map_or(Value::Null, |x| shown(x.to_string())),
            a.cidr.map_or(Value::Null, |c| shown(c.to_string())),
            shown(a.cover.to_string()),
            a.country.clone().into(),
            super::file_name_only(&a.source).into(),
        ]);
    }
}
