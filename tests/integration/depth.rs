//! `crawl --depth N`: accounts reached beyond the seeds, each expanded once, never an opted-out
//! one; budgets that cut at their number and say so; a killed deeper crawl resumes to the same
//! rows.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use whohosts_sim::world::{AccountSpec, Software};

use crate::common::*;
use crate::resume::{reader, rows, wait_for_rows};
use crate::store::{count, crawl_db, db_in, generated};

fn follows(handle: &str, to: &[&str]) -> AccountSpec {
    acct(handle, &to.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// seed → x, y, shy (opted out); x → z, w, y; y → z, v; shy → q; z → x.
fn small_world() -> Env {
    let mut shy = follows("shy@b.example", &["q@c.example"]);
    shy.noindex = true;
    let accounts = vec![
        follows("seed@a.example", &["x@a.example", "y@b.example", "shy@b.example"]),
        follows("x@a.example", &["z@c.example", "w@c.example", "y@b.example"]),
        follows("y@b.example", &["z@c.example", "v@a.example"]),
        shy,
        follows("z@c.example", &["x@a.example"]),
        follows("w@c.example", &[]),
        follows("v@a.example", &[]),
        follows("q@c.example", &[]),
    ];
    Env::start(world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
            inst("c.example", Software::Mastodon, "netcup"),
        ],
        accounts,
    ))
}

/// Requests for the following list of `user` on `host` (REST or ActivityPub).
fn list_requests(env: &Env, host: &str, user: &str) -> usize {
    // The simulator's REST ids are 100000 + the account's place in the world's list.
    const ORDER: [&str; 8] = ["seed", "x", "y", "shy", "z", "w", "v", "q"];
    let place = ORDER
        .iter()
        .position(|u| *u == user)
        .expect("an account of small_world");
    let rest = format!("/api/v1/accounts/{}/following", 100_000 + place);
    let activitypub = format!("/users/{user}/following");
    env.paths(host)
        .iter()
        .filter(|p| p.starts_with(&rest) || p.starts_with(&activitypub))
        .count()
}

fn expanded(snap: &Value) -> Vec<(String, u64)> {
    snap["crawl"]["expanded"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| (s["input"].as_str().unwrap().to_string(), s["depth"].as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn depth_two_reaches_the_follows_of_follows_each_once_and_never_an_opted_out_account() {
    let env = small_world();
    let (snap, code) = env.crawl(&["--depth", "2", "seed@a.example"]);
    assert_eq!(code, 0);
    assert_eq!(
        expanded(&snap),
        vec![("@x@a.example".into(), 1), ("@y@b.example".into(), 1)]
    );
    let d = &snap["crawl"]["depth"];
    assert_eq!(d["depth"], 2);
    assert_eq!((d["expanded"].as_u64(), d["opted_out"].as_u64()), (Some(2), Some(1)));
    assert_eq!(d["max_accounts"], 100_000);
    // x, y, shy at depth 1; z, w, v at depth 2 (y again: once). q only shy lists.
    let population = &snap["population"];
    assert_eq!(population["accounts"], 6, "{population}");
    assert_eq!(population["seeds"], 1);
    // Lists and their entries are counted at every depth alike, and per depth: the seed's
    // list (x, y, shy) at depth 1; x's (z, w, y) and y's (z, v) at depth 2.
    assert_eq!(
        (population["lists"].as_u64(), population["lists_complete"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(population["list_entries"], 8);
    assert_eq!(
        population["by_depth"],
        serde_json::json!([
            {"depth": 1, "lists": 1, "lists_complete": 1, "list_entries": 3},
            {"depth": 2, "lists": 2, "lists_complete": 2, "list_entries": 5},
        ])
    );
    let out = env.run(&["report"]);
    let text = unwrapped(&String::from_utf8_lossy(&out.stdout));
    assert!(
        text.contains(
            "Population: 6 distinct accounts (8 list entries, 8 follow edges) on 3 instances, from 1 seed (0 failed). Lists read: 1 list at depth 1 (the seeds'; 3 entries, 1 complete), 2 lists at depth 2 (5 entries, 2 complete)."
        ),
        "{text}"
    );
    let instances = &snap["crawl"]["instances"];
    assert_eq!(instances["c.example"]["accounts"], 3, "z twice (x and y list it), w");
    assert!(instances.get("q.example").is_none());
    // The opted-out account's list is never asked for, nor is it looked up.
    let shy_requests: Vec<String> = env
        .paths("b.example")
        .into_iter()
        .filter(|p| p.contains("shy"))
        .collect();
    assert!(shy_requests.is_empty(), "{shy_requests:?}");
    // Depth 1 of the same world: no expansion, no depth in the report.
    let (one, _) = env.crawl(&["--fresh", "seed@a.example"]);
    assert!(one["crawl"].get("depth").is_none());
    assert_eq!(one["population"]["accounts"], 3);
    assert!(one["population"].get("by_depth").is_none());
}

#[test]
fn an_account_two_paths_reach_is_listed_once() {
    let env = small_world();
    let (snap, code) = env.crawl(&["--depth", "3", "seed@a.example"]);
    assert_eq!(code, 0);
    // z is listed by x and by y at depth 2, x by z at depth 3: each expanded once.
    assert_eq!(
        expanded(&snap),
        vec![
            ("@x@a.example".into(), 1),
            ("@y@b.example".into(), 1),
            ("@z@c.example".into(), 2),
            ("@w@c.example".into(), 2),
            ("@v@a.example".into(), 2),
        ]
    );
    assert_eq!(list_requests(&env, "c.example", "z"), 1);
    assert_eq!(list_requests(&env, "b.example", "y"), 1);
    assert_eq!(snap["population"]["accounts"], 6);
}

#[test]
fn budgets_cut_at_their_number_and_the_report_says_which() {
    let env = small_world();
    // `--max-accounts` counts the accounts reached at any depth: the seed's list names x, y
    // and shy (3), x's then names z (the 4th) and w (cut), y's z (again) and v (cut).
    let (snap, _) = env.crawl(&["--depth", "2", "--max-accounts", "4", "seed@a.example"]);
    assert_eq!(
        expanded(&snap),
        vec![("@x@a.example".into(), 1), ("@y@b.example".into(), 1)]
    );
    assert_eq!(snap["population"]["accounts"], 4);
    let why = "stopped at --max-accounts 4 (distinct accounts reached in all)";
    for x in snap["crawl"]["expanded"].as_array().unwrap() {
        assert_eq!(x["following"]["status"]["reason"], why, "{x}");
    }
    // Once the seed's list fills it, nothing is expanded: their lists could name no one new.
    let (snap, _) = env.crawl(&["--fresh", "--depth", "2", "--max-accounts", "3", "seed@a.example"]);
    assert!(expanded(&snap).is_empty());
    assert_eq!(snap["crawl"]["depth"]["cut_by_accounts"], 2);
    assert_eq!(snap["population"]["accounts"], 3);
    // At depth 1 the same budget: at most that many accounts.
    let (snap, _) = env.crawl(&["--fresh", "--max-accounts", "2", "seed@a.example"]);
    assert_eq!(snap["population"]["accounts"], 2);
    let list = &seed(&snap, "seed@a.example")["following"];
    assert_eq!(list["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(list["status"]["state"], "partial");
    assert_eq!(list["status"]["kind"], "account_cap");
    assert_eq!(
        list["status"]["reason"],
        "stopped at --max-accounts 2 (distinct accounts reached in all)"
    );
    assert!(snap["crawl"].get("depth").is_none());
    let (snap, _) = env.crawl(&["--fresh", "--depth", "2", "--max-hosts", "1", "seed@a.example"]);
    assert_eq!(expanded(&snap), vec![("@x@a.example".into(), 1)]);
    assert_eq!(snap["crawl"]["depth"]["cut_by_hosts"], 1);
    let (snap, _) = env.crawl(&["--fresh", "--depth", "2", "--max-requests", "1", "seed@a.example"]);
    assert!(expanded(&snap).is_empty());
    let d = &snap["crawl"]["depth"];
    assert_eq!(
        (d["cut_by_requests"].as_u64(), d["cut_by_accounts"].as_u64()),
        (Some(2), Some(0))
    );
    // The text report states the depth and what each budget cut.
    let out = env.run(&[
        "crawl",
        "--fresh",
        "--depth",
        "2",
        "--max-accounts",
        "3",
        "seed@a.example",
    ]);
    let text = unwrapped(&String::from_utf8_lossy(&out.stdout));
    assert!(
        text.contains(
            "Depth 2: from 1 seed, 0 accounts expanded (their lists read, each once); the population counts every account reached at any depth once. Not expanded: 1 opted out, 0 without a handle; cut by --max-accounts 3: 2 accounts, --max-hosts (none): 0 accounts, --max-requests 200000: 0 accounts."
        ),
        "{text}"
    );
    let bad = env.run(&["crawl", "--depth", "9", "seed@a.example"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Budgets count accounts kept, not consent checks: two accounts listed first look open on the
/// seed's instance (stale copies) but their own profiles say `noindex`. Looking them up is how
/// their opt-out is found; it does not use up `--max-hosts 1`, so x, listed after them on
/// another instance, is expanded.
#[test]
fn an_account_found_opted_out_at_its_profile_does_not_use_up_the_budget() {
    let quiet = |handle: &str| {
        let mut a = follows(handle, &["w@c.example"]);
        a.noindex = true;
        a.stale_remote_copy = true;
        a
    };
    let env = Env::start(world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
            inst("c.example", Software::Mastodon, "netcup"),
        ],
        vec![
            follows("seed@a.example", &["q1@b.example", "q2@b.example", "x@a.example"]),
            quiet("q1@b.example"),
            quiet("q2@b.example"),
            follows("x@a.example", &["w@c.example"]),
            follows("w@c.example", &[]),
        ],
    ));
    let (snap, _) = env.crawl(&["--depth", "2", "--max-hosts", "1", "seed@a.example"]);
    let d = &snap["crawl"]["depth"];
    assert_eq!(
        (
            d["expanded"].as_u64(),
            d["opted_out"].as_u64(),
            d["cut_by_hosts"].as_u64()
        ),
        (Some(1), Some(2), Some(0)),
        "{d}"
    );
    let kept: Vec<(String, u64)> = expanded(&snap)
        .into_iter()
        .filter(|(input, _)| !input.starts_with("opted-out:"))
        .collect();
    assert_eq!(kept, vec![("@x@a.example".into(), 1)]);
    // x's list was read; the opted-out accounts' never were.
    // (The simulator's REST id of x, the fourth account of the world, is 100003.)
    assert!(env
        .paths("a.example")
        .iter()
        .any(|p| p.starts_with("/api/v1/accounts/100003/following")));
    assert!(!env.paths("b.example").iter().any(|p| p.contains("/following")));
}

/// A generated world (seed 9, 60 instances) whose servers answer in 15 ms, so a crawl can
/// be killed half-way; and its seeds.
fn slow_generated() -> (Env, Vec<String>) {
    let (mut w, seeds) = generated(9, 60);
    for i in &mut w.instances {
        i.latency_ms = 15;
    }
    (Env::start(w), seeds)
}

/// `whohosts --config … --quiet --db DB ARGS…` on `env`'s world, stdout discarded.
fn whohosts_on(env: &Env, db: &PathBuf, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"));
    c.arg("--config")
        .arg(env.config_path())
        .args(["--quiet", "--db"])
        .arg(db)
        .args(args)
        .env_remove("WHOHOSTS_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[test]
fn a_killed_depth_two_crawl_resumes_to_the_same_rows() {
    let (env, seeds) = slow_generated();
    let seeds = &seeds[..1];
    let args = ["--depth", "2", "--max-requests", "400"];
    let base = db_in(&env, "base.db");
    assert_eq!(crawl_db(&env, &base, seeds, &args).status.code(), Some(0));
    let expected = rows(&base, 1);
    let depth_rows = |db: &PathBuf| {
        let c = reader(db).unwrap();
        (
            count(&c, "SELECT count(*) FROM seed WHERE depth = 1"),
            c.query_row("SELECT depth FROM snapshot", [], |r| r.get::<_, String>(0))
                .unwrap(),
        )
    };
    let (deep, report) = depth_rows(&base);
    assert!(deep > 0, "{report}");
    for k in [40, 120] {
        let db = db_in(&env, &format!("killed-{k}.db"));
        std::fs::copy(
            whohosts::store::optout::key_path(&base).unwrap(),
            whohosts::store::optout::key_path(&db).unwrap(),
        )
        .unwrap();
        let mut child = whohosts_on(&env, &db, &["crawl"])
            .args(args)
            .args(seeds)
            .spawn()
            .unwrap();
        wait_for_rows(&mut child, &db, k);
        child.kill().unwrap();
        child.wait().unwrap();
        let out = crawl_db(&env, &db, seeds, &args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let conn = reader(&db).unwrap();
        assert_eq!(
            count(&conn, "SELECT count(*) FROM snapshot"),
            1,
            "resumed, not restarted"
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM frontier"), 0);
        assert_eq!(rows(&db, 1), expected, "killed after {k} journal rows");
        assert_eq!(depth_rows(&db), (deep, report.clone()));
    }
}

/// A killed deeper crawl left behind (`--fresh` started another) keeps its journal and
/// frontier for `--resume` until `prune` deletes it, with both: its frontier no longer stops
/// prune (a foreign key to its snapshot), and none of its raw data stays.
#[test]
fn prune_deletes_an_abandoned_deeper_crawl_with_its_journal_and_frontier() {
    let (env, seeds) = slow_generated();
    let seeds = &seeds[..1];
    let args = ["--depth", "2", "--max-accounts", "150"];
    let run = |db: &PathBuf, extra: &[&str]| whohosts_on(&env, db, extra);
    let db = db_in(&env, "prune.db");
    let mut child = run(&db, &["crawl"]).args(args).args(seeds).spawn().unwrap();
    wait_for_rows(&mut child, &db, 40);
    // NodeInfo is read while the seed's list is, so 40 rows may come before the expansion:
    // killed once its frontier is there.
    let started = std::time::Instant::now();
    while count(&reader(&db).unwrap(), "SELECT count(*) FROM frontier") == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the crawl ended before its frontier"
        );
        assert!(started.elapsed().as_secs() < 60, "no frontier after 60 s");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = run(&db, &["crawl", "--fresh"]).args(args).args(seeds).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let c = reader(&db).unwrap();
    assert!(count(&c, "SELECT count(*) FROM journal") >= 40);
    assert!(count(&c, "SELECT count(*) FROM frontier") > 0);
    drop(c);
    let out = run(&db, &["prune", "--keep", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let c = reader(&db).unwrap();
    assert_eq!(count(&c, "SELECT count(*) FROM snapshot"), 1);
    assert_eq!(count(&c, "SELECT count(*) FROM frontier"), 0);
    assert_eq!(count(&c, "SELECT count(*) FROM journal"), 0);
}

/// `--max-requests` holds exactly: on a generated world whose seed's list offers more
/// candidates than the budget pays for, the simulator receives at most N requests of every
/// kind (robots.txt, NodeInfo, WebFinger, lists) in the whole crawl, with N at 60 and 250
/// requests past what the seed's own crawl asks (before, 2 and 1 went past it with robots.txt
/// aside, about 40 more with it). The accounts it left unexpanded are counted and said in the
/// report, every candidate is either expanded or cut, and a second run cuts at the same
/// accounts. `--max-accounts` and `--max-hosts` hold exactly.
#[test]
fn the_requests_budget_holds_and_the_report_counts_what_it_cut() {
    let (w, seeds) = generated(9, 60);
    let env = Env::start(w);
    let seed = seeds[0].as_str();
    let mut seen = 0;
    // Requests the simulator received since the last call, every kind.
    let mut asked = || {
        let n = env.sim.sim.stats().requests.len();
        let new = (n - seen) as u64;
        seen = n;
        new
    };
    let (full, _) = env.crawl(&["--fresh", "--depth", "2", "--max-requests", "100000", seed]);
    let candidates = full["crawl"]["depth"]["expanded"].as_u64().unwrap();
    let all = asked();
    env.crawl(&["--fresh", seed]);
    let seed_cost = asked();
    assert!(all > seed_cost + 600, "{all} requests in all, {seed_cost} for the seed");
    for left in [60, 250] {
        let max = seed_cost + left;
        let budget = max.to_string();
        let (snap, _) = env.crawl(&["--fresh", "--depth", "2", "--max-requests", &budget, seed]);
        let d = &snap["crawl"]["depth"];
        let total = asked();
        let expanded_n = d["expanded"].as_u64().unwrap();
        let cut = d["cut_by_requests"].as_u64().unwrap();
        assert!(total <= max, "{total} requests received under --max-requests {max}");
        assert!(total + 40 > max, "{total} requests received under --max-requests {max}");
        assert!(expanded_n > 0 && cut > 0, "{d}");
        assert_eq!(expanded_n + cut, candidates, "{d}");
        let out = env.run(&["report"]);
        let text = unwrapped(&String::from_utf8_lossy(&out.stdout));
        assert!(
            text.contains(&format!("--max-requests {max}: {cut} accounts.")),
            "{text}"
        );
        let (again, _) = env.crawl(&["--fresh", "--depth", "2", "--max-requests", &budget, seed]);
        assert!(asked() <= max);
        assert_eq!(
            expanded(&again),
            expanded(&snap),
            "the same accounts expanded under {max}"
        );
    }
    let (snap, _) = env.crawl(&["--fresh", "--depth", "2", "--max-hosts", "3", seed]);
    let hosts: std::collections::BTreeSet<String> = expanded(&snap)
        .iter()
        .filter(|(input, _)| !input.starts_with("opted-out:"))
        .filter_map(|(input, _)| input.rsplit('@').next().map(str::to_string))
        .collect();
    assert_eq!(hosts.len(), 3, "{hosts:?}");
    assert!(snap["crawl"]["depth"]["cut_by_hosts"].as_u64() > Some(0));
    // The seed's list names 340 accounts, the whole crawl 363.
    let (snap, _) = env.crawl(&["--fresh", "--depth", "2", "--max-accounts", "350", seed]);
    assert_eq!(snap["population"]["accounts"], 350);
}
