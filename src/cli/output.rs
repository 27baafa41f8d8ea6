//! `-o FILE`: where the JSON result goes, checked before any crawling.
//!
//! A regular file (or a path that does not exist yet) is replaced atomically: the result is
//! written to `FILE.part` beside it and renamed over it, so an earlier file is never left
//! half-written. A symlink is followed and its target replaced; the link stays. Anything
//! else (`/dev/null`, `/dev/stdout`, a FIFO, a terminal) is written through, never replaced.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Symlinks followed before giving up (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

/// A checked output destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A regular file, or one to create: written beside `target` and renamed over it.
    Replace { given: PathBuf, target: PathBuf },
    /// A device, FIFO or socket: written to as it is.
    Stream { given: PathBuf },
}

fn cannot(given: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Output {
        path: given.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The file a chain of symlinks ends at (which may not exist yet).
fn follow_links(given: &Path) -> Result<PathBuf> {
    let mut p = given.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&p).map_err(|e| cannot(given, e))?;
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(cannot(given, "too many levels of symbolic links"))
}

/// The `.part` file written before the rename.
fn part_of(target: &Path) -> PathBuf {
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(".part");
    PathBuf::from(tmp)
}

impl Output {
    /// Check that `given` can be written, before any work is done.
    ///
    /// # Errors
    /// [`Error::Output`] naming `given`: a missing or read-only directory, a directory as
    /// the output, a symlink loop.
    pub fn check(given: &Path) -> Result<Self> {
        let target = follow_links(given)?;
        match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() => return Err(cannot(given, "is a directory")),
            Ok(m) if !m.is_file() => {
                return Ok(Output::Stream {
                    given: given.to_path_buf(),
                })
            }
            _ => {}
        }
        let part = part_of(&target);
        std::fs::File::create(&part).map_err(|e| match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                cannot(given, format_args!("directory {} does not exist", dir.display()))
            }
            _ => cannot(given, e),
        })?;
        let _ = std::fs::remove_file(&part);
        Ok(Output::Replace {
            given: given.to_path_buf(),
            target,
        })
    }

    /// Write `bytes` to the destination.
    ///
    /// # Errors
    /// [`Error::Output`] naming the path the user gave.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Output::Stream { given } => std::fs::OpenOptions::new()
                .write(true)
                .open(given)
                .and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()))
                .map_err(|e| cannot(given, e)),
            Output::Replace { given, target } => {
                let part = part_of(target);
                std::fs::write(&part, bytes).map_err(|e| cannot(given, e))?;
                std::fs::rename(&part, target).map_err(|e| {
                    let _ = std::fs::remove_file(&part);
                    cannot(given, e)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_written_through_and_links_followed() {
        assert_eq!(
            Output::check(Path::new("/dev/null")).unwrap(),
            Output::Stream {
                given: "/dev/null".into()
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        let out = Output::check(&link).unwrap();
        assert_eq!(
            out,
            Output::Replace {
                given: link.clone(),
                target: real.clone()
            }
        );
        out.write(b"{}").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"{}");
    }
}
