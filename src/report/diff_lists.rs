//! Why accounts left the view between two snapshots: follow lists whose status changed
//! (complete → hidden, not-exposed, refused, partial or failed, or back), and accounts that
//! left only because every list that listed them can no longer be read whole ("no longer
//! visible"), told apart from accounts that are really gone.
//!
//! Lists are matched by their seed's resolved handle (its input when it never resolved) and
//! direction; accounts by their stored identity (handle, actor URI, or an opted-out
//! account's hash), the same identity the comparing queries use.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::account::{Direction, FollowList, ListStatus};
use crate::model::snapshot::{SeedReport, Snapshot};

/// A follow list whose status differs between the two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListChange {
    /// The seed whose list it is (its handle, or its input when it never resolved).
    pub seed: String,
    /// `following` or `followers`.
    pub direction: String,
    /// `complete`, `hidden`, `not-exposed`, `refused`, `partial`, `failed` or `absent` (the
    /// seed was not crawled in that snapshot, or the direction was not asked for).
    pub from: String,
    pub to: String,
}

impl ListChange {
    /// "the following list of @x became hidden".
    pub fn sentence(&self) -> String {
        format!("the {} list of {} became {}", self.direction, self.seed, self.to)
    }
}

/// (seed, direction) → the list's status word and the accounts it listed.
type Lists = BTreeMap<(String, String), (String, BTreeSet<String>)>;

/// The status of a list in one word.
pub fn status_word(list: Option<&FollowList>, seed: &SeedReport) -> &'static str {
    match list.map(|l| &l.status) {
        Some(ListStatus::Complete) => "complete",
        Some(ListStatus::Hidden { .. }) => "hidden",
        Some(ListStatus::NotExposed { .. }) => "not-exposed",
        Some(ListStatus::Refused { .. }) => "refused",
        Some(ListStatus::Partial { .. }) => "partial",
        None if seed.error.is_some() => "failed",
        None => "absent",
    }
}

/// An account's identity as the comparing queries read it.
pub fn identity(a: &crate::model::account::Account) -> Option<String> {
    a.handle.clone().or_else(|| a.actor_uri.clone())
}

fn lists_of(s: &Snapshot) -> Lists {
    let mut out = Lists::new();
    for seed in s.crawl.seeds.iter().filter(|s| s.duplicate_of.is_none()) {
        let who = seed.handle.clone().unwrap_or_else(|| seed.input.clone());
        for (d, list) in [
            (Direction::Following, seed.following.as_ref()),
            (Direction::Followers, seed.followers.as_ref()),
        ] {
            let word = status_word(list, seed);
            if word == "absent" && d == Direction::Followers {
                continue;
            }
            let accounts = list
                .map(|l| l.accounts.iter().filter_map(identity).collect())
                .unwrap_or_default();
            out.insert((who.clone(), d.segment().to_string()), (word.to_string(), accounts));
        }
    }
    out
}

/// What the two snapshots' lists say about the accounts that left.
#[derive(Debug, Default)]
pub struct Visibility {
    /// Lists whose status changed, seeds in order.
    pub changes: Vec<ListChange>,
    /// Accounts that left the view only because no list that listed them is complete now:
    /// identity → why ("the following list of @x became hidden").
    pub unseen: BTreeMap<String, String>,
}

/// Compare the lists of `a` (earlier) and `b` (later); `left` are the identities listed in
/// `a` and not in `b`.
pub fn compare(a: &Snapshot, b: &Snapshot, left: &BTreeSet<String>) -> Visibility {
    let (la, lb) = (lists_of(a), lists_of(b));
    let mut out = Visibility::default();
    for (key, (from, _)) in &la {
        let to = lb.get(key).map_or("absent", |(w, _)| w.as_str());
        if from != to {
            out.changes.push(ListChange {
                seed: key.0.clone(),
                direction: key.1.clone(),
                from: from.clone(),
                to: to.to_string(),
            });
        }
    }
    for (key, (to, _)) in &lb {
        if !la.contains_key(key) && to != "complete" {
            out.changes.push(ListChange {
                seed: key.0.clone(),
                direction: key.1.clone(),
                from: "absent".into(),
                to: to.clone(),
            });
        }
    }
    for who in left {
        let listing: Vec<&(String, String)> = la
            .iter()
            .filter(|(_, (_, accounts))| accounts.contains(who))
            .map(|(k, _)| k)
            .collect();
        let still_read = listing.iter().any(|k| lb.get(*k).is_some_and(|(w, _)| w == "complete"));
        if still_read || listing.is_empty() {
            continue;
        }
        let key = listing[0];
        let to = lb.get(key).map_or("absent", |(w, _)| w.as_str());
        let why = match la.get(key).map(|(w, _)| w.as_str()) {
            Some(from) if from == to => format!("the {} list of {} is {to}", key.1, key.0),
            _ => format!("the {} list of {} became {to}", key.1, key.0),
        };
        out.unseen.insert(who.clone(), why);
    }
    out
}
