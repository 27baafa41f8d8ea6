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
        match fs4::FileExt::try_lock(&file) {
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
