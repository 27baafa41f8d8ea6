//! NodeInfo read as instances are met: each instance is announced when the crawl first sees
//! an account on it (a seed resolved, an account on a list page, an actor fetched), and its
//! NodeInfo is fetched at once through a fan-out queued per host ([`fanout::run_fair`]), so
//! the reads overlap the listing instead of following it. When the crawl is done,
//! [`describe`] builds the instance reports in a fixed order from the lists themselves; an
//! instance whose NodeInfo was read early at the origin the lists name is taken from there,
//! any other is read then. The rows never depend on when a read happened.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;
use url::Url;

use super::{origin_of, FETCH_CONCURRENCY};
use crate::error::Result;
use crate::model::account::Account;
use crate::model::handle::InstanceHost;
use crate::model::snapshot::{Failure, InstanceReport, NodeInfo, SeedReport};
use crate::net::fanout::{self, Panicked};
use crate::net::http::Fetcher;
use crate::net::progress::Progress;
use crate::protocol::nodeinfo;

/// A NodeInfo read: the document (if the instance has one), or why not.
type Read = std::result::Result<Result<Option<NodeInfo>>, Panicked>;

/// An instance and the origin its NodeInfo is read at.
type Target = (InstanceHost, Url);

/// Where instances are announced while the crawl runs.
pub(super) struct Announcer {
    /// Closed by [`Announcer::close`]: the early reads end once their queue is empty.
    tx: Mutex<Option<UnboundedSender<Target>>>,
    /// Every target sent, in the order sent (the order of the fan-out's results).
    sent: Mutex<(HashSet<Target>, Vec<Target>)>,
    config: Arc<crate::config::Config>,
    progress: Progress,
    /// The early reads done so far.
    done: Arc<Done>,
}

/// Reads done, and a wake-up for whoever waits for them ([`Announcer::settle`]).
#[derive(Default)]
pub(super) struct Done {
    count: AtomicUsize,
    notify: Notify,
}

/// Counts one read done when dropped: when the read ends, or panics.
struct Counted(Arc<Done>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.count.fetch_add(1, Ordering::AcqRel);
        self.0.notify.notify_waiters();
    }
}

impl Announcer {
    /// An announcer, and the queue of targets its reads take.
    pub(super) fn new(config: Arc<crate::config::Config>, progress: Progress) -> (Self, UnboundedReceiver<Target>) {
        let (tx, rx) = unbounded_channel();
        let a = Announcer {
            tx: Mutex::new(Some(tx)),
            sent: Mutex::new((HashSet::new(), vec![])),
            config,
            progress,
            done: Arc::default(),
        };
        (a, rx)
    }

    /// The instance `server`, seen with the actor `actor_uri`: read its NodeInfo (at the
    /// actor's origin, else the instance's own) unless it was read already.
    pub(super) fn announce(&self, server: Option<&InstanceHost>, actor_uri: Option<&str>) {
        let Some(server) = server else { return };
        let Some(origin) = origin(&self.config, server, actor_uri) else {
            return;
        };
        let target = (server.clone(), origin);
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        if sent.0.contains(&target) {
            return;
        }
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else { return };
        if tx.send(target.clone()).is_ok() {
            self.progress.add_work(1);
            sent.0.insert(target.clone());
            sent.1.push(target);
        }
    }

    /// An account met on a list or fetched.
    pub(super) fn account(&self, a: &Account) {
        self.announce(a.server.as_ref(), a.actor_uri.as_deref());
    }

    /// The count of reads [`read_all`] reports done to.
    pub(super) fn done(&self) -> Arc<Done> {
        self.done.clone()
    }

    /// Wait until every read announced so far is done: the requests they make are counted
    /// by then, whenever they ran ([`super::depth`] decides its budget on that count).
    pub(super) async fn settle(&self) {
        let sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner).1.len();
        loop {
            // Registered before the count is read, so no read's wake-up is missed.
            let woken = self.done.notify.notified();
            if self.done.count.load(Ordering::Acquire) >= sent {
                return;
            }
            woken.await;
        }
    }

    /// No more announcements: the early reads end once the queued ones are done.
    pub(super) fn close(&self) {
        self.tx.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// The early reads by target, from the results of [`read_all`] (in the order sent).
    fn early(&self, results: Vec<Read>) -> HashMap<Target, Read> {
        let sent = std::mem::take(&mut *self.sent.lock().unwrap_or_else(PoisonError::into_inner));
        sent.1.into_iter().zip(results).collect()
    }
}

/// The origin an instance's NodeInfo is read at: the actor's, else the instance's own.
fn origin(config: &crate::config::Config, server: &InstanceHost, actor_uri: Option<&str>) -> Option<Url> {
    actor_uri
        .and_then(|u| Url::parse(u).ok())
        .as_ref()
        .and_then(origin_of)
        .or_else(|| Url::parse(&config.origin_for(server.as_str())).ok())
}

/// Read the NodeInfo of every target received until the channel closes, queued per host;
/// each read counted in `done` as it ends.
pub(super) async fn read_all(
    f: Arc<Fetcher>,
    targets: UnboundedReceiver<Target>,
    progress: Progress,
    done: Arc<Done>,
) -> Vec<Read> {
    fanout::run_fair(
        targets,
        FETCH_CONCURRENCY,
        |(host, _): &Target| f.lane(host.as_str()),
        |(_, origin)| {
            let (f, progress, done) = (f.clone(), progress.clone(), done.clone());
            async move {
                let _counted = Counted(done);
                let result = nodeinfo::fetch(&f, &origin).await;
                progress.work_done(1);
                result
            }
        },
    )
    .await
}

/// Count accounts per instance, in the lists' order, and give each instance its NodeInfo:
/// the early read at the origin the lists name (the first account's actor, else the
/// instance's own), or one read now.
pub(super) async fn describe<'a>(
    f: &Arc<Fetcher>,
    seeds: impl Iterator<Item = Cow<'a, SeedReport>>,
    announcer: &Announcer,
    early: Vec<Read>,
    progress: &Progress,
) -> BTreeMap<InstanceHost, InstanceReport> {
    let mut early = announcer.early(early);
    let mut instances: BTreeMap<InstanceHost, InstanceReport> = BTreeMap::new();
    let mut origins: BTreeMap<InstanceHost, Url> = BTreeMap::new();
    for seed in seeds {
        if let (Some(server), Some(uri)) = (&seed.server, &seed.actor_uri) {
            instances.entry(server.clone()).or_default();
            if let Some(o) = Url::parse(uri).ok().as_ref().and_then(origin_of) {
                origins.entry(server.clone()).or_insert(o);
            }
        }
        for list in [&seed.following, &seed.followers].into_iter().flatten() {
            for a in &list.accounts {
                let Some(server) = &a.server else { continue };
                instances.entry(server.clone()).or_default().accounts += 1;
                if let Some(u) = a.actor_uri.as_deref().and_then(|u| Url::parse(u).ok()) {
                    if let Some(o) = origin_of(&u) {
                        origins.entry(server.clone()).or_insert(o);
                    }
                }
            }
        }
    }
    // An instance host is a host name (InstanceHost), so a URL built from it parses; one that
    // does not is skipped and reads as "no NodeInfo".
    let targets: Vec<Target> = instances
        .keys()
        .filter_map(|host| {
            let origin = origins.get(host).cloned().or_else(|| origin(f.config(), host, None))?;
            Some((host.clone(), origin))
        })
        .collect();
    let late: Vec<Target> = targets.iter().filter(|t| !early.contains_key(t)).cloned().collect();
    progress.add_work(late.len() as u64);
    if !late.is_empty() {
        progress.note(&format!("reading NodeInfo of {} instances", late.len()));
    }
    let (tx, rx) = unbounded_channel();
    for t in &late {
        // The receiver lives until `read_all` returns.
        let _ = tx.send(t.clone());
    }
    drop(tx);
    for (t, r) in late
        .into_iter()
        .zip(read_all(f.clone(), rx, progress.clone(), Arc::default()).await)
    {
        early.insert(t, r);
    }
    for target in targets {
        let entry = instances.entry(target.0.clone()).or_default();
        entry.connected_address = f.connected(target.0.as_str());
        match early.remove(&target) {
            Some(Ok(Ok(n))) => entry.nodeinfo = n.map(|n| n.plausible(f.config().instances.max_users)),
            Some(Ok(Err(e))) => entry.nodeinfo_error = Some(Failure::from(&e)),
            Some(Err(p)) => {
                progress.work_done(1);
                entry.nodeinfo_error = Some(Failure::from(&p));
            }
            None => {}
        }
    }
    instances
}
