//! Instance-list surveys (kind `instances`) as rows, and back.
//!
//! Each instance of the list is stored where a crawl stores the instances it met, by the same
//! functions ([`super::save`]): its NodeInfo (the counts only when plausible) and why it could
//! not be read in `instance_state`, who hosts it in `dns_answer`, `address` and `host_share`.
//! Beside them, its place in the list and why its counts are not trusted (`survey_instance`),
//! and the list's bad entries (`survey_bad_entry`). The rows arrive in batches
//! ([`save_rows`], one transaction each, while the snapshot runs); the figures of every level
//! under each weight, computed once by the survey's report, come last with the completion
//! ([`save_figures`]). [`survey`] reads back the [`Survey`] the command measured and [`each`]
//! its instances, one at a time (in the list's order or by host), so a stored survey is
//! reported as it was printed without ever being held whole.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::save::Keys;
use crate::instances::{BadEntry, Claims, Instance, Survey};
use crate::metrics::LevelMetrics;
use crate::model::attribution::HostAttribution;
use crate::model::snapshot::{CrawlReport, InstanceReport, NodeInfo};

/// The kind of snapshot `whohosts instances` stores.
pub const KIND: &str = "instances";

/// The weights a survey is measured under, its headline's first.
pub const WEIGHTS: [crate::metrics::Weight; 3] = [
    crate::metrics::Weight::Users,
    crate::metrics::Weight::Active,
    crate::metrics::Weight::Instances,
];

const INSTANCE_PUT: &str =
    "INSERT INTO survey_instance (snapshot_id, position, instance_id, implausible) VALUES (?1, ?2, ?3, ?4)";
const INSTANCES_OF: &str =
    "SELECT i.id, i.host, s.implausible FROM survey_instance s JOIN instance i ON i.id = s.instance_id \
     WHERE s.snapshot_id = ?1 ORDER BY s.position";
const INSTANCES_BY_HOST: &str =
    "SELECT i.id, i.host, s.implausible FROM survey_instance s JOIN instance i ON i.id = s.instance_id \
     WHERE s.snapshot_id = ?1 ORDER BY i.host";
// One instance's rows, the columns of `instance_states_of.sql`, `dns_answers_of.sql`,
// `addresses_of.sql` and `host_shares_of.sql` (read by the same functions of `load`).
const STATE_OF: &str = "SELECT i.host, s.accounts, s.connected_address, s.nodeinfo_schema, s.software, s.version, \
     s.users_total, s.users_active_month, s.nodeinfo_failure_class, s.nodeinfo_failure_message \
     FROM instance_state s JOIN instance i ON i.id = s.instance_id WHERE s.snapshot_id = ?1 AND s.instance_id = ?2";
const DNS_ANSWER_OF: &str = "SELECT d.instance_id, i.host, d.cname_chain, d.ttl, d.error, d.connected_address, \
     d.hosting_service FROM dns_answer d JOIN instance i ON i.id = d.instance_id \
     WHERE d.snapshot_id = ?1 AND d.instance_id = ?2";
const ADDRESSES_OF_ONE: &str = "SELECT instance_id, ip, asn, as_name, organisation, cdn, range_start, range_end, \
     cidr, block, country, source, lookup_error FROM address WHERE snapshot_id = ?1 AND instance_id = ?2 \
     ORDER BY position";
const SHARES_OF: &str = "SELECT instance_id, bucket, share FROM host_share WHERE snapshot_id = ?1 AND instance_id = ?2";
const POSITIONS_OF: &str = "SELECT position FROM survey_instance WHERE snapshot_id = ?1";
const BAD_PUT: &str =
    "INSERT OR IGNORE INTO survey_bad_entry (snapshot_id, line, text, reason) VALUES (?1, ?2, ?3, ?4)";
const BAD_OF: &str = "SELECT line, text, reason FROM survey_bad_entry WHERE snapshot_id = ?1 ORDER BY line";

/// What the crawl's tables hold of one surveyed instance.
fn report_of(i: &Instance) -> InstanceReport {
    InstanceReport {
        accounts: 0,
        nodeinfo: i.failure.is_none().then(|| NodeInfo {
            schema: i.schema.clone().unwrap_or_default(),
            software: i.software.clone(),
            version: i.version.clone(),
            users_total: i.claims.users,
            users_active_month: i.claims.active,
        }),
        nodeinfo_error: i.failure.clone(),
        connected_address: i.connected,
    }
}

/// Write `rows`, instances of survey `id` each with its position in the list, in `keys`'s
/// transaction.
///
/// # Errors
/// SQLite errors.
pub fn save_rows(keys: &mut Keys<'_>, id: i64, rows: &[(usize, Instance)]) -> rusqlite::Result<()> {
    for (position, i) in rows {
        super::save::instance_state(keys, id, &i.host, &report_of(i))?;
        if let Some(a) = &i.attribution {
            super::save::host_rows(keys, id, a)?;
        }
        let instance = keys.instance(&i.host)?;
        let implausible = (!i.claims.implausible.is_empty())
            .then(|| serde_json::to_string(&i.claims.implausible).expect("strings serialise"));
        keys.transaction().prepare_cached(INSTANCE_PUT)?.execute(params![
            id,
            *position as i64,
            instance,
            implausible
        ])?;
    }
    Ok(())
}

/// The list positions of the instances survey `id` has stored so far (a continued survey
/// asks only the others).
///
/// # Errors
/// SQLite errors.
pub fn positions(conn: &Connection, id: i64) -> rusqlite::Result<std::collections::BTreeSet<usize>> {
    let mut stmt = conn.prepare_cached(POSITIONS_OF)?;
    let rows = stmt.query_map([id], |r| r.get::<_, i64>(0))?;
    rows.map(|p| p.map(|p| usize::try_from(p).unwrap_or(usize::MAX)))
        .collect()
}

/// What completes a survey once its rows are stored.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The list's entries that named no usable host.
    pub bad: Vec<BadEntry>,
    /// Every level under each weight (`users`, `active`, `instances`).
    pub levels: Vec<LevelMetrics>,
    /// Who was counted, as named figures (`listed`, `nodeinfo_read`, `users` …).
    pub population: Vec<(String, f64)>,
    pub finished_at: String,
    pub tool: String,
    pub attribution: crate::model::attribution::AttributionSource,
}

/// Write `f`'s bad entries and figures as those of survey `id` in `tx`; the caller completes
/// the snapshot.
///
/// # Errors
/// SQLite errors.
pub fn save_figures(tx: &Transaction<'_>, id: i64, f: &Figures) -> rusqlite::Result<()> {
    let (levels, population) = (&f.levels, &f.population);
    save_bad(tx, id, &f.bad)?;
    let mut put = tx.prepare_cached(super::sql::METRIC_POPULATION_PUT)?;
    for (name, value) in population {
        put.execute(params![id, name, value])?;
    }
    for l in levels {
        super::metrics::level(tx, id, l)?;
    }
    Ok(())
}

/// Write `bad`, the list's entries that named no usable host, as those of survey `id` (with
/// its figures, or with its failure when no instance answered).
///
/// # Errors
/// SQLite errors.
pub fn save_bad(tx: &Transaction<'_>, id: i64, bad: &[BadEntry]) -> rusqlite::Result<()> {
    let mut put = tx.prepare_cached(BAD_PUT)?;
    for b in bad {
        put.execute(params![id, super::save::u64_sql(b.line), b.text, b.reason])?;
    }
    Ok(())
}

/// The population figures stored with survey `id`, by name.
///
/// # Errors
/// SQLite errors.
pub fn figures(conn: &Connection, id: i64) -> rusqlite::Result<Vec<(String, f64)>> {
    let mut stmt = conn.prepare_cached(super::sql::METRIC_POPULATION_OF)?;
    let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The order [`each`] hands a survey's instances on in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The list's.
    List,
    /// By host, as bytes (the order of a `BTreeMap` of hosts: the metrics add each host's
    /// weight in it, so their sums are the same to the last bit).
    Host,
}

/// Hand each instance survey `id` has stored to `f`, one at a time, in `order`, read from
/// the crawl's tables by its own indexed look-ups (with its attribution only when
/// `attributed`): what is held is one instance, never the survey. The inner error is `f`'s,
/// which stops the reading.
///
/// # Errors
/// SQLite errors, or a value the store could not have written.
pub fn each<E>(
    conn: &Connection,
    id: i64,
    order: Order,
    attributed: bool,
    mut f: impl FnMut(Instance) -> Result<(), E>,
) -> rusqlite::Result<Result<(), E>> {
    let mut stmt = conn.prepare(match order {
        Order::List => INSTANCES_OF,
        Order::Host => INSTANCES_BY_HOST,
    })?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let (instance, host, implausible): (i64, String, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let report = conn
            .prepare_cached(STATE_OF)?
            .query_row(params![id, instance], super::load::instance_state)
            .optional()?
            .map(|(_, r)| r);
        let attribution = if attributed {
            attribution(conn, id, instance)?
        } else {
            None
        };
        let (nodeinfo, failure, connected) = match report {
            Some(r) => (r.nodeinfo, r.nodeinfo_error, r.connected_address),
            None => (None, None, None),
        };
        let users = nodeinfo.as_ref().and_then(|n| n.users_total);
        let active = nodeinfo.as_ref().and_then(|n| n.users_active_month);
        let (software, version, schema) = match nodeinfo {
            Some(n) => (n.software, n.version, Some(n.schema)),
            None => (None, None, None),
        };
        let row = Instance {
            software,
            version,
            schema,
            claims: Claims {
                users,
                active,
                implausible: implausible
                    .map(|s| serde_json::from_str(&s).unwrap_or_else(|_| vec![s]))
                    .unwrap_or_default(),
            },
            failure,
            attribution,
            connected,
            host,
        };
        if let Err(e) = f(row) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// Who hosts instance `instance` in snapshot `id`: its DNS answer, addresses and shares.
fn attribution(conn: &Connection, id: i64, instance: i64) -> rusqlite::Result<Option<HostAttribution>> {
    let answer = conn
        .prepare_cached(DNS_ANSWER_OF)?
        .query_row(params![id, instance], super::load::dns_answer)
        .optional()?;
    let Some((_, mut host)) = answer else { return Ok(None) };
    let mut stmt = conn.prepare_cached(ADDRESSES_OF_ONE)?;
    let mut rows = stmt.query(params![id, instance])?;
    while let Some(r) = rows.next()? {
        host.addresses.push(super::load::address(r)?);
    }
    host.addresses.shrink_to_fit();
    let mut stmt = conn.prepare_cached(SHARES_OF)?;
    let mut rows = stmt.query(params![id, instance])?;
    while let Some(r) = rows.next()? {
        host.shares.insert(r.get(1)?, r.get(2)?);
    }
    Ok(Some(host))
}

/// Survey `id` as measured, but for its instances ([`each`] reads them): when it ran (from
/// `head`, its snapshot's row) and its bad entries; the list's format, duplicates and
/// ceiling come from the request that made it.
///
/// # Errors
/// SQLite errors.
pub fn survey(conn: &Connection, id: i64, head: CrawlReport, request: &serde_json::Value) -> rusqlite::Result<Survey> {
    let mut stmt = conn.prepare_cached(BAD_OF)?;
    let bad = stmt
        .query_map([id], |r| {
            Ok(BadEntry {
                line: r.get::<_, i64>(0)? as u64,
                text: r.get(1)?,
                reason: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Survey {
        format: serde_json::from_value(request["format"].clone()).unwrap_or(crate::instances::list::Format::Lines),
        duplicates: request["duplicates"].as_u64().unwrap_or(0) as usize,
        bad,
        max_users: request["max_users"].as_u64().unwrap_or(0),
        started_at: head.started_at,
        finished_at: head.finished_at,
    })
}
