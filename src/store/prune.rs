//! `prune`: delete old snapshots, then whatever only they referenced (account states,
//! accounts, instances, ASN database descriptions). Rows shared with a kept snapshot stay.

use std::time::{Duration, SystemTime};

use rusqlite::Connection;

use super::sql;

/// Which snapshots go. A snapshot still running is never pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Keep the newest `n`.
    Keep(usize),
    /// Delete those started longer ago than this.
    OlderThan(Duration),
}

/// What a prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub snapshots: usize,
    pub accounts: usize,
    pub instances: usize,
}

fn count(conn: &Connection, table: &str) -> rusqlite::Result<usize> {
    // `table` is one of the fixed names below, never user input.
    let sql = match table {
        "account" => "SELECT count(*) FROM account",
        _ => "SELECT count(*) FROM instance",
    };
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as usize)
}

/// Apply `rule` in one transaction.
///
/// # Errors
/// SQLite errors.
pub fn run(conn: &Connection, rule: &Rule) -> rusqlite::Result<Pruned> {
    let tx = conn.unchecked_transaction()?;
    let ids: Vec<i64> = match rule {
        Rule::Keep(n) => {
            let mut stmt = tx.prepare(sql::PRUNE_KEEP)?;
            let rows = stmt.query_map([*n as i64], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        Rule::OlderThan(age) => {
            let cutoff = SystemTime::now().checked_sub(*age).unwrap_or(SystemTime::UNIX_EPOCH);
            let cutoff = crate::model::time::rfc3339(cutoff);
            let mut stmt = tx.prepare(sql::PRUNE_OLDER)?;
            let rows = stmt.query_map([cutoff], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };
    let before = (count(&tx, "account")?, count(&tx, "instance")?);
    for id in &ids {
        // One statement per `;`-terminated line group; none holds a `;` inside.
        for statement in sql::PRUNE_SNAPSHOT.split(';').filter(|s| !s.trim().is_empty()) {
            tx.prepare_cached(statement)?.execute([id])?;
        }
    }
    tx.execute_batch(sql::PRUNE_ORPHANS)?;
    let after = (count(&tx, "account")?, count(&tx, "instance")?);
    tx.commit()?;
    Ok(Pruned {
        snapshots: ids.len(),
        accounts: before.0.saturating_sub(after.0),
        instances: before.1.saturating_sub(after.1),
    })
}
