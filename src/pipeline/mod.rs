//! The pipeline: crawl → attribute → store. `crawl`, `demo`, the benchmarks and the tests
//! all go through here.
//!
//! # Architecture
//! [`Ready`] builds the network stack and loads the IP-to-ASN database first, so that a
//! run refused there stores nothing; [`begin`] then opens (or continues) a snapshot through
//! the store's [`Writer`]; [`crawl_into`] gives the network stack the snapshot's response
//! journal (so a resumed crawl replays what it already fetched), crawls the seeds
//! ([`snapshot`]), attributes every instance met, learns why accounts left since the
//! previous snapshot of the same seeds ([`departures`]) and hands the result to the writer,
//! which stores it and marks the snapshot complete. [`run`] is all three in one call. [`contacts`] measures address books and mailboxes: who
//! serves each address, attributed like instances.

pub mod contacts;
pub mod departures;
pub mod instances;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::attribution::asn::{self, AsnDb};
use crate::attribution::org::Orgs;
use crate::attribution::Attributor;
use crate::config::Config;
use crate::crawl::depth::{MemoryQueue, Queue};
use crate::crawl::{self, CrawlOptions, Frontier, MemoryFrontier, Task};
use crate::error::{Error, Result};
use crate::model::handle::AccountRef;
use crate::model::snapshot::CrawlReport;
use crate::model::snapshot::Snapshot;
use crate::model::snapshot::{Failure, SeedReport};
use crate::net::dns::{AddressGate, Dns};
use crate::net::fanout;
use crate::net::http::Fetcher;
use crate::net::progress::Progress;
use crate::protocol::webfinger;
use crate::store::frontier::StoreQueue;
use crate::store::journal::StoreJournal;
use crate::store::{Begin, Begun, Resume, Status, Writer};

/// Hosts attributed at once.
const ATTRIBUTION_CONCURRENCY: usize = 16;

/// The network stack of a run.
pub struct Context {
    pub config: Arc<Config>,
    pub dns: Arc<Dns>,
    pub fetcher: Arc<Fetcher>,
}

impl Context {
    /// Build resolver and client from `config`.
    ///
    /// # Errors
    /// Resolver or client construction errors.
    pub fn new(config: Config) -> Result<Self> {
        Context::with_journal(config, None)
    }

    /// As [`Context::new`], with every response recorded in (and replayed from) `journal`.
    ///
    /// # Errors
    /// Resolver or client construction errors.
    pub fn with_journal(config: Config, journal: Option<Arc<dyn crate::net::http::Journal>>) -> Result<Self> {
        let (config, dns, fetcher) = stack(config)?;
        Ok(Context::of(config, dns, fetcher, journal))
    }

    fn of(
        config: Arc<Config>,
        dns: Arc<Dns>,
        fetcher: Fetcher,
        journal: Option<Arc<dyn crate::net::http::Journal>>,
    ) -> Self {
        let fetcher = match journal {
            Some(j) => fetcher.with_journal(j),
            None => fetcher,
        };
        Context {
            config,
            dns,
            fetcher: Arc::new(fetcher),
        }
    }

    /// The attributor the config asks for. Says once on stderr when no database is found.
    ///
    /// # Errors
    /// Database load errors.
    pub fn attributor(&self, quiet: bool) -> Result<Attributor> {
        Ok(self.attributor_with(asn_database(&self.config, quiet)?))
    }

    /// The attributor over `db` (none: the online fallback, if the config allows it).
    fn attributor_with(&self, db: Option<Arc<AsnDb>>) -> Attributor {
        attributor_of(&self.config, self.dns.clone(), db)
    }
}

/// The attributor over `db` through `dns`, as `config` sets it up.
fn attributor_of(config: &Config, dns: Arc<Dns>, db: Option<Arc<AsnDb>>) -> Attributor {
    let a = &config.attribution;
    Attributor::new(
        db,
        Orgs::new(&a.organisations),
        dns,
        a.address_policy,
        a.online_fallback,
    )
}

/// The attributor alone (the resolver and the IP-to-ASN database; says once on stderr,
/// unless `quiet`, when there is no database), for `lookup`, which fetches nothing over HTTP:
/// no HTTP client is built, nor its TLS roots loaded.
///
/// # Errors
/// Resolver construction and database load errors.
pub fn attributor(config: &Config, quiet: bool) -> Result<Attributor> {
    Ok(attributor_of(
        config,
        Arc::new(resolver(config)?),
        asn_database(config, quiet)?,
    ))
}

/// The resolver and the client `config` asks for.
fn stack(config: Config) -> Result<(Arc<Config>, Arc<Dns>, Fetcher)> {
    let config = Arc::new(config);
    let dns = Arc::new(resolver(&config)?);
    let fetcher = Fetcher::new(config.clone(), dns.clone())?;
    Ok((config, dns, fetcher))
}

/// The resolver `config` sets up, behind its address gate.
fn resolver(config: &Config) -> Result<Dns> {
    let gate = AddressGate::new(config.network.allow_private_addresses.clone());
    Dns::new(&config.dns, gate)
}

/// The IP-to-ASN database the config asks for, if any; says once on stderr when there is
/// none (unless `quiet`).
fn asn_database(config: &Config, quiet: bool) -> Result<Option<Arc<AsnDb>>> {
    if let Some(db) = load_database(config)? {
        return Ok(Some(Arc::new(db)));
    }
    if !quiet {
        let fallback = if config.attribution.online_fallback {
            "asking Team Cymru's DNS service instead"
        } else {
            "hosts will not be attributed (attribution.online_fallback = false)"
        };
        crate::net::progress::notice(&format!(
            "no IP-to-ASN database (run `whohosts asn-db update` or pass --asn-db); {fallback}"
        ));
    }
    Ok(None)
}

/// What a crawl needs before its first request, made before its snapshot is opened, so that
/// a run refused here (a configuration the resolver or the client cannot use, an IP-to-ASN
/// database that is missing or bad) stores nothing: the network stack, and the database.
pub struct Ready {
    config: Arc<Config>,
    dns: Arc<Dns>,
    fetcher: Fetcher,
    db: Option<Arc<AsnDb>>,
}

impl Ready {
    /// Build the network stack from `config` and load its IP-to-ASN database (saying on
    /// stderr, unless `quiet`, when there is none).
    ///
    /// # Errors
    /// Resolver or client construction errors; database load errors.
    pub fn new(config: Config, quiet: bool) -> Result<Ready> {
        let (config, dns, fetcher) = stack(config)?;
        let db = asn_database(&config, quiet)?;
        Ok(Ready {
            config,
            dns,
            fetcher,
            db,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The run's context, its responses recorded in (and replayed from) `journal`, and its
    /// attributor.
    fn into_parts(self, journal: Option<Arc<dyn crate::net::http::Journal>>) -> (Context, Attributor) {
        let ctx = Context::of(self.config, self.dns, self.fetcher, journal);
        let attributor = ctx.attributor_with(self.db);
        (ctx, attributor)
    }
}

/// The database files the config names, or the downloaded one, if any.
pub fn database_files(config: &Config) -> Option<Vec<PathBuf>> {
    let files = config.attribution.asn_database.list();
    if !files.is_empty() {
        return Some(files);
    }
    asn::store::current(&config.data_dir()).map(|p| vec![p])
}

/// The database the config names (with the licence the config states, if any) or the
/// downloaded one; says on stderr how many lines `--lenient` skipped in each file.
///
/// # Errors
/// Database load errors.
pub fn load_database(config: &Config) -> Result<Option<AsnDb>> {
    let Some(files) = database_files(config) else {
        return Ok(None);
    };
    let a = &config.attribution;
    // Through the compiled index in the data directory, rebuilt whenever a source changed.
    let cache = asn::cache::path(&config.data_dir());
    let (mut db, _) = asn::cache::load_cached(&files, a.lenient, &cache)?;
    // The stated licence is that of the configured files, not of a downloaded one.
    let configured = !a.asn_database.list().is_empty();
    if let Some(l) = a.asn_licence.as_ref().filter(|l| configured && !l.trim().is_empty()) {
        db.info.licence = l.trim().to_string();
    }
    for (file, n) in &db.info.skipped_by_file {
        let s = if *n == 1 { "" } else { "s" };
        crate::net::progress::notice(&format!("skipped {n} bad line{s} in ASN database {file} (--lenient)"));
    }
    Ok(Some(db))
}

/// Crawl the user's `inputs` (handles, profile or actor URLs) and attribute every instance
/// met. Inputs that fail before the crawl (malformed, a URL naming no account) are reported
/// as failed seeds in the user's order; the token stays with the first input as typed.
pub async fn snapshot(
    ctx: &Context,
    attributor: &Arc<Attributor>,
    inputs: &[String],
    options: &CrawlOptions,
    quiet: bool,
) -> Snapshot {
    // The memory queue never fails: there is no error to hand on.
    snapshot_in(ctx, attributor, inputs, options, quiet, &MemoryQueue::default())
        .await
        .0
}

/// As [`snapshot`], with a deeper crawl's frontier in `queue`; a queue error comes back beside
/// the snapshot of what was crawled before it.
pub async fn snapshot_in(
    ctx: &Context,
    attributor: &Arc<Attributor>,
    inputs: &[String],
    options: &CrawlOptions,
    quiet: bool,
    queue: &dyn Queue,
) -> (Snapshot, Option<Error>) {
    let progress = Progress::new(inputs.len() as u64, quiet);
    ctx.fetcher.show_waits(&progress);
    let prepared = prepare(ctx, inputs).await;
    let mut options = options.clone();
    // When the token owner's input failed before the crawl, no other seed may inherit the
    // token (the crawl gives it to its first seed).
    if prepared.first().is_some_and(|p| p.is_err()) {
        options.token = None;
    }
    let mut frontier = MemoryFrontier::default();
    for s in prepared.iter().filter_map(|p| p.as_ref().ok()) {
        frontier.push(Task::Seed(s.clone()));
    }
    let (mut report, failed) = crawl::run_in(ctx.fetcher.clone(), &mut frontier, &options, &progress, queue).await;
    if failed.is_some() {
        progress.finish();
        let snap = Snapshot {
            crawl: report,
            attribution: attributor.source(),
            hosts: BTreeMap::new(),
        };
        return (snap, failed);
    }
    report.seeds = merge(prepared, inputs, std::mem::take(&mut report.seeds));
    progress.note("attributing hosts");
    let hosts = attribute_all(attributor, &report, &progress).await;
    progress.finish();
    let snap = Snapshot {
        crawl: report,
        attribution: attributor.source(),
        hosts,
    };
    (snap, None)
}

/// Per input, in order: the handle to crawl, or the report of an input that failed already.
type Prepared = Vec<std::result::Result<String, SeedReport>>;

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
    out
}

/// Put the pre-crawl failures back among the crawled seeds, in the user's order, each
/// under the input the user typed, and a duplicate naming the seed it repeats as typed too
/// (the crawl saw the handles `prepare` made of them).
fn merge(prepared: Prepared, inputs: &[String], crawled: Vec<SeedReport>) -> Vec<SeedReport> {
    let as_typed = |handle: &str| {
        prepared
            .iter()
            .zip(inputs)
            .find(|(p, _)| p.as_ref().is_ok_and(|h| h == handle))
            .map(|(_, typed)| typed.clone())
    };
    let mut crawled = crawled.into_iter();
    prepared
        .iter()
        .zip(inputs)
        .filter_map(|(p, typed)| match p {
            Ok(_) => crawled.next().map(|mut s| {
                s.input = typed.clone();
                s.duplicate_of = s.duplicate_of.map(|d| as_typed(&d).unwrap_or(d));
                s
            }),
            Err(failed) => Some(failed.clone()),
        })
        .collect()
}

async fn attribute_all(
    attributor: &Arc<Attributor>,
    report: &CrawlReport,
    progress: &Progress,
) -> BTreeMap<String, crate::model::attribution::HostAttribution> {
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

/// A crawl to store.
#[derive(Debug, Clone)]
pub struct Job {
    pub seeds: Vec<String>,
    pub options: CrawlOptions,
    pub resume: Resume,
    pub quiet: bool,
    /// Seconds added to the clock for this snapshot's times (0 for a real crawl; `demo` dates
    /// its weeks one week apart, ending now).
    pub clock_offset_secs: i64,
}

/// What identifies "the same command": the same seeds with the same crawl options.
#[derive(Serialize)]
struct Request<'a> {
    kind: &'a str,
    seeds: &'a [String],
    followers: bool,
    fetch_actors: bool,
    max_accounts: usize,
    token: bool,
    /// A deeper crawl or a budget, and the budgets (absent at depth 1 without a budget, so
    /// such a request is as before).
    #[serde(skip_serializing_if = "Option::is_none")]
    depth: Option<DepthRequest>,
}

#[derive(Serialize)]
struct DepthRequest {
    depth: u32,
    max_accounts: Option<u64>,
    max_hosts: Option<u64>,
    max_requests: Option<u64>,
}

impl Job {
    /// The request JSON stored with the snapshot (never the token, only whether one is used).
    pub fn request(&self, config: &Config) -> String {
        let d = self.options.depth;
        let r = Request {
            kind: "follows",
            seeds: &self.seeds,
            followers: config.crawl.followers,
            fetch_actors: config.crawl.fetch_actors,
            max_accounts: config.crawl.max_accounts,
            token: self.options.token.is_some(),
            depth: (d != crate::crawl::depth::DepthOptions::default()).then_some(DepthRequest {
                depth: d.depth,
                max_accounts: d.max_accounts,
                max_hosts: d.max_hosts,
                max_requests: d.max_requests,
            }),
        };
        serde_json::to_string(&r).expect("plain fields serialise")
    }
}

/// Start `job`'s snapshot, or continue the unfinished one of the same command.
///
/// # Errors
/// Store errors.
pub async fn begin(writer: &Writer, config: &Config, job: &Job) -> Result<Begun> {
    writer
        .begin(Begin {
            kind: "follows",
            request: job.request(config),
            configuration: serde_json::to_string(config).expect("the configuration serialises"),
            tool: format!("whohosts {}", env!("CARGO_PKG_VERSION")),
            started_at: crate::model::time::now_shifted(job.clock_offset_secs),
            resume: job.resume,
            resume_within_secs: Some(config.crawl.resume_within_hours.saturating_mul(3600)),
        })
        .await
}

/// Crawl `job` into the snapshot `begun` with the network stack and database `ready`
/// (made before the snapshot was opened) and complete it.
///
/// # Errors
/// Store errors, and departures' (the snapshot is then marked failed). Failures of seeds
/// are part of the snapshot, not errors.
pub async fn crawl_into(writer: &Writer, ready: Ready, begun: Begun, job: &Job) -> Result<()> {
    let id = begun.id;
    // Requests and retries of earlier runs, each counted before it was sent.
    let (earlier_requests, earlier_retries) = (begun.requests, begun.retries);
    let result = async {
        let journal = Arc::new(StoreJournal::new(id, writer, begun.journal));
        let (ctx, attributor) = ready.into_parts(Some(journal));
        let attributor = Arc::new(attributor);
        let queue = StoreQueue {
            snapshot: id,
            writer: writer.clone(),
        };
        let (mut snap, failed) = snapshot_in(&ctx, &attributor, &job.seeds, &job.options, job.quiet, &queue).await;
        if let Some(e) = failed {
            return Err(e);
        }
        snap.crawl.departures = departures::learn(&ctx, writer.path(), &snap, job.quiet).await?;
        // Every request of every run, the departure checks' included.
        let (requests, retries) = ctx.fetcher.totals();
        snap.crawl.requests = requests.saturating_add(earlier_requests);
        snap.crawl.retries = retries.saturating_add(earlier_retries);
        if job.clock_offset_secs != 0 {
            snap.crawl.started_at = crate::model::time::now_shifted(job.clock_offset_secs);
            snap.crawl.finished_at = crate::model::time::now_shifted(job.clock_offset_secs);
        }
        writer.complete(id, snap).await
    }
    .await;
    if result.is_err() {
        let _ = writer.set_status(id, Status::Failed).await;
    }
    result
}

/// [`begin`] and [`crawl_into`]: the id of the complete snapshot.
///
/// # Errors
/// As both.
pub async fn run(writer: &Writer, config: Config, job: &Job) -> Result<i64> {
    let ready = Ready::new(config, job.quiet)?;
    let begun = begin(writer, ready.config(), job).await?;
    let id = begun.id;
    crawl_into(writer, ready, begun, job).await?;
    Ok(id)
}
