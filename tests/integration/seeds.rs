//! The seed flow: one seed written several ways is crawled once; an actor listed by several
//! seeds or directions is fetched once.

use whohosts_sim::world::Software;

use crate::common::*;

const SPELLINGS: [&str; 4] = [
    "@demo@masto.example",
    "demo@masto.example",
    "acct:demo@masto.example",
    "https://masto.example/@demo",
];

fn demo_world() -> (Env, Vec<String>) {
    let mut accounts = crowd("far.example", 7);
    let follows = handles_of(&accounts);
    accounts.push(acct("demo@masto.example", &follows));
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    (env, follows)
}

#[test]
fn one_seed_written_four_ways_is_crawled_and_counted_once() {
    let (env, follows) = demo_world();
    let (snap, code) = env.crawl(&SPELLINGS);
    assert_eq!(code, 0, "{snap}");
    let list_requests = env
        .paths("masto.example")
        .iter()
        .filter(|p| p.contains("/following"))
        .count();
    assert_eq!(list_requests, 1, "the list is fetched once");
    let first = seed(&snap, SPELLINGS[0]);
    assert_eq!(listed(&first["following"]), expected(&follows));
    assert!(first["duplicate_of"].is_null());
    for dup in &SPELLINGS[1..] {
        let s = seed(&snap, dup);
        assert_eq!(s["duplicate_of"], SPELLINGS[0], "{dup}");
        assert!(s["following"].is_null(), "{dup} is not listed again");
        assert_eq!(s["actor_uri"], first["actor_uri"], "{dup}");
    }
    assert_eq!(snap["crawl"]["instances"]["far.example"]["accounts"], 7, "counted once");
    let text = env.run(&["crawl", SPELLINGS[0], SPELLINGS[2], SPELLINGS[3]]);
    let stdout = unwrapped(&String::from_utf8_lossy(&text.stdout));
    assert!(
        stdout.contains(
            "acct:demo@masto.example: duplicate of @demo@masto.example (the same account, @demo@masto.example), crawled once"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("https://masto.example/@demo: duplicate of @demo@masto.example"),
        "{stdout}"
    );
    assert!(
        unwrapped(&stdout).contains("Population: 7 distinct accounts (7 list entries, 7 follow edges) on 1 instance, from 3 seeds (0 failed, 2 duplicate)."),
        "{stdout}"
    );
    // The seed a duplicate repeats is named as the user typed it, not as the handle made of
    // it (issue #15); the export's `duplicate_of` finds it so.
    let text = env.run(&["crawl", SPELLINGS[1], SPELLINGS[2]]);
    let stdout = unwrapped(&String::from_utf8_lossy(&text.stdout));
    assert!(
        stdout.contains(
            "acct:demo@masto.example: duplicate of demo@masto.example (the same account, @demo@masto.example), crawled once"
        ),
        "{stdout}"
    );
    let (snap, _) = env.crawl(&[SPELLINGS[1], SPELLINGS[2]]);
    assert_eq!(seed(&snap, SPELLINGS[2])["duplicate_of"], SPELLINGS[1]);
}

#[test]
fn an_actor_listed_by_two_seeds_and_both_directions_is_fetched_once() {
    let n = 15;
    let mut accounts = crowd("far.example", n);
    let follows = handles_of(&accounts);
    // Every crowd account follows s1 back, so s1's followers repeat its follows.
    for a in &mut accounts {
        a.follows = vec!["s1@a.example".into()];
    }
    accounts.push(acct("s1@a.example", &follows));
    // s2 follows the crowd and s1: each seed's actor is read for its own lists and is also
    // listed by the other (s1 in s2's follows, s2 among s1's followers).
    let mut s2_follows = follows.clone();
    s2_follows.push("s1@a.example".into());
    let mut s1_fans = follows.clone();
    s1_fans.push("s2@b.example".into());
    accounts.push(acct("s2@b.example", &s2_follows));
    let env = Env::start(world(
        vec![
            ap_only("a.example", "hetzner"),
            ap_only("b.example", "ovh"),
            inst("far.example", Software::Mastodon, "netcup"),
        ],
        accounts,
    ));
    let (snap, code) = env.crawl(&["--followers", "s1@a.example", "s2@b.example"]);
    assert_eq!(code, 0, "{snap}");
    let lists = [
        ("s1@a.example", "following", &follows),
        ("s1@a.example", "followers", &s1_fans),
        ("s2@b.example", "following", &s2_follows),
    ];
    for (input, list, want) in lists {
        let l = &seed(&snap, input)[list];
        assert_eq!(l["source"], "activitypub", "{input} {list}");
        assert_eq!(listed(l), expected(want), "{input} {list}: every actor filled in");
    }
    for (host, path) in [("a.example", "/users/s1"), ("b.example", "/users/s2")] {
        let fetches = env.paths(host).iter().filter(|p| *p == path).count();
        assert_eq!(
            fetches, 1,
            "{host}{path}: read once for its own lists, reused in the other's"
        );
    }
    let mut actor_fetches: Vec<String> = env
        .paths("far.example")
        .into_iter()
        .filter(|p| p.starts_with("/users/user") && !p.contains("/follow"))
        .collect();
    actor_fetches.sort();
    let mut distinct = actor_fetches.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), n);
    assert_eq!(actor_fetches, distinct, "each actor URI is requested exactly once");
}
