//! A diff and a trend say why accounts left: list status changes first, accounts no longer
//! visible (their only list became hidden) apart from those gone, and each departure's cause
//! (moved, paired with its new account; deleted; unfollowed) learnt by fetching it once.
//! Opted-out accounts only as counts.

use serde_json::Value;
use whohosts_sim::world::World;

use crate::common::Env;

const SEEDS: [&str; 2] = ["@alice@hub.example", "@dan@hub.example"];

fn departures_world() -> World {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/departures.toml");
    World::load(&path).expect("the departures fixture loads")
}

/// Week 0 then week 1 crawled into one database.
fn crawled(configure: impl FnOnce(&mut Env)) -> (Env, String) {
    let mut env = Env::start_timeline(departures_world());
    configure(&mut env);
    env.write_config();
    let (_, c0) = env.crawl(&SEEDS);
    env.sim.set_week(1).unwrap();
    let out = env.cmd().arg("crawl").args(SEEDS).output().unwrap();
    assert_eq!((c0, out.status.code()), (0, Some(0)));
    (env, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Text with every run of white space as one space (wrapped lines joined).
fn flat(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn no_opted_out_names(text: &str) {
    for name in ["nb1", "nb2", "nb3", "opted-out:"] {
        assert!(!text.contains(name), "{name} named in: {text}");
    }
}

#[test]
fn diff_text_counts_each_cause_and_what_is_no_longer_visible() {
    let (env, _) = crawled(|_| {});
    let out = env.run(&["diff", "1", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = flat(&out.stdout);
    assert!(
        text.contains("Lists whose status changed: 1. @dan@hub.example following: complete → hidden"),
        "{text}"
    );
    assert!(
        text.contains(
            "Accounts that changed: 8 — 4 gone (1 deleted, 1 moved to b.example, 1 unfollowed, 1 unknown); 2 no \
             longer visible (the following list of @dan@hub.example became hidden); 2 still listed, now marked moved."
        ),
        "{text}"
    );
    assert!(text.contains("> @bob@a.example moved to @bob@b.example"), "{text}");
    assert!(text.contains("- @del@a.example (deleted)"), "{text}");
    assert!(text.contains("- @cy@a.example (unfollowed)"), "{text}");
    assert!(
        text.contains("? @zed@b.example no longer visible (the following list of @dan@hub.example became hidden)"),
        "{text}"
    );
    // The move is one change, not "- old / + new".
    assert!(!text.contains("+ @bob@b.example"), "{text}");
    assert!(
        text.contains("2 opted-out accounts on a.example still listed but marked moved to eq.example."),
        "{text}"
    );
    assert!(text.contains("1 opted-out account on a.example gone."), "{text}");
    no_opted_out_names(&text);
}

#[test]
fn diff_json_and_trend_lines_carry_the_same_causes() {
    let (env, _) = crawled(|_| {});
    let out = env.run(&["diff", "1", "2", "--format", "json"]);
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    no_opted_out_names(&raw);
    let d: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        d["lists"],
        serde_json::json!([{"seed": "@dan@hub.example", "direction": "following", "from": "complete", "to": "hidden"}])
    );
    let by = |change: &str| -> Vec<(String, String)> {
        d["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["change"] == change)
            .map(|a| {
                let why = a["cause"].as_str().or(a["because"].as_str()).unwrap_or("").to_string();
                (a["account"].as_str().unwrap().to_string(), why)
            })
            .collect()
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        by("gone"),
        [
            s("@bob@a.example", "moved"),
            s("@cy@a.example", "unfollowed"),
            s("@del@a.example", "deleted")
        ]
    );
    let hidden = "the following list of @dan@hub.example became hidden";
    assert_eq!(
        by("no-longer-visible"),
        [s("@zed@b.example", hidden), s("@zoe@b.example", hidden)]
    );
    assert_eq!(by("added"), Vec::<(String, String)>::new());
    let bob = d["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "@bob@a.example")
        .unwrap();
    assert_eq!(bob["moved_to"], "@bob@b.example");
    assert_eq!(
        d["opted_out"],
        serde_json::json!([
            {"change": "gone", "instance": "a.example", "moved_to": null, "count": 1},
            {"change": "moved", "instance": "a.example", "moved_to": "eq.example", "count": 2}
        ])
    );
    // The report's trend line says the same, list change first.
    let report = env.run(&["report", "2"]);
    let text = flat(&report.stdout);
    no_opted_out_names(&text);
    assert!(
        text.contains(
            "the following list of @dan@hub.example became hidden: 2 accounts no longer visible; 4 gone (1 \
             deleted, 1 moved to b.example, 1 unfollowed, 1 unknown); 2 opted-out accounts on a.example still \
             listed but marked moved to eq.example."
        ),
        "{text}"
    );
    let json = env.run(&["report", "2", "--format", "json"]);
    let r: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        r["trend"][1]["changes"][0],
        "the following list of @dan@hub.example became hidden: 2 accounts no longer visible"
    );
    assert_eq!(
        r["trend"][1]["changes"][1],
        "4 gone (1 deleted, 1 moved to b.example, 1 unfollowed, 1 unknown)"
    );
}

#[test]
fn departure_checks_are_bounded_and_the_rest_not_checked() {
    let (env, stderr) = crawled(|env| env.config.crawl.max_departure_checks = 1);
    // bob, cy, del and nb3 left complete lists; one is checked.
    assert!(
        stderr.contains(
            "4 accounts left the lists since snapshot 1; checking why for 1 of them only (crawl.max_departure_checks)"
        ),
        "{stderr}"
    );
    let text = flat(&env.run(&["diff", "1", "2"]).stdout);
    assert!(text.contains("4 gone (3 not checked, 1 moved to b.example);"), "{text}");
}

/// `diff 1 4` over the demo reads why accounts left from every snapshot after 1 up to 4:
/// the moves that snapshot 2 learnt are moves, not "not checked"; so is the move snapshot 3
/// saw (user11 still listed, marked moved) of an account no crawl checked when it left.
#[test]
fn a_diff_across_snapshots_reads_the_departures_learnt_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = crate::html::demo_db(dir.path());
    let text = crate::html::with_db(&db, &["diff", "1", "4"]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("4 gone (2 moved to flagship.example, 1 moved to node3.example, 1 moved to node31.example);"),
        "{text}"
    );
    assert!(
        text.contains("> @user27@node1.example moved to @user27_node1@node31.example"),
        "{text}"
    );
    assert!(
        text.contains("> @user11@node2.example moved to @user11_node2@flagship.example"),
        "{text}"
    );
    assert!(!text.contains("+ @user11_node2@flagship.example"), "{text}");
}
