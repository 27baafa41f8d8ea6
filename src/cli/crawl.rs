//! `whohosts crawl HANDLE...`: crawl, attribute, store as a snapshot, report from the store.
//!
//! The crawl takes the database's lock (a second crawl exits at once with code 3), resumes
//! an unfinished snapshot of the same command, and on SIGINT/SIGTERM marks its snapshot
//! interrupted and exits with code 4 (run the same command again to continue).

use std::path::Path;

use super::{report, AttributionArgs, ReportFormat};
use crate::config::Config;
use crate::crawl::CrawlOptions;
use crate::error::{Error, Result, EXIT_INTERRUPTED};
use crate::handle::Handle;
use crate::pipeline::{self, Job};
use crate::report::Snapshot;
use crate::store::{self, lock::DbLock, Resume, Status, Store};

/// `crawl` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Handles: @user@domain, user@domain, acct:user@domain or https://host/@user
    #[arg(required = true, value_name = "HANDLE")]
    pub handles: Vec<String>,
    /// Walk followers as well as follows
    #[arg(long)]
    pub followers: bool,
    /// Your own access token, for the first HANDLE (yours): lists your follows even when hidden;
    /// sent only to that handle's server
    #[arg(long, env = "WHOHOSTS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Also write the full result as JSON to FILE
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Rows shown per grouping in the text report
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Continue the interrupted snapshot of this same command (fail if there is none)
    #[arg(long, conflicts_with = "fresh")]
    pub resume: bool,
    /// Start a new snapshot even if one of this command was interrupted
    #[arg(long)]
    pub fresh: bool,
    #[command(flatten)]
    pub attribution: AttributionArgs,
}

/// Write the snapshot as JSON to `path`, atomically: a temporary file beside it is renamed
/// over it, so an earlier file is never left half-overwritten.
///
/// # Errors
/// [`Error::Io`].
pub fn write_json(snapshot: &Snapshot, path: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(snapshot).expect("snapshots serialise");
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, json).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
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

fn check_handles(handles: &[String]) -> Result<()> {
    // Malformed handles are reported as failed seeds; when none is valid, stop here.
    let mut errors: Vec<Error> = handles.iter().filter_map(|h| h.parse::<Handle>().err()).collect();
    if errors.len() == handles.len() {
        let last = errors.pop().expect("at least one handle is required by clap");
        for e in errors {
            eprintln!("whohosts: {e}");
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
    format: ReportFormat,
    top: usize,
) -> Result<(i32, Option<Snapshot>)> {
    let _lock = DbLock::acquire(path, "crawl")?;
    let store = Store::open(path)?;
    let writer = store.writer()?;
    let begun = pipeline::begin(&writer, &config, job).await?;
    let id = begun.id;
    if begun.resumed && !job.quiet {
        eprintln!(
            "whohosts: continuing snapshot {id} ({} responses already fetched)",
            begun.journal.len()
        );
    }
    let outcome = tokio::select! {
        done = pipeline::crawl_into(&writer, config, begun, job) => Some(done),
        () = stop_requested() => None,
    };
    let done = match outcome {
        Some(done) => done,
        // Stopped while the snapshot was being completed: it is complete, report it.
        None if !writer.set_status(id, Status::Interrupted).await? => Ok(()),
        None => {
            writer.close().await;
            eprintln!("whohosts: interrupted; snapshot {id} kept: run the same command again to continue it");
            return Ok((i32::from(EXIT_INTERRUPTED), None));
        }
    };
    writer.close().await;
    done?;
    let snap = report::print_stored(&store, id, format, top)?;
    let failed = snap.crawl.seeds.iter().filter(|s| s.error.is_some()).count();
    Ok((if failed > 0 { 1 } else { 0 }, Some(snap)))
}

/// Run `crawl`.
///
/// # Errors
/// Config, database or output errors. Failures of individual seeds are reported in the
/// output and make the exit code 1, but never stop the other seeds.
pub async fn run(mut config: Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    config.crawl.followers |= args.followers;
    args.attribution.apply(&mut config)?;
    check_handles(&args.handles)?;
    let job = Job {
        seeds: args.handles.clone(),
        options: CrawlOptions {
            token: args.token.clone(),
        },
        resume: match (args.resume, args.fresh) {
            (true, _) => Resume::Required,
            (_, true) => Resume::Never,
            _ => Resume::Auto,
        },
        quiet,
    };
    let path = store::database_path(db, &config);
    let (code, snap) = crawl_and_report(config, &job, &path, args.format, args.top).await?;
    if let (Some(out), Some(snap)) = (&args.output, &snap) {
        write_json(snap, out)?;
    }
    Ok(code)
}
