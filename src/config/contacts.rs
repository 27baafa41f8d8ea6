//! `[contacts]`: how far `whohosts contacts` asks the servers of a contact book.

use serde::{Deserialize, Serialize};

use super::DEFAULT_MAX_LOOKUPS_PER_DOMAIN;

/// Contact-book settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Contacts {
    /// Fediverse contacts of one domain asked by WebFinger in one run: those beyond are not
    /// asked, and are counted on the instance the domain's asked contacts were found on.
    pub max_lookups_per_domain: usize,
}

impl Default for Contacts {
    fn default() -> Self {
        Contacts {
            max_lookups_per_domain: DEFAULT_MAX_LOOKUPS_PER_DOMAIN,
        }
    }
}
