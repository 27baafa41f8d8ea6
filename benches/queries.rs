//! Trend-query benchmark: every shipped query over `WHOHOSTS_BENCH_WEEKS` (default 100) weekly
//! snapshots of a crawl of `WHOHOSTS_BENCH_ACCOUNTS` (default 10,000) followed accounts.
//!
//! The crawl is real and done once (the simulated fediverse, the real pipeline); the weekly
//! snapshots are that crawl with each week's changes applied (accounts move, hosts migrate,
//! vanish from DNS or leave the lists) and are stored through the store's own writer, which
//! computes and stores their metrics as a crawl would. Each query then runs five times on a
//! read-only connection; the median and the slowest are printed.
//!
//! Run: `nice cargo bench --bench queries` (results kept in bench/RESULTS.md);
//! `WHOHOSTS_BENCH_DB=FILE` keeps the database in FILE.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use whohosts::crawl::CrawlOptions;
use whohosts::model::account::Account;
use whohosts::model::attribution::HostAttribution;
use whohosts::model::handle::InstanceHost;
use whohosts::model::snapshot::Failure;
use whohosts::model::snapshot::Snapshot;
use whohosts::pipeline::Context;
use whohosts::pipeline::{self, Job};
use whohosts::query;
use whohosts::store::{Resume, Store};
use whohosts_sim::{self as sim, generate};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One real crawl of a generated world whose demo account follows `accounts` accounts.
async fn base_crawl(accounts: usize, dir: &std::path::Path) -> (Snapshot, whohosts::config::Config) {
    let mut world = generate::generate(5, accounts / 6 + 1);
    let pool: Vec<String> = world
        .accounts
        .iter()
        .map(|a| a.handle.clone())
        .filter(|h| !h.starts_with("demo"))
        .take(accounts)
        .collect();
    let demo = world
        .accounts
        .iter_mut()
        .find(|a| a.handle == "demo@flagship.example")
        .expect("generated worlds have a demo account");
    demo.follows = pool;
    let running = sim::start(world.layout()).await.expect("the simulator starts");
    let fixture = dir.join("sim-asn.csv");
    running.write_asn_fixture(&fixture).expect("fixture");
    let config = whohosts::config::Config::loopback(running.dns_addr, running.http_port, running.ca())
        .with_asn_fixture(&fixture, sim::FIXTURE_LICENCE);
    let ctx = Context::new(config.clone()).expect("context");
    let attributor = Arc::new(ctx.attributor(true).expect("attributor"));
    let seeds = ["@demo@flagship.example".to_string()];
    let snap = pipeline::snapshot(&ctx, &attributor, &seeds, &CrawlOptions::default(), true).await;
    (snap, config)
}

/// Week `w`: the base crawl with this week's changes.
fn week(base: &Snapshot, w: usize) -> Snapshot {
    let mut s = base.clone();
    let hosts: Vec<String> = s.hosts.keys().filter(|h| *h != "flagship.example").cloned().collect();
    let n = hosts.len().max(1);
    let pick = |k: usize| hosts[(w * 31 + k * 97) % n].clone();
    // Ten hosts migrate: they take the attribution of another host.
    for k in 0..10 {
        let (h, other) = (pick(k), pick(k + 50));
        if let Some(theirs) = s.hosts.get(&other).cloned() {
            s.hosts.insert(h.clone(), HostAttribution { host: h, ..theirs });
        }
    }
    // Five vanish from DNS.
    for k in 10..15 {
        let h = pick(k);
        if let Some(a) = s.hosts.get_mut(&h) {
            a.dns_error = Some("NXDOMAIN".into());
            a.addresses.clear();
            a.shares = BTreeMap::from([(whohosts::model::attribution::UNRESOLVED.to_string(), 1.0)]);
        }
        if let Some(r) = s.crawl.instances.get_mut(&InstanceHost::new(&h)) {
            r.nodeinfo = None;
            r.nodeinfo_error = Some(Failure {
                kind: "dns".into(),
                message: format!("DNS {h}: NXDOMAIN"),
            });
        }
    }
    let list = s.crawl.seeds[0].following.as_mut().expect("the demo seed has a list");
    // Three leave the lists.
    let gone: Vec<String> = (15..18).map(pick).collect();
    list.accounts
        .retain(|a| !a.server.as_ref().is_some_and(|h| gone.contains(&h.to_string())));
    for h in &gone {
        s.hosts.remove(h);
        s.crawl.instances.remove(&InstanceHost::new(h));
    }
    // Twenty accounts move to the flagship; their old accounts stay listed with moved_to.
    let len = list.accounts.len().max(1);
    let mut moved: Vec<Account> = vec![];
    for k in 0..20 {
        let old = &mut list.accounts[(w * 53 + k * 211) % len];
        let user = old.handle.as_deref().unwrap_or("@x@y").trim_start_matches('@');
        let user = user.split('@').next().unwrap_or("x").to_string();
        let new_handle = format!("@{user}_w{w}k{k}@flagship.example");
        old.moved_to = Some(new_handle.clone());
        moved.push(Account {
            handle: Some(new_handle),
            server: Some(InstanceHost::new("flagship.example")),
            actor_uri: Some(format!("http://flagship.example/users/{user}_w{w}k{k}")),
            moved_to: None,
            ..old.clone()
        });
    }
    list.accounts.extend(moved);
    for h in s.crawl.instances.values_mut() {
        h.accounts = 0;
    }
    for a in &list.accounts {
        if let Some(r) = a.server.as_ref().and_then(|h| s.crawl.instances.get_mut(h)) {
            r.accounts += 1;
        }
    }
    s
}

fn main() {
    let accounts = env_num("WHOHOSTS_BENCH_ACCOUNTS", 10_000);
    let weeks = env_num("WHOHOSTS_BENCH_WEEKS", 100);
    let dir = std::env::temp_dir().join(format!("whohosts-bench-queries-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // WHOHOSTS_BENCH_DB keeps the database there (for EXPLAIN QUERY PLAN and the like).
    let db = std::env::var_os("WHOHOSTS_BENCH_DB").map_or_else(|| dir.join("weeks.db"), Into::into);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let t = Instant::now();
    let (base, config) = rt.block_on(base_crawl(accounts, &dir));
    let listed = whohosts::metrics::compute(&base).population.list_entries;
    println!(
        "base crawl: {listed} accounts on {} instances in {:.1} s",
        base.crawl.instances.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let writer = Store::open(&db).expect("database").writer().expect("writer");
    let job = Job {
        seeds: vec!["@demo@flagship.example".into()],
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet: true,
        clock_offset_secs: 0,
    };
    rt.block_on(async {
        for w in 0..weeks {
            let begun = pipeline::begin(&writer, &config, &job).await.expect("begin");
            writer.complete(begun.id, week(&base, w)).await.expect("stored");
        }
    });
    rt.block_on(writer.close());
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "stored {weeks} weekly snapshots through the writer in {:.1} s ({:.0} MB)",
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    let conn = query::open_read_only(&db).expect("read-only connection");
    let top = query::run(
        &conn,
        "top",
        "SELECT label FROM metric_bucket WHERE rank = 1 AND level = 'organisation' AND weight = 'accounts' LIMIT 1",
        &[],
    )
    .expect("a top organisation");
    let top_name = match top.rows.first().and_then(|r| r.first()) {
        Some(rusqlite::types::Value::Text(t)) => t.clone(),
        _ => "Hetzner".into(),
    };
    let runs: Vec<(&str, Vec<(String, String)>)> = vec![
        ("summary", vec![]),
        ("concentration", vec![]),
        (
            "concentration",
            vec![("level".into(), "as".into()), ("weight".into(), "edges".into())],
        ),
        ("share", vec![("name".into(), top_name)]),
        ("host-changes", vec![]),
        ("host-changes", vec![("from".into(), "1".into())]),
        ("instance-changes", vec![]),
        ("instance-changes", vec![("from".into(), "1".into())]),
        ("moved-accounts", vec![]),
    ];
    println!(
        "{:<44} {:>6} {:>10} {:>10}",
        "query (5 runs)", "rows", "median ms", "max ms"
    );
    let mut worst = Duration::ZERO;
    for (name, params) in runs {
        let sql = query::find(name).expect("shipped").sql;
        let mut times = vec![];
        let mut rows = 0;
        for _ in 0..5 {
            let t = Instant::now();
            rows = query::run(&conn, name, sql, &params)
                .expect("the query runs")
                .rows
                .len();
            times.push(t.elapsed());
        }
        times.sort();
        worst = worst.max(times[4]);
        let label = format!(
            "{name} {}",
            params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "{label:<44} {rows:>6} {:>10.1} {:>10.1}",
            times[2].as_secs_f64() * 1e3,
            times[4].as_secs_f64() * 1e3
        );
    }
    println!(
        "slowest run of any query: {:.1} ms (target: 100 ms)",
        worst.as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
