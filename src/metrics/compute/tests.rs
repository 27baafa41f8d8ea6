//! [`compute`] on a small hand-built snapshot whose every figure is counted by hand.
//!
//! Seeds: s1 follows a, b, c, d and is followed by a; s2 follows a (by handle only), e and f
//! and hides its followers (7 unseen); s3 is s1 given a second time (same actor, same list);
//! s4 failed; s5 is s2 again, recorded as its duplicate (not listed). Instances: big.example (Hetzner IPv4 + OVH IPv6, 1000 users), cdn.example
//! (behind Cloudflare, NodeInfo without a user count), dual.example (Hetzner, Masto.host,
//! 50 users), gone.example (unresolved, no NodeInfo); f has no server.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;
use crate::metrics::{concentration, rank, Band, Level, Weight};
use crate::model::account::{Account, Direction, FollowList, ListStatus};
use crate::model::attribution::AddressPolicy;
use crate::model::attribution::{AddressAttribution, AttributionSource, HostAttribution};
use crate::model::handle::InstanceHost;
use crate::model::snapshot::NodeInfo;
use crate::model::snapshot::Snapshot;
use crate::model::snapshot::{CrawlReport, Failure, InstanceReport, SeedReport};

fn account(user: &str, host: &str, last: Option<&str>) -> Account {
    Account {
        handle: Some(format!("@{user}@{host}")),
        server: Some(InstanceHost::new(host)),
        actor_uri: Some(format!("https://{host}/users/{user}")),
        last_status_at: last.map(str::to_string),
        ..Account::default()
    }
}

fn list(direction: Direction, status: ListStatus, accounts: Vec<Account>) -> Option<FollowList> {
    Some(FollowList {
        accounts,
        ..FollowList::empty(direction, "mastodon-api", None, status)
    })
}

fn seed(input: &str, user: &str, following: Option<FollowList>, followers: Option<FollowList>) -> SeedReport {
    SeedReport {
        input: input.into(),
        handle: Some(format!("@{user}@home.example")),
        server: Some(InstanceHost::new("home.example")),
        actor_uri: Some(format!("https://home.example/users/{user}")),
        account: None,
        following,
        followers,
        error: None,
        duplicate_of: None,
        depth: 0,
    }
}

fn seeds() -> Vec<SeedReport> {
    let a = account("a", "big.example", Some("2026-11-01"));
    let b = account("b", "big.example", Some("2026-01-01"));
    let c = account("c", "cdn.example", None);
    let d = Account {
        noindex: Some(true),
        ..account("d", "dual.example", Some("2026-10-01T12:00:00.000Z"))
    };
    let a_by_handle = Account {
        handle: Some("@A@big.example".into()),
        actor_uri: None,
        ..a.clone()
    };
    let e = account("e", "gone.example", Some("2026-11-20"));
    let f = Account {
        actor_uri: Some("not a uri".into()),
        fetch_error: Some("malformed".into()),
        ..Account::default()
    };
    let s1_follows = vec![a.clone(), b, c, d];
    let complete = || ListStatus::Complete;
    vec![
        seed(
            "@s1@home.example",
            "s1",
            list(Direction::Following, complete(), s1_follows.clone()),
            list(Direction::Followers, complete(), vec![a]),
        ),
        seed(
            "s2@home.example",
            "s2",
            list(Direction::Following, complete(), vec![a_by_handle, e, f]),
            list(Direction::Followers, ListStatus::Hidden { unseen: Some(7) }, vec![]),
        ),
        seed(
            "acct:s1@home.example",
            "s1",
            list(Direction::Following, complete(), s1_follows),
            None,
        ),
        SeedReport {
            error: Some(Failure {
                kind: "dns".into(),
                message: "DNS nowhere.example: no such host".into(),
            }),
            ..seed("@x@nowhere.example", "x", None, None)
        },
        SeedReport {
            duplicate_of: Some("s2@home.example".into()),
            ..seed("acct:s2@home.example", "s2", None, None)
        },
    ]
}

fn addr(ip: &str, asn: u32, org: &str, cdn: Option<&str>, country: Option<&str>) -> AddressAttribution {
    let ip: IpAddr = ip.parse().unwrap();
    let cover = crate::attribution::asn::cover(ip);
    AddressAttribution {
        ip,
        asn: Some(asn),
        as_name: Some(format!("{}-AS", org.to_uppercase())),
        organisation: org.into(),
        cdn: cdn.map(str::to_string),
        range_start: Some(cover.network()),
        range_end: Some(cover.broadcast()),
        cidr: Some(cover),
        cover,
        country: country.map(str::to_string),
        source: "test".into(),
        lookup_error: None,
    }
}

fn host(name: &str, addresses: Vec<AddressAttribution>, service: Option<&str>) -> (String, HostAttribution) {
    let h = HostAttribution {
        host: name.into(),
        cnames: vec![],
        dns_error: addresses.is_empty().then(|| "NXDOMAIN".into()),
        dns_ttl: 300,
        addresses,
        connected: None,
        hosting_service: service.map(str::to_string),
        shares: BTreeMap::new(),
    };
    (name.into(), h)
}

fn instance(users: Option<Option<u64>>) -> InstanceReport {
    InstanceReport {
        nodeinfo: users.map(|u| NodeInfo {
            users_total: u,
            ..NodeInfo::default()
        }),
        ..InstanceReport::default()
    }
}

fn snapshot(policy: AddressPolicy) -> Snapshot {
    let instances = [
        ("home.example", instance(Some(Some(1)))),
        ("big.example", instance(Some(Some(1000)))),
        ("cdn.example", instance(Some(None))),
        ("dual.example", instance(Some(Some(50)))),
        ("gone.example", instance(None)),
    ];
    Snapshot {
        crawl: CrawlReport {
            tool: "whohosts test".into(),
            started_at: "2026-11-21T22:00:00Z".into(),
            finished_at: "2026-11-21T23:00:00Z".into(),
            seeds: seeds(),
            instances: instances.into_iter().map(|(h, r)| (InstanceHost::new(h), r)).collect(),
            requests: 0,
            retries: 0,
            expanded: Default::default(),
            depth: None,
            departures: vec![],
        },
        attribution: AttributionSource {
            database: None,
            online_fallback: false,
            address_policy: policy,
        },
        hosts: BTreeMap::from([
            host(
                "big.example",
                vec![
                    addr("192.0.2.1", 24940, "Hetzner", None, Some("DE")),
                    addr("2001:db8::1", 16276, "OVH", None, Some("FR")),
                ],
                None,
            ),
            host(
                "cdn.example",
                vec![addr("198.51.100.7", 13335, "Cloudflare", Some("Cloudflare"), None)],
                None,
            ),
            host(
                "dual.example",
                vec![addr("192.0.2.9", 24940, "Hetzner", None, Some("de"))],
                Some("Masto.host"),
            ),
            host("gone.example", vec![], None),
        ]),
    }
}

/// (key, weight) pairs.
type Pairs = Vec<(String, f64)>;

/// (key, weight) of the ranked buckets, and the apart map, of one level and weight.
fn view(m: &SnapshotMetrics, level: Level, weight: Weight) -> (Pairs, Pairs) {
    let l = m.get(level, weight).expect("every level and weight is computed");
    (
        l.buckets.iter().map(|b| (b.key.clone(), b.weight)).collect(),
        l.apart.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    )
}

fn kv(pairs: &[(&str, f64)]) -> Pairs {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

const CDN: &str = "behind CDN Cloudflare, origin unknown";

#[test]
fn distinct_accounts_versus_edges() {
    let m = compute(&snapshot(AddressPolicy::Split));
    assert_eq!(m.levels.len(), 35);
    let (b, apart) = view(&m, Level::Instance, Weight::Accounts);
    let expected = [
        ("big.example", 2.0),
        ("cdn.example", 1.0),
        ("dual.example", 1.0),
        ("gone.example", 1.0),
    ];
    assert_eq!(b, kv(&expected));
    assert_eq!(apart, kv(&[("no server", 1.0)]));
    // a is listed five times (s1 both ways, s2 by handle, s3 again): one account, three edges.
    let (b, apart) = view(&m, Level::Instance, Weight::Edges);
    let expected = [
        ("big.example", 4.0),
        ("cdn.example", 1.0),
        ("dual.example", 1.0),
        ("gone.example", 1.0),
    ];
    assert_eq!(b, kv(&expected));
    assert_eq!(apart, kv(&[("no server", 1.0)]));
    let (b, _) = view(&m, Level::Instance, Weight::Instances);
    assert_eq!(
        b.iter().map(|(_, w)| *w).sum::<f64>(),
        4.0,
        "the seeds' home.example is not counted"
    );
    let l = m.get(Level::Instance, Weight::Accounts).unwrap();
    assert_eq!((l.buckets[0].label.as_str(), l.buckets[0].share), ("big.example", 0.4));
    assert_eq!((l.summary.total, l.summary.k50, l.summary.hhi), (5.0, 2, 2800.0));
}

#[test]
fn organisations_split_addresses_and_keep_cdns_apart() {
    let m = compute(&snapshot(AddressPolicy::Split));
    let (b, apart) = view(&m, Level::Organisation, Weight::Accounts);
    assert_eq!(b, kv(&[("Hetzner", 2.0), ("OVH", 1.0), (CDN, 1.0)]));
    assert_eq!(apart, kv(&[("no server", 1.0), ("unresolved", 1.0)]));
    let s = &m.get(Level::Organisation, Weight::Accounts).unwrap().summary;
    assert_eq!((s.total, s.hhi, s.band, s.k50, s.k75), (4.0, 3750.0, Band::High, 1, 2));
    let (b, _) = view(&m, Level::Organisation, Weight::Instances);
    assert_eq!(b, kv(&[("Hetzner", 1.5), (CDN, 1.0), ("OVH", 0.5)]));
    let (b, _) = view(&m, Level::As, Weight::Accounts);
    assert_eq!(b, kv(&[("AS24940", 2.0), ("AS13335", 1.0), ("AS16276", 1.0)]));
    let l = m.get(Level::As, Weight::Accounts).unwrap();
    assert_eq!(l.buckets[0].label, "AS24940 HETZNER-AS");
    let (b, _) = view(&m, Level::Block, Weight::Accounts);
    assert_eq!(
        b,
        kv(&[("192.0.2.0/24", 2.0), ("198.51.100.0/24", 1.0), ("2001:db8::/48", 1.0)])
    );
    let (b, apart) = view(&m, Level::Country, Weight::Accounts);
    assert_eq!(b, kv(&[("DE", 2.0), ("FR", 1.0)]));
    assert_eq!(
        apart,
        kv(&[("no country", 1.0), ("no server", 1.0), ("unresolved", 1.0)])
    );
    let (b, apart) = view(&m, Level::Hosting, Weight::Accounts);
    assert_eq!(b, kv(&[("Masto.host", 1.0)]));
    assert_eq!(
        apart,
        kv(&[("no server", 1.0), ("not managed", 3.0), ("unresolved", 1.0)])
    );
    // Under the ipv4 policy big.example is Hetzner's alone.
    let m = compute(&snapshot(AddressPolicy::Ipv4));
    let (b, _) = view(&m, Level::Organisation, Weight::Accounts);
    assert_eq!(b, kv(&[("Hetzner", 3.0), (CDN, 1.0)]));
}

#[test]
fn users_and_activity_count_the_unknown_apart() {
    let m = compute(&snapshot(AddressPolicy::Split));
    let (b, apart) = view(&m, Level::Instance, Weight::Users);
    assert_eq!(b, kv(&[("big.example", 1000.0), ("dual.example", 50.0)]));
    assert_eq!(apart, kv(&[("no nodeinfo", 1.0), ("no user count", 1.0)]));
    let (b, _) = view(&m, Level::Organisation, Weight::Users);
    assert_eq!(b, kv(&[("Hetzner", 550.0), ("OVH", 500.0)]));
    // a (20 days), d (51 days, opted out but counted) and e (1 day) are active; b is not;
    // c and f do not say.
    let (b, apart) = view(&m, Level::Instance, Weight::Active);
    assert_eq!(
        b,
        kv(&[("big.example", 1.0), ("dual.example", 1.0), ("gone.example", 1.0)])
    );
    assert_eq!(apart, kv(&[("activity unknown", 2.0)]));
}

#[test]
fn population_counts_everything_once() {
    let p = compute(&snapshot(AddressPolicy::Split)).population;
    let expected = Population {
        seeds: 5,
        seeds_complete: 2,
        seeds_failed: 1,
        seeds_duplicate: 1,
        seeds_opted_out: 0,
        lists: 5,
        lists_complete: 4,
        lists_hidden: 1,
        accounts_unseen: 7,
        lists_refused: 0,
        lists_partial: 0,
        lists_not_exposed: 0,
        list_entries: 12,
        edges: 8,
        accounts: 6,
        accounts_without_server: 1,
        accounts_opted_out: 1,
        accounts_active: 3,
        accounts_inactive: 1,
        accounts_activity_unknown: 2,
        accounts_fetch_failed: 1,
        instances: 4,
        instances_without_nodeinfo: 1,
        instances_unresolved: 1,
        instances_not_attributed: 0,
        by_depth: vec![],
    };
    assert_eq!(p, expected);
}

#[test]
fn activity_window_is_ninety_days_inclusive() {
    let end = day_number("2026-11-21T23:00:00Z");
    assert_eq!(day_number("1970-01-01"), Some(0));
    assert_eq!(day_number("2000-03-01"), Some(11_017));
    assert_eq!(is_active(Some("2026-08-23"), end), Some(true));
    assert_eq!(is_active(Some("2026-08-22"), end), Some(false));
    assert_eq!(
        is_active(Some("2027-01-01"), end),
        Some(true),
        "a date after the crawl is recent"
    );
    for bad in ["", "2026-13-01", "yesterday", "2026-1-1", "99999-01-01"] {
        assert_eq!(is_active(Some(bad), end), None, "{bad:?}");
    }
    assert_eq!(is_active(None, end), None);
}

#[test]
fn empty_snapshot_has_empty_levels() {
    let mut s = snapshot(AddressPolicy::Split);
    s.crawl.seeds.clear();
    let m = compute(&s);
    assert_eq!(m.levels.len(), 35);
    assert!(m.levels.iter().all(|l| l.buckets.is_empty() && l.apart.is_empty()));
    assert!(m.levels.iter().all(|l| l.summary == concentration(&[])));
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<SnapshotMetrics>(&json).unwrap(), m);
}

#[test]
fn not_exposed_and_refused_lists_are_counted_apart() {
    use crate::model::account::{Cause, ListStatus};
    let mut s = snapshot(AddressPolicy::Split);
    let base = compute(&s).population;
    let lists: Vec<&mut crate::model::account::FollowList> = s
        .crawl
        .seeds
        .iter_mut()
        .flat_map(|seed| [seed.following.as_mut(), seed.followers.as_mut()])
        .flatten()
        .filter(|l| l.status == ListStatus::Complete)
        .collect();
    let mut lists = lists.into_iter();
    lists.next().expect("a complete list").status = ListStatus::NotExposed { unseen: Some(5) };
    lists.next().expect("a second complete list").status = ListStatus::Refused {
        kind: Cause::OptedOut,
        reason: "opted out".into(),
    };
    let p = compute(&s).population;
    assert_eq!(p.lists_not_exposed, 1);
    assert_eq!(p.lists_refused, 1);
    assert_eq!(p.lists_complete, base.lists_complete - 2);
    assert_eq!(p.accounts_unseen, base.accounts_unseen + 5);
    assert_eq!(p.seeds_opted_out, 1);
}

#[test]
fn a_failed_as_lookup_is_counted_apart_from_no_as() {
    let mut a = addr("127.9.0.1", 1, "x", None, None);
    a.asn = None;
    a.range_start = None;
    a.range_end = None;
    assert_eq!(address_slot(Level::As, &a).0, Slot::Apart(NO_AS));
    a.lookup_error = Some("Team Cymru query timed out".into());
    for level in [Level::Organisation, Level::As, Level::Range] {
        assert_eq!(address_slot(level, &a).0, Slot::Apart(AS_LOOKUP_FAILED), "{level}");
    }
}

#[test]
fn one_ranking_drops_empty_buckets_and_breaks_ties_by_key() {
    let entries = [("b", 2.0), ("a", 2.0), ("z", 0.0), ("c", 4.0)]
        .into_iter()
        .map(|(k, w)| (k.to_string(), format!("label {k}"), w));
    let (buckets, summary) = rank(entries);
    let keys: Vec<(&str, f64)> = buckets.iter().map(|b| (b.key.as_str(), b.share)).collect();
    assert_eq!(keys, [("c", 0.5), ("a", 0.25), ("b", 0.25)]);
    assert_eq!(buckets[1].label, "label a");
    assert_eq!((summary.total, summary.buckets, summary.top1), (8.0, 3, 0.5));
}
