//! Concentration metrics (DESIGN §5): the one implementation, computed once per snapshot.
//!
//! # Architecture
//! [`concentration`] turns a list of bucket weights into every figure of §5 (top-k shares,
//! k50/k75, HHI and its band, entropy and effective number, Gini). [`compute()`] builds, from a
//! [`crate::model::snapshot::Snapshot`], the buckets of every [`Level`] under every [`Weight`] and what
//! could not be attributed at that level ([`LevelMetrics::apart`]), plus the [`Population`]
//! statement. Stores, reports and exports read these values; none re-derives them.
//!
//! # Definitions
//! - Only finite, positive weights are buckets; zero, negative and non-finite weights are
//!   ignored by [`concentration`] (and [`compute()`] never lists a zero-weight bucket).
//! - Shares `s_i = w_i / W`, ranked largest first. `topK` is the sum of the K largest shares
//!   (all of them when there are fewer than K buckets).
//! - `k50`/`k75`: the smallest k whose cumulative share *reaches* 50 % / 75 %, where
//!   "reaches" means `cumulative ≥ target − 1e-9` ([`EPSILON`]), so that 1/2 + 1/4 built from
//!   floating-point shares still reaches 75 %.
//! - `hhi = Σ (100·s_i)²` on 0–10,000, banded by [`Band::of`].
//! - `entropy = −Σ s_i ln s_i` (natural log, nats); `effective = e^entropy`.
//! - `gini` is the Gini coefficient of the bucket weights, over the buckets present:
//!   `G = Σ_i Σ_j |w_i − w_j| / (2 n² mean)`. It measures inequality *between* buckets, so a
//!   monopoly (one bucket) and n equal buckets both have a Gini of 0; HHI and k50 are the
//!   figures that see the monopoly.
//! - No bucket at all (`total` 0): every share, k, HHI, entropy, effective number and Gini is 0
//!   and the band is [`Band::Unconcentrated`]. No figure is ever NaN.

mod compute;
mod names;
pub mod rules;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use compute::{by_host, compute, host_shares, Attributed, HostShares, LevelSums};

/// Tolerance of "reaches" in k50/k75.
pub const EPSILON: f64 = 1e-9;

/// Days within which an account's last post makes it active.
pub const ACTIVE_DAYS: i64 = 90;

/// What accounts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The instance (server host) an account lives on.
    Instance,
    /// The hosting organisation; CDN-fronted hosts in a "behind CDN X" bucket.
    Organisation,
    /// The autonomous system.
    As,
    /// The announced range of the ASN database.
    Range,
    /// The covering /24 (IPv4) or /48 (IPv6).
    Block,
    /// The country of the address, when the database has it.
    Country,
    /// The managed-hosting service named in the CNAME chain.
    Hosting,
}

/// What each account, edge or instance weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weight {
    /// Distinct accounts (the default).
    Accounts,
    /// Follow edges: seed → account, per direction.
    Edges,
    /// Each instance once.
    Instances,
    /// The instance's NodeInfo `usage.users.total`.
    Users,
    /// Distinct accounts whose last post is within [`ACTIVE_DAYS`] of the snapshot's end.
    Active,
}

/// HHI bands of the 2023 US merger guidelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// HHI under 1,000.
    Unconcentrated,
    /// HHI from 1,000 to 1,800 inclusive.
    Moderate,
    /// HHI over 1,800.
    High,
}

impl Band {
    /// The band of an HHI: `< 1000` unconcentrated, `1000..=1800` moderate, `> 1800` high.
    pub fn of(hhi: f64) -> Band {
        if hhi > 1800.0 {
            Band::High
        } else if hhi >= 1000.0 {
            Band::Moderate
        } else {
            Band::Unconcentrated
        }
    }
}

/// One bucket of a level (an instance, an organisation, an AS …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Stable identifier: the host, organisation, `AS13335`, `start-end`, CIDR, country code.
    pub key: String,
    /// What a person reads (e.g. `AS13335 CLOUDFLARENET`).
    pub label: String,
    pub weight: f64,
    pub share: f64,
}

impl Bucket {
    /// Buckets of `ranked` (keys and weights, in the order given), each labelled by its key
    /// and given its share of `total` (0 when the total is not positive).
    pub fn of_ranked(ranked: &[(&str, f64)], total: f64) -> Vec<Bucket> {
        ranked
            .iter()
            .map(|(k, w)| Bucket {
                key: (*k).to_string(),
                label: (*k).to_string(),
                weight: *w,
                share: if total > 0.0 { w / total } else { 0.0 },
            })
            .collect()
    }
}

/// Buckets of the given keys, labels and weights, ranked (weight descending, then key
/// ascending), each given its share of the total, with the level's figures from
/// [`concentration`]: the one ranking of a level, for the metrics, the survey and the export.
/// Buckets of no positive weight are dropped, as `concentration` does not count them.
pub fn rank(entries: impl IntoIterator<Item = (String, String, f64)>) -> (Vec<Bucket>, Concentration) {
    let entries: Vec<(String, String, f64)> = entries.into_iter().filter(|e| e.2 > 0.0).collect();
    let summary = concentration(&entries.iter().map(|e| e.2).collect::<Vec<_>>());
    let mut buckets: Vec<Bucket> = entries
        .into_iter()
        .map(|(key, label, weight)| Bucket {
            share: if summary.total > 0.0 {
                weight / summary.total
            } else {
                0.0
            },
            key,
            label,
            weight,
        })
        .collect();
    buckets.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.key.cmp(&b.key)));
    (buckets, summary)
}

/// The figures of DESIGN §5 for one list of bucket weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concentration {
    /// The sum of the weights, W.
    pub total: f64,
    /// Number of buckets (positive weights).
    pub buckets: usize,
    pub top1: f64,
    pub top3: f64,
    pub top5: f64,
    pub top10: f64,
    /// Smallest number of buckets reaching 50 % (the Nakamoto coefficient).
    pub k50: usize,
    /// Smallest number of buckets reaching 75 %.
    pub k75: usize,
    /// Herfindahl–Hirschman index, 0–10,000.
    pub hhi: f64,
    pub band: Band,
    /// Shannon entropy of the shares, in nats.
    pub entropy: f64,
    /// e^entropy: the number of equal buckets with the same entropy.
    pub effective: f64,
    /// Gini coefficient of the bucket weights, 0–1.
    pub gini: f64,
}

impl Concentration {
    /// The figures of no bucket at all: every number 0, band unconcentrated.
    pub const EMPTY: Concentration = Concentration {
        total: 0.0,
        buckets: 0,
        top1: 0.0,
        top3: 0.0,
        top5: 0.0,
        top10: 0.0,
        k50: 0,
        k75: 0,
        hhi: 0.0,
        band: Band::Unconcentrated,
        entropy: 0.0,
        effective: 0.0,
        gini: 0.0,
    };
}

/// One level under one weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelMetrics {
    pub level: Level,
    pub weight: Weight,
    /// Ranked: weight descending, then key ascending.
    pub buckets: Vec<Bucket>,
    pub summary: Concentration,
    /// Weight not attributable at this level, by reason (e.g. "unresolved", "no AS"): counted
    /// apart, never silently dropped. For [`Weight::Users`], "no nodeinfo" and "no user count"
    /// count instances, since their users are unknown.
    pub apart: BTreeMap<String, f64>,
}

/// Whether what `reason` counted apart under `weight` is a number of instances rather than
/// an amount of the weight: under [`Weight::Users`], instances whose users are unknown
/// ("no nodeinfo", "no user count") are counted, once each.
pub fn apart_counts_instances(weight: Weight, reason: &str) -> bool {
    weight == Weight::Users && [compute::NO_NODEINFO, compute::NO_USER_COUNT].contains(&reason)
}

/// Whether `reason` is one [`by_host`] gives when attribution cannot place a host at a
/// level (not attributed, unresolved, no AS …), rather than one its caller counted apart
/// before attribution.
pub fn apart_by_attribution(reason: &str) -> bool {
    use compute::{AS_LOOKUP_FAILED, NOT_ATTRIBUTED, NOT_MANAGED, NO_AS, NO_COUNTRY, UNRESOLVED};
    [
        NOT_ATTRIBUTED,
        UNRESOLVED,
        NO_AS,
        AS_LOOKUP_FAILED,
        NO_COUNTRY,
        NOT_MANAGED,
    ]
    .contains(&reason)
}

/// Who and what a snapshot counted, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// Seeds as given.
    pub seeds: usize,
    /// Seeds crawled with every list complete.
    pub seeds_complete: usize,
    pub seeds_failed: usize,
    /// Seeds that named an actor another seed already named (crawled once).
    pub seeds_duplicate: usize,
    /// Seeds whose owner opts out of crawlers (lists refused for that reason).
    pub seeds_opted_out: usize,
    /// Follow lists read or attempted, at every depth (as `list_entries`, `edges` and
    /// `accounts` count every depth); the `lists_*` counts below too.
    pub lists: usize,
    pub lists_complete: usize,
    /// Lists hidden by their owner.
    pub lists_hidden: usize,
    /// Accounts hidden or not-exposed lists declare but do not show.
    pub accounts_unseen: u64,
    /// Lists refused (authorized fetch, robots.txt, opted-out owner …).
    pub lists_refused: usize,
    pub lists_partial: usize,
    /// Lists whose server declares a count but publishes no items (Pixelfed, Lemmy).
    pub lists_not_exposed: usize,
    /// Accounts listed, counting every appearance in every list.
    pub list_entries: usize,
    /// Distinct follow edges (seed → account, per direction).
    pub edges: usize,
    /// Distinct accounts (by actor URI, else handle).
    pub accounts: usize,
    pub accounts_without_server: usize,
    /// Accounts that opt out of crawlers: counted in aggregates, never listed as rows.
    pub accounts_opted_out: usize,
    pub accounts_active: usize,
    pub accounts_inactive: usize,
    pub accounts_activity_unknown: usize,
    /// Accounts whose actor could not be fetched.
    pub accounts_fetch_failed: usize,
    /// Instances holding at least one counted account.
    pub instances: usize,
    pub instances_without_nodeinfo: usize,
    /// Instances whose name resolved to no address.
    pub instances_unresolved: usize,
    /// Instances with no attribution at all in the snapshot.
    pub instances_not_attributed: usize,
    /// The lists and list entries of each depth, in order (depth 1: the seeds' lists; depth
    /// 2: the lists of the accounts those list …); empty for a crawl of one hop, where every
    /// list is the seeds'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_depth: Vec<DepthLists>,
}

/// The lists of one depth of a crawl ([`Population::by_depth`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepthLists {
    /// 1 for the seeds' lists, 2 for those of the accounts they list, …
    pub depth: u32,
    /// Lists read or attempted at this depth.
    pub lists: usize,
    pub lists_complete: usize,
    /// Accounts these lists name, every appearance counted.
    pub list_entries: usize,
}

/// The start of the figure names of one depth ([`Population::figures`]): `depth2_lists` …
pub const DEPTH_PREFIX: &str = "depth";

impl Population {
    /// Every figure as a name and a number, one each, those of each depth named
    /// `depth2_lists`, `depth2_list_entries` … ([`DEPTH_PREFIX`]): how the store and the
    /// export write the population, one row per figure.
    pub fn figures(&self) -> Vec<(String, serde_json::Value)> {
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::to_value(self) else {
            return vec![];
        };
        if let Some(serde_json::Value::Array(depths)) = fields.remove("by_depth") {
            for d in depths {
                let serde_json::Value::Object(d) = d else { continue };
                let depth = d.get("depth").and_then(serde_json::Value::as_u64).unwrap_or(0);
                for (k, v) in d.into_iter().filter(|(k, _)| k != "depth") {
                    fields.insert(format!("{DEPTH_PREFIX}{depth}_{k}"), v);
                }
            }
        }
        fields.into_iter().collect()
    }

    /// The share of accounts that hidden or not-exposed lists declare but do not show:
    /// `accounts_unseen / (accounts_unseen + accounts)`, 0 when both are 0.
    pub fn unseen_share(&self) -> f64 {
        let all = self.accounts_unseen as f64 + self.accounts as f64;
        if all > 0.0 {
            self.accounts_unseen as f64 / all
        } else {
            0.0
        }
    }
}

/// All metrics of one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMetrics {
    pub population: Population,
    /// Every level × every weight, in [`Level::ALL`] × [`Weight::ALL`] order.
    pub levels: Vec<LevelMetrics>,
}

impl SnapshotMetrics {
    /// The metrics of one level under one weight.
    pub fn get(&self, level: Level, weight: Weight) -> Option<&LevelMetrics> {
        self.levels.iter().find(|l| l.level == level && l.weight == weight)
    }
}

/// Every figure of DESIGN §5 for `weights` (in any order); see the module docs for the
/// definitions and the values of an empty input.
pub fn concentration(weights: &[f64]) -> Concentration {
    let mut w: Vec<f64> = weights.iter().copied().filter(|x| x.is_finite() && *x > 0.0).collect();
    w.sort_by(|a, b| b.total_cmp(a));
    let total = sum(w.iter().copied());
    if w.is_empty() || !total.is_finite() {
        return Concentration::EMPTY;
    }
    let shares: Vec<f64> = w.iter().map(|x| x / total).collect();
    let top = |k: usize| sum(shares.iter().take(k).copied());
    let hhi = sum(shares.iter().map(|s| (100.0 * s).powi(2)));
    // 0 − Σ, not −Σ: a level of one bucket has entropy +0, never −0.
    let entropy = (0.0 - sum(shares.iter().map(|s| s * s.ln()))).max(0.0);
    Concentration {
        total,
        buckets: w.len(),
        top1: top(1),
        top3: top(3),
        top5: top(5),
        top10: top(10),
        k50: k_to_reach(&shares, 0.5),
        k75: k_to_reach(&shares, 0.75),
        hhi,
        band: Band::of(hhi),
        entropy,
        effective: entropy.exp(),
        gini: gini(&w, total),
    }
}

/// The sum of `values`, +0 when there are none or they cancel: `Iterator::sum` of floats
/// starts from −0, which a report would print as `-0.0`. Every figure summed from floats
/// goes through here.
pub fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |a, b| a + b)
}

/// Smallest k whose first k `shares` (ranked largest first) reach `target` (0–1) within
/// [`EPSILON`]; all of them when they never do.
pub fn k_to_reach(shares: &[f64], target: f64) -> usize {
    let mut sum = 0.0;
    for (i, s) in shares.iter().enumerate() {
        sum += s;
        if sum >= target - EPSILON {
            return i + 1;
        }
    }
    shares.len()
}

/// Gini of positive weights sorted descending, with their `total`:
/// `G = Σ_i (2i − n − 1)·x_(i) / (n·W)` over the ascending order x_(1) ≤ … ≤ x_(n).
fn gini(descending: &[f64], total: f64) -> f64 {
    let n = descending.len() as f64;
    let weighted = sum(descending
        .iter()
        .rev()
        .enumerate()
        .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n - 1.0) * x));
    (weighted / (n * total)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests;
