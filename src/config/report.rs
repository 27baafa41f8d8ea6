//! `[report]`: when a report calls its data degraded.

use serde::{Deserialize, Serialize};

use super::DEFAULT_MAX_UNSEEN_SHARE;

/// Report settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Report {
    /// Above this share of unseen accounts (declared by hidden or not-exposed lists, over
    /// those and the accounts seen), `crawl` and `report` warn on stderr that the figures
    /// describe only part of the graph (0–1).
    pub max_unseen_share: f64,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            max_unseen_share: DEFAULT_MAX_UNSEEN_SHARE,
        }
    }
}
