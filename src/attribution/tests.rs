//! Unit tests of attribution: how the address policies share a host's weight, CDN buckets.

use super::*;

fn addr(ip: &str, org: &str, cdn: Option<&str>) -> AddressAttribution {
    let ip: IpAddr = ip.parse().unwrap();
    AddressAttribution {
        ip,
        asn: Some(1),
        as_name: None,
        organisation: org.into(),
        cdn: cdn.map(str::to_string),
        range_start: None,
        range_end: None,
        cidr: None,
        cover: crate::attribution::asn::cover(ip),
        country: None,
        source: "test".into(),
        lookup_error: None,
    }
}

#[test]
fn policies_share_weight_as_documented() {
    let a = vec![
        addr("192.0.2.1", "Hetzner", None),
        addr("192.0.2.2", "Hetzner", None),
        addr("2001:db8::1", "OVH", None),
    ];
    let split = shares(AddressPolicy::Split, &a, None);
    assert_eq!(split, BTreeMap::from([("Hetzner".into(), 0.5), ("OVH".into(), 0.5)]));
    let v4 = shares(AddressPolicy::Ipv4, &a, None);
    assert_eq!(v4, BTreeMap::from([("Hetzner".into(), 1.0)]));
    let first = shares(AddressPolicy::First, &a, Some("2001:db8::1".parse().unwrap()));
    assert_eq!(first, BTreeMap::from([("OVH".into(), 1.0)]));
    assert_eq!(
        shares(AddressPolicy::Split, &[], None),
        BTreeMap::from([(UNRESOLVED.into(), 1.0)])
    );
}

#[test]
fn cdn_addresses_go_to_a_cdn_bucket() {
    let a = vec![addr("192.0.2.1", "Cloudflare", Some("Cloudflare"))];
    assert_eq!(
        shares(AddressPolicy::Split, &a, None),
        BTreeMap::from([("behind CDN Cloudflare, origin unknown".into(), 1.0)])
    );
}
