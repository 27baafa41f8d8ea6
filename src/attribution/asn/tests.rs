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
