//! The simulator's error type: a world that cannot be used or served, a file that cannot be
//! read or written. Each message is one line naming what was wrong and where.

use std::path::PathBuf;

/// Everything that can go wrong in the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A world (file, timeline, week) that does not describe a usable world, or a simulator
    /// that cannot start (sockets, certificates).
    #[error("world {0}")]
    World(String),

    /// A file with a role (such as "world file") that cannot be read.
    #[error("{what} {}: {}", path.display(), io_reason(source))]
    File {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The simulator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::File`]: `what` (such as "world file") at `path` cannot be read.
    pub fn file(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            what,
            path: path.into(),
            source,
        }
    }
}

/// What went wrong with a file, in a few words: "not found", "permission denied", "is a
/// directory", else the system's own message.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}
