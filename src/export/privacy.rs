//! What an export may show of a snapshot: pseudonyms instead of identities, small instances
//! generalised to their AS, opted-out accounts only in counts.

use std::collections::{BTreeMap, BTreeSet};

use super::pseudonym::Pseudonymiser;
use super::table::Value;
use crate::model::account::Account;
use crate::model::snapshot::Snapshot;

/// Bucket of small instances whose AS is unknown.
pub const SMALL_UNKNOWN_AS: &str = "small instance, AS unknown";

/// The bucket of a small instance in AS `asn`.
pub fn small_in(asn: u32) -> String {
    format!("small instance in AS{asn}")
}

/// How one snapshot is shown.
pub struct Privacy<'a> {
    keys: &'a Pseudonymiser,
    include_handles: bool,
    /// Hosts with at least the minimum of NodeInfo users: shown as they are.
    large: BTreeSet<String>,
    /// Every other host the snapshot attributed → its generalised name.
    small: BTreeMap<String, String>,
}

impl<'a> Privacy<'a> {
    /// The view of `snapshot`: instances with fewer than `min_users` NodeInfo users, or of
    /// unknown size, are small.
    pub fn new(keys: &'a Pseudonymiser, include_handles: bool, min_users: u64, snapshot: &Snapshot) -> Privacy<'a> {
        let large = snapshot
            .crawl
            .instances
            .iter()
            .filter(|(_, r)| {
                r.nodeinfo
                    .as_ref()
                    .and_then(|n| n.users_total)
                    .is_some_and(|u| u >= min_users)
            })
            .map(|(h, _)| h.to_string())
            .collect::<BTreeSet<String>>();
        let small = snapshot
            .hosts
            .keys()
            .filter(|h| !large.contains(*h))
            .map(|h| {
                let bucket = as_of(snapshot, h).map_or_else(|| SMALL_UNKNOWN_AS.to_string(), small_in);
                (h.clone(), bucket)
            })
            .collect();
        Privacy {
            keys,
            include_handles,
            large,
            small,
        }
    }

    /// How `host` appears: itself when large, else its generalised bucket (a host of unknown
    /// size or AS is `small instance, AS unknown`).
    pub fn instance(&self, host: &str) -> String {
        if self.large.contains(host) {
            return host.to_string();
        }
        match self.small.get(host) {
            Some(bucket) => bucket.clone(),
            None => SMALL_UNKNOWN_AS.to_string(),
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

/// A handle as identities hold it: lower case, no leading `@`.
pub fn normal_handle(handle: &str) -> String {
    handle.trim_start_matches('@').to_lowercase()
}

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
