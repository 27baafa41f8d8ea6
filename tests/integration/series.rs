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
