//! Fuzz the IP-to-ASN text formats: arbitrary bytes after a first line that selects the format
//! (ip-location-db CSV with addresses, with integers as IPv4 or IPv6, iptoasn TSV), read
//! strict and lenient. Never a panic; when the table loads, every answer lies inside the row
//! it names, and its CIDR holds the address and lies inside that row.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use whohosts::attribution::asn::load::load_bytes;
use whohosts::attribution::asn::AsnDb;

const FORMATS: [(&str, &str); 4] = [
    ("asn-ipv4.csv", "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"),
    ("asn-ipv4-num.csv", "16777216,16777471,13335,Cloudflare\n"),
    ("asn-ipv6-num.csv", "16777216,16777471,13335,Cloudflare\n"),
    ("ip2asn-combined.tsv", "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"),
];

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Check the answer for `ip`, if any.
fn check(db: &AsnDb, ip: IpAddr) {
    let Some(hit) = db.lookup(ip) else { return };
    let (x, s, e) = (as_u128(ip), as_u128(hit.range_start), as_u128(hit.range_end));
    assert!(
        s <= x && x <= e,
        "{ip} answered by {}-{}",
        hit.range_start,
        hit.range_end
    );
    assert!(hit.cidr.contains(ip), "{ip} outside its CIDR {}", hit.cidr);
    let (n, b) = (as_u128(hit.cidr.network()), as_u128(hit.cidr.broadcast()));
    assert!(s <= n && b <= e, "CIDR {} leaves its row", hit.cidr);
}

/// Addresses at and around every entry's bounds, and a few from the input itself.
fn probes(db: &AsnDb, data: &[u8]) -> Vec<IpAddr> {
    let mut out = vec![];
    for j in 0..db.v4.len() {
        let (s, e) = db.v4.piece(j);
        for x in [s.wrapping_sub(1), s, s + (e - s) / 2, e, e.wrapping_add(1)] {
            out.push(IpAddr::V4(Ipv4Addr::from(x)));
        }
    }
    for j in 0..db.v6.len() {
        let (s, e) = db.v6.piece(j);
        for x in [s.wrapping_sub(1), s, s + (e - s) / 2, e, e.wrapping_add(1)] {
            out.push(IpAddr::V6(Ipv6Addr::from(x)));
        }
    }
    for c in data.chunks_exact(16).take(64) {
        let mut b = [0u8; 16];
        b.copy_from_slice(c);
        out.push(IpAddr::V6(Ipv6Addr::from(b)));
        out.push(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (name, first) = FORMATS[usize::from(pick) % FORMATS.len()];
    // NUL bytes would send the content to the .mmdb reader: keep to the text formats.
    let body: Vec<u8> = rest.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
    let raw = [first.as_bytes(), &body].concat();
    for lenient in [false, true] {
        if let Ok(db) = load_bytes(name, raw.clone(), lenient) {
            for ip in probes(&db, rest) {
                check(&db, ip);
            }
        }
    }
});
