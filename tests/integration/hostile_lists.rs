//! Hostile and broken list servers: walks that would never end, items that are not accounts,
//! lists that show a count but no items. Every walk ends, with its reason; every page keeps
//! its good items.

use serde_json::Value;
use whohosts_sim::world::{Fault, Instance, Software};

use crate::common::*;

fn rest(domain: &str, fault: Fault) -> Instance {
    let mut i = inst(domain, Software::Mastodon, "hetzner");
    i.fault = fault;
    i
}

fn ap(domain: &str, fault: Fault) -> Instance {
    let mut i = ap_only(domain, "ovh");
    i.fault = fault;
    i
}

/// A world where `seed@DOMAIN` follows `n` accounts on far.example, for each instance.
fn world_following(instances: Vec<Instance>, n: usize) -> (Env, Vec<String>) {
    world_following_with(instances, n, |_| {})
}

/// [`world_following`], with `edit` applied to each seed account.
fn world_following_with(
    instances: Vec<Instance>,
    n: usize,
    edit: impl Fn(&mut whohosts_sim::world::AccountSpec),
) -> (Env, Vec<String>) {
    let mut accounts = crowd("far.example", n);
    let follows = handles_of(&accounts);
    for i in &instances {
        let mut a = acct(&format!("seed@{}", i.domain), &follows);
        edit(&mut a);
        accounts.push(a);
    }
    let mut all = instances;
    all.push(inst("far.example", Software::Mastodon, "amazon"));
    (Env::start(world(all, accounts)), follows)
}

fn following<'a>(snap: &'a Value, domain: &str) -> &'a Value {
    &seed(snap, &format!("seed@{domain}"))["following"]
}

fn list_requests(env: &Env, domain: &str) -> usize {
    env.paths(domain).iter().filter(|p| p.contains("/following")).count()
}

#[test]
fn endless_and_looping_pages_end_partial_with_their_kind() {
    let cases = [
        (rest("rest-repeat.example", Fault::RepeatPages), "no_progress", 30, 2),
        (rest("rest-self.example", Fault::SelfNext), "loop", 30, 1),
        (rest("rest-empty.example", Fault::EmptyPages), "no_progress", 30, 2),
        // Mastodon's ActivityPub pages hold 12: the collection root, then pages.
        (ap("ap-repeat.example", Fault::RepeatPages), "no_progress", 12, 3),
        (ap("ap-self.example", Fault::SelfNext), "loop", 12, 2),
        (ap("ap-empty.example", Fault::EmptyPages), "no_progress", 12, 3),
        (ap("ap-loop.example", Fault::LoopNext), "loop", 24, 3),
    ];
    let instances: Vec<Instance> = cases.iter().map(|c| c.0.clone()).collect();
    let (env, follows) = world_following(instances, 30);
    let inputs: Vec<String> = cases.iter().map(|c| format!("seed@{}", c.0.domain)).collect();
    let args: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let (snap, code) = env.crawl(&args);
    assert_eq!(code, 0);
    for (i, kind, n, requests) in &cases {
        let list = following(&snap, &i.domain);
        assert_eq!(list["status"]["state"], "partial", "{}: {list}", i.domain);
        assert_eq!(list["status"]["kind"], *kind, "{}", i.domain);
        assert_eq!(listed(list), expected(&follows[..*n]), "{}", i.domain);
        assert_eq!(list_requests(&env, &i.domain), *requests, "{}", i.domain);
    }
    let reason = following(&snap, "ap-repeat.example")["status"]["reason"]
        .as_str()
        .unwrap();
    let port = env.sim.http_port;
    assert_eq!(
        reason,
        format!("page http://ap-repeat.example:{port}/users/seed/following?page=2 added no new account but links to http://ap-repeat.example:{port}/users/seed/following?page=3")
    );
    let text = unwrapped(&String::from_utf8(env.run(&["crawl", "seed@rest-self.example"]).stdout).unwrap());
    assert!(
        text.contains(&format!(
            "30 declared; partial: paging loop: http://rest-self.example:{port}/api/v1/accounts/"
        )),
        "{text}"
    );
    assert!(text.contains(" Partial: 1 list."), "{text}");
}

#[test]
fn the_page_cap_ends_a_long_walk() {
    let (mut env, follows) = world_following(
        vec![ap("long.example", Fault::None), rest("longrest.example", Fault::None)],
        100,
    );
    env.config.crawl.max_pages = 2;
    env.write_config();
    let (snap, _) = env.crawl(&["seed@long.example", "seed@longrest.example"]);
    let list = following(&snap, "long.example");
    assert_eq!(list["status"]["kind"], "page_cap", "{list}");
    assert_eq!(list["pages"], 2);
    assert_eq!(listed(list), expected(&follows[..24]));
    let port = env.sim.http_port;
    assert_eq!(
        list["status"]["reason"],
        format!("stopped at crawl.max_pages = 2 (next: http://long.example:{port}/users/seed/following?page=3)")
    );
    // 100 accounts fit two REST pages of 80: the cap is not reached.
    let rest = following(&snap, "longrest.example");
    assert_eq!(rest["status"]["state"], "complete", "{rest}");
    assert_eq!(listed(rest), expected(&follows));
}

#[test]
fn items_that_are_not_accounts_are_skipped_counted_and_their_pages_kept() {
    let (env, follows) = world_following(
        vec![
            rest("rest-hostile.example", Fault::HostileItems),
            ap("ap-hostile.example", Fault::HostileItems),
        ],
        15,
    );
    let (snap, code) = env.crawl(&["seed@rest-hostile.example", "seed@ap-hostile.example"]);
    assert_eq!(code, 0, "no seed fails because of a bad item");
    let r = following(&snap, "rest-hostile.example");
    assert_eq!(r["status"]["state"], "complete");
    assert_eq!(listed(r), expected(&follows));
    assert_eq!(
        r["skipped"],
        serde_json::json!([
            {"kind": "no_identity", "count": 2, "reason": "account \"x@bad host\" has no valid handle and no http(s) uri"},
            {"kind": "not_an_account", "count": 2, "reason": "an item that is a string"}
        ])
    );
    // Two ActivityPub pages (12 + 3), each with the same eight bad items.
    let a = following(&snap, "ap-hostile.example");
    assert_eq!(a["status"]["state"], "complete");
    assert_eq!(listed(a), expected(&follows));
    assert_eq!(
        a["skipped"],
        serde_json::json!([
            {"kind": "not_http", "count": 8, "reason": "item \"javascript:alert(1)\" is not an http(s) URL"},
            {"kind": "not_an_account", "count": 6, "reason": "an item that is null"},
            {"kind": "no_identity", "count": 2, "reason": "an object without an id"}
        ])
    );
    let paths = env.paths("evil.example");
    assert!(paths.is_empty(), "a javascript: item was fetched: {paths:?}");
    let text = String::from_utf8(
        env.run(&["crawl", "seed@rest-hostile.example", "seed@ap-hostile.example"])
            .stdout,
    )
    .unwrap();
    let text = unwrapped(&text);
    assert!(
        text.contains("15 following listed via mastodon-api, 15 declared; complete; 4 unreadable items skipped\n"),
        "{text}"
    );
    assert!(
        text.contains("15 following listed via activitypub, 15 declared; complete; 16 unreadable items skipped\n"),
        "{text}"
    );
}

#[test]
fn refusals_carry_a_machine_readable_kind() {
    let gts = inst("gts.example", Software::Gotosocial, "hetzner");
    let (env, _) = world_following_with(vec![gts, rest("masto.example", Fault::None)], 3, |a| {
        a.bio = "Artist.\nPlease, no crawlers: #nobot".into();
    });
    let (snap, _) = env.crawl(&["seed@gts.example", "seed@masto.example"]);
    assert_eq!(following(&snap, "gts.example")["status"]["kind"], "authorized_fetch");
    let nobot = seed(&snap, "seed@masto.example");
    assert_eq!(nobot["following"]["status"]["kind"], "opted_out");
    // The simulator sends this bio as Mastodon does, as HTML with a hashtag link.
    assert_eq!(nobot["account"]["nobot_tag"], true);
}

#[test]
fn fat_actors_are_cut_off_at_max_actor_bytes() {
    let mut fat = acct("fat@far.example", &[]);
    fat.actor_padding = 300 * 1024;
    let mut plump = acct("plump@far.example", &[]);
    plump.actor_padding = 200 * 1024;
    plump.display_name = Some("Plump".into());
    let follows = handles_of(&[fat.clone(), plump.clone()]);
    let env = Env::start(world(
        vec![ap_only("home.example", "hetzner"), ap_only("far.example", "ovh")],
        vec![fat, plump, acct("me@home.example", &follows)],
    ));
    let (snap, code) = env.crawl(&["me@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "me@home.example")["following"];
    assert_eq!(list["status"]["state"], "complete");
    let port = env.sim.http_port;
    let by_user = |user: &str| {
        let uri = format!("http://far.example:{port}/users/{user}");
        list["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["actor_uri"] == uri.as_str())
            .unwrap_or_else(|| panic!("{uri} not listed: {list}"))
            .clone()
    };
    let fat = by_user("fat");
    assert_eq!(
        fat["fetch_error"],
        format!("http://far.example:{port}/users/fat: response larger than 262144 bytes")
    );
    let plump = by_user("plump");
    assert_eq!(plump["fetch_error"], serde_json::Value::Null);
    assert_eq!(plump["display_name"], "Plump");
}
