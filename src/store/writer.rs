//! The one writer: a thread that owns the database connection, fed by a bounded channel.
//!
//! [`Writer`] is the handle (`Handle { tx }` shape): every write of the program is a
//! [`Command`] sent to the thread, which applies commands in the order they were sent.
//! Journal entries arriving together are written in one transaction; a snapshot's rows are
//! written, its metrics stored, its journal deleted and it is marked complete in one
//! transaction.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::{frontier, journal, prune, save, schema, sql, Status};
use crate::error::{Error, Result};
use crate::instances::{BadEntry, Instance};
use crate::model::contact::ContactsSnapshot;
use crate::model::snapshot::Snapshot;

/// Commands waiting for the writer at most; senders wait when it is behind.
const CHANNEL: usize = 256;
/// Journal entries written per transaction at most.
const BATCH: usize = 256;

/// How to treat an earlier, unfinished snapshot of the same command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Continue it if there is one, else start a new snapshot.
    Auto,
    /// Continue it; fail when there is none.
    Required,
    /// Always start a new snapshot.
    Never,
}

/// What a new (or continued) snapshot is.
#[derive(Debug, Clone)]
pub struct Begin {
    /// `follows` (or, later, `contacts`).
    pub kind: &'static str,
    /// The command that makes it (seeds and options), JSON: equal requests continue each other.
    pub request: String,
    /// The effective configuration, JSON.
    pub configuration: String,
    pub tool: String,
    pub started_at: String,
    pub resume: Resume,
    /// With [`Resume::Auto`], an unfinished snapshot that started more than this many
    /// seconds before `started_at` is given up (marked failed, its journal dropped) and a
    /// new one begun; `None`: no limit.
    pub resume_within_secs: Option<u64>,
}

/// A snapshot ready to be crawled into.
#[derive(Debug)]
pub struct Begun {
    pub id: i64,
    /// Whether an unfinished snapshot is continued.
    pub resumed: bool,
    /// An unfinished snapshot of the same command too old to continue, given up: its id
    /// and start.
    pub given_up: Option<(i64, String)>,
    /// Responses recorded by the earlier run(s), looked up one by one as they are replayed.
    pub journal: journal::Earlier,
    /// Requests and retries the earlier run(s) sent, each counted before it went out.
    pub requests: u64,
    pub retries: u64,
}

/// What a [`Writer`] can be asked to do.
pub(super) enum Command {
    Begin(Box<Begin>, oneshot::Sender<Result<Begun>>),
    Journal(Box<journal::Entry>),
    /// A request of the snapshot's crawl is about to be sent (`true`: a retry); answered once
    /// counted in the snapshot's row.
    Sent(i64, bool, oneshot::Sender<()>),
    Complete(i64, Box<Snapshot>, oneshot::Sender<Result<()>>),
    CompleteContacts(i64, Box<ContactsSnapshot>, oneshot::Sender<Result<()>>),
    /// A batch of a running survey's instances, each with its list position.
    SurveyRows(i64, Vec<(usize, Instance)>, oneshot::Sender<Result<()>>),
    CompleteSurvey(i64, Box<super::instances::Figures>, oneshot::Sender<Result<()>>),
    Status(i64, Status, String, oneshot::Sender<Result<bool>>),
    /// A survey in which no instance answered: marked failed, with its list's bad entries.
    FailSurvey(i64, Vec<BadEntry>, String, oneshot::Sender<Result<bool>>),
    Prune(prune::Rule, oneshot::Sender<Result<prune::Pruned>>),
    Frontier(i64, frontier::Op, oneshot::Sender<Result<frontier::Reply>>),
    Close(oneshot::Sender<()>),
}

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    pub(super) tx: mpsc::Sender<Command>,
    path: PathBuf,
}

impl Writer {
    /// Start the writer thread on its own connection to `path`.
    ///
    /// # Errors
    /// As [`schema::open`]; [`Error::Io`] when the thread cannot start.
    pub fn spawn(path: &Path) -> Result<Writer> {
        let conn = schema::open(path)?;
        let opt_out = super::optout::OptOut::of_database(path)?;
        let (tx, rx) = mpsc::channel(CHANNEL);
        let path = path.to_path_buf();
        let own = path.clone();
        let thread = std::thread::Builder::new()
            .name("whohosts-writer".into())
            .spawn(move || run(conn, path, &opt_out, rx))
            .map_err(|e| Error::io("<writer thread>", e))?;
        THREADS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(thread);
        Ok(Writer { tx, path: own })
    }

    /// The database file this writer writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let gone = || Error::Store("the database writer stopped".into());
        self.tx.send(make(reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }

    /// Start a snapshot, or continue the unfinished one of the same request.
    ///
    /// # Errors
    /// SQLite errors; [`Error::Store`] when `Resume::Required` finds nothing to continue.
    pub async fn begin(&self, begin: Begin) -> Result<Begun> {
        self.ask(|r| Command::Begin(Box::new(begin), r)).await?
    }

    /// Write `snapshot`'s rows into snapshot `id`, drop its journal and mark it complete.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn complete(&self, id: i64, snapshot: Snapshot) -> Result<()> {
        self.ask(|r| Command::Complete(id, Box::new(snapshot), r)).await?
    }

    /// Write a contacts measurement into snapshot `id` (begun with kind `contacts`) and mark
    /// it complete, in one transaction.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn complete_contacts(&self, id: i64, snapshot: ContactsSnapshot) -> Result<()> {
        self.ask(|r| Command::CompleteContacts(id, Box::new(snapshot), r))
            .await?
    }

    /// Write `rows`, instances of survey `id` (begun with kind `instances`) each with its
    /// position in the list, in one transaction: a list of thousands is stored batch by batch.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn survey_rows(&self, id: i64, rows: Vec<(usize, Instance)>) -> Result<()> {
        self.ask(|r| Command::SurveyRows(id, rows, r)).await?
    }

    /// Write the figures of survey `id` (its rows stored) and mark it complete, in one
    /// transaction.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn complete_survey(&self, id: i64, figures: super::instances::Figures) -> Result<()> {
        self.ask(|r| Command::CompleteSurvey(id, Box::new(figures), r)).await?
    }

    /// Mark snapshot `id` interrupted or failed (after every write sent before), if it is
    /// still running; `false` when it was not (it completed first).
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn set_status(&self, id: i64, status: Status) -> Result<bool> {
        let now = crate::model::time::now();
        self.ask(|r| Command::Status(id, status, now, r)).await?
    }

    /// Mark survey `id` failed (no instance answered) if it is still running, and store its
    /// list's bad entries with it, in one transaction; `false` when it was not running.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn fail_survey(&self, id: i64, bad: Vec<BadEntry>) -> Result<bool> {
        let now = crate::model::time::now();
        self.ask(|r| Command::FailSurvey(id, bad, now, r)).await?
    }

    /// Delete old snapshots and whatever only they referenced.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn prune(&self, rule: prune::Rule) -> Result<prune::Pruned> {
        self.ask(|r| Command::Prune(rule, r)).await?
    }

    /// Apply `op` to snapshot `id`'s frontier (a deeper crawl's).
    pub(super) async fn frontier(&self, id: i64, op: frontier::Op) -> Result<frontier::Reply> {
        self.ask(|r| Command::Frontier(id, op, r)).await?
    }

    /// Write everything sent so far, then stop the thread.
    pub async fn close(self) {
        let _ = self.ask(Command::Close).await;
    }
}

/// Every writer thread started, so the process can wait for them before it exits.
static THREADS: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>> = std::sync::Mutex::new(Vec::new());

/// Wait, at most `limit`, for every writer thread to finish: one whose handles were all
/// dropped without [`Writer::close`] (a command that failed half-way) writes what it was sent,
/// closes its connection (which checkpoints the WAL and removes the `-wal` file) and ends.
/// The binary calls this after its command returned, so the process never exits while a
/// connection is being closed. `false` when a thread was still running at the limit.
pub fn wait_for_threads(limit: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    let threads = std::mem::take(&mut *THREADS.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let mut all = true;
    for thread in threads {
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            all = false;
        }
    }
    all
}

/// A request about to be sent: its snapshot, whether it is a retry, and who waits for it to
/// be counted.
type Sent = (i64, bool, oneshot::Sender<()>);

/// `first` and the request counts queued right behind it, and the first other command met.
fn sent_batch(first: Sent, rx: &mut mpsc::Receiver<Command>) -> (Vec<Sent>, Option<Command>) {
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(Command::Sent(id, retry, ack)) => batch.push((id, retry, ack)),
            Ok(other) => return (batch, Some(other)),
            Err(_) => break,
        }
    }
    (batch, None)
}

/// Add a batch of sent requests to their snapshots' counts, in one transaction.
fn count_sent(conn: &Connection, batch: &[Sent]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut add = tx.prepare_cached(sql::SNAPSHOT_SENT)?;
        for (id, retry, _) in batch {
            add.execute(params![id, i64::from(*retry)])?;
        }
    }
    tx.commit()
}

/// `first` and the journal entries queued right behind it (up to [`BATCH`]), and the first
/// other command met, which must run after them.
fn journal_batch(first: journal::Entry, rx: &mut mpsc::Receiver<Command>) -> (Vec<journal::Entry>, Option<Command>) {
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(Command::Journal(e)) => batch.push(*e),
            Ok(other) => return (batch, Some(other)),
            Err(_) => break,
        }
    }
    (batch, None)
}

fn run(conn: Connection, path: PathBuf, opt_out: &super::optout::OptOut, mut rx: mpsc::Receiver<Command>) {
    let mut next: Option<Command> = None;
    loop {
        let Some(cmd) = next.take().or_else(|| rx.blocking_recv()) else {
            return;
        };
        match cmd {
            Command::Journal(entry) => {
                let (batch, after) = journal_batch(*entry, &mut rx);
                next = after;
                if let Err(e) = journal::write(&conn, &batch) {
                    tracing::warn!("journal not written ({}): {e}", path.display());
                }
            }
            Command::Sent(id, retry, ack) => {
                let (batch, after) = sent_batch((id, retry, ack), &mut rx);
                next = after;
                if let Err(e) = count_sent(&conn, &batch) {
                    tracing::warn!("requests not counted ({}): {e}", path.display());
                }
                for (_, _, ack) in batch {
                    let _ = ack.send(());
                }
            }
            Command::Begin(b, reply) => {
                let _ = reply.send(begin(&conn, &path, &b).map_err(|e| wrap(&path, e)));
            }
            Command::Complete(id, snap, reply) => {
                let _ = reply.send(complete(&conn, id, &snap, opt_out).map_err(|e| wrap(&path, e)));
            }
            Command::CompleteContacts(id, snap, reply) => {
                let _ = reply.send(complete_contacts(&conn, id, &snap, opt_out).map_err(|e| wrap(&path, e)));
            }
            Command::SurveyRows(id, rows, reply) => {
                let _ = reply.send(survey_rows(&conn, id, &rows, opt_out).map_err(|e| Error::sqlite(&path, e)));
            }
            Command::CompleteSurvey(id, figures, reply) => {
                let _ = reply.send(complete_survey(&conn, id, &figures).map_err(|e| wrap(&path, e)));
            }
            Command::Status(id, status, now, reply) => {
                let done = change_status(&conn, sql::SNAPSHOT_STATUS, id, status, &now, &[]);
                let _ = reply.send(done.map_err(|e| Error::sqlite(&path, e)));
            }
            Command::FailSurvey(id, bad, now, reply) => {
                let done = change_status(&conn, sql::SNAPSHOT_STATUS, id, Status::Failed, &now, &bad);
                let _ = reply.send(done.map_err(|e| Error::sqlite(&path, e)));
            }
            Command::Prune(rule, reply) => {
                let _ = reply.send(prune::run(&conn, &rule).map_err(|e| Error::sqlite(&path, e)));
            }
            Command::Frontier(id, op, reply) => {
                let _ = reply.send(frontier::apply(&conn, id, op).map_err(|e| Error::sqlite(&path, e)));
            }
            Command::Close(reply) => {
                // Closed before the reply, so a command that exits right after leaves no
                // -wal file behind: the last connection to close checkpoints and removes it.
                if let Err((_, e)) = conn.close() {
                    tracing::warn!("database not closed cleanly ({}): {e}", path.display());
                }
                let _ = reply.send(());
                return;
            }
        }
    }
}

/// Set the status of snapshot `id` to `status` at `now` through `update` (whose `WHERE` says
/// from which statuses: a running snapshot's, [`sql::SNAPSHOT_STATUS`], or an unfinished
/// one's, [`sql::SNAPSHOT_GIVE_UP`]); `false` when it was in none of them. A failed snapshot
/// is never continued, so its response journal goes with it, in the same transaction; so
/// do `bad`, a failed survey's bad entries (none for every other change).
fn change_status(
    conn: &Connection,
    update: &str,
    id: i64,
    status: Status,
    now: &str,
    bad: &[BadEntry],
) -> rusqlite::Result<bool> {
    let tx = conn.unchecked_transaction()?;
    let changed = tx.execute(update, params![id, status.as_str(), now])? == 1;
    if changed && status == Status::Failed {
        tx.execute(sql::JOURNAL_DELETE, [id])?;
    }
    if changed {
        super::instances::save_bad(&tx, id, bad)?;
    }
    tx.commit()?;
    Ok(changed)
}

/// A writer-side failure: SQLite's, or a store rule's.
enum Failed {
    Sqlite(rusqlite::Error),
    Store(String),
}

impl From<rusqlite::Error> for Failed {
    fn from(e: rusqlite::Error) -> Self {
        Failed::Sqlite(e)
    }
}

fn wrap(path: &Path, e: Failed) -> Error {
    match e {
        Failed::Sqlite(e) => Error::sqlite(path, e),
        Failed::Store(m) => Error::Store(m),
    }
}

fn begin(conn: &Connection, path: &Path, b: &Begin) -> std::result::Result<Begun, Failed> {
    let mut earlier: Option<(i64, String)> = match b.resume {
        Resume::Never => None,
        Resume::Auto | Resume::Required => conn
            .prepare_cached(sql::SNAPSHOT_RESUMABLE)?
            .query_row([&b.request], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    };
    let mut given_up = None;
    if let (Some((id, started)), Resume::Auto, Some(limit)) = (&earlier, b.resume, b.resume_within_secs) {
        let age = crate::model::time::parse(&b.started_at)
            .zip(crate::model::time::parse(started))
            .and_then(|(now, then)| now.duration_since(then).ok());
        if age.is_none_or(|a| a.as_secs() > limit) {
            change_status(conn, sql::SNAPSHOT_GIVE_UP, *id, Status::Failed, &b.started_at, &[])?;
            given_up = earlier.take();
        }
    }
    let earlier = earlier.map(|(id, _)| id);
    match (earlier, b.resume) {
        (Some(id), _) => {
            conn.execute(sql::SNAPSHOT_RESUME, [id])?;
            let (requests, retries): (i64, i64) =
                conn.query_row(sql::SNAPSHOT_COUNTS, [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(Begun {
                id,
                resumed: true,
                given_up: None,
                journal: journal::Earlier::new(path.to_path_buf(), journal::count(conn, id)?),
                requests: u64::try_from(requests).unwrap_or(0),
                retries: u64::try_from(retries).unwrap_or(0),
            })
        }
        (None, Resume::Required) => Err(Failed::Store(format!(
            "--resume: no interrupted snapshot of this command (same {} and options) to continue",
            match b.kind {
                super::instances::KIND => "list",
                _ => "handles",
            }
        ))),
        (None, _) => {
            conn.execute(
                sql::SNAPSHOT_NEW,
                params![b.kind, b.request, b.started_at, b.tool, b.configuration],
            )?;
            Ok(Begun {
                id: conn.last_insert_rowid(),
                resumed: false,
                given_up,
                journal: journal::Earlier::default(),
                requests: 0,
                retries: 0,
            })
        }
    }
}

fn complete(
    conn: &Connection,
    id: i64,
    snap: &Snapshot,
    opt_out: &super::optout::OptOut,
) -> std::result::Result<(), Failed> {
    // What the crawl freed is handed back before the metrics and the rows are built: the
    // page cache's pages of the journal (the transaction fills the cache again as it
    // writes, once the metrics' graph is gone), and what the allocator keeps in the arena of
    // each thread that freed it (this thread cannot reuse the crawl threads').
    conn.execute_batch("PRAGMA shrink_memory")?;
    release_freed();
    // The metrics first, then the rows: what each holds of a large snapshot (its distinct
    // accounts and edges; the store's keys of them) is not held at once.
    let metrics = crate::metrics::compute(snap);
    conn.pragma_update(None, "cache_size", -schema::SNAPSHOT_CACHE_KIB)?;
    let written = (|| {
        let tx = conn.unchecked_transaction()?;
        write_complete(&tx, id, snap, opt_out)?;
        super::metrics::save(&tx, id, &metrics)?;
        // A crawl that read no seed measured nothing: stored whole (why each seed failed,
        // its population), but `failed`, so it is nobody's baseline.
        if snap.crawl.no_seed_read() {
            tx.execute(sql::SNAPSHOT_FAILED, [id])?;
        }
        tx.execute(sql::JOURNAL_DELETE, [id])?;
        tx.commit()?;
        Ok::<(), Failed>(())
    })();
    // Back to the small cache (and its pages freed), whether or not the rows were written.
    conn.pragma_update(None, "cache_size", -schema::CACHE_KIB)?;
    conn.execute_batch("PRAGMA shrink_memory")?;
    written?;
    // The journal held the raw responses, opted-out accounts' included: secure_delete
    // zeroed its pages; copy them back into the file and empty the WAL, so no frame of
    // it stays readable beside the database.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Return the memory freed so far to the system (glibc's `malloc_trim`: every arena's free
/// pages); elsewhere nothing.
fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it touches nothing in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn complete_contacts(
    conn: &Connection,
    id: i64,
    snap: &ContactsSnapshot,
    opt_out: &super::optout::OptOut,
) -> std::result::Result<(), Failed> {
    let tx = conn.unchecked_transaction()?;
    super::contacts::save(&tx, id, snap, opt_out)?;
    mark_complete(&tx, id, &snap.finished_at, &snap.tool, &snap.attribution, 0, 0)?;
    tx.commit()?;
    Ok(())
}

fn survey_rows(
    conn: &Connection,
    id: i64,
    rows: &[(usize, Instance)],
    opt_out: &super::optout::OptOut,
) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    let mut keys = save::Keys::new(&tx, opt_out);
    super::instances::save_rows(&mut keys, id, rows)?;
    tx.commit()
}

fn complete_survey(conn: &Connection, id: i64, f: &super::instances::Figures) -> std::result::Result<(), Failed> {
    let tx = conn.unchecked_transaction()?;
    super::instances::save_figures(&tx, id, f)?;
    mark_complete(&tx, id, &f.finished_at, &f.tool, &f.attribution, 0, 0)?;
    tx.commit()?;
    Ok(())
}

/// The rows of `snap` and the snapshot's completion, inside `tx`.
fn write_complete(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    snap: &Snapshot,
    opt_out: &super::optout::OptOut,
) -> std::result::Result<(), Failed> {
    let mut keys = save::Keys::new(tx, opt_out);
    save::snapshot_rows(&mut keys, id, snap)?;
    mark_complete(
        tx,
        id,
        &snap.crawl.finished_at,
        &snap.crawl.tool,
        &snap.attribution,
        snap.crawl.requests,
        snap.crawl.retries,
    )
}

/// Mark snapshot `id` complete with its end, tool, attribution source and request counts.
fn mark_complete(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    finished_at: &str,
    tool: &str,
    source: &crate::model::attribution::AttributionSource,
    requests: u64,
    retries: u64,
) -> std::result::Result<(), Failed> {
    let database = source
        .database
        .as_ref()
        .map(|d| save::asn_database(tx, d))
        .transpose()?;
    let policy = serde_json::to_value(source.address_policy).ok();
    let changed = tx.execute(
        sql::SNAPSHOT_COMPLETE,
        params![
            id,
            finished_at,
            tool,
            policy.as_ref().and_then(|v| v.as_str()),
            source.online_fallback,
            database,
            save::u64_sql(requests),
            save::u64_sql(retries)
        ],
    )?;
    if changed != 1 {
        return Err(Failed::Store(format!("snapshot {id} is not running: not completed")));
    }
    Ok(())
}
