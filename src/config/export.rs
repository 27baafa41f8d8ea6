//! `[export]`: research export settings.

use serde::{Deserialize, Serialize};

use super::{DEFAULT_MIN_GROUP_MEMBERS, DEFAULT_MIN_INSTANCE_USERS};

/// Research export settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Export {
    /// Instances with fewer NodeInfo users than this (or no known size) are generalised to
    /// "small instance in ASn" in exports.
    pub min_instance_users: u64,
    /// Every group an export publishes by name (an instance, a metric bucket at any level)
    /// holds at least this many distinct accounts (and `min_instance_users` users); smaller
    /// groups are merged into `(small groups)`.
    pub min_group_members: u64,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            min_instance_users: DEFAULT_MIN_INSTANCE_USERS,
            min_group_members: DEFAULT_MIN_GROUP_MEMBERS,
        }
    }
}
