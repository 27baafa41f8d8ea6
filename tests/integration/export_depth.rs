//! `export` of a deeper crawl (`--depth 2`): the lists of the accounts it expanded are rows
//! as a seed's are (with their depth), and the instances they reach are sized by them.

use std::collections::BTreeMap;

use whohosts_sim::world::{AccountSpec, Software};

use crate::common::*;
use crate::export::{column, csv_rows};

fn follows(handle: &str, to: &[&str]) -> AccountSpec {
    acct(handle, &to.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn a_deeper_crawl_exports_every_list_it_read_with_its_depth() {
    // seed → x, y, shy (opted out); x → z, w, y; y → z, v; shy → q (never read).
    let mut shy = follows("shy@b.example", &["q@c.example"]);
    shy.noindex = true;
    let mut env = Env::start(world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
            inst("c.example", Software::Mastodon, "netcup"),
        ],
        vec![
            follows("seed@a.example", &["x@a.example", "y@b.example", "shy@b.example"]),
            follows("x@a.example", &["z@c.example", "w@c.example", "y@b.example"]),
            follows("y@b.example", &["z@c.example", "v@a.example"]),
            shy,
            follows("z@c.example", &[]),
            follows("w@c.example", &[]),
            follows("v@a.example", &[]),
            follows("q@c.example", &[]),
        ],
    ));
    env.config.export.min_group_members = 1;
    env.config.export.min_instance_users = 0;
    env.write_config();
    let (snap, code) = env.crawl(&["--depth", "2", "seed@a.example"]);
    assert_eq!(code, 0);
    assert_eq!(snap["population"]["accounts"], 6);
    let out = env.dir.path().join("x");
    let o = env.run(&["export", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let seeds = csv_rows(&out.join("seeds.csv"));
    assert_eq!(column(&seeds, "depth"), ["0", "1", "1"]);
    assert_eq!(column(&seeds, "outcome"), ["crawled"; 3]);
    let snapshots = csv_rows(&out.join("snapshots.csv"));
    assert_eq!(column(&snapshots, "seeds_omitted"), ["0"]);
    // One list each (the following list), every entry but the opted-out one a row.
    let lists = csv_rows(&out.join("lists.csv"));
    assert_eq!(column(&lists, "rows"), ["2", "3", "2"]);
    assert_eq!(column(&lists, "opted_out"), ["1", "0", "0"]);
    let follows = csv_rows(&out.join("follows.csv"));
    assert_eq!(follows.len(), 7);
    let accounts = csv_rows(&out.join("accounts.csv"));
    assert_eq!(accounts.len(), 5, "x, y, z, w, v (shy only counted)");
    // The instances are sized by every account reached: c.example holds z and w.
    let instances = csv_rows(&out.join("instances.csv"));
    let listed: BTreeMap<String, String> = instances
        .iter()
        .map(|r| (r["instance"].clone(), r["accounts"].clone()))
        .collect();
    assert_eq!(
        listed,
        BTreeMap::from([
            ("a.example".into(), "2".into()),
            ("b.example".into(), "2".into()),
            ("c.example".into(), "2".into()),
        ])
    );
}
