//! `[instances]`: how `whohosts instances` judges the user counts NodeInfo claims.

use serde::{Deserialize, Serialize};

use super::DEFAULT_MAX_USERS;

/// Instance-list settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Instances {
    /// A NodeInfo user count above this is implausible: the instance is counted apart, its
    /// counts not trusted (the largest instance today has under 3 million accounts).
    pub max_users: u64,
}

impl Default for Instances {
    fn default() -> Self {
        Instances {
            max_users: DEFAULT_MAX_USERS,
        }
    }
}
