//! `whohosts export` on databases made by crawling the simulated world (`demo`: four weekly
//! snapshots of a changing generated world): ids and pseudonyms kept, small instances
//! generalised, opted-out accounts only counted (bad input: `export_output`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use whohosts::model::snapshot::Snapshot;
use whohosts::store::Store;

/// A database crawled by `demo` and a config whose data directory holds the export key.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Four weekly snapshots of a generated world of 30 instances.
    pub fn new() -> Fixture {
        Fixture::demo(&["--size", "30"])
    }

    /// Three weekly snapshots of tests/fixtures/worlds/timeline.toml (bob moves in week 1).
    pub fn timeline() -> Fixture {
        let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/timeline.toml");
        let world = world.to_string_lossy().into_owned();
        Fixture::demo(&[
            "--world",
            &world,
            "@alice@hub.example",
            "@carol@hub.example",
            "@dan@hub.example",
        ])
    }

    pub fn demo(args: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::write(
            dir.path().join("config.toml"),
            format!("data_dir = {:?}\n", data.to_string_lossy()),
        )
        .unwrap();
        let f = Fixture { dir };
        let out = f.cmd().arg("demo").args(args).output().unwrap();
        assert!(out.status.success(), "demo: {}", String::from_utf8_lossy(&out.stderr));
        f
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("demo.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("whohosts").unwrap();
        c.arg("--config")
            .arg(self.path("config.toml"))
            .arg("--db")
            .arg(self.db())
            .arg("--quiet");
        c.env_remove("WHOHOSTS_DB").env_remove("WHOHOSTS_CONFIG");
        c.timeout(std::time::Duration::from_secs(120));
        c
    }

    /// `export --out OUT ARGS`, which must succeed.
    pub fn export(&self, out: &str, args: &[&str]) -> PathBuf {
        let o = self.try_export(out, args);
        assert!(
            o.status.success(),
            "export {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        self.path(out)
    }

    pub fn try_export(&self, out: &str, args: &[&str]) -> Output {
        self.cmd()
            .arg("export")
            .arg("--out")
            .arg(self.path(out))
            .args(args)
            .output()
            .unwrap()
    }

    /// Every stored snapshot, as the crawl produced it.
    pub fn snapshots(&self) -> Vec<(i64, Snapshot)> {
        let store = Store::open(&self.db()).unwrap();
        store
            .list()
            .unwrap()
            .iter()
            .map(|s| (s.id, store.load(s.id).unwrap()))
            .collect()
    }
}

/// A CSV file of an export as header → values rows.
pub fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

pub fn column(rows: &[BTreeMap<String, String>], name: &str) -> Vec<String> {
    rows.iter().map(|r| r[name].clone()).collect()
}

/// Instances with fewer than 10 NodeInfo users or of unknown size, per snapshot.
pub fn small_hosts(snap: &Snapshot, min: u64) -> BTreeSet<String> {
    let mut hosts: BTreeSet<String> = snap.crawl.instances.keys().map(|h| h.to_string()).collect();
    hosts.extend(snap.hosts.keys().cloned());
    hosts
        .into_iter()
        .filter(|h| {
            let users = snap
                .crawl
                .instances
                .get(&whohosts::model::handle::InstanceHost::new(h))
                .and_then(|r| r.nodeinfo.as_ref())
                .and_then(|n| n.users_total);
            users.is_none_or(|u| u < min)
        })
        .collect()
}

/// (snapshot, account) → pseudonym-free handle, from an export with --include-handles.
fn handles_by_pseudonym(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in csv_rows(&dir.join("accounts.csv")) {
        out.entry(r["account"].clone())
            .or_default()
            .insert(r["actor_uri"].clone());
    }
    out
}

#[test]
fn snapshots_keep_their_ids_and_accounts_their_pseudonyms() {
    let f = Fixture::new();
    let all = f.export("all", &[]);
    let ids = column(&csv_rows(&all.join("snapshots.csv")), "snapshot_id");
    assert_eq!(ids, ["1", "2", "3", "4"]);
    // A second export of two of them, to a .tar.gz, agrees row for row on those two.
    let some = f.export("some", &["2", "4"]);
    assert_eq!(
        column(&csv_rows(&some.join("snapshots.csv")), "snapshot_id"),
        ["2", "4"]
    );
    let pick = |dir: &Path, id: &str| -> Vec<BTreeMap<String, String>> {
        csv_rows(&dir.join("accounts.csv"))
            .into_iter()
            .filter(|r| r["snapshot_id"] == id)
            .collect()
    };
    assert_eq!(pick(&all, "4"), pick(&some, "4"));
    assert!(pick(&all, "4").len() > 150, "{}", pick(&all, "4").len());
    // One account, one pseudonym: across the four snapshots each pseudonym names one actor
    // and each actor has one pseudonym; most accounts are seen every week.
    let named = f.export("named", &["--include-handles"]);
    let by = handles_by_pseudonym(&named);
    assert!(by.values().all(|uris| uris.len() == 1), "a pseudonym names two actors");
    let uris: BTreeSet<&String> = by.values().flatten().collect();
    assert_eq!(uris.len(), by.len(), "an actor has two pseudonyms");
    let week = |id: &str| -> BTreeSet<String> { column(&pick(&all, id), "account").into_iter().collect() };
    assert!(week("1").intersection(&week("4")).count() > 150);
    // Pseudonyms without --include-handles are the same as with it.
    let plain: BTreeSet<String> = column(&csv_rows(&all.join("accounts.csv")), "account")
        .into_iter()
        .collect();
    assert_eq!(plain, by.keys().cloned().collect::<BTreeSet<_>>());
    // The key: made once, private, never exported.
    let key = PathBuf::from(format!("{}.optout-key", f.db().display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let hex = std::fs::read_to_string(&key).unwrap();
    for file in std::fs::read_dir(&all).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(hex.trim()));
    }
}

#[test]
fn a_moved_account_points_at_its_new_pseudonym() {
    let f = Fixture::timeline();
    let plain = csv_rows(&f.export("plain", &[]).join("accounts.csv"));
    let named = csv_rows(&f.export("named", &["--include-handles"]).join("accounts.csv"));
    // Week 1 (snapshot 2): carol still follows @bob@a.example, which moved to @bob@b.example.
    let row = |rows: &[BTreeMap<String, String>], handle: &str| {
        let i = named
            .iter()
            .position(|r| r["snapshot_id"] == "2" && r["handle"] == handle)
            .unwrap();
        rows[i].clone()
    };
    let old = row(&plain, "@bob@a.example");
    let new = row(&plain, "@bob@b.example");
    assert!(
        old["moved_to"].starts_with("a-") && old["moved_to"].len() == 26,
        "{old:?}"
    );
    assert_eq!(old["moved_to"], new["account"]);
    assert!(row(&named, "@bob@a.example")["moved_to"].ends_with("/users/bob"));
    assert!(row(&named, "@bob@a.example")["moved_to"].starts_with("http://b.example:"));
}

#[test]
fn small_instances_are_generalised_everywhere_and_metrics_rebucketed() {
    let f = Fixture::new();
    let dir = f.export("out", &[]);
    let snaps = f.snapshots();
    let (id, first) = &snaps[0];
    let small = small_hosts(first, 10);
    assert!(small.len() >= 10, "{small:?}");
    let instances: Vec<_> = csv_rows(&dir.join("instances.csv"))
        .into_iter()
        .filter(|r| r["snapshot_id"] == id.to_string())
        .collect();
    let generalised: Vec<_> = instances.iter().filter(|r| r["generalised"] == "true").collect();
    let pattern = |name: &str| {
        name == "small instance, AS unknown"
            || name == "(small groups)"
            || name
                .strip_prefix("small instance in AS")
                .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    assert!(
        generalised
            .iter()
            .all(|r| pattern(&r["instance"]) && r["users_total"].is_empty()),
        "{generalised:?}"
    );
    let members: usize = generalised.iter().map(|r| r["members"].parse::<usize>().unwrap()).sum();
    // Instances with fewer than 10 users, and those with fewer than 5 accounts listed (the
    // minimum group size), are generalised.
    assert!(members >= small.len(), "{members} < {}", small.len());
    assert!(instances
        .iter()
        .filter(|r| r["generalised"] == "false")
        .all(|r| r["users_total"].parse::<u64>().unwrap() >= 10 && r["accounts"].parse::<u64>().unwrap() >= 5));
    // Every table's instance column uses only the names of `instances`.
    let names: BTreeSet<String> = column(&instances, "instance").into_iter().collect();
    for table in [
        "accounts",
        "seeds",
        "opted_out",
        "dns_answers",
        "addresses",
        "host_shares",
    ] {
        for r in csv_rows(&dir.join(format!("{table}.csv")))
            .iter()
            .filter(|r| r["snapshot_id"] == id.to_string())
        {
            assert!(
                r["instance"].is_empty() || names.contains(&r["instance"]),
                "{table}: {}",
                r["instance"]
            );
        }
    }
    // Generalised addresses keep who hosts them, not what names the host.
    let addresses = csv_rows(&dir.join("addresses.csv"));
    let hidden: Vec<_> = addresses.iter().filter(|r| pattern(&r["instance"])).collect();
    assert!(!hidden.is_empty());
    assert!(hidden
        .iter()
        .all(|r| r["ip"].is_empty() && r["block"].is_empty() && !r["organisation"].is_empty()));
    // Instance-level buckets are re-bucketed; the summary keeps the stored figures (the
    // report's), which the merged buckets do not recompute.
    let store = Store::open(&f.db()).unwrap();
    let stored = store.metrics(*id).unwrap();
    let level = stored
        .get(whohosts::metrics::Level::Instance, whohosts::metrics::Weight::Accounts)
        .unwrap();
    let summary = csv_rows(&dir.join("metric_summary.csv"));
    let row = summary
        .iter()
        .find(|r| r["snapshot_id"] == id.to_string() && r["level"] == "instance" && r["weight"] == "accounts")
        .unwrap();
    assert_eq!(row["rebucketed"], "true");
    assert_eq!(row["total"].parse::<f64>().unwrap(), level.summary.total);
    assert_eq!(row["buckets"].parse::<usize>().unwrap(), level.summary.buckets);
    assert_eq!(row["hhi"].parse::<f64>().unwrap(), level.summary.hhi);
    assert_eq!(row["top3"].parse::<f64>().unwrap(), level.summary.top3);
    assert_eq!(row["k50"].parse::<usize>().unwrap(), level.summary.k50);
    let buckets: Vec<_> = csv_rows(&dir.join("metric_buckets.csv"))
        .into_iter()
        .filter(|r| r["snapshot_id"] == id.to_string() && r["level"] == "instance" && r["weight"] == "accounts")
        .collect();
    assert!(buckets.len() < level.summary.buckets, "merged");
    let weights: Vec<f64> = buckets.iter().map(|r| r["amount"].parse().unwrap()).collect();
    let again = whohosts::metrics::concentration(&weights);
    assert_ne!(
        row["hhi"].parse::<f64>().unwrap(),
        again.hhi,
        "the merged buckets differ"
    );
    assert!(
        buckets.iter().all(|r| names.contains(&r["key"])),
        "an instance bucket outside `instances`"
    );
    let org = summary
        .iter()
        .find(|r| r["level"] == "organisation" && r["weight"] == "accounts")
        .unwrap();
    // Organisations with fewer than 5 accounts or 10 users are merged too (minimum group size).
    assert_eq!(org["rebucketed"], "true");
}

#[test]
fn min_instance_users_comes_from_config_and_is_validated() {
    let f = Fixture::new();
    let data = f.path("data");
    std::fs::write(
        f.path("config.toml"),
        format!(
            "data_dir = {:?}\n[export]\nmin_instance_users = 1\nmin_group_members = 1\n",
            data.to_string_lossy()
        ),
    )
    .unwrap();
    let dir = f.export("out", &[]);
    let snaps = f.snapshots();
    let members: usize = csv_rows(&dir.join("instances.csv"))
        .iter()
        .filter(|r| r["snapshot_id"] == "1" && r["generalised"] == "true")
        .map(|r| r["members"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(members, small_hosts(&snaps[0].1, 1).len());
    assert!(members < small_hosts(&snaps[0].1, 10).len());
    std::fs::write(
        f.path("config.toml"),
        format!(
            "data_dir = {:?}\n[export]\nmin_instance_users = 0\nmin_group_members = 0\n",
            data.to_string_lossy()
        ),
    )
    .unwrap();
    let o = f.try_export("zero", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "whohosts: config {}: export.min_group_members must be at least 1\n",
            f.path("config.toml").display()
        )
    );
}

#[test]
fn opted_out_accounts_are_counted_never_listed() {
    let f = Fixture::new();
    let dir = f.export("named", &["--include-handles"]);
    let snaps = f.snapshots();
    let accounts = csv_rows(&dir.join("accounts.csv"));
    let opted = csv_rows(&dir.join("opted_out.csv"));
    for (id, snap) in &snaps {
        let mut out_uris = BTreeSet::new();
        let mut all_uris = BTreeSet::new();
        for seed in &snap.crawl.seeds {
            for list in [&seed.following, &seed.followers].into_iter().flatten() {
                for a in &list.accounts {
                    let uri = a.actor_uri.clone().unwrap();
                    if !a.may_expand() {
                        out_uris.insert(uri.clone());
                    }
                    all_uris.insert(uri);
                }
            }
        }
        assert!(!out_uris.is_empty(), "the demo world has opted-out accounts");
        let listed: BTreeSet<String> = accounts
            .iter()
            .filter(|r| r["snapshot_id"] == id.to_string())
            .map(|r| r["actor_uri"].clone())
            .collect();
        assert!(listed.is_disjoint(&out_uris), "an opted-out account is a row");
        assert_eq!(listed.len() + out_uris.len(), all_uris.len());
        let counted: usize = opted
            .iter()
            .filter(|r| r["snapshot_id"] == id.to_string())
            .map(|r| r["accounts"].parse::<usize>().unwrap())
            .sum();
        assert_eq!(counted, out_uris.len());
        let population = f.snapshots_population(*id);
        assert_eq!(population.accounts_opted_out, out_uris.len());
    }
}

impl Fixture {
    fn snapshots_population(&self, id: i64) -> whohosts::metrics::Population {
        Store::open(&self.db()).unwrap().metrics(id).unwrap().population
    }
}

/// The README's population sentence counts not-exposed lists (the server declares a count
/// but lists no items) apart from those their owner hid; an `.TAR.GZ` in capitals is a
/// `.tar.gz`, not a directory.
#[test]
fn the_population_names_not_exposed_lists_apart_and_an_uppercase_tar_gz_is_one() {
    let f = Fixture::demo(&["--size", "40", "--seed", "3"]);
    let out = f.export("Week.TAR.GZ", &["3", "4"]);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes[..2], [0x1f, 0x8b], "a gzip file");
    let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let readme = entries
        .entries()
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.path().unwrap() == Path::new("Week/README.md"))
        .map(|mut e| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
            s
        })
        .expect("Week/README.md in the archive");
    let lists = |id: i64| {
        let line = readme
            .lines()
            .find(|l| l.starts_with(&format!("- Snapshot {id}: ")))
            .unwrap();
        line.split("); ").nth(1).unwrap().to_string()
    };
    assert_eq!(
        lists(3),
        "4 follow lists (2 complete, 1 hidden by their owner, 0 whose items the server does not expose, with 40 \
         accounts declared but unseen in those, 1 refused, 0 partial"
    );
    assert_eq!(
        lists(4),
        "4 follow lists (1 complete, 1 hidden by their owner, 1 whose items the server does not expose, with 80 \
         accounts declared but unseen in those, 1 refused, 0 partial"
    );
}
