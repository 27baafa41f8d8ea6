//! `whohosts crawl HANDLE...`: crawl, attribute, store as a snapshot, report from the store.
//!
//! The crawl takes the database's lock (a second crawl exits at once with code 3), resumes
//! an unfinished snapshot of the same command, and on SIGINT/SIGTERM marks its snapshot
//! interrupted and exits with code 4 (run the same command again to continue).

use std::path::Path;

use super::output::Output;
use super::{alerts, report, AttributionArgs};
use crate::config::Config;
use crate::crawl::depth::{DepthOptions, MAX_DEPTH};
use crate::crawl::CrawlOptions;
use crate::error::{Error, Result, EXIT_INTERRUPTED};
use crate::model::format::Format;
use crate::model::handle::AccountRef;
use crate::model::snapshot::SeedReport;
use crate::pipeline::{self, Job};
use crate::report::Report;
use crate::store::{self, lock::DbLock, Resume, Status, Store};

/// `crawl` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Handles: @user@domain, user@domain, acct:user@domain, or a profile or actor URL
    /// (https://host/@user, https://host/users/user …)
    #[arg(required = true, value_name = "HANDLE")]
    pub handles: Vec<String>,
    /// Walk followers as well as follows
    #[arg(long)]
    pub followers: bool,
    /// Your own access token, for the first HANDLE (yours): lists your follows even when hidden;
    /// sent only to that handle's server
    #[arg(long, env = "WHOHOSTS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub view: report::View,
    #[command(flatten)]
    pub destination: report::Destination,
    /// How far to crawl: 1 lists the handles' follows; 2 also the follows of every account they
    /// follow (each once), and so on (at most 4)
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = super::usage::whole_in(1, MAX_DEPTH))]
    pub depth: u32,
    /// Reach N distinct accounts at most, at any depth: lists are cut in order once N are
    /// named [default with --depth above 1: 100000]
    #[arg(long, value_name = "N", value_parser = super::usage::positive)]
    pub max_accounts: Option<u64>,
    /// Expand accounts of N distinct instances at most [default: no limit]
    #[arg(long, value_name = "N", value_parser = super::usage::whole::<u64>)]
    pub max_hosts: Option<u64>,
    /// Send N requests at most once the seeds are read, every kind [default with --depth above 1: 200000]
    #[arg(long, value_name = "N", value_parser = super::usage::whole::<u64>)]
    pub max_requests: Option<u64>,
    #[command(flatten)]
    pub resume: ResumeArgs,
    #[command(flatten)]
    pub attribution: AttributionArgs,
    #[command(flatten)]
    pub alerts: alerts::Args,
}

/// `--resume` and `--fresh`, the same for `crawl` and `instances`: whether to continue the
/// unfinished snapshot of the same command.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ResumeArgs {
    /// Continue the interrupted snapshot of this same command (fail if there is none)
    #[arg(long, conflicts_with = "fresh")]
    pub resume: bool,
    /// Start a new snapshot even if one of this command was interrupted
    #[arg(long)]
    pub fresh: bool,
}

impl ResumeArgs {
    /// What the store is asked: continue (or fail), start anew, or continue if there is one.
    pub fn mode(self) -> Resume {
        match (self.resume, self.fresh) {
            (true, _) => Resume::Required,
            (_, true) => Resume::Never,
            _ => Resume::Auto,
        }
    }
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM); never, if the signals
/// cannot be watched.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// When no input is valid, stop here, before any request: every error on stderr, the last
/// one as the command's error.
fn check_handles(handles: &[String]) -> Result<()> {
    let mut errors: Vec<Error> = handles.iter().filter_map(|h| h.parse::<AccountRef>().err()).collect();
    if errors.len() == handles.len() {
        let last = errors.pop().expect("at least one handle is required by clap");
        for e in errors {
            super::logging::error_line(&e.to_string());
        }
        return Err(last);
    }
    Ok(())
}

/// Crawl `job` into the database at `path` (locked for the duration) and print the report
/// from the store. Returns the exit code: 0, 1 (failed seeds) or 4 (interrupted).
///
/// # Errors
/// [`Error::Locked`], database, configuration and output errors.
pub async fn crawl_and_report(
    config: Config,
    job: &Job,
    path: &Path,
    view: &report::View,
    out: Option<&Output>,
) -> Result<(i32, Option<Report>)> {
    // What can be refused before the first request (a bad --db, a missing --asn-db file …)
    // is, before the database is touched: a refused run stores nothing (not even a lock file).
    crate::store::schema::check_to_open(path)?;
    let dns = config.dns.clone();
    let ready = pipeline::Ready::new(config, job.quiet)?;
    let _lock = DbLock::acquire(path, "crawl")?;
    let store = Store::open(path)?;
    let writer = store.writer()?;
    let begun = pipeline::begin(&writer, ready.config(), job).await?;
    let id = begun.id;
    if let Some((old, started)) = &begun.given_up {
        // Said even under --quiet: cron mails it, and the old run's data is dropped.
        super::logging::warning_line(&format!(
            "snapshot {old} of this command, interrupted after it started at {started}, is older than \
             crawl.resume_within_hours: given up (stored as failed), snapshot {id} starts afresh"
        ));
    }
    if begun.resumed && !job.quiet {
        super::logging::notice_line(&format!(
            "continuing snapshot {id} ({} already fetched)",
            crate::report::plural(begun.journal.len() as u64, "response")
        ));
    }
    let outcome = tokio::select! {
        done = pipeline::crawl_into(&writer, ready, begun, job) => Some(done),
        () = stop_requested() => None,
    };
    let done = match outcome {
        Some(done) => done,
        // Stopped while the snapshot was being completed: it is complete, report it.
        None if !writer.set_status(id, Status::Interrupted).await? => Ok(()),
        None => {
            writer.close().await;
            super::logging::error_line(&format!(
                "interrupted; snapshot {id} kept: run the same command again to continue it"
            ));
            return Ok((i32::from(EXIT_INTERRUPTED), None));
        }
    };
    writer.close().await;
    done?;
    let r = report::emit_stored(&store, id, view, out)?;
    let failed: Vec<&SeedReport> = r.data.crawl.seeds.iter().filter(|s| s.error.is_some()).collect();
    let (silent, said) = unanswered(&failed);
    if silent.is_empty() {
        for s in &failed {
            super::logging::error_line(&crate::report::failure_line(s));
        }
    } else {
        // Seeds DNS did not answer for are one line, not one per seed.
        for s in said {
            super::logging::error_line(&crate::report::failure_line(s));
        }
        let dead = crate::net::dns::NotAnswering::of(&dns);
        let head = if silent.iter().any(|s| seed_kind(s) == "dns_not_answering") {
            dead.sentence()
        } else {
            format!("DNS did not answer in time ({})", dead.nameservers.join(", "))
        };
        super::logging::error_line(&format!(
            "{head}: {} of {} failed on it (the report lists them)",
            silent.len(),
            crate::report::plural(r.data.crawl.seeds.len() as u64, "seed"),
        ));
    }
    let seeds = r.data.crawl.seeds.len();
    tracing::info!(
        seeds,
        failed = failed.len(),
        requests = r.data.crawl.requests,
        "crawl finished"
    );
    if r.data.crawl.no_seed_read() {
        super::logging::error_line(&format!(
            "no seed could be read: snapshot {id} is stored as failed (no baseline for trends, \
             comparisons or rules)"
        ));
    }
    let code = if failed.is_empty() { 0 } else { 1 };
    Ok((code, Some(r)))
}

/// The stored failure kind of a failed seed.
fn seed_kind(s: &SeedReport) -> String {
    s.error
        .as_ref()
        .map(|e| crate::store::kinds::failure_kind(&e.kind, &e.message))
        .unwrap_or_default()
}

/// Failed seeds split into those DNS did not answer for (a timeout, or failed at once as the
/// nameserver was taken for not answering) and the others; nothing in the first when fewer
/// than two seeds went unanswered, each of which is then said on its own line.
fn unanswered<'a>(failed: &[&'a SeedReport]) -> (Vec<&'a SeedReport>, Vec<&'a SeedReport>) {
    let silent = |s: &SeedReport| matches!(seed_kind(s).as_str(), "dns_not_answering" | "dns_timeout");
    if failed.iter().filter(|s| silent(s)).count() < 2 {
        return (vec![], failed.to_vec());
    }
    failed.iter().copied().partition(|s| silent(s))
}

/// Run `crawl`.
///
/// # Errors
/// Config, database or output errors, before any request. Failures of individual seeds get
/// one line each on stderr (even with `--quiet`), appear in the report and make the exit
/// code 1, but never stop the other seeds.
pub async fn run(mut config: Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    config.crawl.followers |= args.followers;
    // No list needs to be read past `--max-accounts` (the crawl cuts them all to it).
    if let Some(n) = args.max_accounts {
        config.crawl.max_accounts = config.crawl.max_accounts.min(usize::try_from(n).unwrap_or(usize::MAX));
    }
    args.attribution.apply(&mut config)?;
    check_handles(&args.handles)?;
    let (output, json_copy) = args.destination.check()?;
    let alerts = args.alerts.clone().check(&config)?;
    let job = Job {
        seeds: args.handles.clone(),
        options: CrawlOptions {
            token: args.token.clone(),
            depth: DepthOptions::new(args.depth, args.max_accounts, args.max_hosts, args.max_requests),
        },
        resume: args.resume.mode(),
        quiet,
        clock_offset_secs: 0,
    };
    let path = store::database_path(db, &config);
    store::create_data_dir(db, &config)?;
    let (code, r) = crawl_and_report(config, &job, &path, &args.view, output.as_ref()).await?;
    let Some(r) = r else {
        return Ok(code);
    };
    if let Some(out) = json_copy {
        out.write(crate::report::render(&r, Format::Json, 0, false)?.as_bytes())?;
    }
    // Nothing measured: no rule to check, and the metrics file keeps the last measurement.
    if r.data.crawl.no_seed_read() {
        return Ok(code);
    }
    // A run failure's code (failed seeds) wins; the rules' lines are on stderr either way.
    let store = Store::open(&path)?;
    let rules = alerts.finish(&store, r.snapshot.id, r.weight)?;
    Ok(if code != 0 { code } else { rules })
}
