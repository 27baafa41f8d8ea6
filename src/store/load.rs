//! Reading a stored snapshot back into the [`Snapshot`] the crawl produced, so that every
//! report (`crawl`, `report`, `demo`) is printed from what the store holds.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rusqlite::{Connection, OptionalExtension, Row};

use super::{kinds, sql};
use crate::model::account::{Account, Direction, FollowList, ListStatus};
use crate::model::attribution::DbInfo;
use crate::model::attribution::{AddressAttribution, AttributionSource, HostAttribution};
use crate::model::handle::InstanceHost;
use crate::model::packed::{Packed, Reports};
use crate::model::snapshot::NodeInfo;
use crate::model::snapshot::Snapshot;
use crate::model::snapshot::{CrawlReport, Failure, InstanceReport, SeedReport};

/// A value read back that the store could not have written; the database was edited.
fn corrupt(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_string(), rusqlite::types::Type::Text)
}

fn u64_of(v: Option<i64>) -> Option<u64> {
    v.map(|n| n as u64)
}

fn parsed<T: std::str::FromStr>(v: Option<String>, what: &str) -> rusqlite::Result<Option<T>> {
    v.map(|s| s.parse::<T>().map_err(|_| corrupt(what))).transpose()
}

/// An account from 15 columns starting at `at`: actor_uri, handle, host, then the state.
pub(super) fn account_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Account> {
    Ok(Account {
        actor_uri: r.get(at)?,
        handle: r.get(at + 1)?,
        server: r.get::<_, Option<String>>(at + 2)?.map(|h| InstanceHost::new(&h)),
        display_name: r.get(at + 3)?,
        bot: r.get(at + 4)?,
        moved_to: r.get(at + 5)?,
        discoverable: r.get(at + 6)?,
        indexable: r.get(at + 7)?,
        noindex: r.get(at + 8)?,
        hide_collections: r.get(at + 9)?,
        followers_count: u64_of(r.get(at + 10)?),
        following_count: u64_of(r.get(at + 11)?),
        nobot_tag: r.get(at + 12)?,
        fetch_error: r.get(at + 13)?,
        last_status_at: r.get(at + 14)?,
    })
}

fn failure(class: Option<String>, message: Option<String>) -> Option<Failure> {
    Some(Failure {
        kind: class?,
        message: message.unwrap_or_default(),
    })
}

/// A snapshot's own row: the crawl report without seeds and instances, and its attribution.
fn head_row(r: &Row<'_>) -> rusqlite::Result<(CrawlReport, AttributionSource)> {
    let policy: Option<String> = r.get(3)?;
    let database = match r.get::<_, Option<String>>(7)? {
        Some(file) => Some(DbInfo {
            file,
            format: r.get(8)?,
            sha256: r.get(9)?,
            date: r.get(10)?,
            ranges_v4: r.get::<_, i64>(11)? as usize,
            ranges_v6: r.get::<_, i64>(12)? as usize,
            skipped_lines: r.get::<_, i64>(13)? as u64,
            licence: r.get(14)?,
            skipped_by_file: serde_json::from_str(&r.get::<_, Option<String>>(15)?.unwrap_or_default())
                .unwrap_or_default(),
        }),
        None => None,
    };
    let source = AttributionSource {
        database,
        online_fallback: r.get::<_, Option<bool>>(4)?.unwrap_or(false),
        address_policy: serde_json::from_value(serde_json::Value::String(policy.unwrap_or_default()))
            .unwrap_or_default(),
    };
    let crawl = CrawlReport {
        tool: r.get(2)?,
        started_at: r.get(0)?,
        finished_at: r.get(1)?,
        seeds: vec![],
        instances: BTreeMap::new(),
        requests: r.get::<_, i64>(5)? as u64,
        retries: r.get::<_, i64>(6)? as u64,
        expanded: Default::default(),
        depth: None,
        departures: vec![],
    };
    Ok((crawl, source))
}

/// Snapshot `id`'s own row: when it ran, its counts and its attribution source (no seeds, no
/// instances); `None` when there is no such snapshot.
///
/// # Errors
/// SQLite errors.
pub fn head(conn: &Connection, id: i64) -> rusqlite::Result<Option<(CrawlReport, AttributionSource)>> {
    conn.prepare_cached(sql::SNAPSHOT_GET)?
        .query_row([id], head_row)
        .optional()
}

/// The snapshot `id` as the crawl produced it; `None` when there is no such snapshot.
///
/// # Errors
/// SQLite errors, or a value the store could not have written.
pub fn snapshot(conn: &Connection, id: i64) -> rusqlite::Result<Option<Snapshot>> {
    let Some((mut crawl, attribution)) = head(conn, id)? else {
        return Ok(None);
    };
    let (seeds, expanded) = seeds(conn, id)?;
    crawl.seeds = seeds;
    crawl.expanded = expanded;
    let depth: Option<String> = conn.query_row("SELECT depth FROM snapshot WHERE id = ?1", [id], |r| r.get(0))?;
    crawl.depth = depth
        .map(|d| serde_json::from_str(&d).map_err(|_| corrupt("snapshot.depth")))
        .transpose()?;
    crawl.instances = instances(conn, id)?;
    let hosts = hosts(conn, id)?;
    Ok(Some(Snapshot {
        crawl,
        attribution,
        hosts,
    }))
}

/// The seeds of snapshot `id` (depth 0) with their lists, and the expanded accounts' reports
/// (deeper), packed: each expanded report is packed as soon as its last list is read, so a
/// snapshot of a million list rows is never held as values.
fn seeds(conn: &Connection, id: i64) -> rusqlite::Result<(Vec<SeedReport>, Reports)> {
    let mut stmt = conn.prepare_cached(sql::SEEDS_OF)?;
    let seeds: Vec<SeedReport> = stmt
        .query_map([id], |r| {
            let has_account = r.get::<_, Option<i64>>(22)?.is_some();
            Ok(SeedReport {
                input: r.get(1)?,
                handle: r.get(2)?,
                server: r.get::<_, Option<String>>(3)?.map(|h| InstanceHost::new(&h)),
                actor_uri: r.get(4)?,
                account: if has_account { Some(account_at(r, 7)?) } else { None },
                following: None,
                followers: None,
                error: failure(r.get(5)?, r.get(6)?),
                duplicate_of: r.get(23)?,
                depth: r.get(24)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut heads = list_heads(conn, id)?;
    let mut built = Assembly::new(seeds, heads.values().map(|(seed, _)| *seed));
    // The rows come list by list (ordered by list): each list is whole when the next begins.
    let mut stmt = conn.prepare_cached(sql::FOLLOWS_OF)?;
    let mut rows = stmt.query([id])?;
    let mut current: Option<(i64, i64, FollowList)> = None;
    while let Some(r) = rows.next()? {
        let list_id: i64 = r.get(0)?;
        if current.as_ref().is_none_or(|(id, _, _)| *id != list_id) {
            if let Some((_, seed, list)) = current.take() {
                built.attach(seed, list)?;
            }
            let (seed, list) = heads.remove(&list_id).ok_or_else(|| corrupt("follow.list_id"))?;
            current = Some((list_id, seed, list));
        }
        if let Some((_, _, list)) = current.as_mut() {
            list.accounts.push(account_at(r, 1)?);
        }
    }
    if let Some((_, seed, list)) = current {
        built.attach(seed, list)?;
    }
    // Lists without rows.
    for (seed, list) in heads.into_values() {
        built.attach(seed, list)?;
    }
    Ok(built.finish())
}

/// A snapshot's seed reports being given their lists: the seeds kept as values, each expanded
/// account's report packed once its last list is attached.
struct Assembly {
    reports: Vec<Option<SeedReport>>,
    /// Lists still to come, per seed position.
    left: Vec<usize>,
    packed: BTreeMap<usize, Packed>,
}

impl Assembly {
    fn new(reports: Vec<SeedReport>, lists: impl Iterator<Item = i64>) -> Assembly {
        let mut left = vec![0; reports.len()];
        for seed in lists {
            if let Some(n) = usize::try_from(seed).ok().and_then(|i| left.get_mut(i)) {
                *n += 1;
            }
        }
        Assembly {
            reports: reports.into_iter().map(Some).collect(),
            left,
            packed: BTreeMap::new(),
        }
    }

    /// Give `list` to the report at position `seed`, packing an expanded one that is whole.
    fn attach(&mut self, seed: i64, list: FollowList) -> rusqlite::Result<()> {
        let i = usize::try_from(seed)
            .ok()
            .filter(|&i| i < self.reports.len())
            .ok_or_else(|| corrupt("follow_list.seed_position"))?;
        let slot = self.reports[i]
            .as_mut()
            .ok_or_else(|| corrupt("follow_list.seed_position"))?;
        match list.direction {
            Direction::Following => slot.following = Some(list),
            Direction::Followers => slot.followers = Some(list),
        }
        self.left[i] = self.left[i].saturating_sub(1);
        if self.left[i] == 0 && slot.depth > 0 {
            if let Some(r) = self.reports[i].take() {
                self.packed.insert(i, Packed::of(r));
            }
        }
        Ok(())
    }

    /// The seeds (depth 0) in order, and the expanded reports in order, packed.
    fn finish(mut self) -> (Vec<SeedReport>, Reports) {
        let mut seeds = vec![];
        for (i, r) in self.reports.into_iter().enumerate() {
            match r {
                Some(r) if r.depth == 0 => seeds.push(r),
                Some(r) => {
                    self.packed.insert(i, Packed::of(r));
                }
                None => {}
            }
        }
        (seeds, self.packed.into_values().collect())
    }
}

/// The lists of a snapshot without their accounts, by list id: (seed position, list).
fn list_heads(conn: &Connection, id: i64) -> rusqlite::Result<BTreeMap<i64, (i64, FollowList)>> {
    let mut stmt = conn.prepare_cached(sql::LISTS_OF)?;
    let mut by_id: BTreeMap<i64, (i64, FollowList)> = BTreeMap::new();
    let rows = stmt.query_map([id], |r| {
        let direction = match r.get::<_, String>(2)?.as_str() {
            "following" => Direction::Following,
            "followers" => Direction::Followers,
            _ => return Err(corrupt("follow_list.direction")),
        };
        let status = status_of(&r.get::<_, String>(5)?, r.get(6)?, r.get(7)?, r.get(9)?)?;
        let skipped = match r.get::<_, Option<String>>(10)? {
            Some(json) => serde_json::from_str(&json).map_err(|_| corrupt("follow_list.skipped"))?,
            None => vec![],
        };
        let list = FollowList {
            direction,
            source: r.get(3)?,
            declared: u64_of(r.get(4)?),
            status,
            accounts: vec![],
            pages: r.get(8)?,
            skipped,
        };
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, list))
    })?;
    for row in rows {
        let (list_id, seed, list) = row?;
        by_id.insert(list_id, (seed, list));
    }
    Ok(by_id)
}

fn status_of(
    status: &str,
    unseen: Option<i64>,
    reason: Option<String>,
    kind: Option<String>,
) -> rusqlite::Result<ListStatus> {
    let cause = || {
        kind.as_deref()
            .and_then(kinds::cause_of)
            .ok_or_else(|| corrupt("follow_list.failure_kind"))
    };
    Ok(match status {
        "complete" => ListStatus::Complete,
        "hidden" => ListStatus::Hidden { unseen: u64_of(unseen) },
        "not-exposed" => ListStatus::NotExposed { unseen: u64_of(unseen) },
        "refused" => ListStatus::Refused {
            kind: cause()?,
            reason: reason.unwrap_or_default(),
        },
        "partial" => ListStatus::Partial {
            kind: cause()?,
            reason: reason.unwrap_or_default(),
        },
        _ => return Err(corrupt("follow_list.status")),
    })
}

fn instances(conn: &Connection, id: i64) -> rusqlite::Result<BTreeMap<InstanceHost, InstanceReport>> {
    let mut stmt = conn.prepare_cached(sql::INSTANCE_STATES_OF)?;
    let rows = stmt.query_map([id], instance_state)?;
    rows.collect()
}

/// An instance's state from a row of `instance_states_of.sql` (or of a query with its columns).
pub(super) fn instance_state(r: &Row<'_>) -> rusqlite::Result<(InstanceHost, InstanceReport)> {
    let schema: Option<String> = r.get(3)?;
    let nodeinfo = match schema {
        Some(schema) => Some(NodeInfo {
            schema,
            software: r.get(4)?,
            version: r.get(5)?,
            users_total: u64_of(r.get(6)?),
            users_active_month: u64_of(r.get(7)?),
        }),
        None => None,
    };
    let report = InstanceReport {
        accounts: r.get::<_, i64>(1)? as u64,
        nodeinfo,
        nodeinfo_error: failure(r.get(8)?, r.get(9)?),
        connected_address: parsed::<IpAddr>(r.get(2)?, "instance_state.connected_address")?,
    };
    Ok((InstanceHost::new(&r.get::<_, String>(0)?), report))
}

fn hosts(conn: &Connection, id: i64) -> rusqlite::Result<BTreeMap<String, HostAttribution>> {
    let mut by_instance: BTreeMap<i64, HostAttribution> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(sql::DNS_ANSWERS_OF)?;
    let rows = stmt.query_map([id], dns_answer)?;
    for row in rows {
        let (instance, host) = row?;
        by_instance.insert(instance, host);
    }
    addresses(conn, id, &mut by_instance)?;
    // Most hosts have one or two addresses: no room kept for more (a survey loads thousands).
    for h in by_instance.values_mut() {
        h.addresses.shrink_to_fit();
    }
    let mut stmt = conn.prepare_cached(sql::HOST_SHARES_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let host = by_instance
            .get_mut(&r.get::<_, i64>(0)?)
            .ok_or_else(|| corrupt("host_share.instance_id"))?;
        host.shares.insert(r.get(1)?, r.get(2)?);
    }
    Ok(by_instance.into_values().map(|h| (h.host.clone(), h)).collect())
}

/// A host's DNS answer (its addresses and shares still empty), with its instance id, from a
/// row of `dns_answers_of.sql` (or of a query with its columns).
pub(super) fn dns_answer(r: &Row<'_>) -> rusqlite::Result<(i64, HostAttribution)> {
    let chain: String = r.get(2)?;
    let host = HostAttribution {
        host: r.get(1)?,
        cnames: serde_json::from_str(&chain).map_err(|_| corrupt("dns_answer.cname_chain"))?,
        dns_error: r.get(4)?,
        dns_ttl: r.get(3)?,
        addresses: vec![],
        connected: parsed::<IpAddr>(r.get(5)?, "dns_answer.connected_address")?,
        hosting_service: r.get(6)?,
        shares: BTreeMap::new(),
    };
    Ok((r.get::<_, i64>(0)?, host))
}

fn addresses(conn: &Connection, id: i64, hosts: &mut BTreeMap<i64, HostAttribution>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(sql::ADDRESSES_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let a = address(r)?;
        let host = hosts
            .get_mut(&r.get::<_, i64>(0)?)
            .ok_or_else(|| corrupt("address.instance_id"))?;
        host.addresses.push(a);
    }
    Ok(())
}

/// An attributed address from a row of `addresses_of.sql` (or of a query with its columns).
pub(super) fn address(r: &Row<'_>) -> rusqlite::Result<AddressAttribution> {
    let ip = parsed::<IpAddr>(r.get(1)?, "address.ip")?.ok_or_else(|| corrupt("address.ip"))?;
    let cover = parsed(r.get(9)?, "address.block")?.ok_or_else(|| corrupt("address.block"))?;
    Ok(AddressAttribution {
        ip,
        asn: r.get(2)?,
        as_name: r.get(3)?,
        organisation: r.get(4)?,
        cdn: r.get(5)?,
        range_start: parsed(r.get(6)?, "address.range_start")?,
        range_end: parsed(r.get(7)?, "address.range_end")?,
        cidr: parsed(r.get(8)?, "address.cidr")?,
        cover,
        country: r.get(10)?,
        source: r.get(11)?,
        lookup_error: r.get(12)?,
    })
}
