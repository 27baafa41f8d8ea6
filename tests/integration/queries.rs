//! The shipped trend queries, on a database made by crawling weeks 0, 1 and 2 of
//! tests/fixtures/worlds/timeline.toml with the real pipeline (snapshots 1, 2 and 3): every
//! answer is known from the world.

use std::path::PathBuf;

use serde_json::{json, Value};
use whohosts::crawl::CrawlOptions;
use whohosts::pipeline::{self, Job};
use whohosts::query::{self, Format};
use whohosts::sim::world::World;
use whohosts::store::{Resume, Store};

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
    serde_json::from_str::<Vec<Value>>(&table.render(Format::Json)).unwrap()
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
    let line = |id: i64, hidden: i64, accounts: i64, follows: i64, instances: i64| {
        json!({"snapshot_id": id, "status": "complete", "seeds": 3, "failed_seeds": 0, "hidden_lists": hidden,
               "accounts": accounts, "follows": follows, "instances": instances,
               "organisations": null, "top_organisation": null, "top_share": null, "hhi": null})
    };
    assert_eq!(got, [line(1, 0, 8, 11, 7), line(2, 1, 10, 10, 9), line(3, 1, 9, 9, 8)]);
}
