//! A simulated fediverse that changes over time: a world at week 0 and the changes of later
//! weeks (accounts move, instances migrate provider or move behind a CDN, die or appear,
//! follow lists become hidden).
//!
//! # Architecture
//! A world file lists its changes as `[[week]]` entries ([`Week`]); [`World::at_week`]
//! applies them in order to the week-0 world. A [`Timeline`] lays out every week with one
//! shared [`Addresses`], so an instance keeps its address until it changes provider. The
//! running simulator serves one week at a time from a [`Stage`]: [`Stage::set_week`] swaps the
//! HTTP routes and the DNS zone at once, so one process can step through the weeks.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use super::dns::Zone;
use super::server::{Sim, Stats};
use super::world::{AccountSpec, Addresses, DnsFault, Fault, Instance, Layout, World};
use crate::error::{Error, Result};

/// The changes that take effect at the start of one week.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Week {
    /// The week number (1 or more; entries in increasing order, weeks may be skipped).
    pub week: u32,
    /// Accounts that move to another instance.
    #[serde(default, rename = "move", skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<Move>,
    /// Instances that change provider (or move behind a CDN: a CDN's provider and CNAME).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrate: Vec<Migrate>,
    /// Instances that die.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub die: Vec<Die>,
    /// Instances that appear.
    #[serde(default, rename = "instance", skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<Instance>,
    /// Accounts that appear (on new or existing instances).
    #[serde(default, rename = "account", skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountSpec>,
    /// Follows added or removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow: Vec<Follow>,
    /// Accounts whose follow lists become hidden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide: Vec<String>,
    /// Accounts deleted: their actor and REST look-up answer 410 Gone, and every follow of
    /// them is dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete: Vec<String>,
}

/// An account moving (Mastodon's Move): the old account gets `moved_to` (REST `moved`, AP
/// `movedTo`); the new one is created with the old one's profile and follows unless it
/// exists; every follow of the old account now points at the new one, except those of the
/// accounts in `stay` (their servers did not act on the Move).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub account: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stay: Vec<String>,
}

/// An instance moving to another provider: a new address in that provider's range. `cname`
/// replaces its CNAME (absent: none), e.g. `x.global.fastly.net` behind Fastly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migrate {
    pub instance: String,
    pub provider: String,
    pub cname: Option<String>,
}

/// An instance dying.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Die {
    pub instance: String,
    #[serde(default)]
    pub how: Death,
}

/// How an instance dies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Death {
    /// Its name stops resolving.
    #[default]
    Nxdomain,
    /// Its name resolves, nothing listens: connections are refused.
    Refused,
}

/// Follows `account` adds and removes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Follow {
    pub account: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

fn change_error(week: u32, what: &str, message: impl std::fmt::Display) -> Error {
    Error::World(format!("week {week}: {what}: {message}"))
}

impl World {
    /// The last week with changes (0 for a world without a timeline).
    pub fn last_week(&self) -> u32 {
        self.weeks.last().map_or(0, |w| w.week)
    }

    /// The world as it is in week `n`: week 0 with the changes of weeks 1 to `n` applied.
    /// The result has no timeline of its own.
    ///
    /// # Errors
    /// [`Error::World`] naming the week and the change that refers to something missing.
    pub fn at_week(&self, n: u32) -> Result<World> {
        let mut state = World {
            providers: self.providers.clone(),
            instances: self.instances.clone(),
            accounts: self.accounts.clone(),
            weeks: vec![],
            names: self.names.clone(),
        };
        for week in self.weeks.iter().take_while(|w| w.week <= n) {
            week.apply(&mut state)?;
            state.check().map_err(|e| {
                change_error(
                    week.week,
                    "after its changes",
                    e.to_string().trim_start_matches("world "),
                )
            })?;
        }
        Ok(state)
    }

    /// Weeks in increasing order from 1, and every change valid.
    pub(super) fn check_timeline(&self) -> Result<()> {
        let mut previous = 0;
        for w in &self.weeks {
            if w.week <= previous {
                return Err(Error::World(format!(
                    "week {} comes after week {previous}: weeks start at 1 and increase",
                    w.week
                )));
            }
            previous = w.week;
        }
        self.at_week(previous).map(drop)
    }
}

fn account_mut<'a>(w: &'a mut World, week: u32, handle: &str) -> Result<&'a mut AccountSpec> {
    w.accounts
        .iter_mut()
        .find(|a| a.handle.eq_ignore_ascii_case(handle))
        .ok_or_else(|| change_error(week, handle, "no such account"))
}

fn instance_mut<'a>(w: &'a mut World, week: u32, domain: &str) -> Result<&'a mut Instance> {
    w.instances
        .iter_mut()
        .find(|i| i.domain.eq_ignore_ascii_case(domain))
        .ok_or_else(|| change_error(week, domain, "no such instance"))
}

impl Week {
    /// Apply this week's changes to `w`: new instances and accounts first, then follows,
    /// moves, migrations, deaths, hidden lists and deletions.
    pub(super) fn apply(&self, w: &mut World) -> Result<()> {
        w.instances.extend(self.instances.iter().cloned());
        w.accounts.extend(self.accounts.iter().cloned());
        for f in &self.follow {
            let a = account_mut(w, self.week, &f.account)?;
            a.follows
                .retain(|h| !f.remove.iter().any(|r| r.eq_ignore_ascii_case(h)));
            a.follows.extend(f.add.iter().cloned());
        }
        for m in &self.moves {
            self.apply_move(w, m)?;
        }
        for m in &self.migrate {
            let i = instance_mut(w, self.week, &m.instance)?;
            i.provider = m.provider.clone();
            i.cname = m.cname.clone();
        }
        for d in &self.die {
            let i = instance_mut(w, self.week, &d.instance)?;
            match d.how {
                Death::Nxdomain => i.dns_fault = DnsFault::Nxdomain,
                Death::Refused => i.fault = Fault::Refused,
            }
        }
        for h in &self.hide {
            account_mut(w, self.week, h)?.hide_collections = true;
        }
        for d in &self.delete {
            let gone = account_mut(w, self.week, d)?;
            gone.deleted = true;
            gone.follows.clear();
            for a in &mut w.accounts {
                a.follows.retain(|f| !f.eq_ignore_ascii_case(d));
            }
        }
        Ok(())
    }

    fn apply_move(&self, w: &mut World, m: &Move) -> Result<()> {
        let old = account_mut(w, self.week, &m.account)?;
        old.moved_to = Some(m.to.clone());
        let mut new = old.clone();
        if !w.accounts.iter().any(|a| a.handle.eq_ignore_ascii_case(&m.to)) {
            new.handle = m.to.clone();
            new.moved_to = None;
            w.accounts.push(new);
        }
        for a in &mut w.accounts {
            let stays = m.stay.iter().any(|s| s.eq_ignore_ascii_case(&a.handle));
            if stays || !a.follows.iter().any(|f| f.eq_ignore_ascii_case(&m.account)) {
                continue;
            }
            a.follows.retain(|f| !f.eq_ignore_ascii_case(&m.account));
            if a.handle != m.to && !a.follows.iter().any(|f| f.eq_ignore_ascii_case(&m.to)) {
                a.follows.push(m.to.clone());
            }
        }
        Ok(())
    }
}

/// Every week of a world, laid out: index n is week n.
#[derive(Debug, Clone)]
pub struct Timeline {
    layouts: Vec<Layout>,
}

impl Timeline {
    /// Lay out every week of `world`, from 0 to its last week.
    ///
    /// # Errors
    /// [`Error::World`] for a change that refers to something missing.
    pub fn new(world: World) -> Result<Self> {
        let mut given = Addresses::default();
        let layouts = (0..=world.last_week())
            .map(|n| Ok(world.at_week(n)?.layout_with(&mut given)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Timeline { layouts })
    }

    /// A world without changes.
    pub fn single(layout: Layout) -> Self {
        Timeline { layouts: vec![layout] }
    }

    /// The last week.
    pub fn last_week(&self) -> u32 {
        u32::try_from(self.layouts.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// Week `n`, if the timeline reaches it.
    pub fn week(&self, n: u32) -> Option<&Layout> {
        self.layouts.get(usize::try_from(n).ok()?)
    }

    /// The addresses the HTTP server listens on: every address of every week, except those
    /// of refused (dead) instances.
    pub fn listen_addresses(&self) -> Vec<IpAddr> {
        let mut all = BTreeSet::new();
        for l in &self.layouts {
            let refused: BTreeSet<IpAddr> = l
                .world
                .instances
                .iter()
                .filter(|i| i.fault == Fault::Refused)
                .map(|i| IpAddr::V4(l.addresses[&i.domain].0))
                .collect();
            all.extend(
                Zone::of(l)
                    .listen_addresses()
                    .into_iter()
                    .filter(|a| !refused.contains(a)),
            );
        }
        all.into_iter().collect()
    }
}

/// A value the serving tasks read afresh for every request, swapped whole.
#[derive(Debug)]
pub struct Current<T>(RwLock<Arc<T>>);

impl<T> Current<T> {
    pub fn new(value: T) -> Self {
        Current(RwLock::new(Arc::new(value)))
    }

    /// The value now.
    pub fn get(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
    }
}

/// The week a running simulator serves, and the means to change it.
pub struct Stage {
    timeline: Timeline,
    week: AtomicU32,
    port: u16,
    scheme: &'static str,
    stats: Arc<Mutex<Stats>>,
    pub(super) sim: Arc<Current<Sim>>,
    pub(super) zone: Arc<Current<Zone>>,
}

impl Stage {
    /// Serve week 0 of `timeline` on `port`.
    pub(super) fn new(timeline: Timeline, port: u16, scheme: &'static str) -> Self {
        let first = timeline.layouts[0].clone();
        let stats = Arc::new(Mutex::new(Stats::default()));
        let zone = Arc::new(Current::new(Zone::of(&first)));
        let back = timeline.last_week();
        let sim = Arc::new(Current::new(
            Sim::with_stats(first, port, scheme, stats.clone()).dated_weeks_back(back),
        ));
        Stage {
            timeline,
            week: AtomicU32::new(0),
            port,
            scheme,
            stats,
            sim,
            zone,
        }
    }

    /// Serve week `n` from now on: HTTP and DNS switch together. Requests already being
    /// answered finish with the week they started in; rate-limit windows start afresh.
    ///
    /// # Errors
    /// [`Error::World`] when the timeline has no week `n`.
    pub fn set_week(&self, n: u32) -> Result<()> {
        let layout = self
            .timeline
            .week(n)
            .ok_or_else(|| Error::World(format!("has weeks 0 to {}, not week {n}", self.timeline.last_week())))?;
        self.zone.set(Zone::of(layout));
        self.sim.set(
            Sim::with_stats(layout.clone(), self.port, self.scheme, self.stats.clone())
                .dated_weeks_back(self.timeline.last_week().saturating_sub(n)),
        );
        self.week.store(n, Ordering::SeqCst);
        Ok(())
    }

    /// The week being served.
    pub fn week(&self) -> u32 {
        self.week.load(Ordering::SeqCst)
    }

    /// The last week of the timeline.
    pub fn last_week(&self) -> u32 {
        self.timeline.last_week()
    }

    /// What the simulator saw, over every week (HTTP requests and DNS queries alike).
    pub(super) fn stats(&self) -> Arc<Mutex<Stats>> {
        self.stats.clone()
    }

    /// The world being served now.
    pub fn sim(&self) -> Arc<Sim> {
        self.sim.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The world files live with whohosts' tests, one level up.
    fn fixture_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/worlds/timeline.toml")
    }

    fn fixture() -> World {
        World::load(&fixture_path()).expect("the timeline fixture loads")
    }

    fn account<'a>(w: &'a World, handle: &str) -> &'a AccountSpec {
        w.accounts.iter().find(|a| a.handle == handle).expect("account exists")
    }

    #[test]
    fn a_move_marks_the_old_account_and_repoints_follows_except_those_that_stay() {
        let w = fixture().at_week(1).unwrap();
        assert_eq!(account(&w, "bob@a.example").moved_to.as_deref(), Some("bob@b.example"));
        let bob = account(&w, "bob@b.example");
        assert_eq!(
            (bob.display_name.as_deref(), bob.moved_to.as_deref()),
            (Some("Bob"), None)
        );
        let alice = &account(&w, "alice@hub.example").follows;
        assert!(alice.contains(&"bob@b.example".to_string()) && !alice.contains(&"bob@a.example".to_string()));
        assert_eq!(account(&w, "carol@hub.example").follows, ["bob@a.example"]);
        assert!(account(&w, "dan@hub.example").hide_collections);
        // Week 0 is untouched.
        assert_eq!(fixture().at_week(0).unwrap().accounts, fixture().accounts);
    }

    #[test]
    fn bad_changes_name_the_week_and_what_is_missing() {
        let text = std::fs::read_to_string(fixture_path()).unwrap();
        let err = |from: &str, to: &str| World::from_toml(&text.replacen(from, to, 1)).unwrap_err().to_string();
        assert_eq!(
            err("account = \"bob@a.example\"", "account = \"nobody@a.example\""),
            "world week 1: nobody@a.example: no such account"
        );
        assert_eq!(
            err(
                "provider = \"ovh\"\n\n[[week.migrate]]",
                "provider = \"nowhere\"\n\n[[week.migrate]]"
            ),
            "world week 1: after its changes: instance mig.example: unknown provider \"nowhere\""
        );
        assert_eq!(
            err("week = 2", "week = 1"),
            "world week 1 comes after week 1: weeks start at 1 and increase"
        );
    }

    #[test]
    fn addresses_stay_put_until_an_instance_changes_provider() {
        let t = Timeline::new(fixture()).unwrap();
        assert_eq!(t.last_week(), 2);
        let addr = |week: u32, d: &str| t.week(week).unwrap().addresses[d].0.to_string();
        assert_eq!(addr(0, "hub.example"), addr(2, "hub.example"));
        assert_eq!(
            (addr(0, "mig.example").as_str(), addr(1, "mig.example").as_str()),
            ("127.7.0.2", "127.4.0.3")
        );
        assert_eq!(addr(2, "dead.example"), "127.10.250.2");
        let listening = t.listen_addresses();
        assert!(
            listening.contains(&"127.10.0.3".parse().unwrap()),
            "dead.example in weeks 0 and 1"
        );
        assert!(
            !listening.contains(&"127.10.250.2".parse().unwrap()),
            "nothing listens for the dead"
        );
        assert!(t.week(3).is_none());
    }

    #[test]
    fn the_timeline_round_trips_through_toml() {
        let w = fixture();
        assert_eq!(World::from_toml(&toml::to_string(&w).unwrap()).unwrap(), w);
    }
}
