//! The full-scale crawl benchmark of issue 17: a depth-2 crawl of a large simulated
//! fediverse under server-enforced Mastodon limits, stored as `whohosts crawl` stores it, and
//! compared with the per-host lower bound.
//!
//! The world: 2,000 instances, 200,000 accounts with a heavy tail (one instance holds 30 %),
//! 20–50 ms latency per response, every instance enforcing Mastodon's limit (300 requests per
//! 5 minutes, `X-RateLimit-*` headers, 429 past it) and the client keeping its shipped limits
//! (300 per 5 minutes, 300 paged per 15 minutes, burst 10, 2 at a time per host). The seed
//! `demo@flagship.example` follows `WHOHOSTS_BENCH_FOLLOWS` accounts (default 300, taken at
//! even steps through the world, so 30 % are on the flagship) and each of those follows
//! `WHOHOSTS_BENCH_FOLLOWS2` (default 40) accounts drawn at random; the other demo seeds keep
//! their generated lists. The crawl goes to depth 2 through the store (response journal,
//! frontier, snapshot), as `whohosts crawl --depth 2` does.
//!
//! **Time is scaled.** Real windows (300 requests per 5 minutes) would make this run for
//! hours; every limit window, the server's and the client's, is divided by
//! `WHOHOSTS_BENCH_TIME_SCALE` (default 20: 300 requests per 15 s). The lower bound scales
//! the same way, so the ratio actual / bound means what it would at real windows; latency is
//! not scaled (it matters less at real windows, so the ratio here is if anything pessimistic).
//!
//! Printed: wall time, the per-host lower bound (each host's requests beyond its burst at the
//! rate its limiter allows, the larger of the general and paged budgets; the largest over
//! hosts) and the ratio, requests/s, bytes, the share of 429 answers, the time split (network,
//! limiter waits, database), peak resident memory (crawler and simulator in one process).
//!
//! `WHOHOSTS_BENCH_MODE=reach` instead measures memory: a depth-2 crawl whose lists name
//! 1,000,000 accounts (1,000 followed accounts on Mastodon instances, each following 1,000),
//! not polite (the simulator's generous limits), reporting peak memory before and after it.
//!
//! Run: `cargo bench --profile release --bench crawl_scale` (results in bench/RESULTS.md).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;
use whohosts::config::{Config, RateLimit, DEFAULT_HOST_CONCURRENCY};
use whohosts::crawl::depth::{DepthOptions, Item, Queue, State, Work};
use whohosts::crawl::CrawlOptions;
use whohosts::net::http::{Journal, Page};
use whohosts::pipeline::{self, Context, Job};
use whohosts::store::frontier::StoreQueue;
use whohosts::store::journal::StoreJournal;
use whohosts::store::{Resume, Store};
use whohosts_sim::world::{RateLimitSpec, Software, World};
use whohosts_sim::{self as sim, generate};

mod common;
use common::{host_bound, peak_mb, per_host, status_mb};

/// The system allocator, counting the bytes live and their peak (reset at each phase), so
/// the memory printed by phase says what is in use apart from what the allocator keeps.
struct Counting;

static LIVE: AtomicU64 = AtomicU64::new(0);
static LIVE_PEAK: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only counted.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = std::alloc::System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size() as u64, Relaxed) + layout.size() as u64;
            LIVE_PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size() as u64, Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let p = std::alloc::System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            let now = LIVE.fetch_add(new_size as u64, Relaxed) + new_size as u64;
            LIVE_PEAK.fetch_max(now, Relaxed);
            LIVE.fetch_sub(layout.size() as u64, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes live now and their peak since the last call (which starts a new phase), in MB:
/// Rust's allocations, then SQLite's own (it calls malloc itself), each now and peak.
fn live_mb() -> [f64; 4] {
    let now = LIVE.load(Relaxed);
    let peak = LIVE_PEAK.swap(now, Relaxed);
    // SAFETY: SQLite's memory statistics, read (and the high-water mark reset) only.
    let (sq, sq_peak) = unsafe {
        (
            rusqlite::ffi::sqlite3_memory_used(),
            rusqlite::ffi::sqlite3_memory_highwater(1),
        )
    };
    let mb = |b: f64| b / 1048576.0;
    [mb(now as f64), mb(peak as f64), mb(sq as f64), mb(sq_peak as f64)]
}

/// A phase's reading: resident now and peak (MB), and what [`live_mb`] says.
fn phase(name: &str) -> String {
    let [live, peak, sq, sq_peak] = live_mb();
    format!(
        "{name}: resident {:.1} MB (peak {:.1}); heap live {live:.1} MB (phase peak {peak:.1}), SQLite {sq:.1} MB (phase peak {sq_peak:.1})",
        status_mb("VmRSS:"),
        peak_mb()
    )
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Nanoseconds spent in the store, summed over the tasks that waited for it.
#[derive(Default)]
struct DbTime(AtomicU64);

impl DbTime {
    fn add(&self, since: Instant) {
        let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(ns, Relaxed);
    }
    fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Relaxed))
    }
}

/// The store's response journal, its time counted.
struct TimedJournal {
    inner: StoreJournal,
    time: Arc<DbTime>,
}

impl Journal for TimedJournal {
    fn replay(&self, url: &Url, accept: &str, authenticated: bool) -> Option<Page> {
        let t = Instant::now();
        let page = self.inner.replay(url, accept, authenticated);
        self.time.add(t);
        page
    }
    fn record<'a>(
        &'a self,
        url: &'a Url,
        accept: &'a str,
        authenticated: bool,
        page: &'a Page,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let t = Instant::now();
            self.inner.record(url, accept, authenticated, page).await;
            self.time.add(t);
        })
    }
    fn sending(&self, retry: bool) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let t = Instant::now();
            self.inner.sending(retry).await;
            self.time.add(t);
        })
    }
}

/// The store's frontier, its time counted.
struct TimedQueue {
    inner: StoreQueue,
    time: Arc<DbTime>,
}

impl TimedQueue {
    fn timed<'a, T: Send + 'a>(&'a self, work: Work<'a, T>) -> Work<'a, T> {
        Box::pin(async move {
            let t = Instant::now();
            let r = work.await;
            self.time.add(t);
            r
        })
    }
}

impl Queue for TimedQueue {
    fn offer(&self, items: Vec<Item>) -> Work<'_, ()> {
        self.timed(self.inner.offer(items))
    }
    fn next(&self, depth: u32, after: i64, n: usize) -> Work<'_, Vec<(i64, Item)>> {
        self.timed(self.inner.next(depth, after, n))
    }
    fn mark(&self, states: Vec<(String, State)>) -> Work<'_, ()> {
        self.timed(self.inner.mark(states))
    }
    fn count(&self) -> Work<'_, BTreeMap<State, u64>> {
        self.timed(self.inner.count())
    }
}

/// What the run is.
struct Plan {
    polite: bool,
    instances: usize,
    accounts: usize,
    follows: usize,
    follows2: usize,
    scale: f64,
}

/// The world: `instances` instances, about `accounts` accounts (30 % on the flagship), 20–50
/// ms per response; `demo@flagship.example` follows `follows` accounts at even steps (only
/// Mastodon ones with `mastodon_only`), each of which follows `follows2` drawn at random.
fn bench_world(plan: &Plan, mastodon_only: bool) -> World {
    let mut world = generate::generate_sized(11, plan.instances, plan.accounts);
    for (n, i) in world.instances.iter_mut().enumerate() {
        i.latency_ms = 20 + (n as u64 * 7) % 31;
        if plan.polite {
            i.rate_limit = Some(RateLimitSpec {
                limit: 300,
                window_secs: 300.0 / plan.scale,
            });
        }
    }
    let mastodon: std::collections::HashSet<String> = world
        .instances
        .iter()
        .filter(|i| i.software == Software::Mastodon && i.api.is_none() && i.cname.is_none())
        .map(|i| i.domain.clone())
        .collect();
    let pool: Vec<usize> = (0..world.accounts.len())
        .filter(|&k| {
            let a = &world.accounts[k];
            let domain = a.handle.split('@').nth(1).unwrap_or_default();
            !a.handle.starts_with("demo") && (!mastodon_only || mastodon.contains(domain))
        })
        .collect();
    let all: Vec<String> = world
        .accounts
        .iter()
        .filter(|a| !a.handle.starts_with("demo"))
        .map(|a| a.handle.clone())
        .collect();
    let step = (pool.len() / plan.follows.max(1)).max(1);
    let chosen: Vec<usize> = pool.iter().step_by(step).take(plan.follows).copied().collect();
    let mut rng = fastrand::Rng::with_seed(17);
    for &k in &chosen {
        world.accounts[k].follows = (0..plan.follows2)
            .map(|_| all[rng.usize(0..all.len())].clone())
            .collect();
    }
    let follows: Vec<String> = chosen.iter().map(|&k| world.accounts[k].handle.clone()).collect();
    if let Some(seed) = world.accounts.iter_mut().find(|a| a.handle == "demo@flagship.example") {
        seed.follows = follows;
    }
    world
}

/// What the snapshot's lists hold in memory, in MB: the seeds' lists as values (an estimate:
/// structs and string capacities), the expanded accounts' reports as packed.
fn held_mb(snap: &whohosts::model::snapshot::Snapshot) -> (f64, f64) {
    let s = |v: &Option<String>| v.as_ref().map_or(0, String::capacity);
    let mut bytes = 0usize;
    for r in &snap.crawl.seeds {
        for l in [&r.following, &r.followers].into_iter().flatten() {
            bytes += l.accounts.capacity() * std::mem::size_of::<whohosts::model::account::Account>();
            for a in &l.accounts {
                bytes += s(&a.handle) + s(&a.actor_uri) + s(&a.display_name) + s(&a.moved_to);
                bytes += s(&a.last_status_at) + s(&a.fetch_error) + a.server.as_ref().map_or(0, |h| h.as_str().len());
            }
        }
    }
    let mb = |b: usize| b as f64 / 1048576.0;
    (mb(bytes), mb(snap.crawl.expanded.packed_bytes()))
}

fn main() {
    let polite = std::env::var("WHOHOSTS_BENCH_MODE").map_or(true, |m| m != "reach");
    let plan = Plan {
        polite,
        instances: env_num("WHOHOSTS_BENCH_SIZE", 2000) as usize,
        accounts: env_num("WHOHOSTS_BENCH_ACCOUNTS", 200_000) as usize,
        follows: env_num("WHOHOSTS_BENCH_FOLLOWS", if polite { 300 } else { 1000 }) as usize,
        follows2: env_num("WHOHOSTS_BENCH_FOLLOWS2", if polite { 40 } else { 1000 }) as usize,
        scale: env_num("WHOHOSTS_BENCH_TIME_SCALE", 20).max(1) as f64,
    };
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(run(plan));
}

async fn run(plan: Plan) {
    let world = bench_world(&plan, !plan.polite);
    let accounts = world.accounts.len();
    let seeds = generate::demo_seeds(&world);
    let running = sim::start(world.layout()).await.expect("the simulator starts");
    let dir = std::env::temp_dir().join(format!("whohosts-bench-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fixture = dir.join("sim-asn.csv");
    running.write_asn_fixture(&fixture).expect("fixture written");
    let mut config = Config::loopback(running.dns_addr, running.http_port, running.ca())
        .with_asn_fixture(&fixture, sim::FIXTURE_LICENCE);
    config.data_dir = dir.to_string_lossy().into_owned();
    if plan.polite {
        // The shipped limits, every window scaled by the same factor.
        let shipped = RateLimit::default();
        config.rate_limit = RateLimit {
            period_secs: shipped.period_secs / plan.scale,
            paged_period_secs: shipped.paged_period_secs / plan.scale,
            ..shipped
        };
        config.network.host_concurrency = DEFAULT_HOST_CONCURRENCY;
    }
    let budget = Some(10_000_000);
    let job = Job {
        seeds: seeds.clone(),
        options: CrawlOptions {
            token: None,
            depth: DepthOptions::new(2, budget, None, budget),
        },
        resume: Resume::Auto,
        quiet: true,
        clock_offset_secs: 0,
    };
    let db = dir.join("whohosts.db");
    let writer = Store::open(&db).expect("database").writer().expect("writer");
    // What the world's generation freed is handed back first, so the resident memory before
    // the crawl is what the simulator holds, not what it dropped.
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe { libc::malloc_trim(0) };
    // And the peak is counted from here (Linux resets VmHWM on "5").
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = status_mb("VmRSS:");
    let peak_before = peak_mb();
    let mut phases = vec![phase("before the crawl")];
    let db_time = Arc::new(DbTime::default());
    let t = Instant::now();
    let begun = pipeline::begin(&writer, &config, &job).await.expect("begin");
    let id = begun.id;
    let journal = Arc::new(TimedJournal {
        inner: StoreJournal::new(id, &writer, begun.journal),
        time: db_time.clone(),
    });
    let ctx = Context::with_journal(config.clone(), Some(journal)).expect("context");
    let attributor = Arc::new(ctx.attributor(true).expect("attributor"));
    let queue = TimedQueue {
        inner: StoreQueue {
            snapshot: id,
            writer: writer.clone(),
        },
        time: db_time.clone(),
    };
    let (snap, failed) = pipeline::snapshot_in(&ctx, &attributor, &seeds, &job.options, true, &queue).await;
    assert!(failed.is_none(), "the crawl failed: {failed:?}");
    let crawled = t.elapsed().as_secs_f64();
    let (rss_crawled, peak_crawled) = (status_mb("VmRSS:"), peak_mb());
    phases.push(phase("after the crawl"));
    let held = held_mb(&snap);
    // The list rows, counted one report at a time (the metrics' graph is the store's to build).
    let listed: usize = snap
        .crawl
        .all()
        .map(|s| {
            [&s.following, &s.followers]
                .into_iter()
                .flatten()
                .map(|l| l.accounts.len())
                .sum::<usize>()
        })
        .sum();
    phases.push(phase("after the bench's count"));
    let (expanded, instances_met) = (snap.crawl.expanded.len(), snap.crawl.instances.len());
    let cut = snap
        .crawl
        .depth
        .as_ref()
        .map_or(0, |d| d.cut_by_accounts + d.cut_by_hosts + d.cut_by_requests);
    let opted_out = snap.crawl.depth.as_ref().map_or(0, |d| d.opted_out);
    let store_t = Instant::now();
    writer.complete(id, snap).await.expect("stored");
    let store_secs = store_t.elapsed().as_secs_f64();
    let (rss_stored, peak_stored) = (status_mb("VmRSS:"), peak_mb());
    phases.push(phase("after storing"));
    let secs = t.elapsed().as_secs_f64();
    let stats = running.sim.stats();
    let split = ctx.fetcher.time_split();
    let (requests, retries) = ctx.fetcher.totals();
    let r = &config.rate_limit;
    match plan.polite {
        true => println!(
            "mode: polite, TIME SCALED: every limit window divided by {} (server: 300 requests / {} s per instance with X-RateLimit-* headers; client: {} requests / {} s, {} paged / {} s, burst {}, {} at a time per host); the bound scales the same way",
            plan.scale, 300.0 / plan.scale, r.requests, r.period_secs, r.paged_requests, r.paged_period_secs, r.burst, config.network.host_concurrency
        ),
        false => println!(
            "mode: reach (memory), NOT polite: the simulator's generous limits ({} requests / {} s, {} at a time per host)",
            r.requests, r.period_secs, config.network.host_concurrency
        ),
    }
    println!(
        "world: {} instances, {accounts} accounts, 20-50 ms latency per response; seed demo@flagship.example follows {} accounts, each following {}",
        plan.instances, plan.follows, plan.follows2
    );
    println!(
        "crawl: depth 2, {} seeds, {expanded} accounts expanded ({cut} cut by budgets, {opted_out} opted out); {} accounts listed, {instances_met} instances met",
        seeds.len(),
        listed
    );
    println!("wall: {secs:.1} s (crawl + attribution {crawled:.1} s, storing the snapshot {store_secs:.1} s)");
    println!(
        "requests: {requests} ({:.0}/s), {retries} retries; {:.1} MB of bodies received",
        requests as f64 / secs,
        split.bytes as f64 / 1e6
    );
    let answered = stats.requests.len() as u64;
    println!(
        "429 answers: {} of {answered} ({:.2} %); early retries (before the announced reset): {}",
        stats.too_many,
        100.0 * stats.too_many as f64 / answered.max(1) as f64,
        stats.early_retries
    );
    let db_secs = db_time.get().as_secs_f64();
    println!(
        "time split, summed over requests: network {:.0} s, waiting at the host's gate (limiters, slots, pauses) {:.0} s; database {:.1} s awaited by crawl tasks (journal, frontier) + {store_secs:.1} s storing the snapshot",
        split.network.as_secs_f64(),
        split.waiting.as_secs_f64(),
        db_secs
    );
    let hosts = per_host(&stats.requests);
    let mut bounds: Vec<(&String, u64, u64, f64)> = hosts
        .iter()
        .map(|(h, (n, pg))| (h, *n, *pg, host_bound(&config.host_budget(h).0, *n, *pg)))
        .collect();
    bounds.sort_by(|a, b| b.3.total_cmp(&a.3));
    let bound = bounds.first().map_or(0.0, |b| b.3);
    println!(
        "requests per host: total {answered} over {} hosts; the busiest:",
        hosts.len()
    );
    for (h, n, pg, b) in bounds.iter().take(3) {
        println!("  {h}: {n} requests, {pg} paged, bound {b:.1} s");
    }
    if plan.polite && bound > 0.0 {
        println!(
            "per-host lower bound: {bound:.1} s (scaled; {:.0} s at real windows); actual {secs:.1} s; ratio actual / bound: {:.2}",
            bound * plan.scale,
            secs / bound
        );
    }
    println!(
        "memory: resident {rss_before:.1} MB before the crawl (simulator and world loaded; peak so far {peak_before:.1} MB), peak {:.1} MB (crawler and simulator in one process)",
        peak_mb()
    );
    // What is still in use at the end (freed memory handed back first, after every peak was
    // read): with the network stack, then without it (its pooled connections, client and
    // simulator side).
    // SAFETY: malloc_trim only returns free memory to the system.
    let trimmed = || {
        unsafe { libc::malloc_trim(0) };
        status_mb("VmRSS:")
    };
    let with_net = trimmed();
    drop((ctx, attributor));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let without_net = trimmed();
    println!(
        "in use at the end (freed memory returned): {with_net:.1} MB; {without_net:.1} MB once the crawl's network stack (its pooled connections) is dropped"
    );
    println!(
        "memory by phase: after the crawl resident {rss_crawled:.1} MB (peak {peak_crawled:.1} MB; the seeds' lists hold {:.1} MB, the expanded accounts' reports {:.1} MB packed), after storing resident {rss_stored:.1} MB (peak {peak_stored:.1} MB)",
        held.0, held.1
    );
    for p in &phases {
        println!("  {p}");
    }
    writer.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
