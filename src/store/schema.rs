//! Opening a database file: recognise it, refuse what is not ours, migrate what is older.
//!
//! A whohosts database carries [`APPLICATION_ID`] in its header (`PRAGMA application_id`) and
//! its schema version in `PRAGMA user_version`: migration `N` (the file
//! `migrations/000N_*.sql`) brings version `N-1` to `N`, each in its own transaction.
//! Everything that could refuse a file is checked by reading only, so a refused file is left
//! byte-for-byte untouched.
//!
//! [`open`] is for the commands that write: it creates a missing database file private
//! (0600; SQLite gives its `-wal` and `-shm` the same mode) in a directory that must exist,
//! and migrates. [`open_read_only`] is for the commands that only read: SQLite's read-only
//! mode, never a migration or a journal-mode change. It reads as SQLite's readers do (the
//! `-shm` beside the database shared with a writer, so a checkpoint or `VACUUM` by a crawl
//! that starts during a long read waits for the reader or leaves its pages alone), which SQLite
//! can only do where it can make the `-wal` and `-shm` (an empty `-wal` and the `-shm` stay
//! beside the database: a reader cannot remove them). Where that is impossible (no `-shm`
//! beside the database in a directory the reader cannot write, or a `-shm` it cannot read, one
//! another user left private) it reads without sharing: with no `-wal` or an empty one (no
//! page in it: the file alone is the database) the file is opened `immutable`; with a `-wal`
//! that holds pages (a killed crawl's, copied) it is read without locks (`unix-none`) in
//! exclusive locking mode, where SQLite builds the WAL's index in the process's memory from
//! the `-wal` itself, as a writer's recovery would, so every committed frame is seen
//! (`immutable` would skip them, and SQLite's own read-only open refuses the file). Either
//! way nothing is written, and a [`Fingerprint`] of the file (and that `-wal`: size,
//! modification time, inode, their headers) is taken, so that the command can check, before
//! it answers, that nothing changed them while it read ([`Fingerprint::check`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Error, Result};
use crate::files;

/// `PRAGMA application_id` of whohosts databases ("whoh").
pub const APPLICATION_ID: i32 = 0x7768_6f68;

/// The migrations, in order: index `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_snapshots.sql"),
    include_str!("../../migrations/0002_metrics.sql"),
    include_str!("../../migrations/0003_trend_views.sql"),
    OPTED_OUT_HASHED,
    include_str!("../../migrations/0005_departures.sql"),
    include_str!("../../migrations/0006_depth.sql"),
    include_str!("../../migrations/0007_contacts.sql"),
    include_str!("../../migrations/0008_failure_once.sql"),
    include_str!("../../migrations/0009_instances.sql"),
    UNSEEN_MOVE_TARGETS,
    include_str!("../../migrations/0011_contact_steps.sql"),
];

/// The migration that rewrites opted-out accounts named by an older whohosts
/// ([`super::rehash`]); its SQL changes nothing, the rewrite is done in Rust.
const OPTED_OUT_HASHED: &str = include_str!("../../migrations/0004_opted_out_hashed.sql");

/// What a migration that edits the schema's text says first.
const SCHEMA_TEXT_CHANGED: &str = "PRAGMA writable_schema = ON";

/// The migration that reduces the move targets an older whohosts stored by name although the
/// crawl never saw them to their instance ([`super::rehash::unseen_targets`]); its SQL changes
/// nothing, the rewrite is done in Rust.
const UNSEEN_MOVE_TARGETS: &str = include_str!("../../migrations/0010_unseen_move_targets.sql");

/// The schema version this whohosts writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Open (creating it if absent) the database at `path` and bring its schema to [`LATEST`].
///
/// # Errors
/// [`Error::NotOurDatabase`] for a file that is not SQLite or not whohosts';
/// [`Error::NewerDatabase`] for one written by a newer whohosts; [`Error::Sqlite`] otherwise.
pub fn open(path: &Path) -> Result<Connection> {
    check_header(path)?;
    directory_of(path)?;
    files::create_if_absent(path, files::PRIVATE).map_err(|e| Error::io(path, e))?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::sqlite(path, e))?;
    let version = recognise(&conn, path)?;
    configure(&conn).map_err(|e| Error::sqlite(path, e))?;
    let rewritten = migrate(&conn, version, path)?;
    if rewritten > 0 {
        // The rewritten names must not stay readable in free pages or in the WAL.
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| Error::sqlite(path, e))?;
    }
    Ok(conn)
}

/// What [`open`] would refuse about `path`, checked by reading only and before anything is
/// created: a directory that does not exist, a file that is no SQLite database. A command
/// that writes asks this first, so a mistyped `--db` is one line before any other work (the
/// attribution notice, a request) and nothing is created.
///
/// # Errors
/// [`Error::NoDirectory`], [`Error::NotOurDatabase`], [`Error::Io`].
pub fn check_to_open(path: &Path) -> Result<()> {
    check_header(path)?;
    directory_of(path).map(drop)
}

/// The directory a database at `path` lives in, which must exist (it is not created).
///
/// # Errors
/// [`Error::NoDirectory`].
pub fn directory_of(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match dir.is_dir() {
        true => Ok(dir.to_path_buf()),
        false => Err(Error::NoDirectory {
            path: path.into(),
            dir: dir.into(),
        }),
    }
}

/// The file kept beside the database at `db` under its name and `suffix` (its lock
/// `DB.lock`, its key `DB.optout-key`): beside the file `db` names once symbolic links are
/// resolved, so every name of one database (a link to it, `./x/../db`) finds the same one. A
/// database not created yet (or a dangling link) is named by its canonical directory and its
/// own file name.
///
/// # Errors
/// [`Error::NoDirectory`] when the database's directory does not exist; [`Error::Io`] when a
/// path cannot be resolved.
pub fn beside(db: &Path, suffix: &str) -> Result<PathBuf> {
    let real = match std::fs::canonicalize(db) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = directory_of(db)?;
            let dir = std::fs::canonicalize(&dir).map_err(|e| Error::io(&dir, e))?;
            dir.join(db.file_name().unwrap_or(db.as_os_str()))
        }
        Err(e) => return Err(Error::io(db, e)),
    };
    let mut name = real.into_os_string();
    name.push(suffix);
    Ok(PathBuf::from(name))
}

/// Open the database at `path` for reading only (see the module docs): nothing is migrated or
/// changed, and every statement is refused a write (`PRAGMA query_only`). With the connection,
/// the file's [`Fingerprint`] when it is read without sharing a writer's `-shm`, for the
/// caller to check before it answers.
///
/// # Errors
/// [`Error::NoDatabase`] when there is no file (or an empty one); [`Error::Io`] when it cannot
/// be read (permission denied); [`Error::NotOurDatabase`], [`Error::NewerDatabase`],
/// [`Error::OlderDatabase`]; [`Error::Sqlite`] for a damaged file ("database disk image is
/// malformed").
pub fn open_read_only(path: &Path) -> Result<(Connection, Option<Fingerprint>)> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NoDatabase { path: path.into() }),
        Err(e) => return Err(Error::io(path, e)),
        Ok(m) if m.is_dir() => {
            return Err(Error::NotOurDatabase {
                path: path.into(),
                reason: "a directory".into(),
            })
        }
        Ok(m) if m.len() == 0 => return Err(Error::NoDatabase { path: path.into() }),
        Ok(_) => {}
    }
    check_header(path)?;
    let how = Sharing::of(path)?;
    // Taken before the first page is read.
    let fingerprint = match how {
        Sharing::Shared => None,
        Sharing::Immutable => Some(Fingerprint::of(path, None)?),
        Sharing::OwnIndex { ref wal, .. } => Some(Fingerprint::of(path, Some(wal))?),
    };
    let uri = format!(
        "file:{}?mode=ro{}",
        uri_path(path),
        match how {
            Sharing::Shared => "",
            Sharing::Immutable => "&immutable=1",
            // No locks (there is no one to share them with), so that SQLite may keep the
            // WAL's index in its own memory (below).
            Sharing::OwnIndex { .. } => "&vfs=unix-none",
        }
    );
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags).map_err(|e| Error::sqlite(path, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| Error::sqlite(path, e))?;
    if let Sharing::OwnIndex { cause, .. } = how {
        // Set before the first page is read: SQLite then builds the WAL's index in this
        // process's memory from the `-wal` itself (every committed frame, as a writer's
        // recovery would) and never looks for a `-shm`. A read-only connection never
        // checkpoints; none is asked at close either.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .and_then(|_| conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true))
            .map_err(|e| Error::sqlite(path, e))?;
        crate::net::progress::notice(&format!(
            "{}: read from the file and its -wal alone ({cause}); a crawl that writes it meanwhile stops this command",
            path.display()
        ));
    }
    let version = recognise(&conn, path)?;
    if version < LATEST {
        return Err(Error::OlderDatabase {
            path: path.into(),
            found: version,
            known: LATEST,
        });
    }
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| Error::sqlite(path, e))?;
    Ok((conn, fingerprint))
}

/// How a read-only connection reads the database at a path, decided before it is opened.
enum Sharing {
    /// As SQLite's readers do: the `-shm` beside the database shared with any writer.
    Shared,
    /// The file alone (`immutable`): there is no `-wal`, or an empty one, and no `-shm` this
    /// process can share (a directory it cannot write).
    Immutable,
    /// The file and its `-wal`, with the WAL's index built in this process's memory: the
    /// `-wal` holds pages and there is no `-shm` this process can share. `cause` says why.
    OwnIndex { wal: PathBuf, cause: &'static str },
}

impl Sharing {
    fn of(path: &Path) -> Result<Sharing> {
        // SQLite keeps the `-wal` and `-shm` beside the file a link names.
        let wal = beside(path, "-wal")?;
        let shm = beside(path, "-shm")?;
        // An empty `-wal` (a reader's, left as SQLite leaves it, or a writer's that has
        // written nothing yet) holds no page: the file alone is the database.
        let wal_empty = std::fs::metadata(&wal).ok().is_none_or(|m| m.len() == 0);
        let dir_writable = wal.parent().is_some_and(writable);
        // A `-shm` another user left private (0600) cannot be opened even to read: SQLite
        // refuses every reader until a writer removes it.
        // A `-shm` that is no regular file (a FIFO would block the open for ever) is not
        // opened; nor is one made beside another user's database: it would be this user's,
        // and its owner's next write would be refused until it is removed. A `-shm` another
        // user left private (0600) cannot be opened even to read: SQLite refuses every reader
        // until a writer removes it.
        let theirs = || {
            use std::os::unix::fs::MetadataExt;
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            std::fs::metadata(path).is_ok_and(|m| m.uid() != me)
        };
        let cause = match std::fs::symlink_metadata(&shm) {
            Ok(m) if !m.file_type().is_file() => Some("its -shm is not a regular file"),
            Ok(_) => match std::fs::File::open(&shm) {
                Ok(_) if wal_empty && !dir_writable => Some("no -shm may be made beside it"),
                Ok(_) => None,
                Err(_) => Some("its -shm is not readable by you"),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match dir_writable {
                false => Some("no -shm beside it, and none may be made in its directory"),
                true if theirs() => Some("no -shm beside it, and one made by you would stop its owner's writes"),
                true => None,
            },
            Err(_) => Some("its -shm is not readable by you"),
        };
        Ok(match cause {
            None => Sharing::Shared,
            Some(_) if wal_empty => Sharing::Immutable,
            Some(cause) => Sharing::OwnIndex { wal, cause },
        })
    }
}

/// Whether this process may make a file in `dir`: the system says so, and the directory's
/// mode lets someone write it (root may write a 0555 directory, but its owner made it so that
/// nothing is made there, and a reader's `-shm` there would be root's).
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let Ok(name) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `name` is a NUL-terminated path that lives across the call; `access` only reads it.
    let allowed = unsafe { libc::access(name.as_ptr(), libc::W_OK | libc::X_OK) } == 0;
    allowed && std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o222 != 0)
}

/// What tells that a database file, or the `-wal` read with it, changed: the size,
/// modification time and inode of each, the change counter of the database's header
/// (bytes 24..28, which SQLite bumps when a transaction changes page 1) and the WAL's header
/// (checkpoint sequence and salts, bytes 12..24, which change when a writer starts it over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    db: Mark,
    wal: Option<(PathBuf, Mark)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
    header: [u8; 12],
}

impl Mark {
    /// The file at `path` now, with `header.len()` bytes of its header from `at`.
    fn of(path: &Path, at: u64, width: usize) -> Result<Mark> {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::MetadataExt;
        let io = |e| Error::io(path, e);
        let mut file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let mut header = [0; 12];
        // A file shorter than a header keeps zeros: its size tells it apart.
        if meta.len() >= at + width as u64 {
            file.seek(SeekFrom::Start(at))
                .and_then(|_| file.read_exact(&mut header[..width]))
                .map_err(io)?;
        }
        Ok(Mark {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: meta.ino(),
            header,
        })
    }
}

impl Fingerprint {
    /// The database file at `path` now, and the `-wal` at `wal` when it is read too.
    ///
    /// # Errors
    /// [`Error::Io`] when one cannot be read.
    pub fn of(path: &Path, wal: Option<&Path>) -> Result<Fingerprint> {
        Ok(Fingerprint {
            db: Mark::of(path, 24, 4)?,
            wal: wal
                .map(|w| Mark::of(w, 12, 12).map(|m| (w.to_path_buf(), m)))
                .transpose()?,
        })
    }

    /// Nothing changed the file at `path` (or the `-wal` read with it) since this was taken.
    ///
    /// # Errors
    /// [`Error::Store`] naming the file when it changed (or is gone): what was read may mix
    /// the file before and after.
    pub fn check(&self, path: &Path) -> Result<()> {
        let wal = self.wal.as_ref().map(|(w, _)| w.as_path());
        match Fingerprint::of(path, wal) {
            Ok(now) if now == *self => Ok(()),
            _ => Err(Error::Store(format!(
                "{}: the database changed while it was read (a crawl is writing to it); run the command again",
                path.display()
            ))),
        }
    }
}

/// `path` for an SQLite `file:` URI: `%`, `?` and `#` escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// Refuse a non-empty file that does not start with SQLite's header.
fn check_header(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut head = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    if head.is_empty() || head == SQLITE_MAGIC {
        return Ok(());
    }
    Err(Error::NotOurDatabase {
        path: path.into(),
        reason: "not an SQLite database".into(),
    })
}

/// The schema version of a whohosts database (0 for a new, empty file), reading only.
fn recognise(conn: &Connection, path: &Path) -> Result<i64> {
    let read = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    let not_ours = |reason: &str| Error::NotOurDatabase {
        path: path.into(),
        reason: reason.into(),
    };
    let id = read("PRAGMA application_id").map_err(|e| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_ours("not an SQLite database"),
        _ => Error::sqlite(path, e),
    })?;
    let version = read("PRAGMA user_version").map_err(|e| Error::sqlite(path, e))?;
    let tables = read("SELECT count(*) FROM sqlite_schema").map_err(|e| Error::sqlite(path, e))?;
    if id == 0 && version == 0 && tables == 0 {
        return Ok(0);
    }
    if id != i64::from(APPLICATION_ID) {
        return Err(not_ours("an SQLite database of another program"));
    }
    if version > LATEST {
        return Err(Error::NewerDatabase {
            path: path.into(),
            found: version,
            known: LATEST,
        });
    }
    Ok(version)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Deleted rows (a completed snapshot's journal of raw responses, pruned snapshots) are
    // zeroed, not left readable in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    // A small page cache while a crawl writes its journal and frontier (appends and index
    // look-ups); a snapshot's transaction raises it ([`SNAPSHOT_CACHE_KIB`]).
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    Ok(())
}

/// The page cache of a connection that writes, in KiB (SQLite's `cache_size` when negative).
pub const CACHE_KIB: i64 = 16_384;
/// The page cache while a snapshot's rows are written in one transaction, in KiB: up to 64
/// MiB, so a large snapshot's transaction does not spill to disk.
pub const SNAPSHOT_CACHE_KIB: i64 = 65_536;

/// Apply the migrations after version `from`; how many account states (opted-out accounts,
/// moves to accounts never seen) and departures were rewritten by the way (see
/// [`super::rehash`]).
fn migrate(conn: &Connection, from: i64, path: &Path) -> Result<usize> {
    let sqlite = |e| Error::sqlite(path, e);
    let mut rewritten = 0;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(from).unwrap_or(0)) {
        let tx = conn.unchecked_transaction().map_err(sqlite)?;
        tx.execute_batch(sql).map_err(sqlite)?;
        if sql.contains(SCHEMA_TEXT_CHANGED) {
            // The schema's text was changed under SQLite (0009): a new schema cookie makes every
            // connection read it again, this one too, as its documentation's procedure says.
            let cookie: i64 = tx
                .query_row("PRAGMA schema_version", [], |r| r.get(0))
                .map_err(sqlite)?;
            tx.pragma_update(None, "schema_version", cookie + 1).map_err(sqlite)?;
        }
        if *sql == OPTED_OUT_HASHED && from > 0 {
            rewritten += super::rehash::opted_out_states(&tx, path)?;
        }
        if *sql == UNSEEN_MOVE_TARGETS && from > 0 {
            rewritten += super::rehash::unseen_targets(&tx).map_err(sqlite)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sqlite)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
    }
    Ok(rewritten)
}

/// The schema version of an open database.
///
/// # Errors
/// [`rusqlite::Error`] when it cannot be read.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database as an older whohosts left it: migrations up to `target` only.
    fn at_version(path: &Path, target: usize) {
        let conn = Connection::open(path).unwrap();
        for (index, sql) in MIGRATIONS.iter().enumerate().take(target) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            conn.pragma_update(None, "user_version", index as i64 + 1).unwrap();
        }
    }

    #[test]
    fn an_older_schema_upgrades_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        at_version(&path, 1);
        let old = Connection::open(&path).unwrap();
        old.execute("INSERT INTO instance (host) VALUES ('kept.example')", [])
            .unwrap();
        drop(old);
        let conn = open(&path).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let host: String = conn.query_row("SELECT host FROM instance", [], |r| r.get(0)).unwrap();
        assert_eq!(host, "kept.example");
        let metrics: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'metric_summary'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(metrics, 1);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_database_of_before_surveys_takes_them_and_keeps_its_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        at_version(&path, 8);
        let insert = |conn: &Connection, kind: &str| {
            conn.execute(
                "INSERT INTO snapshot (kind, status, request, started_at, tool, configuration) \
                 VALUES (?1, 'complete', '{}', '2026-01-01T00:00:00Z', 'whohosts', '{}')",
                [kind],
            )
        };
        insert(&Connection::open(&path).unwrap(), "follows").unwrap();
        let conn = open(&path).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        // The connection that migrated takes a survey at once, as does any other.
        insert(&conn, "instances").unwrap();
        insert(&Connection::open(&path).unwrap(), "instances").unwrap();
        let refused = insert(&conn, "bogus").unwrap_err().to_string();
        assert!(refused.contains("CHECK constraint failed"), "{refused}");
        let kinds: Vec<String> = conn
            .prepare("SELECT kind FROM snapshot ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kinds, ["follows", "instances", "instances"]);
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name IN ('survey_instance', 'survey_bad_entry')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 2);
    }

    #[test]
    fn a_new_file_gets_the_whole_schema() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("new.db")).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(id, APPLICATION_ID);
    }
}
