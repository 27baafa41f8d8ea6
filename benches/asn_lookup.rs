//! ASN table benchmark on the real ip-location-db data: load time, resident memory, lookups
//! per second on one core, `whohosts lookup -` throughput on 150,000 addresses, and a full
//! correctness check of 1,000,000 random addresses against an exhaustive per-row scan.
//!
//! Data: `$WHOHOSTS_ASN_DATA` (a directory holding `asn-ipv4.csv.gz` and `asn-ipv6.csv.gz`),
//! else `../shared/data/asn` beside the clone, else the committed cut in `tests/fixtures/asn`
//! (with a note: the figures then describe a 2,000-range table, not the real one).
//!
//! Run: `cargo bench --bench asn_lookup` (prints figures; results kept in bench/RESULTS.md).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Instant;

use whohosts::attribution::asn::load::load_all;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

struct Row {
    start: u128,
    end: u128,
    asn: u32,
}

/// Every row of both files, in file order, parsed independently of the loader.
fn raw_rows(files: &[PathBuf]) -> (Vec<Row>, Vec<Row>) {
    use std::io::Read;
    let (mut v4, mut v6) = (vec![], vec![]);
    for f in files {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        for r in csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
        {
            let r = r.unwrap();
            let asn: u32 = r[2].parse().unwrap();
            match (r[0].parse::<IpAddr>().unwrap(), r[1].parse::<IpAddr>().unwrap()) {
                (IpAddr::V4(s), IpAddr::V4(e)) => v4.push(Row {
                    start: u32::from(s).into(),
                    end: u32::from(e).into(),
                    asn,
                }),
                (IpAddr::V6(s), IpAddr::V6(e)) => v6.push(Row {
                    start: s.into(),
                    end: e.into(),
                    asn,
                }),
                _ => panic!("mixed row"),
            }
        }
    }
    (v4, v6)
}

/// For each query, the narrowest containing row (earliest on ties), checking every row
/// against every query it contains (queries sorted so each row finds its own).
fn exhaustive(rows: &[Row], queries: &[u128]) -> Vec<Option<u32>> {
    let mut order: Vec<usize> = (0..queries.len()).collect();
    order.sort_by_key(|&i| queries[i]);
    let sorted: Vec<u128> = order.iter().map(|&i| queries[i]).collect();
    let mut best: Vec<Option<(u128, usize)>> = vec![None; queries.len()];
    for (ri, r) in rows.iter().enumerate() {
        let lo = sorted.partition_point(|q| *q < r.start);
        let hi = sorted.partition_point(|q| *q <= r.end);
        let cand = (r.end - r.start, ri);
        for slot in &mut best[lo..hi] {
            if slot.is_none_or(|b| cand < b) {
                *slot = Some(cand);
            }
        }
    }
    let mut out = vec![None; queries.len()];
    for (k, &qi) in order.iter().enumerate() {
        out[qi] = best[k].map(|(_, ri)| rows[ri].asn);
    }
    out
}

/// Time `lookup` over `inputs` on one core and print the rate and the share found.
fn measure<T: Copy, R>(label: &str, inputs: &[T], lookup: impl Fn(T) -> Option<R>) {
    let t = Instant::now();
    let hits = inputs
        .iter()
        .filter(|&&x| black_box(lookup(black_box(x))).is_some())
        .count();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:<42} {:>6.1} M/s ({:.2} % found)",
        format!("{label}:"),
        inputs.len() as f64 / secs / 1e6,
        hits as f64 * 100.0 / inputs.len() as f64
    );
}

/// The data to measure: `$WHOHOSTS_ASN_DATA`, `../shared/data/asn`, or the committed cut.
fn data_files() -> (String, Vec<PathBuf>) {
    let full = |dir: &std::path::Path| vec![dir.join("asn-ipv4.csv.gz"), dir.join("asn-ipv6.csv.gz")];
    if let Some(dir) = std::env::var_os("WHOHOSTS_ASN_DATA").map(PathBuf::from) {
        let files = full(&dir);
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            eprintln!(
                "asn_lookup: WHOHOSTS_ASN_DATA={}: {} is missing",
                dir.display(),
                missing.display()
            );
            std::process::exit(1);
        }
        return (dir.display().to_string(), files);
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data/asn");
    if full(&shared).iter().all(|f| f.is_file()) {
        return ("../shared/data/asn".into(), full(&shared));
    }
    let cut = root.join("tests/fixtures/asn");
    println!(
        "note: no real data ({} not found, WHOHOSTS_ASN_DATA not set): measuring the committed cut \
         in tests/fixtures/asn; set WHOHOSTS_ASN_DATA=DIR for the full figures",
        shared.display()
    );
    let files = vec![cut.join("asn-ipv4-cut.csv.gz"), cut.join("asn-ipv6-cut.csv.gz")];
    ("tests/fixtures/asn (committed cut)".into(), files)
}

/// Seconds `whohosts lookup -` takes to answer `lines` (all output read from a pipe).
fn stream_seconds(files: &[PathBuf], lines: &[String]) -> f64 {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("config.toml");
    let list: Vec<String> = files.iter().map(|f| format!("{:?}", f.display().to_string())).collect();
    let toml = format!("[attribution]\nasn_database = [{}]\n", list.join(", "));
    std::fs::write(&config, toml).expect("writing the temp config");
    let input = lines.join("\n") + "\n";
    let t = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_whohosts"))
        .arg("--config")
        .arg(&config)
        .args(["--quiet", "lookup", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("whohosts starts");
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut out)
        .expect("reading the output");
    let status = child.wait().expect("whohosts ends");
    let secs = t.elapsed().as_secs_f64();
    writer.join().expect("writer thread").expect("writing the input");
    assert!(status.success() || status.code() == Some(1), "{status}");
    let answered = out.iter().filter(|b| **b == b'\n').count();
    assert_eq!(answered, lines.len() + 1, "one line per address plus the header");
    secs
}

fn main() {
    let (shown, files) = data_files();
    let rss0 = status_kb("VmRSS:");
    let t = Instant::now();
    let db = load_all(&files, false).expect("the real data loads");
    let load = t.elapsed().as_secs_f64();
    let rss1 = status_kb("VmRSS:");
    println!(
        "data: {} ({} IPv4 + {} IPv6 ranges after merging)",
        shown, db.info.ranges_v4, db.info.ranges_v6
    );
    println!(
        "load: {load:.3} s; resident memory after load: +{:.1} MB (process {:.1} MB, peak {:.1} MB)",
        (rss1 - rss0) as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        status_kb("VmHWM:") as f64 / 1024.0
    );

    let mut rng = fastrand::Rng::with_seed(7);
    const N: usize = 10_000_000;
    let v4: Vec<u32> = (0..N).map(|_| rng.u32(..)).collect();
    let v6_any: Vec<u128> = (0..N).map(|_| rng.u128(..)).collect();
    let v6_global: Vec<u128> = (0..N).map(|_| (0x2u128 << 124) | rng.u128(..(1u128 << 124))).collect();
    measure("IPv4 random", &v4, |x| db.v4.lookup(x));
    measure("IPv6 random (whole space)", &v6_any, |x| db.v6.lookup(x));
    measure("IPv6 random in 2000::/4", &v6_global, |x| db.v6.lookup(x));
    let (raw4, raw6) = raw_rows(&files);
    let inside = |rows: &[Row], rng: &mut fastrand::Rng| -> Vec<u128> {
        (0..N)
            .map(|_| {
                let r = &rows[rng.usize(..rows.len())];
                r.start + rng.u128(..=(r.end - r.start))
            })
            .collect()
    };
    let in4: Vec<u32> = inside(&raw4, &mut rng).into_iter().map(|x| x as u32).collect();
    let in6 = inside(&raw6, &mut rng);
    measure("IPv4 inside random ranges", &in4, |x| db.v4.lookup(x));
    measure("IPv6 inside random ranges", &in6, |x| db.v6.lookup(x));
    let ips: Vec<IpAddr> = (0..1_000_000)
        .map(|i| {
            if i % 2 == 0 {
                IpAddr::V4(Ipv4Addr::from(v4[i]))
            } else {
                IpAddr::V6(Ipv6Addr::from(v6_global[i]))
            }
        })
        .collect();
    measure("full AsnHit (names, ranges, CIDR), mixed", &ips, |ip| db.lookup(ip));

    // `lookup -` end to end: start, load, then 150,000 addresses (half IPv4, half IPv6,
    // inside real rows) streamed through stdin and out as TSV; the run with no input gives
    // the start-up and load time, the difference the streaming rate.
    let stream: Vec<String> = (0..150_000)
        .map(|i| {
            if i % 2 == 0 {
                Ipv4Addr::from(in4[i]).to_string()
            } else {
                Ipv6Addr::from(in6[i]).to_string()
            }
        })
        .collect();
    let start = stream_seconds(&files, &[]);
    let total = stream_seconds(&files, &stream);
    println!(
        "lookup - (150000 addresses): {total:.2} s in all, {start:.2} s of it start and load; {:.0} k lines/s streaming, {:.0} k lines/s overall",
        stream.len() as f64 / (total - start) / 1e3,
        stream.len() as f64 / total / 1e3
    );

    let t = Instant::now();
    let mut mismatches = 0;
    let mut checked = 0;
    for (rows, v6) in [(&raw4, false), (&raw6, true)] {
        // Half inside random rows, half anywhere in the family's space.
        let q: Vec<u128> = (0..500_000)
            .map(|i| {
                if i % 2 == 0 {
                    let r = &rows[rng.usize(..rows.len())];
                    r.start + rng.u128(..=(r.end - r.start))
                } else if v6 {
                    rng.u128(..)
                } else {
                    u128::from(rng.u32(..))
                }
            })
            .collect();
        let want = exhaustive(rows, &q);
        for (x, w) in q.iter().zip(want) {
            let got = if v6 {
                db.lookup(IpAddr::V6(Ipv6Addr::from(*x)))
            } else {
                db.lookup(IpAddr::V4(Ipv4Addr::from(*x as u32)))
            };
            checked += 1;
            if got.map(|h| h.asn) != w.filter(|a| *a != 0) {
                mismatches += 1;
            }
        }
    }
    println!(
        "correctness: {checked} random addresses, {mismatches} mismatches against the exhaustive scan ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(mismatches, 0);
}
