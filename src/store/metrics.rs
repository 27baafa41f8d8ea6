//! The snapshot's concentration metrics ([`crate::metrics::compute`]) as rows, and back.
//!
//! Levels, weights and bands are stored as their serde names (`organisation`, `accounts`,
//! `high`); the population as one row per figure.

use std::collections::BTreeMap;

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection, Transaction};
use serde_json::Value;

use super::sql;
use crate::metrics::{
    Band, Bucket, Concentration, Level, LevelMetrics, Population, SnapshotMetrics, Weight, DEPTH_PREFIX,
};

/// The serde name of a unit enum value.
fn name<T: serde::Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_name<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
    serde_json::from_value(Value::String(s.clone()))
        .map_err(|_| rusqlite::Error::InvalidColumnType(0, format!("metric name {s:?}"), rusqlite::types::Type::Text))
}

/// Write `m` as the metrics of snapshot `id`.
///
/// # Errors
/// SQLite errors.
pub fn save(tx: &Transaction<'_>, id: i64, m: &SnapshotMetrics) -> rusqlite::Result<()> {
    let mut put = tx.prepare_cached(sql::METRIC_POPULATION_PUT)?;
    for (field, v) in m.population.figures() {
        let value = match v.as_i64() {
            Some(n) => Sql::Integer(n),
            None => Sql::Real(v.as_f64().unwrap_or(0.0)),
        };
        put.execute(params![id, field, value])?;
    }
    for l in &m.levels {
        level(tx, id, l)?;
    }
    Ok(())
}

pub(super) fn level(tx: &Transaction<'_>, id: i64, l: &LevelMetrics) -> rusqlite::Result<()> {
    put_level(
        tx,
        id,
        &name(l.level),
        &name(l.weight),
        &l.summary,
        &l.buckets,
        &l.apart,
    )
}

/// Write one level under one weight: its summary, its ranked buckets, what it counted apart.
/// Follows snapshots name their levels and weights by [`Level`] and [`Weight`]; contacts
/// snapshots by their own (`provider`, `contacts` …), in the same rows.
///
/// # Errors
/// SQLite errors.
pub fn put_level(
    tx: &Transaction<'_>,
    id: i64,
    lv: &str,
    w: &str,
    s: &Concentration,
    buckets: &[Bucket],
    apart: &BTreeMap<String, f64>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(sql::METRIC_SUMMARY_PUT)?.execute(params![
        id,
        lv,
        w,
        s.total,
        s.buckets as i64,
        s.top1,
        s.top3,
        s.top5,
        s.top10,
        s.k50 as i64,
        s.k75 as i64,
        s.hhi,
        name(s.band),
        s.entropy,
        s.effective,
        s.gini
    ])?;
    let mut put = tx.prepare_cached(sql::METRIC_BUCKET_PUT)?;
    for (rank, b) in buckets.iter().enumerate() {
        put.execute(params![id, lv, w, rank as i64 + 1, b.key, b.label, b.weight, b.share])?;
    }
    let mut put = tx.prepare_cached(sql::METRIC_APART_PUT)?;
    for (what, amount) in apart {
        put.execute(params![id, lv, w, what, amount])?;
    }
    Ok(())
}

type Key = (Level, Weight);

/// The figures of a row of `metric_summary_of.sql` (level and weight in its first columns).
///
/// # Errors
/// SQLite errors, or a band this whohosts does not know.
pub fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Concentration> {
    Ok(Concentration {
        total: r.get(2)?,
        buckets: r.get::<_, i64>(3)? as usize,
        top1: r.get(4)?,
        top3: r.get(5)?,
        top5: r.get(6)?,
        top10: r.get(7)?,
        k50: r.get::<_, i64>(8)? as usize,
        k75: r.get::<_, i64>(9)? as usize,
        hhi: r.get(10)?,
        band: from_name::<Band>(r.get(11)?)?,
        entropy: r.get(12)?,
        effective: r.get(13)?,
        gini: r.get(14)?,
    })
}

/// The stored metrics of snapshot `id`, levels in (level, weight) order.
///
/// # Errors
/// SQLite errors, or names this whohosts does not know.
pub fn load(conn: &Connection, id: i64) -> rusqlite::Result<SnapshotMetrics> {
    let mut levels: BTreeMap<Key, LevelMetrics> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(sql::METRIC_SUMMARY_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let key: Key = (from_name(r.get(0)?)?, from_name(r.get(1)?)?);
        let summary = summary_row(r)?;
        let metrics = LevelMetrics {
            level: key.0,
            weight: key.1,
            buckets: vec![],
            summary,
            apart: BTreeMap::new(),
        };
        levels.insert(key, metrics);
    }
    let mut stmt = conn.prepare_cached(sql::METRIC_BUCKET_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let key: Key = (from_name(r.get(0)?)?, from_name(r.get(1)?)?);
        if let Some(l) = levels.get_mut(&key) {
            l.buckets.push(Bucket {
                key: r.get(2)?,
                label: r.get(3)?,
                weight: r.get(4)?,
                share: r.get(5)?,
            });
        }
    }
    let mut stmt = conn.prepare_cached(sql::METRIC_APART_OF)?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let key: Key = (from_name(r.get(0)?)?, from_name(r.get(1)?)?);
        if let Some(l) = levels.get_mut(&key) {
            l.apart.insert(r.get(2)?, r.get(3)?);
        }
    }
    Ok(SnapshotMetrics {
        population: population(conn, id)?,
        levels: levels.into_values().collect(),
    })
}

fn population(conn: &Connection, id: i64) -> rusqlite::Result<Population> {
    let mut stmt = conn.prepare_cached(sql::METRIC_POPULATION_OF)?;
    let mut fields = serde_json::Map::new();
    let mut by_depth: BTreeMap<u64, serde_json::Map<String, Value>> = BTreeMap::new();
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let value = match r.get::<_, Sql>(1)? {
            Sql::Integer(n) => Value::from(n),
            Sql::Real(x) => Value::from(x),
            _ => Value::Null,
        };
        let name: String = r.get(0)?;
        let depth = name
            .strip_prefix(DEPTH_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(n, k)| Some((n.parse::<u64>().ok()?, k.to_string())));
        match depth {
            Some((n, k)) => {
                let d = by_depth.entry(n).or_insert_with(|| {
                    let mut d = serde_json::Map::new();
                    d.insert("depth".into(), Value::from(n));
                    d
                });
                d.insert(k, value);
            }
            None => {
                fields.insert(name, value);
            }
        }
    }
    if !by_depth.is_empty() {
        let depths = by_depth.into_values().map(Value::Object).collect();
        fields.insert("by_depth".into(), Value::Array(depths));
    }
    Ok(serde_json::from_value(Value::Object(fields)).unwrap_or_default())
}
