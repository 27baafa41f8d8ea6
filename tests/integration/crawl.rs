//! Follow lists: exact account sets for every instance kind and paging variant.

use serde_json::Value;
use whohosts_sim::world::{Api, Software};

use crate::common::*;

#[test]
fn rest_api_pages_along_the_link_header() {
    let mut accounts = crowd("crowd.example", 100);
    accounts.extend(crowd("other.example", 3));
    let follows = handles_of(&accounts);
    accounts.push(acct("alice@masto.example", &follows));
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            inst("crowd.example", Software::Mastodon, "ovh"),
            inst("other.example", Software::Mastodon, "netcup"),
        ],
        accounts,
    ));
    let (snap, code) = env.crawl(&["@alice@masto.example"]);
    assert_eq!(code, 0);
    let s = seed(&snap, "@alice@masto.example");
    let list = &s["following"];
    assert_eq!(list["source"], "mastodon-api");
    assert_eq!(list["status"]["state"], "complete");
    assert_eq!(list["pages"], 2);
    assert_eq!(list["declared"], 103);
    assert_eq!(listed(list), expected(&follows));
    // The second page came from the Link header's max_id (a follow id, not an account id).
    let pages: Vec<String> = env
        .paths("masto.example")
        .into_iter()
        .filter(|p| p.contains("/following"))
        .collect();
    assert_eq!(
        pages,
        [
            "/api/v1/accounts/100103/following?limit=80",
            "/api/v1/accounts/100103/following?limit=80&max_id=999921"
        ]
    );
    assert_eq!(snap["crawl"]["instances"]["crowd.example"]["accounts"], 100);
    assert_eq!(snap["crawl"]["instances"]["other.example"]["accounts"], 3);
}

/// A seed whose list is read through ActivityPub, following `n` accounts on `target`.
fn ap_world(seed_inst: whohosts_sim::world::Instance, n: usize) -> (whohosts_sim::world::World, Vec<String>) {
    let mut accounts = crowd("far.example", n);
    let follows = handles_of(&accounts);
    accounts.push(acct(&format!("seed@{}", seed_inst.domain), &follows));
    let w = world(
        vec![seed_inst, inst("far.example", Software::Mastodon, "hetzner")],
        accounts,
    );
    (w, follows)
}

fn crawl_ap(seed_inst: whohosts_sim::world::Instance, n: usize) -> (Value, Env, Vec<String>) {
    let domain = seed_inst.domain.clone();
    let (w, follows) = ap_world(seed_inst, n);
    let env = Env::start(w);
    let (snap, code) = env.crawl(&[&format!("seed@{domain}")]);
    assert_eq!(code, 0, "{snap}");
    (snap, env, follows)
}

#[test]
fn activitypub_variants_give_exact_sets() {
    // (instance, accounts, pages expected)
    let mastodon_ap = ap_only("m.example", "ovh");
    let mut pleroma = inst("p.example", Software::Pleroma, "ovh");
    pleroma.api = Some(Api::Closed);
    let mut pleroma_embedded = inst("pe.example", Software::Pleroma, "ovh");
    pleroma_embedded.api = Some(Api::Closed);
    pleroma_embedded.embed_items = true;
    let mut gts = inst("g.example", Software::Gotosocial, "ovh");
    gts.signed_only = Some(false);
    let cases = [
        (mastodon_ap, 25, 3),
        (pleroma, 25, 3),
        (pleroma_embedded, 25, 3),
        (inst("mk.example", Software::Misskey, "ovh"), 25, 3),
        (gts, 45, 2),
        (inst("x.example", Software::Generic, "ovh"), 45, 3),
    ];
    for (i, n, pages) in cases {
        let domain = i.domain.clone();
        let (snap, env, follows) = crawl_ap(i, n);
        let list = &seed(&snap, &format!("seed@{domain}"))["following"];
        assert_eq!(list["source"], "activitypub", "{domain}");
        assert_eq!(list["status"]["state"], "complete", "{domain}: {list}");
        assert_eq!(list["declared"], n, "{domain}");
        assert_eq!(list["pages"], pages, "{domain}");
        assert_eq!(listed(list), expected(&follows), "{domain}");
        // Embedded actors of another server are not believed (only their URI is kept), so
        // every actor is fetched from far.example, embedded or not.
        let actor_fetches = env
            .paths("far.example")
            .iter()
            .filter(|p| p.starts_with("/users/user"))
            .count();
        assert_eq!(actor_fetches, n, "{domain}: every actor fetched from its own server");
    }
}

#[test]
fn hidden_lists_are_reported_with_the_unseen_count() {
    let mut accounts = crowd("far.example", 7);
    let follows = handles_of(&accounts);
    for h in ["rest@masto.example", "ap@apm.example", "pix@pixel.example"] {
        let mut a = acct(h, &follows);
        a.hide_collections = !h.starts_with("pix");
        accounts.push(a);
    }
    let apm = ap_only("apm.example", "ovh");
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            apm,
            inst("pixel.example", Software::Pixelfed, "ovh"),
            inst("far.example", Software::Mastodon, "hetzner"),
        ],
        accounts,
    ));
    let (snap, _) = env.crawl(&["rest@masto.example", "ap@apm.example", "pix@pixel.example"]);
    // REST `[]` with a positive count is hidden; an ActivityPub collection that shows only
    // `totalItems` (Mastodon's hidden collections, Pixelfed) does not expose its items.
    for (input, state) in [
        ("rest@masto.example", "hidden"),
        ("ap@apm.example", "not-exposed"),
        ("pix@pixel.example", "not-exposed"),
    ] {
        let list = &seed(&snap, input)["following"];
        assert_eq!(
            list["status"],
            serde_json::json!({"state": state, "unseen": 7}),
            "{input}"
        );
        assert_eq!(list["accounts"].as_array().unwrap().len(), 0, "{input}");
    }
    let text = unwrapped(&String::from_utf8(env.run(&["crawl", "rest@masto.example"]).stdout).unwrap());
    assert!(
        text.contains("0 following listed via mastodon-api, 7 declared; hidden by its owner (7 not visible)"),
        "{text}"
    );
}

/// `me@masto.example` hides its 5 follows on far.example; its token is `sim-token-me`.
fn hidden_follows_world() -> (Env, Vec<String>) {
    let mut accounts = crowd("far.example", 5);
    let follows = handles_of(&accounts);
    let mut me = acct("me@masto.example", &follows);
    me.hide_collections = true;
    accounts.push(me);
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
fn own_token_lists_own_hidden_follows_and_stays_home() {
    let (env, follows) = hidden_follows_world();
    let out = env
        .cmd()
        .env("WHOHOSTS_TOKEN", "sim-token-me")
        .args(["crawl", "--format", "json", "me@masto.example"])
        .output()
        .unwrap();
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = &seed(&snap, "me@masto.example")["following"];
    assert_eq!(list["status"]["state"], "complete");
    assert_eq!(listed(list), expected(&follows));
    let stats = env.sim.sim.stats();
    let with_token: Vec<_> = stats.requests.iter().filter(|r| r.authorization).collect();
    assert!(!with_token.is_empty());
    assert!(
        with_token.iter().all(|r| r.host == "masto.example"),
        "token leaked: {with_token:?}"
    );
}

/// Regression: the token went to the next seed's server when the first input, the token
/// owner's handle, was mistyped (found by a newcomer trying the README).
#[test]
fn the_token_of_a_mistyped_first_handle_goes_to_no_one() {
    let (env, _) = hidden_follows_world();
    for first in ["notahandle", "https://nowhere.example/users/me"] {
        let out = env
            .cmd()
            .env("WHOHOSTS_TOKEN", "sim-token-me")
            .args(["crawl", "--format", "json", first, "me@masto.example"])
            .output()
            .unwrap();
        let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
        let list = &seed(&snap, "me@masto.example")["following"];
        assert_eq!(list["status"]["state"], "hidden", "{first}");
        let stats = env.sim.sim.stats();
        let with_token: Vec<_> = stats.requests.iter().filter(|r| r.authorization).collect();
        assert!(with_token.is_empty(), "{first}: token sent: {with_token:?}");
    }
}

#[test]
fn followers_are_walked_on_request() {
    let mut accounts = crowd("far.example", 9);
    let fans = handles_of(&accounts);
    for a in &mut accounts {
        a.follows = vec!["star@masto.example".into()];
    }
    accounts.push(acct("star@masto.example", &[]));
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let (snap, _) = env.crawl(&["--followers", "star@masto.example"]);
    let s = seed(&snap, "star@masto.example");
    assert_eq!(s["following"]["accounts"].as_array().unwrap().len(), 0);
    assert_eq!(listed(&s["followers"]), expected(&fans));
}

#[test]
fn delegated_redirected_and_host_meta_handles_reach_their_server() {
    let mut delegated = inst("social.example.com", Software::Mastodon, "hetzner");
    delegated.handle_domain = Some("example.com".into());
    let mut moved = inst("new.example", Software::Mastodon, "ovh");
    moved.redirect_from = Some("old.example".into());
    let mut hm = inst("hm.example", Software::Mastodon, "netcup");
    hm.host_meta_only = true;
    let accounts = vec![
        acct("ann@social.example.com", &["bob@new.example".into()]),
        acct("bob@new.example", &["cat@hm.example".into()]),
        acct("cat@hm.example", &["ann@social.example.com".into()]),
    ];
    let env = Env::start(world(vec![delegated, moved, hm], accounts));
    let (snap, code) = env.crawl(&[
        "@ann@example.com",
        "bob@old.example",
        "acct:cat@hm.example",
        "ann@social.example.com",
    ]);
    assert_eq!(code, 0, "{snap}");
    let ann = seed(&snap, "@ann@example.com");
    assert_eq!(
        (ann["handle"].as_str(), ann["server"].as_str()),
        (Some("@ann@example.com"), Some("social.example.com"))
    );
    // bob's handle domain is the redirecting domain; his server is where it redirects.
    assert_eq!(listed(&ann["following"]), expected(&["bob@old.example".into()]));
    let bob = seed(&snap, "bob@old.example");
    assert_eq!(
        (bob["handle"].as_str(), bob["server"].as_str()),
        (Some("@bob@old.example"), Some("new.example"))
    );
    assert_eq!(seed(&snap, "acct:cat@hm.example")["server"], "hm.example");
    // Local accounts of the delegated server keep the handle domain.
    let cat = seed(&snap, "acct:cat@hm.example");
    assert_eq!(listed(&cat["following"]), expected(&["ann@example.com".into()]));
    assert!(env
        .paths("old.example")
        .iter()
        .any(|p| p.starts_with("/.well-known/webfinger")));
    assert!(env
        .paths("hm.example")
        .iter()
        .any(|p| p.starts_with("/.well-known/lrdd")));
}

#[test]
fn nodeinfo_is_read_for_every_instance_met() {
    let mut accounts = vec![];
    let mut follows = vec![];
    let kinds = [
        ("a.example", Software::Mastodon),
        ("b.example", Software::Pleroma),
        ("c.example", Software::Misskey),
        ("d.example", Software::Gotosocial),
    ];
    let mut instances = vec![inst("home.example", Software::Mastodon, "hetzner")];
    for (d, sw) in kinds {
        let mut i = inst(d, sw, "ovh");
        i.users_total = Some(1234);
        instances.push(i);
        accounts.push(acct(&format!("u@{d}"), &[]));
        follows.push(format!("u@{d}"));
    }
    let mut silent = inst("e.example", Software::Mastodon, "ovh");
    silent.no_nodeinfo = true;
    instances.push(silent);
    accounts.push(acct("u@e.example", &[]));
    follows.push("u@e.example".into());
    accounts.push(acct("me@home.example", &follows));
    let env = Env::start(world(instances, accounts));
    let (snap, _) = env.crawl(&["me@home.example"]);
    let inst = &snap["crawl"]["instances"];
    for (d, name) in [
        ("a.example", "mastodon"),
        ("b.example", "pleroma"),
        ("c.example", "misskey"),
        ("d.example", "gotosocial"),
    ] {
        assert_eq!(inst[d]["nodeinfo"]["software"], name, "{d}");
        assert_eq!(inst[d]["nodeinfo"]["users_total"], 1234, "{d}");
        assert_eq!(inst[d]["nodeinfo"]["users_active_month"], 412, "{d}");
    }
    assert_eq!(inst["a.example"]["nodeinfo"]["schema"], "2.0");
    assert_eq!(inst["b.example"]["nodeinfo"]["schema"], "2.1");
    assert_eq!(inst["e.example"]["nodeinfo"], Value::Null);
    assert_eq!(inst["e.example"]["nodeinfo_error"], Value::Null);
    assert_eq!(inst["home.example"]["nodeinfo"]["users_total"], 1);
}

#[test]
fn account_fields_are_kept() {
    let mut bot = acct("bot@far.example", &[]);
    bot.bot = true;
    bot.noindex = true;
    bot.bio = "I post weather. #nobot".into();
    bot.moved_to = Some("new@far.example".into());
    let mut accounts = vec![bot, acct("new@far.example", &[])];
    accounts.push(acct("me@home.example", &["bot@far.example".into()]));
    let env = Env::start(world(
        vec![
            inst("home.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let (snap, _) = env.crawl(&["me@home.example"]);
    let a = &seed(&snap, "me@home.example")["following"]["accounts"][0];
    // The account opted out: the output keeps its flags and instance, not who it is.
    for redacted in [
        "handle",
        "actor_uri",
        "moved_to",
        "display_name",
        "followers_count",
        "following_count",
        "last_status_at",
    ] {
        assert_eq!(a[redacted], Value::Null, "{redacted}");
    }
    assert_eq!(a["server"], "far.example");
    assert_eq!(a["bot"], true);
    assert_eq!(a["noindex"], true);
    assert_eq!(a["indexable"], false);
    assert_eq!(a["nobot_tag"], true);
}

#[test]
fn lists_closed_to_the_public_fall_back_to_activitypub() {
    let mut home = inst("home.example", Software::Mastodon, "hetzner");
    home.api = Some(Api::LookupOnly);
    let mut accounts = crowd("far.example", 5);
    let follows = handles_of(&accounts);
    accounts.push(acct("me@home.example", &follows));
    let env = Env::start(world(
        vec![home, inst("far.example", Software::Mastodon, "ovh")],
        accounts,
    ));
    let (snap, code) = env.crawl(&["me@home.example"]);
    assert_eq!(code, 0, "{snap}");
    let list = &seed(&snap, "me@home.example")["following"];
    assert_eq!(list["source"], "activitypub");
    assert_eq!(listed(list), expected(&follows));
}

#[test]
fn a_rejected_token_fails_the_seed_clearly() {
    let accounts = vec![acct("me@masto.example", &[])];
    let env = Env::start(world(
        vec![inst("masto.example", Software::Mastodon, "hetzner")],
        accounts,
    ));
    let out = env
        .cmd()
        .env("WHOHOSTS_TOKEN", "wrong")
        .args(["crawl", "--format", "json", "me@masto.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    let port = env.sim.http_port;
    assert_eq!(
        seed(&snap, "me@masto.example")["error"]["message"],
        format!("refused http://masto.example:{port}/: the access token was rejected (check WHOHOSTS_TOKEN / --token)")
    );
}

#[test]
fn hidden_opt_outs_refuse_the_seed() {
    let mut accounts = crowd("far.example", 2);
    let follows = handles_of(&accounts);
    let hidden = [
        ("num@masto.example", Some("<p>Artist. &num;nobot</p>"), false),
        ("bare@masto.example", Some("<p>&#35nobot please</p>"), false),
        ("wide@apm.example", Some("<p>\u{ff03}NoBot</p>"), false),
        ("strflags@masto.example", None, true),
        ("strflags@apm.example", None, true),
    ];
    for (handle, bio, as_strings) in hidden {
        let mut a = acct(handle, &follows);
        a.bio_html = bio.map(str::to_string);
        a.noindex = as_strings;
        a.flags_as_strings = as_strings;
        accounts.push(a);
    }
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            ap_only("apm.example", "ovh"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let seeds: Vec<&str> = hidden.iter().map(|(h, _, _)| *h).collect();
    let (snap, _) = env.crawl(&seeds);
    for input in seeds {
        let list = &seed(&snap, input)["following"];
        assert_eq!(list["status"]["state"], "refused", "{input}");
        assert_eq!(list["status"]["reason"], whohosts::crawl::OPTED_OUT, "{input}");
    }
    assert!(env.paths("masto.example").iter().all(|p| !p.contains("/following")));
    assert!(env.paths("apm.example").iter().all(|p| !p.contains("/following")));
}

#[test]
fn seeds_that_opt_out_are_not_crawled_without_their_token() {
    let mut accounts = crowd("far.example", 3);
    let follows = handles_of(&accounts);
    let mut quiet = acct("quiet@masto.example", &follows);
    quiet.noindex = true;
    let mut nobot = acct("nobot@apm.example", &follows);
    nobot.bio = "Please no crawling. #NoBot".into();
    accounts.push(quiet);
    accounts.push(nobot);
    let apm = ap_only("apm.example", "ovh");
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            apm,
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let (snap, _) = env.crawl(&["quiet@masto.example", "nobot@apm.example"]);
    for input in ["quiet@masto.example", "nobot@apm.example"] {
        let list = &seed(&snap, input)["following"];
        assert_eq!(list["status"]["state"], "refused", "{input}");
        assert_eq!(list["status"]["reason"], whohosts::crawl::OPTED_OUT, "{input}");
    }
    assert!(env.paths("masto.example").iter().all(|p| !p.contains("/following")));
    assert!(env.paths("apm.example").iter().all(|p| !p.contains("/following")));
    // The owner, proving it with their token, can crawl their own account.
    let out = env
        .cmd()
        .env("WHOHOSTS_TOKEN", "sim-token-quiet")
        .args(["crawl", "--format", "json", "quiet@masto.example"])
        .output()
        .unwrap();
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed(&seed(&snap, "quiet@masto.example")["following"]),
        expected(&follows)
    );
}

/// An IPv6-only instance (AAAA ::1, no A) and a dual-stack one (A and AAAA ::1).
fn ipv6_world() -> (Env, Vec<String>, Vec<String>) {
    let mut v6 = inst("v6only.example", Software::Mastodon, "hetzner");
    v6.ipv4 = Some(false);
    v6.ipv6_loopback = true;
    let mut dual = ap_only("dual.example", "ovh");
    dual.ipv6_loopback = true;
    let on_v6 = handles_of(&crowd("v6only.example", 5));
    let on_dual = handles_of(&crowd("dual.example", 4));
    let mut accounts = crowd("v6only.example", 5);
    accounts.extend(crowd("dual.example", 4));
    accounts.push(acct("seed@v6only.example", &on_dual));
    accounts.push(acct("seed@dual.example", &on_v6));
    (Env::start(world(vec![v6, dual], accounts)), on_v6, on_dual)
}

#[test]
fn crawls_connect_over_ipv6() {
    let (env, on_v6, on_dual) = ipv6_world();
    let (snap, code) = env.crawl(&["seed@v6only.example", "seed@dual.example"]);
    assert_eq!(code, 0, "{snap}");
    let rest = &seed(&snap, "seed@v6only.example")["following"];
    assert_eq!(rest["source"], "mastodon-api");
    assert_eq!(listed(rest), expected(&on_dual));
    let ap = &seed(&snap, "seed@dual.example")["following"];
    assert_eq!(ap["source"], "activitypub");
    assert_fetched_in_full(ap, &on_v6);
    let v6 = &snap["hosts"]["v6only.example"];
    assert_eq!(v6["connected"], "::1", "an IPv6-only host is reached over IPv6");
    assert_eq!(v6["addresses"].as_array().unwrap().len(), 1);
    let dual = &snap["hosts"]["dual.example"];
    assert_eq!(ips(dual), ["127.4.0.2", "::1"]);
    assert_eq!(
        dual["connected"], "127.4.0.2",
        "A before AAAA, as the resolver orders them"
    );
    assert!(
        env.log("v6only.example").len() >= 8,
        "the actor fetches all arrived over [::1]"
    );
}

#[test]
fn ipv6_loopback_is_allowed_only_through_config() {
    let (mut env, _, _) = ipv6_world();
    env.config.network.allow_private_addresses =
        whohosts::config::PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()]);
    env.write_config();
    let (snap, code) = env.crawl(&["seed@v6only.example"]);
    assert_eq!(code, 1);
    assert_eq!(
        seed(&snap, "seed@v6only.example")["error"]["message"],
        "refused v6only.example: ::1 is loopback (network.allow_private_addresses does not allow it)"
    );
    assert!(env.log("v6only.example").is_empty());
}

/// A NodeInfo user count no instance can have (2^64 − 1, above `instances.max_users`) is not
/// believed: the instance keeps no user counts and is counted apart under the `users` weight,
/// instead of outweighing every other (and overflowing what the database stores).
#[test]
fn implausible_nodeinfo_user_counts_are_not_believed() {
    let mut instances = vec![inst("home.example", Software::Mastodon, "hetzner")];
    let mut liar = inst("liar.example", Software::Mastodon, "ovh");
    liar.users_total = Some(u64::MAX);
    instances.push(liar);
    let mut fair = inst("fair.example", Software::Mastodon, "netcup");
    fair.users_total = Some(1234);
    instances.push(fair);
    let accounts = vec![
        acct("u@liar.example", &[]),
        acct("u@fair.example", &[]),
        acct("me@home.example", &["u@liar.example".into(), "u@fair.example".into()]),
    ];
    let env = Env::start(world(instances, accounts));
    let (snap, code) = env.crawl(&["me@home.example"]);
    assert_eq!(code, 0);
    let inst = &snap["crawl"]["instances"];
    assert_eq!(inst["liar.example"]["nodeinfo"]["software"], "mastodon");
    assert_eq!(inst["liar.example"]["nodeinfo"]["users_total"], Value::Null);
    assert_eq!(inst["fair.example"]["nodeinfo"]["users_total"], 1234);
    let out = env.run(&["report", "--weight", "users", "--format", "json"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = r.to_string();
    assert!(!text.contains("18446744073709551615"), "{text}");
    assert!(!text.contains("18446744073709551616"), "{text}");
}

/// The actors of a list's accounts are fetched as its pages arrive, not after its last page:
/// with the seed's host allowing one paged request every half second, the actors the first
/// page names (on another host) are all fetched before the third page is asked for.
#[test]
fn actors_are_fetched_while_the_list_is_still_paged() {
    let (w, follows) = ap_world(inst("mk.example", Software::Misskey, "ovh"), 25);
    let mut env = Env::start(w);
    env.config.hosts.insert(
        "mk.example".into(),
        whohosts::config::HostOverride {
            paged_requests: Some(2),
            paged_period_secs: Some(1.0),
            burst: Some(1),
            ..Default::default()
        },
    );
    env.write_config();
    let (snap, code) = env.crawl(&["seed@mk.example"]);
    assert_eq!(code, 0, "{snap}");
    let list = &seed(&snap, "seed@mk.example")["following"];
    assert_eq!((list["pages"].as_u64(), listed(list)), (Some(3), expected(&follows)));
    let pages: Vec<_> = env
        .log("mk.example")
        .into_iter()
        .filter(|r| r.path.contains("/following?"))
        .collect();
    assert_eq!(
        pages.len(),
        3,
        "{:?}",
        pages.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let last_page = pages[2].at;
    let actors = env.log("far.example");
    let actors: Vec<_> = actors.iter().filter(|r| r.path.starts_with("/users/user")).collect();
    assert_eq!(actors.len(), 25);
    let early = actors.iter().filter(|r| r.at < last_page).count();
    assert!(
        early >= 10,
        "{early} of 25 actors fetched before the last page was asked for"
    );
}

/// Every instance has its NodeInfo read as soon as the crawl meets it, not once every list
/// is done: with the seed's host allowing one paged request every half second, the NodeInfo
/// of the instance the first page names is read before the last page is asked for, and
/// exactly once.
#[test]
fn nodeinfo_is_read_while_the_list_is_still_paged() {
    let (w, _) = ap_world(inst("mk.example", Software::Misskey, "ovh"), 25);
    let mut env = Env::start(w);
    env.config.hosts.insert(
        "mk.example".into(),
        whohosts::config::HostOverride {
            paged_requests: Some(2),
            paged_period_secs: Some(1.0),
            burst: Some(1),
            ..Default::default()
        },
    );
    env.write_config();
    let (snap, code) = env.crawl(&["seed@mk.example"]);
    assert_eq!(code, 0, "{snap}");
    assert_eq!(
        snap["crawl"]["instances"]["far.example"]["nodeinfo"]["software"],
        "mastodon"
    );
    let pages: Vec<_> = env
        .log("mk.example")
        .into_iter()
        .filter(|r| r.path.contains("/following?"))
        .collect();
    assert_eq!(pages.len(), 3);
    let far = env.log("far.example");
    let discovery: Vec<_> = far.iter().filter(|r| r.path == "/.well-known/nodeinfo").collect();
    assert_eq!(
        discovery.len(),
        1,
        "{:?}",
        far.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert!(
        discovery[0].at < pages[2].at,
        "far.example's NodeInfo was read only after the last page was asked for"
    );
}
