//! ASN table benchmark on the real ip-location-db data (../shared/data/asn, or
//! $WHOHOSTS_ASN_DATA): load time, resident memory, lookups per second on one core, and a
//! full correctness check of 1,000,000 random addresses against an exhaustive per-row scan.
//!
//! Run: `cargo bench --bench asn_lookup` (prints figures; results kept in bench/RESULTS.md).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Instant;

use whohosts::asn::load::load_all;

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

fn main() {
    let dir = PathBuf::from(std::env::var("WHOHOSTS_ASN_DATA").unwrap_or_else(|_| "../shared/data/asn".into()));
    let files = vec![dir.join("asn-ipv4.csv.gz"), dir.join("asn-ipv6.csv.gz")];
    let rss0 = status_kb("VmRSS:");
    let t = Instant::now();
    let db = load_all(&files, false).expect("the real data loads");
    let load = t.elapsed().as_secs_f64();
    let rss1 = status_kb("VmRSS:");
    println!(
        "data: {} ({} IPv4 + {} IPv6 ranges after merging)",
        dir.display(),
        db.info.ranges_v4,
        db.info.ranges_v6
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
