//! Contacts: who serves an address, asked of the simulator's DNS (MX, null MX, implicit and
//! dangling MX, SRV for XMPP and Matrix, SERVFAIL and NXDOMAIN).

use std::sync::Arc;

use whohosts::contacts::serve::{self, Outcome, Served};
use whohosts::net::dns::{AddressGate, Dns};
use whohosts::net::http::Fetcher;
use whohosts_sim::world::{DnsFault, NameSpec, World};

use crate::common::*;

fn name(n: &str) -> NameSpec {
    NameSpec {
        name: n.into(),
        ..NameSpec::default()
    }
}

fn at(n: &str, provider: &str) -> NameSpec {
    NameSpec {
        provider: Some(provider.into()),
        ..name(n)
    }
}

fn mail(n: &str, mx: &[(u16, &str)]) -> NameSpec {
    NameSpec {
        mx: mx.iter().map(|(p, h)| (*p, h.to_string())).collect(),
        ..name(n)
    }
}

fn srv(n: &str, records: &[(u16, u16, u16, &str)]) -> NameSpec {
    NameSpec {
        srv: records
            .iter()
            .map(|(p, w, port, t)| (*p, *w, *port, t.to_string()))
            .collect(),
        ..name(n)
    }
}

/// A world of contact domains and their servers (no instances needed).
fn contact_world() -> World {
    let mut w = world(vec![], vec![]);
    w.names = vec![
        at("mx1.bigmail.example", "amazon"),
        at("mx2.bigmail.example", "amazon"),
        mail(
            "bigmail.example",
            &[(20, "mx2.bigmail.example"), (10, "mx1.bigmail.example")],
        ),
        mail("nomail.example", &[(0, ".")]),
        at("selfhosted.example", "association"),
        mail("dangling.example", &[(10, "gone.dangling.example")]),
        mail(
            "halfdangling.example",
            &[(5, "gone.dangling.example"), (10, "mx1.bigmail.example")],
        ),
        name("bare.example"),
        NameSpec {
            dns_fault: DnsFault::Servfail,
            ..mail("broken.example", &[(10, "mx1.bigmail.example")])
        },
        at("xmpp.chat.example", "ovh"),
        at("xmpps.chat.example", "hetzner"),
        srv("_xmpp-server._tcp.chat.example", &[(10, 0, 5269, "xmpp.chat.example")]),
        srv(
            "_xmpps-server._tcp.chat.example",
            &[(5, 10, 5270, "xmpps.chat.example")],
        ),
        srv("_xmpp-server._tcp.noxmpp.example", &[(0, 0, 0, ".")]),
        at("jabber.example", "netcup"),
        at("synapse.example", "hetzner"),
        srv("_matrix-fed._tcp.fed.example", &[(10, 0, 8448, "synapse.example")]),
        srv("_matrix._tcp.old.example", &[(10, 0, 443, "synapse.example")]),
        at("plain.example", "scaleway"),
    ];
    w
}

fn resolve(env: &Env) -> (Arc<Dns>, Fetcher) {
    let config = Arc::new(env.config.clone());
    let gate = AddressGate::new(config.network.allow_private_addresses.clone());
    let dns = Arc::new(Dns::new(&config.dns, gate).unwrap());
    let fetcher = Fetcher::new(config, dns.clone()).unwrap();
    (dns, fetcher)
}

fn host(h: &str, port: Option<u16>) -> Outcome {
    Outcome::Host { host: h.into(), port }
}

#[test]
fn who_receives_the_mail_of_a_domain() {
    let env = Env::start(contact_world());
    let (dns, _) = resolve(&env);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ask = |d: &str| rt.block_on(serve::email(&dns, d));
    let big = ask("bigmail.example");
    assert_eq!(big.outcome, host("mx1.bigmail.example", None));
    assert_eq!(big.steps, ["MX 10 mx1.bigmail.example", "MX 20 mx2.bigmail.example"]);
    let null = ask("nomail.example");
    assert_eq!(
        (null.outcome, null.steps),
        (Outcome::NoService, vec!["MX 0 . (null MX)".to_string()])
    );
    let implicit = ask("selfhosted.example");
    assert_eq!(implicit.outcome, host("selfhosted.example", None));
    assert_eq!(implicit.steps, ["no MX: implicit MX on the domain"]);
    assert_eq!(
        ask("dangling.example").outcome,
        Outcome::Dangling {
            host: "gone.dangling.example".into()
        }
    );
    let half: Served = ask("halfdangling.example");
    assert_eq!(half.outcome, host("mx1.bigmail.example", None));
    assert!(
        half.steps.contains(&"gone.dangling.example: NXDOMAIN".to_string()),
        "{:?}",
        half.steps
    );
    assert_eq!(ask("bare.example").outcome, Outcome::NoServer);
    assert_eq!(ask("unknown.example").outcome, Outcome::NoDomain);
    assert_eq!(ask("broken.example").outcome, Outcome::Failed("SERVFAIL".into()));
}

#[test]
fn who_serves_xmpp_and_matrix() {
    let env = Env::start(contact_world());
    let (dns, fetcher) = resolve(&env);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Both SRV kinds merged: xmpps has the lower priority, so it comes first.
    let chat = rt.block_on(serve::xmpp(&dns, "chat.example"));
    assert_eq!(chat.outcome, host("xmpps.chat.example", Some(5270)));
    assert_eq!(
        chat.steps,
        [
            "SRV _xmpp-server._tcp.chat.example 10 0 5269 xmpp.chat.example",
            "SRV _xmpps-server._tcp.chat.example 5 10 5270 xmpps.chat.example"
        ]
    );
    assert_eq!(
        rt.block_on(serve::xmpp(&dns, "noxmpp.example")).outcome,
        Outcome::NoService
    );
    let fallback = rt.block_on(serve::xmpp(&dns, "jabber.example"));
    assert_eq!(fallback.outcome, host("jabber.example", Some(5269)));

    let m = |n: &str| rt.block_on(serve::matrix(&dns, &fetcher, n));
    let fed = m("fed.example");
    assert_eq!(fed.outcome, host("synapse.example", Some(8448)));
    assert_eq!(
        fed.steps[1],
        "SRV _matrix-fed._tcp.fed.example 10 0 8448 synapse.example"
    );
    // The deprecated _matrix._tcp is asked only after _matrix-fed._tcp has nothing.
    let old = m("old.example");
    assert_eq!(old.outcome, host("synapse.example", Some(443)));
    assert!(
        old.steps.contains(&"no SRV _matrix-fed._tcp.old.example".to_string()),
        "{:?}",
        old.steps
    );
    assert_eq!(m("plain.example").outcome, host("plain.example", Some(8448)));
    assert_eq!(m("plain.example:8008").outcome, host("plain.example", Some(8008)));
    assert_eq!(m("plain.example:8008").steps, ["explicit port 8008"]);
}
