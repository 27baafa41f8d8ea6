//! Migrations 0004 and 0009: the opted-out accounts of a database written before they were
//! hashed, and the move targets it names although the crawl never saw them.
//!
//! A whohosts older than [`super::optout`] stored every listed account by handle, actor URI
//! and display name. On the first write command after the upgrade, every account state that
//! opted out (`noindex`, `indexable: false`, `discoverable: false`, `#nobot`/`#noindex`) and
//! still names its account is rewritten through [`OptOut::redact`] — the one place that
//! decides what of such an account may be stored: it is moved to the hashed identity (on the
//! same instance), its display name dropped and its move target reduced to an instance. Two
//! states that become the same are merged (edges and seeds point at the one kept), and the
//! named account rows nothing points at any more are deleted. The caller vacuums afterwards.
//!
//! Seeds are left as the user typed them (`seed.input`) with their resolution
//! (`seed.handle`, `seed.actor_uri`): they are the user's own words, in the cron line too.
//! Only the seed account's fetched data (its state) follows the redaction. A running
//! snapshot's response journal is left as is: it is what a resume replays, and it is deleted
//! when the snapshot completes.
//!
//! A move target is named only when the crawl saw that account itself (DESIGN §6: the mover's
//! server cannot vouch for another account's consent). An older whohosts stored every target
//! by name; [`unseen_targets`] keeps those the storing snapshot does not hold (no list row, no
//! seed of it) as their instance only, `an account on HOST` ([`unseen_target`]), in account
//! states and departures alike.

use std::path::Path;

use rusqlite::{params, OptionalExtension, Transaction};

use super::optout::{OptOut, PREFIX};
use crate::error::Result;
use crate::model::account::{is_instance_only_target, normal_handle, opted_out_target, unseen_target};

/// Account states with their account: state id, account id, then the 15 columns of
/// [`super::load::account_at`]; followed by the `WHERE` clause given.
macro_rules! states_where {
    ($where:literal) => {
        concat!(
            "SELECT st.id, st.account_id,
       a.actor_uri, a.handle, i.host, st.display_name, st.bot, st.moved_to, st.discoverable,
       st.indexable, st.noindex, st.hide_collections, st.followers_count, st.following_count,
       st.nobot_tag, st.fetch_error, st.last_status_at
  FROM account_state st
  JOIN account a ON a.id = st.account_id
  LEFT JOIN instance i ON i.id = a.instance_id
 ",
            $where,
            " ORDER BY st.id"
        )
    };
}

/// The opted-out states that still name their account.
const NAMED: &str = states_where!(
    "WHERE (st.noindex = 1 OR st.indexable = 0 OR st.discoverable = 0 OR st.nobot_tag = 1)
   AND NOT (a.handle IS NULL AND ifnull(a.actor_uri, '') LIKE ?1 || '%' AND st.display_name IS NULL)"
);

/// Rewrite the opted-out states of the database at `db` (open in `tx`); how many were.
///
/// # Errors
/// SQLite errors; the key file's errors ([`OptOut::of_database`]).
pub fn opted_out_states(tx: &Transaction<'_>, db: &Path) -> Result<usize> {
    let sqlite = |e| crate::error::Error::sqlite(db, e);
    let named: Vec<(i64, i64, crate::model::account::Account)> = {
        let mut stmt = tx.prepare(NAMED).map_err(sqlite)?;
        let rows = stmt
            .query_map([PREFIX], |r| Ok((r.get(0)?, r.get(1)?, super::load::account_at(r, 2)?)))
            .map_err(sqlite)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sqlite)?
    };
    if named.is_empty() {
        return Ok(0);
    }
    let keys = OptOut::of_database(db)?;
    let mut old_accounts = Vec::new();
    for (state, old_account, a) in &named {
        rewrite(tx, *state, &keys.hashed(a)).map_err(sqlite)?;
        old_accounts.push(*old_account);
    }
    let mut gone = tx
        .prepare(
            "DELETE FROM account WHERE id = ?1
               AND NOT EXISTS (SELECT 1 FROM account_state WHERE account_id = ?1)",
        )
        .map_err(sqlite)?;
    for id in old_accounts {
        gone.execute([id]).map_err(sqlite)?;
    }
    Ok(named.len())
}

/// The states of the named account whose actor URI is `?1` (or, without one, whose handle is
/// `?2`).
const NAMED_AS: &str = states_where!(
    "WHERE a.handle IS NOT NULL
   AND (ifnull(a.actor_uri, '') = ifnull(?1, '-')
        OR (ifnull(a.actor_uri, '') = '' AND ifnull(a.handle, '') = ifnull(?2, '-')))"
);

/// States that name a move target, not yet as an opted-out one: state id, account id, then
/// the columns of [`super::load::account_at`].
const MOVED_NAMED: &str =
    states_where!("WHERE st.moved_to IS NOT NULL AND st.moved_to NOT LIKE 'an opted-out account%'");

/// Accounts that opted out since earlier snapshots named them: every stored state of each
/// (found by the actor URI or handle it had then, `(actor_uri, handle)` of the accounts this
/// snapshot found opted out) is moved to the keyed hash, as if it had opted out then (its
/// flags stay as they were), the named account rows are deleted, and the departures that
/// named it name the hash. Earlier moves to it (another account's `moved_to`, a departure's)
/// keep its instance only, `an opted-out account on HOST`. So every snapshot holds the
/// account as the same one hash: a diff counts it as still there, and nothing names it.
/// Returns how many states were rewritten.
///
/// # Errors
/// SQLite errors.
pub fn opted_out_since(
    tx: &Transaction<'_>,
    keys: &OptOut,
    identities: &[(Option<String>, Option<String>)],
) -> rusqlite::Result<usize> {
    let mut rewritten = 0;
    for (uri, handle) in identities {
        let named: Vec<(i64, i64, crate::model::account::Account)> = {
            let mut stmt = tx.prepare_cached(NAMED_AS)?;
            let rows = stmt.query_map(params![uri, handle], |r| {
                Ok((r.get(0)?, r.get(1)?, super::load::account_at(r, 2)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (state, old_account, a) in &named {
            let hashed = keys.hashed(a);
            rewrite(tx, *state, &hashed)?;
            if let Some(h) = a.handle.as_deref() {
                tx.execute(
                    "UPDATE departure SET account = ?1 WHERE account = ?2",
                    params![hashed.actor_uri, h],
                )?;
            }
            tx.execute(
                "DELETE FROM account WHERE id = ?1
                   AND NOT EXISTS (SELECT 1 FROM account_state WHERE account_id = ?1)",
                [old_account],
            )?;
            rewritten += 1;
        }
        // An account a deeper crawl expanded is a seed row of its own (depth above 0), named
        // by its input and resolution: stored as its hash from now on, as `redact_seed` stores
        // one that had opted out already. Seeds the user named (depth 0) stay as typed.
        let hash = keys.identity_hash(uri.as_deref(), handle.as_deref());
        rewritten += tx.execute(
            "UPDATE seed SET input = ?1, handle = NULL, actor_uri = NULL
              WHERE depth > 0 AND (actor_uri = ?2 OR handle = ?3 OR input = ?2 OR input = ?3)",
            params![hash, uri, handle],
        )?;
    }
    rewritten += moves_to_opted_out(tx, identities)?;
    Ok(rewritten)
}

/// Whether the move target `target` (an actor URI or a handle) is one of `identities`.
fn names_one_of(target: &str, identities: &[(Option<String>, Option<String>)]) -> bool {
    let handle = normal_handle(target);
    identities
        .iter()
        .any(|(uri, h)| uri.as_deref() == Some(target) || h.as_deref().is_some_and(|h| normal_handle(h) == handle))
}

/// The stored moves whose target is one of `identities` (accounts now opted out) rewritten to
/// name the target's instance only ([`opted_out_target`]); how many states were.
fn moves_to_opted_out(
    tx: &Transaction<'_>,
    identities: &[(Option<String>, Option<String>)],
) -> rusqlite::Result<usize> {
    if identities.is_empty() {
        return Ok(0);
    }
    let movers: Vec<(i64, crate::model::account::Account)> = {
        let mut stmt = tx.prepare_cached(MOVED_NAMED)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, super::load::account_at(r, 2)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|(_, a)| a.moved_to.as_deref().is_some_and(|m| names_one_of(m, identities)))
            .collect()
    };
    for (state, a) in &movers {
        let mut kept = a.clone();
        kept.moved_to = a.moved_to.as_deref().map(opted_out_target);
        rewrite(tx, *state, &kept)?;
    }
    let departures: Vec<(i64, String, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT snapshot_id, account, moved_to FROM departure
              WHERE moved_to IS NOT NULL AND moved_to NOT LIKE 'an opted-out account%'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (snapshot, account, to) in departures.iter().filter(|(_, _, to)| names_one_of(to, identities)) {
        tx.execute(
            "UPDATE departure SET moved_to = ?3 WHERE snapshot_id = ?1 AND account = ?2",
            params![snapshot, account, opted_out_target(to)],
        )?;
    }
    Ok(movers.len())
}

/// Whether snapshot `snapshot` holds the account `target` (an actor URI or a handle) names: a
/// list row of it or a seed (its resolution or its profile).
fn seen_in(tx: &Transaction<'_>, snapshot: i64, target: &str) -> rusqlite::Result<bool> {
    let handle = normal_handle(target);
    tx.prepare_cached(
        "SELECT EXISTS (
             SELECT 1 FROM follow f
               JOIN follow_list l ON l.id = f.list_id
               JOIN account_state st ON st.id = f.account_state_id
               JOIN account a ON a.id = st.account_id
              WHERE l.snapshot_id = ?1 AND (a.actor_uri = ?2 OR lower(ltrim(a.handle, '@')) = ?3))
             OR EXISTS (
             SELECT 1 FROM seed sd
               LEFT JOIN account_state st ON st.id = sd.account_state_id
               LEFT JOIN account a ON a.id = st.account_id
              WHERE sd.snapshot_id = ?1
                AND (sd.actor_uri = ?2 OR lower(ltrim(sd.handle, '@')) = ?3
                     OR a.actor_uri = ?2 OR lower(ltrim(a.handle, '@')) = ?3))",
    )?
    .query_row(params![snapshot, target, handle], |r| r.get(0))
}

/// States that name a move target: state id, account id, then the columns of
/// [`super::load::account_at`].
const MOVED: &str = states_where!("WHERE st.moved_to IS NOT NULL");

/// Migration 0009: every stored move whose target the snapshot that stored it did not see
/// ([`seen_in`]) keeps the target's instance only ([`unseen_target`]): account states (a state
/// shared by several snapshots is kept named only when each of them saw the target) and
/// departures. Returns how many states and departures were rewritten.
///
/// # Errors
/// SQLite errors.
pub fn unseen_targets(tx: &Transaction<'_>) -> rusqlite::Result<usize> {
    let movers: Vec<(i64, crate::model::account::Account)> = {
        let mut stmt = tx.prepare(MOVED)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, super::load::account_at(r, 2)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|(_, a)| a.moved_to.as_deref().is_some_and(|m| !is_instance_only_target(m)))
            .collect()
    };
    let mut rewritten = 0;
    for (state, a) in &movers {
        let Some(target) = a.moved_to.as_deref() else { continue };
        let snapshots: Vec<i64> = {
            let mut stmt = tx.prepare_cached(
                "SELECT l.snapshot_id FROM follow f JOIN follow_list l ON l.id = f.list_id
                  WHERE f.account_state_id = ?1
                 UNION SELECT snapshot_id FROM seed WHERE account_state_id = ?1",
            )?;
            let rows = stmt.query_map([state], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut seen = !snapshots.is_empty();
        for s in &snapshots {
            seen = seen && seen_in(tx, *s, target)?;
        }
        if !seen {
            let mut kept = a.clone();
            kept.moved_to = Some(unseen_target(target));
            rewrite(tx, *state, &kept)?;
            rewritten += 1;
        }
    }
    let departures: Vec<(i64, String, String)> = {
        let mut stmt = tx.prepare("SELECT snapshot_id, account, moved_to FROM departure WHERE moved_to IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (snapshot, account, to) in departures {
        if is_instance_only_target(&to) || seen_in(tx, snapshot, &to)? {
            continue;
        }
        tx.execute(
            "UPDATE departure SET moved_to = ?3 WHERE snapshot_id = ?1 AND account = ?2",
            params![snapshot, account, unseen_target(&to)],
        )?;
        rewritten += 1;
    }
    Ok(rewritten)
}

/// Move account state `state` to `r`, the account it is stored as now: the hashed account
/// ([`OptOut::hashed`], on the same instance), or the same account with a move target reduced
/// to its instance.
fn rewrite(tx: &Transaction<'_>, state: i64, r: &crate::model::account::Account) -> rusqlite::Result<()> {
    let instance: Option<i64> = match &r.server {
        Some(h) => tx
            .query_row("SELECT id FROM instance WHERE host = ?1", [h.as_str()], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let found: Option<i64> = tx
        .query_row(
            super::sql::ACCOUNT_GET,
            params![
                r.actor_uri.as_deref().unwrap_or(""),
                r.handle.as_deref().unwrap_or(""),
                instance.unwrap_or(0)
            ],
            |r| r.get(0),
        )
        .optional()?;
    let account = match found {
        Some(id) => id,
        None => {
            tx.execute(super::sql::ACCOUNT_PUT, params![r.actor_uri, r.handle, instance])?;
            tx.last_insert_rowid()
        }
    };
    let digest = super::save::state_digest(r);
    let twin: Option<i64> = tx
        .query_row(
            "SELECT id FROM account_state WHERE account_id = ?1 AND digest = ?2 AND id <> ?3",
            params![account, digest, state],
            |r| r.get(0),
        )
        .optional()?;
    match twin {
        Some(kept) => {
            tx.execute(
                "UPDATE follow SET account_state_id = ?1 WHERE account_state_id = ?2",
                params![kept, state],
            )?;
            tx.execute(
                "UPDATE seed SET account_state_id = ?1 WHERE account_state_id = ?2",
                params![kept, state],
            )?;
            tx.execute("DELETE FROM account_state WHERE id = ?1", [state])?;
        }
        None => {
            tx.execute(
                "UPDATE account_state SET account_id = ?1, digest = ?2, display_name = ?3, moved_to = ?4,
                        fetch_error = ?5 WHERE id = ?6",
                params![account, digest, r.display_name, r.moved_to, r.fetch_error, state],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// A database as the whohosts before hashing left it (schema 3), naming an opted-out
    /// account (two states of it, differing only by display name) next to an open one.
    const OLD_ROWS: &str = "
        INSERT INTO instance (id, host) VALUES (1, 'hub.example'), (2, 'eq.example');
        INSERT INTO account (id, actor_uri, handle, instance_id) VALUES
            (1, 'https://hub.example/users/nb1', '@nb1@hub.example', 1),
            (2, 'https://hub.example/users/open1', '@open1@hub.example', 1);
        INSERT INTO account_state (id, account_id, digest, display_name, moved_to, noindex, nobot_tag) VALUES
            (1, 1, 11, 'Nora Hidden', '@nb1@eq.example', 1, 0),
            (2, 1, 12, 'Nora Hidden again', '@nb1@eq.example', 1, 0),
            (3, 2, 13, 'Open Person', NULL, NULL, 0);
        INSERT INTO snapshot (id, kind, status, request, started_at, tool, configuration)
            VALUES (1, 'follows', 'complete', '{}', '2026-01-01T00:00:00Z', 'whohosts', '{}');
        INSERT INTO seed (snapshot_id, position, input, handle, instance_id, actor_uri, account_state_id)
            VALUES (1, 0, '@alice@hub.example', '@alice@hub.example', 1, 'https://hub.example/users/alice', NULL);
        INSERT INTO follow_list (id, snapshot_id, seed_position, direction, source, status, pages)
            VALUES (1, 1, 0, 'following', 'activitypub', 'complete', 1);
        INSERT INTO follow (list_id, position, account_state_id) VALUES (1, 0, 1), (1, 1, 2), (1, 2, 3);";

    /// handle, actor URI, instance, display name, moved to.
    type Edge = (Option<String>, Option<String>, String, Option<String>, Option<String>);

    fn old_database(path: &std::path::Path) {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        for sql in [
            include_str!("../../migrations/0001_snapshots.sql"),
            include_str!("../../migrations/0002_metrics.sql"),
            include_str!("../../migrations/0003_trend_views.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", super::super::schema::APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(OLD_ROWS).unwrap();
    }

    fn bytes_of(path: &std::path::Path) -> Vec<u8> {
        let mut all = std::fs::read(path).unwrap();
        for tail in ["-wal", "-journal"] {
            let mut p = path.as_os_str().to_owned();
            p.push(tail);
            if let Ok(b) = std::fs::read(std::path::PathBuf::from(p)) {
                all.extend(b);
            }
        }
        all
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// Rows as a whohosts before 0009 left them: moves to an account the snapshot never saw
    /// (zqhid, by handle and by actor URI, in a list row and a departure) next to a move to an
    /// account the same snapshot lists (open1), which stays named.
    const OLD_MOVES: &str = "
        INSERT INTO instance (id, host) VALUES (1, 'hub.example'), (2, 'c.example');
        INSERT INTO account (id, actor_uri, handle, instance_id) VALUES
            (1, 'https://hub.example/users/mv1', '@mv1@hub.example', 1),
            (2, 'https://hub.example/users/mv2', '@mv2@hub.example', 1),
            (3, 'https://hub.example/users/open1', '@open1@hub.example', 1),
            (4, 'https://hub.example/users/mv3', '@mv3@hub.example', 1);
        INSERT INTO account_state (id, account_id, digest, moved_to, nobot_tag) VALUES
            (1, 1, 11, '@zqhid@c.example', 0),
            (2, 2, 12, 'https://c.example/users/zqhid2', 0),
            (3, 3, 13, NULL, 0),
            (4, 4, 14, '@Open1@hub.example', 0);
        INSERT INTO snapshot (id, kind, status, request, started_at, tool, configuration)
            VALUES (1, 'follows', 'complete', '{}', '2026-01-01T00:00:00Z', 'whohosts', '{}');
        INSERT INTO seed (snapshot_id, position, input, handle, instance_id, actor_uri, account_state_id)
            VALUES (1, 0, '@alice@hub.example', '@alice@hub.example', 1, 'https://hub.example/users/alice', NULL);
        INSERT INTO follow_list (id, snapshot_id, seed_position, direction, source, status, pages)
            VALUES (1, 1, 0, 'following', 'activitypub', 'complete', 1);
        INSERT INTO follow (list_id, position, account_state_id) VALUES (1, 0, 1), (1, 1, 2), (1, 2, 3), (1, 3, 4);
        INSERT INTO departure (snapshot_id, account, cause, moved_to) VALUES
            (1, '@gone@hub.example', 'moved', 'https://c.example/users/zqhid3'),
            (1, '@gone2@hub.example', 'moved', 'https://hub.example/users/open1');";

    #[test]
    fn an_old_database_upgraded_keeps_only_the_instance_of_a_move_target_never_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = super::super::schema::open(&path).unwrap();
        conn.execute_batch(OLD_MOVES).unwrap();
        // As schema 9 left it: without what later migrations add (0011's steps).
        conn.execute_batch("ALTER TABLE contact_domain DROP COLUMN steps")
            .unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
        drop(conn);
        assert!(contains(&bytes_of(&path), "zqhid"), "the fixture names the targets");
        let conn = super::super::schema::open(&path).unwrap();
        let moves: Vec<(String, Option<String>)> = conn
            .prepare("SELECT handle, moved_to FROM follow_edge ORDER BY position")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let moved = |h: &str| moves.iter().find(|(m, _)| m == h).unwrap().1.clone();
        assert_eq!(moved("@mv1@hub.example").as_deref(), Some("an account on c.example"));
        assert_eq!(moved("@mv2@hub.example").as_deref(), Some("an account on c.example"));
        assert_eq!(
            moved("@mv3@hub.example").as_deref(),
            Some("@Open1@hub.example"),
            "seen: named"
        );
        assert_eq!(moved("@open1@hub.example"), None);
        let departures: Vec<String> = conn
            .prepare("SELECT moved_to FROM departure ORDER BY account")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        // `@gone2@…` sorts before `@gone@…`.
        assert_eq!(
            departures,
            ["https://hub.example/users/open1", "an account on c.example"]
        );
        drop(conn);
        assert!(
            !contains(&bytes_of(&path), "zqhid"),
            "a target never seen is still in the file"
        );
    }

    #[test]
    fn an_old_database_upgraded_names_no_opted_out_account() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        old_database(&path);
        assert!(contains(&bytes_of(&path), "nb1"), "the fixture names the account");
        let conn = super::super::schema::open(&path).unwrap();
        let edges: Vec<Edge> = conn
            .prepare("SELECT handle, actor_uri, instance, display_name, moved_to FROM follow_edge ORDER BY position")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(edges.len(), 3, "every edge is kept");
        // Both states of the opted-out account became one: its hash, its instance, the
        // instance it moved to.
        for e in &edges[..2] {
            assert_eq!(e.0, None);
            assert!(e.1.as_deref().unwrap().starts_with(super::PREFIX), "{e:?}");
            assert_eq!(e.2, "hub.example");
            assert_eq!(e.3, None);
            assert_eq!(e.4.as_deref(), Some("an opted-out account on eq.example"));
        }
        assert_eq!(edges[0].1, edges[1].1);
        let states: i64 = conn
            .query_row("SELECT count(*) FROM account_state", [], |r| r.get(0))
            .unwrap();
        assert_eq!(states, 2, "the two states that became the same are merged");
        assert_eq!(edges[2].0.as_deref(), Some("@open1@hub.example"));
        assert_eq!(edges[2].3.as_deref(), Some("Open Person"));
        // The seed stays as the user typed it.
        let seed: String = conn.query_row("SELECT input FROM seed", [], |r| r.get(0)).unwrap();
        assert_eq!(seed, "@alice@hub.example");
        drop(conn);
        let bytes = bytes_of(&path);
        for name in ["nb1", "Nora Hidden"] {
            assert!(!contains(&bytes, name), "{name} is still in the file");
        }
        // Opening again rewrites nothing more.
        let conn = super::super::schema::open(&path).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM account WHERE actor_uri LIKE 'opted-out:%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
    }
}
