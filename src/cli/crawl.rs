//! `whohosts crawl HANDLE...`: crawl, attribute, report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::{print, AttributionArgs, Context, ReportFormat};
use crate::attribution::Attributor;
use crate::config::Config;
use crate::crawl::{self, CrawlOptions, Frontier, MemoryFrontier, Task};
use crate::error::{Error, Result};
use crate::fanout;
use crate::handle::Handle;
use crate::progress::Progress;
use crate::report::Snapshot;

/// Hosts attributed at once.
const ATTRIBUTION_CONCURRENCY: usize = 16;

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
    pub output: Option<PathBuf>,
    /// Rows shown per grouping in the text report
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub attribution: AttributionArgs,
}

/// Crawl `seeds` and attribute every instance met.
pub async fn snapshot(
    ctx: &Context,
    attributor: &Arc<Attributor>,
    seeds: &[String],
    options: &CrawlOptions,
    quiet: bool,
) -> Snapshot {
    let progress = Progress::new(seeds.len() as u64, quiet);
    ctx.fetcher.show_waits(&progress);
    let mut frontier = MemoryFrontier::default();
    for s in seeds {
        frontier.push(Task::Seed(s.clone()));
    }
    let report = crawl::run(ctx.fetcher.clone(), &mut frontier, options, &progress).await;
    progress.note("attributing hosts");
    let hosts = attribute_all(attributor, &report, &progress).await;
    progress.finish();
    Snapshot {
        crawl: report,
        attribution: attributor.source(),
        hosts,
    }
}

async fn attribute_all(
    attributor: &Arc<Attributor>,
    report: &crawl::CrawlReport,
    progress: &Progress,
) -> BTreeMap<String, crate::attribution::HostAttribution> {
    progress.add_work(report.instances.len() as u64);
    let jobs: Vec<_> = report
        .instances
        .iter()
        .map(|(host, r)| (host.to_string(), r.connected_address))
        .collect();
    let hosts: Vec<String> = jobs.iter().map(|(h, _)| h.clone()).collect();
    let results = fanout::run(jobs, ATTRIBUTION_CONCURRENCY, |(host, connected)| {
        let (a, progress) = (attributor.clone(), progress.clone());
        async move {
            let h = a.host(&host, connected).await;
            progress.work_done(1);
            h
        }
    })
    .await;
    let mut out = BTreeMap::new();
    for (host, result) in hosts.into_iter().zip(results) {
        match result {
            Ok(h) => {
                out.insert(h.host.clone(), h);
            }
            // Left unattributed: the metrics count it apart as "not attributed".
            Err(p) => {
                progress.work_done(1);
                progress.warn(&format!("attributing {host}: {p}"));
            }
        }
    }
    out
}

/// Write the snapshot as JSON to `path`, atomically: a temporary file beside it is renamed
/// over it, so an earlier file is never left half-overwritten.
///
/// # Errors
/// [`Error::Io`].
pub fn write_json(snapshot: &Snapshot, path: &std::path::Path) -> Result<()> {
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

/// Run `crawl`.
///
/// # Errors
/// Config, database or output errors. Failures of individual seeds are reported in the
/// output and make the exit code 1, but never stop the other seeds.
pub async fn run(mut config: Config, args: Args, quiet: bool) -> Result<i32> {
    config.crawl.followers |= args.followers;
    args.attribution.apply(&mut config)?;
    // Malformed handles are reported as failed seeds; when none is valid, stop here.
    let mut errors: Vec<Error> = args.handles.iter().filter_map(|h| h.parse::<Handle>().err()).collect();
    if errors.len() == args.handles.len() {
        let last = errors.pop().expect("at least one handle is required by clap");
        for e in errors {
            eprintln!("whohosts: {e}");
        }
        return Err(last);
    }
    let ctx = Context::new(config)?;
    let attributor = Arc::new(ctx.attributor(quiet)?);
    let options = CrawlOptions {
        token: args.token.clone(),
    };
    let snap = snapshot(&ctx, &attributor, &args.handles, &options, quiet).await;
    // Print first: if the file cannot be written, the crawl is still on stdout.
    match args.format {
        ReportFormat::Json => print(&(serde_json::to_string_pretty(&snap).expect("snapshots serialise") + "\n"))?,
        ReportFormat::Text => print(&snap.render(args.top))?,
    }
    if let Some(path) = &args.output {
        write_json(&snap, path)?;
    }
    let failed = snap.crawl.seeds.iter().filter(|s| s.error.is_some()).count();
    Ok(if failed > 0 { 1 } else { 0 })
}
