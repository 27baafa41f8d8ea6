//! Unit tests of the range table and lookups: overlaps, nesting, CIDR and cover.

use super::*;

fn v4(s: &str) -> u128 {
    u128::from(u32::from(s.parse::<Ipv4Addr>().unwrap()))
}

#[test]
fn narrowest_row_wins_on_overlap() {
    // The real quirk: 214.95.0.0–215.0.255.255 AS749 vs 215.0.0.0–215.1.3.255 AS721.
    let rows = [
        Row {
            start: v4("214.95.0.0"),
            end: v4("215.0.255.255"),
            info: 0,
        },
        Row {
            start: v4("215.0.0.0"),
            end: v4("215.1.3.255"),
            info: 1,
        },
    ];
    let names = vec![
        AsInfo {
            asn: 749,
            name: "DoD".into(),
            country: None,
        },
        AsInfo {
            asn: 721,
            name: "DoD NIC".into(),
            country: None,
        },
    ];
    let db = AsnDb::from_rows(&rows, &[], names, DbInfo::default());
    assert_eq!(db.lookup("214.200.0.1".parse().unwrap()).unwrap().asn, 749);
    let hit = db.lookup("215.0.5.5".parse().unwrap()).unwrap();
    assert_eq!(hit.asn, 721);
    assert_eq!(hit.range_start.to_string(), "215.0.0.0");
    let cut = db.lookup("214.95.0.9".parse().unwrap()).unwrap();
    assert_eq!(
        (cut.range_start.to_string(), cut.range_end.to_string()),
        ("214.95.0.0".into(), "215.0.255.255".into())
    );
    assert_eq!(db.lookup("215.1.4.0".parse().unwrap()), None);
}

#[test]
fn nested_rows_split_the_outer_one() {
    let rows = [
        Row {
            start: 100,
            end: 200,
            info: 0,
        },
        Row {
            start: 120,
            end: 130,
            info: 1,
        },
    ];
    let segs: Vec<(u128, u128, u32)> = flatten(&rows).map(|s| (s.start, s.end, s.info)).collect();
    assert_eq!(segs, vec![(100, 119, 0), (120, 130, 1), (131, 200, 0)]);
}

#[test]
fn cidr_and_cover() {
    let s = "104.16.0.0".parse().unwrap();
    let e = "104.21.127.255".parse().unwrap();
    let ip = "104.18.3.4".parse().unwrap();
    assert_eq!(cidr_within(s, e, ip).to_string(), "104.16.0.0/14");
    let tail = "104.21.100.1".parse().unwrap();
    assert_eq!(cidr_within(s, e, tail).to_string(), "104.21.0.0/17");
    assert_eq!(cover(ip).to_string(), "104.18.3.0/24");
    let ip6: IpAddr = "2a01:4f8:1:2::3".parse().unwrap();
    assert_eq!(cover(ip6).to_string(), "2a01:4f8:1::/48");
    // An IPv6 address embedding an IPv4 address is covered by the IPv4 address's /24.
    for embedding in ["::ffff:104.18.3.4", "64:ff9b::104.18.3.4", "2002:6812:304::1"] {
        assert_eq!(
            cover(embedding.parse().unwrap()).to_string(),
            "104.18.3.0/24",
            "{embedding}"
        );
    }
    assert_eq!(cover("::".parse().unwrap()).to_string(), "::/48");
}

/// The old search for the largest block, one prefix at a time: the reference of the closed
/// form in [`cidr_within`].
fn cidr_by_steps(bits: u32, s: u128, e: u128, x: u128) -> u32 {
    let mut prefix = bits;
    while prefix > 0 {
        let size_bits = bits - prefix + 1;
        let mask = if size_bits >= 128 {
            0
        } else {
            !((1u128 << size_bits) - 1)
        };
        let net = x & mask;
        let last = net | !mask & if bits == 32 { u128::from(u32::MAX) } else { u128::MAX };
        if net < s || last > e {
            break;
        }
        prefix -= 1;
    }
    prefix
}

#[test]
fn the_largest_block_is_the_one_a_search_by_steps_finds() {
    let mut rng = fastrand::Rng::with_seed(9);
    let mut cases = 0;
    for _ in 0..200_000 {
        for bits in [32u32, 128] {
            let max = if bits == 32 { u128::from(u32::MAX) } else { u128::MAX };
            // Bounds near block edges (all ones or zeros below a random bit), and random ones.
            let edge = |rng: &mut fastrand::Rng| {
                let v = rng.u128(..) & max;
                let k = rng.u32(0..bits);
                match rng.u8(0..4) {
                    0 => v & !((1u128 << k) - 1),
                    1 => v | ((1u128 << k) - 1),
                    2 => [0, max][rng.usize(0..2)],
                    _ => v,
                }
            };
            let (a, b) = (edge(&mut rng), edge(&mut rng));
            let (s, e) = (a.min(b), a.max(b));
            let x = match rng.u8(0..3) {
                0 => s,
                1 => e,
                _ => s + rng.u128(..) % (e - s).saturating_add(1).max(1),
            };
            let x = x.clamp(s, e);
            let ip = |v: u128| -> IpAddr {
                if bits == 32 {
                    IpAddr::V4((v as u32).into())
                } else {
                    IpAddr::V6(v.into())
                }
            };
            let net = cidr_within(ip(s), ip(e), ip(x));
            assert_eq!(
                u32::from(net.prefix()),
                cidr_by_steps(bits, s, e, x),
                "{s:x}-{e:x} around {x:x}"
            );
            assert!(net.contains(ip(x)));
            cases += 1;
        }
    }
    assert_eq!(cases, 400_000);
}

fn db_of(rows: &[(&str, &str, u32)]) -> AsnDb {
    let int = |s: &str| match s.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, (s, e, _))| Row {
            start: int(s),
            end: int(e),
            info: i as u32,
        })
        .collect();
    let names = (1..=rows.len() as u32)
        .map(|asn| AsInfo {
            asn,
            name: format!("AS{asn}"),
            country: None,
        })
        .collect();
    let (v6, v4): (Vec<Row>, Vec<Row>) = rows.iter().partition(|r| r.end > u128::from(u32::MAX));
    AsnDb::from_rows(&v4, &v6, names, DbInfo::default())
}

#[test]
fn the_cidr_of_an_outer_row_holds_no_address_of_a_nested_one() {
    let db = db_of(&[
        ("10.0.0.0", "10.0.255.255", 1),
        ("10.0.128.0", "10.0.128.255", 2),
        ("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 3),
        ("2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff", 4),
    ]);
    for (ip, asn, cidr) in [
        ("10.0.0.1", 1, "10.0.0.0/17"),
        ("10.0.129.5", 1, "10.0.129.0/24"),
        ("10.0.200.1", 1, "10.0.192.0/18"),
        ("10.0.128.7", 2, "10.0.128.0/24"),
        ("2001:db8::1", 3, "2001:db8::/48"),
        ("2001:db8:2::1", 3, "2001:db8:2::/47"),
        ("2001:db8:ff00::1", 3, "2001:db8:8000::/33"),
        ("2001:db8:1:2::3", 4, "2001:db8:1::/48"),
    ] {
        let hit = db.lookup(ip.parse().unwrap()).unwrap();
        assert_eq!((hit.asn, hit.cidr.to_string().as_str()), (asn, cidr), "{ip}");
    }
    // The range is still the database row's.
    let hit = db.lookup("10.0.129.5".parse().unwrap()).unwrap();
    assert_eq!(
        (hit.range_start.to_string(), hit.range_end.to_string()),
        ("10.0.0.0".into(), "10.0.255.255".into())
    );
}
