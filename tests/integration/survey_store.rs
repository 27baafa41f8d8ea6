//! Instance-list surveys stored (kind `instances`): `instances --db` keeps the survey,
//! `snapshots` lists it, `report` prints it again with the trend of the surveys of the same
//! list, `diff` compares two, `query` and `export` read it.

use serde_json::Value;
use whohosts_sim::timeline::{Die, Migrate, Week};
use whohosts_sim::world::Software;

use crate::common::*;
use crate::instances::{check, level, shares, sized, tube};

/// The world of `instances.rs`; in week 1 mid.example moves from OVH to Hetzner and
/// small.example dies (NXDOMAIN).
fn env() -> Env {
    let mut w = world(
        vec![
            sized("big.example", Software::Mastodon, "hetzner", 600),
            sized("mid.example", Software::Mastodon, "ovh", 300),
            tube("tube1.example", "amazon", 60),
            tube("tube2.example", "hetzner-cloud", 30),
            sized("small.example", Software::Pleroma, "netcup", 10),
            sized("huge.example", Software::Mastodon, "digitalocean", 1_000_000_000_000),
        ],
        vec![],
    );
    w.weeks = vec![Week {
        week: 1,
        migrate: vec![Migrate {
            instance: "mid.example".into(),
            provider: "hetzner".into(),
            cname: None,
        }],
        die: vec![Die {
            instance: "small.example".into(),
            ..Die::default()
        }],
        ..Week::default()
    }];
    Env::start_timeline(w)
}

const LIST: &str =
    "big.example\nmid.example\ntube1.example\ntube2.example\nsmall.example\nhuge.example\nnot a host\ndead.example\n";

fn out(o: &std::process::Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn csv(env: &Env, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--format", "csv"]);
    out(&env.run(&all))
}

/// `LIST` surveyed once into a database of `env`'s: the list file, the database and what
/// `instances` printed.
fn surveyed(env: &Env) -> (std::path::PathBuf, String, String) {
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, LIST).unwrap();
    let db = env.dir.path().join("s.db").to_str().unwrap().to_string();
    let first = out(&env.run(&["instances", "--db", &db, list.to_str().unwrap()]));
    (list, db, first)
}

#[test]
fn a_survey_is_stored_reported_trended_diffed_queried_and_exported() {
    let env = env();
    let (list, db, first) = surveyed(&env);
    let (l, d) = (list.to_str().unwrap(), db.as_str());
    // Stored: listed with its kind, the users its instances declare (trusted) and the list.
    let snapshots = out(&env.run(&["snapshots", "--db", d]));
    let row: Vec<&str> = snapshots.lines().nth(1).unwrap().split('\t').collect();
    let canonical = std::fs::canonicalize(&list).unwrap();
    assert_eq!(
        (row[0], row[1], row[2], row[5], row[6], row[7]),
        ("1", "instances", "complete", "1000", "7", canonical.to_str().unwrap()),
        "{snapshots}"
    );
    // `report 1` prints what `instances` printed, from the store; JSON has the same figures.
    assert_eq!(out(&env.run(&["report", "1", "--db", d])), first);
    assert!(
        unwrapped(&first).contains(&format!("\nSurvey 1 (list: {}), measured ", canonical.display())),
        "{first}"
    );
    let r: Value = serde_json::from_str(&out(&env.run(&["report", "1", "--db", d, "--format", "json"]))).unwrap();
    check(&r);
    assert_eq!(
        (r["snapshot"].as_i64(), r["trend"].as_array().unwrap().len()),
        (Some(1), 0)
    );

    // A week later mid.example moved from OVH to Hetzner and small.example died.
    env.sim.set_week(1).unwrap();
    let second = out(&env.run(&["instances", "--db", d, l]));
    assert!(
        unwrapped(&second).contains(
            "Trend by AS, weighted by users, over 2 surveys of this list (in brackets: the top-3 weighted \
             by instances):\n"
        ),
        "{second}"
    );
    let trend: Vec<&str> = second.lines().rev().take(3).collect();
    assert!(
        trend[2].ends_with("  1000 users  top-3 96.0 %  k50 1  HHI 4546  (50.0 %)"),
        "{second}"
    );
    assert!(
        trend[1].ends_with("  990 users  top-3 100.0 %  k50 1  HHI 8310  (80.0 %)"),
        "{second}"
    );
    assert_eq!(trend[0], "        1 failed, 1 moved hosting");
    let r: Value = serde_json::from_str(&out(&env.run(&["report", "2", "--db", d, "--format", "json"]))).unwrap();
    assert_eq!(level(&r, "users", "as")["summary"]["total"], 990.0);
    assert_eq!(
        shares(level(&r, "users", "organisation")),
        [("Hetzner".into(), 0.9394), ("Amazon".into(), 0.0606)]
    );

    // `diff` says what changed, from the rows `query survey-changes` gives.
    assert_eq!(
        out(&env.run(&["diff", "--db", d, "1", "2"])),
        "Changes from survey 1 to survey 2.\n\n\
         Instances that joined or left the list: 0.\n\n\
         Instances whose NodeInfo failed or was read again: 1.\n\
         \x20 small.example: NodeInfo not read (dns_nxdomain), was pleroma 4.3.2-sim\n\n\
         Instances that changed software: 0.\n\n\
         Instances that moved to other hosting (AS or organisation): 1.\n\
         \x20 mid.example moved from OVH (AS 16276) to Hetzner (AS 24940)\n\n\
         Figures (weight: users), then → now:\n\
         \x20 as           top-3 96.0→100.0 % (+4.0)  k50 1→1  k75 2→1  HHI 4546→8310 (+3764)\n\
         \x20 organisation top-3 99.0→100.0 % (+1.0)  k50 1→1  k75 2→1  HHI 4906→8861 (+3955)\n\n\
         Figures (weight: active), then → now:\n\
         \x20 as           top-3 95.8→100.0 % (+4.2)  k50 1→1  k75 2→1  HHI 4528→8310 (+3782)\n\
         \x20 organisation top-3 98.8→100.0 % (+1.2)  k50 1→1  k75 2→1  HHI 4887→8861 (+3974)\n\n\
         Figures (weight: instances), then → now:\n\
         \x20 as           top-3 50.0→80.0 % (+30.0)  k50 3→2  k75 5→3  HHI 1667→2800 (+1133)\n\
         \x20 organisation top-3 66.7→100.0 % (+33.3)  k50 2→1  k75 4→2  HHI 2222→4400 (+2178)\n"
    );
    // A survey shows every weight it has: `--weight` is refused, not ignored.
    for args in [&["report", "1"][..], &["diff", "1", "2"][..]] {
        let o = env.run(&[args, &["--db", d, "--weight", "accounts"]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).lines().next().unwrap(),
            "whohosts: --weight \"accounts\": snapshot 1 is a survey, reported under each weight it has (users, \
             active, instances); --weight names weights of follows snapshots",
            "{args:?}"
        );
    }
    assert_eq!(
        csv(&env, &["query", "survey-changes", "--db", d]),
        "instance,change,from_software,to_software,from_hosting,to_hosting,from_users,to_users\n\
         small.example,failed,pleroma 4.3.2-sim,dns_nxdomain,netcup (AS 197540),(unresolved) (AS ?),10,\n\
         mid.example,moved,mastodon 4.3.2-sim,mastodon 4.3.2-sim,OVH (AS 16276),Hetzner (AS 24940),300,300\n"
    );
    // Hetzner's AS over the surveys, weighted by users; `kind` keeps other snapshots out.
    let share = |kind: &str| {
        let rows = csv(
            &env,
            &[
                "query",
                "share",
                "--db",
                d,
                "-p",
                "name=AS24940",
                "-p",
                "level=as",
                "-p",
                "weight=users",
                "-p",
                kind,
            ],
        );
        rows.lines()
            .map(|l| l.split(',').skip(2).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        share("kind=instances"),
        ["rank,amount,share", "1,600,0.6", "1,900,0.9090909090909091"]
    );
    assert_eq!(share("kind=follows"), ["rank,amount,share"]);
    // A dead instance is a stored failure row, once.
    let sql = env.dir.path().join("failures.sql");
    std::fs::write(
        &sql,
        "SELECT snapshot_id, subject, about, kind FROM failure ORDER BY snapshot_id, about",
    )
    .unwrap();
    assert_eq!(
        csv(&env, &["query", "--sql", sql.to_str().unwrap(), "--db", d]),
        "snapshot_id,subject,about,kind\n\
         1,dns,dead.example,dns_nxdomain\n\
         2,dns,dead.example,dns_nxdomain\n\
         2,dns,small.example,dns_nxdomain\n"
    );

    // A survey of the PeerTube instances only (`--software`): its shares compare with no
    // unfiltered survey's, and the export's example query leaves it out.
    out(&env.run(&["instances", "--db", d, l, "--software", "peertube"]));

    // The export: the survey's figures and instances, the minimum group size applied (the
    // instance whose count is implausible declares no trusted users: it is not named).
    let x = env.dir.path().join("x");
    out(&env.run(&["export", "--db", d, "--out", x.to_str().unwrap()]));
    let file = |name: &str| std::fs::read_to_string(x.join(name)).unwrap();
    // Its data dictionary describes the surveys: who was counted, the kind, the weights and
    // an example query that runs in DuckDB.
    let readme = file("README.md");
    for line in [
        "\n- Snapshot 1 (a survey of an instance list, kind `instances`): 7 instances listed (0 duplicates and 1 bad entries left out); NodeInfo read from 6, not from 1; 0 of other software left out by the software filter; 1 with implausible counts, not trusted; 1000 users, 334 active in the last month, as the trusted instances declare them.\n",
        "\n- Snapshot 2 (a survey of an instance list, kind `instances`): 7 instances listed (0 duplicates and 1 bad entries left out); NodeInfo read from 5, not from 2; 0 of other software left out by the software filter; 1 with implausible counts, not trusted; 990 users, 330 active in the last month, as the trusted instances declare them.\n",
        "`instances` (a survey of an instance list, `whohosts instances --db`",
        "in a survey, kind `instances`, the instance's NodeInfo `usage.users.activeMonth`",
    ] {
        assert!(readme.contains(line), "{line}: {readme}");
    }
    if crate::export_tools::python_has("duckdb") {
        let examples = crate::export_tools::run_examples(&x, "survey");
        assert_eq!(examples.len(), 1, "{examples:?}");
        assert!(examples[0].contains("s.kind = 'instances'"), "{examples:?}");
        let o = std::process::Command::new("python3")
            .args([
                "-c",
                "import duckdb, sys; print(sorted({r[0] for r in duckdb.sql(sys.argv[1]).fetchall()}))",
                &examples[0],
            ])
            .current_dir(&x)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "[1, 2]",
            "only the unfiltered surveys: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(
        readme.contains("that left no instance out by a software filter (its population `other_software` is 0)"),
        "{readme}"
    );
    assert!(
        readme.contains("\n- Snapshot 3 (a survey of an instance list, kind `instances`): 7 instances listed"),
        "{readme}"
    );
    let population = file("population.csv");
    for line in [
        "1,listed,7",
        "1,users,1000",
        "1,implausible,1",
        "2,failed,2",
        "2,users,990",
    ] {
        assert!(population.lines().any(|l| l == line), "{line}: {population}");
    }
    let buckets = file("metric_buckets.csv");
    assert!(
        buckets
            .lines()
            .any(|l| l == "1,organisation,users,1,Hetzner,Hetzner,630,0.63"),
        "{buckets}"
    );
    assert!(
        buckets
            .lines()
            .any(|l| l == "2,as,users,1,AS24940,AS24940 Hetzner Online GmbH,900,0.9090909090909091"),
        "{buckets}"
    );
    let instances = file("instances.csv");
    assert!(!instances.contains("huge.example"), "{instances}");
    assert!(!buckets.contains("huge.example"), "{buckets}");
    assert!(
        instances
            .lines()
            .any(|l| l.starts_with("1,big.example,false,1,0,mastodon,")),
        "{instances}"
    );
}

/// A survey's CSV report has the columns of every CSV report, its snapshot in each row and
/// shares at full precision (sixths under the `instances` weight, not 0.166667).
#[test]
fn a_surveys_csv_report_has_the_common_columns_and_exact_shares() {
    let env = env();
    let (_, db, _) = surveyed(&env);
    let d = db.as_str();
    let text = csv(&env, &["report", "1", "--db", d]);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("snapshot,level,weight,rank,key,label,amount,share"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let of = |level: &str, weight: &str| -> Vec<(String, f64)> {
        rows.iter()
            .filter(|r| r[0] == "1" && r[1] == level && r[2] == weight)
            .map(|r| (r[4].to_string(), r[7].parse().unwrap()))
            .collect()
    };
    assert_eq!(rows.iter().filter(|r| r[0] != "1").count(), 0, "{text}");
    let sixth = 1.0 / 6.0;
    let named = |v: &[(&str, f64)]| v.iter().map(|(k, s)| (k.to_string(), *s)).collect::<Vec<_>>();
    assert_eq!(
        of("organisation", "instances"),
        named(&[
            ("Hetzner", 2.0 * sixth),
            ("Amazon", sixth),
            ("DigitalOcean", sixth),
            ("OVH", sixth),
            ("netcup", sixth)
        ]),
        "{text}"
    );
    // 334 active users: big.example's 200 are 0.5988023952095808 of them.
    assert_eq!(of("instance", "active")[0], ("big.example".to_string(), 200.0 / 334.0));
}

/// A survey's report is built and written in one read of the database: its JSON instances
/// are read over the connection the rest of the report was read on, in the same state, so
/// rows deleted by another connection in the moment between (a `prune`) are still listed
/// (they were read from a second connection, which saw them gone).
#[test]
fn a_survey_report_reads_its_instances_in_the_same_read_as_the_rest() {
    use whohosts::report::instances::{write, InstancesReport};
    use whohosts::store::Store;
    let env = env();
    let (_, db, _) = surveyed(&env);
    let db = std::path::PathBuf::from(db);
    let other = Store::open(&db).unwrap();
    let before: i64 = other
        .connection()
        .query_row("SELECT count(*) FROM survey_instance WHERE snapshot_id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(before, 7);
    let store = Store::open_read_only(&db).unwrap();
    let json = store
        .reading(|| {
            let r = InstancesReport::stored(&store, 1)?;
            let gone = other
                .connection()
                .execute("DELETE FROM survey_instance WHERE snapshot_id = 1", [])
                .unwrap();
            assert_eq!(gone, 7);
            let mut buf = vec![];
            write(&r, whohosts::model::format::Format::Json, 10, &mut buf)?.unwrap();
            Ok(buf)
        })
        .unwrap();
    let r: Value = serde_json::from_slice(&json).unwrap();
    let hosts: Vec<&str> = r["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "big.example",
            "mid.example",
            "tube1.example",
            "tube2.example",
            "small.example",
            "huge.example",
            "dead.example"
        ]
    );
    assert_eq!(r["population"]["listed"], 7);
}
