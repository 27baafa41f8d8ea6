//! Instance-list surveys (kind `instances`) as rows, and back.
//!
//! Each instance of the list is stored where a crawl stores the instances it met, by the same
//! functions ([`super::save`]): its NodeInfo (the counts only when plausible) and why it could
//! not be read in `instance_state`, who hosts it in `dns_answer`, `address` and `host_share`.
//! Beside them, its place in the list and why its counts are not trusted (`survey_instance`),
//! and the list's bad entries (`survey_bad_entry`). The rows arrive in batches
//! ([`save_rows`], one transaction each, while the snapshot runs); the figures of every level
//! under each weight, computed once by the survey's report, come last with the completion
//! ([`save_figures`]). [`survey`] reads it all back as the [`Survey`] the command measured,
//! so a stored survey is reported as it was printed.

use rusqlite::{params, Connection, Transaction};

use super::save::Keys;
use crate::instances::{BadEntry, Claims, Instance, Survey};
use crate::metrics::LevelMetrics;
use crate::model::snapshot::{InstanceReport, NodeInfo, Snapshot};

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
    "SELECT i.host, s.implausible FROM survey_instance s JOIN instance i ON i.id = s.instance_id \
     WHERE s.snapshot_id = ?1 ORDER BY s.position";
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
    let (bad, levels, population) = (&f.bad, &f.levels, &f.population);
    let mut put = tx.prepare_cached(BAD_PUT)?;
    for b in bad {
        put.execute(params![id, super::save::u64_sql(b.line), b.text, b.reason])?;
    }
    let mut put = tx.prepare_cached(super::sql::METRIC_POPULATION_PUT)?;
    for (name, value) in population {
        put.execute(params![id, name, value])?;
    }
    for l in levels {
        super::metrics::level(tx, id, l)?;
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

/// Survey `id` as measured, from `snap` (its rows as [`super::load`] reads any snapshot's)
/// and what only a survey stores; the list's format, duplicates and ceiling come from the
/// request that made it. Each instance's rows are moved out of `snap`, not copied, so the
/// survey is held once.
///
/// # Errors
/// SQLite errors.
pub fn survey(conn: &Connection, id: i64, snap: Snapshot, request: &serde_json::Value) -> rusqlite::Result<Survey> {
    let Snapshot {
        crawl: mut head,
        mut hosts,
        ..
    } = snap;
    let mut states = std::mem::take(&mut head.instances);
    let mut stmt = conn.prepare_cached(INSTANCES_OF)?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
    let mut instances = vec![];
    for row in rows {
        let (host, implausible) = row?;
        let report = states.remove(&crate::model::handle::InstanceHost::new(&host));
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
        instances.push(Instance {
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
            attribution: hosts.remove(&host),
            connected,
            host,
        });
    }
    drop((states, hosts));
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
        instances,
        duplicates: request["duplicates"].as_u64().unwrap_or(0) as usize,
        bad,
        max_users: request["max_users"].as_u64().unwrap_or(0),
        started_at: head.started_at,
        finished_at: head.finished_at,
    })
}
