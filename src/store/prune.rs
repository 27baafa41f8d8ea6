//! `prune`: delete old snapshots, then whatever only they referenced (account states,
//! accounts, instances, ASN database descriptions). Rows shared with a kept snapshot stay.

use std::time::{Duration, SystemTime};

use rusqlite::Connection;

use super::sql;

/// Which snapshots go. A snapshot still running is never pruned, unless it is abandoned: left
/// running by a killed crawl, with a later snapshot complete (its crawl cannot be alive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Keep the newest `n` complete snapshots, and the runs (failed, interrupted) since the
    /// oldest of them: a failed run is no measurement, so it is not one of the `n`.
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

/// Vacuum when more than this share of the file's pages is free after a prune.
const VACUUM_FREE_SHARE: f64 = 0.25;

/// Leave nothing of the deleted rows readable: `secure_delete` zeroed them in place; when
/// much was freed (over [`VACUUM_FREE_SHARE`] of the pages) the file is rebuilt smaller, and
/// the WAL, which still holds pages as they were written, is checkpointed and truncated.
fn compact(conn: &Connection) -> rusqlite::Result<()> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    if pages > 0 && free as f64 > VACUUM_FREE_SHARE * pages as f64 {
        conn.execute_batch("VACUUM")?;
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Apply `rule` in one transaction, then [`compact`] the file.
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
    if !ids.is_empty() {
        compact(conn)?;
    }
    Ok(Pruned {
        snapshots: ids.len(),
        accounts: before.0.saturating_sub(after.0),
        instances: before.1.saturating_sub(after.1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// Two snapshots, each following its own account (with a long bio-like display name, so
    /// the pruned one fills pages); the older is pruned.
    #[test]
    fn a_pruned_snapshots_accounts_are_not_left_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = super::super::schema::open(&path).unwrap();
        let padding = "x".repeat(2000);
        conn.execute_batch(
            "INSERT INTO instance (id, host) VALUES (1, 'hub.example');
             INSERT INTO snapshot (id, kind, status, request, started_at, tool, configuration) VALUES
                 (1, 'follows', 'complete', '{}', '2026-01-01T00:00:00Z', 'whohosts', '{}'),
                 (2, 'follows', 'complete', '{}', '2026-01-08T00:00:00Z', 'whohosts', '{}');
             INSERT INTO seed (snapshot_id, position, input) VALUES (1, 0, '@alice@hub.example'), (2, 0, '@alice@hub.example');
             INSERT INTO follow_list (id, snapshot_id, seed_position, direction, source, status, pages) VALUES
                 (1, 1, 0, 'following', 'activitypub', 'complete', 1),
                 (2, 2, 0, 'following', 'activitypub', 'complete', 1);
             INSERT INTO account (id, actor_uri, handle, instance_id) VALUES
                 (2, 'https://hub.example/users/kept', '@kept@hub.example', 1);
             INSERT INTO account_state (id, account_id, digest, display_name, nobot_tag) VALUES (2, 2, 2, 'Kept', 0);
             INSERT INTO follow (list_id, position, account_state_id) VALUES (2, 0, 2);"
        )
        .unwrap();
        for n in 0..200 {
            conn.execute(
                "INSERT INTO account (id, actor_uri, handle, instance_id) VALUES (?1, ?2, ?3, 1)",
                rusqlite::params![
                    100 + n,
                    format!("https://hub.example/users/gone{n}"),
                    format!("@gone{n}@hub.example")
                ],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO account_state (id, account_id, digest, display_name, nobot_tag) VALUES (?1, ?1, 0, ?2, 0)",
                rusqlite::params![100 + n, format!("Gone Person {n} {padding}")],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO follow (list_id, position, account_state_id) VALUES (1, ?1, ?2)",
                rusqlite::params![n, 100 + n],
            )
            .unwrap();
        }
        let pruned = run(&conn, &Rule::Keep(1)).unwrap();
        assert_eq!((pruned.snapshots, pruned.accounts), (1, 200));
        let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap();
        assert_eq!(free, 0, "much was freed: the file was vacuumed");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(dir.path().join("w.db-wal")).unwrap_or_default());
        for gone in ["gone1", "Gone Person"] {
            assert!(!contains(&bytes, gone), "{gone} is still in the file");
        }
        assert!(contains(&bytes, "@kept@hub.example"));
    }

    #[test]
    fn an_abandoned_running_snapshot_is_listed_and_pruned_like_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = super::super::schema::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO snapshot (id, kind, status, request, started_at, tool, configuration) VALUES
                 (1, 'follows', 'running', '{\"seeds\":[\"@a@x.example\"]}', '2026-01-01T00:00:00Z', 'whohosts', '{}'),
                 (2, 'follows', 'complete', '{\"seeds\":[\"@b@x.example\"]}', '2026-01-02T00:00:00Z', 'whohosts', '{}'),
                 (3, 'follows', 'running', '{\"seeds\":[\"@c@x.example\"]}', '2026-01-03T00:00:00Z', 'whohosts', '{}');",
        )
        .unwrap();
        drop(conn);
        let store = super::super::Store::open(&path).unwrap();
        let status: Vec<(i64, String)> = store.list().unwrap().into_iter().map(|s| (s.id, s.status)).collect();
        assert_eq!(
            status,
            [
                (1, "abandoned".to_string()),
                (2, "complete".into()),
                (3, "running".into())
            ]
        );
        // While a process holds the database (a crawl that may be resuming snapshot 1), no
        // unfinished snapshot is called abandoned; once it lets go, snapshot 1 is again.
        let lock = super::super::lock::DbLock::acquire(&path, "crawl").unwrap();
        let held: Vec<String> = store.list().unwrap().into_iter().map(|s| s.status).collect();
        assert_eq!(held, ["running", "complete", "running"]);
        drop(lock);
        assert_eq!(store.list().unwrap()[0].status, "abandoned");
        let conn = super::super::schema::open(&path).unwrap();
        let pruned = run(&conn, &Rule::Keep(1)).unwrap();
        assert_eq!(pruned.snapshots, 1);
        let left: Vec<i64> = conn
            .prepare("SELECT id FROM snapshot ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            left,
            [2, 3],
            "the abandoned one went; the newest running one may still continue"
        );
    }

    /// `--keep N` keeps N measurements: failed runs are not counted among them (a week of
    /// failed cron runs must not push the last good snapshots out); the failed ones since the
    /// oldest kept stay, and nothing goes when fewer than N are complete.
    #[test]
    fn keep_counts_complete_snapshots_not_failed_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = super::super::schema::open(&path).unwrap();
        for (id, status) in [
            (1, "complete"),
            (2, "failed"),
            (3, "complete"),
            (4, "failed"),
            (5, "complete"),
            (6, "failed"),
            (7, "failed"),
        ] {
            conn.execute(
                "INSERT INTO snapshot (id, kind, status, request, started_at, tool, configuration)
                 VALUES (?1, 'follows', ?2, '{}', '2026-01-01T00:00:00Z', 'whohosts', '{}')",
                rusqlite::params![id, status],
            )
            .unwrap();
        }
        let left = |conn: &Connection| -> Vec<i64> {
            conn.prepare("SELECT id FROM snapshot ORDER BY id")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(run(&conn, &Rule::Keep(4)).unwrap().snapshots, 0, "only 3 are complete");
        assert_eq!(left(&conn), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(run(&conn, &Rule::Keep(2)).unwrap().snapshots, 2);
        assert_eq!(left(&conn), [3, 4, 5, 6, 7]);
        assert_eq!(run(&conn, &Rule::Keep(0)).unwrap().snapshots, 5);
        assert!(left(&conn).is_empty());
    }
}
