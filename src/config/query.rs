//! `[query]`: how far `query --sql` may go before it is stopped.

use serde::{Deserialize, Serialize};

/// Query settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    /// A query (shipped or `--sql`) running longer than this many seconds is stopped.
    pub time_limit_seconds: u64,
    /// A query whose SQLite heap or collected rows pass this many MiB is stopped.
    pub memory_limit_mb: u64,
}

/// Default of `query.time_limit_seconds`.
pub const DEFAULT_TIME_LIMIT_SECONDS: u64 = 30;
/// Default of `query.memory_limit_mb`.
pub const DEFAULT_MEMORY_LIMIT_MB: u64 = 512;

impl Default for Query {
    fn default() -> Self {
        Query {
            time_limit_seconds: DEFAULT_TIME_LIMIT_SECONDS,
            memory_limit_mb: DEFAULT_MEMORY_LIMIT_MB,
        }
    }
}
