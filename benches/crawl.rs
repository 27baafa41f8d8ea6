//! End-to-end crawl benchmark against the simulated fediverse: a generated world of
//! `WHOHOSTS_BENCH_SIZE` instances (default 2000) with `WHOHOSTS_BENCH_LATENCY_MS` of latency
//! per response (default 20), crawled and attributed by the real pipeline with its default
//! concurrency. Prints wall time, requests, rates and peak memory.
//!
//! Run: `cargo bench --bench crawl` (results kept in bench/RESULTS.md).

use std::sync::Arc;
use std::time::Instant;

use whohosts::cli::Context;
use whohosts::crawl::CrawlOptions;
use whohosts::pipeline::snapshot;
use whohosts::sim::{self, generate};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()))
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let size = env_num("WHOHOSTS_BENCH_SIZE", 2000) as usize;
    let latency = env_num("WHOHOSTS_BENCH_LATENCY_MS", 20);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let mut world = generate::generate(11, size);
        for i in &mut world.instances {
            i.latency_ms = latency;
        }
        let seeds = generate::demo_seeds(&world);
        let accounts = world.accounts.len();
        let running = sim::start(world.layout()).await.expect("the simulator starts");
        let dir = std::env::temp_dir().join(format!("whohosts-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = running
            .config_with_fixture(&dir.join("sim-asn.csv"))
            .expect("fixture written");
        let ctx = Context::new(config).expect("context");
        let attributor = Arc::new(ctx.attributor(true).expect("attributor"));
        let t = Instant::now();
        let snap = snapshot(&ctx, &attributor, &seeds, &CrawlOptions::default(), true).await;
        let secs = t.elapsed().as_secs_f64();
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
        println!(
            "peak resident memory (crawler and simulator in one process): {:.1} MB",
            peak_mb()
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
