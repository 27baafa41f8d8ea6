//! Instance lists surveyed: the list read, each instance's NodeInfo read once
//! ([`crate::instances::read_one`]), each host attributed as the crawl attributes its
//! instances (the same [`Attributor`], the address the client connected to), through the one
//! bounded fan-out. `report::instances` weighs the result.
//!
//! [`survey_into`] stores the survey as a snapshot of kind `instances` through the one store
//! writer, as it goes: the snapshot is begun (or the unfinished one of the same survey
//! continued) before the first request, each instance is handed on as soon as it is surveyed
//! and written in batches of at most [`BATCH`] (one transaction each, at least every
//! [`FLUSH_EVERY`]), so what is held in memory is one batch, never the list's rows. When every
//! instance is stored, the figures of every level under each weight are computed once by
//! [`InstancesReport::build`] from the stored rows, read back one at a time (what is held is
//! a sum per bucket), and stored with the completion. A stop (the caller's signal) ends the survey between
//! two instances: what was surveyed is stored, the snapshot marked interrupted; a survey
//! continued asks only the instances not stored yet.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{Context, Ready};
use crate::attribution::Attributor;
use crate::error::Result;
use crate::instances::{self, Instance, List};
use crate::model::attribution::AttributionSource;
use crate::model::handle::InstanceHost;
use crate::model::snapshot::Failure;
use crate::net::fanout;
use crate::net::progress::Progress;
use crate::report::instances::{InstancesReport, Options};
use crate::store::instances::{Figures, KIND};
use crate::store::{Begin, Resume, Status, Store, Writer};

/// Instances written per transaction, and the most held in memory before they are.
pub const BATCH: usize = 500;

/// Rows surveyed are written at least this often, so a killed survey loses at most this
/// much of its work.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What a survey is asked for.
#[derive(Debug, Clone)]
pub struct Job {
    /// The list file, as named (absolute when it can be).
    pub list: String,
    /// Only instances running this software (`--software`).
    pub software: Option<String>,
    /// Whether to continue the unfinished survey of the same list (`--resume`, `--fresh`).
    pub resume: Resume,
}

/// How a survey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surveyed {
    /// The snapshot.
    pub id: i64,
    /// Distinct instances listed.
    pub listed: usize,
    /// Instances stored (all of them when complete).
    pub stored: usize,
    /// Instances a continued survey found stored by the runs before (0 for a new one).
    pub earlier: usize,
    /// Stopped before the end: the snapshot is marked interrupted.
    pub interrupted: bool,
    /// Every instance was asked and none answered (each DNS lookup or NodeInfo read failed):
    /// nothing can be rated, so the snapshot is marked failed (no figures, out of every
    /// trend), as a `contacts` run whose every lookup failed.
    pub nothing_answered: bool,
}

/// SHA-256 of `hosts`, one a line, in hex.
fn digest<'a>(hosts: impl Iterator<Item = &'a str>) -> String {
    let mut sha = Sha256::new();
    for h in hosts {
        sha.update(h.as_bytes());
        sha.update(b"\n");
    }
    sha.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The request stored with a survey (JSON): the list, the filter, what the list held and
/// the series it continues (`domains`: SHA-256 of the distinct hosts listed, sorted, one a
/// line, so the same instances in any order or spelling continue one series; `order`: the
/// same in the list's order, so only the very same list continues an unfinished survey,
/// whose rows are kept by their place in the list).
fn request(job: &Job, list: &List, max_users: u64) -> String {
    let mut hosts: Vec<&str> = list.hosts.iter().map(InstanceHost::as_str).collect();
    let order = digest(hosts.iter().copied());
    hosts.sort_unstable();
    serde_json::json!({
        "list": job.list,
        "software": software_filter(job),
        "format": list.format,
        "instances": list.hosts.len(),
        "duplicates": list.duplicates,
        "max_users": max_users,
        "domains": digest(hosts.into_iter()),
        "order": order,
    })
    .to_string()
}

/// The `--software` filter as the report applies it.
fn software_filter(job: &Job) -> Option<String> {
    job.software.as_ref().map(|s| s.trim().to_ascii_lowercase())
}

/// Survey `list` as `job` asks and store it through `writer`, continuing the unfinished
/// snapshot of the same survey (same list, filter and ceiling) if there is one; stop between
/// two instances when `stop` resolves. Instances that fail are stored rows, not errors.
///
/// # Errors
/// Configuration, resolver and database errors; a survey whose rows could not all be stored
/// is marked failed.
pub async fn survey_into(
    writer: &Writer,
    ready: Ready,
    list: List,
    job: &Job,
    quiet: bool,
    stop: impl Future<Output = ()>,
) -> Result<Surveyed> {
    let configuration = serde_json::to_string(ready.config()).expect("the configuration serialises");
    let max_users = ready.config().instances.max_users;
    let tool = format!("whohosts {}", env!("CARGO_PKG_VERSION"));
    let begun = writer
        .begin(Begin {
            kind: KIND,
            request: request(job, &list, max_users),
            configuration,
            tool: tool.clone(),
            started_at: crate::model::time::now(),
            resume: job.resume,
            // An unfinished survey is continued however old (a list's instances do not move
            // between two weeks as follows do).
            resume_within_secs: None,
        })
        .await?;
    let id = begun.id;
    let result = async {
        let earlier = if begun.resumed {
            Store::open_read_only(writer.path())?.survey_positions(id)?
        } else {
            BTreeSet::new()
        };
        let mut surveyed = Surveyed {
            id,
            listed: list.hosts.len(),
            stored: earlier.len(),
            earlier: earlier.len(),
            interrupted: false,
            nothing_answered: false,
        };
        if begun.resumed && !quiet {
            crate::net::progress::notice(&format!(
                "continuing survey {id} ({} of {} instances already surveyed)",
                surveyed.earlier, surveyed.listed
            ));
        }
        let (ctx, attributor) = ready.into_parts(None);
        let source = attributor.source();
        let todo: Vec<(usize, InstanceHost)> = list
            .hosts
            .iter()
            .enumerate()
            .filter(|(p, _)| !earlier.contains(p))
            .map(|(p, h)| (p, h.clone()))
            .collect();
        drop(earlier);
        surveyed.interrupted = survey(
            &ctx,
            Arc::new(attributor),
            todo,
            writer,
            id,
            &mut surveyed.stored,
            quiet,
            stop,
        )
        .await?;
        if surveyed.interrupted {
            writer.set_status(id, Status::Interrupted).await?;
            return Ok(surveyed);
        }
        surveyed.nothing_answered = !complete(writer, id, list, job, tool, source).await?;
        Ok(surveyed)
    }
    .await;
    if result.is_err() {
        let _ = writer.set_status(id, Status::Failed).await;
    }
    result
}

/// Complete survey `id`, every instance of `list` stored: its figures, computed once from
/// the stored rows by the report's metrics, and the list's bad entries; `false` (the
/// snapshot marked failed instead) when instances were asked and none answered.
async fn complete(
    writer: &Writer,
    id: i64,
    list: List,
    job: &Job,
    tool: String,
    source: AttributionSource,
) -> Result<bool> {
    let finished_at = crate::model::time::now();
    let bad = list.bad;
    // The store (and the report reading from it) closed before the writer is waited for.
    let (none_answered, population, levels) = {
        let store = Store::open_read_only(writer.path())?;
        let (mut survey, _) = store.survey_so_far(id)?;
        survey.bad = bad.clone();
        survey.finished_at = finished_at.clone();
        let options = Options {
            software: job.software.clone(),
        };
        let report = InstancesReport::build(&store, id, survey, source.clone(), &options)?;
        let p = &report.population;
        let none_answered = p.listed > 0 && p.failed.values().sum::<usize>() == p.listed;
        let population = report.figures();
        let levels: Vec<_> = report.weights.into_iter().flat_map(|w| w.levels).collect();
        (none_answered, population, levels)
    };
    if none_answered {
        // Stored failed with the list's bad entries, so its report counts them.
        writer.fail_survey(id, bad).await?;
        return Ok(false);
    }
    let figures = Figures {
        bad,
        levels,
        population,
        finished_at,
        tool,
        attribution: source,
    };
    writer.complete_survey(id, figures).await?;
    Ok(true)
}

/// Write the rows surveyed so far, if any; how many were written.
async fn flush(writer: &Writer, id: i64, batch: &mut Vec<(usize, Instance)>) -> Result<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    let rows = std::mem::replace(batch, Vec::with_capacity(BATCH));
    let n = rows.len();
    writer.survey_rows(id, rows).await?;
    Ok(n)
}

/// Survey the instances of `todo` (each with its place in the list): NodeInfo, claims
/// judged, attribution, each stored through `writer` in batches as they come, `stored`
/// counting them. Failures are rows, never errors. `true` when `stop` came first: what was
/// surveyed by then is stored, the instances still in flight are not.
#[allow(clippy::too_many_arguments)]
async fn survey(
    ctx: &Context,
    attributor: Arc<Attributor>,
    todo: Vec<(usize, InstanceHost)>,
    writer: &Writer,
    id: i64,
    stored: &mut usize,
    quiet: bool,
    stop: impl Future<Output = ()>,
) -> Result<bool> {
    let progress = Progress::new(0, quiet);
    ctx.fetcher.show_waits(&progress);
    let concurrency = ctx.config.network.global_concurrency;
    let max_users = ctx.config.instances.max_users;
    progress.add_work(todo.len() as u64);
    progress.note(&format!("surveying {} instances", todo.len()));
    let todo = Arc::new(todo);
    // Bounded: a job waits to hand its row on while the writer is behind.
    let (tx, mut rx) = mpsc::channel::<(usize, Instance)>(BATCH);
    let jobs = {
        let (todo, fetcher, progress) = (todo.clone(), ctx.fetcher.clone(), progress.clone());
        fanout::run(0..todo.len(), concurrency, move |i| {
            let (todo, f, a, tx, progress) = (
                todo.clone(),
                fetcher.clone(),
                attributor.clone(),
                tx.clone(),
                progress.clone(),
            );
            async move {
                let (position, host) = &todo[i];
                let row = one(&f, a, host, max_users, &progress).await;
                progress.work_done(1);
                let _ = tx.send((*position, row)).await;
            }
        })
    };
    tokio::pin!(jobs, stop);
    let mut batch = Vec::with_capacity(BATCH);
    let mut finished = None;
    let mut every = tokio::time::interval(FLUSH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let interrupted = loop {
        tokio::select! {
            biased;
            () = &mut stop => break true,
            results = &mut jobs, if finished.is_none() => finished = Some(results),
            _ = every.tick() => *stored += flush(writer, id, &mut batch).await?,
            row = rx.recv() => match row {
                Some(row) => {
                    batch.push(row);
                    if batch.len() >= BATCH {
                        *stored += flush(writer, id, &mut batch).await?;
                    }
                }
                // Every job has finished and handed its row on.
                None => break false,
            },
        }
    };
    if !interrupted {
        // A job that panicked (a bug) handed nothing on: its instance is a failed row.
        for (i, r) in finished.unwrap_or_default().into_iter().enumerate() {
            if let Err(p) = r {
                progress.work_done(1);
                let (position, host) = &todo[i];
                batch.push((*position, instances::failed(host.as_str(), Failure::from(&p))));
            }
        }
    }
    *stored += flush(writer, id, &mut batch).await?;
    progress.finish();
    Ok(interrupted)
}

/// One instance: its NodeInfo, then who hosts it (an attribution that fails leaves it
/// unattributed, counted apart by the metrics); then the client forgets the host.
async fn one(
    f: &crate::net::http::Fetcher,
    attributor: Arc<Attributor>,
    host: &InstanceHost,
    max_users: u64,
    progress: &Progress,
) -> Instance {
    let mut row = instances::read_one(f, host, max_users).await;
    let job = (row.host.clone(), row.connected);
    let attributed = fanout::run([job], 1, |(host, connected)| {
        let a = attributor.clone();
        async move { a.host(&host, connected).await }
    })
    .await;
    match attributed.into_iter().next() {
        Some(Ok(h)) => row.attribution = Some(h),
        Some(Err(p)) => progress.warn(&format!("attributing {}: {p}", row.host)),
        None => {}
    }
    // The host's last request is made (NodeInfo) and it is attributed: the client lets go of
    // what it kept of it, so a survey holds the hosts in flight, not the list's.
    f.forget(&row.host);
    row
}
