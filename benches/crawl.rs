//! End-to-end crawl benchmark against the simulated fediverse: a generated world crawled and
//! attributed by the real pipeline, in one of two modes.
//!
//! - `polite` (the default): the client's shipped rate limits, as on a real crawl (Mastodon's
//!   300 requests per 5 minutes and 300 paged requests per 15 minutes per host, a burst of 10,
//!   2 requests at a time per host). The time is compared with the per-host lower bound: the
//!   busiest host's requests beyond the burst, spaced as its limiter allows.
//! - `latency`: a budget of 10,000 requests/s per host, so only latency and CPU count. This
//!   is **not** a polite crawl; it measures how fast the pipeline itself is.
//!
//! Knobs: `WHOHOSTS_BENCH_MODE` (`polite` | `latency`), `WHOHOSTS_BENCH_SIZE` (instances;
//! default 1000 polite, 2000 latency), `WHOHOSTS_BENCH_LATENCY_MS` (per response, default 20),
//! `WHOHOSTS_BENCH_AP_FOLLOWS` (accounts the ActivityPub seed `demo-misskey` follows, spread
//! over the world as its accounts are; default 300 polite, the generated 40 in latency mode:
//! each costs an actor fetch on its instance, so the busiest host needs far more than its burst).
//!
//! Run: `cargo bench --bench crawl` (results kept in bench/RESULTS.md).

use std::sync::Arc;
use std::time::Instant;

use whohosts::config::{Config, RateLimit, DEFAULT_HOST_CONCURRENCY};
use whohosts::crawl::CrawlOptions;
use whohosts::pipeline::snapshot;
use whohosts::pipeline::Context;
use whohosts_sim::server::Logged;

mod common;
use common::{host_bound, peak_mb, per_host};
use whohosts_sim::world::World;
use whohosts_sim::{self as sim, generate};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Print the per-host figures and the lower bound against the actual time.
fn report_bound(config: &Config, log: &[Logged], secs: f64) {
    let hosts = per_host(log);
    let total: u64 = hosts.values().map(|h| h.0).sum();
    let Some((busiest, (n, p))) = hosts.iter().max_by_key(|(_, (n, _))| *n) else {
        println!("no requests logged");
        return;
    };
    let mut bounds: Vec<(&String, f64)> = hosts
        .iter()
        .map(|(h, (n, p))| (h, host_bound(&config.host_budget(h).0, *n, *p)))
        .collect();
    bounds.sort_by(|a, b| b.1.total_cmp(&a.1));
    let bound = bounds.first().map_or(0.0, |b| b.1);
    println!(
        "requests per host: max {n} ({busiest}, {p} paged), total {total} over {} hosts",
        hosts.len()
    );
    println!(
        "per-host lower bound: {bound:.1} s (burst {} at once, then {:.2} s per request and {:.2} s per paged request)",
        config.rate_limit.burst,
        config.rate_limit.period_secs / f64::from(config.rate_limit.requests.max(1)),
        config.rate_limit.paged_period_secs / f64::from(config.rate_limit.paged_requests.max(1)),
    );
    for (h, b) in bounds.iter().take(3) {
        let (n, p) = hosts.get(*h).copied().unwrap_or_default();
        println!("  {h}: {n} requests, {p} paged, bound {b:.1} s");
    }
    if bound > 0.0 {
        println!("actual: {secs:.1} s; ratio actual / bound: {:.2}", secs / bound);
    } else {
        println!("actual: {secs:.1} s; the limiter never binds (no host needs more than its burst)");
    }
}

/// Make `demo-misskey` follow `n` accounts taken at even steps through the world's accounts
/// (which are grouped by instance, so the heavy tail is kept); 0 keeps the generated list.
fn widen_ap_seed(world: &mut World, n: usize) {
    let pool: Vec<String> = world
        .accounts
        .iter()
        .map(|a| a.handle.clone())
        .filter(|h| !h.starts_with("demo"))
        .collect();
    if n == 0 || pool.is_empty() {
        return;
    }
    let step = (pool.len() / n).max(1);
    let follows: Vec<String> = pool.iter().step_by(step).take(n).cloned().collect();
    if let Some(seed) = world
        .accounts
        .iter_mut()
        .find(|a| a.handle.starts_with("demo-misskey@"))
    {
        seed.follows = follows;
    }
}

/// The generated world: seed 11, `size` instances, `latency` ms per response, the
/// ActivityPub seed widened to `ap_follows` (0: as generated).
fn bench_world(size: usize, latency: u64, ap_follows: usize) -> World {
    let mut world = generate::generate(11, size);
    for i in &mut world.instances {
        i.latency_ms = latency;
    }
    widen_ap_seed(&mut world, ap_follows);
    world
}

/// What the run's limits are, from the config in force.
fn mode_line(config: &Config, polite: bool) -> String {
    let r = &config.rate_limit;
    let limits = format!(
        "{} requests / {} s, {} paged / {} s, burst {}, {} at a time per host",
        r.requests, r.period_secs, r.paged_requests, r.paged_period_secs, r.burst, config.network.host_concurrency
    );
    match polite {
        true => format!("mode: polite (the shipped rate limits: {limits})"),
        false => format!("mode: latency only, NOT polite ({limits})"),
    }
}

fn main() {
    let polite = std::env::var("WHOHOSTS_BENCH_MODE").map_or(true, |m| m != "latency");
    let size = env_num("WHOHOSTS_BENCH_SIZE", if polite { 1000 } else { 2000 }) as usize;
    let latency = env_num("WHOHOSTS_BENCH_LATENCY_MS", 20);
    let ap_follows = env_num("WHOHOSTS_BENCH_AP_FOLLOWS", if polite { 300 } else { 0 }) as usize;
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let world = bench_world(size, latency, ap_follows);
        let seeds = generate::demo_seeds(&world);
        let accounts = world.accounts.len();
        let running = sim::start(world.layout()).await.expect("the simulator starts");
        let dir = std::env::temp_dir().join(format!("whohosts-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fixture = dir.join("sim-asn.csv");
        running.write_asn_fixture(&fixture).expect("fixture written");
        let mut config = Config::loopback(running.dns_addr, running.http_port, running.ca())
            .with_asn_fixture(&fixture, sim::FIXTURE_LICENCE);
        if polite {
            // The shipped defaults, not the simulator's generous budget.
            config.rate_limit = RateLimit::default();
            config.network.host_concurrency = DEFAULT_HOST_CONCURRENCY;
        }
        let ctx = Context::new(config.clone()).expect("context");
        let attributor = Arc::new(ctx.attributor(true).expect("attributor"));
        let t = Instant::now();
        let snap = snapshot(&ctx, &attributor, &seeds, &CrawlOptions::default(), true).await;
        let secs = t.elapsed().as_secs_f64();
        println!("{}", mode_line(&config, polite));
        let p = whohosts::metrics::compute(&snap).population;
        println!("world: {size} instances, {accounts} accounts, {latency} ms latency per response");
        println!(
            "seeds: {} ({} accounts listed on {} instances)",
            seeds.len(),
            p.list_entries,
            snap.crawl.instances.len()
        );
        println!(
            "crawl + attribution: {secs:.2} s; {} requests ({:.0}/s), {} retries; {:.0} instances/s",
            snap.crawl.requests,
            snap.crawl.requests as f64 / secs,
            snap.crawl.retries,
            snap.crawl.instances.len() as f64 / secs
        );
        report_bound(&config, &running.sim.stats().requests, secs);
        println!(
            "peak resident memory (crawler and simulator in one process): {:.1} MB",
            peak_mb()
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
