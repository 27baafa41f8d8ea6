//! The crawl: from seed handles to follow lists and the instances they live on.
//!
//! # Architecture
//! Work items ([`Task`]) sit in a [`Frontier`]; the [`MemoryFrontier`] holds the seeds. A
//! crawl deeper than one hop expands the accounts the seeds list through [`depth`], whose
//! frontier is a [`depth::Queue`] the caller provides (the store's, so it persists). Each seed is resolved
//! (WebFinger) first; seeds that name the same actor (`@demo@x`, `acct:demo@x`,
//! `https://x/@demo`) are listed once and the others recorded as duplicates of it. Each
//! distinct seed is listed through the Mastodon API when its server offers it, else through
//! ActivityPub, and accounts listed only by URI get their actor fetched, once per run
//! ([`ActorCache`], shared by every seed and direction, and by the seeds' own actors read
//! for their ActivityPub collections). Every instance has its NodeInfo read as soon as the
//! crawl first meets it ([`instances`]). Seeds, actor fetches and NodeInfo run concurrently through
//! [`crate::net::fanout`] (bounded; a panicking task is recorded as that item's `internal`
//! failure); every request still passes its host's gate in [`crate::net::http`]. Every fact
//! fetched is kept as data in [`CrawlReport`], failures included, so one bad host never
//! stops the others.
//!
//! The actor fetches of a list do not wait for its last page ([`listed`]): each page's
//! accounts are handed to the fetches as the page is read, queued per host and taken in turn
//! ([`fanout::run_fair`]), so actors on one host are fetched while the list's next page
//! waits for its own host's limiter, and a host that waits holds no more than its own share
//! of the slots. Results still land in list order, so the rows do not depend on timing.

mod actors;
mod checks;
mod consent;
pub mod departures;
pub mod depth;
mod instances;
mod seeds;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::model::account::{Account, Cause, Direction, FollowList, ListStatus};
use crate::model::handle::Handle;
use crate::net::fanout::{self};
use crate::net::http::{Bearer, Fetcher};
use crate::net::progress::Progress;
use crate::protocol::activitypub;
use crate::protocol::mastodon;
use crate::protocol::pager::Listener;
use crate::protocol::webfinger;

use crate::model::packed::Reports;
use crate::model::snapshot::{CrawlReport, Failure, SeedReport};
pub use actors::ActorCache;
use checks::{fallback_failed, foreign_collection, same_actor};

/// Seeds (or expanded accounts) resolved and listed at once, queued per host so that
/// accounts on a host whose limiter makes them wait hold no more than that host's share of
/// the slots ([`fanout::run_fair`]).
pub const SEED_CONCURRENCY: usize = 16;
/// Actor or NodeInfo fetches in flight at once (each still limited per host).
pub const FETCH_CONCURRENCY: usize = 16;

/// A unit of crawl work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Task {
    /// A handle as the user typed it.
    Seed(String),
}

/// Where pending work waits. A persistent implementation lets a crawl resume.
pub trait Frontier: Send {
    fn push(&mut self, task: Task);
    fn pop(&mut self) -> Option<Task>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A frontier in memory.
#[derive(Debug, Default)]
pub struct MemoryFrontier(VecDeque<Task>);

impl Frontier for MemoryFrontier {
    fn push(&mut self, task: Task) {
        self.0.push_back(task);
    }
    fn pop(&mut self) -> Option<Task> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// What the user asked for beyond the config.
#[derive(Debug, Clone, Default)]
pub struct CrawlOptions {
    /// The user's own access token. It belongs to the first seed and is only ever sent to
    /// that seed's server: other seeds never see it.
    pub token: Option<String>,
    /// How deep to crawl and the budgets beyond the seeds ([`depth`]).
    pub depth: depth::DepthOptions,
}

/// A seed resolved to `r`, not listed yet.
pub fn resolved_seed(input: &str, r: &webfinger::Resolved) -> SeedReport {
    SeedReport {
        handle: Some(r.handle.to_string()),
        server: Some(r.server.clone()),
        actor_uri: Some(r.actor_uri.to_string()),
        ..SeedReport::new(input)
    }
}

/// What every task of one run shares.
struct Shared {
    fetcher: Arc<Fetcher>,
    actors: ActorCache,
    progress: Progress,
    /// Instances met, their NodeInfo read at once.
    instances: instances::Announcer,
}

/// Crawl every seed in `frontier` (to `options.depth`, its frontier in memory).
pub async fn run(
    fetcher: Arc<Fetcher>,
    frontier: &mut dyn Frontier,
    options: &CrawlOptions,
    progress: &Progress,
) -> CrawlReport {
    // The memory queue never fails, so there is no error to hand on.
    run_in(fetcher, frontier, options, progress, &depth::MemoryQueue::default())
        .await
        .0
}

/// Crawl every seed in `frontier`, and beyond them to `options.depth` with the frontier of
/// the expansion in `queue`. When the queue fails (a store error), the report holds what was
/// crawled before, and the error comes with it.
pub async fn run_in(
    fetcher: Arc<Fetcher>,
    frontier: &mut dyn Frontier,
    options: &CrawlOptions,
    progress: &Progress,
    queue: &dyn depth::Queue,
) -> (CrawlReport, Option<Error>) {
    let started_at = crate::model::time::now();
    let mut inputs = vec![];
    while let Some(Task::Seed(input)) = frontier.pop() {
        inputs.push(input);
    }
    let (announcer, met) = instances::Announcer::new(fetcher.config().clone(), progress.clone());
    let shared = Arc::new(Shared {
        fetcher: fetcher.clone(),
        actors: ActorCache::default(),
        progress: progress.clone(),
        instances: announcer,
    });
    let crawl = async {
        let mut seeds = seeds::crawl_all(&shared, &inputs, options).await;
        // `--max-accounts` bounds the accounts reached at every depth, the seeds' lists first.
        depth::Reached::new(options.depth.max_accounts).cut(&mut seeds);
        let (mut expanded, mut depth, mut failed) = (Reports::default(), None, None);
        if options.depth.depth > 1 {
            match depth::expand(&shared, &seeds, options.depth, queue).await {
                Ok((e, d)) => (expanded, depth) = (e, Some(d)),
                Err(e) => failed = Some(e),
            }
        }
        // Every instance met is announced: the early reads end with the last one queued.
        shared.instances.close();
        (seeds, expanded, depth, failed)
    };
    let done = shared.instances.done();
    let ((mut seeds, mut expanded, mut depth, failed), early) =
        tokio::join!(crawl, instances::read_all(fetcher.clone(), met, progress.clone(), done));
    consent::carry(&mut seeds, &mut expanded, depth.as_mut());
    let all = crate::model::packed::all(&seeds, &expanded);
    let instances = instances::describe(&fetcher, all, &shared.instances, early, progress).await;
    let (requests, retries) = fetcher.totals();
    let report = CrawlReport {
        tool: format!("whohosts {}", env!("CARGO_PKG_VERSION")),
        started_at,
        finished_at: crate::model::time::now(),
        seeds,
        instances,
        requests,
        retries,
        expanded,
        depth,
        departures: vec![],
    };
    (report, failed)
}

/// The origin (`scheme://host:port/`) of a URL; `None` for a URL without one (`data:`,
/// `javascript:` …: an opaque origin serialises as "null").
fn origin_of(url: &Url) -> Option<Url> {
    Url::parse(&url.origin().ascii_serialization()).ok()
}

/// List the seed resolved to `resolved`.
async fn list_resolved(
    shared: &Arc<Shared>,
    input: &str,
    resolved: &webfinger::Resolved,
    opts: &CrawlOptions,
) -> SeedReport {
    let mut report = resolved_seed(input, resolved);
    shared
        .instances
        .announce(Some(&resolved.server), Some(resolved.actor_uri.as_str()));
    if let Err(e) = list_seed(shared, resolved, opts, &mut report).await {
        shared.progress.warn(&format!("{input}: {e}"));
        report.error = Some(Failure::from(&e));
    }
    shared.progress.seed_done();
    report
}

async fn list_seed(
    shared: &Arc<Shared>,
    resolved: &webfinger::Resolved,
    opts: &CrawlOptions,
    report: &mut SeedReport,
) -> Result<()> {
    let (f, progress) = (&shared.fetcher, &shared.progress);
    let origin = origin_of(&resolved.actor_uri).ok_or_else(|| Error::Malformed {
        url: resolved.actor_uri.to_string(),
        message: "the actor URI has no origin (not an http(s) URL)".into(),
    })?;
    let local = resolved.handle.domain.clone();
    let mut directions = vec![Direction::Following];
    if f.config().crawl.followers {
        directions.push(Direction::Followers);
    }
    let rest = async {
        let (account, token) = rest_account(f, &origin, &resolved.handle, opts).await?;
        same_actor(&account, resolved)?;
        let seed_account = account.clone().into_account(&local);
        let opted_out = !seed_account.may_expand() && token.is_none();
        report.account = Some(seed_account);
        if opted_out {
            return Ok(opted_out_lists(&directions, "mastodon-api", &resolved.handle));
        }
        let mut lists = vec![];
        for d in &directions {
            progress.note(&format!("listing {} of {}", d.segment(), resolved.handle));
            let walk = |l| mastodon::list(f, &origin, &account, *d, token.as_ref(), &local, l);
            lists.push(listed(shared, walk).await?);
        }
        Ok(lists)
    }
    .await;
    let lists = match rest {
        Ok(lists) => lists,
        // REST refused (lookup or list), absent, not Mastodon, or barred by robots.txt:
        // ActivityPub instead.
        Err(e) if rest_unavailable(&e) => match activitypub_lists(shared, resolved, &directions, report).await {
            Ok(lists) => lists,
            Err(ap) => return Err(fallback_failed(e, ap)),
        },
        Err(e) => return Err(e),
    };
    for list in lists {
        match list.direction {
            Direction::Following => report.following = Some(list),
            Direction::Followers => report.followers = Some(list),
        }
    }
    Ok(())
}

/// Why the follows of an account that opted out are not listed.
pub const OPTED_OUT: &str =
    "the account opts out of crawlers (noindex, not indexable or discoverable, or #nobot); with your own token you can crawl your own account";

/// Lists recorded as refused because their owner opted out (DESIGN §6).
fn opted_out_lists(directions: &[Direction], source: &str, who: &Handle) -> Vec<FollowList> {
    // Never its handle: an account a deeper crawl expanded is not the user's to name.
    tracing::info!(host = %who.domain, "refused: the account opted out");
    directions
        .iter()
        .map(|d| FollowList::empty(*d, source, None, ListStatus::refused(Cause::OptedOut, OPTED_OUT)))
        .collect()
}

fn rest_unavailable(e: &Error) -> bool {
    matches!(e.status(), Some(401 | 403 | 404 | 410))
        || matches!(e, Error::Malformed { .. } | Error::RobotsDisallowed { .. })
}

/// The seed's REST account, and the token to send if it is the token owner's.
async fn rest_account(
    f: &Fetcher,
    origin: &Url,
    handle: &Handle,
    opts: &CrawlOptions,
) -> Result<(mastodon::RestAccount, Option<Bearer>)> {
    if let Some(token) = &opts.token {
        let token = Bearer::new(token, origin);
        let me = mastodon::verify_credentials(f, origin, &token)
            .await
            .map_err(|e| match e.status() {
                Some(401 | 403) => {
                    let host = origin.host_str().unwrap_or_default();
                    tracing::info!(host, url = %origin, "refused: the access token was rejected");
                    Error::Refused {
                        url: origin.to_string(),
                        reason: "the access token was rejected (check WHOHOSTS_TOKEN / --token)".into(),
                    }
                }
                _ => e,
            })?;
        if me.username.eq_ignore_ascii_case(&handle.user) {
            return Ok((me, Some(token)));
        }
    }
    Ok((mastodon::lookup(f, origin, &handle.user).await?, None))
}

async fn activitypub_lists(
    shared: &Arc<Shared>,
    resolved: &webfinger::Resolved,
    directions: &[Direction],
    report: &mut SeedReport,
) -> Result<Vec<FollowList>> {
    let (f, progress) = (&*shared.fetcher, &shared.progress);
    let actor = shared.actors.actor(f, &resolved.actor_uri).await;
    if actor.as_ref().err().and_then(Error::status) == Some(401) {
        return Ok(directions
            .iter()
            .map(|d| {
                FollowList::empty(
                    *d,
                    "activitypub",
                    None,
                    activitypub::signed_only(resolved.actor_uri.as_str()),
                )
            })
            .collect());
    }
    let actor = actor?;
    let seed_account = actor.account.clone();
    let opted_out = !seed_account.may_expand();
    report.account = Some(seed_account);
    if opted_out {
        return Ok(opted_out_lists(directions, "activitypub", &resolved.handle));
    }
    let mut lists = vec![];
    for d in directions {
        let Some(href) = actor.collection(*d) else {
            // No collection at all (Lemmy users): the list is not exposed.
            lists.push(FollowList::empty(
                *d,
                "activitypub",
                None,
                ListStatus::NotExposed { unseen: None },
            ));
            continue;
        };
        let url = resolved.actor_uri.join(href).map_err(|e| Error::Malformed {
            url: resolved.actor_uri.to_string(),
            message: format!("bad {} link {href:?}: {e}", d.segment()),
        })?;
        if let Some(refused) = foreign_collection(&resolved.actor_uri, &url, *d) {
            lists.push(refused);
            continue;
        }
        progress.note(&format!("listing {} of {} (ActivityPub)", d.segment(), resolved.handle));
        lists.push(listed(shared, |l| activitypub::list(f, &url, *d, l)).await?);
    }
    Ok(lists)
}

/// The actor URI to fetch for an account listed only by it (no handle), if any.
fn needs_actor(a: &Account) -> Option<&str> {
    a.handle.is_none().then_some(a.actor_uri.as_deref()).flatten()
}

/// The fan-out lane of an actor URI: its host (lower case; none for a URI without one, whose
/// fetch fails at once), that host's cap on requests in flight and whether it is slow
/// ([`Fetcher::lane`]).
fn actor_lane(fetcher: &Fetcher, uri: &str) -> (String, fanout::Cap) {
    let host = Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    fetcher.lane(&host)
}

/// Walk one list with `walk`, and (when `crawl.fetch_actors`) fetch the actors of the
/// accounts it lists only by URI, each at most once per run, as their pages are read: the
/// walk tells a [`Listener`] of each account, which hands the URI to a fan-out queued per
/// host ([`fanout::run_fair`]), so actor fetches on other hosts go on while the next page
/// waits for its host's limiter. Each fetched account takes its place in the list afterwards,
/// in list order (a URI the walk never kept, past `crawl.max_accounts`, is never fetched).
///
/// When the REST lists of a seed fail and it falls back to ActivityPub, the actors already
/// fetched for them stay in the run's [`ActorCache`] (the ActivityPub lists naming them reuse
/// them) and in no list.
async fn listed<Fut>(shared: &Arc<Shared>, walk: impl FnOnce(Option<Listener>) -> Fut) -> Result<FollowList>
where
    Fut: Future<Output = Result<FollowList>>,
{
    if !shared.fetcher.config().crawl.fetch_actors {
        let shared = shared.clone();
        return walk(Some(Listener::new(move |_, a| shared.instances.account(a)))).await;
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (progress, announce) = (shared.progress.clone(), shared.clone());
    let listener = Listener::new(move |_, a| {
        announce.instances.account(a);
        if let Some(uri) = needs_actor(a) {
            progress.add_work(1);
            // The receiver lives until the walk is over, so a send cannot fail.
            let _ = tx.send(uri.to_string());
        }
    });
    let fetches = fanout::run_fair(
        rx,
        FETCH_CONCURRENCY,
        |uri: &String| actor_lane(&shared.fetcher, uri),
        |uri| {
            let shared = shared.clone();
            async move {
                let fetched = shared.actors.account(&shared.fetcher, &uri).await;
                if let Ok(a) = &fetched {
                    shared.instances.account(a);
                }
                shared.progress.work_done(1);
                fetched
            }
        },
    );
    // The listener (and with it the channel's sender) goes when the walk ends, which ends
    // the fan-out once its last fetch is done.
    let (list, fetched) = tokio::join!(walk(Some(listener)), fetches);
    let mut list = list?;
    // The URIs were sent in list order, so the n-th result is the n-th account needing one.
    let todo: Vec<usize> = list
        .accounts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| needs_actor(a).map(|_| i))
        .collect();
    for (i, fetched) in todo.into_iter().zip(fetched) {
        let Some(slot) = list.accounts.get_mut(i) else { continue };
        match fetched {
            Ok(Ok(mut a)) => {
                a.server = a.server.or(slot.server.take());
                a.actor_uri = a.actor_uri.or(slot.actor_uri.take());
                *slot = a;
            }
            Ok(Err(message)) => slot.fetch_error = Some(message),
            Err(p) => {
                shared.progress.work_done(1);
                slot.fetch_error = Some(p.to_string());
            }
        }
    }
    Ok(list)
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    #[test]
    fn urls_without_an_origin_have_none() {
        let u = |s: &str| Url::parse(s).expect("test URLs parse");
        assert_eq!(
            origin_of(&u("https://a.example:8443/users/x")),
            Some(u("https://a.example:8443/"))
        );
        for opaque in ["javascript://evil.example/x", "data:text/html,hi", "mailto:a@b.example"] {
            assert_eq!(origin_of(&u(opaque)), None, "{opaque}");
        }
    }
}
