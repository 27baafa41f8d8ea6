//! The production path: https only, certificates verified. The simulator serves TLS with a
//! throw-away CA (tests/fixtures/tls) that the client trusts through config.

use whohosts_sim::world::Software;

use crate::common::*;

fn tls_world() -> whohosts_sim::world::World {
    let mut accounts = crowd("far.example", 6);
    let follows = handles_of(&accounts);
    accounts.push(acct("me@home.example", &follows));
    accounts.push(acct("ap@tls.example", &follows[..3]));
    world(
        vec![
            inst("home.example", Software::Mastodon, "hetzner"),
            ap_only("tls.example", "ovh"),
            inst("far.example", Software::Mastodon, "netcup"),
        ],
        accounts,
    )
}

#[test]
fn an_https_only_crawl_verifies_certificates() {
    let env = Env::start_tls(tls_world());
    assert!(!env.config.network.allow_http, "https only, as in production");
    let (snap, code) = env.crawl(&["me@home.example", "ap@tls.example"]);
    assert_eq!(code, 0, "{snap}");
    let rest = &seed(&snap, "me@home.example")["following"];
    assert_eq!(rest["source"], "mastodon-api");
    assert_eq!(listed(rest), expected(&handles_of(&crowd("far.example", 6))));
    let ap = &seed(&snap, "ap@tls.example")["following"];
    assert_eq!(ap["source"], "activitypub");
    assert_eq!(listed(ap), expected(&handles_of(&crowd("far.example", 3))));
    let uri = seed(&snap, "me@home.example")["actor_uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(uri.starts_with("https://home.example:"), "{uri}");
    assert_eq!(
        snap["crawl"]["instances"]["far.example"]["nodeinfo"]["software"],
        "mastodon"
    );
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let mut env = Env::start_tls(tls_world());
    env.config.network.extra_root_certificates.clear();
    env.write_config();
    let (snap, code) = env.crawl(&["me@home.example"]);
    assert_eq!(code, 1);
    let e = &seed(&snap, "me@home.example")["error"];
    assert_eq!(e["kind"], "transport");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("invalid peer certificate"), "{msg}");
    assert!(env.sim.sim.stats().requests.is_empty(), "no request got through");
}

#[test]
fn a_bad_root_certificate_file_is_one_clear_line() {
    let mut env = Env::start_tls(tls_world());
    let bad = env.dir.path().join("bad-ca.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    env.config.network.extra_root_certificates = vec![bad.to_string_lossy().into_owned()];
    env.write_config();
    let out = env.run(&["crawl", "me@home.example"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "whohosts: config {}: network.extra_root_certificates: not PEM certificates",
            bad.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
