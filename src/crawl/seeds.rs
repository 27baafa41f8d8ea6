//! The seed flow: resolve every seed, then list each distinct actor once.
//!
//! All seeds are resolved (WebFinger) before any is listed, so seeds that turn out to name
//! the same actor however they were written (`@demo@x`, `demo@x`, `acct:demo@x`,
//! `https://x/@demo`) are listed once: the first as given is crawled, the others are recorded
//! with `duplicate_of` naming it. Both stages fan out through [`fanout::run_fair`], queued
//! per host (the handle's domain, then the actor's instance), so accounts on a host that
//! waits for its limiter never hold the slots of accounts elsewhere; a seed whose task
//! panics is recorded as failed (kind `internal`) and the others go on.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use super::{list_resolved, CrawlOptions, Shared, SEED_CONCURRENCY};
use crate::model::handle::Handle;
use crate::model::snapshot::{Failure, SeedReport};
use crate::net::fanout::{self, Panicked};
use crate::net::progress::Progress;
use crate::protocol::webfinger::{self, Resolved};

/// What becomes of one seed once all are resolved.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
    /// It could not be resolved.
    Failed(Failure),
    /// It names the same actor as seed number `of`, which is crawled instead.
    Duplicate { of: usize, resolved: Resolved },
    /// The first seed naming this actor: list it.
    Crawl(Resolved),
}

/// Resolve, deduplicate and list the seeds `inputs`, reported in input order.
pub(super) async fn crawl_all(shared: &Arc<Shared>, inputs: &[String], options: &CrawlOptions) -> Vec<SeedReport> {
    crawl_all_as(shared, inputs, options, |r| r).await
}

/// [`crawl_all`], each report handed to `finish` as soon as it is complete: a deeper crawl
/// packs it there ([`crate::model::packed::Packed`]), so the reports of a group that wait
/// for its slowest member wait packed, not as values.
pub(super) async fn crawl_all_as<T: Send + 'static>(
    shared: &Arc<Shared>,
    inputs: &[String],
    options: &CrawlOptions,
    finish: fn(SeedReport) -> T,
) -> Vec<T> {
    let plans = plan(resolve_all(shared, inputs).await);
    let jobs: Vec<(usize, String, Resolved)> = plans
        .iter()
        .zip(inputs)
        .enumerate()
        .filter_map(|(i, (p, input))| match p {
            Plan::Crawl(r) => Some((i, input.clone(), r.clone())),
            _ => None,
        })
        .collect();
    let lane = |(_, _, r): &(usize, String, Resolved)| shared.fetcher.lane(r.server.as_str());
    let listed = fanout::run_fair(fanout::queued(jobs), SEED_CONCURRENCY, lane, |(i, input, resolved)| {
        let shared = shared.clone();
        let mut opts = options.clone();
        // The token belongs to the first seed as given, and to no other.
        if i > 0 {
            opts.token = None;
        }
        async move { finish(list_resolved(&shared, &input, &resolved, &opts).await) }
    })
    .await;
    assemble(inputs, plans, listed, &shared.progress, finish)
}

/// WebFinger every seed.
async fn resolve_all(shared: &Arc<Shared>, inputs: &[String]) -> Vec<Result<Resolved, Failure>> {
    // Queued by the handle's domain (its WebFinger's host); an input that does not parse
    // fails at once.
    let lane = |input: &String| {
        let domain = input.parse::<Handle>().map(|h| h.domain).unwrap_or_default();
        shared.fetcher.lane(&domain)
    };
    let results = fanout::run_fair(fanout::queued(inputs.to_vec()), SEED_CONCURRENCY, lane, |input| {
        let shared = shared.clone();
        async move {
            shared.progress.note(&format!("resolving {input}"));
            let handle: Handle = input.parse()?;
            let resolved = webfinger::resolve(&shared.fetcher, &handle).await?;
            confirm(&shared, &resolved).await?;
            Ok::<_, crate::error::Error>(resolved)
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| match r {
            Ok(Ok(resolved)) => Ok(resolved),
            Ok(Err(e)) => Err(Failure::from(&e)),
            Err(p) => Err(Failure::from(&p)),
        })
        .collect()
}

/// Confirm a seed whose actor lives on another host than its handle's domain (see
/// [`webfinger::confirm_delegation`]), so an unconfirmed claim is never crawled nor shadows
/// the real seed of that actor. The actor is read through the run's cache (its lists need it
/// anyway); when it cannot be read, the handle's user is asked for.
async fn confirm(shared: &Shared, resolved: &Resolved) -> crate::error::Result<()> {
    if !resolved.delegated() {
        return Ok(());
    }
    let actor = shared.actors.actor(&shared.fetcher, &resolved.actor_uri).await.ok();
    let user = actor.as_deref().and_then(|a| a.username.as_deref());
    webfinger::confirm_delegation(&shared.fetcher, resolved, user).await
}

/// The plan of each seed: the first to name an actor is crawled, later ones are duplicates.
pub(super) fn plan(resolved: Vec<Result<Resolved, Failure>>) -> Vec<Plan> {
    let mut first: HashMap<String, usize> = HashMap::new();
    resolved
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Err(f) => Plan::Failed(f),
            Ok(r) => match first.entry(r.actor_uri.to_string()) {
                Entry::Occupied(e) => Plan::Duplicate {
                    of: *e.get(),
                    resolved: r,
                },
                Entry::Vacant(e) => {
                    e.insert(i);
                    Plan::Crawl(r)
                }
            },
        })
        .collect()
}

/// One report per input, in input order: `listed` holds the results of the `Crawl` plans,
/// in order (each already through `finish`); a listing that panicked becomes an `internal`
/// failure of its seed.
pub(super) fn assemble<T>(
    inputs: &[String],
    plans: Vec<Plan>,
    listed: Vec<Result<T, Panicked>>,
    progress: &Progress,
    finish: fn(SeedReport) -> T,
) -> Vec<T> {
    let mut listed = listed.into_iter();
    let failed = |input: &str, f: Failure, known: SeedReport| {
        progress.warn(&format!("{input}: {}", f.message));
        progress.seed_done();
        finish(SeedReport {
            error: Some(f),
            ..known
        })
    };
    let mut out = vec![];
    for (input, plan) in inputs.iter().zip(plans) {
        let report = match plan {
            Plan::Failed(f) => failed(input, f, SeedReport::new(input)),
            Plan::Duplicate { of, resolved } => {
                progress.seed_done();
                finish(SeedReport {
                    duplicate_of: inputs.get(of).cloned(),
                    ..super::resolved_seed(input, &resolved)
                })
            }
            Plan::Crawl(resolved) => match listed.next() {
                Some(Ok(report)) => report,
                Some(Err(p)) => failed(input, Failure::from(&p), super::resolved_seed(input, &resolved)),
                None => failed(
                    input,
                    Failure::from(&Panicked("the seed was never listed".into())),
                    super::resolved_seed(input, &resolved),
                ),
            },
        };
        out.push(report);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(user: &str) -> Resolved {
        Resolved {
            handle: format!("@{user}@x.example").parse().unwrap(),
            actor_uri: format!("https://x.example/users/{user}").parse().unwrap(),
            server: crate::model::handle::InstanceHost::new("x.example"),
            via_host_meta: false,
        }
    }

    #[test]
    fn later_seeds_naming_the_same_actor_are_duplicates() {
        let bad = Failure {
            kind: "dns".into(),
            message: "DNS y.example: no such host".into(),
        };
        let plans = plan(vec![
            Ok(resolved("demo")),
            Err(bad.clone()),
            Ok(resolved("demo")),
            Ok(resolved("other")),
            Ok(resolved("demo")),
        ]);
        assert_eq!(
            plans,
            vec![
                Plan::Crawl(resolved("demo")),
                Plan::Failed(bad),
                Plan::Duplicate {
                    of: 0,
                    resolved: resolved("demo")
                },
                Plan::Crawl(resolved("other")),
                Plan::Duplicate {
                    of: 0,
                    resolved: resolved("demo")
                },
            ]
        );
    }

    /// The crawl-level mapping of a panic: the seed whose listing panicked is failed with kind
    /// `internal` and the panic's text; the seeds around it keep their reports.
    #[tokio::test]
    async fn a_panicking_seed_is_an_internal_failure_of_that_seed_only() {
        let inputs: Vec<String> = ["@demo@x.example", "acct:demo@x.example", "@other@x.example"]
            .map(String::from)
            .to_vec();
        let plans = plan(vec![Ok(resolved("demo")), Ok(resolved("demo")), Ok(resolved("other"))]);
        // The listing jobs, run through the real fan-out: the second one panics.
        let listed = fanout::run(["@demo@x.example", "@other@x.example"], 2, |input| async move {
            if input.contains("other") {
                panic!("listing {input} hit a bug");
            }
            crate::crawl::resolved_seed(input, &resolved("demo"))
        })
        .await;
        let progress = Progress::new(3, true);
        let seeds = assemble(&inputs, plans, listed, &progress, |r| r);
        assert_eq!(seeds.len(), 3);
        assert_eq!(
            seeds[0],
            crate::crawl::resolved_seed("@demo@x.example", &resolved("demo"))
        );
        assert_eq!(seeds[1].duplicate_of.as_deref(), Some("@demo@x.example"));
        assert_eq!(seeds[1].actor_uri.as_deref(), Some("https://x.example/users/demo"));
        assert_eq!(seeds[1].error, None);
        let err = seeds[2].error.as_ref().expect("the panicking seed failed");
        assert_eq!(err.kind, "internal");
        assert_eq!(
            err.message,
            "internal error (a bug in whohosts, please report it): listing @other@x.example hit a bug"
        );
        assert_eq!(seeds[2].handle.as_deref(), Some("@other@x.example"));
    }
}
