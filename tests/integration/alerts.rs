//! Cron that alerts: `--fail-if`, `--warn-if`, `--metrics-file`, and degraded data said on
//! stderr, against a small world whose figures are known by hand.

use std::collections::BTreeMap;

use whohosts_sim::world::{Software, World};

use crate::common::{acct, crowd, handles_of, inst, world, Env};

const SEED: &str = "@alice@hub.example";

/// alice follows 3 accounts on hub.example (Hetzner) and 1 on a.example (OVH): Hetzner holds
/// 3/4 of the accounts (HHI 5625 + 625 = 6250); carol's list is hidden (5 unseen).
pub fn small_world() -> World {
    let hub = crowd("hub.example", 3);
    let mut follows = handles_of(&hub);
    follows.push("bob@a.example".into());
    let mut accounts = hub;
    accounts.push(acct("alice@hub.example", &follows));
    accounts.push(acct("bob@a.example", &[]));
    let mut carol = acct(
        "carol@a.example",
        &crowd("a.example", 5)
            .iter()
            .map(|a| a.handle.clone())
            .collect::<Vec<_>>(),
    );
    carol.hide_collections = true;
    accounts.push(carol);
    accounts.extend(crowd("a.example", 5));
    world(
        vec![
            inst("hub.example", Software::Mastodon, "hetzner"),
            inst("a.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    )
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn fail_if_and_warn_if_exit_6_and_7_with_a_line_per_rule() {
    let env = Env::start(small_world());
    let db = env.dir.path().join("w.db");
    let db = db.to_str().unwrap();
    let out = env.run(&[
        "--db",
        db,
        "crawl",
        SEED,
        "--fail-if",
        "organisation.top1 > 0.7",
        "--warn-if",
        "instance.k50 < 3",
        "--warn-if",
        "as.hhi > 9000",
        "--fail-if",
        "organisation.hhi.change > 200",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stderr_lines(&out),
        [
            "whohosts: --fail-if 'organisation.top1 > 0.7': organisation.top1 is 0.75 (snapshot 1)",
            "whohosts: --fail-if 'organisation.hhi.change > 200': not checked: no earlier complete snapshot of the same seeds",
            "whohosts: --warn-if 'instance.k50 < 3': instance.k50 is 1 (snapshot 1)",
        ]
    );
    // Only a warning holds: 7. The change against snapshot 1 is 0.
    let out = env.run(&[
        "--db",
        db,
        "crawl",
        SEED,
        "--fail-if",
        "organisation.hhi.change > 200",
        "--warn-if",
        "organisation.hhi >= 6250",
    ]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        stderr_lines(&out),
        ["whohosts: --warn-if 'organisation.hhi >= 6250': organisation.hhi is 6250 (snapshot 2)"]
    );
    let out = env.run(&["--db", db, "report", "--warn-if", "organisation.hhi.change == 0"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        stderr_lines(&out),
        ["whohosts: --warn-if 'organisation.hhi.change == 0': organisation.hhi.change is 0 (snapshot 2 against 1)"]
    );
    // In JSON (under --quiet) a --warn-if that holds is a WARN event, a --fail-if an ERROR.
    for (flag, level) in [("--warn-if", "WARN"), ("--fail-if", "ERROR")] {
        let out = env.run(&[
            "--log-format",
            "json",
            "--db",
            db,
            "report",
            flag,
            "organisation.hhi >= 6250",
        ]);
        let events: Vec<serde_json::Value> = stderr_lines(&out)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!((events[0]["level"].as_str(), flag), (Some(level), flag));
        assert_eq!(
            events[0]["message"],
            format!("{flag} 'organisation.hhi >= 6250': organisation.hhi is 6250 (snapshot 2)")
        );
    }
    // A contacts snapshot stored since (the same cron measuring an address book): alerts
    // without an id still read the latest crawl.
    let book = env.dir.path().join("book.txt");
    std::fs::write(&book, "someone@hub.example\n").unwrap();
    let out = env.run(&["--db", db, "contacts", book.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&env.run(&["--db", db, "snapshots"]).stdout).contains("\tcontacts\tcomplete\t"));
    let out = env.run(&["--db", db, "report", "--warn-if", "organisation.hhi.change == 0"]);
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stderr_lines(&out),
        ["whohosts: --warn-if 'organisation.hhi.change == 0': organisation.hhi.change is 0 (snapshot 2 against 1)"]
    );
    // Nothing holds: 0, and nothing on stderr.
    let out = env.run(&[
        "--db",
        db,
        "report",
        "1",
        "--fail-if",
        "organisation.k75 > 2",
        "--weight",
        "edges",
    ]);
    assert_eq!((out.status.code(), stderr_lines(&out).len()), (Some(0), 0));
}

#[test]
fn a_bad_rule_is_a_usage_error_naming_the_token() {
    let env = Env::start(small_world());
    for (rule, says) in [
        ("galaxy.top1 > 0.5", "unknown level \"galaxy\""),
        ("as.top2 > 0.5", "unknown metric \"top2\""),
        ("as.hhi => 2500", "unknown comparison \"=>\""),
        ("as.hhi > lots", "\"lots\" is not a number"),
        (
            "organization.top1 > 0.5",
            "unknown level \"organization\" (did you mean \"organisation\"?): expected one of instance,",
        ),
        ("as.hh > 2500", "unknown metric \"hh\" (did you mean \"hhi\"?)"),
        (
            "organisation.top1 > 50%",
            "\"50%\" is not a number: shares run from 0 to 1 (50 % is 0.5)",
        ),
        (
            "organisation.top1 >> 0.5",
            "\"> 0.5\" is not a number: give one comparison between the metric and the number",
        ),
    ] {
        let out = env.run(&["crawl", SEED, "--fail-if", rule]);
        assert_eq!(out.status.code(), Some(2), "{rule}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(&format!("whohosts: --fail-if: '{rule}': ")), "{err}");
        assert!(err.contains(says), "{rule}: {err}");
        assert!(env.log("hub.example").is_empty(), "nothing is fetched for a bad rule");
    }
}

/// `name{labels}` → value, from a Prometheus text exposition; every sample has HELP and TYPE.
fn parse_exposition(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut typed = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap();
        let name = key.split('{').next().unwrap();
        assert!(name.starts_with("whohosts_") && typed.contains(name), "{line}");
        out.insert(key.to_string(), value.parse::<f64>().unwrap());
    }
    out
}

#[test]
fn metrics_file_holds_the_reported_figures_in_prometheus_format() {
    let env = Env::start(small_world());
    let prom = env.dir.path().join("textfile/whohosts.prom");
    std::fs::create_dir(prom.parent().unwrap()).unwrap();
    let (report, code) = env.crawl(&[SEED, "@carol@a.example", "--metrics-file", prom.to_str().unwrap()]);
    assert_eq!(code, 0);
    let m = parse_exposition(&std::fs::read_to_string(&prom).unwrap());
    assert_eq!(m["whohosts_snapshot_id"], 1.0);
    assert_eq!(m["whohosts_accounts"], 4.0);
    assert_eq!(m["whohosts_accounts_unseen"], 5.0);
    assert_eq!(m["whohosts_unseen_share"], 5.0 / 9.0);
    assert_eq!(m["whohosts_lists{status=\"hidden\"}"], 1.0);
    assert_eq!(m["whohosts_hhi{level=\"organisation\",weight=\"accounts\"}"], 6250.0);
    let mut compared = 0;
    for level in report["levels"].as_array().unwrap() {
        let labels = format!("{{level=\"{}\",weight=\"accounts\"}}", level["level"].as_str().unwrap());
        let s = &level["summary"];
        for (metric, field) in [
            ("whohosts_hhi", "hhi"),
            ("whohosts_top1_share", "top1"),
            ("whohosts_top3_share", "top3"),
            ("whohosts_k50", "k50"),
            ("whohosts_k75", "k75"),
            ("whohosts_gini", "gini"),
            ("whohosts_effective_number", "effective"),
            ("whohosts_buckets", "buckets"),
        ] {
            assert_eq!(
                m[&format!("{metric}{labels}")],
                s[field].as_f64().unwrap(),
                "{metric}{labels}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 24);
    // The file sits alone in its directory: written atomically, nothing left beside it.
    assert_eq!(std::fs::read_dir(prom.parent().unwrap()).unwrap().count(), 1);
    // A metrics file that cannot be written stops the run before any request.
    let before = env.log("hub.example").len();
    let out = env.run(&["crawl", SEED, "--metrics-file", "/nonexistent/dir/x.prom"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(env.log("hub.example").len(), before);
}

#[test]
fn degraded_data_warns_on_stderr_and_is_not_rated() {
    let env = Env::start(small_world());
    let out = env.run(&["crawl", "@carol@a.example"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr_lines(&out),
        [
            "whohosts: warning: snapshot 1: no follow list could be read (1 list of 1 seed: 1 hidden), so there is \
             nothing to attribute."
        ]
    );
    // In JSON a warning, not an error: one WARN event with the same sentence.
    let json = env.run(&["--log-format", "json", "report"]);
    let events: Vec<serde_json::Value> = stderr_lines(&json)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["level"], "WARN");
    assert_eq!(
        events[0]["message"],
        "snapshot 1: no follow list could be read (1 list of 1 seed: 1 hidden), so there is nothing to attribute."
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("unconcentrated"), "{text}");
    assert!(text.contains("nothing to attribute"), "{text}");
    // Half the accounts unseen is over the default 0.25; a configured 0.6 is not.
    let out = env.run(&["crawl", SEED, "@carol@a.example"]);
    assert_eq!(
        stderr_lines(&out),
        [
            "whohosts: warning: snapshot 2: 56 % of the accounts are unseen (5 declared by hidden or not-exposed \
             lists, 4 seen), more than report.max_unseen_share (0.25): the figures describe only part of the graph."
        ]
    );
    let mut env = env;
    env.config.report.max_unseen_share = 0.6;
    env.write_config();
    let out = env.run(&["report"]);
    assert_eq!((out.status.code(), stderr_lines(&out).len()), (Some(0), 0));
    // A rule over the unseen share (5 of 9 accounts): the warning rule holds, the failing
    // one does not.
    let out = env.run(&[
        "report",
        "--warn-if",
        "unseen.share > 0.5",
        "--fail-if",
        "unseen.share > 0.6",
    ]);
    assert_eq!(
        (out.status.code(), stderr_lines(&out)),
        (
            Some(7),
            vec!["whohosts: --warn-if 'unseen.share > 0.5': unseen.share is 0.5556 (snapshot 2)".to_string()]
        )
    );
}
