//! Depth: a crawl beyond one hop (`crawl --depth N`). The seeds' lists are depth 1; at depth
//! 2 the accounts they list are expanded (their own lists read), and so on.
//!
//! # Architecture
//! Level by level, in a fixed order (the seeds' order, then each list's): every account met
//! in the lists of the level above is offered to the [`Queue`] once per snapshot (keyed by
//! actor URI, else handle; an account met again by another path, or a seed, is not queued
//! again), as pending, opted out (never expanded: DESIGN §6) or without handle. Candidates are
//! then taken from the queue in order, a group of [`GROUP`] at a time; each is
//! expanded unless a budget cuts it ([`Budget`]), through the seed flow (WebFinger, REST or
//! ActivityPub, the account's own opt-out checked again before any list request). The crawl
//! layer owns no storage: the pipeline hands in the store's queue, so the frontier lives in
//! the database and a killed crawl continues it, replaying the journal's responses.
//! The order is fixed and the budgets count the same in a run and in its resumption
//! ([`crate::net::http::Fetcher::spent`]: every request, robots.txt and NodeInfo included,
//! counted once a group's NodeInfo reads are done), so both end with the same rows; under
//! `--max-requests` the client sends no request past the budget, and a group that needed one
//! is cut whole. Each expanded
//! account's report is packed ([`Reports`]) as soon as it is read: the lists of a crawl that
//! reaches a million accounts wait for the store in a tenth of the memory they take as values.

mod queue;

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

pub use queue::{Item, MemoryQueue, Queue, State, Work};

use super::{seeds, CrawlOptions, Shared};
use crate::error::Result;
use crate::model::account::{key_digest, normal_handle, Account, Cause, KeyDigest, ListStatus};
use crate::model::packed::{Packed, Reports};
use crate::model::snapshot::{DepthReport, SeedReport};

/// Candidates decided at once, at most. The budgets are decided for a group before it is
/// expanded (so they cut at the same place in every run), and the group's accounts are
/// expanded together through the seed flow, queued per host ([`super::SEED_CONCURRENCY`] at
/// once): the larger the group, the less a host that waits for its limiter holds the others
/// back at the group's end. Under `--max-requests` a group is cut to what the budget has left
/// ([`Budget::room`]).
pub const GROUP: usize = 128;
/// The deepest crawl allowed.
pub const MAX_DEPTH: u32 = 4;
/// `--max-accounts` when `--depth` is above 1 and none is given.
pub const DEFAULT_MAX_ACCOUNTS: u64 = 100_000;
/// `--max-requests` when `--depth` is above 1 and none is given.
pub const DEFAULT_MAX_REQUESTS: u64 = 200_000;

/// How deep to crawl and the budgets of the expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthOptions {
    pub depth: u32,
    /// Distinct accounts the lists of every depth name, at most ([`Reached`]): the population
    /// a crawl reaches, whatever its depth.
    pub max_accounts: Option<u64>,
    /// Distinct instances of the expanded accounts at most.
    pub max_hosts: Option<u64>,
    /// Requests of the whole crawl (seeds included), every kind: once the seeds are read, no
    /// request past it is sent; a group of expansions that needs more than is left is cut
    /// whole, and the groups shrink as the budget runs out ([`Budget::room`]).
    pub max_requests: Option<u64>,
}

impl Default for DepthOptions {
    fn default() -> Self {
        DepthOptions {
            depth: 1,
            max_accounts: None,
            max_hosts: None,
            max_requests: None,
        }
    }
}

impl DepthOptions {
    /// `depth` with the budgets given, the safe defaults filling those not given when the
    /// crawl goes beyond one hop.
    pub fn new(depth: u32, max_accounts: Option<u64>, max_hosts: Option<u64>, max_requests: Option<u64>) -> Self {
        let deep = depth > 1;
        DepthOptions {
            depth,
            max_accounts: max_accounts.or(deep.then_some(DEFAULT_MAX_ACCOUNTS)),
            max_hosts,
            max_requests: max_requests.or(deep.then_some(DEFAULT_MAX_REQUESTS)),
        }
    }
}

/// The accounts the crawl has reached (named by a list of any depth), against
/// `--max-accounts`: lists are cut, in the crawl's fixed order (the seeds', then each
/// expanded account's, following before followers, each in its own order), so that no more
/// than the budget of distinct accounts is ever named. An account already reached is always
/// kept (another edge to it); a new one past the budget is dropped and its list marked
/// partial. Without a budget nothing is kept or cut. Each account is kept as the digest of
/// its key ([`key_digest`]): 16 bytes, however long its actor URI.
pub struct Reached {
    max: Option<u64>,
    keys: HashSet<KeyDigest>,
    /// Accounts without a key (neither actor URI nor handle), each counted as new.
    keyless: u64,
}

impl Reached {
    /// Nothing reached yet, under the budget `max`.
    pub fn new(max: Option<u64>) -> Self {
        Reached {
            max,
            keys: HashSet::new(),
            keyless: 0,
        }
    }

    /// Distinct accounts reached so far.
    fn count(&self) -> u64 {
        self.keys.len() as u64 + self.keyless
    }

    /// Whether the budget leaves no room for another account.
    fn full(&self) -> bool {
        self.max.is_some_and(|m| self.count() >= m)
    }

    /// Count `a` as reached if there is room (or it was reached before); whether it is.
    fn admit(&mut self, a: &Account) -> bool {
        match key_of(a).map(|k| key_digest(&k)) {
            Some(k) if self.keys.contains(&k) => true,
            _ if self.full() => false,
            Some(k) => self.keys.insert(k),
            None => {
                self.keyless += 1;
                true
            }
        }
    }

    /// Count the accounts of lists already cut (the seeds', when expanding begins).
    fn note(&mut self, reports: &[SeedReport]) {
        if self.max.is_none() {
            return;
        }
        for r in reports {
            for a in [&r.following, &r.followers]
                .into_iter()
                .flatten()
                .flat_map(|l| &l.accounts)
            {
                self.admit(a);
            }
        }
    }

    /// Count the accounts of `reports`' lists, in order, cutting those past the budget.
    pub fn cut(&mut self, reports: &mut [SeedReport]) {
        let Some(max) = self.max else { return };
        let why = format!("stopped at --max-accounts {max} (distinct accounts reached in all)");
        // The walk of one list already stops at the budget (`crawl.max_accounts` is lowered
        // to it): said as the budget it is.
        let own_cap = format!("stopped at crawl.max_accounts = {max}");
        for r in reports.iter_mut() {
            for list in [&mut r.following, &mut r.followers].into_iter().flatten() {
                let before = list.accounts.len();
                list.accounts.retain(|a| self.admit(a));
                let capped = matches!(&list.status, ListStatus::Partial { kind: Cause::AccountCap, reason } if *reason == own_cap);
                if (list.accounts.len() < before && list.status == ListStatus::Complete) || capped {
                    list.status = ListStatus::partial(Cause::AccountCap, why.clone());
                }
            }
        }
    }
}

/// The budgets as spent so far: the accounts reached, the accounts kept (expanded, their own
/// profile letting crawlers in) and their instances, each with how many kept accounts are on
/// it; and what expansions cost, against `--max-requests`.
struct Budget {
    options: DepthOptions,
    reached: Reached,
    expanded: u64,
    hosts: BTreeMap<String, u64>,
    /// The requests spent before the first expansion, and the seeds they were spent on.
    before: (u64, u64),
    /// Expansions started (the seed flow asked for their lists, or their consent).
    started: u64,
    /// A group asked for more than `--max-requests` had left: nothing is expanded any more.
    overrun: bool,
}

impl Budget {
    /// A budget of `options` with the accounts `reached` so far, before any expansion:
    /// `before` is the requests the seeds spent and how many seeds they were spent on.
    fn new(options: DepthOptions, reached: Reached, before: (u64, u64)) -> Budget {
        Budget {
            options,
            reached,
            expanded: 0,
            hosts: BTreeMap::new(),
            before,
            started: 0,
            overrun: false,
        }
    }

    /// Candidates to take next, `spent` requests so far. Under `--max-requests`, as many as half
    /// the requests left pay for at what an account costs so far (the requests since the
    /// first expansion over the expansions started; before any, the seeds' cost), at least one
    /// and at most [`GROUP`]: the groups shrink as the budget runs out, so that the group
    /// that finds the budget too small (a request it needs refused: [`expand`] cuts the
    /// whole group) is most often a single account. Once the budget is spent or overrun a
    /// whole group is taken, every candidate cut. Decided from the requests counted when the
    /// group before ended (its NodeInfo reads included), so in the same place in a resumption.
    fn room(&self, spent: u64) -> usize {
        let Some(max) = self.options.max_requests else {
            return GROUP;
        };
        if spent >= max || self.overrun {
            return GROUP;
        }
        let cost = match self.started {
            0 => self.before.0.div_ceil(self.before.1.max(1)),
            n => spent.saturating_sub(self.before.0).div_ceil(n),
        };
        let take = (max - spent) / cost.max(1) / 2;
        usize::try_from(take).map_or(GROUP, |n| n.clamp(1, GROUP))
    }

    /// Expand `item` (and count it) or say which budget cuts it; `spent` requests so far.
    /// `--max-accounts` cuts once the accounts reached fill it: an account expanded then
    /// could name no one new.
    fn decide(&mut self, item: &Item, spent: u64) -> State {
        let o = self.options;
        let host = item.host.clone().unwrap_or_default();
        if self.reached.full() {
            return State::CutAccounts;
        }
        if o.max_hosts
            .is_some_and(|m| !self.hosts.contains_key(&host) && self.hosts.len() as u64 >= m)
        {
            return State::CutHosts;
        }
        if self.overrun || o.max_requests.is_some_and(|m| spent >= m) {
            return State::CutRequests;
        }
        self.expanded += 1;
        *self.hosts.entry(host).or_default() += 1;
        State::Expanded
    }

    /// Give back what `item` took: its own profile opted out, so only its consent was checked
    /// (its lists never read). `--max-hosts` counts accounts kept, not consent checks.
    fn refund(&mut self, item: &Item) {
        self.expanded = self.expanded.saturating_sub(1);
        let host = item.host.clone().unwrap_or_default();
        if let Some(n) = self.hosts.get_mut(&host) {
            *n -= 1;
            if *n == 0 {
                self.hosts.remove(&host);
            }
        }
    }
}

/// The key of an account: its actor URI, else its handle in lower case.
fn key_of(a: &Account) -> Option<String> {
    a.actor_uri.clone().or_else(|| a.handle.as_deref().map(normal_handle))
}

/// The seeds, queued so that no path expands them again.
fn seed_items(seeds: &[SeedReport]) -> Vec<Item> {
    seeds
        .iter()
        .map(|s| Item {
            key: s
                .actor_uri
                .clone()
                .or_else(|| s.handle.as_deref().map(normal_handle))
                .unwrap_or_else(|| s.input.clone()),
            depth: 0,
            handle: s.handle.clone(),
            host: s.server.as_ref().map(|h| h.to_string()),
            state: State::Seed,
        })
        .collect()
}

/// Items offered to the queue at once at most (memory stays bounded however long the lists).
const OFFER_CHUNK: usize = 1024;

/// Offer every account listed by `listers` as a candidate of `depth`.
async fn offer_listed(
    queue: &dyn Queue,
    listers: impl Iterator<Item = impl Borrow<SeedReport>>,
    depth: u32,
) -> Result<()> {
    let mut chunk = Vec::with_capacity(OFFER_CHUNK);
    for s in listers {
        let s: &SeedReport = s.borrow();
        for a in [&s.following, &s.followers]
            .into_iter()
            .flatten()
            .flat_map(|l| &l.accounts)
        {
            let Some(key) = key_of(a) else { continue };
            let state = match (a.may_expand(), &a.handle) {
                (false, _) => State::OptedOut,
                (true, None) => State::NoHandle,
                (true, Some(_)) => State::Pending,
            };
            chunk.push(Item {
                key,
                depth,
                handle: a.handle.clone(),
                host: a.server.as_ref().map(|h| h.to_string()),
                state,
            });
            if chunk.len() == OFFER_CHUNK {
                queue.offer(std::mem::take(&mut chunk)).await?;
            }
        }
    }
    queue.offer(chunk).await
}

/// Expand the accounts the seeds' lists reach, level by level down to `options.depth`: the
/// reports of the expanded accounts (each with its depth) and what the budgets did.
///
/// # Errors
/// The queue's (a store error); failures of accounts are kept in their reports.
pub(super) async fn expand(
    shared: &Arc<Shared>,
    seeds: &[SeedReport],
    options: DepthOptions,
    queue: &dyn Queue,
) -> Result<(Reports, DepthReport)> {
    // Packed as each report comes in: a deep crawl's lists hold up to millions of accounts.
    let mut out = Reports::default();
    queue.offer(seed_items(seeds)).await?;
    // The seeds' lists were cut to the budget already (`Reached::cut` in the crawl): this
    // counts them again, cutting nothing.
    let mut reached = Reached::new(options.max_accounts);
    reached.note(seeds);
    // Every request the seeds caused (their instances' NodeInfo included) is counted before
    // the budget is: from here on no request past `--max-requests` is sent.
    shared.instances.settle().await;
    if let Some(max) = options.max_requests {
        shared.fetcher.limit_requests(max);
    }
    let mut budget = Budget::new(options, reached, (shared.fetcher.spent(), seeds.len() as u64));
    // Expanded accounts never send the user's token.
    let no_token = CrawlOptions::default();
    let mut above = 0..0;
    for level in 1..options.depth {
        match level {
            1 => offer_listed(queue, seeds.iter(), level).await?,
            _ => offer_listed(queue, out.range(above.clone()), level).await?,
        }
        let start = out.len();
        let mut after = -1;
        loop {
            let take = budget.room(shared.fetcher.spent());
            let group = queue.next(level, after, take).await?;
            let Some((last, _)) = group.last() else { break };
            after = *last;
            let mut marks: Vec<(String, State)> = Vec::with_capacity(group.len());
            let mut pending: Vec<Item> = group.into_iter().map(|(_, item)| item).collect();
            // An account whose own profile turns out to opt out gives its place back, and the
            // group's accounts a budget cut are decided again (in order) with it.
            while !pending.is_empty() {
                let spent = shared.fetcher.spent();
                let (mut handles, mut kept, mut cut) = (vec![], vec![], vec![]);
                for item in pending {
                    let state = budget.decide(&item, spent);
                    match (state, &item.handle) {
                        (State::Expanded, Some(h)) => {
                            handles.push(h.clone());
                            kept.push(item.clone());
                        }
                        (State::CutAccounts | State::CutHosts, _) => cut.push(item.clone()),
                        _ => {}
                    }
                    match marks.iter_mut().find(|(k, _)| *k == item.key) {
                        Some(m) => m.1 = state,
                        None => marks.push((item.key, state)),
                    }
                }
                if handles.is_empty() {
                    break;
                }
                shared.progress.add_work(handles.len() as u64);
                shared
                    .progress
                    .note(&format!("expanding {} accounts at depth {level}", handles.len()));
                let mut refunded = 0;
                budget.started += handles.len() as u64;
                // Each report is packed as it completes (a group's wait for its slowest
                // member holds them packed), then unpacked in order to be cut and kept.
                let group = seeds::crawl_all_as(shared, &handles, &no_token, Packed::of).await;
                // The group's requests end with the NodeInfo reads of the instances it met.
                shared.instances.settle().await;
                if shared.fetcher.overrun() {
                    // The group asked for more than the budget had left (a request was
                    // refused, none sent): whichever of its accounts were read first, the
                    // whole group is cut, as it is in every run, and nothing is expanded
                    // after it.
                    budget.overrun = true;
                    for item in &kept {
                        budget.refund(item);
                        if let Some(m) = marks.iter_mut().find(|(k, _)| *k == item.key) {
                            m.1 = State::CutRequests;
                        }
                    }
                    break;
                }
                for (packed, item) in group.into_iter().zip(&kept) {
                    let mut r = packed.unpack();
                    drop(packed);
                    budget.reached.cut(std::slice::from_mut(&mut r));
                    if r.account.as_ref().is_some_and(|a| !a.may_expand()) {
                        budget.refund(item);
                        refunded += 1;
                    }
                    r.depth = level;
                    out.push(&r);
                }
                pending = match refunded {
                    0 => vec![],
                    _ => cut,
                };
            }
            queue.mark(marks).await?;
        }
        above = start..out.len();
    }
    let counts = queue.count().await?;
    let n = |s: State| counts.get(&s).copied().unwrap_or(0);
    let report = DepthReport {
        depth: options.depth,
        max_accounts: options.max_accounts,
        max_hosts: options.max_hosts,
        max_requests: options.max_requests,
        expanded: n(State::Expanded),
        cut_by_accounts: n(State::CutAccounts),
        cut_by_hosts: n(State::CutHosts),
        cut_by_requests: n(State::CutRequests),
        opted_out: n(State::OptedOut),
        no_handle: n(State::NoHandle),
    };
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(host: &str) -> Item {
        Item {
            key: format!("k-{host}"),
            depth: 1,
            handle: Some(format!("@a@{host}")),
            host: Some(host.into()),
            state: State::Pending,
        }
    }

    #[test]
    fn budgets_cut_at_their_exact_number_each_under_its_name() {
        let options = DepthOptions::new(2, Some(3), Some(2), Some(100));
        let mut b = Budget::new(options, Reached::new(options.max_accounts), (10, 1));
        let decided: Vec<State> = ["a", "b", "c", "a"]
            .into_iter()
            .map(|h| b.decide(&item(h), 10))
            .collect();
        use State::*;
        assert_eq!(decided, vec![Expanded, Expanded, CutHosts, Expanded]);
        // Three accounts reached fill `--max-accounts 3`: nothing more is expanded.
        let mut listing = report("s", &["p", "q", "r"], ListStatus::Complete);
        b.reached.cut(std::slice::from_mut(&mut listing));
        assert_eq!(b.decide(&item("a"), 10), CutAccounts);
        let options = DepthOptions::new(2, None, None, Some(100));
        let mut r = Budget::new(options, Reached::new(None), (10, 1));
        assert_eq!(r.decide(&item("a"), 99), Expanded);
        assert_eq!(r.decide(&item("a"), 100), CutRequests);
    }

    /// A group is cut to half what `--max-requests` has left at the cost of an account so far:
    /// a seed that cost 10 requests, so 80 left take 4; after 4 expansions that cost 20 (5
    /// each), 70 left take 7; 5 left still take one; none left take a whole group (every one
    /// cut); without the budget, a whole group.
    #[test]
    fn a_group_is_cut_to_the_requests_left() {
        let options = DepthOptions::new(2, None, None, Some(100));
        let mut b = Budget::new(options, Reached::new(None), (10, 1));
        assert_eq!(b.room(20), 4);
        b.started = 4;
        assert_eq!(b.room(30), 7);
        assert_eq!(b.room(95), 1);
        assert_eq!(b.room(100), GROUP);
        b.options.max_requests = Some(100_000);
        assert_eq!(b.room(30), GROUP);
        b.options.max_requests = None;
        assert_eq!(b.room(99), GROUP);
    }

    fn account(user: &str) -> Account {
        Account {
            handle: Some(format!("@{user}@x.example")),
            actor_uri: Some(format!("https://x.example/users/{user}")),
            ..Account::default()
        }
    }

    fn report(input: &str, following: &[&str], status: ListStatus) -> SeedReport {
        let mut r = SeedReport::new(input);
        r.following = Some(crate::model::account::FollowList {
            accounts: following.iter().map(|u| account(u)).collect(),
            ..crate::model::account::FollowList::empty(
                crate::model::account::Direction::Following,
                "mastodon-api",
                None,
                status,
            )
        });
        r
    }

    /// `--max-accounts 4` over two seeds' lists: the first seed's three accounts, then of the
    /// second's only the one already reached and one new; the second list is cut (partial,
    /// saying so), and a list the walk stopped at the budget says the budget too.
    #[test]
    fn lists_are_cut_in_order_to_the_accounts_budget() {
        let mut reports = vec![
            report("a", &["p", "q", "r"], ListStatus::Complete),
            report("b", &["q", "s", "t", "u"], ListStatus::Complete),
            report(
                "c",
                &["p", "v"],
                ListStatus::partial(Cause::AccountCap, "stopped at crawl.max_accounts = 4"),
            ),
        ];
        let mut reached = Reached::new(Some(4));
        reached.cut(&mut reports);
        let names = |r: &SeedReport| -> Vec<String> {
            r.following
                .as_ref()
                .unwrap()
                .accounts
                .iter()
                .map(|a| a.handle.clone().unwrap())
                .collect()
        };
        assert_eq!(names(&reports[0]), ["@p@x.example", "@q@x.example", "@r@x.example"]);
        assert_eq!(names(&reports[1]), ["@q@x.example", "@s@x.example"]);
        assert_eq!(names(&reports[2]), ["@p@x.example"]);
        let why = ListStatus::partial(
            Cause::AccountCap,
            "stopped at --max-accounts 4 (distinct accounts reached in all)",
        );
        assert_eq!(reports[0].following.as_ref().unwrap().status, ListStatus::Complete);
        assert_eq!(reports[1].following.as_ref().unwrap().status, why);
        assert_eq!(reports[2].following.as_ref().unwrap().status, why);
        assert_eq!(reached.count(), 4);
        // No budget: nothing is cut, nothing kept.
        let mut unbounded = Reached::new(None);
        unbounded.cut(&mut reports);
        assert_eq!(unbounded.count(), 0);
        assert_eq!(names(&reports[0]).len(), 3);
    }

    #[test]
    fn deeper_crawls_get_safe_budgets_unless_given() {
        assert_eq!(DepthOptions::new(1, None, None, None), DepthOptions::default());
        let d = DepthOptions::new(2, None, Some(5), None);
        assert_eq!(d.max_accounts, Some(DEFAULT_MAX_ACCOUNTS));
        assert_eq!(d.max_hosts, Some(5));
        assert_eq!(d.max_requests, Some(DEFAULT_MAX_REQUESTS));
        assert_eq!(DepthOptions::new(3, Some(7), None, None).max_accounts, Some(7));
    }
}
