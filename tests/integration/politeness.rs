//! Politeness: rate limits, 429 storms, robots.txt, User-Agent, authorized fetch.

use whohosts_sim::world::{Fault, RateLimitSpec, Software};

use crate::common::*;

/// A seed on an ActivityPub-only server following `n` accounts on `far`, so every account
/// costs one actor fetch on `far`.
fn actor_heavy(far: whohosts_sim::world::Instance, n: usize) -> (Env, Vec<String>) {
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

/// A seed following `n` accounts on `far` (robots.txt answering `status`): the RFC 9309 rule.
fn robots_status_world(status: u16, n: usize) -> (Env, Vec<String>) {
    let mut far = inst("far.example", Software::Mastodon, "ovh");
    far.robots_status = Some(status);
    actor_heavy(far, n)
}

#[test]
fn robots_txt_answering_5xx_means_the_host_is_not_crawled() {
    let (env, follows) = robots_status_world(500, 3);
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_eq!(list["status"]["state"], "complete");
    let port = env.sim.http_port;
    for (a, h) in list["accounts"].as_array().unwrap().iter().zip(&follows) {
        let user = h.split('@').next().unwrap();
        assert_eq!(
            a["fetch_error"],
            format!("refused http://far.example:{port}/users/{user}: robots.txt unavailable (HTTP 500), so the host is not crawled (RFC 9309)"),
        );
        assert_eq!(a["server"], "far.example", "still counted on its instance");
    }
    assert_eq!(listed(list).len(), follows.len());
    assert_eq!(
        env.paths("far.example"),
        ["/robots.txt"],
        "nothing but robots.txt, once"
    );
    // The seed's own server answering 503: retried like any 503, then treated as RFC 9309
    // says (unavailable: do not crawl), and nothing but robots.txt was asked.
    let mut home = inst("home.example", Software::Mastodon, "hetzner");
    home.robots_status = Some(503);
    let env = Env::start(world(vec![home], vec![acct("me@home.example", &[])]));
    let (snap, code) = env.crawl(&["me@home.example"]);
    assert_eq!(code, 1);
    let e = &seed(&snap, "me@home.example")["error"];
    assert_eq!(
        e["message"],
        format!(
            "refused http://home.example:{}/.well-known/webfinger?resource=acct%3Ame%40home.example: robots.txt unavailable (HTTP 503 after 5 attempts), so the host is not crawled (RFC 9309)",
            env.sim.http_port
        )
    );
    assert_eq!(env.paths("home.example"), ["/robots.txt"; 5]);
}

#[test]
fn robots_txt_answering_4xx_means_no_rules() {
    for status in [403, 404, 410] {
        let (env, follows) = robots_status_world(status, 3);
        let (snap, code) = env.crawl(&["seed@home.example"]);
        assert_eq!(code, 0);
        let list = &seed(&snap, "seed@home.example")["following"];
        assert_fetched_in_full(list, &follows);
        let actors = env
            .paths("far.example")
            .iter()
            .filter(|p| p.starts_with("/users/"))
            .count();
        assert_eq!(actors, 3, "HTTP {status}: every actor fetched");
    }
}

/// A robots.txt as sites write them: a group for everyone, one for another bot, and one
/// for whohosts with `Allow` overriding `Disallow`, wildcards, `$` and `Crawl-delay`.
const REAL_ROBOTS: &str = "# See https://www.robotstxt.org/robotstxt.html
User-agent: *
Disallow: /

User-agent: GPTBot
Disallow: /

User-agent: whohosts
User-agent: SomeOtherCrawler
Disallow: /api/
Disallow: /users/
Allow: /users/pub
Disallow: /users/pub*secret$
Allow: /.well-known/
Allow: /nodeinfo/
Crawl-delay: 1
";

#[test]
fn robots_txt_rules_for_whohosts_are_obeyed() {
    let mut home = inst("home.example", Software::Mastodon, "hetzner");
    home.robots_txt = Some(REAL_ROBOTS.into());
    let mut far = inst("far.example", Software::Mastodon, "ovh");
    far.robots_txt = Some(REAL_ROBOTS.into());
    let users = ["pub-ann", "pubsecret", "pubsecret2", "alice"];
    let mut accounts: Vec<_> = users.iter().map(|u| acct(&format!("{u}@far.example"), &[])).collect();
    let follows = handles_of(&accounts);
    accounts.push(acct("pubseed@home.example", &follows));
    let env = Env::start(world(vec![home, far], accounts));
    let (snap, code) = env.crawl(&["pubseed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "pubseed@home.example")["following"];
    assert_eq!(list["source"], "activitypub", "the REST API is barred for whohosts");
    let port = env.sim.http_port;
    let want: std::collections::BTreeSet<String> = [
        "@pub-ann@far.example".to_string(),
        "@pubsecret2@far.example".to_string(),
        format!("http://far.example:{port}/users/pubsecret"),
        format!("http://far.example:{port}/users/alice"),
    ]
    .into();
    assert_eq!(listed(list), want, "barred actors are listed by URI, unfetched");
    let home_paths = env.paths("home.example");
    assert!(home_paths.iter().all(|p| !p.starts_with("/api/")), "{home_paths:?}");
    let far_paths = env.paths("far.example");
    let mut fetched: Vec<&str> = far_paths.iter().filter_map(|p| p.strip_prefix("/users/")).collect();
    fetched.sort_unstable();
    assert_eq!(
        fetched,
        ["pub-ann", "pubsecret2"],
        "Allow beats Disallow; `$` anchors: {far_paths:?}"
    );
    for a in list["accounts"].as_array().unwrap() {
        let uri = a["actor_uri"].as_str().unwrap();
        let user = uri.rsplit('/').next().unwrap();
        let want = match user {
            "pub-ann" | "pubsecret2" => serde_json::Value::Null,
            _ => format!("robots.txt of far.example disallows /users/{user}").into(),
        };
        assert_eq!(a["fetch_error"], want, "{uri}");
    }
    assert!(
        far_paths.iter().any(|p| p.starts_with("/nodeinfo/")),
        "NodeInfo allowed: {far_paths:?}"
    );
}

/// `far` (given `Crawl-delay: 1`) crawled through `actor_heavy`'s seed, every account listed,
/// with `idle_connection_secs` if given: the requests far.example received, in order.
fn crawled_under_crawl_delay(
    mut far: whohosts_sim::world::Instance,
    idle_connection_secs: Option<f64>,
) -> Vec<whohosts_sim::server::Logged> {
    far.robots_txt = Some("User-agent: *\nCrawl-delay: 1\n".into());
    let (mut env, follows) = actor_heavy(far, 3);
    if let Some(secs) = idle_connection_secs {
        env.config.network.idle_connection_secs = secs;
        env.write_config();
    }
    let (snap, _) = env.crawl(&["seed@home.example"]);
    assert_eq!(
        listed(&seed(&snap, "seed@home.example")["following"]),
        expected(&follows)
    );
    env.log("far.example")
}

/// Each request of `log` arrived at least `ms` milliseconds after the one before.
fn assert_spaced(log: &[whohosts_sim::server::Logged], ms: u64) {
    for pair in log.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at).unwrap_or_default();
        assert!(
            gap >= std::time::Duration::from_millis(ms),
            "{} came {gap:?} after {}",
            pair[1].path,
            pair[0].path
        );
    }
}

#[test]
fn robots_crawl_delay_spaces_requests() {
    let log = crawled_under_crawl_delay(inst("far.example", Software::Mastodon, "ovh"), None);
    // 1 s apart when sent; arrival may differ by a few ms under load.
    assert_spaced(&log, 950);
}

/// `Crawl-delay` is the least time between two requests' arrivals at the host: the next is
/// let through that long after the previous response ended, not after the previous request
/// was let through, so a server slow to accept (every second connection read 600 ms late, no
/// connection kept alive) still sees its requests at least 1 s apart.
#[test]
fn crawl_delay_holds_between_arrivals_at_a_server_slow_to_accept() {
    let mut far = inst("far.example", Software::Mastodon, "ovh");
    far.fault = Fault::SlowAccept(600);
    let log = crawled_under_crawl_delay(far, Some(0.0));
    // robots.txt, three actors, NodeInfo discovery and document.
    assert_eq!(log.len(), 6, "{log:?}");
    assert_spaced(&log, 1000);
}

/// far.example announcing a pause of `secs` in `style` on every `every`-th request.
fn far_announcing(style: whohosts_sim::world::AnnounceStyle, every: u32, secs: u32) -> whohosts_sim::world::Instance {
    let mut far = inst("far.example", Software::Mastodon, "ovh");
    far.announce = Some(whohosts_sim::world::Announce { style, every, secs });
    far
}

/// A far host announcing a 1 s pause on every third request, crawled one request at a time.
fn announcing(style: whohosts_sim::world::AnnounceStyle) -> (Env, Vec<String>) {
    let (env, follows) = actor_heavy(far_announcing(style, 3, 1), 8);
    one_at_a_time(&env, "far.example");
    (env, follows)
}

/// The crawl waits out every announced pause and still lists everyone.
fn pauses_are_waited_out(style: whohosts_sim::world::AnnounceStyle, refused: bool) {
    let (env, follows) = announcing(style);
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_fetched_in_full(list, &follows);
    let announced = env
        .log("far.example")
        .iter()
        .filter(|r| r.announced_until.is_some())
        .count();
    assert!(announced >= 3, "{announced} pauses announced");
    assert!(env.pauses_waited_out("far.example") >= 3);
    let too_many = env.log("far.example").iter().filter(|r| r.status == 429).count();
    assert_eq!(too_many, if refused { announced } else { 0 });
    assert_eq!(snap["crawl"]["retries"].as_u64().unwrap() as usize, too_many);
}

#[test]
fn retry_after_in_seconds_is_waited_out() {
    pauses_are_waited_out(whohosts_sim::world::AnnounceStyle::RetryAfterSeconds, true);
}

#[test]
fn retry_after_as_an_http_date_is_waited_out() {
    pauses_are_waited_out(whohosts_sim::world::AnnounceStyle::RetryAfterDate, true);
}

#[test]
fn ratelimit_headers_on_a_429_are_waited_out() {
    pauses_are_waited_out(whohosts_sim::world::AnnounceStyle::RatelimitOn429, true);
}

#[test]
fn ratelimit_remaining_zero_on_a_200_is_waited_out() {
    pauses_are_waited_out(whohosts_sim::world::AnnounceStyle::RatelimitExhausted, false);
}

#[test]
fn retry_after_on_a_success_is_not_waited() {
    let far = far_announcing(whohosts_sim::world::AnnounceStyle::RetryAfterOn200, 1, 30);
    let (env, follows) = actor_heavy(far, 3);
    let started = std::time::Instant::now();
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    assert_fetched_in_full(&seed(&snap, "seed@home.example")["following"], &follows);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "a Retry-After on a 200 was waited: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_host_that_keeps_pausing_the_crawl_is_given_up_past_its_budget() {
    let far = far_announcing(whohosts_sim::world::AnnounceStyle::RatelimitExhausted, 1, 1);
    let (mut env, follows) = actor_heavy(far, 8);
    env.config.network.max_host_wait_secs = 2.0;
    one_at_a_time(&env, "far.example");
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_eq!(list["status"]["state"], "complete");
    assert_eq!(list["accounts"].as_array().unwrap().len(), follows.len());
    let port = env.sim.http_port;
    let errors: Vec<&str> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["fetch_error"].as_str())
        .collect();
    assert!(errors.len() >= 4, "{errors:?}");
    for e in &errors {
        let (url, why) = e.split_once(": ").unwrap();
        assert!(url.starts_with(&format!("http://far.example:{port}/users/")), "{e}");
        assert_eq!(
            why,
            "host given up: far.example has made the crawl wait more than network.max_host_wait_secs (2 s) in all (pauses, back-offs, timeouts); request not sent"
        );
    }
    // NodeInfo is read as soon as the host is met, before its pauses add up: not counted.
    let far_requests = env
        .log("far.example")
        .iter()
        .filter(|r| !r.path.contains("nodeinfo"))
        .count();
    assert_eq!(
        far_requests + errors.len(),
        1 + 8,
        "robots.txt plus one request per account"
    );
}
