//! The snapshot store: every crawl kept as a snapshot in one SQLite database.
//!
//! # Architecture
//! - [`schema`] opens a database file: it recognises whohosts databases by
//!   `PRAGMA application_id`, refuses anything else (and databases of a newer whohosts)
//!   without writing a byte, and applies the numbered migrations of `migrations/` in order.
//! - [`Writer`] is the one writer: a thread owning its own connection, fed by a bounded
//!   channel. Journal entries are batched into transactions; a finished crawl's rows are
//!   written ([`save`]), its journal dropped and the snapshot marked complete in one
//!   transaction. WAL mode lets readers ([`Store`]) read while it writes.
//! - [`frontier`]: the frontier of a deeper crawl (`--depth`), the store's
//!   [`crate::crawl::depth::Queue`], so a killed crawl continues it.
//! - [`journal`]: every response of a running snapshot is recorded as it arrives, so a
//!   killed crawl resumes by replaying them instead of fetching them again.
//! - [`load`] reads a snapshot back into the [`Snapshot`](crate::model::snapshot::Snapshot) the crawl
//!   produced: `crawl`, `report` and `demo` all print from the store.
//! - [`lock`]: one crawl per database (an advisory lock that dies with its process);
//!   [`prune`] deletes old snapshots; [`kinds`] names one failure kind per cause;
//!   [`metrics`] stores the snapshot's concentration metrics, computed once by
//!   [`crate::metrics::compute`] in the transaction that completes it.
//! - [`contacts`]: contacts snapshots (kind `contacts`): their figures in the metric tables,
//!   who serves each domain, each contact as a keyed hash of its address.
//! - [`instances`]: instance-list surveys (kind `instances`): each instance in the crawl's
//!   instance tables, its place in the list and implausible counts, the list's bad entries.
//! - [`rehash`]: the migration that hashes the opted-out accounts an older whohosts named.
//!
//! The schema (tables and views) is documented in `migrations/*.sql` and in the README.

pub mod contacts;
pub mod frontier;
pub mod instances;
pub mod journal;
pub mod kinds;
pub mod load;
pub mod lock;
pub mod metrics;
pub mod optout;
pub mod prune;
pub mod rehash;
pub mod save;
pub mod schema;
mod sql;
pub mod writer;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

pub use writer::{Begin, Begun, Resume, Writer};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::snapshot::Snapshot;

/// The database file name inside the data directory.
pub const DEFAULT_FILE: &str = "whohosts.db";

/// Where a snapshot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Complete,
    Interrupted,
    Failed,
}

impl Status {
    /// The word stored in `snapshot.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Complete => "complete",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
        }
    }
}

/// The database to use: `--db` (or `WHOHOSTS_DB`, which clap folds into the flag), else
/// `database` in config, else `whohosts.db` in the data directory.
pub fn database_path(flag: Option<&Path>, config: &Config) -> PathBuf {
    match flag {
        Some(p) => p.to_path_buf(),
        None if !config.database.is_empty() => PathBuf::from(&config.database),
        None => config.data_dir().join(DEFAULT_FILE),
    }
}

/// Create the default data directory (private, 0700) when the database is the default one
/// in it; a database named by `--db` or `database` must be in a directory that exists.
///
/// # Errors
/// [`Error::Io`] when the data directory cannot be created.
pub fn create_data_dir(flag: Option<&Path>, config: &Config) -> Result<()> {
    if flag.is_some() || !config.database.is_empty() {
        return Ok(());
    }
    let dir = config.data_dir();
    crate::files::private_dir(&dir).map_err(|e| Error::io(&dir, e))
}

/// One line of `whohosts snapshots`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    /// The seeds as the command named them.
    pub seeds: Vec<String>,
    pub accounts: i64,
    pub instances: i64,
}

/// A reading connection to the database (writes go through a [`Writer`]).
pub struct Store {
    path: PathBuf,
    conn: Connection,
    /// The file as it was when it was opened without sharing a writer's `-shm`
    /// ([`schema::open_read_only`]).
    unshared: Option<schema::Fingerprint>,
}

impl Store {
    /// Open (creating, upgrading) the database at `path`, for a command that writes.
    ///
    /// # Errors
    /// As [`schema::open`].
    pub fn open(path: &Path) -> Result<Store> {
        Ok(Store {
            conn: schema::open(path)?,
            path: path.to_path_buf(),
            unshared: None,
        })
    }

    /// Open the database at `path` for a command that only reads: nothing created, upgraded
    /// or changed (see [`schema::open_read_only`]). Its [`Store::writer`] must not be used.
    ///
    /// # Errors
    /// As [`schema::open_read_only`].
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let (conn, unshared) = schema::open_read_only(path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            unshared,
        })
    }

    /// Nothing changed the file (or the `-wal` read with it) under a store opened without
    /// sharing a writer's `-shm` (a directory the reader cannot write, another user's private
    /// `-shm`) since it was opened: a read command calls it before it answers.
    ///
    /// # Errors
    /// [`Error::Store`]: `the database changed while it was read (a crawl is writing to it);
    /// run the command again`.
    pub fn check_unchanged(&self) -> Result<()> {
        match &self.unshared {
            Some(f) => f.check(&self.path),
            None => Ok(()),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for reading (queries, tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Run `f` inside one read transaction of this connection: everything `f` reads through
    /// this store (a report built, then written as its rows are read) sees one state of the
    /// database, whatever another connection commits meanwhile (a `prune`).
    ///
    /// # Errors
    /// SQLite errors beginning or ending the transaction; `f`'s errors.
    pub fn reading<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.sqlite(e))?;
        let out = f()?;
        // Nothing was written: ending it only lets go of the state read.
        tx.commit().map_err(|e| self.sqlite(e))?;
        Ok(out)
    }

    /// Start the writer on this database.
    ///
    /// # Errors
    /// As [`Writer::spawn`].
    pub fn writer(&self) -> Result<Writer> {
        Writer::spawn(&self.path)
    }

    fn sqlite(&self, e: rusqlite::Error) -> Error {
        Error::sqlite(&self.path, e)
    }

    /// Snapshot `id` as the crawl produced it.
    ///
    /// # Errors
    /// [`Error::Store`] when there is no such snapshot or it is not complete; SQLite errors.
    pub fn load(&self, id: i64) -> Result<Snapshot> {
        self.refuse_unfinished(id)?;
        self.load_stored(id)?
            .ok_or_else(|| Error::Store(format!("no snapshot {id} in {}", self.path.display())))
    }

    /// [`Error::Store`] when snapshot `id` exists and is not complete (its report is stored
    /// when it completes; a failed one has none).
    ///
    /// # Errors
    /// That one, and SQLite errors.
    pub fn refuse_unfinished(&self, id: i64) -> Result<()> {
        match self.status(id)?.as_deref() {
            None | Some("complete") => {}
            Some(other) => {
                let command = match self.kind(id)?.as_deref() {
                    Some(instances::KIND) => "survey",
                    Some("contacts") => "contacts command",
                    _ => "crawl",
                };
                return Err(Error::Store(match other {
                    "failed" => {
                        format!("snapshot {id} failed, so it has no report: run the same {command} again for a new one")
                    }
                    _ => format!(
                        "snapshot {id} is {other}: its report is stored when it completes (run the same \
                         {command} again to continue it)"
                    ),
                }));
            }
        }
        Ok(())
    }

    /// Snapshot `id` as stored, whatever its status (`None` when there is none): the report
    /// of a crawl that read no seed, stored `failed` with why each seed failed. Everything
    /// that compares or exports goes through [`Store::load`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn load_stored(&self, id: i64) -> Result<Option<Snapshot>> {
        load::snapshot(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The stored concentration metrics of snapshot `id` (empty for a snapshot not complete).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn metrics(&self, id: i64) -> Result<crate::metrics::SnapshotMetrics> {
        metrics::load(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The accounts snapshot `id` crawled as seeds, each once, however the command spelled
    /// them (`demo@x`, `@demo@x`, `acct:demo@x` resolve to one handle); a seed that never
    /// resolved counts as its input. What makes two snapshots one series.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn seed_accounts(&self, id: i64) -> Result<std::collections::BTreeSet<String>> {
        let mut stmt = self.conn.prepare(sql::SEED_ACCOUNTS_OF).map_err(|e| self.sqlite(e))?;
        let rows = stmt.query_map([id], |r| r.get(0)).map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.sqlite(e))
    }

    /// Why accounts left the lists by snapshot `id`, as its crawl learnt
    /// ([`crate::model::snapshot::Departure`]).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn departures(&self, id: i64) -> Result<Vec<crate::model::snapshot::Departure>> {
        let mut stmt = self.conn.prepare(sql::DEPARTURES_OF).map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(crate::model::snapshot::Departure {
                    account: r.get(0)?,
                    cause: r.get(1)?,
                    moved_to: r.get(2)?,
                    opted_out_since: None,
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.sqlite(e))
    }

    /// The status of snapshot `id` (`running`, `interrupted`, `failed`, `complete`), `None`
    /// when there is none.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn status(&self, id: i64) -> Result<Option<String>> {
        self.conn
            .query_row(sql::SNAPSHOT_STATUS_OF, [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    /// The kind of snapshot `id` (`follows` or `contacts`), `None` when there is none.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn kind(&self, id: i64) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT kind FROM snapshot WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    /// The request (JSON) that made snapshot `id`.
    ///
    /// # Errors
    /// SQLite errors; [`Error::Store`] when there is no such snapshot.
    pub fn request(&self, id: i64) -> Result<serde_json::Value> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT request FROM snapshot WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(e))?;
        let text = text.ok_or_else(|| Error::Store(format!("no snapshot {id} in {}", self.path.display())))?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }

    /// The measurement stored as contacts snapshot `id`.
    ///
    /// # Errors
    /// [`Error::Store`] when there is no such complete contacts snapshot; SQLite errors.
    pub fn contacts(&self, id: i64) -> Result<crate::model::contact::Measurement> {
        contacts::measurement(&self.conn, id)
            .map_err(|e| self.sqlite(e))?
            .ok_or_else(|| Error::Store(format!("snapshot {id} holds no contacts figures (is it complete?)")))
    }

    /// Who served each domain of contacts snapshot `id`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn contact_domains(&self, id: i64) -> Result<Vec<crate::model::contact::DomainRecord>> {
        contacts::domains(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The stored figures of each level of contacts snapshot `id`, in report order.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn contact_summaries(&self, id: i64) -> Result<Vec<(String, crate::metrics::Concentration)>> {
        contacts::summaries(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The stored contacts of contacts snapshot `id` (hash, protocol, domain, messages).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn contact_rows(&self, id: i64) -> Result<Vec<contacts::ContactRow>> {
        contacts::rows(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The hashed contacts of contacts snapshot `id`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn contact_hashes(&self, id: i64) -> Result<std::collections::BTreeSet<String>> {
        contacts::hashes(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// Survey `id` (kind `instances`) as the command measured it (its instances are read
    /// one at a time by [`Store::survey_instances`]), and where its attribution came from.
    ///
    /// # Errors
    /// [`Error::Store`] when there is no such complete snapshot; SQLite errors.
    pub fn survey(&self, id: i64) -> Result<(crate::instances::Survey, crate::model::attribution::AttributionSource)> {
        self.refuse_unfinished(id)?;
        self.survey_so_far(id)
    }

    /// Survey `id` as [`Store::survey`] reads it, whatever its status (a running survey
    /// completed from its rows, a failed one as it was left).
    ///
    /// # Errors
    /// [`Error::Store`] when there is no such snapshot; SQLite errors.
    pub fn survey_so_far(
        &self,
        id: i64,
    ) -> Result<(crate::instances::Survey, crate::model::attribution::AttributionSource)> {
        let (head, source) = load::head(&self.conn, id)
            .map_err(|e| self.sqlite(e))?
            .ok_or_else(|| Error::Store(format!("no snapshot {id} in {}", self.path.display())))?;
        let request = self.request(id)?;
        let survey = instances::survey(&self.conn, id, head, &request).map_err(|e| self.sqlite(e))?;
        Ok((survey, source))
    }

    /// Hand each instance survey `id` has stored to `f`, one at a time, in `order`, with its
    /// attribution when `attributed`: what is held is one instance. The outer error is the
    /// store's; the inner one is `f`'s, which stops the reading.
    ///
    /// # Errors
    /// SQLite errors, or a value the store could not have written.
    pub fn survey_instances<E>(
        &self,
        id: i64,
        order: instances::Order,
        attributed: bool,
        f: impl FnMut(crate::instances::Instance) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(), E>> {
        instances::each(&self.conn, id, order, attributed, f).map_err(|e| self.sqlite(e))
    }

    /// The list positions survey `id` has stored so far.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn survey_positions(&self, id: i64) -> Result<std::collections::BTreeSet<usize>> {
        instances::positions(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The population figures stored with survey `id`, by name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn survey_figures(&self, id: i64) -> Result<Vec<(String, f64)>> {
        instances::figures(&self.conn, id).map_err(|e| self.sqlite(e))
    }

    /// The newest complete snapshot, of `kind` when given (`follows`, `contacts`), if any.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn latest_complete(&self, kind: Option<&str>) -> Result<Option<i64>> {
        self.conn
            .query_row(sql::SNAPSHOT_LATEST_COMPLETE, [kind], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    /// The complete snapshots of the series snapshot `id` belongs to, up to and including it,
    /// oldest first, whatever its kind: the one rule every trend, and `query share`, follows.
    /// Crawls (follows) of the same seed accounts ([`Store::seed_accounts`], whatever order
    /// and spelling the command gave them); contacts snapshots of one series name (`--series`,
    /// else the input files) and weight; surveys of one list (a digest of its sorted hosts)
    /// and software filter.
    ///
    /// # Errors
    /// SQLite errors; [`Error::Store`] when there is no snapshot `id`.
    pub fn series(&self, id: i64) -> Result<Vec<SnapshotInfo>> {
        let kind = self.kind(id)?;
        match kind.as_deref() {
            Some(contacts::KIND) => return self.series_by_request(id, contacts::KIND, &["series", "weight"]),
            Some(instances::KIND) => return self.series_by_request(id, instances::KIND, &["domains", "software"]),
            _ => {}
        }
        let seeds = self.seed_accounts(id)?;
        let mut out = vec![];
        for info in self.list()? {
            if info.id <= id
                && info.status == Status::Complete.as_str()
                && Some(&info.kind) == kind.as_ref()
                && self.seed_accounts(info.id)? == seeds
            {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// The complete snapshots of kind `kind` up to and including snapshot `id`, oldest first,
    /// whose request has the same text as snapshot `id`'s at each of `fields` (what makes
    /// snapshots one series: a contacts series' name and weight, a survey's list digest and
    /// filter).
    ///
    /// # Errors
    /// SQLite errors; [`Error::Store`] when there is no snapshot `id`.
    fn series_by_request(&self, id: i64, kind: &str, fields: &[&str]) -> Result<Vec<SnapshotInfo>> {
        let key = |id: i64| -> Result<Vec<String>> {
            let r = self.request(id)?;
            Ok(fields
                .iter()
                .map(|k| r[*k].as_str().unwrap_or_default().to_string())
                .collect())
        };
        let of_id = key(id)?;
        let mut out = vec![];
        for info in self.list()? {
            if info.id <= id && info.kind == kind && info.status == Status::Complete.as_str() && key(info.id)? == of_id
            {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Every snapshot, oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn list(&self) -> Result<Vec<SnapshotInfo>> {
        // A running snapshot is never called abandoned while a process holds the lock: the
        // one writer may be resuming it. Unknown (a lock file of another user's) reads as free.
        let writing = lock::held(&self.path) == Some(true);
        let mut stmt = self.conn.prepare(sql::SNAPSHOT_LIST).map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([writing], |r| {
                let request: String = r.get(5)?;
                // A contacts snapshot names its series, a survey its list, where a crawl names
                // its seeds.
                let seeds = serde_json::from_str::<serde_json::Value>(&request)
                    .ok()
                    .and_then(|v| {
                        serde_json::from_value(v["seeds"].clone())
                            .ok()
                            .or_else(|| v["series"].as_str().or(v["list"].as_str()).map(|s| vec![s.to_string()]))
                    })
                    .unwrap_or_default();
                Ok(SnapshotInfo {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    status: r.get(2)?,
                    started_at: r.get(3)?,
                    finished_at: r.get(4)?,
                    seeds,
                    accounts: r.get(7)?,
                    instances: r.get(8)?,
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.sqlite(e))
    }
}
