//! `-o FILE`: where the JSON result goes, checked before any crawling.
//!
//! Only a path that is, after resolving symlinks, a regular file (or one that does not exist
//! yet) is replaced atomically, through [`crate::files`]: written beside it under an
//! unpredictable name, given the old file's mode (and owner and group, when allowed), and
//! renamed over it, so an earlier file is never left half-written. A new file is private
//! (0600: reports name accounts) unless written with [`Output::write_public`] (the metrics
//! file, counts only, which a collector running as another user reads). A symlink is followed and its target replaced; the link
//! stays. `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` are written to the
//! already open descriptor itself (so `>> log` keeps appending after the report). Anything
//! else (`/dev/null`, a FIFO, a socket, a terminal) is opened and written through.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;

/// Symlinks followed before giving up (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

/// What writes an answer as it makes it: the outer error is its own, the inner one the
/// writing's.
pub type Writing<'a> = Box<dyn FnOnce(&mut dyn Write) -> Result<std::io::Result<()>> + 'a>;

/// A checked output destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A regular file, or one to create: written beside `target` and renamed over it.
    Replace { given: PathBuf, target: PathBuf },
    /// A device, FIFO or socket: opened and written to as it is.
    Stream { given: PathBuf },
    /// One of this process's open descriptors (`/dev/stdout`, `/proc/self/fd/N`): written to
    /// that descriptor itself, never reopened.
    Descriptor { given: PathBuf, fd: i32 },
}

fn cannot(given: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Output {
        path: given.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// [`cannot`] for an I/O error, in a few words ([`crate::error::io_reason`]).
fn failed(given: &Path, e: &std::io::Error) -> Error {
    cannot(given, crate::error::io_reason(e))
}

/// The descriptor a path names directly: `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
/// `/proc/self/fd/N`, `/proc/thread-self/fd/N` or `/proc/PID/fd/N` with our own PID.
fn descriptor_of(path: &Path) -> Option<i32> {
    let s = path.to_str()?;
    match s {
        "/dev/stdin" => return Some(0),
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        _ => {}
    }
    let pid = std::process::id().to_string();
    let rest = s.strip_prefix("/dev/fd/").or_else(|| {
        let proc = s.strip_prefix("/proc/")?;
        let (who, fd) = proc.split_once("/fd/")?;
        (who == "self" || who == "thread-self" || who == pid).then_some(fd)
    })?;
    rest.parse().ok()
}

/// Where a chain of symlinks ends (which may not exist yet), or the open descriptor of
/// ours that one of its links names.
fn follow_links(given: &Path) -> Result<std::result::Result<PathBuf, i32>> {
    let mut p = given.to_path_buf();
    for _ in 0..MAX_LINKS {
        if let Some(fd) = descriptor_of(&p) {
            return Ok(Err(fd));
        }
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&p).map_err(|e| failed(given, &e))?;
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(Ok(p)),
        }
    }
    Err(cannot(given, "too many levels of symbolic links"))
}

/// Write what `f` writes to one of our open descriptors without reopening or closing it.
fn write_descriptor(given: &Path, fd: i32, f: Writing<'_>) -> Result<()> {
    let done = match fd {
        1 => return super::print_with(f),
        2 => {
            let mut err = std::io::stderr().lock();
            f(&mut err)?.and_then(|_| err.flush())
        }
        _ => {
            // SAFETY: `check` saw this descriptor open in /proc/self/fd, and whohosts never
            // closes descriptors it did not open; the borrow only lives for the `dup`.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            match borrowed.try_clone_to_owned().map(std::fs::File::from) {
                Ok(mut file) => f(&mut file)?.and_then(|_| file.flush()),
                Err(e) => Err(e),
            }
        }
    };
    done.map_err(|e| failed(given, &e))
}

impl Output {
    /// Check that `given` can be written, before any work is done.
    ///
    /// # Errors
    /// [`Error::Output`] naming `given`: a missing or read-only directory, a directory as
    /// the output, a symlink loop, a descriptor that is not open.
    pub fn check(given: &Path) -> Result<Self> {
        let target = match follow_links(given)? {
            Ok(target) => target,
            Err(fd) if Path::new(&format!("/proc/self/fd/{fd}")).exists() => {
                return Ok(Output::Descriptor {
                    given: given.to_path_buf(),
                    fd,
                })
            }
            Err(_) => return Err(cannot(given, "that descriptor is not open")),
        };
        // `metadata` follows the kernel's own links too (`/proc/PID/fd/N` to a pipe).
        match std::fs::metadata(given).or_else(|_| std::fs::metadata(&target)) {
            Ok(m) if m.is_dir() => return Err(cannot(given, "is a directory")),
            Ok(m) if !m.is_file() => {
                return Ok(Output::Stream {
                    given: given.to_path_buf(),
                })
            }
            _ => {}
        }
        // A temporary sibling made and dropped: the directory exists and can be written.
        files::AtomicFile::create(&target, files::PUBLIC).map_err(|e| match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                cannot(given, format_args!("directory {} does not exist", dir.display()))
            }
            _ => failed(given, &e),
        })?;
        Ok(Output::Replace {
            given: given.to_path_buf(),
            target,
        })
    }

    /// Write `bytes` to the destination; a file it creates is private (0600), a file it
    /// replaces keeps the mode its owner gave it.
    ///
    /// # Errors
    /// [`Error::Output`] naming the path the user gave.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        self.write_mode(bytes, files::PRIVATE)
    }

    /// As [`Output::write`], but a file it creates is readable by all (0644 under the usual
    /// umask): for what names no one (the Prometheus metrics file).
    ///
    /// # Errors
    /// [`Error::Output`] naming the path the user gave.
    pub fn write_public(&self, bytes: &[u8]) -> Result<()> {
        self.write_mode(bytes, files::PUBLIC)
    }

    /// As [`Output::write`], what `f` writes as it makes it (a report written as it is
    /// serialised, never held whole). `f`'s outer error is its own (the file is not put in
    /// place), the inner one the writing's.
    ///
    /// # Errors
    /// `f`'s; [`Error::Output`] naming the path the user gave.
    pub fn write_with(&self, f: Writing<'_>) -> Result<()> {
        self.write_mode_with(f, files::PRIVATE)
    }

    fn write_mode(&self, bytes: &[u8], mode: u32) -> Result<()> {
        self.write_mode_with(Box::new(|w: &mut dyn Write| Ok(w.write_all(bytes))), mode)
    }

    fn write_mode_with(&self, f: Writing<'_>, mode: u32) -> Result<()> {
        match self {
            Output::Descriptor { given, fd } => write_descriptor(given, *fd, f),
            Output::Stream { given } => {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(given)
                    .map_err(|e| failed(given, &e))?;
                f(&mut file)?.and_then(|_| file.flush()).map_err(|e| failed(given, &e))
            }
            Output::Replace { given, target } => {
                let mut file = files::AtomicFile::create(target, mode).map_err(|e| failed(given, &e))?;
                f(&mut file)?.and_then(|_| file.commit()).map_err(|e| failed(given, &e))
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

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_report_file_is_private_and_a_replaced_one_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("r.json");
        Output::check(&report).unwrap().write(b"{}").unwrap();
        assert_eq!(mode(&report), 0o600);
        // The owner made it readable by the group: replacing it keeps that.
        std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o640)).unwrap();
        Output::check(&report).unwrap().write(b"{\"a\": 1}").unwrap();
        assert_eq!(
            (mode(&report), std::fs::read(&report).unwrap()),
            (0o640, b"{\"a\": 1}".to_vec())
        );
        // The metrics file names no one: readable by a collector running as another user.
        let metrics = dir.path().join("whohosts.prom");
        Output::check(&metrics)
            .unwrap()
            .write_public(b"whohosts_seeds 1\n")
            .unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"").unwrap();
        assert_eq!(mode(&metrics), mode(&plain));
        assert_ne!(mode(&metrics), 0o600);
    }
}
