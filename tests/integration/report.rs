//! Reports and diffs read from a database made by crawling the weeks of
//! tests/fixtures/worlds/timeline.toml (snapshots 1, 2 and 3 are weeks 0, 1 and 2).

use serde_json::{json, Value};

use crate::common::Env;
use crate::queries::timeline_db;

pub fn run(env: &Env, db: &std::path::Path, args: &[&str]) -> String {
    let out = env.cmd().arg("--db").arg(db).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn level<'a>(v: &'a Value, level: &str) -> &'a Value {
    v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["level"] == level)
        .unwrap()
}

const DIFF_1_2: &str = "\
Changes from snapshot 1 to snapshot 2 (weight: accounts).

Lists whose status changed: 1.
  @dan@hub.example following: complete → hidden

Accounts that changed: 3 — 2 added; 1 still listed, now marked moved.
  + @bob@b.example
  + @eve@new.example
  ~ @bob@a.example is still listed but says it moved to @bob@b.example

Instances that changed host: 2.
  cdn.example went behind CDN Cloudflare (AS13335), from Contabo (AS51167)
  mig.example moved from DigitalOcean (AS14061) to OVH (AS16276)

Instances that appeared, left or became unreachable: 3.
  b.example appeared (1 account)
  new.example appeared (1 account)
  gone.example became unreachable (dns_nxdomain)

Metrics (weight: accounts), then → now:
  instance     top-3 50.0→40.0 % (−10.0)  k50 3→4  k75 5→7  HHI 1563→1200 (−363)
  organisation top-3 62.5→66.7 % (+4.2)  k50 2→2  k75 4→4  HHI 1875→2099 (+224)
  as           top-3 62.5→66.7 % (+4.2)  k50 2→2  k75 4→4  HHI 1875→2099 (+224)
";

#[test]
fn diff_of_two_weeks_lists_what_changed() {
    let (env, db) = timeline_db();
    assert_eq!(run(&env, &db, &["diff", "1", "2"]), DIFF_1_2);
    let v: Value = serde_json::from_str(&run(&env, &db, &["diff", "1", "2", "--format", "json"])).unwrap();
    assert_eq!(v["schema_version"], 1);
    let acct = |a: &str, c: &str, i: &str, m: Value| json!({"account": a, "change": c, "instance": i, "moved_to": m});
    assert_eq!(
        v["accounts"],
        json!([
            acct("@bob@b.example", "added", "b.example", Value::Null),
            acct("@eve@new.example", "added", "new.example", Value::Null),
            acct("@bob@a.example", "moved", "a.example", json!("@bob@b.example")),
        ])
    );
    assert_eq!(
        v["hosts"],
        json!([
            {"instance": "cdn.example", "from_asn": "51167", "to_asn": "13335", "from_hosting": "Contabo",
             "to_hosting": "behind CDN Cloudflare, origin unknown"},
            {"instance": "mig.example", "from_asn": "14061", "to_asn": "16276", "from_hosting": "DigitalOcean",
             "to_hosting": "OVH"},
        ])
    );
    let org = level(&v, "organisation");
    assert_eq!(
        (org["from"]["hhi"].as_f64(), org["from"]["k50"].as_u64()),
        (Some(1875.0), Some(2))
    );
    assert!(
        (org["to"]["hhi"].as_f64().unwrap() - 170_000.0 / 81.0).abs() < 1e-9,
        "{org}"
    );
    assert!((org["change"]["top3"].as_f64().unwrap() - (6.0 / 9.0 - 5.0 / 8.0)).abs() < 1e-12);
    assert_eq!(level(&v, "instance")["change"]["k50"], 1);
    // Week 1 to week 2: cy is unfollowed (cdn.example leaves the lists), cdn2.example goes
    // behind Fastly, dead.example stops answering.
    let v: Value = serde_json::from_str(&run(
        &env,
        &db,
        &["diff", "2", "3", "--format", "json", "--by", "hosting"],
    ))
    .unwrap();
    assert_eq!(
        v["accounts"],
        json!([{"account": "@cy@cdn.example", "change": "gone", "instance": "cdn.example", "moved_to": null,
                 "cause": "unfollowed"}])
    );
    assert_eq!(v["hosts"][0]["instance"], "cdn2.example");
    assert_eq!(v["hosts"][0]["to_hosting"], "behind CDN Fastly, origin unknown");
    let inst = |i: &str, c: &str, f: Value, t: Value, why: Value| json!({"instance": i, "change": c, "from_accounts": f, "to_accounts": t, "failure": why});
    assert_eq!(
        v["instances"],
        json!([
            inst("cdn.example", "disappeared", json!(1), Value::Null, Value::Null),
            inst("dead.example", "unreachable", json!(1), json!(1), json!("connection")),
        ])
    );
    assert_eq!(v["metrics"].as_array().unwrap().len(), 1);
    assert_eq!(v["metrics"][0]["level"], "hosting");
}

#[test]
fn diff_names_a_missing_snapshot() {
    let (env, db) = timeline_db();
    let out = env
        .cmd()
        .arg("--db")
        .arg(&db)
        .args(["diff", "1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no snapshot 9 in "), "{err}");
}

/// A snapshot compared with itself has no changes: `diff 3 3` is refused as a usage error
/// (exit 2), in one line and the `--help` tip, instead of a diff that says nothing.
#[test]
fn diff_refuses_one_snapshot_given_twice() {
    let (env, db) = timeline_db();
    let out = env
        .cmd()
        .arg("--db")
        .arg(&db)
        .args(["diff", "3", "3"])
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref(),
            out.stdout.as_slice()
        ),
        (
            Some(2),
            "whohosts: diff 3 3: a snapshot compared with itself has no changes: give two different snapshots\n\
             whohosts: see `whohosts diff --help`\n",
            &b""[..]
        )
    );
}

#[test]
fn the_report_leads_with_the_headline_and_the_trend_of_the_weeks() {
    let (env, db) = timeline_db();
    let text = run(&env, &db, &["report"]);
    // The crawl date in trend lines (columns 15 to 25, a date, not a timestamp) varies:
    // replaced by "…".
    let today = whohosts::model::time::now()[..10].to_string();
    let norm = |l: &str| match l.strip_prefix("  snapshot ") {
        Some(_) => {
            assert_eq!(&l[15..25], today, "{l}");
            format!("{}…{}", &l[..15], &l[25..])
        }
        None => l.to_string(),
    };
    let head: Vec<String> = text.lines().take(18).map(norm).collect();
    // Week 2: OVH holds a.example (2 accounts) and mig.example (1); hub, b, new, cdn2 and
    // dead one each (8 attributed); gone.example does not resolve (1 apart).
    // HHI = 37.5² + 5 × 12.5² = 2187.5.
    // Each step: the list change and the accounts added and gone first, always; then 6
    // sentences in all, the last counting the rest by what they are about.
    assert_eq!(
        head,
        [
            "Of the 9 accounts followed (8 with a known host), 50 % are hosted by 2",
            "organisations (OVH, Hetzner); 4 organisations cover 75 %. Hosting is highly",
            "concentrated (HHI 2188). Instances: 8; the largest, a.example, holds 22 %.",
            "Weight: accounts — distinct accounts (one followed by two seeds counts once).",
            "",
            "Trend by hosting organisation over 3 snapshots of these seeds:",
            "  snapshot 1   …  top-3  62.5 %  k50   2  HHI  1875",
            "  snapshot 2   …  top-3  66.7 %  k50   2  HHI  2099",
            "      the following list of @dan@hub.example became hidden; 2 accounts added;",
            "      cdn.example went behind CDN Cloudflare (AS13335), from Contabo (AS51167);",
            "      mig.example moved from DigitalOcean (AS14061) to OVH (AS16276); b.example",
            "      appeared (1 account); also 1 instance appeared, 1 instance became",
            "      unreachable and 1 account still listed but marked moved: `whohosts diff 1",
            "      2` lists them.",
            "  snapshot 3   …  top-3  62.5 %  k50   2  HHI  2188",
            "      1 gone (1 unfollowed); cdn2.example went behind CDN Fastly (AS54113), from",
            "      Scaleway (AS12876); cdn.example left the lists; dead.example became",
            "      unreachable (connection).",
        ]
    );
    // The report of an earlier snapshot has the trend up to it, as it had then.
    let v: Value = serde_json::from_str(&run(&env, &db, &["report", "2", "--format", "json"])).unwrap();
    let steps: Vec<i64> = v["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshot"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, [1, 2]);
    assert_eq!(
        v["trend"][1]["changes"].as_array().unwrap().len(),
        6,
        "6 sentences, the last the count of the rest"
    );
    assert_eq!(
        v["trend"][1]["changes"][5],
        "also 1 instance appeared, 1 instance became unreachable and 1 account still listed but marked moved: \
         `whohosts diff 1 2` lists them"
    );
    // Week 1: OVH 3 of 9 attributed (a.example 2, mig.example 1), Scaleway 2 (cdn2, dead).
    assert_eq!(v["headline"]["k50_names"], json!(["OVH", "Scaleway"]));
    assert!((v["headline"]["k50_share"].as_f64().unwrap() - 5.0 / 9.0).abs() < 1e-12);
    assert_eq!(
        (v["headline"]["total"].as_f64(), v["headline"]["apart"].as_f64()),
        (Some(9.0), Some(1.0))
    );
}
