//! Unit tests of the address policy (every special-purpose block, and listed networks) and
//! of the count of names that did not resolve.

use crate::config::PrivateAddresses;

use super::*;

/// Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (IPv4 registry
/// as updated in 2025, IPv6 registry as updated 2025-10-09), one sample address each, and
/// the verdict; then the forms outside the registries (multicast, deprecated, embedded
/// IPv4) and public addresses that must stay allowed.
const VERDICTS: &[(&str, Option<&str>)] = &[
    // IPv4 Special-Purpose Address Registry.
    ("0.0.0.0", Some("\"this\" network")),
    ("0.1.2.3", Some("\"this\" network")),
    ("10.1.2.3", Some("private")),
    ("100.64.0.1", Some("shared (carrier-grade NAT)")),
    ("100.127.255.254", Some("shared (carrier-grade NAT)")),
    ("127.0.0.1", Some("loopback")),
    ("169.254.169.254", Some("link-local")),
    ("172.16.0.1", Some("private")),
    ("172.31.255.1", Some("private")),
    ("192.0.0.1", Some("reserved for IETF protocol assignments")),
    ("192.0.0.8", Some("reserved for IETF protocol assignments")),
    ("192.0.0.9", Some("reserved for IETF protocol assignments")),
    ("192.0.0.10", Some("reserved for IETF protocol assignments")),
    ("192.0.0.170", Some("reserved for IETF protocol assignments")),
    ("192.0.0.171", Some("reserved for IETF protocol assignments")),
    ("192.0.2.1", Some("documentation")),
    ("192.31.196.1", Some("AS112 anycast")),
    ("192.52.193.1", Some("AMT anycast")),
    ("192.88.99.1", Some("6to4 relay anycast (deprecated)")),
    ("192.88.99.2", Some("6to4 relay anycast (deprecated)")),
    ("192.168.1.1", Some("private")),
    ("192.175.48.1", Some("AS112 anycast")),
    ("198.18.0.1", Some("benchmarking")),
    ("198.19.255.1", Some("benchmarking")),
    ("198.51.100.7", Some("documentation")),
    ("203.0.113.7", Some("documentation")),
    ("240.0.0.1", Some("reserved")),
    ("255.255.255.254", Some("reserved")),
    ("255.255.255.255", Some("broadcast")),
    ("224.0.0.1", Some("multicast")),
    ("239.255.255.250", Some("multicast")),
    // IPv6 Special-Purpose Address Registry.
    ("::1", Some("loopback")),
    ("::", Some("unspecified")),
    ("::ffff:10.0.0.1", Some("private")),
    ("::ffff:127.0.0.1", Some("loopback")),
    ("64:ff9b::10.0.0.1", Some("private")),
    ("64:ff9b::169.254.169.254", Some("link-local")),
    ("64:ff9b:1::a00:1", Some("NAT64 local-use")),
    ("64:ff9b:1:ffff::1", Some("NAT64 local-use")),
    ("100::1", Some("discard-only")),
    ("100:0:0:1::1", Some("dummy prefix")),
    ("2001::1", Some("Teredo")),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some("Teredo")),
    ("2001:1::1", Some("reserved for IETF protocol assignments")),
    ("2001:1::2", Some("reserved for IETF protocol assignments")),
    ("2001:1::3", Some("reserved for IETF protocol assignments")),
    ("2001:2::1", Some("benchmarking")),
    ("2001:3::1", Some("AMT anycast")),
    ("2001:4:112::1", Some("AS112 anycast")),
    ("2001:10::1", Some("ORCHID (deprecated)")),
    ("2001:20::1", Some("ORCHIDv2")),
    ("2001:30::1", Some("drone remote ID tags")),
    ("2001:1ff::1", Some("reserved for IETF protocol assignments")),
    ("2001:db8::1", Some("documentation")),
    ("2002:a00:1::1", Some("private")),
    ("2002:7f00:1::1", Some("loopback")),
    ("2620:4f:8000::1", Some("AS112 anycast")),
    ("3fff::1", Some("documentation")),
    ("3fff:fff::1", Some("documentation")),
    ("5f00::1", Some("segment routing (SRv6)")),
    ("fc00::1", Some("private (unique local)")),
    ("fd00::1", Some("private (unique local)")),
    ("fe80::1", Some("link-local")),
    // Outside the registries: deprecated forms, multicast, unassigned space.
    ("::1.2.3.4", Some("IPv4-compatible (deprecated)")),
    ("::127.0.0.1", Some("IPv4-compatible (deprecated)")),
    ("::ffff:0:a00:1", Some("reserved (not global unicast)")),
    ("fec0::1", Some("site-local (deprecated)")),
    ("ff02::1", Some("multicast")),
    ("4000::1", Some("reserved (not global unicast)")),
    // Public addresses stay allowed.
    ("1.1.1.1", None),
    ("8.8.8.8", None),
    ("192.0.1.1", None),
    ("100.128.0.1", None),
    ("2606:4700::1111", None),
    ("2001:200::1", None),
    ("3fff:1000::1", None),
    ("2002:101:101::1", None),
    ("64:ff9b::1.1.1.1", None),
    ("::ffff:1.1.1.1", None),
];

#[test]
fn every_special_purpose_block_is_refused() {
    for (ip, want) in VERDICTS {
        let addr: IpAddr = ip.parse().unwrap();
        assert_eq!(non_public(addr), *want, "{ip}");
    }
}

#[test]
fn gate_allows_listed_networks_only() {
    let gate = AddressGate::new(PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()]));
    assert_eq!(gate.check("127.3.0.9".parse().unwrap()), None);
    assert_eq!(gate.check("10.0.0.1".parse().unwrap()), Some("private"));
    assert_eq!(gate.check("8.8.8.8".parse().unwrap()), None);
    // An IPv4-mapped address is the IPv4 address it maps: allowed as 127.0.0.0/8 is.
    assert_eq!(gate.check("::ffff:127.0.0.5".parse().unwrap()), None);
    assert_eq!(gate.check("::ffff:10.0.0.1".parse().unwrap()), Some("private"));
    assert_eq!(gate.check("::1".parse().unwrap()), Some("loopback"));
    assert_eq!(
        gate.check("2002:7f00:1::1".parse().unwrap()),
        Some("loopback"),
        "6to4 reaches a relay"
    );
    let strict = AddressGate::new(PrivateAddresses::All(false));
    assert_eq!(strict.check("127.0.0.1".parse().unwrap()), Some("loopback"));
    assert_eq!(strict.check("::ffff:127.0.0.1".parse().unwrap()), Some("loopback"));
}

#[test]
fn names_that_did_not_resolve_are_counted_most_first() {
    let mut u = Unresolved {
        of: 150,
        ..Unresolved::default()
    };
    for answer in ["timeout", "NXDOMAIN", "SERVFAIL", "NXDOMAIN", "SERVFAIL", "NXDOMAIN"] {
        u.add(answer);
    }
    assert_eq!(
        u.sentence("domain", "domains"),
        "6 of 150 domains did not resolve: 3 NXDOMAIN, 2 SERVFAIL, 1 timeout"
    );
    u.holding = Some("9 of 300 contacts".into());
    assert_eq!(
        u.sentence("domain", "domains"),
        "6 of 150 domains did not resolve (9 of 300 contacts): 3 NXDOMAIN, 2 SERVFAIL, 1 timeout"
    );
    let one = Unresolved {
        of: 1,
        by: [("NXDOMAIN".to_string(), 1)].into(),
        holding: None,
    };
    assert_eq!(
        one.sentence("instance", "instances"),
        "1 of 1 instance did not resolve: 1 NXDOMAIN"
    );
}
