//! Trend queries: the SQL files of `queries/`, compiled in, run read-only over the snapshot
//! database with named parameters.
//!
//! # Architecture
//! Each shipped file ([`SHIPPED`]) starts with a comment block that [`Header::parse`] reads:
//!
//! ```text
//! -- NAME: what it answers (may continue on further lines)
//! --
//! -- Parameters:
//! --   :level = organisation  what it is (`= value` gives a default; `= null` binds NULL)
//! -- Columns:
//! --   snapshot_id  what it holds
//! ```
//!
//! [`run`] prepares one statement, refuses it unless SQLite says it is read-only, binds every
//! named parameter from the caller's values or the header's defaults (a value is bound as an
//! integer or a real when it reads as one, as text otherwise; never pasted into the SQL), and
//! collects a [`Table`], which renders as an aligned table, CSV or JSON ([`FORMATS`]) and
//! reads as typed records ([`Table::records`]).

mod records;
mod table;

pub use table::FORMATS;

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::error::{Error, Result};
/// The output formats; a table is written in [`FORMATS`].
pub use crate::model::format::Format;

/// A query shipped with whohosts.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    pub name: &'static str,
    pub sql: &'static str,
}

/// A shipped query: `queries/NAME.sql`, compiled in.
macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(Query { name: $name, sql: include_str!(concat!("../../queries/", $name, ".sql")) }),*]
    };
}

/// The shipped queries, in the order `query --list` shows them.
pub const SHIPPED: &[Query] = shipped![
    "summary",
    "concentration",
    "share",
    "host-changes",
    "instance-changes",
    "moved-accounts",
    "account-changes",
    "contact-changes",
    "survey-changes",
];

/// A parameter a query takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// Bound when the caller gives none (`null` binds NULL).
    pub default: Option<String>,
    pub about: String,
}

/// A column a query returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub about: String,
}

/// The comment block at the top of a query file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub about: String,
    pub params: Vec<Param>,
    pub columns: Vec<Column>,
}

#[derive(PartialEq)]
enum Section {
    About,
    Params,
    Columns,
}

/// Split `text` at its first run of whitespace.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((w, rest)) => (w, rest.trim()),
        None => (text, ""),
    }
}

impl Header {
    /// Read the leading `--` comment block of `sql` (an empty header when there is none).
    pub fn parse(sql: &str) -> Header {
        let mut h = Header::default();
        let mut section = Section::About;
        // How far the first column's name is indented: a deeper line continues a description.
        let mut column_indent = None;
        for line in sql.lines().map(str::trim).take_while(|l| l.starts_with("--")) {
            let body = line.trim_start_matches('-');
            let indent = body.len() - body.trim_start().len();
            let text = body.trim();
            match text {
                "Parameters:" => section = Section::Params,
                "Columns:" => section = Section::Columns,
                "" => {}
                _ if section == Section::About => {
                    let sentence = text.split_once(": ").map_or(text, |(_, about)| about);
                    let part = if h.about.is_empty() { sentence } else { text };
                    h.about = format!("{} {part}", h.about).trim().to_string();
                }
                _ if section == Section::Params && text.starts_with(':') => h.params.push(param(text)),
                // A parameter's description may continue on the next lines.
                _ if section == Section::Params => {
                    if let Some(p) = h.params.last_mut() {
                        p.about = format!("{} {text}", p.about);
                    }
                }
                _ if section == Section::Columns && column_indent.is_some_and(|first| indent > first) => {
                    if let Some(c) = h.columns.last_mut() {
                        c.about = format!("{} {text}", c.about);
                    }
                }
                _ if section == Section::Columns => {
                    column_indent.get_or_insert(indent);
                    let (name, about) = first_word(text);
                    h.columns.push(Column {
                        name: name.into(),
                        about: about.into(),
                    });
                }
                _ => {}
            }
        }
        h
    }
}

/// `:name [= default] about`.
fn param(text: &str) -> Param {
    let (name, rest) = first_word(text.trim_start_matches(':'));
    let (default, about) = match rest.strip_prefix('=') {
        Some(after) => {
            let (d, about) = first_word(after);
            (Some(d.to_string()), about)
        }
        None => (None, rest),
    };
    Param {
        name: name.into(),
        default,
        about: about.into(),
    }
}

/// The shipped query called `name`.
///
/// # Errors
/// [`Error::QueryUsage`] naming the queries there are.
pub fn find(name: &str) -> Result<&'static Query> {
    SHIPPED.iter().find(|q| q.name == name).ok_or_else(|| {
        let names = || SHIPPED.iter().map(|q| q.name);
        let message = if name.contains('=') {
            // `query level=as`: a parameter where the name goes.
            format!("no such query: a parameter is given as `-p {name}`, after the query's name")
        } else if let Some(near) = crate::model::text::nearest(name, names()) {
            format!("no such query; did you mean '{near}'? (see `whohosts query --list`)")
        } else {
            format!(
                "no such query (there are: {}; see `whohosts query --list`)",
                names().collect::<Vec<_>>().join(", ")
            )
        };
        Error::QueryUsage {
            name: name.into(),
            message,
        }
    })
}

/// Open the database at `path` for reading only: SQLite's read-only mode and
/// `PRAGMA query_only`, so no statement can change it; nothing is upgraded. For benchmarks
/// and tests: a command reads through [`crate::store::Store::open_read_only`], which checks
/// that a file read without sharing a writer's `-shm` did not change under it.
///
/// # Errors
/// As [`crate::store::schema::open_read_only`].
pub fn open_read_only(path: &Path) -> Result<Connection> {
    crate::store::schema::open_read_only(path).map(|(conn, _)| conn)
}

/// A value from the command line: an integer or a real when it reads as one, else text;
/// `null` (for defaults) is NULL.
fn value_of(text: &str) -> Value {
    if text == "null" {
        Value::Null
    } else if let Ok(i) = text.parse::<i64>() {
        Value::Integer(i)
    } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
        Value::Real(f)
    } else {
        Value::Text(text.to_string())
    }
}

/// The rows a query returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// How far a query may go before it is stopped: a time and a memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Stopped (SQLite interrupted) when it runs longer than this.
    pub time: std::time::Duration,
    /// One budget, in bytes, for SQLite's heap and the rows collected so far together. SQLite
    /// itself refuses to grow past what the collected rows leave of it (its hard heap limit,
    /// for the whole process, is lowered as they grow; sorts, `DISTINCT` and other temporary
    /// b-trees are kept in that heap, `temp_store = MEMORY`, not spilled to a temporary file),
    /// no text or blob may be longer than half of it (one value is held twice while it is
    /// copied out of SQLite), and a row is measured before it is copied out.
    pub memory_bytes: u64,
}

impl Limits {
    /// The limits `[query]` of the configuration sets.
    pub fn of(config: &crate::config::Query) -> Limits {
        Limits {
            time: std::time::Duration::from_secs(config.time_limit_seconds),
            memory_bytes: config.memory_limit_mb.saturating_mul(1 << 20),
        }
    }
}

/// Run `sql` (named `origin` in errors) on `conn` with the caller's `given` parameters.
///
/// # Errors
/// [`Error::Query`]: a statement that would write, more than one statement, a positional
/// parameter, or an SQL error; [`Error::QueryUsage`]: an unknown or missing parameter, a
/// `level` or `weight` that names none, or a `weight` no complete snapshot stored has.
pub fn run(conn: &Connection, origin: &str, sql: &str, given: &[(String, String)]) -> Result<Table> {
    collect(conn, origin, sql, given, u64::MAX)
}

/// [`run`] within `limits`: past one, the query stops with one line naming the limit.
///
/// # Errors
/// As [`run`]; [`Error::Query`] naming the limit that stopped it.
pub fn run_within(
    conn: &Connection,
    origin: &str,
    sql: &str,
    given: &[(String, String)],
    limits: Limits,
) -> Result<Table> {
    use std::sync::atomic::{AtomicBool, Ordering};
    set_heap_limit(limits.memory_bytes);
    // One value is held twice while it is copied out (in SQLite and in the row): no text or
    // blob may be longer than half the budget. SQLite refuses it before it allocates it.
    let longest = i32::try_from(limits.memory_bytes / 2).unwrap_or(i32::MAX).max(1);
    // SAFETY: the handle is this open connection's; `sqlite3_limit` only sets a limit of it.
    unsafe {
        rusqlite::ffi::sqlite3_limit(conn.handle(), rusqlite::ffi::SQLITE_LIMIT_LENGTH, longest);
    }
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| Error::Query {
            name: origin.into(),
            message: e.to_string(),
        })?;
    let fired = std::sync::Arc::new(AtomicBool::new(false));
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let interrupt = conn.get_interrupt_handle();
    let timer = {
        let fired = fired.clone();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(limits.time) {
                fired.store(true, Ordering::SeqCst);
                interrupt.interrupt();
            }
        })
    };
    let result = collect(conn, origin, sql, given, limits.memory_bytes);
    drop(stop);
    let _ = timer.join();
    // What follows (rendering, the name check) runs under the whole budget again.
    set_heap_limit(limits.memory_bytes);
    let out_of_memory = |e: &Error| {
        matches!(e, Error::Query { message, .. }
            if message.contains("out of memory") || message.contains("string or blob too big"))
    };
    match result {
        Err(_) if fired.load(Ordering::SeqCst) => Err(Error::Query {
            name: origin.into(),
            message: format!(
                "stopped after {} s, its time limit (query.time_limit_seconds in config)",
                limits.time.as_secs()
            ),
        }),
        Err(e) if out_of_memory(&e) => Err(memory_stop(origin, limits.memory_bytes)),
        other => other,
    }
}

fn memory_stop(origin: &str, bytes: u64) -> Error {
    Error::Query {
        name: origin.into(),
        message: format!(
            "stopped at {} MiB, its memory limit (query.memory_limit_mb in config)",
            bytes >> 20
        ),
    }
}

/// What the allocator holds for SQLite's heap over what SQLite counts of it, as a fraction
/// (5/4): SQLite's count leaves out the allocator's header and rounding of each allocation,
/// about a quarter more with a sort's many small records (a sort stopped at a 128 MiB heap
/// held 160 MiB: `bench/RESULTS.md`).
const SQLITE_OVERHEAD: (u64, u64) = (5, 4);

/// What SQLite may count for its heap when the allocator may hold `bytes` for it.
fn sqlite_share(bytes: u64) -> u64 {
    bytes / SQLITE_OVERHEAD.0 * SQLITE_OVERHEAD.1
}

/// Hold SQLite's heap (the whole process's) under `bytes` of what the allocator holds: its
/// hard limit, and its soft limit with it (lowering the hard limit lowers the soft one, which
/// raising it would not undo).
fn set_heap_limit(bytes: u64) {
    let n = i64::try_from(sqlite_share(bytes)).unwrap_or(i64::MAX).max(1);
    // SAFETY: both calls only set SQLite's process-wide heap limits, under its own mutex; they
    // take no pointer and may be called at any time from any thread.
    unsafe {
        rusqlite::ffi::sqlite3_hard_heap_limit64(n);
        rusqlite::ffi::sqlite3_soft_heap_limit64(n);
    }
}

/// What the allocator takes for an allocation of `n` bytes: glibc's chunk, `n` and an 8-byte
/// header rounded up to 16, at least 32; nothing for none.
fn allocation(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).next_multiple_of(16).max(32)
    }
}

/// What a collected row holds: its vector's allocation, each text's or blob's, and its slot in
/// the table's vector twice over (a growing vector holds up to twice what it uses).
fn row_bytes(values: &[Value]) -> u64 {
    let held: usize = values
        .iter()
        .map(|v| match v {
            Value::Text(t) => allocation(t.capacity()),
            Value::Blob(b) => allocation(b.capacity()),
            _ => 0,
        })
        .sum();
    (allocation(std::mem::size_of_val(values)) + held + 2 * std::mem::size_of::<Vec<Value>>()) as u64
}

/// What a row will hold once copied out of SQLite, measured before it is ([`row_bytes`] of
/// the copy).
fn row_bytes_before(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<u64> {
    use rusqlite::types::ValueRef;
    let mut held = allocation(width * std::mem::size_of::<Value>()) + 2 * std::mem::size_of::<Vec<Value>>();
    for i in 0..width {
        held += match row.get_ref(i)? {
            ValueRef::Text(t) | ValueRef::Blob(t) => allocation(t.len()),
            _ => 0,
        };
    }
    Ok(held as u64)
}

/// What the allocator holds for SQLite's heap now, in bytes (for the whole process): what
/// SQLite counts, with [`SQLITE_OVERHEAD`].
fn sqlite_heap() -> u64 {
    // SAFETY: `sqlite3_memory_used` only reads SQLite's memory statistics; it takes no pointer
    // and may be called at any time from any thread.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    u64::try_from(used).unwrap_or(0) / SQLITE_OVERHEAD.1 * SQLITE_OVERHEAD.0
}

fn collect(conn: &Connection, origin: &str, sql: &str, given: &[(String, String)], max_bytes: u64) -> Result<Table> {
    let fail = |message: String| Error::Query {
        name: origin.into(),
        message,
    };
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => fail("holds more than one statement; give one SELECT".into()),
        e => fail(sql_message(&e)),
    })?;
    if !stmt.readonly() {
        return Err(fail("it would change the database; queries are read-only".into()));
    }
    let usage = |message: String| Error::QueryUsage {
        name: origin.into(),
        message,
    };
    check_values(given).map_err(usage)?;
    let header = Header::parse(sql);
    check_snapshots(conn, sql, &header, given).map_err(usage)?;
    check_weight(conn, &header, given).map_err(usage)?;
    bind(&mut stmt, &header, given).map_err(|e| match e {
        Bind::Usage(m) => usage(m),
        Bind::Sql(m) => fail(m),
    })?;
    let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let width = columns.len();
    let budgeted = max_bytes < u64::MAX;
    // SQLite's heap is asked, and its limit lowered to what the rows leave of the budget, each
    // time the rows have grown by a 64th of the budget (at least 64 KiB) since it last was:
    // rows and heap together pass the budget by at most that step.
    let step = (max_bytes / 64).max(64 << 10);
    let mut rows = vec![];
    let mut held = 0u64;
    let mut checked = 0u64;
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(|e| fail(sql_message(&e)))? {
        let size = row_bytes_before(row, width).map_err(|e| fail(sql_message(&e)))?;
        let after = held.saturating_add(size);
        if budgeted && after - checked >= step {
            // One budget: what SQLite still holds (a sort's rows not yet returned, this row's
            // values) and the rows collected here, this one's copy included.
            if after.saturating_add(sqlite_heap()) > max_bytes {
                return Err(memory_stop(origin, max_bytes));
            }
            set_heap_limit(max_bytes - after);
            checked = after;
        }
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(row.get::<_, Value>(i).map_err(|e| fail(sql_message(&e)))?);
        }
        held = held.saturating_add(row_bytes(&values));
        rows.push(values);
    }
    Ok(Table { columns, rows })
}

/// SQLite's message for an error in the SQL, on one line: where SQLite points at a token,
/// its line and column in the SQL (rusqlite's own text repeats the SQL, line breaks and all).
fn sql_message(e: &rusqlite::Error) -> String {
    let text = match e {
        rusqlite::Error::SqlInputError { msg, sql, offset, .. } => match usize::try_from(*offset) {
            Ok(at) if at <= sql.len() && sql.is_char_boundary(at) => {
                let before = &sql[..at];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
                format!("{msg} (line {line}, column {column})")
            }
            _ => msg.clone(),
        },
        e => e.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How `account-changes` gives accounts that opted out of crawlers: `counted` (one row per
/// change, instance and target: "2 opted-out accounts"; the default) or `hashed` (one row
/// each under its stored hash, which `diff` reads to count them and never shows).
pub const OPTED_OUT: [&str; 2] = ["counted", "hashed"];

/// Refuse a `level`, `weight` or `kind` that names none: such a query could only return nothing.
/// The levels and weights of follows snapshots, then those only contacts snapshots have.
fn check_values(given: &[(String, String)]) -> Result<(), String> {
    use crate::metrics::Level;
    use crate::model::contact::LEVELS;
    let mut levels: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
    let only_contacts: Vec<&str> = LEVELS.iter().copied().filter(|l| !levels.contains(l)).collect();
    levels.extend(only_contacts);
    let weights = known_weights();
    let kinds = KINDS.to_vec();
    let opted_out = OPTED_OUT.to_vec();
    for (k, v) in given {
        let known: Option<&Vec<&str>> = match k.as_str() {
            "level" if !levels.contains(&v.as_str()) => Some(&levels),
            "weight" if !weights.contains(&v.as_str()) => Some(&weights),
            "kind" if !KINDS.contains(&v.as_str()) => Some(&kinds),
            "opted_out" if !OPTED_OUT.contains(&v.as_str()) => Some(&opted_out),
            _ => None,
        };
        if let Some(known) = known {
            let near = crate::model::text::nearest(v, known.iter().copied())
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            return Err(format!("{k} must be one of {} (not {v:?}{near})", known.join(", ")));
        }
        if k == "series" && serde_json::from_str::<Vec<i64>>(v).is_err() {
            return Err(format!(
                "series must be snapshot ids as a JSON array, such as [1,4] (not {v:?})"
            ));
        }
    }
    Ok(())
}

/// The kinds of snapshot (`-p kind=`): follows (crawls), contacts, instances (surveys).
const KINDS: [&str; 3] = ["follows", "contacts", "instances"];

/// The caller's own `from` and `to` naming one snapshot (`diff N N` is refused alike): a
/// comparison of a snapshot with itself could only return nothing, which reads like "no
/// change". (A default `from` may be `to` itself, for the first of a series, and says so.)
///
/// # Errors
/// [`Error::QueryUsage`] naming the query.
pub fn check_pair(origin: &str, given: &[(String, String)]) -> Result<()> {
    let get = |key: &str| given.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.trim());
    match (get("from"), get("to")) {
        (Some(a), Some(b)) if a == b => Err(Error::QueryUsage {
            name: origin.into(),
            message: format!("from and to are both snapshot {a}: give two different snapshots"),
        }),
        _ => Ok(()),
    }
}

/// The parameters that name a snapshot by its id in the shipped queries.
const SNAPSHOT_PARAMS: [&str; 3] = ["snapshot", "from", "to"];

/// Refuse a snapshot id (a parameter of [`SNAPSHOT_PARAMS`] the query's header declares) that
/// is no whole number or names no stored snapshot: such a query could only return nothing,
/// which reads like "no change". Refuse too two snapshots of different kinds (a comparison
/// of a follows snapshot with a survey) or two contacts snapshots of different weights, and a
/// snapshot of another kind than the one a query reads ([`read_kind`]), naming each snapshot
/// and its kind (or weight), as `diff` does.
fn check_snapshots(conn: &Connection, sql: &str, header: &Header, given: &[(String, String)]) -> Result<(), String> {
    use crate::store::kinds::{snapshot_words, snapshots_words};
    let mut named: Vec<(&str, i64, String)> = vec![];
    for (k, v) in given {
        if k == "series" && header.params.iter().any(|p| p.name == *k) {
            // Each id of a series names a stored snapshot, or the row for it would be missing
            // without a word.
            for id in serde_json::from_str::<Vec<i64>>(v).unwrap_or_default() {
                let found = conn.query_row("SELECT 1 FROM snapshot WHERE id = ?1", [id], |_| Ok(()));
                if let Err(rusqlite::Error::QueryReturnedNoRows) = found {
                    return Err(format!(
                        "series: no snapshot {id} in this database (`whohosts snapshots` lists them)"
                    ));
                }
            }
        }
        if !SNAPSHOT_PARAMS.contains(&k.as_str()) || !header.params.iter().any(|p| p.name == *k) {
            continue;
        }
        let Ok(id) = v.trim().parse::<i64>() else {
            return Err(format!("{k} must be a snapshot id, a whole number (not {v:?})"));
        };
        let found = conn.query_row("SELECT kind, status FROM snapshot WHERE id = ?1", [id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        });
        let kind: Option<String> = match found {
            // Only a complete snapshot has its rows: one still running, interrupted or failed
            // would read as "nothing there", or every row of the other snapshot as new.
            Ok((_, status)) if status == "failed" => {
                return Err(format!(
                    "{k}: snapshot {id} failed, so it measured nothing: compare complete snapshots \
                     (`whohosts snapshots` lists them)"
                ))
            }
            Ok((_, status)) if status != "complete" => {
                return Err(format!(
                    "{k}: snapshot {id} is {status}, not complete: its rows are stored when it completes \
                     (`whohosts snapshots` lists them)"
                ))
            }
            Ok((kind, _)) => Some(kind),
            Err(rusqlite::Error::QueryReturnedNoRows) => {
                return Err(format!(
                    "{k}: no snapshot {id} in this database (`whohosts snapshots` lists them)"
                ))
            }
            // No snapshot table (not whohosts' database): the query says what is wrong.
            Err(_) => None,
        };
        if let Some(kind) = kind {
            named.retain(|(p, _, _)| p != k);
            named.push((k, id, kind));
        }
    }
    if let [(pa, a, x), (pb, b, y)] = &named[..] {
        if x != y {
            return Err(format!(
                "snapshot {a} ({pa}) is {} and snapshot {b} ({pb}) {}: a comparison needs two of one kind",
                snapshot_words(x),
                snapshot_words(y)
            ));
        }
        // Two contacts snapshots of different weights, as `diff` refuses them.
        if x == crate::store::contacts::KIND {
            let weight = |id: i64| crate::store::contacts::weight(conn, id).ok().flatten();
            if let (Some(wa), Some(wb)) = (weight(*a), weight(*b)) {
                if wa != wb {
                    return Err(crate::store::contacts::weights_differ(
                        &format!("{a} ({pa})"),
                        wa.name(),
                        &format!("{b} ({pb})"),
                        wb.name(),
                    ));
                }
            }
        }
    }
    if let Some(reads) = read_kind(sql) {
        if let Some((p, id, kind)) = named.iter().find(|(_, _, kind)| kind != reads) {
            return Err(format!(
                "snapshot {id} ({p}) is {}: this query reads {}",
                snapshot_words(kind),
                snapshots_words(reads)
            ));
        }
    }
    Ok(())
}

/// The kind of snapshot a query reads: the one kind its SQL takes its default snapshots from
/// (`snapshot_step WHERE kind = 'follows'`, as the comparisons of `queries/` do); `None` for
/// a query that names none, or several.
fn read_kind(sql: &str) -> Option<&str> {
    const PICK: &str = "snapshot_step WHERE kind = '";
    let mut kinds = sql
        .match_indices(PICK)
        .map(|(i, _)| sql[i + PICK.len()..].split('\'').next().unwrap_or_default());
    let first = kinds.next()?;
    kinds.all(|k| k == first).then_some(first)
}

/// Every weight there is: those of follows snapshots ([`crate::metrics::Weight::ALL`]), then
/// those of contacts snapshots.
fn known_weights() -> Vec<&'static str> {
    use crate::model::contact::ContactWeight;
    let mut weights: Vec<&str> = crate::metrics::Weight::ALL.iter().map(|w| w.as_str()).collect();
    weights.extend([ContactWeight::Contacts.name(), ContactWeight::Messages.name()]);
    weights
}

/// The weights the complete snapshots of `conn` are measured under, by snapshot kind
/// (`follows`: accounts, edges …; `contacts`: the one each was measured with), each with the
/// latest snapshot that has it, in [`known_weights`] order; empty when nothing is stored (or
/// there are no metric tables, as in a database that is not whohosts').
fn stored_weights(conn: &Connection) -> Vec<(String, Vec<(String, i64)>)> {
    let mut rows: Vec<(String, String, i64)> = conn
        .prepare(
            "SELECT s.kind, m.weight, max(s.id) FROM metric_summary m JOIN snapshot s ON s.id = m.snapshot_id
              WHERE s.status = 'complete' GROUP BY s.kind, m.weight ORDER BY s.kind",
        )
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap_or_default();
    let known = known_weights();
    // A survey's weights in its own order (users first, as its headline); others as known.
    let survey: Vec<&str> = crate::store::instances::WEIGHTS.iter().map(|w| w.as_str()).collect();
    let rank = |kind: &str, w: &str| {
        match kind {
            crate::store::instances::KIND => survey.iter().position(|k| *k == w),
            _ => known.iter().position(|k| *k == w),
        }
        .unwrap_or(known.len())
    };
    rows.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(rank(&a.0, &a.1).cmp(&rank(&b.0, &b.1)))
            .then(a.1.cmp(&b.1))
    });
    let mut by_kind: Vec<(String, Vec<(String, i64)>)> = vec![];
    for (kind, weight, latest) in rows {
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, weights)) => weights.push((weight, latest)),
            None => by_kind.push((kind, vec![(weight, latest)])),
        }
    }
    by_kind
}

/// [`stored_weights`], only those of the kind the caller names (`-p kind=instances`) when the
/// query takes a `kind`: a weight only follows snapshots have would give an empty table.
fn weights_in_scope(
    conn: &Connection,
    header: &Header,
    given: &[(String, String)],
) -> Vec<(String, Vec<(String, i64)>)> {
    let mut stored = stored_weights(conn);
    if header.params.iter().any(|p| p.name == "kind") {
        if let Some((_, kind)) = given.iter().rev().find(|(k, _)| k == "kind") {
            stored.retain(|(k, _)| k == kind);
        }
    }
    stored
}

/// Whether any kind in `stored` has `weight`.
fn has_weight(stored: &[(String, Vec<(String, i64)>)], weight: &str) -> bool {
    stored.iter().any(|(_, ws)| ws.iter().any(|(w, _)| w == weight))
}

/// What [`stored_weights`] found, in words: "follows snapshots have accounts, edges …;
/// contacts snapshots have contacts".
fn weights_held(stored: &[(String, Vec<(String, i64)>)]) -> String {
    let parts: Vec<String> = stored
        .iter()
        .map(|(kind, weights)| {
            let names: Vec<&str> = weights.iter().map(|(w, _)| w.as_str()).collect();
            format!("{kind} snapshots have {}", names.join(", "))
        })
        .collect();
    parts.join("; ")
}

/// Refuse a `weight` (given for a query that takes one) that no complete snapshot in the
/// database is measured under, naming the weights each kind of snapshot there has: a
/// contacts snapshot is weighed by contacts or messages, a follows snapshot by accounts,
/// edges …, and the query could only return nothing.
fn check_weight(conn: &Connection, header: &Header, given: &[(String, String)]) -> Result<(), String> {
    if !header.params.iter().any(|p| p.name == "weight") {
        return Ok(());
    }
    let Some((_, weight)) = given.iter().rev().find(|(k, _)| k == "weight") else {
        return Ok(());
    };
    let stored = weights_in_scope(conn, header, given);
    if stored.is_empty() || has_weight(&stored, weight) {
        return Ok(());
    }
    let which = match given.iter().rev().find(|(k, _)| k == "kind") {
        Some((_, kind)) if header.params.iter().any(|p| p.name == "kind") => format!("{kind} snapshot"),
        _ => "snapshot".into(),
    };
    Err(format!(
        "weight {weight:?}: no complete {which} in this database has it ({})",
        weights_held(&stored)
    ))
}

/// The weight a query that takes one runs under when the caller names none and no complete
/// snapshot (of the kind `-p kind=` names, if the query takes one) has the query's default
/// (`accounts`, a weight of follows snapshots, in a database of contacts snapshots, or with
/// `-p kind=instances`): that of the latest complete snapshot (a survey's first, `users`),
/// with a line that says so. `None` when the caller gave a weight, the default is stored,
/// or nothing is.
pub fn default_weight(conn: &Connection, sql: &str, given: &[(String, String)]) -> Option<(String, String)> {
    let header = Header::parse(sql);
    let default = header.params.iter().find(|p| p.name == "weight")?.default.clone()?;
    if given.iter().any(|(k, _)| k == "weight") {
        return None;
    }
    let stored = weights_in_scope(conn, &header, given);
    if stored.is_empty() || has_weight(&stored, &default) {
        return None;
    }
    // The latest snapshot's weight (the first of its weights, for a kind with several).
    let (kind, (weight, _)) = stored
        .iter()
        .flat_map(|(kind, ws)| ws.iter().map(move |w| (kind, w)))
        .fold(None, |best: Option<(&String, &(String, i64))>, (k, w)| match best {
            Some((_, b)) if b.1 >= w.1 => best,
            _ => Some((k, w)),
        })?;
    let line = format!(
        "weight {weight}, that of the latest {kind} snapshot: none here has {default}, the default ({}); \
         -p weight=… to choose",
        weights_held(&stored)
    );
    Some((weight.clone(), line))
}

/// The value parameter `name` of a query with `header` takes: the last one `given`, else its
/// default (`None` for none, or `null`).
fn param_value(header: &Header, given: &[(String, String)], name: &str) -> Option<String> {
    given
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| header.params.iter().find(|p| p.name == name)?.default.clone())
        .filter(|v| v != "null")
}

/// One line when the `level` a query (that takes a level and a weight) runs at is measured
/// in no complete snapshot (of the `kind` given) under its `weight`, but is under others: a
/// contacts level (`provider`, `gateway` …) under `accounts`, the follows' default, returns
/// an empty table, and the line names the weights that have it: `level provider has no figures
/// under weight accounts: contacts snapshots have it under contacts; -p
/// weight=contacts to see it`. `None` otherwise.
pub fn level_warning(conn: &Connection, sql: &str, given: &[(String, String)]) -> Option<String> {
    let header = Header::parse(sql);
    let value = |name: &str| param_value(&header, given, name);
    let (level, weight) = (value("level")?, value("weight")?);
    let kind = if header.params.iter().any(|p| p.name == "kind") {
        value("kind")
    } else {
        None
    };
    let mut stmt = conn
        .prepare(
            "SELECT s.kind, m.weight FROM metric_summary m JOIN snapshot s ON s.id = m.snapshot_id
              WHERE m.level = ?1 AND s.status = 'complete' AND (?2 IS NULL OR s.kind = ?2)
              GROUP BY s.kind, m.weight ORDER BY max(s.id) DESC, s.kind, m.weight",
        )
        .ok()?;
    let held: Vec<(String, String)> = stmt
        .query_map((&level, &kind), |r| Ok((r.get(0)?, r.get(1)?)))
        .ok()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ok()?;
    if held.is_empty() || held.iter().any(|(_, w)| *w == weight) {
        return None;
    }
    let mut by_kind: Vec<(&str, Vec<&str>)> = vec![];
    for (k, w) in &held {
        match by_kind.iter_mut().find(|(kind, _)| kind == k) {
            Some((_, ws)) => ws.push(w),
            None => by_kind.push((k, vec![w])),
        }
    }
    let parts: Vec<String> = by_kind
        .iter()
        .map(|(k, ws)| format!("{k} snapshots have it under {}", ws.join(", ")))
        .collect();
    Some(format!(
        "level {level} has no figures under weight {weight}: {}; -p weight={} to see it",
        parts.join("; "),
        held[0].1
    ))
}

/// The snapshots a query that takes a `series` (`share`) shows when the caller names none:
/// the series ([`crate::store::Store::series`]) of the latest complete snapshot measured at its
/// `level` under its `weight` (of the `kind` the caller names, if any), as the JSON array the
/// query binds, with a line that says so when it leaves out other snapshots so measured (of
/// another series or kind). `None` when the caller gave a series, the query takes none, or
/// no snapshot is so measured.
///
/// # Errors
/// SQLite errors.
pub fn default_series(
    store: &crate::store::Store,
    sql: &str,
    given: &[(String, String)],
) -> Result<Option<(String, Option<String>)>> {
    let header = Header::parse(sql);
    if !header.params.iter().any(|p| p.name == "series") || given.iter().any(|(k, _)| k == "series") {
        return Ok(None);
    }
    let value = |name: &str| param_value(&header, given, name);
    let (Some(level), Some(weight)) = (value("level"), value("weight")) else {
        return Ok(None);
    };
    let kind = value("kind");
    // Every complete snapshot measured so, oldest first (none in a database that is not
    // whohosts').
    let measured: Vec<(i64, String)> = store
        .connection()
        .prepare(
            "SELECT s.id, s.kind FROM metric_summary m JOIN snapshot s ON s.id = m.snapshot_id
              WHERE m.level = ?1 AND m.weight = ?2 AND s.status = 'complete' AND (?3 IS NULL OR s.kind = ?3)
              ORDER BY s.id",
        )
        .and_then(|mut stmt| {
            stmt.query_map((&level, &weight, &kind), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap_or_default();
    let Some((latest, latest_kind)) = measured.last().cloned() else {
        return Ok(None);
    };
    let ids: Vec<i64> = store
        .series(latest)?
        .iter()
        .map(|s| s.id)
        .filter(|id| measured.iter().any(|(m, _)| m == id))
        .collect();
    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let left: Vec<i64> = measured
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !ids.contains(id))
        .collect();
    let json = format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let line = (!left.is_empty()).then(|| {
        let words = crate::store::kinds::snapshot_words(&latest_kind);
        format!(
            "series of snapshot {latest}, the latest {} measured under {weight}: {} {} ({}), leaving out {}; \
             -p series=[…] to choose",
            words.strip_prefix("a ").unwrap_or(&words),
            if ids.len() == 1 { "snapshot" } else { "snapshots" },
            list(&ids),
            crate::store::kinds::series_words(&latest_kind),
            list(&left)
        )
    });
    Ok(Some((json, line)))
}

/// The later snapshot a comparison reads when the caller names an earlier one (`from`) but no
/// `to`: the latest complete snapshot of the kind the query reads, as its SQL would take it,
/// so the checks a named pair gets (one kind, one weight) apply to it. `None` when the caller
/// gave `to`, gave no `from`, or the query compares no snapshots of one kind.
///
/// # Errors
/// SQLite errors.
pub fn default_to(store: &crate::store::Store, sql: &str, given: &[(String, String)]) -> Result<Option<String>> {
    let header = Header::parse(sql);
    let takes = |name: &str| header.params.iter().any(|p| p.name == name);
    let has = |name: &str| given.iter().any(|(k, _)| k == name);
    match read_kind(sql) {
        Some(kind) if takes("from") && takes("to") && has("from") && !has("to") => {
            Ok(store.latest_complete(Some(kind))?.map(|id| id.to_string()))
        }
        _ => Ok(None),
    }
}

/// The earlier snapshot a comparison (`host-changes`, `contact-changes`, `survey-changes` …)
/// reads when the caller names none: the one before its later snapshot (`to`, else the latest
/// complete snapshot of the kind the query reads) in that snapshot's series
/// ([`crate::store::Store::series`]: the same seeds, list and filter, or `--series` and
/// weight), as `diff` would compare them. When there is none, the later snapshot itself
/// (nothing changed), with a line that says so. `None` when the caller gave `from`, the query
/// compares no snapshots of one kind, or there is no later snapshot to start from.
///
/// # Errors
/// SQLite errors.
pub fn default_from(
    store: &crate::store::Store,
    sql: &str,
    given: &[(String, String)],
) -> Result<Option<(String, Option<String>)>> {
    let header = Header::parse(sql);
    let takes = |name: &str| header.params.iter().any(|p| p.name == name);
    let Some(kind) = read_kind(sql) else {
        return Ok(None);
    };
    if !takes("from") || !takes("to") || given.iter().any(|(k, _)| k == "from") {
        return Ok(None);
    }
    let to = match given.iter().rev().find(|(k, _)| k == "to") {
        Some((_, v)) => v.trim().parse::<i64>().ok(),
        None => store.latest_complete(Some(kind))?,
    };
    // A `to` of another kind, or not complete, is refused when the query runs.
    let complete = |to: &i64| matches!(store.status(*to), Ok(Some(s)) if s == "complete");
    let Some(to) = to.filter(|to| matches!(store.kind(*to), Ok(Some(k)) if k == kind) && complete(to)) else {
        return Ok(None);
    };
    let before = store.series(to)?.iter().rev().map(|s| s.id).find(|id| *id < to);
    Ok(Some(match before {
        Some(from) => (from.to_string(), None),
        None => (
            to.to_string(),
            Some(format!(
                "snapshot {to} is the first of its series ({}): nothing before it to compare; -p from=… to choose",
                crate::store::kinds::series_words(kind)
            )),
        ),
    }))
}

/// The SQL of a `--sql` file's `text`: a leading UTF-8 byte order mark (which editors on
/// Windows write) dropped. Refused, with what is wrong: a NUL byte (no SQL text holds one:
/// a binary file, or UTF-16; its byte offset named), or no statement at all (an empty file,
/// only a byte order mark, only comments, blanks or `;`), which SQLite would call "bad
/// parameter or other API misuse".
pub fn sql_of_file(text: &str) -> std::result::Result<&str, String> {
    if let Some(at) = text.find('\0') {
        return Err(format!("the file is not SQL text: a NUL byte at byte offset {at}"));
    }
    let sql = text.strip_prefix('\u{feff}').unwrap_or(text);
    if holds_statement(sql) {
        return Ok(sql);
    }
    let what = if sql.trim().is_empty() && sql.len() < text.len() {
        "the file holds no statement, only a byte order mark"
    } else if text.trim().is_empty() {
        "the file is empty"
    } else {
        "the file holds no statement, only comments, blanks or ';'"
    };
    Err(format!("{what}; give one SELECT statement"))
}

/// Whether `sql` holds a statement: anything but blanks, `;` and comments (`-- …` to the end
/// of the line, `/* … */`). SQLite prepares such a text as no statement at all, which it
/// then calls "bad parameter or other API misuse".
pub fn holds_statement(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            // An unterminated comment runs to the end, as in SQLite.
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return !rest.is_empty();
        }
    }
}

/// When the caller's `name` parameter names no bucket stored at its `level` (organisation
/// by default), a warning that says so and suggests the closest stored name, e.g. "no
/// organisation named 'hetzner'; did you mean 'Hetzner'?". `None` when it matches, or the
/// query takes no name.
pub fn name_warning(conn: &Connection, given: &[(String, String)]) -> Option<String> {
    let get = |key: &str| given.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let name = get("name")?;
    let level = get("level").unwrap_or("organisation");
    let found: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM metric_bucket WHERE level = ?1 AND (label = ?2 OR key = ?2))",
            (level, name),
            |r| r.get(0),
        )
        .ok()?;
    if found {
        return None;
    }
    let near: Option<String> = conn
        .query_row(
            "SELECT label FROM metric_bucket WHERE level = ?1
               AND (lower(label) = lower(?2) OR lower(key) = lower(?2)
                    OR instr(lower(label), lower(?2)) > 0)
             ORDER BY lower(label) = lower(?2) OR lower(key) = lower(?2) DESC, length(label), label
             LIMIT 1",
            (level, name),
            |r| r.get(0),
        )
        .ok()
        .or_else(|| {
            // Not a case or a part: a typo ("Hetznr") is within a few edits of the name.
            let mut stmt = conn
                .prepare("SELECT DISTINCT label FROM metric_bucket WHERE level = ?1 ORDER BY label")
                .ok()?;
            let labels: Vec<String> = stmt.query_map([level], |r| r.get(0)).ok()?.flatten().collect();
            crate::model::text::nearest(name, labels.iter().map(String::as_str)).map(str::to_string)
        });
    let what = match level {
        "as" => "autonomous system",
        "range" => "address range",
        "hosting" => "managed-hosting service",
        other => other,
    };
    let mut line = format!("no {what} named '{name}'");
    if let Some(near) = near {
        line += &format!("; did you mean '{near}'?");
    }
    Some(line)
}

/// Why parameters could not be bound: the command line's parameters (a usage error), or the
/// SQL's own.
enum Bind {
    Usage(String),
    Sql(String),
}

/// Bind every parameter of `stmt`; the message names what is wrong.
fn bind(stmt: &mut rusqlite::Statement<'_>, header: &Header, given: &[(String, String)]) -> Result<(), Bind> {
    let names: Vec<String> = (1..=stmt.parameter_count())
        .map(|i| stmt.parameter_name(i).unwrap_or("?").to_string())
        .collect();
    let takes = || {
        let list: Vec<&str> = names.iter().map(|n| n.trim_start_matches([':', '@', '$'])).collect();
        if list.is_empty() {
            "it takes none".to_string()
        } else {
            format!("it takes {}", list.join(", "))
        }
    };
    if let Some((k, _)) = given
        .iter()
        .find(|(k, _)| !names.iter().any(|n| n.trim_start_matches([':', '@', '$']) == k))
    {
        return Err(Bind::Usage(format!("unknown parameter {k:?} ({})", takes())));
    }
    for (i, full) in names.iter().enumerate() {
        if !full.starts_with([':', '@', '$']) {
            return Err(Bind::Sql(
                "uses a positional parameter (?); name it, as in :snapshot".into(),
            ));
        }
        let name = &full[1..];
        let value = match given.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) => value_of(v),
            None => match header
                .params
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.default.as_deref())
            {
                Some(d) => value_of(d),
                None => {
                    return Err(Bind::Usage(format!(
                        "missing parameter {name:?}: add --param {name}=VALUE"
                    )))
                }
            },
        };
        stmt.raw_bind_parameter(i + 1, value)
            .map_err(|e| Bind::Sql(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
