//! Bad input and lying or stalling servers: one clear line each, the rest of the crawl goes on.

use whohosts_sim::world::{Fault, Software};

use crate::common::*;

fn faulty(domain: &str, fault: Fault) -> whohosts_sim::world::Instance {
    let mut i = inst(domain, Software::Mastodon, "ovh");
    i.fault = fault;
    i
}

#[test]
fn each_fault_fails_its_own_seed_and_the_crawl_goes_on() {
    let mut accounts = crowd("far.example", 6);
    let follows = handles_of(&accounts);
    accounts.push(acct("good@home.example", &follows));
    for d in [
        "err.example",
        "stall.example",
        "bad.example",
        "huge.example",
        "ssrf.example",
    ] {
        accounts.push(acct(&format!("x@{d}"), &[]));
    }
    let mut env = Env::start(world(
        vec![
            inst("home.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
            faulty("err.example", Fault::Error500),
            faulty("stall.example", Fault::Stall),
            faulty("bad.example", Fault::MalformedJson),
            faulty("huge.example", Fault::Oversized),
            faulty("ssrf.example", Fault::RedirectPrivate),
        ],
        accounts,
    ));
    env.config.network.request_timeout_secs = 1.0;
    env.config.network.max_retries = 1;
    env.write_config();
    let inputs = [
        "good@home.example",
        "x@err.example",
        "x@stall.example",
        "x@bad.example",
        "x@huge.example",
        "x@ssrf.example",
        "nobody@unknown.example",
        "not a handle",
    ];
    let (snap, code) = env.crawl(&inputs);
    assert_eq!(code, 1, "failed seeds make the exit code 1");
    assert_eq!(
        listed(&seed(&snap, "good@home.example")["following"]),
        expected(&follows)
    );
    let port = env.sim.http_port;
    let wf = |d: &str| format!("http://{d}:{port}/.well-known/webfinger?resource=acct%3Ax%40{d}");
    let cases = [
        ("x@err.example", "http-status", format!("{}: HTTP 500", wf("err.example"))),
        ("x@stall.example", "transport", format!("{}: timed out after 1 s", wf("stall.example"))),
        (
            "x@bad.example",
            "malformed",
            format!("{}: malformed response: invalid WebFinger JSON: EOF while parsing a value at line 1 column 20", wf("bad.example")),
        ),
        ("x@huge.example", "too-large", format!("{}: response larger than 4194304 bytes", wf("huge.example"))),
        (
            "x@ssrf.example",
            "refused-by-policy",
            "refused http://169.254.169.254/latest/meta-data/: redirect to a link-local address 169.254.169.254 (network.allow_private_addresses does not allow it)".to_string(),
        ),
        ("nobody@unknown.example", "dns", "DNS unknown.example: NXDOMAIN".to_string()),
        ("not a handle", "bad-handle", "invalid handle \"not a handle\": expected user@domain".to_string()),
    ];
    for (input, kind, message) in cases {
        let e = &seed(&snap, input)["error"];
        assert_eq!(e["kind"], kind, "{input}: {e}");
        assert_eq!(e["message"], message.as_str(), "{input}");
    }
}

#[test]
fn paging_loops_stop_with_what_was_read() {
    let mut rest = inst("loop.example", Software::Mastodon, "hetzner");
    rest.fault = Fault::LoopNext;
    let mut ap = inst("aploop.example", Software::Mastodon, "hetzner");
    ap.fault = Fault::LoopNext;
    ap.api = Some(whohosts_sim::world::Api::None);
    let mut accounts = crowd("far.example", 100);
    let follows = handles_of(&accounts);
    accounts.push(acct("a@loop.example", &follows));
    accounts.push(acct("b@aploop.example", &follows[..30]));
    let env = Env::start(world(
        vec![rest, ap, inst("far.example", Software::Mastodon, "ovh")],
        accounts,
    ));
    let (snap, _) = env.crawl(&["a@loop.example", "b@aploop.example"]);
    let a = &seed(&snap, "a@loop.example")["following"];
    assert_eq!(a["status"]["state"], "partial");
    assert!(
        a["status"]["reason"].as_str().unwrap().starts_with("paging loop: "),
        "{a}"
    );
    assert_eq!(listed(a), expected(&follows));
    let b = &seed(&snap, "b@aploop.example")["following"];
    assert_eq!(b["status"]["state"], "partial");
    assert!(
        b["status"]["reason"].as_str().unwrap().starts_with("paging loop: "),
        "{b}"
    );
    assert_eq!(listed(b), expected(&follows[..24]));
}

#[test]
fn private_addresses_are_refused_by_default() {
    let accounts = vec![acct("a@home.example", &[])];
    let mut env = Env::start(world(
        vec![inst("home.example", Software::Mastodon, "hetzner")],
        accounts,
    ));
    env.config.network.allow_private_addresses = whohosts::config::PrivateAddresses::All(false);
    env.write_config();
    let (snap, code) = env.crawl(&["a@home.example"]);
    assert_eq!(code, 1);
    let msg = seed(&snap, "a@home.example")["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        msg,
        "refused home.example: 127.1.0.2 is loopback (network.allow_private_addresses does not allow it)"
    );
    assert!(env.sim.sim.stats().requests.is_empty(), "nothing was sent");
}

#[test]
fn plain_http_is_refused_by_default() {
    // TLS works (the WebFinger request is answered over https), but the instance's WebFinger
    // points at its actor with http://: the https-only client refuses it by scheme, without
    // connecting.
    let mut home = inst("home.example", Software::Mastodon, "hetzner");
    home.plain_http_links = true;
    let env = Env::start_tls(world(vec![home], vec![acct("a@home.example", &[])]));
    assert!(!env.config.network.allow_http, "https only, as in production");
    let (snap, code) = env.crawl(&["a@home.example"]);
    assert_eq!(code, 1);
    let e = &seed(&snap, "a@home.example")["error"];
    assert_eq!(e["kind"], "refused-by-policy", "{e}");
    assert_eq!(
        e["message"],
        format!(
            "refused http://home.example:{}/api/v1/accounts/lookup?acct=a: plain http is not allowed (network.allow_http = false)",
            env.sim.http_port
        )
    );
    assert_eq!(
        env.paths("home.example"),
        ["/robots.txt", "/.well-known/webfinger?resource=acct%3Aa%40home.example"],
        "only the https requests arrived"
    );
}

#[test]
fn redirects_are_capped_at_five() {
    let accounts = vec![acct("a@chain.example", &[])];
    let env = Env::start(world(vec![faulty("chain.example", Fault::RedirectChain)], accounts));
    let (snap, _) = env.crawl(&["a@chain.example"]);
    let port = env.sim.http_port;
    assert_eq!(
        seed(&snap, "a@chain.example")["error"]["message"],
        format!("refused http://chain.example:{port}/.well-known/webfinger?resource=acct%3Aa%40chain.example: more than 5 redirects")
    );
    let hops = env
        .paths("chain.example")
        .iter()
        .filter(|p| p.starts_with("/.well-known/webfinger"))
        .count();
    assert_eq!(hops, 6, "the first request and five redirects");
}

/// A WebFinger that redirects back to a URL already asked is refused as a loop at once
/// (not after the redirect cap), and one that redirects to a barred address says which
/// address and why: in a seed's error, and in a contact's steps (which said only "refused
/// by policy").
#[test]
fn a_redirect_loop_and_a_redirect_to_a_barred_address_say_why() {
    let accounts = vec![acct("a@loopy.example", &[]), acct("b@ssrf.example", &[])];
    let env = Env::start(world(
        vec![
            faulty("loopy.example", Fault::RedirectLoop),
            faulty("ssrf.example", Fault::RedirectPrivate),
        ],
        accounts,
    ));
    let (snap, _) = env.crawl(&["a@loopy.example"]);
    let port = env.sim.http_port;
    let e = &seed(&snap, "a@loopy.example")["error"];
    assert_eq!(
        e["message"],
        format!("refused http://loopy.example:{port}/.well-known/webfinger?resource=acct%3Aa%40loopy.example: redirect loop after 1 hop")
    );
    let hops = env
        .paths("loopy.example")
        .iter()
        .filter(|p| p.starts_with("/.well-known/webfinger"))
        .count();
    assert_eq!(
        hops, 1,
        "the first request only: the redirect back to it is not followed"
    );
    let config = std::sync::Arc::new(env.config.clone());
    let gate = whohosts::net::dns::AddressGate::new(config.network.allow_private_addresses.clone());
    let dns = std::sync::Arc::new(whohosts::net::dns::Dns::new(&config.dns, gate).unwrap());
    let fetcher = whohosts::net::http::Fetcher::new(config, dns).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let steps = |h: &str| {
        let served = rt.block_on(whohosts::contacts::serve::fediverse(
            &fetcher,
            &h.parse::<whohosts::model::handle::Handle>().unwrap(),
        ));
        served.steps
    };
    assert_eq!(
        steps("a@loopy.example"),
        ["WebFinger: refused: redirect loop after 1 hop"]
    );
    assert_eq!(
        steps("b@ssrf.example"),
        ["WebFinger: refused: redirect to a link-local address 169.254.169.254 (network.allow_private_addresses does not allow it)"]
    );
}

#[test]
fn dns_failures_are_recorded_per_host() {
    use whohosts_sim::world::DnsFault;
    let mut sf = inst("servfail.example", Software::Mastodon, "ovh");
    sf.dns_fault = DnsFault::Servfail;
    let mut slow = inst("silent.example", Software::Mastodon, "ovh");
    slow.dns_fault = DnsFault::Timeout;
    let mut env = Env::start(world(
        vec![sf, slow, inst("ok.example", Software::Mastodon, "ovh")],
        vec![],
    ));
    env.config.dns.timeout_secs = 0.3;
    env.config.dns.attempts = 1;
    env.write_config();
    let out = env.run(&[
        "lookup",
        "servfail.example",
        "silent.example",
        "ok.example",
        "gone.example",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "servfail.example: cannot resolve: SERVFAIL");
    assert_eq!(lines[1], "silent.example: cannot resolve: timeout");
    assert_eq!(lines[2], "ok.example");
    assert_eq!(lines.last(), Some(&"gone.example: cannot resolve: NXDOMAIN"));
}

#[test]
fn plain_http_urls_are_refused_without_allow_http() {
    let mut config = whohosts::config::Config::default();
    config.network.allow_http = false;
    // check_url never resolves; a fixed nameserver keeps the test independent of the machine.
    config.dns.nameservers = vec!["127.0.0.1:9".into()];
    let config = std::sync::Arc::new(config);
    let gate = whohosts::net::dns::AddressGate::new(config.network.allow_private_addresses.clone());
    let dns = whohosts::net::dns::Dns::new(&config.dns, gate).unwrap();
    let f = whohosts::net::http::Fetcher::new(config, std::sync::Arc::new(dns)).unwrap();
    let err = f.check_url(&"https://10.0.0.7/x".parse().unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused https://10.0.0.7/x: 10.0.0.7 is private (network.allow_private_addresses does not allow it)"
    );
    assert!(f.check_url(&"https://mastodon.example/x".parse().unwrap()).is_ok());
    let err = f.check_url(&"http://mastodon.example/x".parse().unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused http://mastodon.example/x: plain http is not allowed (network.allow_http = false)"
    );
}

/// A host that accepts connections and never answers: the time its requests spend timing out
/// counts towards `network.max_host_wait_secs`, so it costs that budget once, not a timeout
/// (and its retries) per account; its other requests fail at once as "host given up", and the
/// accounts on another host are all fetched.
#[test]
fn a_stalling_host_is_given_up_after_its_wait_budget() {
    let mut accounts = crowd("stall.example", 10);
    let stalled = handles_of(&accounts);
    let good = crowd("good.example", 5);
    let fine = handles_of(&good);
    accounts.extend(good);
    let mut follows = stalled.clone();
    follows.extend(fine.iter().cloned());
    accounts.push(acct("seed@home.example", &follows));
    let mut env = Env::start(world(
        vec![
            ap_only("home.example", "hetzner"),
            faulty("stall.example", Fault::Stall),
            inst("good.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    env.config.network.request_timeout_secs = 1.0;
    env.config.network.max_retries = 1;
    env.config.network.retry_base_secs = 0.05;
    env.config.network.max_host_wait_secs = 1.5;
    // One request at a time to the stalling host, so the count below is exact.
    env.config.hosts.insert(
        "stall.example".into(),
        whohosts::config::HostOverride {
            concurrency: Some(1),
            ..Default::default()
        },
    );
    env.write_config();
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let stats = env.sim.sim.stats();
    // Never answered: the first actor's request and its one retry (1 s + 1 s > 1.5 s), not
    // 2 per account (20).
    assert_eq!(stats.arrived as usize - stats.requests.len(), 2);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_eq!(list["status"]["state"], "complete");
    let accounts = list["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 15);
    let errors: Vec<String> = accounts
        .iter()
        .filter_map(|a| a["fetch_error"].as_str())
        .map(|e| e.split_once(": ").unwrap().1.to_string())
        .collect();
    assert_eq!(errors.len(), 10, "{errors:?}");
    let timed_out = errors.iter().filter(|e| *e == "timed out after 1 s").count();
    let gave_up = errors
        .iter()
        .filter(|e| {
            *e == "host given up: stall.example has made the crawl wait more than network.max_host_wait_secs (1.5 s) in all (pauses, back-offs, timeouts); request not sent"
        })
        .count();
    // The two unanswered requests are the first to reach the host: an actor's, or the NodeInfo
    // read made as soon as the host is met; either way every later actor is given up unsent.
    assert_eq!(timed_out + gave_up, 10, "{errors:?}");
    assert!(timed_out <= 1, "{errors:?}");
    let fetched: Vec<&str> = accounts.iter().filter_map(|a| a["handle"].as_str()).collect();
    assert_eq!(fetched.len(), 5, "every account on good.example: {fetched:?}");
    assert!(fetched.iter().all(|h| h.ends_with("@good.example")), "{fetched:?}");
    let stall = &snap["crawl"]["instances"]["stall.example"]["nodeinfo_error"];
    assert!(
        ["host-gave-up", "transport"].contains(&stall["kind"].as_str().unwrap()),
        "{stall}"
    );
}

/// Each request is given at most the wait budget its host has left (after what the requests
/// in flight to it have booked): a host that accepts connections and never answers costs its
/// budget, not a timeout more. Two requests go to it at once (the default host concurrency),
/// timeouts of 1 s, a budget of 1.5 s: the requests it held add up to 1.5 s, not 2 s.
#[test]
fn a_stalling_host_costs_its_wait_budget_and_no_more() {
    let mut accounts = crowd("stall.example", 10);
    let mut follows = handles_of(&accounts);
    let good = crowd("good.example", 3);
    follows.extend(handles_of(&good));
    accounts.extend(good);
    accounts.push(acct("seed@home.example", &follows));
    let mut env = Env::start(world(
        vec![
            ap_only("home.example", "hetzner"),
            faulty("stall.example", Fault::Stall),
            inst("good.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    env.config.network.request_timeout_secs = 1.0;
    env.config.network.max_retries = 1;
    env.config.network.retry_base_secs = 0.05;
    env.config.network.max_host_wait_secs = 1.5;
    env.write_config();
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "seed@home.example")["following"];
    assert_eq!(list["accounts"].as_array().unwrap().len(), 13);
    // The simulator logs each held request when whohosts gives up on it.
    let mut held = std::time::Duration::ZERO;
    for _ in 0..50 {
        let stats = env.sim.sim.stats();
        let times = stats.stall_held.get("stall.example").cloned().unwrap_or_default();
        if times.len() as u64 == stats.arrived - stats.requests.len() as u64 {
            held = times.iter().sum();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let stats = env.sim.sim.stats();
    let times = &stats.stall_held["stall.example"];
    // The budget is spent (two requests at once: 1 s and the 0.5 s left), and not overrun:
    // 50 ms of slack per request for the timer and the server noticing the client left.
    assert_eq!(times.len(), 2, "{times:?}");
    assert!(held >= std::time::Duration::from_millis(1450), "{times:?}");
    assert!(held <= std::time::Duration::from_millis(1600), "{times:?}");
    let shortest = times.iter().min().unwrap();
    assert!(
        *shortest <= std::time::Duration::from_millis(600),
        "one request was given the 0.5 s left, not a whole timeout: {times:?}"
    );
}

/// Many hosts that stall do not hold back one that answers: a host judged slow (a request of
/// it timed out) has one request in flight at a time, and the slow hosts together at most half
/// the slots, of the fan-out and of the network. 40 stalling hosts with a budget of 3 s each
/// (a timeout of 1 s) would hold the fetch slots for 40 × 3 s of requests; the answering
/// host's 20 accounts are all fetched within a few timeouts of the start.
#[test]
fn many_stalling_hosts_do_not_hold_back_a_host_that_answers() {
    const STALLING: usize = 40;
    let mut accounts = vec![];
    let mut follows = vec![];
    let mut instances = vec![
        ap_only("home.example", "hetzner"),
        inst("good.example", Software::Mastodon, "ovh"),
    ];
    for n in 0..STALLING {
        let domain = format!("stall{n}.example");
        instances.push(faulty(&domain, Fault::Stall));
        let crowd = crowd(&domain, 4);
        follows.extend(handles_of(&crowd));
        accounts.extend(crowd);
    }
    let good = crowd("good.example", 20);
    follows.extend(handles_of(&good));
    accounts.extend(good);
    accounts.push(acct("seed@home.example", &follows));
    let mut env = Env::start(world(instances, accounts));
    env.config.network.request_timeout_secs = 1.0;
    env.config.network.max_retries = 0;
    env.config.network.max_host_wait_secs = 3.0;
    env.write_config();
    let started = std::time::SystemTime::now();
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let list = &seed(&snap, "seed@home.example")["following"];
    let fetched: Vec<&str> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["fetch_error"].is_null())
        .filter_map(|a| a["handle"].as_str())
        .filter(|h| h.ends_with("@good.example"))
        .collect();
    assert_eq!(fetched.len(), 20, "{fetched:?}");
    let log = env.log("good.example");
    let actors: Vec<_> = log.iter().filter(|r| r.path.starts_with("/users/")).collect();
    assert!(
        actors.len() >= 20,
        "{:?}",
        log.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let last = actors.iter().map(|r| r.at).max().unwrap();
    let took = last.duration_since(started).unwrap();
    assert!(
        took < std::time::Duration::from_secs(8),
        "the answering host's last actor came {took:?} after the start"
    );
}

/// A crawl against a nameserver that never answers (a UDP socket on loopback that reads
/// nothing) ends with one line naming it, not one line per seed; every seed still fails
/// (exit code 1) and the report lists each.
#[test]
fn a_crawl_against_a_dead_nameserver_ends_with_one_line() {
    let mut env = Env::start(world(vec![], vec![]));
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    env.config.dns.nameservers = vec![addr.to_string()];
    env.config.dns.timeout_secs = 0.5;
    env.config.dns.attempts = 1;
    env.write_config();
    let seeds: Vec<String> = (0..8).map(|i| format!("@u@s{i}.example")).collect();
    let mut args = vec!["crawl"];
    args.extend(seeds.iter().map(String::as_str));
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: DNS did not answer in time ({addr}): 8 of 8 seeds failed on it (the report lists them)\n\
             whohosts: no seed could be read: snapshot 1 is stored as failed (no baseline for trends, comparisons or \
             rules)\n"
        )
    );
    drop(dead);
}

/// `lookup -` against a nameserver that never answers: the host names looked up before the
/// nameserver is taken for not answering (5 queries in a row timed out, A and AAAA of the
/// first three names) say their timeout on a line each; the rest get no line each, and one
/// line at the end names the nameserver and counts every name it left unanswered, each as
/// its row says (the two that timed out as `timeout`, not as not answering). Each row
/// still says why; the exit code is 1.
#[test]
fn lookup_stdin_against_a_dead_nameserver_ends_with_one_line() {
    let mut env = Env::start(world(vec![], vec![]));
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    env.config.dns.nameservers = vec![addr.to_string()];
    env.config.dns.timeout_secs = 0.3;
    env.config.dns.attempts = 1;
    env.write_config();
    let names: String = (0..8).map(|i| format!("s{i}.example\n")).collect();
    let out = env.cmd().args(["lookup", "-"]).write_stdin(names).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: lookup s0.example: cannot resolve: timeout\n\
             whohosts: lookup s1.example: cannot resolve: timeout\n\
             whohosts: nameserver {addr} not answering (5 DNS queries in a row timed out, no answer for 0.6 s; \
             the rest failed at once): 8 of 8 host names did not resolve: 6 nameserver not answering, 2 timeout; \
             stdout lists them\n"
        )
    );
    let errors: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.rsplit('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(errors.len(), 8);
    assert_eq!(errors[..2], ["timeout", "timeout"]);
    assert!(
        errors[2..].iter().all(|e| e == "nameserver not answering"),
        "{errors:?}"
    );
    // The closing count is the rows' count, answer by answer.
    let timeouts = errors.iter().filter(|e| *e == "timeout").count();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!(
        "{} nameserver not answering, {timeouts} timeout;",
        8 - timeouts
    )));
    drop(dead);
}
