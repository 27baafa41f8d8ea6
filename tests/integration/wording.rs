//! What reports say, as a new user reads them (issue 15's trial): each figure in the unit its
//! weight counts, names listed so that none reads as two, each change said once and at most
//! six sentences a step, zero categories left out, changes that add up as shown, levels with
//! nothing to attribute not rated, move targets as handles. Against the demo world (40
//! instances, seed 3, four weeks) and, for empty levels, a small world whose only list is
//! hidden.

use std::path::Path;

use crate::alerts::small_world;
use crate::common::Env;
use crate::html::{demo_db, with_db};

/// `text` with every run of white space one space: wrapped lines read as one.
pub(crate) fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` flat, without the bars of its tables: rows read `rank label amount share`.
pub(crate) fn plain(text: &str) -> String {
    flat(&text.replace(['█', '▏', '▎', '▍', '▌', '▋', '▊', '▉'], " "))
}

fn report(db: &Path, args: &[&str]) -> String {
    flat(&with_db(db, &[&["report"], args].concat()))
}

#[test]
fn users_are_counted_apart_from_instances_and_each_weight_says_what_its_largest_instance_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_db(dir.path());
    // 251 users on the instances that declare a count; the 3 instances without one are
    // counted apart as instances, never added to the users (254 before).
    let json: serde_json::Value =
        serde_json::from_str(&with_db(&db, &["report", "--weight", "users", "--format", "json"])).unwrap();
    let h = &json["headline"];
    assert_eq!((h["total"].as_f64(), h["apart"].as_f64()), (Some(251.0), Some(0.0)));
    assert_eq!(h["instances_apart"].as_f64(), Some(3.0));
    let users = report(&db, &["--weight", "users"]);
    assert!(
        users.starts_with(
            "Of the 251 users of these instances (3 instances without a user count counted apart), 60 % are \
             hosted by 2 organisations (Hetzner, netcup);"
        ),
        "{users}"
    );
    assert!(
        users.contains(" Instances: 40; the largest, flagship.example, declares 30 % of the users."),
        "{users}"
    );
    assert!(
        users.contains("By hosting organisation (10 organisations, 251 users)"),
        "{users}"
    );
    assert!(users.contains(" Counted apart: 3 instances (no nodeinfo)."), "{users}");
    // Under `instances` each instance counts once: no "largest holds 2 %".
    let instances = report(&db, &["--weight", "instances"]);
    assert!(
        instances.contains("Hosting is moderately concentrated (HHI 1743). Weight: instances"),
        "{instances}"
    );
    assert!(!instances.contains("the largest"), "{instances}");
    // Accounts keep their sentence.
    let accounts = report(&db, &[]);
    assert!(
        accounts.contains(" Instances: 43; the largest, flagship.example, holds 30 %."),
        "{accounts}"
    );
}

#[test]
fn a_leader_whose_name_holds_a_comma_reads_as_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_db(dir.path());
    let text = report(&db, &["--weight", "instances"]);
    assert!(
        text.contains(
            "63 % are hosted by 3 organisations (Hetzner; behind CDN Cloudflare, origin unknown; OVH); 4 \
             organisations cover 75 %"
        ),
        "{text}"
    );
    // Without a comma in any name, the plain list.
    assert!(report(&db, &[]).contains("by 2 organisations (Hetzner, netcup);"));
}

/// The trend's step of `snapshot`: its changes, as one line.
fn step(text: &str, snapshot: u32) -> &str {
    let start = text.find(&format!("snapshot {snapshot} ")).unwrap();
    let rest = &text[start..];
    let end = rest[1..].find("snapshot ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn a_trend_step_says_each_change_once_in_six_sentences_at_most_and_moves_name_handles() {
    let dir = tempfile::tempdir().unwrap();
    let (db, printed) = demo_db(dir.path());
    let text = flat(&printed);
    let trend = &text[text.find("Trend by").unwrap()..text.find("@demo@flagship.example (on").unwrap()];
    // The list that became not-exposed carries the accounts it hid: said once.
    let four = step(trend, 4);
    assert_eq!(four.matches("no longer visible").count(), 1, "{four}");
    assert_eq!(four.matches("@demo-misskey@node34.example").count(), 1, "{four}");
    assert!(
        four.contains(
            "the following list of @demo-misskey@node34.example became not-exposed: 6 accounts no longer visible; \
             2 accounts added, 1 gone (1 moved to node3.example);"
        ),
        "{four}"
    );
    for n in 2..=4 {
        let s = step(trend, n);
        let changes = s.split("HHI").nth(1).unwrap();
        assert!(changes.split("; ").count() <= 6, "{s}");
    }
    // A move target is the account's handle, not its actor URI with the simulator's port.
    let three = step(trend, 3);
    assert!(
        three.contains("@user11@node2.example is still listed but says it moved to @user11_node2@flagship.example."),
        "{three}"
    );
    assert!(!trend.contains("http://"), "{trend}");
    let diff = flat(&with_db(&db, &["diff", "2", "3"]));
    assert!(
        diff.contains("~ @user11@node2.example is still listed but says it moved to @user11_node2@flagship.example"),
        "{diff}"
    );
}

#[test]
fn the_population_leaves_out_what_there_is_none_of() {
    let dir = tempfile::tempdir().unwrap();
    let (_, printed) = demo_db(dir.path());
    let text = flat(&printed);
    assert!(
        text.contains(
            "from 4 seeds (0 failed). Hidden: 1 list. Not exposed: 1 list. Declared but unseen in hidden and \
             not-exposed lists: 80 accounts. Refused: 1 list. Unresolved: 2 instances. Opted out: 9 accounts. Data:"
        ),
        "{text}"
    );
    let population = &text[text.find("Population:").unwrap()..text.find(" Data:").unwrap()];
    assert!(!population.contains(": 0"), "{population}");
}

#[test]
fn a_name_that_does_not_resolve_is_one_kind_of_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_db(dir.path());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind, count(*) FROM failure WHERE snapshot_id = 4 AND kind LIKE 'dns%' GROUP BY kind")
        .unwrap();
    let kinds: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // node18 and node19 do not resolve: one row each, their DNS answer's, NXDOMAIN, none a
    // plain `dns` (the NodeInfo fetch that needed the name adds no second row).
    assert_eq!(kinds, [("dns_nxdomain".to_string(), 2)]);
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT subject, about FROM failure WHERE snapshot_id = 4 AND kind LIKE 'dns%' ORDER BY about")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            ("dns".to_string(), "node18.example".to_string()),
            ("dns".to_string(), "node19.example".to_string())
        ]
    );
}

#[test]
fn a_diff_change_is_the_change_of_the_figures_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_db(dir.path());
    let diff = with_db(&db, &["diff", "2", "3"]);
    // 57.0→56.2 is −0.8 (the figures before rounding differ by 0.7).
    assert!(diff.contains("  instance     top-3 57.0→56.2 % (−0.8)  "), "{diff}");
    for pair in [["1", "2"], ["2", "3"], ["3", "4"]] {
        let diff = with_db(&db, &["diff", pair[0], pair[1]]);
        for line in diff.lines().filter(|l| l.contains(" top-3 ")) {
            // "top-3 A→B % (C)": C is B − A in tenths.
            let figures = line.split("top-3 ").nth(1).unwrap();
            let (a, rest) = figures.split_once('→').unwrap();
            let (b, rest) = rest.split_once(" % (").unwrap();
            let c = rest.split_once(')').unwrap().0;
            let tenths = |s: &str| (s.parse::<f64>().unwrap() * 10.0).round() as i64;
            let shown = match c {
                "±0" => 0,
                c if c.starts_with('+') => tenths(&c[1..]),
                c => -tenths(c.trim_start_matches('−')),
            };
            assert_eq!(shown, tenths(b) - tenths(a), "{line}");
        }
    }
}

#[test]
fn a_level_with_nothing_to_attribute_is_not_rated_in_the_trend_or_the_diff() {
    let env = Env::start(small_world());
    for _ in 0..2 {
        assert_eq!(env.run(&["crawl", "@carol@a.example"]).status.code(), Some(0));
    }
    let out = env.run(&["report"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let trend = &text[text.find("Trend by").unwrap()..];
    assert!(trend.contains("  snapshot 1   "), "{text}");
    assert_eq!(trend.matches("nothing to attribute: not rated\n").count(), 2, "{text}");
    assert!(!text.contains("HHI     0"), "{text}");
    assert!(!text.contains("unconcentrated"), "{text}");
    let diff = String::from_utf8_lossy(&env.run(&["diff", "1", "2"]).stdout).to_string();
    assert!(
        diff.contains("  organisation not rated → not rated (nothing to attribute)\n"),
        "{diff}"
    );
    assert!(!diff.contains("HHI 0→0"), "{diff}");
    // The HTML trend neither rates it nor draws it at 0.
    let html = String::from_utf8_lossy(&env.run(&["report", "--format", "html"]).stdout).to_string();
    assert_eq!(
        html.matches(">nothing to attribute: not rated</td>").count(),
        6,
        "three levels, two snapshots"
    );
    assert!(html.contains("#1 not rated, #2 not rated"), "the charts' descriptions");
}
