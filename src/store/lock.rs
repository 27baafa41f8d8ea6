//! One crawl per database: an OS advisory lock on `DB.lock` beside the database.
//!
//! The lock dies with its process (SIGKILL, power loss), so a killed crawl never blocks the
//! next one. The holder writes its pid and command into the file, so a second process can
//! say who holds the database.

use std::fs::{File, OpenOptions};
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

/// The lock file of database `db`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
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
        let path = lock_path(db);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
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
