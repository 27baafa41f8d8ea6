//! Queries, reports and diffs asked of surveys (kind `instances`) in a database that also
//! holds a crawl: comparisons across kinds refused, `share` and `summary` answering for
//! surveys, `--by` refused, surveys that are not like for like said so, empty surveys not
//! rated, and `demo` refusing a database of surveys.

use serde_json::Value;
use whohosts_sim::world::Software;

use crate::common::*;
use crate::instances::{sized, tube};

/// Four instances on three providers; a@big.example follows two accounts.
fn env() -> Env {
    Env::start(world(
        vec![
            sized("big.example", Software::Mastodon, "hetzner", 600),
            sized("mid.example", Software::Mastodon, "ovh", 300),
            tube("tube1.example", "amazon", 60),
            tube("tube2.example", "hetzner", 30),
        ],
        vec![
            acct("a@big.example", &["b@mid.example".into(), "c@big.example".into()]),
            acct("b@mid.example", &[]),
            acct("c@big.example", &[]),
        ],
    ))
}

const LIST: &str = "big.example\nmid.example\ntube1.example\ntube2.example\n";

/// Exit code, stdout and stderr of `whohosts --db DB ARGS`.
fn run(env: &Env, db: &str, args: &[&str]) -> (i32, String, String) {
    let out = env.cmd().arg("--db").arg(db).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(env: &Env, db: &str, args: &[&str]) -> String {
    let (code, out, err) = run(env, db, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// Survey 1 (every software), crawl 2, survey 3 (PeerTube only) of the same list.
fn mixed() -> (Env, String, String) {
    let env = env();
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, LIST).unwrap();
    let db = env.dir.path().join("m.db");
    let (l, d) = (list.to_str().unwrap().to_string(), db.to_str().unwrap().to_string());
    ok(&env, &d, &["instances", &l]);
    let (code, _, err) = run(&env, &d, &["crawl", "a@big.example"]);
    assert_eq!(code, 0, "{err}");
    ok(&env, &d, &["instances", "--software", "peertube", &l]);
    (env, d, l)
}

#[test]
fn comparisons_refuse_snapshots_of_two_kinds_and_of_the_wrong_kind() {
    let (env, d, _) = mixed();
    let hint = "whohosts: see `whohosts query --help`\n";
    let cases: [(&[&str], &str); 4] = [
        (
            &["survey-changes", "-p", "from=1", "-p", "to=2"],
            "query survey-changes: snapshot 1 (from) is a survey (of instances) and snapshot 2 (to) a follows snapshot: a comparison needs two of one kind",
        ),
        (
            &["account-changes", "-p", "from=2", "-p", "to=3"],
            "query account-changes: snapshot 2 (from) is a follows snapshot and snapshot 3 (to) a survey (of instances): a comparison needs two of one kind",
        ),
        (
            &["instance-changes", "-p", "from=1", "-p", "to=3"],
            "query instance-changes: snapshot 1 (from) is a survey (of instances): this query reads follows snapshots",
        ),
        (
            &["contact-changes", "-p", "to=3"],
            "query contact-changes: snapshot 3 (to) is a survey (of instances): this query reads contacts snapshots",
        ),
    ];
    for (args, line) in cases {
        let mut all = vec!["query"];
        all.extend(args);
        let (code, out, err) = run(&env, &d, &all);
        assert_eq!(
            (code, out.as_str(), err),
            (2, "", format!("whohosts: {line}\n{hint}")),
            "{args:?}"
        );
    }
    // Two surveys compare.
    let (code, _, err) = run(&env, &d, &["query", "survey-changes", "-p", "from=1", "-p", "to=3"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn share_of_surveys_runs_under_a_weight_surveys_have() {
    let (env, d, _) = mixed();
    let (code, out, err) = run(
        &env,
        &d,
        &[
            "query",
            "share",
            "-p",
            "kind=instances",
            "-p",
            "name=Hetzner",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        format!(
            "{WEIGHT_LINE}whohosts: query share: series of snapshot 3, the latest survey (of instances) measured \
             under users: snapshot 3 (surveys of one list and --software filter), leaving out 1; -p series=[…] to \
             choose\n"
        )
    );
    // Hetzner hosts tube2 (30) of PeerTube, in survey 3, which a survey of every software
    // (survey 1) is no series with.
    assert_eq!(amounts(&out), [(3, 30.0)]);
    // A weight no survey has is refused, not an empty table.
    let (code, _, err) = run(
        &env,
        &d,
        &[
            "query",
            "share",
            "-p",
            "kind=instances",
            "-p",
            "name=Hetzner",
            "-p",
            "weight=edges",
        ],
    );
    assert_eq!(
        (code, err),
        (
            2,
            "whohosts: query share: weight \"edges\": no complete instances snapshot in this database has it \
             (instances snapshots have users, active, instances)\nwhohosts: see `whohosts query --help`\n"
                .to_string()
        )
    );
}

/// What `query share -p kind=instances` says when it runs under `users`.
const WEIGHT_LINE: &str = "whohosts: query share: weight users, that of the latest instances snapshot: none here has \
                           accounts, the default (instances snapshots have users, active, instances); -p weight=… to \
                           choose\n";

/// Each row's snapshot and amount, from `share --format json`.
fn amounts(json: &str) -> Vec<(i64, f64)> {
    let rows: Vec<Value> = serde_json::from_str(json).unwrap();
    rows.iter()
        .map(|r| (r["snapshot_id"].as_i64().unwrap(), r["amount"].as_f64().unwrap()))
        .collect()
}

#[test]
fn share_keeps_to_one_series_of_one_kind() {
    let (env, d, l) = mixed();
    // Survey 4: the list of survey 1, every software again: one series with survey 1.
    ok(&env, &d, &["instances", &l]);
    let share = |extra: &[&str]| {
        let mut args = vec!["query", "share", "-p", "name=Hetzner", "--format", "json"];
        args.extend(extra);
        let (code, out, err) = run(&env, &d, &args);
        assert_eq!(code, 0, "{extra:?}: {err}");
        (amounts(&out), err)
    };
    let series_line = |left: &str| {
        format!(
            "whohosts: query share: series of snapshot 4, the latest survey (of instances) measured under users: \
             snapshots 1, 4 (surveys of one list and --software filter), leaving out {left}; -p series=[…] to \
             choose\n"
        )
    };
    // Surveys: survey 3 (PeerTube only) is another series.
    assert_eq!(
        share(&["-p", "kind=instances"]),
        (
            vec![(1, 630.0), (4, 630.0)],
            format!("{WEIGHT_LINE}{}", series_line("3"))
        )
    );
    // Under users without a kind: the crawl (snapshot 2, measured under users too) is not
    // mixed in with the surveys.
    assert_eq!(
        share(&["-p", "weight=users"]),
        (vec![(1, 630.0), (4, 630.0)], series_line("2, 3"))
    );
    // Under the default weight (accounts), the crawl alone has it: nothing left out.
    let (rows, err) = share(&[]);
    assert_eq!((rows.len(), rows[0].0, err.as_str()), (1, 2, ""));
    // A series named is the one shown, of its own kind.
    assert_eq!(
        share(&["-p", "kind=instances", "-p", "series=[3]"]),
        (vec![(3, 30.0)], WEIGHT_LINE.to_string())
    );
    let (rows, err) = share(&["-p", "weight=users", "-p", "series=[2]"]);
    assert_eq!((rows.len(), rows[0].0, err.as_str()), (1, 2, ""));
    let (code, out, err) = run(&env, &d, &["query", "share", "-p", "name=Hetzner", "-p", "series=3,4"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            2,
            "",
            "whohosts: query share: series must be snapshot ids as a JSON array, such as [1,4] (not \"3,4\")\n\
             whohosts: see `whohosts query --help`\n"
        )
    );
}

#[test]
fn diff_refuses_snapshots_of_two_kinds_as_a_usage_error() {
    let (env, d, _) = mixed();
    for (a, b, line) in [
        (
            "1",
            "2",
            "snapshot 1 is a survey (of instances) and snapshot 2 a follows snapshot: a diff compares two of one kind",
        ),
        (
            "2",
            "3",
            "snapshot 2 is a follows snapshot and snapshot 3 a survey (of instances): a diff compares two of one kind",
        ),
    ] {
        let (code, out, err) = run(&env, &d, &["diff", a, b]);
        assert_eq!(
            (code, out.as_str(), err),
            (
                2,
                "",
                format!("whohosts: {line}\nwhohosts: see `whohosts diff --help`\n")
            )
        );
    }
}

/// A survey in which every instance answered and none runs the software asked for (pleroma):
/// complete, nothing to attribute. The env, the list's path and the database's.
fn empty_survey() -> (Env, String, String) {
    let env = env();
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, LIST).unwrap();
    let db = env.dir.path().join("e.db");
    let (l, d) = (list.to_str().unwrap().to_string(), db.to_str().unwrap().to_string());
    ok(&env, &d, &["instances", "--software", "pleroma", &l]);
    (env, l, d)
}

#[test]
fn queries_do_not_rate_an_empty_level() {
    let (env, _, d) = empty_survey();
    let d = d.as_str();
    let without_time = |json: &str| -> Vec<Value> {
        let rows: Vec<Value> = serde_json::from_str(json).unwrap();
        rows.into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("started_at");
                r
            })
            .collect()
    };
    let (code, out, err) = run(
        &env,
        d,
        &["query", "concentration", "-p", "weight=users", "--format", "json"],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        without_time(&out),
        [
            serde_json::json!({"snapshot_id": 1, "buckets": 0, "top1": null, "top3": null, "k50": null,
            "k75": null, "hhi": null, "band": null, "effective": null, "gini": null})
        ]
    );
    let summary = without_time(&ok(&env, d, &["query", "summary", "--format", "json"]));
    let row = &summary[0];
    assert_eq!(
        (
            &row["organisations"],
            &row["top_organisation"],
            &row["top_share"],
            &row["hhi"]
        ),
        (&Value::from(0), &Value::Null, &Value::Null, &Value::Null)
    );
    // The table says nothing where the report says "not rated".
    let table = ok(&env, d, &["query", "concentration", "-p", "weight=users"]);
    assert!(!table.contains("unconcentrated"), "{table}");
}

#[test]
fn summary_shows_a_surveys_figures() {
    let (env, d, _) = mixed();
    let rows: Vec<Value> = serde_json::from_str(&ok(&env, &d, &["query", "summary", "--format", "json"])).unwrap();
    let cut: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("started_at");
            r
        })
        .collect();
    assert_eq!(
        cut[0],
        serde_json::json!({"snapshot_id": 1, "status": "complete", "kind": "instances", "seeds": null,
            "failed_seeds": null, "hidden_lists": null, "accounts": null, "follows": null, "instances": 4,
            "weight": "users", "organisations": 3, "top_organisation": "Hetzner", "top_share": 630.0 / 990.0,
            "hhi": 5004.591368227731})
    );
    assert_eq!(
        (
            &cut[1]["kind"],
            &cut[1]["weight"],
            &cut[1]["accounts"],
            &cut[1]["top_organisation"]
        ),
        (
            &Value::from("follows"),
            &Value::from("accounts"),
            &Value::from(2),
            &Value::from("Hetzner")
        )
    );
}

#[test]
fn a_surveys_report_and_diff_refuse_by_and_say_when_surveys_differ() {
    let (env, d, _) = mixed();
    for args in [
        &["report", "1", "--by", "range"][..],
        &["diff", "1", "3", "--by", "range"],
    ] {
        let (code, out, err) = run(&env, &d, args);
        let help = args[0];
        assert_eq!(
            (code, out.as_str(), err),
            (
                2,
                "",
                format!(
                    "whohosts: --by \"range\": snapshot 1 is a survey, reported at the AS, organisation and instance \
                     levels (JSON and CSV: every level); --by chooses the levels of a follows report\n\
                     whohosts: see `whohosts {help} --help`\n"
                )
            ),
            "{args:?}"
        );
    }
    // The alert flags read follows snapshots: a usage error too, as --by is.
    assert_eq!(
        run(&env, &d, &["report", "1", "--fail-if", "as.hhi > 1"]),
        (
            2,
            String::new(),
            "whohosts: snapshot 1 is a survey: --fail-if, --warn-if and --metrics-file read follows snapshots\n\
             whohosts: see `whohosts report --help`\n"
                .to_string()
        )
    );
    let text = ok(&env, &d, &["diff", "1", "3"]);
    let lines: Vec<&str> = text.lines().take(2).collect();
    assert_eq!(
        lines,
        [
            "Changes from survey 1 to survey 3.",
            "Not like for like: survey 1 counted every software, survey 3 --software peertube."
        ]
    );
    let json: Value = serde_json::from_str(&ok(&env, &d, &["diff", "1", "3", "--format", "json"])).unwrap();
    assert_eq!(
        json["unlike"],
        "Not like for like: survey 1 counted every software, survey 3 --software peertube."
    );
    // Two surveys of the same list and filter are like for like: no such line.
    let list = env.dir.path().join("list.txt");
    ok(&env, &d, &["instances", list.to_str().unwrap()]);
    let text = ok(&env, &d, &["diff", "1", "4"]);
    assert!(!text.contains("like for like"), "{text}");
    // Another list.
    let short = env.dir.path().join("short.txt");
    std::fs::write(&short, "big.example\n").unwrap();
    ok(&env, &d, &["instances", short.to_str().unwrap()]);
    let text = ok(&env, &d, &["diff", "4", "5"]);
    assert_eq!(
        text.lines().nth(1),
        Some("Not like for like: they surveyed different lists of instances (4 listed, then 1).")
    );
}

#[test]
fn an_empty_survey_is_not_rated() {
    // (A survey where no instance answered is stored failed: instances.rs.)
    let (env, l, d) = empty_survey();
    let (l, d) = (l.as_str(), d.as_str());
    let text = ok(&env, d, &["instances", "--software", "pleroma", l]);
    assert!(!text.contains("HHI 0"), "{text}");
    let trend: Vec<&str> = text.lines().rev().take(2).collect();
    for (line, id) in trend.iter().zip(["2", "1"]) {
        assert!(line.starts_with(&format!("     {id}  ")), "{text}");
        assert!(line.ends_with("  0 users  nothing to attribute: not rated"), "{text}");
    }
    let html = ok(&env, d, &["report", "2", "--format", "html"]);
    assert_eq!(
        html.matches("nothing to attribute: not rated</td>").count(),
        2,
        "{html}"
    );
}

#[test]
fn demo_refuses_a_database_of_surveys() {
    let env = env();
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, LIST).unwrap();
    let db = env.dir.path().join("s.db");
    let d = db.to_str().unwrap();
    ok(&env, d, &["instances", list.to_str().unwrap()]);
    let before = std::fs::read(&db).unwrap();
    let (code, out, err) = run(&env, d, &["demo"]);
    assert_eq!(
        (code, out.as_str(), err),
        (
            2,
            "",
            format!(
                "whohosts: --db {d:?}: already holds 1 survey (of instances); the demo writes its weeks into a new \
                 database: name a new file\nwhohosts: see `whohosts demo --help`\n"
            )
        )
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing written");
}
