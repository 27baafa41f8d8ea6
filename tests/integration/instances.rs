//! `whohosts instances FILE`: an instance list surveyed against the simulator, in each input
//! format, weighted by users, active users and instances; implausible counts, bad lines and
//! dead instances counted apart.

use serde_json::Value;
use whohosts_sim::world::{Instance, Software};

use crate::common::*;

pub(crate) fn sized(domain: &str, software: Software, provider: &str, users: u64) -> Instance {
    let mut i = inst(domain, software, provider);
    i.users_total = Some(users);
    i
}

pub(crate) fn tube(domain: &str, provider: &str, users: u64) -> Instance {
    let mut i = sized(domain, Software::Generic, provider, users);
    i.software_name = Some("PeerTube".into());
    i
}

/// Users 600/300/60/30/10 (active = users / 3 rounded up: 200/100/20/10/4) on five ASes,
/// plus one instance claiming a trillion users.
fn env() -> Env {
    Env::start(world(
        vec![
            sized("big.example", Software::Mastodon, "hetzner", 600),
            sized("mid.example", Software::Mastodon, "ovh", 300),
            tube("tube1.example", "amazon", 60),
            tube("tube2.example", "hetzner-cloud", 30),
            sized("small.example", Software::Pleroma, "netcup", 10),
            sized("huge.example", Software::Mastodon, "digitalocean", 1_000_000_000_000),
        ],
        vec![],
    ))
}

const TEXT_LIST: &str = "# instances to survey\n\
big.example\n\
https://mid.example/about  # a URL\n\
@someone@Tube1.Example\n\
tube2.example\n\
\n\
small.example\n\
huge.example\n\
not a host\n\
dead.example\n\
BIG.example\n";

const OBSERVER: &str = r#"[{"domain":"big.example"},{"domain":"mid.example"},{"domain":"tube1.example"},
{"domain":"tube2.example"},{"domain":"small.example"},{"domain":"huge.example"},{"domain":"not a host"},{"domain":"dead.example"}]"#;

const SOCIAL: &str = r#"{"instances":[{"name":"big.example","users":"1"},{"name":"mid.example"},{"name":"tube1.example"},
{"name":"tube2.example"},{"name":"small.example"},{"name":"huge.example"},{"name":"not a host"},{"name":"dead.example"}]}"#;

/// The list as fediverse.observer's GraphQL API answers `{nodes {domain …}}`.
const OBSERVER_API: &str = r#"{"data":{"nodes":[{"domain":"big.example","softwarename":"mastodon","total_users":1},
{"domain":"mid.example"},{"domain":"tube1.example"},{"domain":"tube2.example"},{"domain":"small.example"},
{"domain":"huge.example"},{"domain":"not a host"},{"domain":"dead.example"}]}}"#;

fn survey(env: &Env, list: &str, extra: &[&str]) -> (Value, String) {
    let path = env.dir.path().join("list");
    std::fs::write(&path, list).unwrap();
    let mut args = vec!["instances", path.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    // Not --quiet: bad entries are listed on stderr.
    let mut cmd = assert_cmd::Command::cargo_bin("whohosts").unwrap();
    cmd.arg("--config").arg(env.config_path()).env_remove("WHOHOSTS_CONFIG");
    let out = cmd.args(&args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).expect("JSON report"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn level<'a>(r: &'a Value, weight: &str, level: &str) -> &'a Value {
    let w = r["weights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["weight"] == weight)
        .unwrap();
    w["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == level)
        .unwrap()
}

pub(crate) fn shares(l: &Value) -> Vec<(String, f64)> {
    l["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_string(),
                (b["share"].as_f64().unwrap() * 1e4).round() / 1e4,
            )
        })
        .collect()
}

pub(crate) fn check(r: &Value) {
    let p = &r["population"];
    assert_eq!(p["listed"], 7, "{p}");
    assert_eq!(p["nodeinfo_read"], 6);
    assert_eq!(p["implausible"], 1);
    assert_eq!(p["bad_entries"], 1);
    assert_eq!(
        p["failed"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        1
    );
    assert_eq!(r["failures"][0][0], "dead.example");
    assert_eq!(r["bad"][0]["text"], "not a host");
    // Users: 600 + 300 + 60 + 30 + 10 = 1000 trusted; the trillion is counted apart.
    let users = level(r, "users", "as");
    assert_eq!(users["summary"]["total"], 1000.0);
    assert_eq!(
        shares(users),
        [
            ("AS24940".into(), 0.6),
            ("AS16276".into(), 0.3),
            ("AS16509".into(), 0.06),
            ("AS213230".into(), 0.03),
            ("AS197540".into(), 0.01)
        ]
    );
    assert_eq!(users["summary"]["top3"].as_f64().unwrap(), 0.96);
    assert_eq!(users["apart"]["implausible count"], 1.0);
    assert_eq!(
        users["apart"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_f64().unwrap())
            .sum::<f64>(),
        2.0
    );
    // Active: 200 + 100 + 20 + 10 + 4 = 334.
    let active = level(r, "active", "as");
    assert_eq!(active["summary"]["total"], 334.0);
    assert!((active["summary"]["top3"].as_f64().unwrap() - 320.0 / 334.0).abs() < 1e-9);
    // Instances: the six that answered, each once, the implausible one too.
    let inst = level(r, "instances", "as");
    assert_eq!(inst["summary"]["total"], 6.0);
    assert!((inst["summary"]["top3"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(inst["buckets"].as_array().unwrap().len(), 6);
    // Hetzner's two ASes are one organisation.
    assert_eq!(shares(level(r, "users", "organisation"))[0].1, 0.63);
    assert_eq!(
        r["weights"][0]["headline"],
        "Top 3 ASes host 96.0 % of 1000 users; 1 AS reaches half (HHI 4546)."
    );
}

#[test]
fn a_list_in_each_format_gives_the_same_shares() {
    let env = env();
    let (r, stderr) = survey(&env, TEXT_LIST, &[]);
    check(&r);
    assert_eq!(r["population"]["duplicates"], 1);
    assert!(stderr.contains(":9: \"not a host\""), "{stderr}");
    // The instance whose domain does not resolve is one warning line, counted by answer.
    let unresolved: Vec<&str> = stderr.lines().filter(|l| l.contains("did not resolve")).collect();
    assert_eq!(
        unresolved,
        ["whohosts: warning: 1 of 7 instances did not resolve: 1 NXDOMAIN; see \"NodeInfo not read\" in the report"],
        "{stderr}"
    );
    assert_eq!(r["bad"][0]["line"], 9);
    for list in [OBSERVER, OBSERVER_API, SOCIAL] {
        let (r, stderr) = survey(&env, list, &[]);
        check(&r);
        assert!(stderr.contains(":7: \"not a host\""), "{stderr}");
        assert_eq!(r["bad"][0]["line"], 7);
    }
    let software: Vec<(String, u64)> = r["software"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["software"].as_str().unwrap().to_string(),
                s["instances"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        software,
        [("mastodon".into(), 3), ("peertube".into(), 2), ("pleroma".into(), 1)]
    );
    // A JSON object of another shape: one line naming the file and the shapes read.
    let path = env.dir.path().join("servers.json");
    std::fs::write(&path, r#"{"data":{"servers":[{"domain":"big.example"}]}}"#).unwrap();
    let out = env.run(&["instances", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: instance list {}: a JSON object of no shape read here (read: {{\"instances\": [{{\"name\": …}}]}} as instances.social exports, {{\"data\": {{\"nodes\": [{{\"domain\": …}}]}}}} as fediverse.observer's API answers, or an array of domains or of {{\"domain\": …}})\n",
            path.display()
        )
    );
}

#[test]
fn the_software_filter_redoes_the_peertube_table() {
    let env = env();
    let (r, _) = survey(&env, OBSERVER, &["--software", "PeerTube"]);
    assert_eq!(r["population"]["nodeinfo_read"], 2);
    assert_eq!(r["population"]["other_software"], 4);
    assert_eq!(
        shares(level(&r, "instances", "as")),
        [("AS16509".into(), 0.5), ("AS213230".into(), 0.5)]
    );
    assert_eq!(
        shares(level(&r, "users", "as")),
        [("AS16509".into(), 0.6667), ("AS213230".into(), 0.3333)]
    );
    // `snapshots` counts the users the report counts (the filter's, trusted), not every claim.
    let users = r["population"]["users"].as_u64().unwrap();
    let list = String::from_utf8_lossy(&env.run(&["snapshots"]).stdout).into_owned();
    let row: Vec<&str> = list.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(
        (row[0], row[1], row[5]),
        ("1", "instances", users.to_string().as_str()),
        "{list}"
    );
    // A filter no instance read matches (a typo): said on stderr and in the report, with the
    // software the list runs.
    let (r, err) = survey(&env, OBSERVER, &["--software", "peertub", "--fresh"]);
    assert_eq!(r["population"]["nodeinfo_read"], 0);
    let line = "No instance read runs peertub: --software takes NodeInfo's software.name, and this list's are \
                mastodon (3), peertube (2), pleroma (1).";
    assert!(err.lines().any(|l| l == format!("whohosts: warning: {line}")), "{err}");
    let path = env.dir.path().join("list");
    let out = env.run(&["instances", path.to_str().unwrap(), "--software", "peertub"]);
    let text = crate::common::unwrapped(&String::from_utf8_lossy(&out.stdout));
    assert!(text.contains(line), "{text}");
}

#[test]
fn a_lower_ceiling_flags_more_and_text_says_so() {
    let mut env = env();
    env.config.instances.max_users = 500;
    env.write_config();
    let (r, _) = survey(&env, OBSERVER, &[]);
    assert_eq!(r["population"]["implausible"], 2);
    assert_eq!(level(&r, "users", "as")["summary"]["total"], 400.0);
    let path = env.dir.path().join("list");
    let out = env.run(&["instances", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Implausible counts: 2 instances"), "{text}");
    assert!(
        text.contains("big.example  total 600 is above instances.max_users (500)"),
        "{text}"
    );
}

#[test]
fn text_and_html_show_the_levels_as_the_follows_report_does() {
    let env = env();
    let path = env.dir.path().join("list");
    std::fs::write(&path, OBSERVER).unwrap();
    let out = env.run(&["instances", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The follows report's level layout: its heading counts what it names, rows rank and
    // share, the figures line names the band.
    assert!(
        unwrapped(&text).contains("Weighted by users: the users each instance declares (NodeInfo usage.users.total)"),
        "{text}"
    );
    assert!(
        text.contains("By autonomous system (5 autonomous systems, 1000 users)"),
        "{text}"
    );
    assert!(text.contains("By instance (6 instances)"), "{text}");
    // What was not counted is instances, under every weight.
    assert!(
        text.contains("Counted apart: 1 instance (dns), 1 instance (implausible count)."),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("1  AS24940") && l.contains("600") && l.contains("60.0 %")),
        "{text}"
    );
    assert!(text.contains("highly concentrated"), "{text}");
    // HTML: one page, every level of the text report per weight, ids unique, written with -o.
    let html_path = env.dir.path().join("survey.html");
    let out = env.run(&[
        "instances",
        path.to_str().unwrap(),
        "--format",
        "html",
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&html_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(html.contains("<h1>Who hosts these instances</h1>"));
    assert!(
        html.contains("<li>Top 3 ASes host 96.0 % of 1000 users; 1 AS reaches half (HHI 4546).</li>"),
        "{html}"
    );
    for weight in ["users", "active", "instances"] {
        for level in ["as", "organisation", "instance"] {
            assert_eq!(
                html.matches(&format!("id=\"level-{weight}-{level}\"")).count(),
                1,
                "{weight} {level}"
            );
        }
    }
    assert!(html.contains("<td>AS24940"), "{html}");
    assert!(
        html.contains("<td class=\"n\">600</td><td class=\"n\">60.0 %</td>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>dead.example</td>"), "{html}");
    assert!(
        html.contains("huge.example: total 1000000000000 is above instances.max_users"),
        "{html}"
    );
    assert!(!html.contains("<script"));
}

/// A survey where no instance answered (every domain unknown here) is not rated, is stored
/// as failed (no baseline for the next survey) and exits 1, with one line on stderr (even
/// under -q), as a `contacts` run whose every lookup failed; its report is printed all the
/// same, listing each instance and why it failed. One instance that answers is enough for
/// a complete survey.
#[test]
fn a_survey_where_no_instance_answered_is_stored_as_failed() {
    let env = env();
    let list = env.dir.path().join("dead.txt");
    std::fs::write(&list, "dead.example\ngone.example\n").unwrap();
    let out = env.run(&["instances", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: warning: no instance answered (of 2 instances: every DNS lookup or NodeInfo read failed), \
         so nothing is rated; snapshot 1 is stored as failed\n"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "Instance list: 2 instances (0 duplicates, 0 bad entries); NodeInfo read from 0,\n  \
             failed for 2 (2 dns).\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\nNodeInfo not read (2)\n  dead.example  dns: DNS dead.example: NXDOMAIN\n  \
             gone.example  dns: DNS gone.example: NXDOMAIN\n"
        ),
        "{text}"
    );
    assert!(text.contains("\nWeighted by users: nothing attributed.\n"), "{text}");
    assert!(!text.contains("HHI"), "{text}");
    let list_out = String::from_utf8_lossy(&env.run(&["snapshots"]).stdout).to_string();
    assert!(
        list_out.lines().any(|l| l.starts_with("1\tinstances\tfailed\t")),
        "{list_out}"
    );
    // Its report says what there is to do, in the words of a survey.
    let report = env.run(&["report", "1"]);
    assert_eq!(
        String::from_utf8_lossy(&report.stderr),
        "whohosts: snapshot 1 failed, so it has no report: run the same survey again for a new one\n"
    );
    std::fs::write(&list, "dead.example\nbig.example\n").unwrap();
    let out = env.run(&["instances", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let list_out = String::from_utf8_lossy(&env.run(&["snapshots"]).stdout).to_string();
    assert!(
        list_out.lines().any(|l| l.starts_with("2\tinstances\tcomplete\t")),
        "{list_out}"
    );
}

/// A survey where no instance answered still counts its list's bad entries: the report
/// printed says how many, and they are stored with the failed snapshot (a failed survey
/// counted them as 0).
#[test]
fn a_failed_survey_counts_and_stores_its_bad_entries() {
    let env = env();
    let list = env.dir.path().join("dead.txt");
    std::fs::write(&list, "dead.example\nnot a host!\ngone.example\n1.2.3.4\n").unwrap();
    let out = env.run(&["instances", list.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // Under -q (Env::run's), the bad entries are one warning, not a line each.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "whohosts: warning: {}: 2 bad entries skipped (run without -q to list them)\n",
            list.display()
        )),
        "{stderr}"
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["population"]["listed"], 2);
    assert_eq!(r["population"]["bad_entries"], 2);
    let lines: Vec<&Value> = r["bad"].as_array().unwrap().iter().map(|b| &b["line"]).collect();
    assert_eq!(lines, [2, 4]);
    let db = whohosts::store::database_path(None, &env.config);
    let store = whohosts::store::Store::open_read_only(&db).unwrap();
    let stored: Vec<(i64, String)> = store
        .connection()
        .prepare("SELECT line, text FROM survey_bad_entry WHERE snapshot_id = 1 ORDER BY line")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored, [(2, "not a host!".to_string()), (4, "1.2.3.4".to_string())]);
    assert_eq!(store.status(1).unwrap().as_deref(), Some("failed"));
}

/// Claims allowed by a raised ceiling are summed without wrapping: three instances each
/// claiming i64::MAX users (the most TOML can set `instances.max_users` to) total more than
/// a u64 holds, so the population and the software table stop at u64::MAX instead of
/// wrapping to a small number.
#[test]
fn user_totals_saturate_instead_of_wrapping() {
    let most = i64::MAX as u64;
    let mut env = Env::start(world(
        vec![
            sized("a.example", Software::Mastodon, "hetzner", most),
            sized("b.example", Software::Mastodon, "ovh", most),
            sized("c.example", Software::Mastodon, "netcup", most),
        ],
        vec![],
    ));
    env.config.instances.max_users = most;
    env.write_config();
    let (r, _) = survey(&env, "a.example\nb.example\nc.example\n", &[]);
    assert_eq!(r["population"]["nodeinfo_read"], 3);
    assert_eq!(r["population"]["implausible"], 0);
    assert_eq!(r["population"]["users"].as_u64(), Some(u64::MAX), "{}", r["population"]);
    assert_eq!(r["software"][0]["users"].as_u64(), Some(u64::MAX), "{}", r["software"]);
}

/// A survey of fewer than three ASes does not speak of a "top 3", and one instance or user
/// is singular: "The one AS hosts 100.0 % of 1 instance", not "Top 3 ASes … of 1 instances".
#[test]
fn headlines_count_what_there_is() {
    let env = Env::start(world(
        vec![
            sized("solo.example", Software::Mastodon, "hetzner", 1),
            sized("duo.example", Software::Mastodon, "ovh", 3),
        ],
        vec![],
    ));
    let (r, _) = survey(&env, "solo.example\n", &[]);
    let headline = |r: &Value, weight: &str| {
        r["weights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["weight"] == weight)
            .unwrap()["headline"]
            .clone()
    };
    assert_eq!(
        headline(&r, "users"),
        "The one AS hosts 100.0 % of 1 user; 1 AS reaches half (HHI 10000)."
    );
    assert_eq!(
        headline(&r, "instances"),
        "The one AS hosts 100.0 % of 1 instance; 1 AS reaches half (HHI 10000)."
    );
    // Active accounts, as the level headings count them, said as NodeInfo's.
    assert_eq!(
        headline(&r, "active"),
        "The one AS hosts 100.0 % of 1 active account (NodeInfo activeMonth); 1 AS reaches half (HHI 10000)."
    );
    let (r, _) = survey(&env, "solo.example\nduo.example\n", &[]);
    assert_eq!(
        headline(&r, "instances"),
        "The two ASes host 100.0 % of 2 instances; 1 AS reaches half (HHI 5000)."
    );
    assert_eq!(
        headline(&r, "active"),
        "The two ASes host 100.0 % of 2 active accounts (NodeInfo activeMonth); 1 AS reaches half (HHI 5000)."
    );
}

/// A host met twice in a survey (a list entry whose NodeInfo links to a host surveyed
/// before: alias.example's discovery document points at real.example's) is not asked its
/// robots.txt nor resolved again: the client keeps what it learnt of the hosts it let go
/// last (`net::http::KEPT_FORGOTTEN`).
#[test]
fn a_host_met_twice_in_a_survey_is_asked_robots_txt_and_dns_once() {
    let mut real = sized("real.example", Software::Mastodon, "hetzner", 600);
    real.handle_domain = Some("alias.example".into());
    let mut env = Env::start(world(
        vec![real, sized("other.example", Software::Mastodon, "ovh", 30)],
        vec![],
    ));
    // One instance at a time: real.example is surveyed (and let go) before alias.example.
    env.config.network.global_concurrency = 1;
    env.write_config();
    let (r, _) = survey(&env, "real.example\nother.example\nalias.example\n", &[]);
    assert_eq!(r["population"]["nodeinfo_read"], 3, "{}", r["population"]);
    assert_eq!(
        env.paths("real.example"),
        ["/robots.txt", "/.well-known/nodeinfo", "/nodeinfo/2.0", "/nodeinfo/2.0"]
    );
    let mut asked: Vec<String> = env
        .sim
        .sim
        .stats()
        .dns_queries
        .into_iter()
        .filter(|(name, _)| name == "real.example")
        .map(|(_, kind)| kind)
        .collect();
    asked.sort();
    assert_eq!(asked, ["A", "AAAA"]);
}

/// A survey is polite: an instance whose robots.txt bars `/.well-known/nodeinfo` is not read
/// (only its robots.txt is asked) and is counted apart as `robots`; one answering its NodeInfo
/// document 429 with `Retry-After: 1` (every second request) is asked again only once the
/// pause is over, and counted with its users; every host gets one NodeInfo walk (robots.txt,
/// discovery, document), however often the list names it.
#[test]
fn a_survey_obeys_robots_txt_waits_out_429s_and_walks_nodeinfo_once_per_host() {
    let mut barred = sized("barred.example", Software::Mastodon, "ovh", 300);
    barred.robots_disallow = vec!["/.well-known/nodeinfo".into()];
    let mut busy = sized("busy.example", Software::Mastodon, "netcup", 60);
    busy.announce = Some(whohosts_sim::world::Announce {
        style: whohosts_sim::world::AnnounceStyle::RetryAfterSeconds,
        every: 2,
        secs: 1,
    });
    let env = Env::start(world(
        vec![sized("big.example", Software::Mastodon, "hetzner", 600), barred, busy],
        vec![],
    ));
    let list = "big.example\nbarred.example\nbusy.example\nhttps://big.example/about\n@a@busy.example\n";
    let (r, _) = survey(&env, list, &[]);
    let p = &r["population"];
    assert_eq!(
        (
            p["listed"].as_u64(),
            p["duplicates"].as_u64(),
            p["nodeinfo_read"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(p["failed"], serde_json::json!({"robots": 1}));
    assert_eq!(p["users"], 660, "busy.example's users are counted");
    assert_eq!(
        r["failures"],
        serde_json::json!([[
            "barred.example",
            "robots",
            "robots.txt of barred.example disallows /.well-known/nodeinfo"
        ]])
    );
    assert_eq!(env.paths("barred.example"), ["/robots.txt"]);
    let log = env.log("busy.example");
    let refused: Vec<&str> = log
        .iter()
        .filter(|l| l.status == 429)
        .map(|l| l.path.as_str())
        .collect();
    assert_eq!(refused, ["/nodeinfo/2.0"]);
    assert_eq!(env.pauses_waited_out("busy.example"), 1);
    for host in ["big.example", "busy.example"] {
        let answered: Vec<String> = env
            .log(host)
            .into_iter()
            .filter(|l| l.status != 429)
            .map(|l| l.path)
            .collect();
        assert_eq!(
            answered,
            ["/robots.txt", "/.well-known/nodeinfo", "/nodeinfo/2.0"],
            "{host}"
        );
    }
}

/// A list naming no instance (an empty file, an empty fediverse.observer answer, only bad
/// entries) is one line on stderr and exit 1, and stores nothing: not a "complete" survey
/// of 0 instances that a trend would take as a baseline.
#[test]
fn a_list_naming_no_instance_is_refused_in_one_line() {
    let env = env();
    for (name, body, line) in [
        ("empty.txt", "", "names no instance to survey"),
        ("nodes.json", r#"{"data":{"nodes":[]}}"#, "names no instance to survey"),
        (
            "bad.txt",
            "localhost\nnot a host\n",
            "names no instance to survey (2 bad entries skipped; the first, line 1: \"localhost\": domain has no dot (an \
             instance is a full name such as example.social))",
        ),
    ] {
        let path = env.dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let out = env.run(&["instances", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("whohosts: {}: {line}\n", path.display()),
            "{name}"
        );
    }
    let out = env.run(&["snapshots"]);
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!listed.contains("instances"), "no survey stored: {listed}");
}

/// Every line of the survey's text report fits 80 columns however long the names in it
/// (issue #15): a 256-character software name is cut in its table, long host names before
/// their failure or implausible count, the list's long path in the survey line; the trend's
/// rows fit too. JSON keeps the software name whole.
#[test]
fn the_text_report_fits_80_columns_whatever_the_names() {
    // NodeInfo's software names are read in lower case.
    let software = "verylongsoftware".repeat(16);
    let label = |c: &str| c.repeat(63);
    let (long, dead, odd) = (
        format!("{}.{}.example", label("a"), label("b")),
        format!("{}.{}.example", label("d"), label("e")),
        format!("{}.{}.example", label("h"), label("i")),
    );
    let mut named = sized(&long, Software::Generic, "hetzner", 500);
    named.software_name = Some(software.clone());
    let env = Env::start(world(
        vec![
            named,
            sized("mid.example", Software::Mastodon, "ovh", 300),
            sized(&odd, Software::Mastodon, "amazon", 1_000_000_000_000),
        ],
        vec![],
    ));
    let dir = env
        .dir
        .path()
        .join("a list of instances kept in a folder with a long name".replace(' ', "-"));
    std::fs::create_dir(&dir).unwrap();
    let list = dir.join("instances-surveyed-every-week-from-cron-by-our-association.txt");
    std::fs::write(&list, format!("{long}\nmid.example\n{odd}\n{dead}\n")).unwrap();
    let db = env.dir.path().join("s.db");
    let args = ["instances", "--db", db.to_str().unwrap(), list.to_str().unwrap()];
    assert_eq!(env.run(&args).status.code(), Some(0));
    let out = env.run(&args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_fits_80("instances", &text);
    assert!(text.contains(&format!("\n  {}…       1 ", &software[..19])), "{text}");
    assert!(
        text.contains(&format!("\n  {}…  dns: DNS\n      {}…", &dead[..39], &dead[..73])),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\n  {}…  total 1000000000000 is above\n      instances.max_users (50000000)",
            &odd[..39]
        )),
        "{text}"
    );
    assert!(text.contains("\nSurvey 2 (list: /"), "{text}");
    assert!(text.contains("weighted by instances):\n"), "{text}");
    assert!(
        text.ends_with("  800 users  top-3 100.0 %  k50 1  HHI 5313  (100.0 %)\n"),
        "{text}"
    );
    let json = String::from_utf8_lossy(
        &env.run(&["report", "2", "--db", db.to_str().unwrap(), "--format", "json"])
            .stdout,
    )
    .into_owned();
    assert!(json.contains(&format!("\"{software}\"")), "{json}");
}
