//! A keep-alive connection the server drops (reset, or closed before answering) costs a retry,
//! never an account.

use whohosts_sim::world::{Fault, Software};

use crate::common::*;

/// A seed on an ActivityPub-only server following 40 accounts on `far.example` (one actor
/// fetch each, over pooled connections): the handles listed, the retries counted, and how
/// many connections the simulator cut.
fn crawl_far(fault: Fault) -> (std::collections::BTreeSet<String>, u64, Vec<String>) {
    let mut far = inst("far.example", Software::Mastodon, "ovh");
    far.fault = fault;
    let mut accounts = crowd("far.example", 40);
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@home.example", &follows));
    let env = Env::start(world(vec![ap_only("home.example", "hetzner"), far], accounts));
    let (snap, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0, "{snap}");
    let list = listed(&seed(&snap, "seed@home.example")["following"]);
    assert_eq!(
        list,
        expected(&follows),
        "every account kept its handle under {fault:?}"
    );
    let retries = snap["crawl"]["retries"].as_u64().unwrap();
    (list, retries, env.paths("far.example"))
}

#[test]
fn reset_and_closed_keep_alive_connections_are_retried_and_lose_no_account() {
    let (clean, clean_retries, _) = crawl_far(Fault::None);
    assert_eq!(clean.len(), 40);
    assert_eq!(clean_retries, 0);
    // Every 2nd connection dropped at its second request; then every one (a server or
    // middlebox that never serves a reused connection): a retry goes out on a connection of
    // its own, so even then no account is lost.
    for fault in [
        Fault::ResetKeepAlive(2),
        Fault::CloseKeepAlive(2),
        Fault::ResetKeepAlive(1),
        Fault::CloseKeepAlive(1),
    ] {
        let (list, retries, _) = crawl_far(fault);
        assert_eq!(
            list.len(),
            clean.len(),
            "{fault:?}: as many accounts as without the fault"
        );
        assert!(retries > 0, "{fault:?}: the dropped requests were retried ({retries})");
    }
}

/// A survey of 16 instances (`nodeinfo`: each publishes NodeInfo, else all but the first
/// answer 404, so the survey has an instance to rate), one
/// request at a time, with `network.idle_connection_secs` set to `idle`: the requests that
/// reached the simulator, the TCP connections it accepted, and the most it had open at once.
fn survey_connections(idle: f64, nodeinfo: bool) -> (u64, u64, u64) {
    let hosts: Vec<String> = (0..16).map(|i| format!("i{i}.example")).collect();
    let instances = hosts
        .iter()
        .enumerate()
        .map(|(k, h)| {
            let mut i = inst(h, Software::Mastodon, "ovh");
            i.no_nodeinfo = !nodeinfo && k > 0;
            i
        })
        .collect();
    let mut env = Env::start(world(instances, vec![]));
    env.config.network.global_concurrency = 1;
    env.config.network.idle_connection_secs = idle;
    env.write_config();
    let list = env.dir.path().join("list");
    std::fs::write(&list, hosts.join("\n")).unwrap();
    let out = env.run(&["instances", list.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read = if nodeinfo { 16 } else { 1 };
    assert_eq!(report["population"]["nodeinfo_read"], read, "{report}");
    let stats = env.sim.sim.stats();
    (stats.arrived, stats.connections, stats.peak_open_connections)
}

/// `network.idle_connection_secs = 0`: no connection is kept idle, so none is reused (every
/// request on a connection of its own) and a survey does not hold one open per host it has
/// finished with. With the default a host's requests (robots.txt, NodeInfo discovery) share
/// a connection, kept for the host's next request (hosts without NodeInfo: no request is
/// known to be a host's last).
#[test]
fn zero_idle_seconds_keeps_no_connection_open() {
    let (requests, connections, peak) = survey_connections(0.0, false);
    assert!(
        requests >= 32,
        "robots.txt and NodeInfo discovery of each host ({requests})"
    );
    assert_eq!(connections, requests, "every request on a new connection");
    assert!(
        peak <= 4,
        "{peak} connections open at once, one request at a time and none kept idle"
    );
    let (requests, connections, peak) = survey_connections(whohosts::config::DEFAULT_IDLE_CONNECTION_SECS, false);
    assert!(
        connections < requests,
        "{connections} connections for {requests} requests"
    );
    assert!(
        peak >= 15,
        "each host's connection kept for its next request ({peak} at once)"
    );
}

/// A survey's NodeInfo document is its last request to the host: the connection is closed
/// once it is answered, so a survey holds no connection of a host it has finished with,
/// while each host's requests still share one.
#[test]
fn a_survey_closes_each_host_connection_after_its_last_request() {
    let (requests, connections, peak) = survey_connections(whohosts::config::DEFAULT_IDLE_CONNECTION_SECS, true);
    assert!(
        requests >= 48,
        "robots.txt, NodeInfo discovery and document of each host ({requests})"
    );
    assert_eq!(connections, 16, "one connection per host for its {requests} requests");
    assert!(peak <= 4, "{peak} connections open at once, one request at a time");
}
