//! The offline IP → AS table on a committed cut of the real data: reference answers, quirks,
//! and equality with a brute-force scan on 1,000,000 random addresses.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use whohosts::asn::load::load;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/asn")
        .join(name)
}

struct RawRow {
    start: u128,
    end: u128,
    asn: u32,
    name: String,
}

/// The reference: parse the rows independently and scan them all.
fn raw_rows(name: &str) -> Vec<RawRow> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let bound = |s: &str| match s.parse::<IpAddr>().unwrap() {
                IpAddr::V4(a) => u128::from(u32::from(a)),
                IpAddr::V6(a) => u128::from(a),
            };
            RawRow {
                start: bound(&r[0]),
                end: bound(&r[1]),
                asn: r[2].parse().unwrap(),
                name: r[3].to_string(),
            }
        })
        .filter(|r| r.asn != 0)
        .collect()
}

/// Narrowest containing row wins, then the earliest in the file.
fn brute(rows: &[RawRow], x: u128) -> Option<(u32, &str)> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.start <= x && x <= r.end)
        .min_by_key(|(i, r)| (r.end - r.start, *i))
        .map(|(_, r)| (r.asn, r.name.as_str()))
}

#[test]
fn reference_answers_from_real_data() {
    let db = load(&fixture("asn-ipv4-cut.csv.gz"), false).unwrap();
    for (ip, asn, name) in [
        ("1.1.1.1", 13335, "Cloudflare, Inc."),
        ("116.202.1.1", 24940, "Hetzner Online GmbH"),
        ("51.75.1.1", 16276, "OVH SAS"),
        ("185.70.42.1", 62371, "Proton AG"),
        ("52.1.1.1", 16509, "Amazon.com, Inc."),
        ("8.8.8.8", 15169, "Google LLC"),
    ] {
        let hit = db.lookup(ip.parse().unwrap()).unwrap_or_else(|| panic!("{ip}"));
        assert_eq!((hit.asn, hit.name.as_str()), (asn, name), "{ip}");
    }
    let hit = db.lookup("1.1.1.1".parse().unwrap()).unwrap();
    assert_eq!(hit.cover.to_string(), "1.1.1.0/24");
    assert_eq!(
        db.info.licence,
        "CC BY 4.0: RouteViews, DB-IP.com and NRO (via ip-location-db)"
    );
}

#[test]
fn quirks_of_the_real_files() {
    let db = load(&fixture("asn-ipv4-cut.csv.gz"), false).unwrap();
    assert_eq!(db.lookup("214.96.0.1".parse().unwrap()).unwrap().asn, 749);
    assert_eq!(
        db.lookup("215.0.0.1".parse().unwrap()).unwrap().asn,
        721,
        "the narrower overlapping row wins"
    );
    let names: Vec<&str> = db.names.iter().map(|n| n.name.as_str()).collect();
    assert!(names.contains(&"LLC \"SPUTNIK\""), "CSV-escaped quotes are unescaped");
    assert!(names.iter().any(|n| n.contains('\u{a0}')), "non-ASCII names survive");
    assert!(db.names.iter().any(|n| n.asn == 4_294_967_294), "32-bit AS numbers");
}

#[test]
fn lookup_equals_brute_force_on_a_million_random_addresses() {
    let mut rng = fastrand::Rng::with_seed(20261121);
    for (file, v6) in [("asn-ipv4-cut.csv.gz", false), ("asn-ipv6-cut.csv.gz", true)] {
        let db = load(&fixture(file), false).unwrap();
        let rows = raw_rows(file);
        let mut hits = 0;
        for n in 0..500_000 {
            // Half inside a random row (so most look-ups hit), half anywhere.
            let x = if n % 2 == 0 {
                let r = &rows[rng.usize(..rows.len())];
                r.start + rng.u128(..=(r.end - r.start))
            } else if v6 {
                rng.u128(..)
            } else {
                u128::from(rng.u32(..))
            };
            let ip = if v6 {
                IpAddr::V6(Ipv6Addr::from(x))
            } else {
                IpAddr::V4(Ipv4Addr::from(x as u32))
            };
            let got = db.lookup(ip);
            let want = brute(&rows, x);
            assert_eq!(got.as_ref().map(|h| (h.asn, h.name.as_str())), want, "{ip}");
            hits += usize::from(want.is_some());
        }
        assert!(hits >= 250_000, "{file}: {hits} hits");
    }
}

#[test]
fn mmdb_files_are_read() {
    let db = load(&fixture("test-asn.mmdb"), false).unwrap();
    assert_eq!(db.info.format, "mmdb");
    let hit = db.lookup("116.202.3.4".parse().unwrap()).unwrap();
    assert_eq!((hit.asn, hit.name.as_str()), (24940, "Hetzner Online GmbH"));
    assert_eq!(
        (hit.range_start.to_string(), hit.range_end.to_string()),
        ("116.202.0.0".into(), "116.202.255.255".into())
    );
    assert_eq!(db.lookup("2a01:4f8:1::1".parse().unwrap()).unwrap().asn, 24940);
    assert_eq!(db.lookup("1.1.1.1".parse().unwrap()).unwrap().asn, 13335);
    assert_eq!(db.lookup("9.9.9.9".parse().unwrap()), None);
}
