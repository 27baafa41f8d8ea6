//! One crawl per database: an OS advisory lock on `DB.lock` beside the database file itself.
//!
//! `DB` is the canonical path of the database (symbolic links resolved), so a second name for
//! the same file (a link to it, `./x/../db`) finds the same lock. The lock file is created
//! private (0600) and opened without following a symbolic link planted at its name; one with
//! a second name (a planted hard link) is refused before anything is written to it. The
//! lock dies with its process (SIGKILL, power loss), so a killed crawl never blocks the next
//! one. The holder writes its pid and command into the file, so a second process can say who
//! holds the database.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use fs4::TryLockError;

use crate::error::{Error, Result};

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DbLock {
    _file: File,
    pub path: PathBuf,
}

/// The lock file of database `db`: `DB.lock` beside the file `db` names once links are
/// resolved ([`super::schema::beside`]).
///
/// # Errors
/// As [`super::schema::beside`].
pub fn lock_path(db: &Path) -> Result<PathBuf> {
    super::schema::beside(db, ".lock")
}

/// Refuse a lock file with a second name (a hard link planted at `DB.lock` to a file of the
/// user's, which the holder's line would overwrite): one line naming it.
fn refuse_linked(file: &File, path: &Path) -> Result<()> {
    let links = crate::files::names(file).map_err(|e| Error::io(path, e))?;
    match links {
        1 => Ok(()),
        n => Err(Error::Store(format!(
            "lock file {}: it has {n} names (a hard link to another file); nothing was written to it: \
             remove it and run the command again",
            path.display()
        ))),
    }
}

/// What the lock file says about this process: `pid N (whohosts COMMAND)`. Arguments are
/// not written: they may hold a token.
fn holder_line(command: &str) -> String {
    format!("pid {} (whohosts {command})", std::process::id())
}

/// How many times, [`RETRY_PAUSE`] apart, a lock found held is tried again before the
/// database is called locked: [`held`] holds a shared lock for an instant, which must not make a
/// crawl starting at that instant fail.
const RETRIES: u32 = 5;
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(40);

fn try_lock_patiently(file: &File) -> std::result::Result<(), TryLockError> {
    let mut tries = 0;
    loop {
        match fs4::FileExt::try_lock(file) {
            Err(TryLockError::WouldBlock) if tries < RETRIES => {
                tries += 1;
                std::thread::sleep(RETRY_PAUSE);
            }
            other => return other,
        }
    }
}

/// Whether a process holds the lock of database `db` now (a crawl, contacts run, survey or
/// prune is writing to it): a shared lock is tried on `DB.lock` and released at once. `None`
/// when it cannot be told (a lock file this user cannot open, or a path that does not resolve);
/// `Some(false)` when there is no lock file.
#[must_use]
pub fn held(db: &Path) -> Option<bool> {
    let path = lock_path(db).ok()?;
    let file = match crate::files::read_no_follow(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(false),
        Err(_) => return None,
    };
    match fs4::FileExt::try_lock_shared(&file) {
        Ok(()) => {
            let _ = fs4::FileExt::unlock(&file);
            Some(false)
        }
        Err(TryLockError::WouldBlock) => Some(true),
        Err(TryLockError::Error(_)) => None,
    }
}

impl DbLock {
    /// Take the lock of database `db` for `command` (`crawl`, `prune`), or fail at once
    /// naming the process that holds it.
    ///
    /// # Errors
    /// [`Error::Locked`] when another process holds it; [`Error::Io`] when the lock file
    /// cannot be created.
    pub fn acquire(db: &Path, command: &str) -> Result<DbLock> {
        let path = lock_path(db)?;
        let mut file = crate::files::open_no_follow(&path, crate::files::PRIVATE).map_err(|e| Error::io(&path, e))?;
        refuse_linked(&file, &path)?;
        match try_lock_patiently(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Error::Locked {
                    path: db.to_path_buf(),
                    holder: if holder.is_empty() {
                        "pid unknown".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let written = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{}", holder_line(command)))
            .and_then(|_| file.flush());
        written.map_err(|e| Error::io(&path, e))?;
        Ok(DbLock { _file: file, path })
    }
}
