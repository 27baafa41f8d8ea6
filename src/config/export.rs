//! `[export]`: research export settings.

use serde::{Deserialize, Serialize};

use super::DEFAULT_MIN_INSTANCE_USERS;

/// Research export settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Export {
    /// Instances with fewer NodeInfo users than this (or no known size) are generalised to
    /// "small instance in ASn" in exports.
    pub min_instance_users: u64,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            min_instance_users: DEFAULT_MIN_INSTANCE_USERS,
        }
    }
}
