//! Snapshot store benchmark: store a synthetic snapshot of 1,000,000 follow edges (200,000
//! accounts on 5,000 instances, 100 seeds following 10,000 accounts each) through the store's
//! own API (`Writer::begin` + `Writer::complete`, which also computes and stores the metrics),
//! then store the same snapshot again and measure what each unchanged repeat adds on disk.
//!
//! Run: `cargo bench --bench store` (results kept in bench/RESULTS.md). Sizes can be changed
//! with `WHOHOSTS_BENCH_EDGES_PER_SEED`, `WHOHOSTS_BENCH_ACCOUNTS`, `WHOHOSTS_BENCH_INSTANCES`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use whohosts::attribution;
use whohosts::model::account::{Account, Direction, FollowList, ListStatus};
use whohosts::model::attribution::AddressPolicy;
use whohosts::model::attribution::{AddressAttribution, AttributionSource, HostAttribution};
use whohosts::model::handle::InstanceHost;
use whohosts::model::snapshot::NodeInfo;
use whohosts::model::snapshot::Snapshot;
use whohosts::model::snapshot::{CrawlReport, InstanceReport, SeedReport};
use whohosts::store::{Begin, Resume, Store};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn host(i: usize) -> String {
    format!("node{i}.example")
}

fn account(i: usize, instances: usize) -> Account {
    let h = host(i % instances);
    Account {
        handle: Some(format!("@user{i}@{h}")),
        server: Some(InstanceHost::new(&h)),
        actor_uri: Some(format!("https://{h}/users/user{i}")),
        display_name: Some(format!("User {i}")),
        bot: Some(i.is_multiple_of(50)),
        discoverable: Some(true),
        followers_count: Some((i * 7 % 1000) as u64),
        following_count: Some((i * 13 % 700) as u64),
        last_status_at: Some("2026-11-01".into()),
        ..Account::default()
    }
}

fn seed(s: usize, per_seed: usize, accounts: usize, instances: usize) -> SeedReport {
    let list = FollowList {
        direction: Direction::Following,
        source: "mastodon-api".into(),
        declared: Some(per_seed as u64),
        status: ListStatus::Complete,
        accounts: (0..per_seed)
            .map(|k| account((s * 7919 + k * 20) % accounts, instances))
            .collect(),
        pages: per_seed.div_ceil(80) as u32,
        skipped: vec![],
    };
    SeedReport {
        input: format!("@seed{s}@node0.example"),
        handle: Some(format!("@seed{s}@node0.example")),
        server: Some(InstanceHost::new("node0.example")),
        actor_uri: Some(format!("https://node0.example/users/seed{s}")),
        account: Some(account(s, instances)),
        following: Some(list),
        followers: None,
        error: None,
        duplicate_of: None,
        depth: 0,
    }
}

fn attributed(i: usize) -> HostAttribution {
    let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + i as u32));
    let org = format!("Provider {}", i % 40);
    let address = AddressAttribution {
        ip,
        asn: Some(64_512 + (i % 40) as u32),
        as_name: Some(org.clone()),
        organisation: org,
        cdn: None,
        range_start: None,
        range_end: None,
        cidr: None,
        cover: whohosts::attribution::asn::cover(ip),
        country: Some("DE".into()),
        source: "bench".into(),
        lookup_error: None,
    };
    let shares = attribution::shares(AddressPolicy::Split, std::slice::from_ref(&address), Some(ip));
    HostAttribution {
        host: host(i),
        cnames: vec![],
        dns_error: None,
        dns_ttl: 300,
        addresses: vec![address],
        connected: Some(ip),
        hosting_service: None,
        shares,
    }
}

fn synthetic(seeds: usize, per_seed: usize, accounts: usize, instances: usize) -> Snapshot {
    let seeds: Vec<SeedReport> = (0..seeds).map(|s| seed(s, per_seed, accounts, instances)).collect();
    let mut counts: BTreeMap<InstanceHost, InstanceReport> = BTreeMap::new();
    for a in seeds
        .iter()
        .flat_map(|s| s.following.iter().flat_map(|l| l.accounts.iter()))
    {
        if let Some(server) = &a.server {
            counts.entry(server.clone()).or_default().accounts += 1;
        }
    }
    for r in counts.values_mut() {
        r.nodeinfo = Some(NodeInfo {
            schema: "2.0".into(),
            software: Some("mastodon".into()),
            version: Some("4.3.0".into()),
            users_total: Some(100),
            users_active_month: Some(10),
        });
    }
    let crawl = CrawlReport {
        tool: "whohosts bench".into(),
        started_at: "2026-11-22T00:00:00Z".into(),
        finished_at: "2026-11-22T00:10:00Z".into(),
        seeds,
        instances: counts,
        requests: 0,
        retries: 0,
        expanded: Default::default(),
        depth: None,
        departures: vec![],
    };
    Snapshot {
        crawl,
        attribution: AttributionSource {
            database: None,
            online_fallback: false,
            address_policy: AddressPolicy::Split,
        },
        hosts: (0..instances).map(|i| (host(i), attributed(i))).collect(),
    }
}

/// CPU seconds this process has used (user + system), from /proc/self/stat.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = after.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    // Fields 14 and 15 of the line (utime, stime) are 12 and 13 after the command name.
    (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) / 100.0
}

fn file_size(path: &std::path::Path) -> u64 {
    let store = Store::open(path).expect("the database opens");
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    drop(store);
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    let per_seed = env_num("WHOHOSTS_BENCH_EDGES_PER_SEED", 10_000);
    let accounts = env_num("WHOHOSTS_BENCH_ACCOUNTS", 200_000);
    let instances = env_num("WHOHOSTS_BENCH_INSTANCES", 5_000);
    let seeds = 100;
    let t = Instant::now();
    let snap = synthetic(seeds, per_seed, accounts, instances);
    let edges = seeds * per_seed;
    let built = t.elapsed().as_secs_f64();
    let (t, cpu) = (Instant::now(), cpu_secs());
    let distinct = whohosts::metrics::compute(&snap).population.accounts;
    println!(
        "snapshot: {edges} follow edges, {distinct} distinct accounts, {} instances (built in {built:.2} s; metrics::compute alone {:.2} s wall, {:.2} s CPU)",
        snap.crawl.instances.len(),
        t.elapsed().as_secs_f64(),
        cpu_secs() - cpu
    );
    let dir = std::env::temp_dir().join(format!("whohosts-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bench.db");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let mut sizes = vec![file_size(&path)];
    for run in 1..=4 {
        let store = Store::open(&path).expect("the database opens");
        let writer = store.writer().expect("the writer starts");
        let copy = snap.clone();
        let (t, cpu) = (Instant::now(), cpu_secs());
        rt.block_on(async {
            let begun = writer
                .begin(Begin {
                    kind: "follows",
                    request: format!("bench {run}"),
                    configuration: "{}".into(),
                    tool: "whohosts bench".into(),
                    started_at: "2026-11-22T00:00:00Z".into(),
                    resume: Resume::Never,
                    resume_within_secs: None,
                })
                .await
                .expect("begin");
            writer.complete(begun.id, copy).await.expect("complete");
            writer.close().await;
        });
        let (secs, cpu) = (t.elapsed().as_secs_f64(), cpu_secs() - cpu);
        drop(store);
        sizes.push(file_size(&path));
        let grown = sizes[run] - sizes[run - 1];
        println!(
            "snapshot {run}: stored in {secs:.2} s wall, {cpu:.2} s CPU ({:.0} edges/s); file {:.1} MB, +{:.1} MB = {:.1} bytes per edge",
            edges as f64 / secs,
            sizes[run] as f64 / 1e6,
            grown as f64 / 1e6,
            grown as f64 / edges as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
