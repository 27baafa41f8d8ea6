//! Hostile and broken servers: absurd rate-limit headers, hosts that pause, a token that must
//! stay on its origin, userinfo in URLs.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use whohosts::config::Config;
use whohosts::net::dns::{AddressGate, Dns};
use whohosts::net::http::{Bearer, Fetcher, Request, ACCEPT_JSON};
use whohosts_sim::world::{Api, Fault, Software};

use crate::common::*;

/// A Fetcher built from `config`, as the binary builds it.
fn fetcher(config: &Config) -> Fetcher {
    let config = Arc::new(config.clone());
    let gate = AddressGate::new(config.network.allow_private_addresses.clone());
    let dns = Arc::new(Dns::new(&config.dns, gate).unwrap());
    Fetcher::new(config, dns).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Hosts (and paths) that received an `Authorization` header, and hosts that received any.
fn authorized(env: &Env) -> (Vec<(String, String)>, Vec<String>) {
    let log = env.sim.sim.stats().requests;
    let with = log
        .iter()
        .filter(|r| r.authorization)
        .map(|r| (r.host.clone(), r.path.clone()))
        .collect();
    (with, log.iter().map(|r| r.host.clone()).collect())
}

#[test]
fn an_absurd_announced_wait_fails_the_request_naming_host_and_wait() {
    let mut bad = inst("hostile.example", Software::Mastodon, "ovh");
    bad.fault = Fault::HostileRateLimit;
    let env = Env::start(world(vec![bad], vec![acct("a@hostile.example", &[])]));
    let (snap, _) = env.crawl(&["a@hostile.example"]);
    let e = &seed(&snap, "a@hostile.example")["error"];
    assert_eq!(e["kind"], "rate-limited", "{e}");
    let port = env.sim.http_port;
    assert_eq!(
        e["message"],
        format!(
            "http://hostile.example:{port}/.well-known/webfinger?resource=acct%3Aa%40hostile.example: \
             hostile.example asks to wait 18446744073709551615 s, more than network.max_wait_secs (900 s); request given up"
        )
    );
    // Given up at once: no retry was sent after the absurd answer.
    assert_eq!(
        env.paths("hostile.example")
            .iter()
            .filter(|p| p.contains("webfinger"))
            .count(),
        1
    );
}

#[test]
fn paused_hosts_do_not_stall_a_healthy_host() {
    let mut instances = vec![inst("healthy.example", Software::Mastodon, "hetzner")];
    for i in 0..3 {
        let mut paused = inst(&format!("paused{i}.example"), Software::Mastodon, "ovh");
        paused.fault = Fault::RetryAfter(600);
        instances.push(paused);
    }
    let env = Env::start(world(instances, vec![acct("a@healthy.example", &[])]));
    let mut config = env.config.clone();
    config.network.global_concurrency = 1;
    let f = Arc::new(fetcher(&config));
    let rt = runtime();
    let base = |host: &str| format!("http://{host}:{}", env.sim.http_port);
    for i in 0..3 {
        let (f, url) = (f.clone(), base(&format!("paused{i}.example")) + "/api/v1/instance");
        rt.spawn(async move { f.get(&url.parse().unwrap(), Request::accept(ACCEPT_JSON)).await });
    }
    // Let every paused host have its 429 (and start waiting 600 s) before the healthy host
    // asks; a client that waits inside the global permit gets only one paused host this far.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let answered_429 = || env.sim.sim.stats().requests.iter().filter(|r| r.status == 429).count();
    while answered_429() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = (base("healthy.example") + "/api/v1/accounts/lookup?acct=a")
        .parse()
        .unwrap();
    let page = rt
        .block_on(async {
            let req = Request::accept(ACCEPT_JSON);
            tokio::time::timeout(Duration::from_secs(20), f.get(&url, req)).await
        })
        .expect("the healthy host was stalled behind paused hosts")
        .unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(answered_429(), 3, "each paused host asked once and now waits");
    rt.shutdown_background();
}

/// The seed's server sends a REST `Link: rel="next"` to another host.
#[test]
fn the_token_never_follows_a_rest_next_link_to_another_host() {
    let mut home = inst("masto.example", Software::Mastodon, "hetzner");
    home.fault = Fault::ForeignPages;
    let mirror = inst("mirror.masto.example", Software::Mastodon, "ovh");
    let mut accounts = crowd("masto.example", 100);
    let follows = handles_of(&accounts);
    accounts.push(acct("me@masto.example", &follows));
    let env = Env::start(world(vec![home, mirror], accounts));
    let out = env
        .cmd()
        .env("WHOHOSTS_TOKEN", "sim-token-me")
        .args(["crawl", "--format", "json", "me@masto.example"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    assert_token_never_left_home(&env, "masto.example", "mirror.masto.example");
    // The list is not read on another origin: the walk ends after the home page.
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = &seed(&snap, "me@masto.example")["following"];
    assert_eq!(list["status"]["state"], "partial", "{list}");
    assert_eq!(list["status"]["kind"], "foreign_page", "{list}");
    assert_eq!(list["accounts"].as_array().map(Vec::len), Some(80));
}

/// The token reached `home` and no other host; `other` was never asked anything.
fn assert_token_never_left_home(env: &Env, home: &str, other: &str) {
    let (with, hosts) = authorized(env);
    assert!(
        with.iter().any(|(h, _)| h == home),
        "home never saw the token: {with:?}"
    );
    assert!(with.iter().all(|(h, _)| h == home), "token left home: {with:?}");
    let asked = env.paths(other);
    assert!(asked.is_empty(), "{other} was asked {asked:?} ({hosts:?})");
}

/// The seed's server answers its ActivityPub collection with a first page on another host.
#[test]
fn the_token_never_reaches_an_activitypub_page_on_another_host() {
    let mut home = inst("masto.example", Software::Mastodon, "hetzner");
    home.fault = Fault::ForeignPages;
    home.api = Some(Api::None);
    let mirror = inst("mirror.masto.example", Software::Mastodon, "ovh");
    let mut accounts = crowd("masto.example", 5);
    let follows = handles_of(&accounts);
    accounts.push(acct("me@masto.example", &follows));
    let env = Env::start(world(vec![home, mirror], accounts));
    let out = env
        .cmd()
        .env("WHOHOSTS_TOKEN", "sim-token-me")
        .args(["crawl", "--format", "json", "me@masto.example"])
        .output()
        .unwrap();
    assert_token_never_left_home(&env, "masto.example", "mirror.masto.example");
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = &seed(&snap, "me@masto.example")["following"];
    assert_eq!(list["status"]["state"], "refused", "{list}");
    assert_eq!(list["status"]["kind"], "foreign_page", "{list}");
}

/// A raw listener recording each request's head; answers 404 and closes.
fn recording_listener(ip: Ipv4Addr) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(vec![]));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = vec![0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase());
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, heads)
}

/// The seed's server redirects its follow list to another port of the same host.
#[test]
fn the_token_never_follows_a_redirect_to_another_port() {
    let mut home = inst("masto.example", Software::Mastodon, "hetzner");
    let mut accounts = crowd("masto.example", 3);
    let follows = handles_of(&accounts);
    accounts.push(acct("me@masto.example", &follows));
    let ip = world(vec![home.clone()], accounts.clone()).layout().addresses["masto.example"].0;
    let (port, heads) = recording_listener(ip);
    home.fault = Fault::RedirectPort(port);
    let env = Env::start(world(vec![home], accounts));
    env.cmd()
        .env("WHOHOSTS_TOKEN", "sim-token-me")
        .args(["crawl", "--format", "json", "me@masto.example"])
        .output()
        .unwrap();
    let (with, _) = authorized(&env);
    assert!(
        with.iter().any(|(h, _)| h == "masto.example"),
        "home never saw the token"
    );
    let heads = heads.lock().unwrap().clone();
    assert!(
        heads.iter().any(|h| h.starts_with("get /api/v1/accounts/")),
        "the redirect was not followed: {heads:?}"
    );
    assert!(
        heads.iter().all(|h| !h.contains("authorization")),
        "token sent to the other port: {heads:?}"
    );
}

/// The token is attached per request by origin, whatever URL the caller passes.
#[test]
fn a_bearer_is_sent_only_to_its_exact_origin() {
    let env = Env::start(world(
        vec![
            inst("masto.example", Software::Mastodon, "hetzner"),
            inst("other.example", Software::Mastodon, "ovh"),
        ],
        vec![acct("me@masto.example", &[])],
    ));
    let port = env.sim.http_port;
    let home: url::Url = format!("http://masto.example:{port}/").parse().unwrap();
    let bearer = Bearer::new("sim-token-me", &home);
    let f = fetcher(&env.config);
    let req = Request {
        bearer: Some(&bearer),
        ..Request::accept(ACCEPT_JSON)
    };
    runtime().block_on(async {
        for url in [
            format!("http://other.example:{port}/api/v1/instance"),
            format!("http://masto.example:{port}/api/v1/accounts/verify_credentials"),
        ] {
            f.get(&url.parse().unwrap(), req).await.unwrap();
        }
    });
    let (with, _) = authorized(&env);
    assert_eq!(
        with,
        vec![(
            "masto.example".to_string(),
            "/api/v1/accounts/verify_credentials".to_string()
        )]
    );
}

#[test]
fn userinfo_is_stripped_and_never_sent() {
    let env = Env::start(world(
        vec![inst("masto.example", Software::Mastodon, "hetzner")],
        vec![acct("me@masto.example", &[])],
    ));
    let port = env.sim.http_port;
    let url = format!("http://user:secret@masto.example:{port}/api/v1/accounts/lookup?acct=me");
    let page = runtime()
        .block_on(fetcher(&env.config).get(&url.parse().unwrap(), Request::accept(ACCEPT_JSON)))
        .unwrap();
    assert_eq!(page.status, 200);
    let (with, hosts) = authorized(&env);
    assert_eq!(hosts.len(), 2, "robots.txt and the lookup: {hosts:?}");
    assert!(
        with.is_empty(),
        "userinfo reached the server as Authorization: {with:?}"
    );
    assert_eq!(
        page.url.as_str(),
        format!("http://masto.example:{port}/api/v1/accounts/lookup?acct=me")
    );
}

/// whohosts's own events (request, status, wait, retry, refusal) reach the log with host
/// and URL.
#[test]
fn requests_waits_retries_and_refusals_are_logged_with_host_and_url() {
    let mut slow = inst("slow.example", Software::Mastodon, "ovh");
    slow.fault = Fault::RetryAfter(1);
    let mut ssrf = inst("ssrf.example", Software::Mastodon, "ovh");
    ssrf.fault = Fault::RedirectPrivate;
    let mut env = Env::start(world(
        vec![slow, ssrf],
        vec![acct("a@slow.example", &[]), acct("b@ssrf.example", &[])],
    ));
    env.config.network.max_retries = 1;
    env.write_config();
    let out = env
        .cmd()
        .env("RUST_LOG", "whohosts=debug")
        .args(["crawl", "a@slow.example", "b@ssrf.example"])
        .output()
        .unwrap();
    let log = without_ansi(&String::from_utf8_lossy(&out.stderr));
    let url = format!(
        // The kind of request, never its path or query (which name the account).
        "url=http://slow.example:{}/<webfinger>",
        env.sim.http_port
    );
    for want in [
        format!("request host=slow.example {url}"),
        format!("response host=slow.example {url} status=429"),
        format!("retrying host=slow.example {url} status=429 attempt=1"),
        "waiting host=slow.example wait_secs=".to_string(),
        "reason=\"rate limit\"".to_string(),
        "refused: redirect to a link-local address 169.254.169.254 (network.allow_private_addresses does not allow it) host=169.254.169.254 url=http://169.254.169.254/<actor-or-page>".to_string(),
    ] {
        assert!(log.contains(&want), "no {want:?} in the log:\n{log}");
    }
    // (The seed's own failure line, a warning, names the seed as the user typed it.)
    let logged: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" DEBUG ") || l.contains(" INFO "))
        .collect();
    assert!(logged.len() > 5, "{log}");
    assert!(
        !logged.iter().any(|l| l.contains("resource=") || l.contains("acct%3A")),
        "{log}"
    );
}

/// `text` without ANSI colour sequences (the log may be coloured).
fn without_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_trailing_dot_shares_the_hosts_gate_robots_and_override() {
    let env = Env::start(world(
        vec![inst("dot.example", Software::Mastodon, "ovh")],
        vec![acct("a@dot.example", &[])],
    ));
    let mut config = env.config.clone();
    let slow = whohosts::config::HostOverride {
        requests: Some(1),
        period_secs: Some(0.4),
        burst: Some(1),
        ..Default::default()
    };
    config.hosts.insert("dot.example".into(), slow);
    let f = fetcher(&config);
    let port = env.sim.http_port;
    let hosts = runtime().block_on(async {
        let mut hosts = vec![];
        for i in 0..6 {
            let host = if i % 2 == 0 { "dot.example" } else { "Dot.Example." };
            let url = format!("http://{host}:{port}/.well-known/nodeinfo").parse().unwrap();
            let page = f.get_ok(&url, Request::accept(ACCEPT_JSON)).await.unwrap();
            hosts.push(page.url.host_str().unwrap().to_string());
        }
        hosts
    });
    assert_eq!(hosts[..2], ["dot.example", "dot.example."]);
    let log = env.log("dot.example");
    assert_eq!(log.iter().filter(|r| r.path == "/robots.txt").count(), 1, "{log:?}");
    let pages: Vec<_> = log.iter().filter(|r| r.path != "/robots.txt").collect();
    assert_eq!(pages.len(), 6);
    for pair in pages.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at).unwrap_or_default();
        assert!(gap >= Duration::from_millis(380), "requests {gap:?} apart");
    }
}
