//! A trend follows the same seed accounts however the command spells and orders them; a
//! changed seed set starts a new series, and the report says so.

use crate::alerts::small_world;
use crate::common::Env;

fn trend_ids(report: &serde_json::Value) -> Vec<i64> {
    report["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshot"].as_i64().unwrap())
        .collect()
}

#[test]
fn reordered_and_respelled_seeds_continue_the_series_and_a_changed_set_starts_one() {
    let env = Env::start(small_world());
    let (r1, _) = env.crawl(&["@alice@hub.example", "carol@a.example"]);
    assert_eq!((trend_ids(&r1), &r1["new_series"]), (vec![], &serde_json::Value::Null));
    // Reordered and spelled otherwise: the same two accounts, the same series.
    let (r2, _) = env.crawl(&["acct:carol@a.example", "alice@hub.example"]);
    assert_eq!(trend_ids(&r2), [1, 2]);
    let (r3, _) = env.crawl(&["@carol@a.example", "@alice@hub.example", "acct:alice@hub.example"]);
    assert_eq!(trend_ids(&r3), [1, 2, 3]);
    assert_eq!(r3["new_series"], serde_json::Value::Null);
    // carol left out: a new series, said in the report.
    let (r4, _) = env.crawl(&["@alice@hub.example"]);
    assert_eq!(trend_ids(&r4), Vec::<i64>::new());
    assert_eq!(
        r4["new_series"],
        "Snapshot 4 starts a new series: its seeds differ from those of snapshot 3 (dropped @carol@a.example), \
         so no trend is drawn across them."
    );
    let text = env.run(&["report", "4"]);
    let text = crate::common::unwrapped(&String::from_utf8_lossy(&text.stdout));
    assert!(
        text.contains("Snapshot 4 starts a new series: its seeds differ from those of snapshot 3"),
        "{text}"
    );
    // A diff across the two series says it compares different seeds, and how.
    let out = env.run(&["diff", "3", "4"]);
    let text = crate::common::unwrapped(&String::from_utf8_lossy(&out.stdout));
    assert!(
        text.contains(
            "Not like for like: snapshots 3 and 4 are crawls of different seeds (dropped @carol@a.example), so the \
             accounts of a seed crawled in only one of them count as added or gone."
        ),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&env.run(&["diff", "3", "4", "--format", "json"]).stdout).unwrap();
    assert!(json["not_like_for_like"]
        .as_str()
        .unwrap()
        .contains("(dropped @carol@a.example)"));
    let same: serde_json::Value =
        serde_json::from_slice(&env.run(&["diff", "2", "3", "--format", "json"]).stdout).unwrap();
    assert!(same.get("not_like_for_like").is_none(), "{same}");
    // The page says it too, though it has no trend to draw.
    let page = env.run(&["report", "4", "--format", "html"]);
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(
        page.contains(
            "<p class=\"note\" id=\"new-series\">Snapshot 4 starts a new series: its seeds differ from those of \
             snapshot 3 (dropped @carol@a.example), so no trend is drawn across them.</p>"
        ) && !page.contains("id=\"trend\""),
        "{page}"
    );
    // The alerts' `.change` compares within the series: snapshot 3, not 4, is before 5.
    let out = env.run(&[
        "crawl",
        "alice@hub.example",
        "@carol@a.example",
        "--warn-if",
        "organisation.hhi.change == 0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().last(),
        Some("whohosts: --warn-if 'organisation.hhi.change == 0': organisation.hhi.change is 0 (snapshot 5 against 3)"),
        "{err}"
    );
}

/// `query` comparisons that are given no `from` compare a snapshot with the one before it in
/// its series, as `diff` does, not with whatever crawl ran before it.
#[test]
fn comparisons_default_to_the_previous_snapshot_of_the_same_series() {
    let env = Env::start(small_world());
    // 1 and 3 crawl alice; 2, between them, crawls bob (who follows nobody).
    for seed in ["alice@hub.example", "bob@a.example", "alice@hub.example"] {
        assert_eq!(env.crawl(&[seed]).1, 0);
    }
    let run = |args: &[&str]| {
        let out = env.run(&[&["query"][..], args, &["--format", "csv"][..]].concat());
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let header = "account,change,instance,moved_to\n";
    // 3 against 1: alice follows the same accounts, nothing changed (against 2 all four
    // of her follows would read "added", and both instances "appeared").
    assert_eq!(run(&["account-changes"]), (0, header.to_string(), String::new()));
    let header = "instance,change,from_accounts,to_accounts,failure\n";
    assert_eq!(run(&["instance-changes"]), (0, header.to_string(), String::new()));
    // Snapshot 2 starts bob's series: nothing before it, said once.
    assert_eq!(
        run(&["account-changes", "-p", "to=2"]),
        (
            0,
            "account,change,instance,moved_to\n".to_string(),
            "whohosts: query account-changes: snapshot 2 is the first of its series (crawls of the same seeds): \
             nothing before it to compare; -p from=… to choose\n"
                .to_string()
        )
    );
    // Named, the earlier snapshot is the one given.
    let (code, out, err) = run(&["instance-changes", "-p", "from=2", "-p", "to=3"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        ["a.example,appeared,,1,", "hub.example,appeared,,3,"],
        "{out}"
    );
    // A snapshot that is not complete has no rows to compare: refused, not read as empty.
    let db = env.dir.path().join("data/whohosts.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE snapshot SET status = 'interrupted' WHERE id = 2", [])
        .unwrap();
    for args in [
        &["account-changes", "-p", "to=2"][..],
        &["host-changes", "-p", "from=2", "-p", "to=3"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(
            (code, out.as_str(), err.lines().next()),
            (
                2,
                "",
                Some(
                    format!(
                        "whohosts: query {}: {}: snapshot 2 is interrupted, not complete: its rows are stored when it \
                         completes (`whohosts snapshots` lists them)",
                        args[0],
                        if args[2] == "to=2" { "to" } else { "from" }
                    )
                    .as_str()
                )
            )
        );
    }
}

/// A crawl in which every seed failed (the nameserver down during a cron run) measured
/// nothing: it is stored `failed`, its own report still says why each seed failed, and it
/// is no baseline: `report` without an id, the next crawl's trend, its comparisons and its
/// `.change` rules all pass over it.
#[test]
fn a_crawl_that_read_no_seed_is_stored_failed_and_is_no_baseline() {
    let mut env = Env::start(small_world());
    assert_eq!(env.crawl(&["alice@hub.example"]).1, 0);
    let dns = env.config.dns.clone();
    env.config.dns.nameservers = vec!["127.0.0.1:9".into()];
    env.config.dns.timeout_secs = 0.3;
    env.config.dns.attempts = 1;
    env.write_config();
    let (r2, code) = env.crawl(&["alice@hub.example"]);
    assert_eq!(code, 1);
    assert_eq!(r2["snapshot"]["id"], 2);
    assert_eq!(r2["crawl"]["seeds"][0]["error"]["kind"], "dns-no-answer", "{r2}");
    assert_eq!(
        (&r2["population"]["seeds"], &r2["population"]["seeds_failed"]),
        (&1.into(), &1.into())
    );
    assert_eq!(r2["trend"], serde_json::json!([]));
    let db = rusqlite::Connection::open(std::path::Path::new(&env.config.data_dir).join("whohosts.db")).unwrap();
    let (status, journal): (String, i64) = db
        .query_row(
            "SELECT status, (SELECT count(*) FROM journal WHERE snapshot_id = 2) FROM snapshot WHERE id = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(db);
    assert_eq!((status.as_str(), journal), ("failed", 0));
    // It has no report of its own later, no figures for a metrics file, nothing to compare.
    let prom = env.dir.path().join("m.prom");
    let out = env.run(&["report", "2", "--metrics-file", prom.to_str().unwrap()]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned()),
        (
            Some(1),
            "whohosts: snapshot 2 failed, so it has no report: run the same crawl again for a new one\n".into()
        )
    );
    assert!(!prom.exists());
    let out = env.run(&["diff", "1", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        (out.status.code(), err.lines().next()),
        (
            Some(2),
            Some(
                "whohosts: diff 1 2: snapshot 2 failed, so it measured nothing: compare complete \
                 snapshots (`whohosts snapshots` lists them)"
            )
        ),
        "{err}"
    );
    // `report` without an id reports snapshot 1, the latest measurement.
    let out = env.run(&["report", "--format", "json"]);
    let latest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(latest["snapshot"]["id"], 1);
    env.config.dns = dns;
    env.write_config();
    let out = env.run(&[
        "crawl",
        "alice@hub.example",
        "--format",
        "json",
        "--warn-if",
        "organisation.hhi.change == 0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().last(),
        Some("whohosts: --warn-if 'organisation.hhi.change == 0': organisation.hhi.change is 0 (snapshot 3 against 1)"),
        "{err}"
    );
    let r3: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trend_ids(&r3), [1, 3]);
    // Compared with 1, not with the empty 2: nothing of alice's follows changed.
    let out = env.run(&["query", "account-changes", "--format", "csv"]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()),
        (Some(0), "account,change,instance,moved_to\n".to_string())
    );
}
