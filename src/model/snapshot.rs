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
use crate::model::packed::Reports;

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
    /// 0 for a seed; for an account expanded by a deeper crawl, how many lists away from a
    /// seed it was first listed (1: in a seed's list).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
            depth: 0,
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
    /// Accounts expanded beyond the seeds (a crawl deeper than 1): each account's lists read
    /// once, in the order they were reached; `depth` says how far from a seed it was listed.
    /// Kept packed ([`Reports`]): a deep crawl's lists hold up to millions of accounts.
    #[serde(default, skip_serializing_if = "Reports::is_empty")]
    pub expanded: Reports,
    /// How deep the crawl went and what its budgets cut (`None` for a depth-1 crawl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<DepthReport>,
    /// Why accounts left a seed's complete list since the previous snapshot of the same
    /// seeds (each fetched once; at most `crawl.max_departure_checks`).
    #[serde(default)]
    pub departures: Vec<Departure>,
}

impl CrawlReport {
    /// Every report, the seeds' then the expanded accounts' (each unpacked as it is reached):
    /// the order they are stored and counted in.
    pub fn all(&self) -> impl Iterator<Item = std::borrow::Cow<'_, SeedReport>> + '_ {
        crate::model::packed::all(&self.seeds, &self.expanded)
    }

    /// Every seed given failed, so nothing was measured: such a crawl is stored `failed`
    /// (never a baseline for a trend, a comparison or a rule).
    /// (A seed named twice is one seed: its repetitions, failed or not, are not read.)
    pub fn no_seed_read(&self) -> bool {
        let mut given = self.seeds.iter().filter(|s| s.duplicate_of.is_none()).peekable();
        given.peek().is_some() && given.all(|s| s.error.is_some())
    }
}

/// What a crawl deeper than 1 did: its depth, its budgets and what they cut.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DepthReport {
    /// `--depth`: 1 lists the seeds' follows, 2 also the follows of the accounts they list …
    pub depth: u32,
    /// `--max-accounts`: accounts expanded (lists read) beyond the seeds at most.
    pub max_accounts: Option<u64>,
    /// `--max-hosts`: distinct instances the expanded accounts live on at most.
    pub max_hosts: Option<u64>,
    /// `--max-requests`: requests of the whole crawl before expanding stops.
    pub max_requests: Option<u64>,
    /// Accounts expanded beyond the seeds.
    pub expanded: u64,
    /// Accounts left unexpanded because of each budget.
    pub cut_by_accounts: u64,
    pub cut_by_hosts: u64,
    pub cut_by_requests: u64,
    /// Accounts never expanded because they opted out of crawlers.
    pub opted_out: u64,
    /// Accounts not expanded because no handle is known for them (nothing to resolve).
    pub no_handle: u64,
}

impl DepthReport {
    /// Accounts left unexpanded because of any budget.
    pub fn cut(&self) -> u64 {
        self.cut_by_accounts + self.cut_by_hosts + self.cut_by_requests
    }
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
    /// For an account whose own actor, fetched to learn why it left, says it opts out of
    /// crawlers now: its actor URI and handle as stored before, so the store can move every
    /// earlier row of it to its keyed hash. Never serialised: it names the account.
    #[serde(skip)]
    pub opted_out_since: Option<(Option<String>, Option<String>)>,
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

impl NodeInfo {
    /// The document with its user counts kept only when plausible: none above `max`
    /// (`instances.max_users`), `activeMonth` not above `total`. An instance with an
    /// implausible count keeps neither and is counted apart under the `users` weights, as the
    /// `instances` survey does: one hostile server's 2^64 − 1 users would otherwise outweigh
    /// every other instance (and overflow what the database stores).
    pub fn plausible(mut self, max: u64) -> NodeInfo {
        let above = |n: Option<u64>| n.is_some_and(|n| n > max);
        let active_above_total = matches!((self.users_total, self.users_active_month), (Some(t), Some(a)) if a > t);
        if above(self.users_total) || above(self.users_active_month) || active_above_total {
            self.users_total = None;
            self.users_active_month = None;
        }
        self
    }
}

/// A crawl with the attribution of every instance met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub crawl: CrawlReport,
    pub attribution: AttributionSource,
    pub hosts: BTreeMap<String, HostAttribution>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crawl(seeds: Vec<SeedReport>) -> CrawlReport {
        serde_json::from_value::<CrawlReport>(serde_json::json!({
            "tool": "t", "started_at": "", "finished_at": "", "seeds": [], "instances": {},
            "requests": 0, "retries": 0
        }))
        .map(|mut c| {
            c.seeds = seeds;
            c
        })
        .unwrap()
    }

    fn failed(input: &str) -> SeedReport {
        let mut s = SeedReport::new(input);
        s.error = Some(Failure {
            kind: "dns".into(),
            message: "no".into(),
        });
        s
    }

    /// A seed named twice is one seed: a failed seed and its repetition read nothing (an
    /// outside trial had such a crawl stored complete, and taken as the baseline).
    #[test]
    fn no_seed_read_counts_a_repeated_seed_once() {
        let mut again = SeedReport::new("@z@x.example");
        again.duplicate_of = Some("z@x.example".into());
        assert!(crawl(vec![failed("z@x.example"), again.clone()]).no_seed_read());
        assert!(crawl(vec![failed("z@x.example")]).no_seed_read());
        assert!(!crawl(vec![failed("z@x.example"), SeedReport::new("y@x.example")]).no_seed_read());
        assert!(!crawl(vec![]).no_seed_read());
        assert!(!crawl(vec![again]).no_seed_read());
    }
}
