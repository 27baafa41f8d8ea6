//! `whohosts crawl HANDLE...`: crawl, attribute, report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::output::Output;
use super::{print, AttributionArgs, Context, ReportFormat};
use crate::attribution::Attributor;
use crate::config::Config;
use crate::crawl::{self, CrawlOptions, Failure, Frontier, MemoryFrontier, SeedReport, Task};
use crate::error::{Error, Result};
use crate::fanout;
use crate::handle::AccountRef;
use crate::progress::Progress;
use crate::report::{self, Snapshot};
use crate::webfinger;

/// Hosts attributed at once.
const ATTRIBUTION_CONCURRENCY: usize = 16;

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
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Also write the full result as JSON to FILE
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows shown per grouping in the text report (0: all)
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

/// What became of the user's inputs before the crawl: handles to crawl, and the reports of
/// inputs that failed already (malformed, or a URL that names no account).
struct Prepared {
    /// Per input, in order: the handle to crawl, or the failed report.
    inputs: Vec<std::result::Result<String, SeedReport>>,
}

fn failed_seed(input: &str, e: &Error) -> SeedReport {
    SeedReport {
        error: Some(Failure::from(e)),
        ..SeedReport::new(input)
    }
}

/// Parse every input; turn profile and actor URLs into handles (WebFinger or the actor).
async fn prepare(ctx: &Context, inputs: &[String]) -> Prepared {
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        tracing::debug!(input = input.as_str(), "seed");
        out.push(match input.parse::<AccountRef>() {
            Ok(AccountRef::Handle(h)) => Ok(h.to_string()),
            Ok(AccountRef::Url(url)) => match webfinger::resolve_url(&ctx.fetcher, &url).await {
                Ok(r) => Ok(r.handle.to_string()),
                Err(e) => Err(failed_seed(input, &e)),
            },
            Err(e) => Err(failed_seed(input, &e)),
        });
    }
    Prepared { inputs: out }
}

/// Put the pre-crawl failures back among the crawled seeds, in the user's order, each
/// under the input the user typed.
fn merge(prepared: Prepared, user_inputs: &[String], crawled: Vec<SeedReport>) -> Vec<SeedReport> {
    let mut crawled = crawled.into_iter();
    prepared
        .inputs
        .into_iter()
        .zip(user_inputs)
        .filter_map(|(p, typed)| match p {
            Ok(_) => crawled.next().map(|mut s| {
                s.input = typed.clone();
                s
            }),
            Err(failed) => Some(failed),
        })
        .collect()
}

/// Run `crawl`.
///
/// # Errors
/// Config, database or output errors, before any request. Failures of individual seeds get
/// one line each on stderr (even with `--quiet`), appear in the report and make the exit
/// code 1, but never stop the other seeds.
pub async fn run(mut config: Config, args: Args, quiet: bool) -> Result<i32> {
    config.crawl.followers |= args.followers;
    args.attribution.apply(&mut config)?;
    // When no input is valid, stop here, before any request.
    let mut errors: Vec<Error> = args
        .handles
        .iter()
        .filter_map(|h| h.parse::<AccountRef>().err())
        .collect();
    if errors.len() == args.handles.len() {
        let last = errors.pop().expect("at least one handle is required by clap");
        for e in errors {
            super::logging::error_line(&e.to_string());
        }
        return Err(last);
    }
    let output = args.output.as_deref().map(Output::check).transpose()?;
    let ctx = Context::new(config)?;
    let attributor = Arc::new(ctx.attributor(quiet)?);
    let mut options = CrawlOptions {
        token: args.token.clone(),
    };
    let prepared = prepare(&ctx, &args.handles).await;
    // The token belongs to the first input as typed: when that one failed before the crawl,
    // no other seed may inherit it (the crawl gives it to its first seed).
    if prepared.inputs.first().is_some_and(|p| p.is_err()) {
        options.token = None;
    }
    let seeds: Vec<String> = prepared
        .inputs
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let mut snap = snapshot(&ctx, &attributor, &seeds, &options, quiet).await;
    snap.crawl.seeds = merge(prepared, &args.handles, std::mem::take(&mut snap.crawl.seeds));
    let failed: Vec<&SeedReport> = snap.crawl.seeds.iter().filter(|s| s.error.is_some()).collect();
    for s in &failed {
        super::logging::error_line(&report::failure_sentence(s));
    }
    tracing::info!(
        seeds = snap.crawl.seeds.len(),
        failed = failed.len(),
        requests = snap.crawl.requests,
        "crawled {} seeds, {} failed, in {} requests",
        snap.crawl.seeds.len(),
        failed.len(),
        snap.crawl.requests
    );
    let code = if failed.is_empty() { 0 } else { 1 };
    // Print first: if the file cannot be written, the crawl is still on stdout.
    match args.format {
        ReportFormat::Json => print(&snap.to_json())?,
        ReportFormat::Text => print(&snap.render(args.top))?,
    }
    if let Some(out) = output {
        out.write(snap.to_json().as_bytes())?;
    }
    Ok(code)
}
