//! One answer per account in a snapshot: an opt-out seen anywhere wins everywhere (DESIGN §6).
//!
//! An account can be seen several times in one crawl: in lists served by other instances
//! (each from its own cached copy, maybe older than the owner's choice), in its home's lists,
//! and, when a deeper crawl expands it, through its own profile. [`carry`] gives every list
//! row of an account what decides its consent: its profile when the crawl read it (a seed's,
//! an expanded account's: the owner's word, freshest), else any copy that opts out (a crawler
//! cannot tell which copy is newer, and the safe reading is the owner's refusal). The store
//! then keeps every row of an opted-out account as the one keyed hash it keeps such accounts
//! as, never by name; and a move to such an account names its instance only
//! ([`opted_out_target`]). A move target is named only when the crawl saw that account itself
//! (a profile read, a list row) and it lets crawlers in: the mover's server (REST `moved`
//! embeds the target's flags as that server cached them; ActivityPub `movedTo` is a bare URI)
//! cannot vouch for another account's consent, so any other target keeps its instance only
//! ([`unseen_target`]), and a hostile server cannot have an opted-out account stored by name by
//! calling it a move target.
//!
//! What this cannot see: an account every copy of which, in this crawl, says it lets
//! crawlers in (its home profile never read: a depth-1 list served by another instance, an
//! account a budget cut, a failed look-up) is judged by what the lists say.

use std::collections::HashMap;

use std::collections::HashSet;

use crate::model::account::{
    is_instance_only_target, key_digest, normal_handle, opted_out_target, unseen_target, Account, KeyDigest,
};
use crate::model::packed::Reports;
use crate::model::snapshot::{DepthReport, SeedReport};

/// What the crawl learnt of each account's consent, by every key it is known under: the
/// profiles read (a seed's, an expanded account's), which decide for their account; and, for
/// the accounts whose profile was not read, the list copies that opt out; and every key of an
/// account the crawl saw (a profile or a list row), which a move may name.
#[derive(Default)]
struct Consent {
    profiles: HashMap<String, Account>,
    refusals: HashMap<String, Account>,
    /// The keys moves name ([`targets`]), as digests ([`key_digest`]); only these are
    /// remembered as seen, not every key of a crawl that sees millions.
    targets: HashSet<KeyDigest>,
    /// Of `targets`, those the crawl saw.
    seen: HashSet<KeyDigest>,
}

/// The keys under which a move's target (an actor URI or a handle) may have been seen.
fn target_keys(target: &str) -> [KeyDigest; 2] {
    [key_digest(target), key_digest(&normal_handle(target))]
}

/// Every key the moves of `r` (its own and its rows') name, which [`Consent::saw`] may be
/// asked about.
fn targets(r: &SeedReport, into: &mut HashSet<KeyDigest>) {
    let lists = [&r.following, &r.followers].into_iter().flatten();
    for a in r.account.iter().chain(lists.flat_map(|l| &l.accounts)) {
        if let Some(m) = a.moved_to.as_deref().filter(|m| !is_instance_only_target(m)) {
            into.extend(target_keys(m));
        }
    }
}

/// Every key `a` is known under, with the report's own `more` (actor URI, handle).
fn keys_of(a: &Account, more: [Option<&str>; 2]) -> Vec<String> {
    let own = [a.actor_uri.clone(), a.handle.as_deref().map(normal_handle)];
    let more = more.map(|k| {
        k.map(|k| {
            if k.contains("://") {
                k.to_string()
            } else {
                normal_handle(k)
            }
        })
    });
    own.into_iter().chain(more).flatten().collect()
}

impl Consent {
    /// Remember `key` as seen if a move names it.
    fn see(&mut self, key: &str) {
        let d = key_digest(key);
        if self.targets.contains(&d) {
            self.seen.insert(d);
        }
    }

    fn profile(&mut self, a: &Account, more: [Option<&str>; 2]) {
        for k in keys_of(a, more) {
            self.see(&k);
            self.profiles.entry(k).or_insert_with(|| a.clone());
        }
    }

    fn copy(&mut self, a: &Account) {
        let keys = keys_of(a, [None, None]);
        keys.iter().for_each(|k| self.see(k));
        if !a.may_expand() {
            for k in keys {
                self.refusals.entry(k).or_insert_with(|| a.clone());
            }
        }
    }

    /// What decides for an account under `key`: its profile, else a copy that opts out.
    fn decides(&self, key: &str) -> Option<&Account> {
        self.profiles.get(key).or_else(|| self.refusals.get(key))
    }

    fn of(&self, a: &Account) -> Option<&Account> {
        keys_of(a, [None, None]).iter().find_map(|k| self.decides(k))
    }

    /// Whether a move target (an actor URI or a handle) is an account that opted out.
    fn refuses(&self, target: &str) -> bool {
        [target.to_string(), normal_handle(target)]
            .iter()
            .any(|k| self.decides(k).is_some_and(|a| !a.may_expand()))
    }

    /// Whether the crawl saw the account a move target (an actor URI or a handle) names.
    fn saw(&self, target: &str) -> bool {
        target_keys(target).iter().any(|k| self.seen.contains(k))
    }
}

/// Carry what decides each account's consent to every list row of it (its profile when read,
/// else any copy that opts out), and every move to an account that opted out, or that the
/// crawl did not see, down to its instance. The profiles themselves (`seeds` and `expanded` accounts) are left as read. An
/// expanded account whose own profile opted out is then counted in `depth` as opted out, not
/// expanded. Returns how many expanded accounts were. The expanded reports are walked three
/// times, each unpacked in turn: once for the keys moves name (only those are remembered as
/// seen), once to learn, once to change.
pub(super) fn carry(seeds: &mut [SeedReport], expanded: &mut Reports, depth: Option<&mut DepthReport>) -> u64 {
    let mut consent = Consent::default();
    seeds.iter().for_each(|r| targets(r, &mut consent.targets));
    expanded.iter().for_each(|r| targets(&r, &mut consent.targets));
    let mut found = 0u64;
    let mut learn = |r: &SeedReport, is_expanded: bool| {
        if let Some(a) = &r.account {
            found += u64::from(is_expanded && !a.may_expand());
            consent.profile(a, [r.actor_uri.as_deref(), r.handle.as_deref()]);
        }
        for l in [&r.following, &r.followers].into_iter().flatten() {
            for a in &l.accounts {
                consent.copy(a);
            }
        }
    };
    seeds.iter().for_each(|r| learn(r, false));
    expanded.iter().for_each(|r| learn(&r, true));
    seeds.iter_mut().for_each(|r| consent.apply(r));
    expanded.update(|r| consent.apply(r));
    if let Some(d) = depth {
        d.expanded = d.expanded.saturating_sub(found);
        d.opted_out += found;
    }
    found
}

impl Consent {
    /// Give `r`'s list rows what decides their consent, and its moves (its own and its rows')
    /// to an account that opted out, or that the crawl did not see, their instance only.
    fn apply(&self, r: &mut SeedReport) {
        // A move to an account that opted out, or that the crawl did not see, keeps its
        // instance only.
        let target = |a: &mut Account| {
            if let Some(m) = a.moved_to.as_mut() {
                if !is_instance_only_target(m) {
                    if self.refuses(m) {
                        *m = opted_out_target(m);
                    } else if !self.saw(m) {
                        *m = unseen_target(m);
                    }
                }
            }
        };
        r.account.iter_mut().for_each(target);
        let lists = [&mut r.following, &mut r.followers].into_iter().flatten();
        for a in lists.flat_map(|l| l.accounts.iter_mut()) {
            if let Some(p) = self.of(a) {
                a.noindex = p.noindex;
                a.indexable = p.indexable;
                a.discoverable = p.discoverable;
                a.nobot_tag = p.nobot_tag;
            }
            target(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::{Direction, FollowList, ListStatus};

    fn acct(handle: &str, noindex: Option<bool>) -> Account {
        Account {
            handle: Some(handle.into()),
            actor_uri: Some(format!(
                "https://{}/users/{}",
                &handle[handle.rfind('@').unwrap() + 1..],
                &handle[1..handle.rfind('@').unwrap()]
            )),
            noindex,
            ..Account::default()
        }
    }

    fn seed(input: &str, listed: Vec<Account>) -> SeedReport {
        let mut list = FollowList::empty(Direction::Following, "mastodon-api", None, ListStatus::Complete);
        list.accounts = listed;
        SeedReport {
            account: Some(acct(input, None)),
            following: Some(list),
            ..SeedReport::new(input)
        }
    }

    fn listed(r: &SeedReport) -> &[Account] {
        &r.following.as_ref().unwrap().accounts
    }

    #[test]
    fn a_copy_that_opts_out_wins_over_stale_copies_and_moves_to_it_name_its_instance_only() {
        let mut mover = acct("@mover@a.example", None);
        mover.moved_to = Some("@quiet@c.example".into());
        let mut seeds = vec![
            seed("@alice@a.example", vec![acct("@quiet@c.example", None), mover]),
            seed("@bea@c.example", vec![acct("@QUIET@c.example", Some(true))]),
        ];
        assert_eq!(carry(&mut seeds, &mut Reports::default(), None), 0);
        assert!(!listed(&seeds[0])[0].may_expand(), "{:?}", listed(&seeds[0])[0]);
        assert_eq!(
            listed(&seeds[0])[1].moved_to.as_deref(),
            Some("an opted-out account on c.example")
        );
        // The seeds' own profiles are left as read.
        assert!(seeds[0].account.as_ref().unwrap().may_expand());
    }

    #[test]
    fn a_move_names_its_target_only_when_the_crawl_saw_it_let_crawlers_in() {
        let mover = |to: &str| {
            let mut m = acct(&format!("@m{}@a.example", to.len()), None);
            m.moved_to = Some(to.into());
            m
        };
        let mut seeds = vec![seed(
            "@alice@a.example",
            vec![
                acct("@open@b.example", None),
                // Seen, and lets crawlers in: named (by handle or by actor URI).
                mover("@open@b.example"),
                mover("https://b.example/users/open"),
                // Never seen: the mover's server alone says where it went.
                mover("https://c.example/users/quiet"),
                mover("@quiet@c.example"),
            ],
        )];
        carry(&mut seeds, &mut Reports::default(), None);
        let moved: Vec<Option<&str>> = listed(&seeds[0])[1..].iter().map(|a| a.moved_to.as_deref()).collect();
        assert_eq!(
            moved,
            [
                Some("@open@b.example"),
                Some("https://b.example/users/open"),
                Some("an account on c.example"),
                Some("an account on c.example"),
            ]
        );
    }

    /// Only the keys moves name are remembered as seen: those named in an expanded
    /// account's list count as well as a seed's, and a target seen in any list is named.
    #[test]
    fn a_move_in_an_expanded_list_names_a_target_seen_in_a_seed_list() {
        let mut seeds = vec![seed("@alice@a.example", vec![acct("@open@b.example", None)])];
        let mut mover = acct("@m@c.example", None);
        mover.moved_to = Some("https://b.example/users/open".into());
        let mut unseen = acct("@n@c.example", None);
        unseen.moved_to = Some("@gone@d.example".into());
        let mut x = seed("@x@c.example", vec![mover, unseen]);
        x.depth = 1;
        let mut expanded = Reports::from(vec![x]);
        carry(&mut seeds, &mut expanded, None);
        let r = expanded.get(0).unwrap();
        let moved: Vec<Option<&str>> = listed(&r).iter().map(|a| a.moved_to.as_deref()).collect();
        assert_eq!(
            moved,
            [Some("https://b.example/users/open"), Some("an account on d.example")]
        );
    }

    #[test]
    fn a_profile_read_decides_for_its_account_and_counts_as_opted_out_not_expanded() {
        let mut seeds = vec![seed(
            "@alice@a.example",
            vec![acct("@x@b.example", None), acct("@alice@a.example", Some(true))],
        )];
        let mut x = seed("@x@b.example", vec![]);
        x.account.as_mut().unwrap().noindex = Some(true);
        x.depth = 1;
        let mut depth = DepthReport {
            depth: 2,
            max_accounts: None,
            max_hosts: None,
            max_requests: None,
            expanded: 1,
            cut_by_accounts: 0,
            cut_by_hosts: 0,
            cut_by_requests: 0,
            opted_out: 0,
            no_handle: 0,
        };
        assert_eq!(carry(&mut seeds, &mut Reports::from(vec![x]), Some(&mut depth)), 1);
        assert!(!listed(&seeds[0])[0].may_expand());
        // alice's own profile lets crawlers in: it decides over a copy that says otherwise.
        assert!(listed(&seeds[0])[1].may_expand());
        assert_eq!((depth.expanded, depth.opted_out), (0, 1));
    }
}
