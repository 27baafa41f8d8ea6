//! Contacts snapshots (kind `contacts`) as rows, and back.
//!
//! The figures go where those of follows go: each level under the measured weight is a
//! `metric_summary` row, its ranked `metric_bucket` rows and its `metric_apart` rows (the
//! weight whose server was not found, by why, and what the level itself counted apart:
//! no AS, mail that reaches its provider directly …), computed by the one
//! [`crate::metrics::concentration`]; the counts are `metric_population` rows (`addresses`,
//! `total`, `malformed`, `domains`). Beside them, who serves each domain (`contact_domain`)
//! with the steps taken to find its server (a JSON array), and each contact as a keyed hash of its address ([`OptOut::contact`], table `contact`):
//! the user part of an address is never stored, no report needs it.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::optout::OptOut;
use crate::metrics::{concentration, Bucket};
use crate::model::contact::{ranked, ContactWeight, ContactsSnapshot, DomainRecord, Measurement, LEVELS};

const DOMAIN_PUT: &str = "INSERT INTO contact_domain (snapshot_id, protocol, domain, contacts, messages, not_found, \
     server, provider, service, gateway, organisation, asns, country, steps) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
const CONTACT_PUT: &str =
    "INSERT OR IGNORE INTO contact (snapshot_id, hash, protocol, domain, messages) VALUES (?1, ?2, ?3, ?4, ?5)";
const DOMAINS_OF: &str = "SELECT protocol, domain, contacts, messages, not_found, server, provider, service, gateway, \
     organisation, asns, country, steps FROM contact_domain WHERE snapshot_id = ?1 ORDER BY protocol, domain";
/// The services a rule named, per provider, under the snapshot's weight.
const SERVICES_OF: &str =
    "SELECT provider, service, sum(CASE WHEN ?2 = 'messages' THEN messages ELSE contacts END) AS w \
       FROM contact_domain WHERE snapshot_id = ?1 AND not_found IS NULL AND service IS NOT NULL \
      GROUP BY provider, service HAVING w > 0";

/// The population figures of a contacts snapshot.
const ADDRESSES: &str = "addresses";
const TOTAL: &str = "total";
const MALFORMED: &str = "malformed";
const DOMAINS: &str = "domains";

/// Write the rows of contacts snapshot `id` in `tx` (the caller completes it).
///
/// # Errors
/// SQLite errors.
pub fn save(tx: &Transaction<'_>, id: i64, snap: &ContactsSnapshot, opt_out: &OptOut) -> rusqlite::Result<()> {
    let m = &snap.measurement;
    let mut put = tx.prepare_cached(super::sql::METRIC_POPULATION_PUT)?;
    put.execute(params![id, ADDRESSES, m.addresses as i64])?;
    put.execute(params![id, TOTAL, m.total])?;
    put.execute(params![id, MALFORMED, m.malformed as i64])?;
    put.execute(params![id, DOMAINS, snap.domains.len() as i64])?;
    for (level, buckets) in &m.levels {
        let r = ranked(buckets);
        let c = concentration(&r.iter().map(|b| b.1).collect::<Vec<_>>());
        let buckets = Bucket::of_ranked(&r, c.total);
        super::metrics::put_level(tx, id, level, m.weight, &c, &buckets, &m.apart_at(level))?;
    }
    let mut put = tx.prepare_cached(DOMAIN_PUT)?;
    for d in &snap.domains {
        put.execute(params![
            id,
            d.protocol,
            d.domain,
            super::save::u64_sql(d.contacts),
            super::save::u64_sql(d.messages),
            d.not_found,
            d.server,
            d.provider,
            d.service,
            d.gateway,
            d.organisation,
            d.asns,
            d.country,
            serde_json::to_string(&d.steps).expect("strings serialise")
        ])?;
    }
    let mut put = tx.prepare_cached(CONTACT_PUT)?;
    for (address, messages) in &snap.contacts {
        put.execute(params![
            id,
            opt_out.contact(&address.to_string()),
            address.protocol().name(),
            address.domain().as_str(),
            super::save::u64_sql(*messages)
        ])?;
    }
    Ok(())
}

/// The protocol names a stored row may hold, as the `&'static str` of [`DomainRecord`].
fn protocol(name: &str) -> &'static str {
    ["email", "xmpp", "matrix", "fediverse"]
        .into_iter()
        .find(|p| *p == name)
        .unwrap_or("email")
}

/// Who served each domain of contacts snapshot `id`, by protocol and domain.
///
/// # Errors
/// SQLite errors.
pub fn domains(conn: &Connection, id: i64) -> rusqlite::Result<Vec<DomainRecord>> {
    let mut stmt = conn.prepare_cached(DOMAINS_OF)?;
    let rows = stmt.query_map([id], |r| {
        Ok(DomainRecord {
            protocol: protocol(&r.get::<_, String>(0)?),
            domain: r.get(1)?,
            contacts: r.get::<_, i64>(2)?.max(0) as u64,
            messages: r.get::<_, i64>(3)?.max(0) as u64,
            not_found: r.get(4)?,
            server: r.get(5)?,
            provider: r.get(6)?,
            service: r.get(7)?,
            gateway: r.get(8)?,
            organisation: r.get(9)?,
            asns: r.get(10)?,
            country: r.get(11)?,
            // Rows stored before the steps were kept (schema 10) have none.
            steps: r
                .get::<_, Option<String>>(12)?
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
        })
    })?;
    rows.collect()
}

/// The hashes of the contacts of snapshot `id` (to count those added and removed).
///
/// # Errors
/// SQLite errors.
pub fn hashes(conn: &Connection, id: i64) -> rusqlite::Result<std::collections::BTreeSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT hash FROM contact WHERE snapshot_id = ?1")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    rows.collect()
}

/// A stored contact: its keyed hash, protocol, domain and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub hash: String,
    pub protocol: String,
    pub domain: String,
    pub messages: u64,
}

/// The stored contacts of snapshot `id`, by hash.
///
/// # Errors
/// SQLite errors.
pub fn rows(conn: &Connection, id: i64) -> rusqlite::Result<Vec<ContactRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT hash, protocol, domain, messages FROM contact WHERE snapshot_id = ?1 ORDER BY hash")?;
    let rows = stmt.query_map([id], |r| {
        Ok(ContactRow {
            hash: r.get(0)?,
            protocol: r.get(1)?,
            domain: r.get(2)?,
            messages: r.get::<_, i64>(3)?.max(0) as u64,
        })
    })?;
    rows.collect()
}

/// The kind of snapshot `whohosts contacts` stores.
pub const KIND: &str = "contacts";

/// The weight contacts snapshot `id` was measured under (`contacts --weight`); `None` when it
/// holds no figures.
///
/// # Errors
/// SQLite errors.
pub fn weight(conn: &Connection, id: i64) -> rusqlite::Result<Option<ContactWeight>> {
    let weight: Option<String> = conn
        .query_row(
            "SELECT weight FROM metric_summary WHERE snapshot_id = ?1 LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(weight.map(|w| {
        if w == ContactWeight::Messages.name() {
            ContactWeight::Messages
        } else {
            ContactWeight::Contacts
        }
    }))
}

/// Why two contacts snapshots, `a` weighed by `wa` and `b` by `wb`, are not compared (`diff`,
/// `query contact-changes`): each names its snapshot as the command did ("3", "3 (from)").
pub fn weights_differ(a: &str, wa: &str, b: &str, wb: &str) -> String {
    format!("snapshot {a} is weighed by {wa}, snapshot {b} by {wb}: compare snapshots of one weight")
}

/// The measurement stored as contacts snapshot `id`, as the report renders it; `None` when
/// it holds no contacts figures.
///
/// # Errors
/// SQLite errors.
pub fn measurement(conn: &Connection, id: i64) -> rusqlite::Result<Option<Measurement>> {
    let Some(weight) = weight(conn, id)? else {
        return Ok(None);
    };
    let mut figures: BTreeMap<String, f64> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(super::sql::METRIC_POPULATION_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        figures.insert(r.get(0)?, r.get(1)?);
    }
    let figure = |name: &str| figures.get(name).copied().unwrap_or(0.0);
    let mut levels: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT level FROM metric_summary WHERE snapshot_id = ?1")?;
    for level in stmt.query_map([id], |r| r.get::<_, String>(0))? {
        levels.insert(level?, BTreeMap::new());
    }
    let mut stmt = conn.prepare_cached(super::sql::METRIC_BUCKET_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        if let Some(l) = levels.get_mut(&r.get::<_, String>(0)?) {
            l.insert(r.get(2)?, r.get(4)?);
        }
    }
    // Each level's apart rows hold the weight whose server was not found (the whole of the
    // `protocol` level's, which places every address found) and what the level itself counted
    // apart (no AS, mail that reaches its provider directly …).
    let mut level_apart: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut stmt = conn
        .prepare_cached("SELECT level, what, amount FROM metric_apart WHERE snapshot_id = ?1 ORDER BY level, what")?;
    let mut rows = stmt.query(params![id])?;
    while let Some(r) = rows.next()? {
        level_apart.entry(r.get(0)?).or_default().insert(r.get(1)?, r.get(2)?);
    }
    let apart = level_apart.remove(LEVELS[0]).unwrap_or_default();
    for a in level_apart.values_mut() {
        a.retain(|why, _| !apart.contains_key(why));
    }
    level_apart.retain(|_, a| !a.is_empty());
    let mut services: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(SERVICES_OF)?;
    let mut rows = stmt.query(params![id, weight.name()])?;
    while let Some(r) = rows.next()? {
        services
            .entry(r.get(0)?)
            .or_default()
            .insert(r.get(1)?, r.get::<_, i64>(2)? as f64);
    }
    Ok(Some(Measurement {
        weight: weight.name(),
        addresses: figure(ADDRESSES) as usize,
        total: figure(TOTAL),
        malformed: figure(MALFORMED) as usize,
        levels: LEVELS
            .iter()
            .filter_map(|l| levels.remove(*l).map(|b| (l.to_string(), b)))
            .collect(),
        services,
        apart,
        level_apart,
    }))
}

/// The stored figures of each level of contacts snapshot `id`, in report order.
///
/// # Errors
/// SQLite errors.
pub fn summaries(conn: &Connection, id: i64) -> rusqlite::Result<Vec<(String, crate::metrics::Concentration)>> {
    let mut by_level = BTreeMap::new();
    let mut stmt = conn.prepare_cached(super::sql::METRIC_SUMMARY_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        by_level.insert(r.get::<_, String>(0)?, super::metrics::summary_row(r)?);
    }
    Ok(LEVELS
        .iter()
        .filter_map(|l| by_level.remove(*l).map(|c| (l.to_string(), c)))
        .collect())
}
