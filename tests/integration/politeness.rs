//! Politeness: rate limits, 429 storms, robots.txt, User-Agent, authorized fetch.

use whohosts::sim::world::{Fault, RateLimitSpec, Software};

use crate::common::*;

/// A seed on an ActivityPub-only server following `n` accounts on `far`, so every account
/// costs one actor fetch on `far`.
fn actor_heavy(far: whohosts::sim::world::Instance, n: usize) -> (Env, Vec<String>) {
    let far_domain = far.domain.clone();
    let mut accounts = crowd(&far_domain, n);
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@home.example", &follows));
    let home = ap_only("home.example", "hetzner");
    (Env::start(world(vec![home, far], accounts)), follows)
}

/// One request at a time to `host`: a request already in flight when a 429 comes is not an
/// early retry.
fn one_at_a_time(env: &Env, host: &str) {
    let mut config = env.config.clone();
    config.hosts.insert(
        host.into(),
        whohosts::config::HostOverride {
            concurrency: Some(1),
            ..Default::default()
        },
    );
    std::fs::write(env.config_path(), toml::to_string(&config).unwrap()).unwrap();
}

#[test]
fn a_429_storm_slows_the_crawl_without_losing_accounts() {
    let mut far = inst("stormy.example", Software::Mastodon, "ovh");
    far.fault = Fault::Storm;
    let (mut env, follows) = actor_heavy(far, 30);
    // One request at a time: a request already in flight when a 429 comes is not a retry.
    let one = whohosts::config::HostOverride {
        concurrency: Some(1),
        ..Default::default()
    };
    env.config.hosts.insert("stormy.example".into(), one);
    env.write_config();
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_eq!(listed(list), expected(&follows), "every account kept its handle");
    let stats = env.sim.sim.stats();
    assert!(stats.too_many >= 10, "the storm happened: {} 429s", stats.too_many);
    assert_eq!(stats.early_retries, 0, "no request came before the announced reset");
    assert!(snap["crawl"]["retries"].as_u64().unwrap() >= stats.too_many);
}

#[test]
fn server_rate_limit_headers_are_honoured() {
    let mut far = inst("strict.example", Software::Mastodon, "ovh");
    far.rate_limit = Some(RateLimitSpec {
        limit: 5,
        window_secs: 0.4,
    });
    let (env, follows) = actor_heavy(far, 24);
    one_at_a_time(&env, "strict.example");
    let started = std::time::Instant::now();
    let (snap, _) = env.crawl(&["seed@home.example"]);
    assert_eq!(
        listed(&seed(&snap, "seed@home.example")["following"]),
        expected(&follows)
    );
    let stats = env.sim.sim.stats();
    assert_eq!(stats.early_retries, 0);
    // 27 requests at 5 per 0.4 s window need at least five window resets.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1600),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn per_host_budget_from_config_spaces_requests() {
    let far = inst("far.example", Software::Mastodon, "ovh");
    let (mut env, follows) = actor_heavy(far, 12);
    let o = whohosts::config::HostOverride {
        requests: Some(20),
        period_secs: Some(1.0),
        burst: Some(1),
        ..Default::default()
    };
    env.config.hosts.insert("far.example".into(), o);
    env.write_config();
    let started = std::time::Instant::now();
    let (snap, _) = env.crawl(&["seed@home.example"]);
    assert_eq!(
        listed(&seed(&snap, "seed@home.example")["following"]),
        expected(&follows)
    );
    // 14 requests (robots, 12 actors, nodeinfo ×2) at one per 50 ms.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn robots_txt_is_obeyed_for_every_path() {
    let mut far = inst("private.example", Software::Mastodon, "ovh");
    far.robots_disallow = vec!["/users/".into()];
    let (env, follows) = actor_heavy(far, 4);
    let (snap, _) = env.crawl(&["seed@home.example"]);
    let accounts = seed(&snap, "seed@home.example")["following"]["accounts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(accounts.len(), follows.len());
    for a in &accounts {
        let err = a["fetch_error"].as_str().unwrap();
        assert!(
            err.starts_with("robots.txt of private.example disallows /users/user"),
            "{err}"
        );
        assert_eq!(a["server"], "private.example", "still counted on its instance");
    }
    assert!(
        env.paths("private.example").iter().all(|p| !p.starts_with("/users/")),
        "{:?}",
        env.paths("private.example")
    );
    assert_eq!(
        env.paths("private.example")
            .iter()
            .filter(|p| *p == "/robots.txt")
            .count(),
        1,
        "robots.txt cached"
    );
}

#[test]
fn robots_barring_the_api_falls_back_to_activitypub() {
    let mut home = inst("home.example", Software::Mastodon, "hetzner");
    home.robots_disallow = vec!["/api/".into()];
    let mut accounts = crowd("far.example", 3);
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@home.example", &follows));
    let env = Env::start(world(
        vec![home, inst("far.example", Software::Mastodon, "ovh")],
        accounts,
    ));
    let (snap, _) = env.crawl(&["seed@home.example"]);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_eq!(list["source"], "activitypub");
    assert_eq!(listed(list), expected(&follows));
    assert!(env.paths("home.example").iter().all(|p| !p.starts_with("/api/")));
}

#[test]
fn authorized_fetch_is_recorded_as_refused() {
    let mut accounts = crowd("far.example", 3);
    let follows = handles_of(&accounts);
    accounts.push(acct("gts@gts.example", &follows));
    let env = Env::start(world(
        vec![
            inst("gts.example", Software::Gotosocial, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let (snap, code) = env.crawl(&["gts@gts.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "gts@gts.example")["following"];
    assert_eq!(list["status"]["state"], "refused");
    assert_eq!(
        list["status"]["reason"],
        "the server answers only signed requests (authorized fetch)"
    );
    let paths = env.paths("gts.example");
    assert!(
        !paths.iter().any(|p| p.contains("/following")),
        "no attempt past the 401: {paths:?}"
    );
    let text = String::from_utf8(env.run(&["crawl", "gts@gts.example"]).stdout).unwrap();
    assert!(text.contains("Refused: 1 list."), "{text}");
}

#[test]
fn user_agent_names_tool_version_and_contact() {
    let (mut env, _) = actor_heavy(inst("far.example", Software::Mastodon, "ovh"), 1);
    env.config.contact_url = "https://example.org/about-our-crawl".into();
    env.write_config();
    env.crawl(&["seed@home.example"]);
    let want = format!(
        "whohosts/{} (+https://example.org/about-our-crawl)",
        env!("CARGO_PKG_VERSION")
    );
    let stats = env.sim.sim.stats();
    assert!(!stats.requests.is_empty());
    assert!(
        stats.requests.iter().all(|r| r.user_agent == want),
        "{:?}",
        stats.requests[0].user_agent
    );
}
