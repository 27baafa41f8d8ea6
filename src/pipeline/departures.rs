//! Before a snapshot is stored: which accounts left a seed's complete list since the previous
//! complete snapshot of the same seeds, and why ([`crate::crawl::departures`] fetches each
//! once, at most `crawl.max_departure_checks`).
//!
//! Accounts are compared by their stored identity (handle, else actor URI, else an opted-out
//! account's keyed hash, [`crate::store::optout`]), so an account that opted out is matched
//! without being named, and never fetched: its cause is `unknown`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::crawl::departures::{self, Leaver};
use crate::error::Result;
use crate::model::account::{opted_out_target, unseen_target, Account, Direction, FollowList, ListStatus};
use crate::model::snapshot::{Departure, SeedReport, Snapshot};
use crate::net::progress::{notice, Progress};
use crate::store::optout::{OptOut, PREFIX};
use crate::store::{Status, Store};

use super::Context;

/// (seed, direction) → whether the list was read whole, and its accounts.
type Lists<'a> = BTreeMap<(String, &'static str), (bool, Vec<&'a Account>)>;

fn seed_key(s: &SeedReport) -> String {
    s.handle.clone().unwrap_or_else(|| s.input.clone())
}

fn lists(snap: &Snapshot) -> Lists<'_> {
    let mut out = Lists::new();
    for seed in snap.crawl.seeds.iter().filter(|s| s.duplicate_of.is_none()) {
        for (d, list) in [
            (Direction::Following, &seed.following),
            (Direction::Followers, &seed.followers),
        ] {
            if let Some(l) = list {
                out.insert(
                    (seed_key(seed), d.segment()),
                    (complete(l), l.accounts.iter().collect()),
                );
            }
        }
    }
    out
}

fn complete(l: &FollowList) -> bool {
    l.status == ListStatus::Complete
}

/// An account's identity as the store keeps it.
fn identity(opt_out: &OptOut, a: &Account) -> Option<String> {
    let r = opt_out.redact(a);
    r.handle.clone().or_else(|| r.actor_uri.clone())
}

/// The previous complete snapshot crawling the same seed accounts as `snap`.
fn previous(store: &Store, snap: &Snapshot) -> Result<Option<i64>> {
    let seeds: BTreeSet<String> = snap
        .crawl
        .seeds
        .iter()
        .filter(|s| s.duplicate_of.is_none())
        .map(seed_key)
        .collect();
    for info in store.list()?.iter().rev() {
        if info.status == Status::Complete.as_str() && store.seed_accounts(info.id)? == seeds {
            return Ok(Some(info.id));
        }
    }
    Ok(None)
}

/// The departures of `snap` against the previous snapshot of its seeds in the database at
/// `db` (none when there is no such snapshot).
///
/// # Errors
/// Store errors.
pub async fn learn(ctx: &Context, db: &Path, snap: &Snapshot, quiet: bool) -> Result<Vec<Departure>> {
    let limit = ctx.config.crawl.max_departure_checks;
    if limit == 0 {
        return Ok(vec![]);
    }
    let store = Store::open_read_only(db)?;
    let Some(prev) = previous(&store, snap)? else {
        return Ok(vec![]);
    };
    let before = store.load(prev)?;
    drop(store);
    let opt_out = OptOut::of_database(db)?;
    let now = lists(snap);
    let present: BTreeMap<String, &Account> = now
        .values()
        .flat_map(|(_, accounts)| accounts.iter())
        .filter_map(|a| Some((identity(&opt_out, a)?, *a)))
        .collect();
    // An account that opted out since the previous snapshot is still there: that snapshot
    // named it (the store moves it to the hash when this one is saved); never fetched.
    let named_then: BTreeSet<&str> = now
        .values()
        .flat_map(|(_, accounts)| accounts.iter())
        .filter(|a| !a.may_expand())
        .flat_map(|a| [a.handle.as_deref(), a.actor_uri.as_deref()])
        .flatten()
        .collect();
    let mut leavers: BTreeMap<String, Leaver> = BTreeMap::new();
    for (key, (was_complete, accounts)) in lists(&before) {
        let still_complete = now.get(&key).is_some_and(|(c, _)| *c);
        if !(was_complete && still_complete) {
            continue;
        }
        for a in accounts {
            let Some(id) = a.handle.clone().or_else(|| a.actor_uri.clone()) else {
                continue;
            };
            if present.contains_key(&id) || named_then.contains(id.as_str()) {
                continue;
            }
            let fetchable = !id.starts_with(PREFIX);
            leavers.entry(id.clone()).or_insert(Leaver {
                account: id,
                actor_uri: a.actor_uri.clone().filter(|_| fetchable),
            });
        }
    }
    let mut leavers: Vec<Leaver> = leavers.into_values().collect();
    if leavers.len() > limit {
        notice(&format!(
            "{} accounts left the lists since snapshot {prev}; checking why for {limit} of them only (crawl.max_departure_checks)",
            leavers.len()
        ));
        leavers.truncate(limit);
    }
    let progress = Progress::new(0, quiet);
    let mut found = departures::check(&ctx.fetcher, leavers, &progress).await;
    progress.finish();
    // A move's target as the lists name it now (its handle), when it is listed and lets
    // crawlers in; else its instance only: the departed account's server cannot vouch for
    // another account's consent (a target the lists do not hold may have opted out).
    let by_uri: BTreeMap<&str, String> = present
        .iter()
        .filter_map(|(id, a)| Some((a.actor_uri.as_deref()?, id.clone())))
        .collect();
    for d in &mut found {
        // Its own actor says it opts out now: stored as its keyed hash, its move (if any) as
        // the target's instance, as any opted-out account ([`OptOut::hashed`]); the store
        // moves the earlier rows that named it to the same hash.
        if let Some((actor_uri, handle)) = &d.opted_out_since {
            let kept = opt_out.hashed(&Account {
                actor_uri: actor_uri.clone(),
                handle: handle.clone(),
                moved_to: d.moved_to.take(),
                ..Account::default()
            });
            d.account = kept.actor_uri.unwrap_or_else(|| PREFIX.into());
            d.moved_to = kept.moved_to;
            continue;
        }
        let Some(target) = d.moved_to.take() else { continue };
        d.moved_to = Some(match by_uri.get(target.as_str()) {
            Some(to) if to.starts_with(PREFIX) => opted_out_target(&target),
            Some(to) => to.clone(),
            None => unseen_target(&target),
        });
    }
    Ok(found)
}
