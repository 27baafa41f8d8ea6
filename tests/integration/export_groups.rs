//! Exports that cannot be undone (issue 14): one minimum group size in every table and at
//! every level, pseudonyms per database and per recipient, coarse per-account values unless
//! `--precise`, and values from servers bounded alike in the database and the export.
//! World: tests/fixtures/worlds/small-groups.toml (instances of 1–4 users beside two large
//! ones, a hostile account).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use whohosts::store::Store;

use crate::export::{column, csv_rows, Fixture};

const TINY: [&str; 5] = [
    "tiny1.example",
    "tiny2.example",
    "tiny3.example",
    "tiny4.example",
    "tiny5.example",
];

fn small_world() -> Fixture {
    let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/small-groups.toml");
    Fixture::demo(&["--world", &world.to_string_lossy(), "@seed@big.example"])
}

fn meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("datapackage.json")).unwrap()).unwrap()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// What names a tiny instance: its host, the CNAMEs it answers with, its addresses, the
/// ranges and CIDR blocks holding them and its /24 (or /48), from the stored snapshots.
/// A block or range that a large instance also sits in names that instance too: not a name
/// of the tiny one, left out of the list.
fn tiny_names(store: &Store) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = TINY.iter().map(|t| t.to_string()).collect();
    let mut shared: BTreeSet<String> = BTreeSet::new();
    for info in store.list().unwrap() {
        for (host, h) in store.load(info.id).unwrap().hosts {
            let mut of_host: BTreeSet<String> = h.cnames.iter().cloned().collect();
            for a in &h.addresses {
                of_host.insert(a.ip.to_string());
                of_host.insert(a.cover.to_string());
                of_host.insert(a.cover.network().to_string());
                of_host.extend(a.cidr.map(|c| c.to_string()));
                of_host.extend(a.range_start.map(|x| x.to_string()));
                of_host.extend(a.range_end.map(|x| x.to_string()));
            }
            if TINY.contains(&host.as_str()) {
                names.extend(of_host);
            } else {
                shared.extend(of_host);
            }
        }
    }
    names.retain(|n| !shared.contains(n));
    names
}

/// The tokens of `text`: runs of the characters a host, an address or a block is made of (a
/// range `start-end` is two).
fn tokens(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || ".:/_".contains(c)))
        .filter(|t| !t.is_empty())
        .collect()
}

/// No file of the export in `dir` names a tiny instance, its host, address, range or block.
fn names_none(f: &Fixture, dir: &Path) {
    let names = tiny_names(&Store::open(&f.db()).unwrap());
    // The five hosts, their addresses, and netcup's and scaleway's ranges and blocks at least.
    assert!(names.len() >= 15, "{names:?}");
    assert!(
        names.contains("127.9.0.0/24") && names.contains("127.9.0.0"),
        "{names:?}"
    );
    let mut files = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let found: Vec<&str> = tokens(&text).into_iter().filter(|t| names.contains(*t)).collect();
        assert!(found.is_empty(), "{} names {found:?}", p.display());
        for t in TINY {
            assert!(!text.contains(t), "{} names {t}", p.display());
        }
        files += 1;
    }
    assert_eq!(files, 16);
}

#[test]
fn no_row_or_bucket_is_a_group_under_the_minimum() {
    let f = small_world();
    let dir = f.export("out", &[]);
    // Every file of the package: no tiny instance, host, address or /24 is named anywhere.
    names_none(&f, &dir);
    // The small groups' members have no DNS answer, address or share row.
    for table in ["dns_answers", "addresses", "host_shares"] {
        let rows = csv_rows(&dir.join(format!("{table}.csv")));
        assert!(
            rows.iter().all(|r| r["instance"] != "(small groups)"),
            "{table}: {rows:?}"
        );
        assert_eq!(
            column(&rows, "instance").into_iter().collect::<BTreeSet<_>>(),
            BTreeSet::from(["big.example".to_string(), "mid.example".to_string()]),
            "{table}"
        );
    }
    // Opted out: one account on big.example, four on mid.example; neither is published
    // alone (under 5), merged they are one row of 5.
    let opted = csv_rows(&dir.join("opted_out.csv"));
    let opted: Vec<(String, String, String)> = opted
        .iter()
        .map(|r| (r["instance"].clone(), r["accounts"].clone(), r["edges"].clone()))
        .collect();
    assert_eq!(
        opted,
        vec![("(small groups)".to_string(), "5".to_string(), "5".to_string())]
    );
    // Instances: the two large ones by name, the five tiny ones merged (their AS groups are
    // under the minimum too: hetzner 3 accounts, netcup 5 with 5 users, scaleway 4) into one
    // group of 12.
    let inst = csv_rows(&dir.join("instances.csv"));
    let rows: BTreeSet<(String, String, String)> = inst
        .iter()
        .map(|r| (r["instance"].clone(), r["members"].clone(), r["accounts"].clone()))
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("(small groups)", "5", "12"),
        ("big.example", "1", "13"),
        ("mid.example", "1", "10"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(rows, expected);
    // The small groups' addresses would name their AS: none.
    let addresses = csv_rows(&dir.join("addresses.csv"));
    assert!(addresses.iter().all(|r| r["instance"] != "(small groups)"));
    assert_eq!(addresses.len(), 2, "{addresses:?}");
    // Every bucket at every level holds at least 5 accounts and 10 users.
    let buckets = csv_rows(&dir.join("metric_buckets.csv"));
    let mut size: BTreeMap<(String, String, String), (f64, f64)> = BTreeMap::new();
    for b in &buckets {
        let k = (b["snapshot_id"].clone(), b["level"].clone(), b["key"].clone());
        let e = size.entry(k).or_default();
        match b["weight"].as_str() {
            "accounts" => e.0 += num(&b["amount"]),
            "users" => e.1 += num(&b["amount"]),
            _ => {}
        }
    }
    let levels: BTreeSet<&str> = size.keys().map(|(_, l, _)| l.as_str()).collect();
    assert!(levels.len() >= 5, "{levels:?}");
    for (k, (members, users)) in &size {
        assert!(
            *members >= 5.0 && *users >= 10.0,
            "bucket {k:?}: {members} accounts, {users} users"
        );
    }
    let instance_keys: BTreeSet<&str> = size
        .keys()
        .filter(|(_, l, _)| l == "instance")
        .map(|(_, _, k)| k.as_str())
        .collect();
    assert_eq!(
        instance_keys,
        BTreeSet::from(["(small groups)", "big.example", "mid.example"])
    );
    // Totals: what is published plus what is counted apart is what the crawl stored.
    let apart = csv_rows(&dir.join("metric_apart.csv"));
    let store = Store::open(&f.db()).unwrap();
    for info in store.list().unwrap() {
        for l in store.metrics(info.id).unwrap().levels {
            let (lv, w, id) = (l.level.as_str(), l.weight.as_str(), info.id.to_string());
            let pick = |rows: &[BTreeMap<String, String>]| -> f64 {
                rows.iter()
                    .filter(|r| r["snapshot_id"] == id && r["level"] == lv && r["weight"] == w)
                    .map(|r| num(&r["amount"]))
                    .sum()
            };
            let stored = l.summary.total + l.apart.values().sum::<f64>();
            let exported = pick(&buckets) + pick(&apart);
            assert!((stored - exported).abs() < 1e-9, "{lv}/{w}: {stored} vs {exported}");
        }
    }
    // The AS level: hetzner holds big (12 accounts) and tiny1/tiny2; netcup and scaleway only
    // tiny instances, merged; OVH's mid.example is large enough alone.
    let as_keys: BTreeSet<&str> = size
        .keys()
        .filter(|(_, l, _)| l == "as")
        .map(|(_, _, k)| k.as_str())
        .collect();
    assert!(
        !as_keys.contains("AS197540") && !as_keys.contains("AS12876"),
        "{as_keys:?}"
    );
    let m = meta(&dir);
    assert_eq!(m["whohosts"]["min_group_members"], 5);
    assert_eq!(m["whohosts"]["min_instance_users"], 10);
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("at least 5 distinct accounts and at least 10 NodeInfo users"));
}

#[test]
fn the_minimum_comes_from_config() {
    let f = small_world();
    let config = f.path("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[export]\nmin_group_members = 1\nmin_instance_users = 1\n"),
    )
    .unwrap();
    let dir = f.export("out", &[]);
    let names: BTreeSet<String> = column(&csv_rows(&dir.join("instances.csv")), "instance")
        .into_iter()
        .collect();
    assert!(TINY.iter().all(|t| names.contains(*t)), "{names:?}");
    let opted: BTreeSet<(String, String)> = csv_rows(&dir.join("opted_out.csv"))
        .iter()
        .map(|r| (r["instance"].clone(), r["accounts"].clone()))
        .collect();
    let expected = [("big.example", "1"), ("mid.example", "4")];
    assert_eq!(
        opted,
        expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    );
    // At 5 accounts and 5 users, tiny3 and tiny5 (netcup: 5 accounts, 5 users) are published
    // as one AS group with its DNS answers and addresses, none of which names them.
    std::fs::write(
        &config,
        format!("{text}[export]\nmin_group_members = 5\nmin_instance_users = 5\n"),
    )
    .unwrap();
    let dir = f.export("five", &[]);
    let rows = csv_rows(&dir.join("addresses.csv"));
    let netcup: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["instance"] == "small instance in AS197540")
        .collect();
    assert_eq!(netcup.len(), 2, "{rows:?}");
    assert!(netcup.iter().all(|r| r["asn"] == "197540" && r["ip"].is_empty()));
    names_none(&f, &dir);
    std::fs::write(&config, format!("{text}[export]\nmin_group_members = 0\n")).unwrap();
    let out = f.try_export("zero", &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: config {}: export.min_group_members must be at least 1\n",
            config.display()
        )
    );
}

fn pseudonyms(dir: &Path) -> BTreeSet<String> {
    column(&csv_rows(&dir.join("accounts.csv")), "account")
        .into_iter()
        .collect()
}

#[test]
fn pseudonyms_are_per_database_and_per_recipient() {
    let (one, two) = (small_world(), small_world());
    let a = pseudonyms(&one.export("a", &[]));
    assert_eq!(a.len(), 30);
    assert_eq!(a, pseudonyms(&one.export("a-again", &[])));
    let b = pseudonyms(&two.export("b", &[]));
    assert_eq!(b.len(), 30);
    assert!(a.is_disjoint(&b), "two databases share pseudonyms");
    let ra = one.export("ra", &["--recipient", "Lab A"]);
    let rb = one.export("rb", &["--recipient", "Lab B"]);
    let (pa, pb) = (pseudonyms(&ra), pseudonyms(&rb));
    assert!(pa.is_disjoint(&pb) && pa.is_disjoint(&a), "recipients share pseudonyms");
    assert_eq!(pa, pseudonyms(&one.export("ra-again", &["--recipient", "Lab A"])));
    let kind = |d: &Path| meta(d)["whohosts"]["pseudonym_key"].as_str().unwrap().to_string();
    assert!(
        kind(&one.path("a")).starts_with("per database"),
        "{}",
        kind(&one.path("a"))
    );
    assert!(kind(&ra).starts_with("per recipient (Lab A)"), "{}", kind(&ra));
    // The key sits beside the database, private, and is in no exported file.
    let key = std::fs::read_to_string(format!("{}.optout-key", one.db().display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(format!("{}.optout-key", one.db().display()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for e in std::fs::read_dir(&ra).unwrap() {
        assert!(!std::fs::read_to_string(e.unwrap().path()).unwrap().contains(key.trim()));
    }
    let out = one.try_export("bad", &["--recipient", ""]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: export: --recipient \"\": expected a name of 1 to 100 characters without control characters\n"
    );
}

/// (followers_count, last_status_at) of accounts b0 and b1 (found with --include-handles).
fn hostile_rows(dir: &Path) -> BTreeMap<String, (String, String, String)> {
    csv_rows(&dir.join("accounts.csv"))
        .into_iter()
        .filter(|r| r["handle"] == "@b0@big.example" || r["handle"] == "@b1@big.example")
        .map(|r| {
            (
                r["handle"].clone(),
                (
                    r["followers_count"].clone(),
                    r["last_status_at"].clone(),
                    r["display_name"].clone(),
                ),
            )
        })
        .collect()
}

#[test]
fn quasi_identifiers_are_coarse_unless_precise_and_hostile_values_bounded() {
    let f = small_world();
    let coarse = f.export("coarse", &["--include-handles"]);
    let rows = csv_rows(&coarse.join("accounts.csv"));
    for r in &rows {
        for c in ["followers_count", "following_count"] {
            assert!(
                ["", "0", "1", "10", "100", "1000"].contains(&r[c].as_str()),
                "{c} {:?}",
                r[c]
            );
        }
    }
    let name = "W".repeat(256);
    let h = hostile_rows(&coarse);
    assert_eq!(h["@b0@big.example"], ("1000".to_string(), String::new(), name.clone()));
    assert_eq!(
        h["@b1@big.example"],
        ("10".to_string(), "2026-W47".to_string(), "b1".to_string())
    );
    let precise = f.export("precise", &["--include-handles", "--precise"]);
    let h = hostile_rows(&precise);
    assert_eq!(
        h["@b0@big.example"],
        ("9223372036854775807".to_string(), String::new(), name.clone())
    );
    assert_eq!(
        h["@b1@big.example"],
        ("42".to_string(), "2026-11-22".to_string(), "b1".to_string())
    );
    // bot: per account only with --precise; by default counted per instance.
    let bots = |dir: &Path| -> BTreeMap<String, String> {
        csv_rows(&dir.join("accounts.csv"))
            .into_iter()
            .map(|r| (r["handle"].clone(), r["bot"].clone()))
            .collect()
    };
    let coarse_bots = bots(&coarse);
    assert_eq!(coarse_bots.len(), 30);
    assert!(coarse_bots.values().all(String::is_empty), "{coarse_bots:?}");
    let precise_bots = bots(&precise);
    let flagged: BTreeSet<&str> = precise_bots
        .iter()
        .filter(|(_, b)| *b == "true")
        .map(|(h, _)| h.as_str())
        .collect();
    assert_eq!(
        flagged,
        BTreeSet::from(["@b2@big.example", "@b3@big.example", "@m0@mid.example"])
    );
    assert_eq!(precise_bots["@b4@big.example"], "false");
    for dir in [&coarse, &precise] {
        let per: BTreeMap<String, String> = csv_rows(&dir.join("instances.csv"))
            .into_iter()
            .map(|r| (r["instance"].clone(), r["bots"].clone()))
            .collect();
        let expected = [("(small groups)", "0"), ("big.example", "2"), ("mid.example", "1")];
        assert_eq!(
            per,
            expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        );
    }
    assert_eq!(meta(&precise)["whohosts"]["precise"], true);
    assert_eq!(meta(&coarse)["whohosts"]["precise"], false);
    // The database holds the same bounded values.
    let store = Store::open(&f.db()).unwrap();
    let id = store.list().unwrap()[0].id;
    let snap = store.load(id).unwrap();
    let b0 = snap
        .crawl
        .seeds
        .iter()
        .flat_map(|s| s.following.iter())
        .flat_map(|l| &l.accounts)
        .find(|a| a.handle.as_deref() == Some("@b0@big.example"))
        .unwrap();
    assert_eq!(b0.followers_count, Some(i64::MAX as u64));
    assert_eq!(b0.last_status_at, None);
    assert_eq!(b0.display_name.as_deref(), Some(name.as_str()));
    // And so does the JSON report.
    let out = f.cmd().args(["report", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&"W".repeat(257)) && !text.contains("DROP TABLE") && !text.contains("18446744073709551615"));
}
