//! The library's error type.
//!
//! One `#[non_exhaustive]` enum whose variants carry the input they are about, so that every
//! message printed to a user is a single line naming what was wrong and where. `anyhow` is
//! only used by `main.rs`.

use std::path::PathBuf;

/// Everything that can go wrong inside whohosts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A handle that is not `@user@domain`, `user@domain`, `acct:user@domain` or `https://host/@user`.
    #[error("invalid handle {input:?}: {reason}")]
    Handle { input: String, reason: &'static str },

    /// A configuration file that cannot be read or parsed.
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },

    /// An output file (`-o`) that cannot be written; `path` is the one the user gave.
    #[error("cannot write {path}: {reason}")]
    Output { path: PathBuf, reason: String },

    /// A configuration file whose TOML does not parse, at a line and column.
    #[error("config {}:{line}:{column}: {message}", path.display())]
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// A command-line flag with a bad value.
    #[error("{flag} {value:?}: {message}")]
    Flag {
        flag: &'static str,
        value: String,
        message: String,
    },

    /// A configuration value that is out of range or inconsistent.
    #[error("config: {0}")]
    ConfigValue(String),

    /// A file with a role (config file, world file, ASN database) that cannot be read;
    /// `note` says where its name came from (such as ` (from $WHOHOSTS_CONFIG)`) or is empty.
    #[error("{what} {}{note}: {}", path.display(), path_reason(path, source))]
    File {
        what: &'static str,
        path: PathBuf,
        note: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A file that cannot be read or written.
    #[error("{}: {}", path.display(), path_reason(path, source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A URL that the safe client refuses to fetch (scheme, address, redirect count).
    #[error("refused {url}: {reason}")]
    Refused { url: String, reason: String },

    /// A path that the host's robots.txt disallows for us.
    #[error("robots.txt of {host} disallows {path}")]
    RobotsDisallowed { host: String, path: String },

    /// An HTTP status that ends the request.
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },

    /// A transport problem: connection refused, timeout, TLS failure.
    #[error("{url}: {message}")]
    Transport { url: String, message: String },

    /// A body larger than the configured limit.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },

    /// A body that does not parse as what the protocol says it should be.
    #[error("{url}: malformed response: {message}")]
    Malformed { url: String, message: String },

    /// A server that keeps answering 429/5xx past the retry budget.
    #[error("{url}: gave up after {attempts} attempts (last: HTTP {status})")]
    RetriesExhausted { url: String, attempts: u32, status: u16 },

    /// The server asked for a longer pause than `network.max_wait_secs`.
    #[error(
        "{url}: {host} asks to wait {wait_secs} s, more than network.max_wait_secs ({max_secs} s); request given up"
    )]
    WaitTooLong {
        url: String,
        host: String,
        wait_secs: u64,
        max_secs: f64,
    },

    /// A host that has already made the crawl wait longer than its budget in all (announced
    /// pauses, back-offs, requests that timed out): given up, its further requests not sent.
    #[error(
        "{url}: host given up: {host} has made the crawl wait more than network.max_host_wait_secs ({budget_secs} s) in all (pauses, back-offs, timeouts); request not sent"
    )]
    HostWaitBudget {
        url: String,
        host: String,
        budget_secs: f64,
    },

    /// A DNS failure for a host: `NXDOMAIN` and the like say it does not resolve; `timeout`,
    /// `SERVFAIL` and [`DNS_NOT_ANSWERING`] say DNS did not answer (the name may well exist).
    #[error("{}", dns_sentence(host, message))]
    Dns { host: String, message: String },

    /// A line of an IP-to-ASN database that does not parse.
    #[error("{path}:{line}: {message}")]
    AsnLine { path: PathBuf, line: u64, message: String },

    /// An IP-to-ASN database that cannot be used as a whole.
    #[error("ASN database {path}: {message}")]
    AsnDb { path: PathBuf, message: String },

    /// A downloaded IP-to-ASN table that `asn-db update` refused; `kept` when a previous
    /// database exists and stays in use.
    #[error("download from {url} is not a usable database ({reason}){}", if *kept { "; kept the previous database" } else { "" })]
    AsnUpdate { url: String, reason: String, kept: bool },

    /// Input that cannot be used as given, the whole message (such as a simulated world
    /// file that does not describe a usable world).
    #[error("{0}")]
    Input(String),

    /// An earlier failure for the same host, remembered (e.g. its robots.txt was unreachable).
    #[error("{0}")]
    Again(std::sync::Arc<Error>),

    /// A trend query that cannot run as asked (unknown query or parameter, a write attempt,
    /// an SQL error), naming the query or file.
    #[error("query {name}: {message}")]
    Query { name: String, message: String },

    /// A trend query asked for wrongly on the command line (an unknown query, an unknown or
    /// missing parameter, a `level` or `weight` that names none): a usage error, naming the
    /// query or file.
    #[error("query {name}: {message}")]
    QueryUsage { name: String, message: String },

    /// An SQLite error on the snapshot database.
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A file that is not a whohosts database; it is left untouched.
    #[error("{path} is not a whohosts database ({reason}); it was left untouched: give --db the path of a whohosts database")]
    NotOurDatabase { path: PathBuf, reason: String },

    /// A read command pointed at a database file that does not exist (nothing is created).
    #[error("no database at {}: crawl first, or name one with --db", path.display())]
    NoDatabase { path: PathBuf },

    /// A database of an older schema seen by a command that only reads (and so never
    /// upgrades it).
    #[error("{} has schema version {found}, older than this whohosts ({known}): run a command that writes (crawl or prune) on it once to upgrade it; read commands never change it", path.display())]
    OlderDatabase { path: PathBuf, found: i64, known: i64 },

    /// A database to create in a directory that does not exist (only the default data
    /// directory is created).
    #[error("cannot create database {}: no directory {}", path.display(), dir.display())]
    NoDirectory { path: PathBuf, dir: PathBuf },

    /// A database written by a newer whohosts.
    #[error("{path} was written by a newer whohosts (schema version {found}; this one knows up to {known}): upgrade whohosts to use it")]
    NewerDatabase { path: PathBuf, found: i64, known: i64 },

    /// Another whohosts process holds the database.
    #[error("{path} is in use by another whohosts ({holder}); try again when it has finished")]
    Locked { path: PathBuf, holder: String },

    /// A snapshot-store request that cannot be met (no such snapshot, the writer stopped).
    #[error("{0}")]
    Store(String),

    /// An export that cannot be made as asked (unknown snapshot, output in the way, bad key).
    #[error("export: {0}")]
    Export(String),

    /// A command line that asks for what cannot be done with what is stored (`diff` of two
    /// snapshots of different kinds or weights): a usage error, the whole message.
    #[error("{0}")]
    Usage(String),
}

/// Exit code: the command line was wrong (clap's usage errors, and a flag's value found
/// unusable when the command runs: [`Error::Flag`], [`Error::QueryUsage`], [`Error::Usage`]).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: another whohosts holds the database.
pub const EXIT_LOCKED: u8 = 3;
/// Exit code: the crawl was interrupted (SIGINT, SIGTERM); run the same command to continue.
pub const EXIT_INTERRUPTED: u8 = 4;
/// Exit code: the database file is not whohosts', is from a newer whohosts, or (for a read
/// command) from an older one.
pub const EXIT_DATABASE_REFUSED: u8 = 5;

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::File`]: `what` (such as "config file") at `path` cannot be read.
    pub fn file(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            what,
            path: path.into(),
            note: "",
            source,
        }
    }

    /// An [`Error::Transport`] in a few words: "connection refused by HOST:PORT", "timed out
    /// after N s" (`limit_secs`), "TLS: …", else the innermost cause; the whole chain is for
    /// debug logs ([`chain`]).
    pub fn transport(url: &url::Url, e: &reqwest::Error, limit_secs: f64) -> Self {
        let causes = || std::iter::successors(Some(e as &dyn std::error::Error), |s| s.source());
        let io_kind = causes().find_map(|s| s.downcast_ref::<std::io::Error>().map(|io| io.kind()));
        let tls = causes().find_map(|s| s.downcast_ref::<rustls::Error>());
        let place = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let message = if timed_out(e) {
            format!("timed out after {limit_secs} s")
        } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
            format!("connection refused by {place}")
        } else if io_kind == Some(std::io::ErrorKind::ConnectionReset) {
            format!("connection reset by {place}")
        } else if let Some(t) = tls {
            format!("TLS: {t}")
        } else {
            causes().last().map_or_else(|| e.to_string(), |s| s.to_string())
        };
        Error::Transport {
            url: url.to_string(),
            message,
        }
    }

    /// A short machine-friendly word for the kind of failure, stored with crawl results.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Handle { .. } => "bad-handle",
            Error::Config { .. } | Error::ConfigSyntax { .. } | Error::ConfigValue(_) => "config",
            Error::Flag { .. } => "flag",
            Error::Io { .. } | Error::File { .. } | Error::Output { .. } => "io",
            Error::Refused { .. } => "refused-by-policy",
            Error::RobotsDisallowed { .. } => "robots",
            Error::Status { status: 401, .. } | Error::Status { status: 403, .. } => "unauthorized",
            Error::Status { status: 404, .. } | Error::Status { status: 410, .. } => "not-found",
            Error::Status { .. } => "http-status",
            Error::Transport { .. } => "transport",
            Error::TooLarge { .. } => "too-large",
            Error::Malformed { .. } => "malformed",
            Error::RetriesExhausted { .. } | Error::WaitTooLong { .. } => "rate-limited",
            Error::HostWaitBudget { .. } => "host-gave-up",
            Error::Dns { message, .. } if dns_unanswered(message) => "dns-no-answer",
            Error::Dns { .. } => "dns",
            Error::AsnLine { .. } | Error::AsnDb { .. } | Error::AsnUpdate { .. } => "asn-db",
            Error::Input(_) => "input",
            Error::Query { .. } | Error::QueryUsage { .. } => "query",
            Error::Sqlite { .. }
            | Error::NotOurDatabase { .. }
            | Error::NewerDatabase { .. }
            | Error::OlderDatabase { .. }
            | Error::NoDatabase { .. }
            | Error::NoDirectory { .. } => "database",
            Error::Locked { .. } => "locked",
            Error::Store(_) => "store",
            Error::Export(_) => "export",
            Error::Usage(_) => "usage",
            Error::Again(e) => e.kind(),
        }
    }

    /// The process exit code for this error when it ends a command (see the README's table):
    /// 2 for a flag's value that cannot be used (or a query's parameter, or two snapshots that do
    /// not compare), 3 when another process holds the database,
    /// 5 when the database file is refused, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Flag { .. } | Error::QueryUsage { .. } | Error::Usage(_) => EXIT_USAGE,
            Error::Locked { .. } => EXIT_LOCKED,
            Error::NotOurDatabase { .. } | Error::NewerDatabase { .. } | Error::OlderDatabase { .. } => {
                EXIT_DATABASE_REFUSED
            }
            _ => 1,
        }
    }

    /// An [`Error::Sqlite`] for `path`.
    pub fn sqlite(path: impl Into<PathBuf>, source: rusqlite::Error) -> Self {
        Error::Sqlite {
            path: path.into(),
            source,
        }
    }

    /// The HTTP status behind this error, if it is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::Again(e) => e.status(),
            _ => None,
        }
    }
}

/// Whether a transport error is a timeout (the client's own connect or request timeout, or
/// the system's).
pub fn timed_out(e: &reqwest::Error) -> bool {
    e.is_timeout()
        || std::iter::successors(Some(e as &dyn std::error::Error), |s| s.source())
            .filter_map(|s| s.downcast_ref::<std::io::Error>())
            .any(|io| io.kind() == std::io::ErrorKind::TimedOut)
}

/// What went wrong with a file, in a few words: "no such file", "permission denied", "is a
/// directory", else the system's own message without its "(os error N)".
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => {
            let text = e.to_string();
            let text = match text.rfind(" (os error ") {
                Some(at) if text.ends_with(')') => text[..at].to_string(),
                _ => text,
            };
            let mut chars = text.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
        }
    }
}

/// [`io_reason`] for `path`: a file that cannot be found because its directory does not
/// exist says so ("directory DIR does not exist").
pub fn path_reason(path: &std::path::Path, e: &std::io::Error) -> String {
    match path.parent() {
        Some(dir) if e.kind() == std::io::ErrorKind::NotFound && !dir.as_os_str().is_empty() && !dir.exists() => {
            format!("directory {} does not exist", dir.display())
        }
        _ => io_reason(e),
    }
}

/// The DNS failure of a query not sent because the run's nameserver stopped answering (so
/// many queries in a row timed out that the rest fail at once; see `net::dns`).
pub const DNS_NOT_ANSWERING: &str = "nameserver not answering";

/// Whether a DNS failure means no answer came (so the name may exist), not "no such name".
fn dns_unanswered(message: &str) -> bool {
    matches!(message, "timeout" | "SERVFAIL" | DNS_NOT_ANSWERING)
}

fn dns_sentence(host: &str, message: &str) -> String {
    if dns_unanswered(message) {
        format!("DNS did not answer for {host} ({message})")
    } else {
        format!("DNS {host}: {message}")
    }
}

/// Every message in an error's chain, joined with `: ` (repeats left out), for debug logs.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![];
    let mut source = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
