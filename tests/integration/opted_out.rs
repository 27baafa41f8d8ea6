//! Accounts that opted out of crawlers are counts, everywhere: a world where they join, move
//! and leave over three weeks is crawled week by week, then every command's every output, its
//! stderr, and the database file's bytes are searched for their names: none.

use std::process::Output;

use serde_json::Value;
use whohosts_sim::world::World;

use crate::common::Env;

const SEEDS: [&str; 2] = ["@alice@hub.example", "@carol@hub.example"];
/// What would name an opted-out account: usernames (in handles, `user@host`, and actor URIs
/// `…/users/nbN`) and display names.
const NAMES: [&str; 12] = [
    "nb1",
    "nb2",
    "nb3",
    "nb4",
    "nb5",
    "nb6",
    "nb7",
    "Nora Hidden",
    "Nils Hidden",
    "Nina Hidden",
    "Nell Hidden",
    "Noel Hidden",
];

fn world() -> World {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/opted-out.toml");
    World::load(&path).expect("the opted-out fixture loads")
}

/// Every one of `names` found in `bytes`, for the failure message.
fn named(bytes: &[u8], names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .copied()
        .collect()
}

struct Seen {
    outputs: Vec<(String, Vec<u8>)>,
}

impl Seen {
    fn add(&mut self, what: &str, o: &Output) -> String {
        assert!(o.status.success(), "{what}: {}", String::from_utf8_lossy(&o.stderr));
        self.outputs.push((format!("{what} (stdout)"), o.stdout.clone()));
        self.outputs.push((format!("{what} (stderr)"), o.stderr.clone()));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn file(&mut self, what: &str, path: &std::path::Path) {
        self.outputs.push((what.to_string(), std::fs::read(path).unwrap()));
    }

    /// Fails naming every output that holds one of `names`.
    fn names_none(&self, names: &[&'static str]) {
        let found: Vec<String> = self
            .outputs
            .iter()
            .filter_map(|(what, bytes)| {
                let n = named(bytes, names);
                (!n.is_empty()).then(|| format!("{what}: {n:?}"))
            })
            .collect();
        assert!(found.is_empty(), "opted-out accounts named in:\n{}", found.join("\n"));
    }
}

/// Every shipped query in every format, the tables that hold accounts, `snapshots`, the four
/// kinds of export with their files, and the database with what lies beside it.
fn every_output(env: &Env, seen: &mut Seen) {
    let list = seen.add("query --list", &env.run(&["query", "--list"]));
    let queries: Vec<String> = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"))
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".sql")
                .map(str::to_string)
        })
        .collect();
    assert!(queries.len() >= 7, "{queries:?}");
    for q in &queries {
        assert!(list.contains(q.as_str()), "{q} not in {list}");
        for fmt in ["table", "csv", "json"] {
            let mut args = vec!["query", q.as_str(), "--format", fmt];
            if q == "share" {
                args.extend(["-p", "name=OVH"]);
            }
            let out = seen.add(&format!("query {q}"), &env.run(&args));
            // The shipped queries only count opted-out accounts: not even their hash.
            assert!(!out.contains("opted-out:"), "query {q} --format {fmt}: {out}");
        }
    }
    for table in [
        "account",
        "account_state",
        "follow_edge",
        "seed",
        "follow_list",
        "journal",
    ] {
        let sql = env.dir.path().join(format!("{table}.sql"));
        std::fs::write(&sql, format!("SELECT * FROM {table}")).unwrap();
        let o = env.run(&["query", "--sql", sql.to_str().unwrap(), "--format", "csv"]);
        if table != "journal" || o.status.success() {
            seen.add(&format!("query --sql {table}"), &o);
        }
    }
    seen.add("snapshots", &env.run(&["snapshots"]));

    for (name, args) in [
        ("csv", vec![]),
        ("gz.tar.gz", vec!["--gzip"]),
        ("parquet", vec!["--format", "parquet"]),
        ("handles", vec!["--include-handles"]),
    ] {
        let out = env.dir.path().join(format!("export-{name}"));
        let mut a = vec!["export", "--out", out.to_str().unwrap()];
        a.extend(args);
        seen.add(&format!("export {name}"), &env.run(&a));
        let mut files = vec![];
        if out.is_dir() {
            files_under(&out, &mut files);
        } else {
            files.push(out.clone());
        }
        for f in files {
            seen.file(&format!("export file {}", f.display()), &f);
        }
    }

    // The database and whatever lies beside it (WAL, key, lock).
    let mut data = vec![];
    files_under(&env.dir.path().join("data"), &mut data);
    assert!(
        data.iter().any(|p| p.extension().is_some_and(|e| e == "db")),
        "{data:?}"
    );
    for f in &data {
        seen.file(&format!("data file {}", f.display()), f);
    }
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn opted_out_accounts_are_named_in_no_output_and_not_in_the_database() {
    let env = Env::start_timeline(world());
    let mut seen = Seen { outputs: vec![] };
    let crawl = |fmt: &str| {
        let mut args = vec!["crawl", "--format", fmt];
        args.extend(SEEDS);
        env.run(&args)
    };
    let week0 = crawl("text");
    seen.add("crawl week 0", &week0);
    env.sim.set_week(1).unwrap();
    let week1 = crawl("json");
    let w1: Value = serde_json::from_str(&seen.add("crawl week 1", &week1)).unwrap();
    env.sim.set_week(2).unwrap();
    seen.add("crawl week 2", &crawl("html"));

    // The counts stay exact: nb1 (in both lists) once; both old and new accounts of the movers.
    let population = &w1["population"];
    assert_eq!(population["accounts"], 10, "{population}");
    assert_eq!(population["accounts_opted_out"], 9, "{population}");

    for fmt in ["text", "json", "csv", "html"] {
        for snapshot in ["1", "2", "3"] {
            seen.add(
                &format!("report {snapshot} --format {fmt}"),
                &env.run(&["report", snapshot, "--format", fmt]),
            );
        }
    }
    let diff = seen.add("diff 1 2", &env.run(&["diff", "1", "2"]));
    assert!(
        diff.contains("Accounts that changed: 5 — 3 added; 2 still listed, now marked moved."),
        "{diff}"
    );
    assert!(
        diff.contains("  1 opted-out account on hub.example still listed but marked moved to\n    eq.example."),
        "{diff}"
    );
    assert!(diff.contains("  2 opted-out accounts on eq.example added."), "{diff}");
    // The shipped query counts them alike, per change and instance.
    let out = env.run(&[
        "query",
        "account-changes",
        "-p",
        "from=1",
        "-p",
        "to=2",
        "--format",
        "csv",
    ]);
    let rows = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(rows.contains("\n2 opted-out accounts,added,eq.example,\n"), "{rows}");
    assert!(rows.contains("\n1 opted-out account,moved,hub.example,"), "{rows}");
    let json: Value =
        serde_json::from_str(&seen.add("diff 1 2 json", &env.run(&["diff", "1", "2", "--format", "json"]))).unwrap();
    // Only counts: no account row, not even a hash.
    assert_eq!(json["accounts"], serde_json::json!([]), "{json}");
    let moved: u64 = json["opted_out"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["change"] == "moved")
        .map(|a| a["count"].as_u64().unwrap())
        .sum();
    assert_eq!(moved, 2, "{json}");
    let diff = seen.add("diff 2 3", &env.run(&["diff", "2", "3"]));
    assert!(
        diff.contains("Accounts that changed: 1 — 1 gone (1 unknown)."),
        "{diff}"
    );

    // What is stored of an opted-out account: its hash, instance and flags; not its follower
    // and following counts or its last post (nb6 served one), which would single it out.
    let db = rusqlite::Connection::open(env.dir.path().join("data/whohosts.db")).unwrap();
    let counts: (i64, i64, i64, i64, i64) = db
        .query_row(
            "SELECT count(*), count(st.followers_count), count(st.following_count),
                    count(st.last_status_at), count(DISTINCT a.id)
               FROM account_state st JOIN account a ON a.id = st.account_id
              WHERE a.actor_uri LIKE 'opted-out:%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert!(counts.0 >= 9 && counts.4 >= 7, "{counts:?}");
    assert_eq!((counts.1, counts.2, counts.3), (0, 0, 0), "{counts:?}");
    // bob, who lets crawlers in, keeps his counts.
    let bob: i64 = db
        .query_row(
            "SELECT count(st.followers_count) FROM account_state st JOIN account a ON a.id = st.account_id
              WHERE a.handle LIKE '%bob@a.example'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(bob > 0);
    drop(db);

    every_output(&env, &mut seen);
    let moved = seen.add(
        "query moved-accounts -p snapshot=2",
        &env.run(&["query", "moved-accounts", "-p", "snapshot=2", "--format", "json"]),
    );
    let moved: Value = serde_json::from_str(&moved).unwrap();
    assert_eq!(moved.as_array().map(Vec::len), Some(2), "{moved}");
    seen.names_none(&NAMES);
    // bob, who did not opt out, is there by name: the search would have found them.
    assert!(seen
        .outputs
        .iter()
        .any(|(_, b)| b.windows(13).any(|w| w == b"bob@a.example")));
}

/// `user@host` following `to`.
fn follows(handle: &str, to: &[&str]) -> whohosts_sim::world::AccountSpec {
    crate::common::acct(handle, &to.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// A world of `accounts` on a.example (Hetzner), b.example (OVH) and c.example (netcup).
fn three_instances(accounts: Vec<whohosts_sim::world::AccountSpec>) -> Env {
    use crate::common::inst;
    use whohosts_sim::world::Software;
    Env::start(crate::common::world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
            inst("c.example", Software::Mastodon, "netcup"),
        ],
        accounts,
    ))
}

/// A deeper crawl meets an account whose opt-out only its own profile shows: the seed's
/// instance lists a stale copy that lets crawlers in, so it is queued and looked up, and its
/// home says `noindex`. Its lists are never read; it is counted as opted out, not expanded;
/// and it is named nowhere: not in the rows of the lists that named it (the profile wins), not
/// as an expanded account, not in any output or the database.
#[test]
fn an_account_opted_out_only_at_its_profile_is_named_nowhere_after_a_deeper_crawl() {
    let mut quiet = follows("quietsam@b.example", &["q@c.example"]);
    quiet.noindex = true;
    quiet.stale_remote_copy = true;
    quiet.display_name = Some("Sam Stale".into());
    let env = three_instances(vec![
        follows("seed@a.example", &["x@a.example", "quietsam@b.example"]),
        follows("x@a.example", &["quietsam@b.example", "w@c.example"]),
        quiet,
        follows("w@c.example", &[]),
        follows("q@c.example", &[]),
    ]);
    let mut seen = Seen { outputs: vec![] };
    let out = env.run(&["crawl", "--format", "json", "--depth", "2", "seed@a.example"]);
    let snap: Value = serde_json::from_str(&seen.add("crawl --depth 2", &out)).unwrap();
    let d = &snap["crawl"]["depth"];
    assert_eq!(
        (d["expanded"].as_u64(), d["opted_out"].as_u64()),
        (Some(1), Some(1)),
        "{d}"
    );
    // Listed by the seed and by x: one account, opted out; x, w and it make the population.
    let population = &snap["population"];
    assert_eq!(population["accounts"], 3, "{population}");
    assert_eq!(population["accounts_opted_out"], 1, "{population}");
    let inputs: Vec<&str> = snap["crawl"]["expanded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["input"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    assert_eq!(inputs[0], "@x@a.example");
    assert!(inputs[1].starts_with("opted-out:"), "{inputs:?}");
    // Its profile was looked up (that is how its opt-out was found); its lists never were.
    let asked = env.paths("b.example");
    assert!(asked.iter().any(|p| p.contains("lookup")), "{asked:?}");
    assert!(!asked.iter().any(|p| p.contains("following")), "{asked:?}");
    for fmt in ["text", "json", "csv", "html"] {
        seen.add(
            &format!("report --format {fmt}"),
            &env.run(&["report", "--format", fmt]),
        );
    }
    seen.add("crawl again", &env.run(&["crawl", "--depth", "2", "seed@a.example"]));
    seen.add("diff 1 2", &env.run(&["diff", "1", "2"]));
    every_output(&env, &mut seen);
    seen.names_none(&["quietsam", "Sam Stale"]);
    // x, who did not opt out, is there by name: the search would have found it.
    assert!(seen
        .outputs
        .iter()
        .any(|(_, b)| b.windows(11).any(|w| w == b"x@a.example")));
}

/// One crawl sees an account twice: its home's list says it opted out, another instance lists
/// a stale copy that lets crawlers in. And an account that lets crawlers in moved to one that
/// opted out. The opt-out wins on every row, and the move names the target's instance only.
#[test]
fn a_stale_copy_and_a_move_to_an_opted_out_account_name_no_one() {
    let mut stale = follows("zqstale@b.example", &[]);
    stale.noindex = true;
    stale.stale_remote_copy = true;
    stale.display_name = Some("Zed Stale".into());
    let mut target = follows("zqtarget@c.example", &[]);
    target.noindex = true;
    let mut mover = follows("mover@a.example", &[]);
    mover.moved_to = Some("zqtarget@c.example".into());
    let env = three_instances(vec![
        follows("alice@a.example", &["zqstale@b.example", "mover@a.example"]),
        follows("bea@b.example", &["zqstale@b.example"]),
        stale,
        target,
        mover,
    ]);
    let mut seen = Seen { outputs: vec![] };
    let out = env.run(&["crawl", "--format", "json", "alice@a.example", "bea@b.example"]);
    let snap: Value = serde_json::from_str(&seen.add("crawl", &out)).unwrap();
    let population = &snap["population"];
    assert_eq!(population["accounts"], 2, "{population}");
    assert_eq!(population["accounts_opted_out"], 1, "{population}");
    let alice = &snap["crawl"]["seeds"][0]["following"]["accounts"];
    let mover = alice
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["handle"] == "@mover@a.example")
        .unwrap();
    assert_eq!(mover["moved_to"], "an opted-out account on c.example", "{alice}");
    for fmt in ["text", "json", "csv", "html"] {
        seen.add(
            &format!("report --format {fmt}"),
            &env.run(&["report", "--format", fmt]),
        );
    }
    seen.add("crawl again", &env.run(&["crawl", "alice@a.example", "bea@b.example"]));
    seen.add("diff 1 2", &env.run(&["diff", "1", "2"]));
    every_output(&env, &mut seen);
    seen.names_none(&["zqstale", "zqtarget", "Zed Stale"]);
    assert!(seen
        .outputs
        .iter()
        .any(|(_, b)| b.windows(15).any(|w| w == b"mover@a.example")));
}

/// An account opts out after a snapshot named it: that snapshot's rows of it move to the
/// keyed hash when the next is stored, so the diff counts it as still there (not gone and
/// added), it is not fetched as a departure, and nothing names it any more.
#[test]
fn an_account_that_opts_out_later_is_scrubbed_from_the_snapshots_that_named_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/opted-out-later.toml");
    let env = Env::start_timeline(World::load(&path).unwrap());
    let seeds = ["@alice@hub.example", "@carol@hub.example"];
    let crawl = |fmt: &str| {
        let mut args = vec!["crawl", "--format", fmt];
        args.extend(seeds);
        env.run(&args)
    };
    let week0: Value = serde_json::from_slice(&crawl("json").stdout).unwrap();
    assert_eq!(week0["population"]["accounts_opted_out"], 0);
    let asked_before = env.paths("a.example").len();
    env.sim.set_week(1).unwrap();
    let mut seen = Seen { outputs: vec![] };
    let week1: Value = serde_json::from_str(&seen.add("crawl week 1", &crawl("json"))).unwrap();
    // zqlate, and zqnew, whom alice follows now that mvb moved there.
    assert_eq!(week1["population"]["accounts_opted_out"], 2, "{}", week1["population"]);
    // Not fetched to learn why it left: it did not.
    let asked: Vec<String> = env.paths("a.example")[asked_before..].to_vec();
    assert!(!asked.iter().any(|p| p.contains("zqlate")), "{asked:?}");
    // Snapshot 1's own figures are unchanged: 3 accounts, none then opted out.
    let report1: Value =
        serde_json::from_str(&seen.add("report 1", &env.run(&["report", "1", "--format", "json"]))).unwrap();
    assert_eq!(report1["population"]["accounts"], 3, "{}", report1["population"]);
    assert_eq!(report1["population"]["accounts_opted_out"], 0);
    let diff: Value =
        serde_json::from_str(&seen.add("diff json", &env.run(&["diff", "1", "2", "--format", "json"]))).unwrap();
    let gone: Vec<&Value> = diff["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["change"] == "removed" || a["change"] == "gone")
        .collect();
    assert!(gone.is_empty(), "{diff}");
    // Only zqnew is new among the opted-out accounts: zqlate was there before.
    let added: Vec<&Value> = diff["opted_out"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["change"] == "added")
        .collect();
    assert_eq!(added.len(), 1, "{diff}");
    assert_eq!(added[0]["instance"], "c.example", "{diff}");
    seen.add("diff", &env.run(&["diff", "1", "2"]));
    for fmt in ["text", "json", "csv", "html"] {
        seen.add(
            &format!("report --format {fmt}"),
            &env.run(&["report", "--format", fmt]),
        );
    }
    every_output(&env, &mut seen);
    seen.names_none(&["zqlate", "Zq Later", "zqnew"]);
}

/// The same at `--depth 2`: an account the first crawl expanded is a seed row of its own
/// (input, handle, actor URI); when it opts out later, those rows move to its hash too, so
/// neither the earlier report (`crawl.expanded`) nor the database names it (outside trial).
#[test]
fn an_expanded_account_that_opts_out_later_is_scrubbed_from_the_snapshots_that_named_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/opted-out-later.toml");
    let env = Env::start_timeline(World::load(&path).unwrap());
    let crawl = || {
        env.run(&[
            "crawl",
            "--format",
            "json",
            "--depth",
            "2",
            "@alice@hub.example",
            "@carol@hub.example",
        ])
    };
    let week0: Value = serde_json::from_slice(&crawl().stdout).unwrap();
    let expanded = week0["crawl"]["expanded"].to_string();
    assert!(expanded.contains("zqlate@a.example"), "{expanded}");
    env.sim.set_week(1).unwrap();
    let mut seen = Seen { outputs: vec![] };
    let week1: Value = serde_json::from_str(&seen.add("crawl week 1", &crawl())).unwrap();
    assert_eq!(week1["population"]["accounts_opted_out"], 2, "{}", week1["population"]);
    let report1: Value =
        serde_json::from_str(&seen.add("report 1", &env.run(&["report", "1", "--format", "json"]))).unwrap();
    assert_eq!(report1["population"]["accounts"], week0["population"]["accounts"]);
    every_output(&env, &mut seen);
    seen.names_none(&["zqlate", "Zq Later"]);
}

#[test]
fn a_move_to_an_account_that_opts_out_later_keeps_only_its_instance_in_earlier_snapshots() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/opted-out-target-later.toml");
    let env = Env::start_timeline(World::load(&path).unwrap());
    let seeds = ["@alice@hub.example", "@carol@hub.example"];
    let crawl = || {
        let mut args = vec!["crawl", "--format", "json"];
        args.extend(seeds);
        env.run(&args)
    };
    assert!(crawl().status.success());
    env.sim.set_week(1).unwrap();
    // Week 1: zqtgt lets crawlers in, so the move is stored naming it.
    let week1 = crawl();
    assert!(week1.status.success());
    let named_then: Value = serde_json::from_slice(&week1.stdout).unwrap();
    assert_eq!(named_then["population"]["accounts_opted_out"], 0);
    let moves = |id: i64| -> Vec<String> {
        let mut dbs = vec![];
        files_under(&env.dir.path().join("data"), &mut dbs);
        let db = dbs.iter().find(|p| p.extension().is_some_and(|e| e == "db")).unwrap();
        let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT st.moved_to FROM follow f JOIN follow_list l ON l.id = f.list_id
                   JOIN account_state st ON st.id = f.account_state_id
                  WHERE l.snapshot_id = ?1 AND st.moved_to IS NOT NULL ORDER BY 1",
            )
            .unwrap();
        let rows = stmt.query_map([id], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(moves(2), ["@zqtgt@c.example"]);
    env.sim.set_week(2).unwrap();
    let mut seen = Seen { outputs: vec![] };
    let week2: Value = serde_json::from_str(&seen.add("crawl week 2", &crawl())).unwrap();
    assert_eq!(week2["population"]["accounts_opted_out"], 1, "{}", week2["population"]);
    // The earlier snapshot's move keeps the target's instance only, as this one's does.
    assert_eq!(moves(2), ["an opted-out account on c.example"]);
    assert_eq!(moves(3), ["an opted-out account on c.example"]);
    for id in ["1", "2", "3"] {
        for fmt in ["text", "json", "html"] {
            seen.add(
                &format!("report {id} --format {fmt}"),
                &env.run(&["report", id, "--format", fmt]),
            );
        }
    }
    seen.add("diff 2 3", &env.run(&["diff", "2", "3", "--format", "json"]));
    every_output(&env, &mut seen);
    seen.names_none(&["zqtgt", "Zq Target"]);
}

#[test]
fn a_debug_log_names_the_kind_of_each_request_never_an_opted_out_account() {
    let env = Env::start_timeline(world());
    let mut seen = Seen { outputs: vec![] };
    for week in [1, 2] {
        env.sim.set_week(week).unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
            .arg("--config")
            .arg(env.config_path())
            .args(["-vv", "crawl"])
            .args(SEEDS)
            .env_remove("RUST_LOG")
            .env_remove("WHOHOSTS_TOKEN")
            .env_remove("WHOHOSTS_CONFIG")
            .output()
            .unwrap();
        seen.add(&format!("crawl -vv week {week}"), &out);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        // Each request is logged, by host and kind only.
        let requests = err.lines().filter(|l| l.contains(" request ")).count();
        assert!(requests > 10, "{err}");
        for kind in ["/<webfinger>", "/<follow-list>", "/<nodeinfo>", "/<robots.txt>"] {
            assert!(err.contains(kind), "no {kind} in:\n{err}");
        }
        assert!(!err.contains("resource=") && !err.contains("/users/"), "{err}");
    }
    seen.names_none(&NAMES);
}

/// A move target only the mover's server vouches for: a stale REST copy that lets crawlers in
/// (zqhid1), a bare ActivityPub `movedTo` URI (zqhid2), a departed account's actor (zqhid3).
/// Each opted out and none is followed by anyone the crawl reads, so the crawl never sees them:
/// each move keeps the target's instance only, and none is named in any output, the `-vv`
/// log, or the database.
#[test]
fn a_move_to_an_account_the_crawl_never_saw_names_its_instance_only() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/moved-to-opted-out.toml");
    let env = Env::start_timeline(World::load(&path).unwrap());
    let seeds = ["@alice@a.example", "@bea@b.example"];
    let mut seen = Seen { outputs: vec![] };
    let crawl = |fmt: &str| {
        let mut args = vec!["crawl", "--format", fmt];
        args.extend(seeds);
        env.run(&args)
    };
    // Week 0's own output names zqgone, who let crawlers in then (what is already written
    // cannot be reached); it must name no zqhid.
    let mut before = Seen { outputs: vec![] };
    let week0: Value = serde_json::from_str(&before.add("crawl week 0", &crawl("json"))).unwrap();
    before.names_none(&["zqhid", "Zq Hidden"]);
    let moved_to = |seed: usize, handle: &str| -> Value {
        week0["crawl"]["seeds"][seed]["following"]["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["handle"] == handle)
            .unwrap_or_else(|| panic!("no {handle} in {}", week0["crawl"]["seeds"][seed]))["moved_to"]
            .clone()
    };
    assert_eq!(moved_to(0, "@mvrest@a.example"), "an account on c.example");
    assert_eq!(moved_to(1, "@mvap@b.example"), "an account on c.example");
    env.sim.set_week(1).unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .args(["-vv", "crawl"])
        .args(seeds)
        .env_remove("RUST_LOG")
        .env_remove("WHOHOSTS_TOKEN")
        .env_remove("WHOHOSTS_CONFIG")
        .output()
        .unwrap();
    seen.add("crawl -vv week 1", &out);
    let diff: Value =
        serde_json::from_str(&seen.add("diff json", &env.run(&["diff", "1", "2", "--format", "json"]))).unwrap();
    let gone: Vec<&Value> = diff["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["change"] == "gone")
        .collect();
    assert_eq!(gone.len(), 1, "{diff}");
    assert_eq!(gone[0]["account"], "@mvgone@a.example", "{diff}");
    assert_eq!(gone[0]["cause"], "moved", "{diff}");
    assert_eq!(gone[0]["moved_to"], "an account on c.example", "{diff}");
    // zqgone, whose own actor says it opts out now, is counted, never named, and week 0's
    // rows of it are its hash now.
    assert_eq!(
        diff["opted_out"],
        serde_json::json!([{"change": "gone", "instance": "a.example", "moved_to": null, "count": 1}]),
        "{diff}"
    );
    let text = seen.add("diff", &env.run(&["diff", "1", "2"]));
    assert!(text.contains("2 gone (1 moved to c.example, 1 unfollowed)"), "{text}");
    assert!(
        text.contains("> @mvgone@a.example moved to an account on c.example"),
        "{text}"
    );
    assert!(text.contains("1 opted-out account on a.example gone"), "{text}");
    for fmt in ["text", "json", "csv", "html"] {
        seen.add(
            &format!("report --format {fmt}"),
            &env.run(&["report", "--format", fmt]),
        );
    }
    every_output(&env, &mut seen);
    seen.names_none(&["zqhid", "Zq Hidden", "zqgone", "Zq Gone"]);
    // The movers, who did not opt out, are there by name: the search would have found them.
    assert!(seen
        .outputs
        .iter()
        .any(|(_, b)| b.windows(14).any(|w| w == b"mvap@b.example")));
}
