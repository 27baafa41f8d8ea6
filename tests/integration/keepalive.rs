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
