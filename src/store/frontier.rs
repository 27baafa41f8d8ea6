//! The frontier of a deeper crawl in the database: the store's [`Queue`] (table `frontier`).
//!
//! Every operation goes through the one writer (reads too, so a read sees every write sent
//! before it). The rows are deleted when the snapshot completes (`save`); a killed crawl
//! finds them on resume, so what it met stays met, in the same order.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::writer::Writer;
use crate::crawl::depth::{Item, Queue, State, Work};

/// A frontier operation for the writer thread.
pub(super) enum Op {
    Offer(Vec<Item>),
    Next { depth: u32, after: i64, n: usize },
    Mark(Vec<(String, State)>),
    Count,
}

/// Its answer.
pub(super) enum Reply {
    Done,
    Items(Vec<(i64, Item)>),
    Counts(BTreeMap<State, u64>),
}

const PUT: &str = "INSERT OR IGNORE INTO frontier (snapshot_id, key, position, depth, handle, host, state)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const LAST: &str = "SELECT coalesce(max(position), -1) FROM frontier WHERE snapshot_id = ?1";
const NEXT: &str = "SELECT position, key, depth, handle, host, state FROM frontier
 WHERE snapshot_id = ?1 AND depth = ?2 AND position > ?3
   AND state IN ('pending', 'expanded', 'cut_accounts', 'cut_hosts', 'cut_requests')
 ORDER BY position LIMIT ?4";
const MARK: &str = "UPDATE frontier SET state = ?3 WHERE snapshot_id = ?1 AND key = ?2";
const COUNT: &str = "SELECT state, count(*) FROM frontier WHERE snapshot_id = ?1 GROUP BY state";

/// Apply `op` to snapshot `id`'s frontier.
///
/// # Errors
/// SQLite errors.
pub(super) fn apply(conn: &Connection, id: i64, op: Op) -> rusqlite::Result<Reply> {
    match op {
        Op::Offer(items) => {
            let tx = conn.unchecked_transaction()?;
            let mut position: i64 = tx.query_row(LAST, [id], |r| r.get(0))?;
            {
                let mut put = tx.prepare_cached(PUT)?;
                for i in items {
                    position += 1;
                    put.execute(params![
                        id,
                        i.key,
                        position,
                        i.depth,
                        i.handle,
                        i.host,
                        i.state.as_str()
                    ])?;
                }
            }
            tx.commit()?;
            Ok(Reply::Done)
        }
        Op::Next { depth, after, n } => {
            let mut stmt = conn.prepare_cached(NEXT)?;
            let rows = stmt.query_map(params![id, depth, after, n as i64], |r| {
                let state: String = r.get(5)?;
                Ok((
                    r.get(0)?,
                    Item {
                        key: r.get(1)?,
                        depth: r.get(2)?,
                        handle: r.get(3)?,
                        host: r.get(4)?,
                        state: State::parse(&state).unwrap_or(State::Pending),
                    },
                ))
            })?;
            Ok(Reply::Items(rows.collect::<rusqlite::Result<_>>()?))
        }
        Op::Mark(states) => {
            let tx = conn.unchecked_transaction()?;
            {
                let mut mark = tx.prepare_cached(MARK)?;
                for (key, state) in states {
                    mark.execute(params![id, key, state.as_str()])?;
                }
            }
            tx.commit()?;
            Ok(Reply::Done)
        }
        Op::Count => {
            let mut stmt = conn.prepare_cached(COUNT)?;
            let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut counts = BTreeMap::new();
            for row in rows {
                let (state, n) = row?;
                if let Some(s) = State::parse(&state) {
                    counts.insert(s, u64::try_from(n).unwrap_or(0));
                }
            }
            Ok(Reply::Counts(counts))
        }
    }
}

/// Snapshot `snapshot`'s frontier, kept by `writer`.
pub struct StoreQueue {
    pub snapshot: i64,
    pub writer: Writer,
}

impl Queue for StoreQueue {
    fn offer(&self, items: Vec<Item>) -> Work<'_, ()> {
        Box::pin(async move {
            self.writer.frontier(self.snapshot, Op::Offer(items)).await?;
            Ok(())
        })
    }

    fn next(&self, depth: u32, after: i64, n: usize) -> Work<'_, Vec<(i64, Item)>> {
        Box::pin(async move {
            match self
                .writer
                .frontier(self.snapshot, Op::Next { depth, after, n })
                .await?
            {
                Reply::Items(items) => Ok(items),
                _ => Ok(vec![]),
            }
        })
    }

    fn mark(&self, states: Vec<(String, State)>) -> Work<'_, ()> {
        Box::pin(async move {
            self.writer.frontier(self.snapshot, Op::Mark(states)).await?;
            Ok(())
        })
    }

    fn count(&self) -> Work<'_, BTreeMap<State, u64>> {
        Box::pin(async move {
            match self.writer.frontier(self.snapshot, Op::Count).await? {
                Reply::Counts(c) => Ok(c),
                _ => Ok(BTreeMap::new()),
            }
        })
    }
}
