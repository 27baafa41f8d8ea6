//! `[crawl]`: what a crawl fetches, and the bounds on a follow list.

use serde::{Deserialize, Serialize};

use super::{DEFAULT_MAX_ACCOUNTS, DEFAULT_MAX_ACTOR_BYTES, DEFAULT_MAX_ACTOR_FETCHES, DEFAULT_MAX_PAGES};

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
    /// Stop listing a follow list once it has named this many accounts only by actor URI
    /// (each needs its actor fetched to be known).
    pub max_actor_fetches: usize,
    /// Stop listing a follow list after this many pages.
    pub max_pages: u32,
    /// Largest actor document read (real ones are a few KiB); a larger one is a fetch error
    /// for that account. Never above `network.max_body_bytes`, which applies too.
    pub max_actor_bytes: u64,
    /// Accounts that left a seed's complete list since the previous snapshot of the same
    /// seeds are fetched once each to learn why (moved, deleted, unfollowed); at most this
    /// many per crawl (0: never). The others count as "not checked", and the crawl says so.
    pub max_departure_checks: usize,
    /// An interrupted crawl is continued by the same command only within this many hours of
    /// its start (0: never without `--resume`); an older one is given up, so one snapshot
    /// never mixes the follows of two weekly runs.
    pub resume_within_hours: u64,
}

/// Default `crawl.resume_within_hours`.
pub const DEFAULT_RESUME_WITHIN_HOURS: u64 = 24;

/// Default `crawl.max_departure_checks`.
pub const DEFAULT_MAX_DEPARTURE_CHECKS: usize = 200;

impl Default for Crawl {
    fn default() -> Self {
        Crawl {
            followers: false,
            fetch_actors: true,
            max_accounts: DEFAULT_MAX_ACCOUNTS,
            max_actor_fetches: DEFAULT_MAX_ACTOR_FETCHES,
            max_pages: DEFAULT_MAX_PAGES,
            max_actor_bytes: DEFAULT_MAX_ACTOR_BYTES,
            max_departure_checks: DEFAULT_MAX_DEPARTURE_CHECKS,
            resume_within_hours: DEFAULT_RESUME_WITHIN_HOURS,
        }
    }
}
