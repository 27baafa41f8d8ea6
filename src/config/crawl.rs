//! `[crawl]`: what a crawl fetches, and the bounds on a follow list.

use serde::{Deserialize, Serialize};

use super::{DEFAULT_MAX_ACCOUNTS, DEFAULT_MAX_ACTOR_BYTES, DEFAULT_MAX_PAGES};

/// Crawl settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Crawl {
    /// Walk followers as well as follows.
    pub followers: bool,
    /// Fetch the actor of every account an ActivityPub collection lists only by URI.
    pub fetch_actors: bool,
    /// Stop listing a follow list after this many accounts.
    pub max_accounts: usize,
    /// Stop listing a follow list after this many pages.
    pub max_pages: u32,
    /// Largest actor document read (real ones are a few KiB); a larger one is a fetch error
    /// for that account. Never above `network.max_body_bytes`, which applies too.
    pub max_actor_bytes: u64,
}

impl Default for Crawl {
    fn default() -> Self {
        Crawl {
            followers: false,
            fetch_actors: true,
            max_accounts: DEFAULT_MAX_ACCOUNTS,
            max_pages: DEFAULT_MAX_PAGES,
            max_actor_bytes: DEFAULT_MAX_ACTOR_BYTES,
        }
    }
}
