//! A snapshot as crawled: every seed's lists, every instance met, and who hosts each host.
//!
//! These are the values the crawl and attribution produce and every later stage (metrics,
//! store, reports, exports) reads; they carry no behaviour beyond small constructors.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::account::{Account, FollowList};
use crate::model::attribution::{AttributionSource, HostAttribution};
use crate::model::handle::InstanceHost;

/// A failure kept with the data it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: String,
    pub message: String,
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        Failure {
            kind: e.kind().to_string(),
            message: e.to_string(),
        }
    }
}

/// What became of one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    pub input: String,
    pub handle: Option<String>,
    pub server: Option<InstanceHost>,
    pub actor_uri: Option<String>,
    pub account: Option<Account>,
    pub following: Option<FollowList>,
    pub followers: Option<FollowList>,
    pub error: Option<Failure>,
    /// The input of an earlier seed naming the same actor: this one was not crawled again.
    #[serde(default)]
    pub duplicate_of: Option<String>,
}

impl SeedReport {
    /// A seed about which nothing is known yet.
    pub fn new(input: &str) -> SeedReport {
        SeedReport {
            input: input.to_string(),
            handle: None,
            server: None,
            actor_uri: None,
            account: None,
            following: None,
            followers: None,
            error: None,
            duplicate_of: None,
        }
    }
}

/// What was learnt about one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceReport {
    /// Accounts listed on this instance, over all seeds and lists.
    pub accounts: u64,
    pub nodeinfo: Option<NodeInfo>,
    pub nodeinfo_error: Option<Failure>,
    /// An address the crawler connected to, when it connected.
    pub connected_address: Option<IpAddr>,
}

/// Everything a crawl fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlReport {
    pub tool: String,
    pub started_at: String,
    pub finished_at: String,
    pub seeds: Vec<SeedReport>,
    pub instances: BTreeMap<InstanceHost, InstanceReport>,
    pub requests: u64,
    pub retries: u64,
    /// Why accounts left a seed's complete list since the previous snapshot of the same
    /// seeds (each fetched once; at most `crawl.max_departure_checks`).
    #[serde(default)]
    pub departures: Vec<Departure>,
}

/// Why an account is no longer in a list that listed it in the previous snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Departure {
    /// The account's identity as stored then (handle, actor URI, or an opted-out hash).
    pub account: String,
    /// `moved`, `deleted`, `suspended`, `unfollowed` or `unknown` (the fetch failed, or the
    /// account opted out of crawlers and so is not fetched).
    pub cause: String,
    /// Where a moved account went.
    pub moved_to: Option<String>,
}

/// What an instance says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub schema: String,
    pub software: Option<String>,
    pub version: Option<String>,
    pub users_total: Option<u64>,
    pub users_active_month: Option<u64>,
}

/// A crawl with the attribution of every instance met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub crawl: CrawlReport,
    pub attribution: AttributionSource,
    pub hosts: BTreeMap<String, HostAttribution>,
}
