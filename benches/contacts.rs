//! Contacts at scale (issue 16), two figures:
//!
//! - `mbox`: a mailbox of `WHOHOSTS_BENCH_MBOX_MB` MiB (default 1024) is generated on the fly in
//!   the temporary directory (never committed; removed afterwards) and read by the real
//!   reader (`contacts::read`, the path `whohosts contacts` takes): time and the process's
//!   peak resident memory (VmHWM). Targets: under 15 s, under 100 MB.
//! - `dns`: `WHOHOSTS_BENCH_DOMAINS` (default 10,000) distinct mail domains, served by the
//!   simulator's DNS (`[[dns]]` names: each an MX to one of 500 mail hosts spread over the
//!   providers), measured by `pipeline::contacts::measure` (MX, then the hosts' addresses
//!   and attribution) with its bounded concurrency.
//!
//! `WHOHOSTS_BENCH_PART=mbox|dns` runs one part. Run: `cargo bench --bench contacts` (results
//! kept in bench/RESULTS.md).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use whohosts::config::Config;
use whohosts::contacts::{Book, Weight};
use whohosts::model::contact::{Address, ContactWeight};
use whohosts::pipeline::Context;
use whohosts_sim::world::{NameSpec, World};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A figure of /proc/self/status in MB (`VmHWM`: peak resident; `VmRSS`: now).
fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()))
        .unwrap_or(0.0)
        / 1024.0
}

/// Write an mbox of about `bytes` bytes: messages between the owner and 5,000 contacts on 500
/// domains, folded `To:`/`Cc:` headers, bodies of 1 to 12 KiB with a `>From ` line, and one
/// 200 KiB line (a base64 attachment without line breaks) every 1,000 messages.
fn write_mbox(path: &std::path::Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = fastrand::Rng::with_seed(16);
    let line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n";
    let long = "QUJD".repeat(50 * 1024) + "\n";
    let contact = |n: usize| format!("Person {n} <p{n}@d{}.example>", n % 500);
    let (mut written, mut messages) = (0u64, 0u64);
    while written < bytes {
        let c = rng.usize(..5000);
        let (from, to) = if rng.bool() {
            ("Me <me@home.example>".to_string(), contact(c))
        } else {
            (contact(c), "Me <me@home.example>".to_string())
        };
        let mut m = format!(
            "From p{c}@d{}.example Mon Jan  1 00:00:00 2026\nReturn-Path: <x@y.example>\nMessage-ID: <{messages}@home.example>\nFrom: {from}\nTo: {to},\n {}\nCc: {}, \"Lee, Ann\" <ann@lee.example>\nSubject: message {messages}\n\n",
            c % 500,
            contact(rng.usize(..5000)),
            contact(rng.usize(..5000)),
        );
        for i in 0..rng.usize(12..150) {
            m.push_str(if i == 3 { ">From the archive, quoted\n" } else { line });
        }
        if messages % 1000 == 999 {
            m.push_str(&long);
        }
        m.push('\n');
        out.write_all(m.as_bytes())?;
        written += m.len() as u64;
        messages += 1;
    }
    out.flush()?;
    Ok(messages)
}

fn mbox_part() {
    let mb = env_num("WHOHOSTS_BENCH_MBOX_MB", 1024);
    let path = std::env::temp_dir().join(format!("whohosts-bench-{}.mbox", std::process::id()));
    let t = Instant::now();
    let written = write_mbox(&path, mb << 20).expect("the mbox is written");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "mbox: {} ({:.0} MiB, {written} messages) generated in {:.1} s; peak resident so far {:.1} MB",
        path.display(),
        size as f64 / f64::from(1 << 20),
        t.elapsed().as_secs_f64(),
        status_mb("VmHWM:")
    );
    let t = Instant::now();
    let book = whohosts::contacts::read(std::slice::from_ref(&path));
    let secs = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    let peak = status_mb("VmHWM:");
    println!(
        "read: {secs:.2} s ({:.0} MiB/s); {} messages, {} distinct addresses, {} malformed, {} refused",
        size as f64 / f64::from(1 << 20) / secs,
        book.messages,
        book.addresses.len(),
        book.malformed.len(),
        book.refused.len()
    );
    println!(
        "peak resident memory of the whole process: {peak:.1} MB (target: read in under 15 s, under 100 MB): {}",
        if secs < 15.0 && peak < 100.0 { "met" } else { "NOT met" }
    );
}

fn dns_part() {
    let n = env_num("WHOHOSTS_BENCH_DOMAINS", 10_000) as usize;
    let mut world = World {
        providers: whohosts_sim::world::default_providers(),
        instances: vec![],
        accounts: vec![],
        weeks: vec![],
        names: vec![],
    };
    let providers: Vec<String> = world.providers.iter().map(|p| p.name.clone()).collect();
    for h in 0..500 {
        world.names.push(NameSpec {
            name: format!("mx{h}.mail.example"),
            provider: Some(providers[h % providers.len()].clone()),
            ..NameSpec::default()
        });
    }
    let mut book = Book::default();
    for d in 0..n {
        let domain = format!("d{d}.example");
        world.names.push(NameSpec {
            name: domain.clone(),
            mx: vec![
                (10, format!("mx{}.mail.example", d % 500)),
                (20, format!("mx{}.mail.example", (d + 1) % 500)),
            ],
            ..NameSpec::default()
        });
        let a = Address::classify(&format!("c@{domain}")).expect("a valid address");
        book.addresses.insert(a, Weight::default());
    }
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let running = whohosts_sim::start(world.layout()).await.expect("the simulator starts");
        let dir = std::env::temp_dir().join(format!("whohosts-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fixture = dir.join("sim-asn.csv");
        running.write_asn_fixture(&fixture).expect("fixture written");
        let config = Config::loopback(running.dns_addr, running.http_port, running.ca())
            .with_asn_fixture(&fixture, whohosts_sim::FIXTURE_LICENCE);
        let ctx = Context::new(config).expect("context");
        let attributor = Arc::new(ctx.attributor(true).expect("attributor"));
        let t = Instant::now();
        let m = whohosts::pipeline::contacts::measure(&ctx, attributor, &book, ContactWeight::Contacts).await;
        let secs = t.elapsed().as_secs_f64();
        let servers = m.levels.iter().find(|(l, _)| l == "server").map_or(0, |(_, b)| b.len());
        let orgs = m.levels.iter().find(|(l, _)| l == "organisation").map_or(0, |(_, b)| b.len());
        println!(
            "dns: {n} distinct domains (MX each, 500 mail hosts) measured in {secs:.2} s ({:.0} domains/s), at most {} at once; {servers} servers, {orgs} organisations, {} apart",
            n as f64 / secs,
            whohosts::pipeline::contacts::CONCURRENCY,
            m.apart.values().sum::<f64>()
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}

fn main() {
    let part = std::env::var("WHOHOSTS_BENCH_PART").unwrap_or_default();
    if part.is_empty() || part == "mbox" {
        mbox_part();
    }
    if part.is_empty() || part == "dns" {
        dns_part();
    }
}
