//! What an export may show of a snapshot: pseudonyms instead of identities, small instances
//! generalised to their AS, groups under the minimum size merged, opted-out accounts only in
//! counts.
//!
//! One minimum group size holds for every table and every level: a group is published under
//! its own name only when it holds at least `min_members` distinct accounts and at least
//! `min_users` NodeInfo users (instances of unknown size count none). An instance under it is
//! generalised to its AS (`small instance in AS<n>`); such an AS group under it again is merged
//! into [`SMALL_GROUPS`]. [`super::measures`] applies the same rule to the buckets of every
//! level of the metrics; at the range and block levels, a bucket that holds no large instance
//! is merged too, so no range or /24 of a small instance is named.

use std::collections::{BTreeMap, BTreeSet};

use super::pseudonym::Pseudonymiser;
use super::table::Value;
use crate::model::account::Account;
use crate::model::snapshot::Snapshot;

/// Bucket of small instances whose AS is unknown.
pub const SMALL_UNKNOWN_AS: &str = "small instance, AS unknown";

/// The one bucket (per snapshot, per level) of every group under the minimum size.
pub const SMALL_GROUPS: &str = "(small groups)";

/// The minimum group size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinGroup {
    /// Distinct accounts.
    pub members: u64,
    /// NodeInfo users.
    pub users: u64,
}

impl MinGroup {
    /// Whether a group of `members` accounts and `users` users may be published by name.
    pub fn admits(self, members: f64, users: f64) -> bool {
        // Weights may be split between buckets (address policy `split`): a fraction short of
        // the minimum by rounding alone still counts.
        members + 1e-9 >= self.members as f64 && users + 1e-9 >= self.users as f64
    }
}

/// The bucket of a small instance in AS `asn`.
pub fn small_in(asn: u32) -> String {
    format!("small instance in AS{asn}")
}

/// How one snapshot is shown.
pub struct Privacy<'a> {
    keys: &'a Pseudonymiser,
    include_handles: bool,
    precise: bool,
    min: MinGroup,
    /// Hosts with at least the minimum of NodeInfo users: shown as they are.
    large: BTreeSet<String>,
    /// Every other host the snapshot attributed → its generalised name.
    small: BTreeMap<String, String>,
    /// The range and /24 (/48) bucket keys of the metrics that hold a large host: the only
    /// ones published by name (any other would locate small instances alone).
    places: BTreeSet<String>,
}

impl<'a> Privacy<'a> {
    /// The view of `snapshot`, whose hosts serve `accounts` distinct accounts each: an
    /// instance with fewer than `min.users` NodeInfo users (or of unknown size) or fewer than
    /// `min.members` accounts is small, generalised to its AS; an AS group under the minimum
    /// is merged into [`SMALL_GROUPS`].
    pub fn new(
        keys: &'a Pseudonymiser,
        include_handles: bool,
        min: MinGroup,
        snapshot: &Snapshot,
        accounts: &BTreeMap<String, u64>,
    ) -> Privacy<'a> {
        let users = |h: &str| -> u64 {
            snapshot
                .crawl
                .instances
                .get(&crate::model::handle::InstanceHost::new(h))
                .and_then(|r| r.nodeinfo.as_ref())
                .and_then(|n| n.users_total)
                .unwrap_or(0)
        };
        let members = |h: &str| accounts.get(h).copied().unwrap_or(0);
        let large = snapshot
            .crawl
            .instances
            .keys()
            .map(|h| h.to_string())
            .filter(|h| min.admits(members(h) as f64, users(h) as f64))
            .collect::<BTreeSet<String>>();
        let mut all: BTreeSet<&str> = snapshot.hosts.keys().map(String::as_str).collect();
        all.extend(accounts.keys().map(String::as_str));
        let reported: Vec<String> = snapshot.crawl.instances.keys().map(|h| h.to_string()).collect();
        all.extend(reported.iter().map(String::as_str));
        let mut small: BTreeMap<String, String> = all
            .into_iter()
            .filter(|h| !large.contains(*h))
            .map(str::to_string)
            .map(|h| {
                let bucket = as_of(snapshot, &h).map_or_else(|| SMALL_UNKNOWN_AS.to_string(), small_in);
                (h, bucket)
            })
            .collect();
        let mut size: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (h, bucket) in &small {
            let s = size.entry(bucket.clone()).or_default();
            s.0 = s.0.saturating_add(members(h));
            s.1 = s.1.saturating_add(users(h));
        }
        for bucket in small.values_mut() {
            let (m, u) = size[bucket.as_str()];
            if !min.admits(m as f64, u as f64) {
                *bucket = SMALL_GROUPS.to_string();
            }
        }
        let places = large
            .iter()
            .filter_map(|h| snapshot.hosts.get(h))
            .flat_map(|h| &h.addresses)
            .flat_map(|a| {
                let range = a.range_start.zip(a.range_end).map(|(s, e)| format!("{s}-{e}"));
                range.into_iter().chain([a.cover.to_string()])
            })
            .collect();
        Privacy {
            keys,
            include_handles,
            precise: false,
            min,
            large,
            small,
            places,
        }
    }

    /// Whether a bucket key of the range or block level (`127.1.0.0-127.1.255.255`,
    /// `127.1.0.0/24`) holds a large instance and may be published by name; any other is
    /// merged into [`SMALL_GROUPS`], whatever its size.
    pub fn shows_place(&self, key: &str) -> bool {
        self.places.contains(key)
    }

    /// This view with exact per-account counts and days (`--precise`).
    pub fn with_precise(self, precise: bool) -> Privacy<'a> {
        Privacy { precise, ..self }
    }

    /// A per-account count as exported: exact with `--precise`, else the lower bound of its
    /// band (0; 1–9 → 1; 10–99 → 10; 100–999 → 100; 1000 or more → 1000).
    pub fn account_count(&self, n: Option<u64>) -> Value {
        let Some(n) = n else { return Value::Null };
        let n = n.min(crate::model::account::MAX_COUNT);
        let shown = if self.precise {
            n
        } else {
            match n {
                0 => 0,
                1..=9 => 1,
                10..=99 => 10,
                100..=999 => 100,
                _ => 1000,
            }
        };
        Value::Int(i64::try_from(shown).unwrap_or(i64::MAX))
    }

    /// When an account last posted, as exported: the day (or time) with `--precise`, else its
    /// ISO week (`2026-W47`); null when it is not a date.
    pub fn last_active(&self, when: Option<&str>) -> Value {
        let Some(t) = when.filter(|t| crate::model::time::is_date(t)) else {
            return Value::Null;
        };
        if self.precise {
            Value::Text(t.to_string())
        } else {
            crate::model::time::iso_week(t).into()
        }
    }

    /// An account's `bot` flag as exported: only with `--precise` (beside its instance it
    /// singles an account out); by default null, the bots counted per instance instead.
    pub fn bot(&self, bot: Option<bool>) -> Value {
        match bot {
            Some(b) if self.precise => Value::Bool(b),
            _ => Value::Null,
        }
    }

    /// The minimum group size.
    pub fn min_group(&self) -> MinGroup {
        self.min
    }

    /// How `host` appears: itself when large, else its generalised bucket (a host of unknown
    /// size or AS is `small instance, AS unknown`).
    pub fn instance(&self, host: &str) -> String {
        if self.large.contains(host) {
            return host.to_string();
        }
        match self.small.get(host) {
            Some(bucket) => bucket.clone(),
            // Not attributed (no address): no AS to group it under.
            None => SMALL_GROUPS.to_string(),
        }
    }

    /// Whether handles are shown (`--include-handles`).
    pub fn includes_handles(&self) -> bool {
        self.include_handles
    }

    /// Whether `host` is generalised.
    pub fn is_small(&self, host: &str) -> bool {
        !self.large.contains(host)
    }

    /// The pseudonym of an account identity (actor URI, else handle).
    pub fn account(&self, identity: &str) -> String {
        self.keys.pseudonym("account", identity)
    }

    /// `value` itself with --include-handles, else its pseudonym in `domain`.
    pub fn identifying(&self, domain: &str, value: Option<&str>) -> Value {
        match value {
            None => Value::Null,
            Some(v) if self.include_handles => Value::Text(v.to_string()),
            Some(v) => Value::Text(self.keys.pseudonym(domain, v)),
        }
    }

    /// An account reference (`moved_to`, a seed): the text with --include-handles, else the
    /// account pseudonym, so it joins `accounts.account`.
    pub fn account_ref(&self, value: Option<&str>) -> Value {
        match value {
            None => Value::Null,
            Some(v) if self.include_handles => Value::Text(v.to_string()),
            Some(v) => Value::Text(self.account(v)),
        }
    }

    /// Free text that may name accounts or hosts (error messages): only with --include-handles.
    pub fn free_text(&self, value: Option<&str>) -> Value {
        match value {
            Some(v) if self.include_handles => Value::Text(v.to_string()),
            _ => Value::Null,
        }
    }

    /// An order of the members of a generalised instance that says nothing about their names.
    pub fn member_order(&self, host: &str) -> String {
        self.keys.pseudonym("member", host)
    }
}

/// The identity of an account: its actor URI, else its handle (lower case, no leading `@`),
/// as the metrics count distinct accounts.
pub fn identity(a: &Account) -> Option<String> {
    identity_of(a.actor_uri.as_deref(), a.handle.as_deref())
}

/// The identity of an actor URI and handle, as [`identity`].
pub fn identity_of(actor_uri: Option<&str>, handle: Option<&str>) -> Option<String> {
    actor_uri.map(str::to_string).or_else(|| handle.map(normal_handle))
}

pub use crate::model::account::normal_handle;

/// The AS a host is generalised under: that of the address connected to, else of the first
/// address with one.
fn as_of(snapshot: &Snapshot, host: &str) -> Option<u32> {
    let h = snapshot.hosts.get(host)?;
    let connected = h
        .addresses
        .iter()
        .find(|a| Some(a.ip) == h.connected)
        .and_then(|a| a.asn);
    connected.or_else(|| h.addresses.iter().find_map(|a| a.asn))
}
