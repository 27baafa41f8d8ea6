//! The shipped trend queries, on a database made by crawling weeks 0, 1 and 2 of
//! tests/fixtures/worlds/timeline.toml with the real pipeline (snapshots 1, 2 and 3): every
//! answer is known from the world.

use std::path::PathBuf;

use serde_json::{json, Value};
use whohosts::crawl::CrawlOptions;
use whohosts::pipeline::{self, Job};
use whohosts::query::{self, Format};
use whohosts::store::{Resume, Store};
use whohosts_sim::world::World;

use crate::common::Env;

const SEEDS: [&str; 3] = ["@alice@hub.example", "@carol@hub.example", "@dan@hub.example"];

/// Crawl every week of `world` into a new database: snapshot n + 1 is week n.
pub fn crawl_weeks(world: World, seeds: &[&str]) -> (Env, PathBuf) {
    let last = world.last_week();
    let env = Env::start_timeline(world);
    let db = env.dir.path().join("weeks.db");
    let writer = Store::open(&db).unwrap().writer().unwrap();
    let job = Job {
        seeds: seeds.iter().map(|s| s.to_string()).collect(),
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet: true,
        clock_offset_secs: 0,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    for week in 0..=last {
        env.sim.set_week(week).unwrap();
        let id = rt.block_on(pipeline::run(&writer, env.config.clone(), &job)).unwrap();
        assert_eq!(id, i64::from(week) + 1);
    }
    rt.block_on(writer.close());
    (env, db)
}

pub fn timeline_db() -> (Env, PathBuf) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/timeline.toml");
    crawl_weeks(World::load(&path).unwrap(), &SEEDS)
}

/// The rows of shipped query `name` with `params`, as JSON objects.
fn rows(db: &std::path::Path, name: &str, params: &[(&str, &str)]) -> Vec<Value> {
    let conn = query::open_read_only(db).unwrap();
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let table = query::run(&conn, name, query::find(name).unwrap().sql, &given).unwrap();
    serde_json::from_str::<Vec<Value>>(&table.render(Format::Json).unwrap()).unwrap()
}

#[test]
fn host_changes_between_two_snapshots() {
    let (_env, db) = timeline_db();
    assert_eq!(
        rows(&db, "host-changes", &[("from", "1"), ("to", "2")]),
        [
            json!({"instance": "cdn.example", "from_snapshot": 1, "to_snapshot": 2, "from_asn": "51167", "to_asn": "13335",
                   "from_hosting": "Contabo", "to_hosting": "behind CDN Cloudflare, origin unknown"}),
            json!({"instance": "mig.example", "from_snapshot": 1, "to_snapshot": 2, "from_asn": "14061", "to_asn": "16276",
                   "from_hosting": "DigitalOcean", "to_hosting": "OVH"}),
        ]
    );
    // By default: the latest complete snapshot against the one before.
    assert_eq!(
        rows(&db, "host-changes", &[]),
        [
            json!({"instance": "cdn2.example", "from_snapshot": 2, "to_snapshot": 3, "from_asn": "12876", "to_asn": "54113",
                "from_hosting": "Scaleway", "to_hosting": "behind CDN Fastly, origin unknown"})
        ]
    );
}

#[test]
fn instances_that_appeared_disappeared_or_became_unreachable() {
    let (_env, db) = timeline_db();
    let row = |i: &str, c: &str, from: Value, to: Value, f: Value| json!({"instance": i, "change": c, "from_accounts": from, "to_accounts": to, "failure": f});
    assert_eq!(
        rows(&db, "instance-changes", &[("to", "2")]),
        [
            row("b.example", "appeared", Value::Null, json!(1), Value::Null),
            row("new.example", "appeared", Value::Null, json!(1), Value::Null),
            row("gone.example", "unreachable", json!(1), json!(1), json!("dns_nxdomain")),
        ]
    );
    assert_eq!(
        rows(&db, "instance-changes", &[]),
        [
            row("cdn.example", "disappeared", json!(1), Value::Null, Value::Null),
            row("dead.example", "unreachable", json!(1), json!(1), json!("connection")),
        ]
    );
}

#[test]
fn accounts_that_moved_or_whose_instance_is_unreachable() {
    let (_env, db) = timeline_db();
    assert_eq!(rows(&db, "moved-accounts", &[("snapshot", "1")]), Vec::<Value>::new());
    let unreachable = |account: &str, instance: &str, failure: &str| {
        json!({"seed": "@alice@hub.example", "account": account, "instance": instance,
               "what": "instance unreachable", "moved_to": null, "failure": failure})
    };
    assert_eq!(
        rows(&db, "moved-accounts", &[]),
        [
            unreachable("@dee@dead.example", "dead.example", "connection"),
            unreachable("@gus@gone.example", "gone.example", "dns_nxdomain"),
            json!({"seed": "@carol@hub.example", "account": "@bob@a.example", "instance": "a.example",
                   "what": "moved", "moved_to": "@bob@b.example", "failure": null}),
        ]
    );
}

#[test]
fn summary_has_one_line_per_snapshot() {
    let (_env, db) = timeline_db();
    let got: Vec<Value> = rows(&db, "summary", &[])
        .into_iter()
        .map(|mut r| {
            let o = r.as_object_mut().unwrap();
            assert!(o.remove("started_at").unwrap().as_str().unwrap().starts_with("20"));
            r
        })
        .collect();
    // Week 0: 8 accounts (alice's 8; carol's and dan's are among them), 11 follows, OVH
    // 2 of 8. Week 1: bob@b.example and eve join, bob@a.example stays in carol's list,
    // dan's list is hidden; gus's instance is unresolved, so OVH holds 3 (ann, bob@a, mo)
    // of the 9 attributed. Week 2: cy is gone, OVH 3 of 8.
    let line = |id: i64, hidden: i64, counts: [i64; 3], share: f64, hhi: f64| {
        json!({"snapshot_id": id, "status": "complete", "kind": "follows", "seeds": 3, "failed_seeds": 0,
               "hidden_lists": hidden, "accounts": counts[0], "follows": counts[1], "instances": counts[2],
               "weight": "accounts", "organisations": 6, "top_organisation": "OVH", "top_share": share, "hhi": hhi})
    };
    assert_eq!(
        got,
        [
            line(1, 0, [8, 11, 7], 0.25, 1875.0),
            line(2, 1, [10, 10, 9], 3.0 / 9.0, 2098.765432098766),
            line(3, 1, [9, 9, 8], 0.375, 2187.5)
        ]
    );
}

/// Rows without `started_at` (a time), each cut to `keys`.
fn cut(rows: Vec<Value>, keys: &[&str]) -> Vec<Value> {
    rows.into_iter()
        .map(|r| keys.iter().map(|k| (k.to_string(), r[*k].clone())).collect())
        .collect()
}

#[test]
fn concentration_over_time_reads_the_stored_metrics() {
    let (_env, db) = timeline_db();
    let keys = [
        "snapshot_id",
        "buckets",
        "top1",
        "top3",
        "k50",
        "k75",
        "hhi",
        "band",
        "gini",
    ];
    let row = |id: i64, top1: f64, top3: f64, hhi: f64, gini: f64| {
        json!({"snapshot_id": id, "buckets": 6, "top1": top1, "top3": top3, "k50": 2, "k75": 4,
               "hhi": hhi, "band": "high", "gini": gini})
    };
    // Organisations by accounts: 2,2,1,1,1,1 of 8; then 3,2,1,1,1,1 of 9; then 3,1,1,1,1,1 of 8.
    assert_eq!(
        cut(rows(&db, "concentration", &[]), &keys),
        [
            row(1, 0.25, 0.625, 1875.0, 1.0 / 6.0),
            row(
                2,
                3.0 / 9.0,
                3.0 / 9.0 + 2.0 / 9.0 + 1.0 / 9.0,
                2098.765432098766,
                0.24074074074074073
            ),
            row(3, 0.375, 0.625, 2187.5, 0.20833333333333337),
        ]
    );
    let effective = rows(&db, "concentration", &[])[0]["effective"].as_f64().unwrap();
    assert!(
        (effective - 4.0 * 2f64.sqrt()).abs() < 1e-9,
        "e^H of (1/4, 1/4, 1/8 x 4) is 4 sqrt 2"
    );
    // Instances by instances: every instance once, 7 then 9 then 8.
    let by_instance = rows(&db, "concentration", &[("level", "instance"), ("weight", "instances")]);
    let got: Vec<(i64, f64)> = by_instance
        .iter()
        .map(|r| (r["buckets"].as_i64().unwrap(), r["hhi"].as_f64().unwrap()))
        .collect();
    for ((buckets, hhi), n) in got.iter().zip([7, 9, 8]) {
        assert_eq!(*buckets, n);
        assert!(
            (hhi - 10_000.0 / n as f64).abs() < 1e-9,
            "{hhi} for {n} equal instances"
        );
    }
    assert_eq!(got.len(), 3);
}

#[test]
fn one_organisation_or_as_share_over_time() {
    let (_env, db) = timeline_db();
    let keys = ["snapshot_id", "rank", "amount", "share"];
    let row = |id: i64, rank: Value, amount: f64, share: f64| json!({"snapshot_id": id, "rank": rank, "amount": amount, "share": share});
    assert_eq!(
        cut(rows(&db, "share", &[("name", "OVH")]), &keys),
        [
            row(1, json!(1), 2.0, 0.25),
            row(2, json!(1), 3.0, 3.0 / 9.0),
            row(3, json!(1), 3.0, 0.375)
        ]
    );
    // Absent weeks count 0; the CDN bucket exists only in week 1.
    assert_eq!(
        cut(
            rows(&db, "share", &[("name", "behind CDN Cloudflare, origin unknown")]),
            &keys
        ),
        [
            row(1, Value::Null, 0.0, 0.0),
            row(2, json!(5), 1.0, 1.0 / 9.0),
            row(3, Value::Null, 0.0, 0.0)
        ]
    );
    // An AS by its key; DigitalOcean's AS left with mig.example.
    assert_eq!(
        cut(rows(&db, "share", &[("level", "as"), ("name", "AS14061")]), &["amount"]),
        [json!({"amount": 1.0}), json!({"amount": 0.0}), json!({"amount": 0.0})]
    );
}

/// `whohosts --db DB query ARGS`: (exit code, stdout, stderr).
fn cli(env: &Env, db: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = env.cmd().arg("--db").arg(db).arg("query").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_query_command_lists_runs_and_formats() {
    let (env, db) = timeline_db();
    let (code, list, _) = cli(&env, &db, &["--list"]);
    assert_eq!(code, 0);
    for q in whohosts::query::SHIPPED {
        assert!(
            list.contains(&format!("\n{}\n", q.name)) || list.starts_with(q.name),
            "{} missing",
            q.name
        );
    }
    assert!(
        list.contains("    --param name=… (required): the bucket, as reports name it"),
        "{list}"
    );
    assert!(
        list.contains("    --param level=… (default organisation): instance, organisation"),
        "{list}"
    );
    crate::common::assert_fits_80("query --list", &list);
    let (code, csv, err) = cli(
        &env,
        &db,
        &["host-changes", "--param", "from=1", "-p", "to=2", "--format", "csv"],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        csv,
        "instance,from_snapshot,to_snapshot,from_asn,to_asn,from_hosting,to_hosting\n\
         cdn.example,1,2,51167,13335,Contabo,\"behind CDN Cloudflare, origin unknown\"\n\
         mig.example,1,2,14061,16276,DigitalOcean,OVH\n"
    );
    let (_, table, _) = cli(&env, &db, &["share", "-p", "name=OVH"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["snapshot_id", "started_at", "rank", "amount", "share"]
    );
    assert!(lines[4].ends_with("     1       3   0.375"), "{table}");
}

/// The hint a usage error of `query` ends with.
const HINT: &str = "whohosts: see `whohosts query --help`\n";

/// Mistakes in what the command line asks are usage errors (exit code 2): one line naming the
/// token, then the hint, as for a bad flag.
#[test]
fn query_mistakes_are_one_clear_line() {
    let (env, db) = timeline_db();
    let cases: [(&[&str], String); 8] = [
        (
            &["host-changes", "-p", "form=1"],
            "whohosts: query host-changes: unknown parameter \"form\" (it takes to, from)\n".into(),
        ),
        (
            &["share"],
            "whohosts: query share: missing parameter \"name\": add --param name=VALUE\n".into(),
        ),
        (
            &["trend"],
            "whohosts: query trend: no such query (there are: summary, concentration, share, host-changes, instance-changes, moved-accounts, account-changes, contact-changes, survey-changes; see `whohosts query --list`)\n".into(),
        ),
        (
            &["share", "-p", "name=OVH", "-p", "name=Hetzner"],
            "whohosts: query share: parameter \"name\" given twice (\"OVH\", then \"Hetzner\"): give it once\n".into(),
        ),
        // A shipped name mistyped is named (issue #15).
        (
            &["host-change", "-p", "from=1"],
            "whohosts: query host-change: no such query; did you mean 'host-changes'? (see `whohosts query --list`)\n"
                .into(),
        ),
        // A parameter without -p: after the name, clap's unexpected word, with the hint; as
        // the name, the same hint.
        (
            &["share", "name=OVH"],
            "whohosts: unexpected argument 'name=OVH' found (tip: a parameter is given as -p name=OVH)\n".into(),
        ),
        (
            &["level=as"],
            "whohosts: query level=as: no such query: a parameter is given as `-p level=as`, after the query's name\n"
                .into(),
        ),
        (
            &["summary", "-p", "oops"],
            "".into(),
        ),
    ];
    for (args, want) in &cases[..7] {
        let (code, out, err) = cli(&env, &db, args);
        assert_eq!((code, out.as_str(), err), (2, "", format!("{want}{HINT}")));
    }
    let (code, _, err) = cli(&env, &db, cases[7].0);
    assert_eq!(
        (code, err),
        (2, format!("whohosts: --param: 'oops' is not NAME=VALUE\n{HINT}"))
    );
    // An error in the SQL itself is one line naming the file, SQLite's message and where.
    let bad = env.dir.path().join("bad.sql");
    std::fs::write(&bad, "-- mine\nSELECT count(*)\n  FROM snapshot WHER id = 1\n").unwrap();
    let (code, _, err) = cli(&env, &db, &["--sql", bad.to_str().unwrap()]);
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "whohosts: query {}: near \"id\": syntax error (line 3, column 22)\n",
                bad.display()
            )
        )
    );
    let gone = env.dir.path().join("gone.sql");
    let (code, _, err) = cli(&env, &db, &["--sql", gone.to_str().unwrap()]);
    assert_eq!(
        (code, err),
        (1, format!("whohosts: SQL file {}: no such file\n", gone.display()))
    );
    let missing = env.dir.path().join("none.db");
    let (code, _, err) = cli(&env, &missing, &["summary"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "whohosts: no database at {}: crawl first, or name one with --db\n",
            missing.display()
        )
    );
    assert!(!missing.exists(), "a query never creates a database");
}

#[test]
fn query_refuses_values_that_cannot_match_and_warns_on_unknown_names() {
    let (env, db) = timeline_db();
    let (code, out, err) = cli(&env, &db, &["share", "-p", "name=OVH", "-p", "level=galaxy"]);
    assert_eq!(
        (code, out.as_str(), err),
        (
            2,
            "",
            format!("whohosts: query share: level must be one of instance, organisation, as, range, block, country, hosting, protocol, domain, server, provider, gateway (not \"galaxy\")\n{HINT}")
        )
    );
    let (code, _, err) = cli(&env, &db, &["concentration", "-p", "weight=people"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("whohosts: query concentration: weight must be one of accounts, edges, instances, users, active, contacts, messages (not \"people\")\n{HINT}")
    );
    let (code, _, err) = cli(&env, &db, &["share", "-p", "name=OVH", "-p", "kind=bogus"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("whohosts: query share: kind must be one of follows, contacts, instances (not \"bogus\")\n{HINT}")
    );
    let (code, _, err) = cli(&env, &db, &["share", "-p", "name=OVH", "-p", "level=organization"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("whohosts: query share: level must be one of instance, organisation, as, range, block, country, hosting, protocol, domain, server, provider, gateway (not \"organization\"; did you mean organisation?)\n{HINT}")
    );
    // A snapshot id that is no number, or names no snapshot, could only give an empty table
    // that reads like "no change" (outside trial).
    let (code, out, err) = cli(&env, &db, &["host-changes", "-p", "from=abc"]);
    assert_eq!(
        (code, out.as_str(), err),
        (
            2,
            "",
            format!("whohosts: query host-changes: from must be a snapshot id, a whole number (not \"abc\")\n{HINT}")
        )
    );
    // The same snapshot twice, or a series naming a snapshot that is not there: refused, not
    // an empty table.
    let (code, _, err) = cli(&env, &db, &["host-changes", "-p", "from=1", "-p", "to=1"]);
    assert_eq!(
        (code, err),
        (
            2,
            format!(
                "whohosts: query host-changes: from and to are both snapshot 1: give two different snapshots\n{HINT}"
            )
        )
    );
    let (code, _, err) = cli(&env, &db, &["share", "-p", "name=OVH", "-p", "series=[1,99]"]);
    assert_eq!(
        (code, err),
        (
            2,
            format!("whohosts: query share: series: no snapshot 99 in this database (`whohosts snapshots` lists them)\n{HINT}")
        )
    );
    let (code, _, err) = cli(&env, &db, &["moved-accounts", "-p", "snapshot=99"]);
    assert_eq!(
        (code, err),
        (
            2,
            format!("whohosts: query moved-accounts: snapshot: no snapshot 99 in this database (`whohosts snapshots` lists them)\n{HINT}")
        )
    );
    // A name that matches nothing still runs (0 every week) but says so, with the near name.
    let (code, out, err) = cli(&env, &db, &["share", "-p", "name=ovh"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 5, "{out}");
    assert_eq!(
        err,
        "whohosts: query share: no organisation named 'ovh'; did you mean 'OVH'?\n"
    );
    // Not a case or a part of a name but a typo: the stored name a few edits away.
    let (code, _, err) = cli(&env, &db, &["share", "-p", "name=DigitlOcean"]);
    assert_eq!(
        (code, err.as_str()),
        (
            0,
            "whohosts: query share: no organisation named 'DigitlOcean'; did you mean 'DigitalOcean'?\n"
        )
    );
    let (_, _, err) = cli(&env, &db, &["share", "-p", "name=Nowhere Ltd"]);
    assert_eq!(err, "whohosts: query share: no organisation named 'Nowhere Ltd'\n");
    let (_, _, err) = cli(&env, &db, &["share", "-p", "name=OVH"]);
    assert_eq!(err, "");
    // The SQL of a shipped query, for a user who has only the binary.
    let (code, out, err) = cli(&env, &db, &["--show", "share"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, query::find("share").unwrap().sql);
    assert!(out.starts_with("-- share: one organisation's"), "{out}");
    let (code, _, err) = cli(&env, &db, &["--show", "trend"]);
    assert_eq!(code, 2);
    assert!(err.ends_with(HINT), "{err}");
    assert!(err.starts_with("whohosts: query trend: no such query"), "{err}");
    // An empty SQL file is one line.
    let empty = env.dir.path().join("empty.sql");
    std::fs::write(&empty, "\n  \n").unwrap();
    let (code, _, err) = cli(&env, &db, &["--sql", empty.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "whohosts: query {}: the file is empty; give one SELECT statement\n",
            empty.display()
        )
    );
    // Comments, blanks and semicolons are no statement either (SQLite would call it "bad
    // parameter or other API misuse").
    std::fs::write(&empty, "-- my query, to write\n/* later */ ;\n;").unwrap();
    let (code, _, err) = cli(&env, &db, &["--sql", empty.to_str().unwrap()]);
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "whohosts: query {}: the file holds no statement, only comments, blanks or ';'; give one SELECT \
                 statement\n",
                empty.display()
            )
        )
    );
}

#[test]
fn own_sql_runs_read_only() {
    let (env, db) = timeline_db();
    let mine = env.dir.path().join("mine.sql");
    std::fs::write(
        &mine,
        "-- mine: unreachable instances\nSELECT instance, unreachable FROM instance_hosting\n WHERE snapshot_id = :s AND unreachable IS NOT NULL ORDER BY instance",
    )
    .unwrap();
    let sql = mine.to_str().unwrap();
    let (code, json, _) = cli(&env, &db, &["--sql", sql, "-p", "s=3", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap(),
        json!([{"instance": "dead.example", "unreachable": "connection"}, {"instance": "gone.example", "unreachable": "dns_nxdomain"}])
    );
    let before = std::fs::read(&db).unwrap();
    for write in [
        "DELETE FROM snapshot",
        "UPDATE instance SET host = 'x'",
        "DROP VIEW snapshot_step",
    ] {
        std::fs::write(&mine, write).unwrap();
        let (code, _, err) = cli(&env, &db, &["--sql", sql]);
        assert_eq!(code, 1);
        assert_eq!(
            err,
            format!("whohosts: query {sql}: it would change the database; queries are read-only\n")
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database is untouched");
}

#[test]
fn demo_crawls_several_weeks_and_leads_with_the_stored_trend() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let bin = || {
        let mut c = assert_cmd::Command::cargo_bin("whohosts").unwrap();
        c.env_remove("WHOHOSTS_CONFIG")
            .env_remove("WHOHOSTS_DB")
            .arg("--quiet")
            .arg("--db")
            .arg(&db);
        c.timeout(std::time::Duration::from_secs(120));
        c
    };
    let out = bin().args(["demo", "--size", "40", "--seed", "3"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Of the "), "the headline comes first: {text}");
    assert!(text.contains(", changing over 3 weeks: one snapshot a week."), "{text}");
    let trend = text
        .split("Trend by hosting organisation over 4 snapshots")
        .nth(1)
        .expect("a trend");
    let trend = trend.split("\n\n").next().unwrap();
    let out = bin()
        .args(["query", "concentration", "--format", "json"])
        .output()
        .unwrap();
    let stored: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stored.len(), 4, "weeks 0 to 3 stored");
    // Simulated dates one week apart, the last week dated now; the trend shows the dates.
    let micros = |v: &Value| whohosts::model::time::micros(v["started_at"].as_str().unwrap()).unwrap();
    for (i, row) in stored.iter().enumerate() {
        let weeks_before = 3 - i as i64;
        let gap = micros(&stored[3]) - micros(row) - weeks_before * 7 * 86_400_000_000;
        assert!(gap.abs() <= 60_000_000, "snapshot {i}: {gap} µs off a week apart");
    }
    for row in &stored {
        let started = row["started_at"].as_str().unwrap();
        let start = format!(
            "  snapshot {:<3} {}  ",
            row["snapshot_id"].as_i64().unwrap(),
            whohosts::model::time::date(started)
        );
        let end = format!(
            "  top-3 {:>5.1} %  k50 {:>3}  HHI {:>5}",
            100.0 * row["top3"].as_f64().unwrap(),
            row["k50"].as_i64().unwrap(),
            row["hhi"].as_f64().unwrap().round(),
        );
        assert!(
            trend.lines().any(|l| l.starts_with(&start) && l.ends_with(&end)),
            "{start:?}…{end:?} not in {trend}"
        );
    }
    let changed = bin()
        .args([
            "query",
            "host-changes",
            "-p",
            "from=1",
            "-p",
            "to=2",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let hosts: Vec<Value> = serde_json::from_slice(&changed.stdout).unwrap();
    assert!(!hosts.is_empty(), "the generated weeks migrate instances");
    for h in &hosts {
        let instance = h["instance"].as_str().unwrap();
        assert!(
            trend.contains(&format!("{instance} moved from ")) || trend.contains(&format!("{instance} went behind ")),
            "{instance} in {trend}"
        );
    }
}

/// `moved-accounts` names a move target as `account-changes` and the diff do: by the handle
/// the database holds for that actor URI (the demo's user76@node1.example moves to an
/// account on node13.example, whose URI carries the simulator's port).
#[test]
fn moved_accounts_names_the_new_account_by_its_handle() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = assert_cmd::Command::cargo_bin("whohosts")
        .unwrap()
        .env_remove("WHOHOSTS_CONFIG")
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .args(["demo", "-q", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let moved: Vec<Value> = rows(&db, "moved-accounts", &[("snapshot", "2")])
        .into_iter()
        .filter(|r| r["what"] == "moved")
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    let changes = rows(&db, "account-changes", &[("from", "1"), ("to", "2")]);
    let change = changes.iter().find(|r| r["change"] == "moved").unwrap();
    assert_eq!(moved[0]["account"], change["account"]);
    assert_eq!(moved[0]["moved_to"], change["moved_to"]);
    let to = moved[0]["moved_to"].as_str().unwrap();
    assert!(to.starts_with('@') && to.ends_with("@node13.example"), "{to}");
}
