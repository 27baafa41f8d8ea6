//! Contacts: who serves an address, asked of the simulator's DNS (MX, null MX, implicit and
//! dangling MX, SRV for XMPP and Matrix, SERVFAIL and NXDOMAIN).

use std::sync::Arc;

use whohosts::contacts::serve::{self, Outcome, Served};
use whohosts::net::dns::{AddressGate, Dns};
use whohosts::net::http::Fetcher;
use whohosts_sim::world::{DnsFault, NameSpec, World};

use crate::common::*;
use crate::wording::{flat, plain};

fn name(n: &str) -> NameSpec {
    NameSpec {
        name: n.into(),
        ..NameSpec::default()
    }
}

pub(crate) fn at(n: &str, provider: &str) -> NameSpec {
    NameSpec {
        provider: Some(provider.into()),
        ..name(n)
    }
}

pub(crate) fn mail(n: &str, mx: &[(u16, &str)]) -> NameSpec {
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
        // An MX whose host fails to answer (SERVFAIL) is no dangling MX: nothing is known.
        NameSpec {
            dns_fault: DnsFault::Servfail,
            ..at("mx.failing.example", "ovh")
        },
        mail("servfailmx.example", &[(10, "mx.failing.example")]),
        mail(
            "halffailing.example",
            &[(10, "gone.dangling.example"), (20, "mx.failing.example")],
        ),
        // `.` of a preference other than 0 is no null MX (RFC 7505).
        mail("tennull.example", &[(10, ".")]),
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
    // The MX host's SERVFAIL is the domain's failure, not a dangling MX; so too when the
    // other host does not exist.
    let failing = ask("servfailmx.example");
    assert_eq!(
        (failing.outcome, failing.steps),
        (
            Outcome::Failed("SERVFAIL".into()),
            vec![
                "MX 10 mx.failing.example".to_string(),
                "mx.failing.example: SERVFAIL".to_string()
            ]
        )
    );
    let half = ask("halffailing.example");
    assert_eq!(
        (half.outcome, half.steps),
        (
            Outcome::Failed("SERVFAIL".into()),
            vec![
                "MX 10 gone.dangling.example".to_string(),
                "MX 20 mx.failing.example".to_string(),
                "gone.dangling.example: NXDOMAIN".to_string(),
                "mx.failing.example: SERVFAIL".to_string()
            ]
        )
    );
    // `10 .` is no null MX: it names no host, so the MX is dangling.
    let ten = ask("tennull.example");
    assert_eq!(
        (ten.outcome, ten.steps),
        (
            Outcome::Dangling { host: ".".into() },
            vec!["MX 10 . (not a null MX: no host)".to_string()]
        )
    );
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

/// A name whose `.well-known/matrix/server` delegates to `server`.
fn delegating(n: &str, server: &str) -> NameSpec {
    NameSpec {
        matrix_server: Some(server.into()),
        ..at(n, "ovh")
    }
}

/// A name whose `.well-known/matrix/server` answers `body` verbatim.
fn answering(n: &str, body: String) -> NameSpec {
    NameSpec {
        matrix_server_body: Some(body),
        ..at(n, "ovh")
    }
}

/// The contact world with Matrix server names delegating through `.well-known/matrix/server`
/// (with and without a port) and some whose answer is broken.
fn matrix_world() -> World {
    let mut w = contact_world();
    w.names.extend([
        delegating("ported.example", "synapse.example:8443"),
        delegating("delegating.example", "Deleg.example"),
        srv("_matrix-fed._tcp.deleg.example", &[(10, 0, 8449, "synapse.example")]),
        delegating("bare.delegating.example", "homeserver.example"),
        at("homeserver.example", "scaleway"),
        answering("html.example", "<html><body>Welcome to nginx!</body></html>".into()),
        srv("_matrix-fed._tcp.html.example", &[(10, 0, 8448, "synapse.example")]),
        answering("garbled.example", r#"{"m.server": "#.into()),
        answering("notaname.example", r#"{"m.server": "bad name!:8448"}"#.into()),
        answering(
            "huge.example",
            format!(
                r#"{{"m.server": "synapse.example:1", "pad": "{}"}}"#,
                "x".repeat(60_000)
            ),
        ),
    ]);
    w
}

#[test]
fn matrix_server_names_are_delegated_by_their_well_known() {
    let env = Env::start(matrix_world());
    let (dns, fetcher) = resolve(&env);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let m = |n: &str| {
        let s = rt.block_on(serve::matrix(&dns, &fetcher, n));
        (s.outcome, s.steps)
    };
    // A delegation with a port is used as is.
    assert_eq!(
        m("ported.example"),
        (
            host("synapse.example", Some(8443)),
            vec![".well-known/matrix/server: synapse.example:8443".to_string()]
        )
    );
    // Without a port: SRV _matrix-fed._tcp of the delegated name (not of the original one).
    assert_eq!(
        m("delegating.example"),
        (
            host("synapse.example", Some(8449)),
            vec![
                ".well-known/matrix/server: deleg.example".to_string(),
                "SRV _matrix-fed._tcp.deleg.example 10 0 8449 synapse.example".to_string()
            ]
        )
    );
    // … and without SRV, the delegated name on 8448.
    assert_eq!(
        m("bare.delegating.example"),
        (
            host("homeserver.example", Some(8448)),
            vec![
                ".well-known/matrix/server: homeserver.example".to_string(),
                "no SRV _matrix-fed._tcp.homeserver.example".to_string(),
                "no SRV _matrix._tcp.homeserver.example".to_string(),
                "homeserver.example on port 8448".to_string()
            ]
        )
    );
    // Broken answers are no delegation: the search goes on with the name itself.
    assert_eq!(
        m("html.example"),
        (
            host("synapse.example", Some(8448)),
            vec![
                ".well-known/matrix/server: not JSON".to_string(),
                "SRV _matrix-fed._tcp.html.example 10 0 8448 synapse.example".to_string()
            ]
        )
    );
    let fell_through = |n: &str, why: &str| {
        (
            host(n, Some(8448)),
            vec![
                format!(".well-known/matrix/server: {why}"),
                format!("no SRV _matrix-fed._tcp.{n}"),
                format!("no SRV _matrix._tcp.{n}"),
                format!("{n} on port 8448"),
            ],
        )
    };
    assert_eq!(m("garbled.example"), fell_through("garbled.example", "not JSON"));
    assert_eq!(
        m("notaname.example"),
        fell_through("notaname.example", "m.server \"bad name!:8448\" is not a server name")
    );
    assert_eq!(
        m("huge.example"),
        fell_through("huge.example", "larger than 51200 bytes")
    );
    // A site without one (a 404) and a name without a site at all.
    assert_eq!(m("plain.example").1[0], ".well-known/matrix/server: HTTP 404");
    // Asked through the polite client: robots.txt first.
    assert_eq!(
        env.paths("ported.example"),
        ["/robots.txt", "/.well-known/matrix/server"]
    );
}

#[test]
fn ip_literal_matrix_servers_are_served_under_the_address_policy() {
    let mut env = Env::start(contact_world());
    // Loopback IPv4 allowed, as tests allow it; ::1 and documentation addresses not.
    env.config.network.allow_private_addresses =
        whohosts::config::PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (dns, fetcher) = resolve(&env);
    let m = |n: &str| {
        let a = whohosts::model::contact::Address::classify(&format!("@u:{n}")).unwrap();
        let s = rt.block_on(serve::matrix(&dns, &fetcher, a.domain().as_str()));
        (s.outcome, s.steps)
    };
    let literal = |o: Outcome| (o, vec!["an IP literal".to_string()]);
    assert_eq!(m("127.0.0.5:8449"), literal(host("127.0.0.5", Some(8449))));
    assert_eq!(m("127.0.0.5"), literal(host("127.0.0.5", Some(8448))));
    assert_eq!(m("[::1]:8448"), literal(Outcome::Refused("::1 is loopback".into())));
    assert_eq!(
        m("192.0.2.1:8448"),
        literal(Outcome::Refused("192.0.2.1 is documentation".into()))
    );
    // In production (no private address allowed) loopback is refused too.
    env.config.network.allow_private_addresses = whohosts::config::PrivateAddresses::All(false);
    let (dns, fetcher) = resolve(&env);
    let s = rt.block_on(serve::matrix(&dns, &fetcher, "127.0.0.5:8449"));
    assert_eq!(s.outcome, Outcome::Refused("127.0.0.5 is loopback".into()));
    // A public address is served, on 8448 unless a port is given.
    let s = rt.block_on(serve::matrix(&dns, &fetcher, "[2a01:4f8::1]"));
    assert_eq!(s.outcome, host("2a01:4f8::1", Some(8448)));

    // In a contact book, the run counts the refused one apart, with why.
    env.config.network.allow_private_addresses =
        whohosts::config::PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()]);
    env.write_config();
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, "@ann:[::1]:8448\n@bob:[2001:DB8::1]\n").unwrap();
    let out = env
        .cmd()
        .args(["contacts", "--format", "json"])
        .arg(&list)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["malformed"], 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        doc["not_found"],
        serde_json::json!({
            "server address refused (2001:db8::1 is documentation; network.allow_private_addresses does not allow it)": 1.0,
            "server address refused (::1 is loopback; network.allow_private_addresses does not allow it)": 1.0
        })
    );
}

/// `contacts --format json LIST`, which must succeed: its report.
fn contacts_json(env: &Env, list: &std::path::Path) -> serde_json::Value {
    let out = env
        .cmd()
        .args(["contacts", "--format", "json"])
        .arg(list)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fediverse_handles_are_served_by_the_instance_their_webfinger_names() {
    use whohosts_sim::world::Software;
    let mut delegated = inst("social.example.org", Software::Mastodon, "hetzner");
    delegated.handle_domain = Some("example.org".into());
    let mut w = world(
        vec![delegated, inst("masto.example", Software::Mastodon, "ovh")],
        vec![
            acct("ann@social.example.org", &[]),
            acct("bob@masto.example", &[]),
            acct("eve@masto.example", &[]),
        ],
    );
    w.names = contact_world().names;
    let env = Env::start(w);
    let list = env.dir.path().join("list.txt");
    // ann's handle is at example.org, her actor on social.example.org; nobody is known as
    // cy at masto.example, where bob and eve are; nowhere.example does not exist.
    std::fs::write(
        &list,
        "@ann@example.org\n@bob@masto.example\n@cy@masto.example\n@eve@masto.example\nacct:dan@nowhere.example\n\
         ann@bigmail.example\n",
    )
    .unwrap();
    let doc = contacts_json(&env, &list);
    let rows: Vec<(String, String, serde_json::Value, serde_json::Value)> = doc["domains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["protocol"] == "fediverse")
        .map(|d| {
            (
                d["domain"].as_str().unwrap().to_string(),
                d["contacts"].to_string(),
                d["server"].clone(),
                d["steps"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "example.org".to_string(),
                "1".to_string(),
                serde_json::json!("social.example.org"),
                serde_json::json!([
                    "WebFinger: actor on social.example.org",
                    "confirmed by social.example.org"
                ])
            ),
            (
                "masto.example".to_string(),
                "3".to_string(),
                serde_json::json!("masto.example"),
                serde_json::json!([
                    "WebFinger: actor on masto.example (2 of 3 contacts)",
                    "WebFinger: HTTP 404 (1 of 3 contacts)"
                ])
            ),
            (
                "nowhere.example".to_string(),
                "1".to_string(),
                serde_json::Value::Null,
                serde_json::json!(["WebFinger: NXDOMAIN"])
            ),
        ]
    );
    // cy alone is counted apart: bob and eve are attributed through their instance.
    assert_eq!(
        doc["not_found"],
        serde_json::json!({
            "no actor found by WebFinger (HTTP 404)": 1.0,
            "no actor found by WebFinger (NXDOMAIN)": 1.0
        })
    );
    let server = level(&doc, "server");
    let weight = |k: &str| {
        server["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["key"] == k)
            .map(|b| b["weight"].clone())
    };
    assert_eq!(weight("social.example.org"), Some(serde_json::json!(1.0)));
    assert_eq!(weight("masto.example"), Some(serde_json::json!(2.0)));
    assert_eq!(server["metrics"]["total"], 4.0);
    assert_eq!(weight("example.org"), None);
    // Asked through the polite client: robots.txt first, WebFinger once per contact (cy's
    // 404 then asks host-meta, whose template names the address just asked: not asked again).
    let paths = env.paths("masto.example");
    assert_eq!(paths[0], "/robots.txt", "{paths:?}");
    let asked = |user: &str| {
        let q = format!("/.well-known/webfinger?resource=acct%3A{user}%40masto.example");
        paths.iter().filter(|p| **p == q).count()
    };
    assert_eq!((asked("bob"), asked("cy"), asked("eve")), (1, 1, 1), "{paths:?}");
    let out = env.cmd().arg("contacts").arg(&list).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "Server not found: 1 no actor found by WebFinger (HTTP 404); 1 no actor found by\n  WebFinger (NXDOMAIN).\n"
        ),
        "{text}"
    );
    assert!(
        plain(&text).contains(" By server (3 servers, 4 contacts) 1 masto.example 2 50.0 % "),
        "{text}"
    );
}

/// A book of handles one server does not know: host-meta is asked once for the run, and each
/// unknown handle then costs its one WebFinger request; on a server whose host-meta names
/// another address (`/.well-known/lrdd`), each costs that one more, never host-meta again.
#[test]
fn unknown_handles_cost_one_request_each_after_the_hosts_first() {
    use whohosts_sim::world::Software;
    let mut lrdd = inst("lrdd.example", Software::Mastodon, "ovh");
    lrdd.host_meta_only = true;
    let mut w = world(
        vec![inst("masto.example", Software::Mastodon, "ovh"), lrdd],
        vec![acct("bob@masto.example", &[]), acct("ann@lrdd.example", &[])],
    );
    w.names = contact_world().names;
    let env = Env::start(w);
    let list = env.dir.path().join("list.txt");
    let unknown = |domain: &str| (1..=6).map(|i| format!("@nobody{i}@{domain}\n")).collect::<String>();
    let book = format!(
        "@bob@masto.example\n{}@ann@lrdd.example\n{}",
        unknown("masto.example"),
        unknown("lrdd.example")
    );
    std::fs::write(&list, book).unwrap();
    let doc = contacts_json(&env, &list);
    assert_eq!(
        doc["not_found"],
        serde_json::json!({"no actor found by WebFinger (HTTP 404)": 12.0})
    );
    let count = |host: &str, prefix: &str| env.paths(host).iter().filter(|p| p.starts_with(prefix)).count();
    // 7 handles on masto.example: robots.txt, host-meta once, one WebFinger each.
    assert_eq!(
        (
            env.paths("masto.example").len(),
            count("masto.example", "/.well-known/host-meta"),
            count("masto.example", "/.well-known/webfinger")
        ),
        (9, 1, 7),
        "{:?}",
        env.paths("masto.example")
    );
    // 7 on lrdd.example, whose WebFinger answers 404 and whose host-meta names /.well-known/lrdd:
    // robots.txt, host-meta once, then WebFinger and the LRDD address each.
    assert_eq!(
        (
            env.paths("lrdd.example").len(),
            count("lrdd.example", "/.well-known/host-meta"),
            count("lrdd.example", "/.well-known/webfinger"),
            count("lrdd.example", "/.well-known/lrdd")
        ),
        (16, 1, 7, 7),
        "{:?}",
        env.paths("lrdd.example")
    );
    let server = level(&doc, "server");
    assert_eq!(server["metrics"]["total"], 2.0, "{server}");
}

/// `contacts.max_lookups_per_domain` bounds the WebFinger lookups of one domain: the contacts
/// beyond it are not asked, counted on the instance the asked ones were found on (or, when
/// none was, apart), and one line says how many.
#[test]
fn webfinger_lookups_per_domain_are_capped_and_the_rest_counted_on_the_instance() {
    use whohosts_sim::world::Software;
    let mut people = crowd("masto.example", 5);
    people[0].follows = handles_of(&people[1..]);
    let mut w = world(
        vec![
            inst("masto.example", Software::Mastodon, "ovh"),
            inst("empty.example", Software::Mastodon, "hetzner"),
        ],
        people,
    );
    w.names = contact_world().names;
    let mut env = Env::start(w);
    env.config.contacts.max_lookups_per_domain = 2;
    env.write_config();
    let list = env.dir.path().join("list.txt");
    let book: String = (0..5)
        .map(|i| format!("@user{i}@masto.example\n"))
        .chain((0..3).map(|i| format!("@ghost{i}@empty.example\n")))
        .collect();
    std::fs::write(&list, book).unwrap();
    let db = env.dir.path().join("capped.db");
    // Not quiet: the line is a notice.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .arg("--db")
        .arg(&db)
        .args(["contacts", "--format", "json"])
        .arg(&list)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "whohosts: 4 fediverse contacts not looked up by WebFinger (contacts.max_lookups_per_domain = 2): 3 of \
             masto.example, 1 of empty.example; each counted on the instance its domain's other contacts were found on\n"
        ),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let webfinger = |host: &str| {
        (env.paths(host).iter())
            .filter(|p| p.starts_with("/.well-known/webfinger"))
            .count()
    };
    assert_eq!((webfinger("masto.example"), webfinger("empty.example")), (2, 2));
    let server = level(&doc, "server");
    assert_eq!(server["metrics"]["total"], 5.0, "{server}");
    assert_eq!(server["buckets"][0]["key"], "masto.example", "{server}");
    assert_eq!(server["buckets"][0]["weight"], 5.0, "{server}");
    assert_eq!(
        doc["not_found"],
        serde_json::json!({
            "no actor found by WebFinger (HTTP 404)": 2.0,
            "no actor found by WebFinger (not looked up: over contacts.max_lookups_per_domain)": 1.0
        })
    );
    let steps = |domain: &str| {
        (doc["domains"].as_array().unwrap().iter())
            .find(|d| d["domain"] == domain)
            .map(|d| d["steps"].clone())
            .unwrap()
    };
    assert_eq!(
        steps("masto.example"),
        serde_json::json!([
            "WebFinger: actor on masto.example (2 of 5 contacts)",
            "not looked up: over contacts.max_lookups_per_domain (3 of 5 contacts)"
        ])
    );
    // A database holding a crawl too: a contacts level under the follows' weight is an
    // empty table, and one line names the weight it has figures under.
    let crawl = env
        .cmd()
        .arg("--db")
        .arg(&db)
        .args(["crawl", "@user0@masto.example"])
        .output()
        .unwrap();
    assert!(crawl.status.success(), "{}", String::from_utf8_lossy(&crawl.stderr));
    let query = |args: &[&str]| env.cmd().arg("--db").arg(&db).arg("query").args(args).output().unwrap();
    let out = query(&["concentration", "-p", "level=provider", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: query concentration: level provider has no figures under weight accounts: contacts snapshots \
         have it under contacts; -p weight=contacts to see it\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = query(&[
        "concentration",
        "-p",
        "level=provider",
        "-p",
        "weight=contacts",
        "--format",
        "csv",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    // A level the follows have is said nothing of.
    let out = query(&["concentration", "-p", "level=instance", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn the_steps_taken_are_kept_in_the_report_and_the_store() {
    let env = Env::start(matrix_world());
    let list = env.dir.path().join("list.txt");
    std::fs::write(
        &list,
        "ann@bigmail.example\n@bob:delegating.example\nxmpp:cy@chat.example\n@dan:html.example\n\
         ed@servfailmx.example\nfay@tennull.example\n",
    )
    .unwrap();
    let db = env.dir.path().join("c.db");
    let out = env
        .cmd()
        .args(["contacts", "--format", "json", "--db"])
        .arg(&db)
        .arg(&list)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<(String, String, Vec<String>)> = doc["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["protocol"].as_str().unwrap().to_string(),
                d["domain"].as_str().unwrap().to_string(),
                serde_json::from_value(d["steps"].clone()).unwrap(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        steps,
        [
            (
                "email".to_string(),
                "bigmail.example".to_string(),
                s(&["MX 10 mx1.bigmail.example", "MX 20 mx2.bigmail.example"])
            ),
            (
                "email".to_string(),
                "servfailmx.example".to_string(),
                s(&["MX 10 mx.failing.example", "mx.failing.example: SERVFAIL"])
            ),
            (
                "email".to_string(),
                "tennull.example".to_string(),
                s(&["MX 10 . (not a null MX: no host)"])
            ),
            (
                "matrix".to_string(),
                "delegating.example".to_string(),
                s(&[
                    ".well-known/matrix/server: deleg.example",
                    "SRV _matrix-fed._tcp.deleg.example 10 0 8449 synapse.example"
                ])
            ),
            (
                "matrix".to_string(),
                "html.example".to_string(),
                s(&[
                    ".well-known/matrix/server: not JSON",
                    "SRV _matrix-fed._tcp.html.example 10 0 8448 synapse.example"
                ])
            ),
            (
                "xmpp".to_string(),
                "chat.example".to_string(),
                s(&[
                    "SRV _xmpp-server._tcp.chat.example 10 0 5269 xmpp.chat.example",
                    "SRV _xmpps-server._tcp.chat.example 5 10 5270 xmpps.chat.example"
                ])
            ),
        ]
    );
    // The MX host's SERVFAIL is a DNS failure, counted apart with its reason; `10 .` dangles.
    assert_eq!(
        doc["not_found"],
        serde_json::json!({
            "DNS failed (SERVFAIL)": 1.0,
            "dangling (MX or SRV names a host that does not resolve)": 1.0
        })
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: warning: 1 of 6 domains did not resolve (1 of 6 contacts): 1 SERVFAIL; see \"Server not found\" \
         in the report\n"
    );
    // Stored with the domain's row, as a JSON array.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: String = conn
        .query_row(
            "SELECT steps FROM contact_domain WHERE domain = 'delegating.example'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored,
        r#"[".well-known/matrix/server: deleg.example","SRV _matrix-fed._tcp.deleg.example 10 0 8449 synapse.example"]"#
    );
}

/// A contact book modelled on the measurement that started the project: 150 contacts over
/// real-looking mail domains and MX hosts, 53 % of them with Google or Microsoft (the provider
/// rules name them from the MX hosts), six providers reaching 75 %. One domain is behind
/// Proofpoint with an SPF record naming Microsoft (inferred), one behind Mimecast with no SPF
/// (stays "behind gateway Mimecast"), and one MX no rule names (its AS organisation, Hetzner).
pub(crate) fn first_measurement() -> (World, String) {
    type MailDomain<'a> = (&'a str, &'a [&'a str], &'a str, Option<&'a str>, usize);
    let mut w = world(vec![], vec![]);
    for (name, asn, as_name, octet, cc) in [
        ("google", 15169, "GOOGLE", 40, "US"),
        ("microsoft", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 41, "US"),
        ("infomaniak", 29222, "INFOMANIAK-AS", 42, "CH"),
        ("mailo", 64510, "MAILO-AS - Mailo SAS, FR", 43, "FR"),
        ("proofpoint", 64511, "PPOINT - Proofpoint Test Range, US", 44, "US"),
        ("proton", 64512, "PROTON - Proton Test Range, CH", 45, "CH"),
        ("mimecast", 64513, "MIMECAST - Mimecast Test Range, GB", 46, "GB"),
    ] {
        w.providers.push(whohosts_sim::world::Provider {
            name: name.into(),
            asn,
            as_name: as_name.into(),
            octet,
            country: cc.into(),
        });
    }
    // (mail domain, its MX hosts, the sim provider they are on, SPF, contacts)
    let plan: [MailDomain; 15] = [
        ("gmail.com", &["gmail-smtp-in.l.google.com"], "google", None, 30),
        (
            "atelier-lumen.fr",
            &["aspmx.l.google.com", "alt1.aspmx.l.google.com"],
            "google",
            None,
            20,
        ),
        (
            "outlook.com",
            &["outlook-com.olc.protection.outlook.com"],
            "microsoft",
            None,
            12,
        ),
        (
            "hotmail.fr",
            &["hotmail-fr.olc.protection.outlook.com"],
            "microsoft",
            None,
            8,
        ),
        (
            "cabinet-morel.fr",
            &["cabinet-morel-fr.mail.protection.outlook.com"],
            "microsoft",
            None,
            6,
        ),
        (
            "univ-exemple.fr",
            &["mx0a-00123401.pphosted.com"],
            "proofpoint",
            Some("v=spf1 include:spf.protection.outlook.com include:_spf.salesforce.com -all"),
            4,
        ),
        (
            "mairie-exemple.fr",
            &["mx1.mail.ovh.net", "mx2.mail.ovh.net"],
            "ovh",
            None,
            10,
        ),
        (
            "proton.me",
            &["mail.protonmail.ch", "mailsec.protonmail.ch"],
            "proton",
            None,
            9,
        ),
        (
            "chambers-law.co.uk",
            &["eu-smtp-inbound-1.mimecast.com"],
            "mimecast",
            None,
            8,
        ),
        ("ik.me", &["mta-gw.infomaniak.ch"], "infomaniak", None, 7),
        ("verein-beispiel.de", &["mail.verein-beispiel.de"], "hetzner", None, 6),
        ("mailbox.org", &["mxext1.mailbox.org"], "contabo", None, 6),
        ("posteo.de", &["mx01.posteo.de"], "netcup", None, 6),
        ("orange.fr", &["smtp-in.orange.fr"], "scaleway", None, 6),
        ("free.fr", &["mx1.free.fr"], "digitalocean", None, 6),
    ];
    let mut book = String::from("# contacts\n");
    let mut add = |domain: &str, n: usize| {
        for i in 0..n {
            book.push_str(&format!("Contact {i} <c{i}@{domain}>\n"));
        }
    };
    for (domain, mx, provider, spf, n) in plan {
        let records: Vec<(u16, &str)> = mx.iter().enumerate().map(|(i, h)| (10 * (i as u16 + 1), *h)).collect();
        for h in mx {
            w.names.push(at(h, provider));
        }
        w.names.push(NameSpec {
            txt: spf.map(|s| vec![s.to_string()]).unwrap_or_default(),
            ..mail(domain, &records)
        });
        add(domain, n);
    }
    // Mailo's own domain has no MX: its own address receives its mail (RFC 5321 implicit MX).
    w.names.push(at("mailo.com", "mailo"));
    add("mailo.com", 6);
    // Duplicates in other spellings, and lines that are no address.
    book.push_str("C0@GMAIL.COM.\nc1@gmail.com\nnot an address\n@@\n");
    (w, book)
}

/// The row of `domain` in a contacts JSON report's `domains`.
fn domain_row<'a>(doc: &'a serde_json::Value, domain: &str) -> &'a serde_json::Value {
    doc["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
        .unwrap_or_else(|| panic!("no domain {domain}"))
}

fn level<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == name)
        .unwrap_or_else(|| panic!("no level {name}"))
}

#[test]
fn the_first_measurement_is_reproduced() {
    let (w, book) = first_measurement();
    let env = Env::start(w);
    let file = env.dir.path().join("contacts.txt");
    std::fs::write(&file, book).unwrap();
    let out = env.run(&["contacts", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let words = plain(&text);
    assert!(
        words.starts_with(
            "Of your 150 contacts, 53 % receive their mail through 2 providers (Google, Microsoft); 6 providers \
             cover 75 %. 150 distinct addresses, weighed by contacts; 2 malformed entries skipped."
        ),
        "{text}"
    );
    assert!(
        words.contains(
            " By provider (12 providers, 150 contacts) 1 Google 50 33.3 % 2 Microsoft 30 20.0 % 3 OVH 10 6.7 % 4 \
             Proton 9 6.0 % 5 behind gateway Mimecast 8 5.3 % "
        ),
        "{text}"
    );
    assert!(
        words.contains(
            " Services: Google: Gmail 30, Google Workspace 20; Microsoft: Outlook.com 20, Microsoft 365 6, Microsoft \
             365 (inferred from SPF) 4; OVH: OVHcloud Email 10; Proton: Proton Mail 9; "
        ),
        "{text}"
    );
    // No rule names mail.verein-beispiel.de: the provider is its AS organisation.
    assert!(words.contains(" Hetzner 6 4.0 % "), "{text}");
    // The gateway level is over the mail behind a gateway; the rest is counted apart.
    assert!(
        words.contains(
            " By gateway (2 gateways, 12 contacts) 1 Mimecast 8 66.7 % 2 Proofpoint 4 33.3 % top-3 100.0 %, k50 1, \
             k75 2, HHI 5556 (highly concentrated), effective number 1.9, Gini 0.17. Counted apart: 138 reach their \
             provider directly. By "
        ),
        "{text}"
    );

    let out = env.run(&["contacts", "--format", "json", file.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let providers = level(&doc, "provider");
    assert_eq!(providers["metrics"]["k50"], 2);
    assert_eq!(providers["metrics"]["k75"], 6);
    assert_eq!(providers["buckets"][0]["key"], "Google");
    assert_eq!(providers["buckets"][0]["services"]["Gmail"], 30.0);
    assert_eq!(
        providers["buckets"][1]["services"]["Microsoft 365 (inferred from SPF)"],
        4.0
    );
    let levels: Vec<&str> = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        [
            "protocol",
            "domain",
            "server",
            "provider",
            "gateway",
            "organisation",
            "as"
        ]
    );
    assert_eq!(level(&doc, "server")["buckets"][0]["key"], "gmail-smtp-in.l.google.com");
    let orgs = level(&doc, "organisation");
    assert_eq!(orgs["buckets"][0]["key"], "Google");
    assert_eq!(orgs["buckets"][0]["weight"], 50.0);
    // Behind the gateway, the SPF include that named the provider is a step of the domain.
    let steps = |domain: &str| &domain_row(&doc, domain)["steps"];
    assert_eq!(
        steps("univ-exemple.fr"),
        &serde_json::json!([
            "MX 10 mx0a-00123401.pphosted.com",
            "SPF include:spf.protection.outlook.com (Microsoft)"
        ])
    );
    assert_eq!(
        steps("chambers-law.co.uk"),
        &serde_json::json!(["MX 10 eu-smtp-inbound-1.mimecast.com"])
    );
    // Every format counts the mail that reaches its provider directly apart from the gateways.
    let gateway = level(&doc, "gateway");
    assert_eq!(
        (
            &gateway["metrics"]["total"],
            &gateway["metrics"]["buckets"],
            &gateway["metrics"]["k50"],
            &gateway["metrics"]["k75"],
            gateway["metrics"]["hhi"].as_f64().unwrap().round(),
            &gateway["apart"]
        ),
        (
            &serde_json::json!(12.0),
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(2),
            5556.0,
            &serde_json::json!({"reach their provider directly": 138.0})
        )
    );
    let keys: Vec<&str> = gateway["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["Mimecast", "Proofpoint"]);
    let out = env.run(&["contacts", "--format", "csv", file.to_str().unwrap()]);
    let csv = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains(",gateway,")).collect();
    assert_eq!(
        rows,
        [
            "3,gateway,contacts,1,Mimecast,Mimecast,8,0.6666666666666666",
            "3,gateway,contacts,2,Proofpoint,Proofpoint,4,0.3333333333333333"
        ],
        "{csv}"
    );
    // What the gateway level counts apart, in CSV as in JSON above and the text and HTML below.
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains("-apart,")).collect();
    assert_eq!(
        rows,
        [format!(
            "3,gateway-apart,contacts,1,reach their provider directly,reach their provider directly,138,{}",
            138.0_f64 / 150.0
        )],
        "{csv}"
    );
    let out = env.run(&["contacts", "--format", "html", file.to_str().unwrap()]);
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("<h2>By gateway (2 gateways, 12 contacts)</h2>")
            && html.contains("<p class=\"muted\">Counted apart: 138 reach their provider directly.</p>"),
        "{html}"
    );
}

#[test]
fn a_mailbox_weighs_contacts_by_the_messages_exchanged() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let mbox = env.dir.path().join("mail.mbox");
    // The owner writes three times to a contact at OVH, once to Google; Google writes back once.
    let mut m = String::new();
    for (to, n) in [("c0@mairie-exemple.fr", 3), ("c0@gmail.com", 1)] {
        for _ in 0..n {
            m.push_str(&format!(
                "From me@mailo.com Mon Jan  1 00:00:00 2026\nFrom: me@mailo.com\nTo: {to}\n\nhello\n\n"
            ));
        }
    }
    m.push_str("From c0@gmail.com Mon Jan  1 00:00:00 2026\nFrom: c0@gmail.com\nTo: me@mailo.com\n\nhi\n\n");
    // One message to both: it counts once for each of them (7 message-contact pairs, 6 messages).
    m.push_str(
        "From me@mailo.com Mon Jan  1 00:00:00 2026\nFrom: me@mailo.com\nTo: c0@mairie-exemple.fr, c0@gmail.com\n\nall\n\n",
    );
    std::fs::write(&mbox, m).unwrap();
    let out = env
        .cmd()
        .args(["contacts", "--weight", "messages", "--format", "json"])
        .arg(&mbox)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["total"], 7.0, "the owner's own address is no contact");
    let orgs = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "organisation")
        .unwrap();
    assert_eq!(orgs["buckets"][0]["key"], "OVH");
    assert_eq!(orgs["buckets"][0]["weight"], 4.0);
    assert_eq!(orgs["buckets"][1]["key"], "Google");
    assert_eq!(orgs["buckets"][1]["weight"], 3.0);
    // The text never calls the 7 pairs "messages": 6 messages were exchanged.
    let out = env
        .cmd()
        .args(["contacts", "--weight", "messages"])
        .arg(&mbox)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        flat(&text).starts_with(
            "Of 7 message-contact pairs, 57 % go through 1 provider (OVH); 2 providers cover 75 %. 2 distinct \
             addresses, weighed by messages (a message counts once for each contact it names); 0 malformed entries \
             skipped."
        ),
        "{text}"
    );
    assert!(
        text.contains("\nBy hosting organisation (2 organisations, 7 message-contact pairs)\n"),
        "{text}"
    );

    // Without a mailbox, the messages weight is a usage error naming the flag.
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, "a@gmail.com\n").unwrap();
    let out = env
        .cmd()
        .args(["contacts", "--weight", "messages"])
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: --weight \"messages\": needs a mailbox (mbox or Maildir) among the files: none holds a message\n\
         whohosts: see `whohosts contacts --help`\n"
    );
}

#[test]
fn bad_sources_are_one_line_each_and_the_good_ones_are_measured() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let dir = env.dir.path();
    let write = |name: &str, body: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let good = write("good.txt", b"ann@gmail.com\nbob@outlook.com\nnot an address\n");
    let binary = write("photo.vcf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let empty = write("empty.txt", b"");
    let phones = write("phones.csv", b"Name,Phone\nAnn,123\n");
    let broken = write(
        "broken.vcf",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:cy@gmail.com\r\nNOTE:a note\r\nthat lost its fold\r\nEND:VCARD\r\n",
    );
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    let folder = folder.to_str().unwrap().to_string();
    let huge = write(
        "huge.txt",
        format!("{}\ndan@gmail.com\n", "y".repeat(100_000)).as_bytes(),
    );
    let files = [&good, &binary, &empty, &phones, &broken, &folder, &huge];
    // Not --quiet, so the malformed entries are listed.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .args(["contacts", "--show-malformed"])
        .args(files)
        .env_remove("WHOHOSTS_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let y = "y".repeat(60);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: contacts file {binary}: is not text (binary data); expected vCard, CSV, plain text, mbox or Maildir\n\
             whohosts: contacts file {empty}: is empty\n\
             whohosts: contacts file {phones}: has no column of e-mail, XMPP or Matrix addresses (header: Name,Phone)\n\
             whohosts: contacts file {folder}: is a folder but not a Maildir (no cur/ or new/ inside)\n\
             whohosts: {good}:3: \"not an address\": no '@' in the address\n\
             whohosts: {broken}:5: \"that lost its fold\": neither a property nor a folded line (a fold without its leading space?)\n\
             whohosts: {huge}:1: \"{y}…\": a line longer than 64 KiB, skipped\n"
        )
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("4 distinct addresses, weighed by contacts; 3 malformed entries skipped."),
        "{text}"
    );
    assert!(
        plain(&text).contains(" By provider (2 providers, 4 contacts) 1 Google 3 75.0 % 2 Microsoft 1 25.0 % "),
        "{text}"
    );

    // Every source refused: the lines, no report, exit code 1.
    let out = env.run(&["contacts", &empty, &phones]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 2);

    // A file that cannot be read: one line (as root the permission is no obstacle, so only
    // a missing file is checked then).
    let locked = write("locked.txt", b"eve@gmail.com\n");
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let missing = dir.join("missing.txt").to_str().unwrap().to_string();
    for p in [&locked, &missing] {
        if p == &locked && std::fs::read(p).is_ok() {
            continue;
        }
        let out = env.run(&["contacts", p, &good]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(&format!("whohosts: contacts file {p}: ")), "{err}");
        // Then good.txt's malformed line, a warning even under -q.
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(
            err.ends_with(&format!(
                "\nwhohosts: warning: {good}: 1 malformed entry (--show-malformed lists them)\n"
            )),
            "{err}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("2 distinct addresses"));
    }
}

#[test]
fn the_demo_measures_a_contact_book_offline() {
    // The follows report's flags are refused, never ignored.
    for flag in [
        &["-o", "x.txt"][..],
        &["--top", "2"],
        &["--weight", "edges"],
        &["--by", "country"],
    ] {
        let out = crate::cli::whohosts()
            .args(["demo", "--contacts"])
            .args(flag)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!(
                "whohosts: the argument '--contacts' cannot be used with '{}",
                flag[0]
            )) || err.contains("cannot be used with '--output"),
            "{err}"
        );
    }
    let out = crate::cli::whohosts()
        .args(["demo", "--size", "40", "--seed", "3", "--contacts"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        flat(&text).starts_with(
            "Of your 26 contacts whose server was found (of 27 in all), 65 % are served by 2 providers (Google, \
             Microsoft); 3 providers cover 75 %."
        ),
        "{text}"
    );
    assert!(
        text.contains("Server not found: 1 receives no mail (null MX).\n"),
        "{text}"
    );
    // The follows report's layout: heading, ranked rows with bars, the band in words, Gini.
    // The book's MX hosts bear real provider names, so the shipped rules name the providers
    // and their services; one domain is behind Mimecast, Microsoft inferred from its SPF.
    assert!(
        text.contains(
            "\nBy provider (7 providers, 26 contacts)\n    1  Google                           9   34.6 %  █████████▊\n    2  Microsoft                        8   30.8 %  ████████▋\n    3  Hetzner                          3   11.5 %  ███▎\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  top-3 76.9 %, k50 2, k75 3, HHI 2426 (highly concentrated), effective number\n  5.1, Gini 0.43.\n  \
             Services: Google: Gmail 7, Google Workspace 2; Microsoft: Microsoft 365\n  (inferred from SPF) 4, \
             Outlook.com 4; Infomaniak: Infomaniak Mail 2; OVH:\n  OVHcloud Email 2.\n"
        ),
        "{text}"
    );
    assert!(
        plain(&text).contains(
            " By gateway (1 gateway, 4 contacts) 1 Mimecast 4 100.0 % top-3 100.0 %, k50 1, k75 1, HHI 10000 (highly \
             concentrated), effective number 1.0, Gini 0.00. Counted apart: 19 reach their provider directly. "
        ),
        "{text}"
    );
    assert!(
        plain(&text).contains(
            " By hosting organisation (8 organisations, 26 contacts) 1 Google 9 34.6 % 2 Microsoft 4 15.4 % 3 \
             Mimecast Services Limited 4 15.4 % 4 Hetzner 3 11.5 % "
        ),
        "{text}"
    );
    assert!(plain(&text).contains(" xmpp.jabber.example 1 3.8 % "), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    // The book is a temporary file, removed when the demo ends: named as the demo's book.
    assert_eq!(
        err,
        "whohosts: warning: the demo's contact book: 1 malformed entry (--show-malformed lists them)\n"
    );
    let out = crate::cli::whohosts()
        .args(["demo", "--size", "40", "--seed", "3", "--contacts", "--show-malformed"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("whohosts: the demo's contact book:")
            && !err.contains("contacts.vcf")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(
        text.contains("27 distinct addresses, weighed by contacts; 1 malformed entry skipped."),
        "{text}"
    );
    assert!(
        text.contains("(A demo contact book, a vCard of 25 cards, measured in a simulated world"),
        "{text}"
    );
    // CSV and HTML say what the text says of the servers not found, from the same figures.
    let other = |format: &str| {
        let out = crate::cli::whohosts()
            .args(["demo", "--size", "40", "--seed", "3", "--contacts", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = other("csv");
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains(",not-found,")).collect();
    assert_eq!(
        rows,
        [format!(
            "1,not-found,contacts,1,receives no mail (null MX),receives no mail (null MX),1,{}",
            1.0_f64 / 27.0
        )],
        "{csv}"
    );
    // And what a level counted apart: the text's one "Counted apart" line, a CSV row.
    assert_eq!(text.matches("Counted apart:").count(), 1, "{text}");
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains("-apart,")).collect();
    assert_eq!(
        rows,
        [format!(
            "1,gateway-apart,contacts,1,reach their provider directly,reach their provider directly,19,{}",
            19.0_f64 / 27.0
        )],
        "{csv}"
    );
    let html = other("html");
    assert!(
        html.contains("<p id=\"not-found\">Server not found: 1 receives no mail (null MX).</p>"),
        "{html}"
    );
    // The services of the providers, in HTML as in the text above (one sentence, made in one
    // place).
    let services = "Services: Google: Gmail 7, Google Workspace 2; Microsoft: Microsoft 365 (inferred from SPF) 4, \
                    Outlook.com 4; Infomaniak: Infomaniak Mail 2; OVH: OVHcloud Email 2.";
    assert!(
        html.contains(&format!("<p id=\"services\">{services}</p>\n</section>")),
        "{html}"
    );
}

/// `-q` silences notices, but a list asked for with `--show-malformed` is printed: the
/// malformed entries and the lines that were not UTF-8 (read as Windows-1252), with file
/// and line. An 8-bit file is read, never refused whole.
#[test]
fn show_malformed_lists_under_quiet_with_the_lines_not_in_utf8() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let p = env.dir.path().join("list.txt");
    std::fs::write(&p, b"Ren\xe9 <ann@gmail.com>\nnot an address\n").unwrap();
    let p = p.to_str().unwrap();
    let out = env.run(&["contacts", "--show-malformed", p]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: {p}:2: \"not an address\": no '@' in the address\n\
             whohosts: {p}:1: not UTF-8: read as Windows-1252 (its addresses intact, its names perhaps misread)\n"
        )
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("1 distinct address, weighed by contacts; 1 malformed entry skipped."));
    // Not asked, under -q: the malformed entry is still one warning naming the file (data
    // lost), the line read as Windows-1252 (nothing lost) is not said.
    let out = env.run(&["contacts", p]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("whohosts: warning: {p}: 1 malformed entry (--show-malformed lists them)\n")
    );
}

/// A run where every DNS lookup failed (here SERVFAIL) says so on stderr (even under -q),
/// is not rated, is stored as failed (out of every trend) and exits 1; one domain that
/// answers is enough for a rated, complete snapshot.
#[test]
fn a_run_where_every_lookup_failed_is_not_rated_and_stored_as_failed() {
    let env = Env::start(contact_world());
    let book = env.dir.path().join("book.txt");
    std::fs::write(&book, "a@broken.example\nb@broken.example\n").unwrap();
    let out = env.run(&["contacts", book.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: warning: every DNS lookup failed (1 domain; is the resolver reachable?), so no server was \
         found and nothing is rated; snapshot 1 is stored as failed\n"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Of your 2 contacts, none has a server that was found: nothing to attribute.\n"),
        "{text}"
    );
    assert!(text.contains("Server not found: 2 DNS failed (SERVFAIL)."), "{text}");
    assert!(
        text.contains("\nBy provider (0 providers, 0 contacts)\n  nothing to attribute at this level: not rated.\n"),
        "{text}"
    );
    assert!(!text.contains("HHI"), "{text}");
    let list = String::from_utf8_lossy(&env.run(&["snapshots"]).stdout).to_string();
    assert!(list.lines().any(|l| l.starts_with("1\tcontacts\tfailed\t")), "{list}");
    std::fs::write(&book, "a@broken.example\nb@bigmail.example\n").unwrap();
    let out = env.run(&["contacts", book.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8_lossy(&env.run(&["snapshots"]).stdout).to_string();
    assert!(list.lines().any(|l| l.starts_with("2\tcontacts\tcomplete\t")), "{list}");
}

/// A book of `n` domains that no nameserver was told of (`u@d0.example` …).
fn many_domains(env: &Env, n: usize) -> String {
    let book = env.dir.path().join("many.txt");
    std::fs::write(&book, (0..n).map(|i| format!("u@d{i}.example\n")).collect::<String>()).unwrap();
    book.to_str().unwrap().to_string()
}

/// A nameserver that never answers (a UDP socket on loopback that reads nothing): after
/// `dns.not_answering_after` (5) queries in a row time out and nothing answered for twice a
/// query's time (2 × 2 s), the run's other queries fail at once, so 160 domains (10 rounds
/// of 16 at a time, 2 s each without the cut-off) take about two queries' time. One warning line names the nameserver; the report counts every
/// domain as not answering, not as a timeout; the snapshot is stored as failed.
#[test]
fn a_nameserver_that_never_answers_is_given_up_after_five_timeouts_in_a_row() {
    let mut env = Env::start(contact_world());
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    env.config.dns.nameservers = vec![addr.to_string()];
    env.config.dns.timeout_secs = 1.0;
    env.config.dns.attempts = 2;
    env.write_config();
    let book = many_domains(&env, 160);
    let db = env.dir.path().join("dead.db");
    let started = std::time::Instant::now();
    let out = env.run(&["--db", db.to_str().unwrap(), "contacts", &book]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: warning: nameserver {addr} not answering (5 DNS queries in a row timed out, no answer for \
             4 s; the rest failed at once): no domain resolved (of 160 domains), so no server was found and nothing is rated; \
             snapshot 1 is stored as failed\n"
        )
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Server not found: 160 DNS failed (nameserver not answering)."),
        "{text}"
    );
    // One try is 1 s, a query 2 s: two rounds of 16 queries, then nothing more to wait for.
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    drop(dead);
}

/// SIGINT or SIGTERM while the lookups wait on a nameserver that stalls (a UDP socket on
/// loopback that reads every query and answers none, with a minute's timeout): the run stops
/// at once, stores nothing (its snapshot is begun only when its lookups are done), says so on
/// one line and exits 4; `snapshots` lists nothing.
#[test]
fn sigint_and_sigterm_stop_a_contacts_run_with_nothing_stored() {
    let mut env = Env::start(contact_world());
    let stalled = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    env.config.dns.nameservers = vec![stalled.local_addr().unwrap().to_string()];
    env.config.dns.timeout_secs = 60.0;
    env.config.dns.attempts = 1;
    env.write_config();
    let book = many_domains(&env, 3);
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    for signal in ["INT", "TERM"] {
        let db = env.dir.path().join(format!("{signal}.db"));
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
            .arg("--config")
            .arg(env.config_path())
            .arg("--db")
            .arg(&db)
            .args(["contacts", &book])
            .env_remove("WHOHOSTS_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The first query has come: the lookups are under way (and the signals watched).
        stalled.recv_from(&mut [0u8; 512]).unwrap();
        let asked = std::time::Instant::now();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        let took = asked.elapsed();
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string()),
            (
                Some(4),
                "whohosts: interrupted before the lookups were done; nothing stored: run the same command \
                 again\n"
                    .to_string()
            ),
            "SIG{signal}"
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "SIG{signal}");
        assert!(took < std::time::Duration::from_secs(5), "SIG{signal} took {took:?}");
        let list = env.run(&["--db", db.to_str().unwrap(), "snapshots"]);
        assert_eq!(list.status.code(), Some(0), "SIG{signal}");
        assert_eq!(
            String::from_utf8_lossy(&list.stdout),
            "id\tkind\tstatus\tstarted\tfinished\taccounts\tinstances\tseeds\n",
            "SIG{signal}: no snapshot"
        );
        // Drain what the run asked before it stopped.
        stalled.set_nonblocking(true).unwrap();
        while stalled.recv_from(&mut [0u8; 512]).is_ok() {}
        stalled.set_nonblocking(false).unwrap();
    }
}

/// Twenty silent domains asked side by side on a nameserver that answers every other name
/// (the simulator's): their timeouts end together, before a second round could go
/// unanswered, so the nameserver is not given up. The three other domains are still asked
/// and answered, the twenty are stored as timeouts (never "not answering"), the run ends
/// with one warning counting them, and the snapshot is complete and rated on what resolved.
#[test]
fn silent_domains_on_a_nameserver_that_answers_are_timeouts_not_a_dead_nameserver() {
    let mut w = contact_world();
    for i in 0..20 {
        w.names.push(NameSpec {
            dns_fault: DnsFault::Timeout,
            ..mail(&format!("t{i}.example"), &[(10, "mx1.bigmail.example")])
        });
    }
    let mut env = Env::start(w);
    env.config.dns.timeout_secs = 1.0;
    env.config.dns.attempts = 1;
    env.write_config();
    let book = env.dir.path().join("book.txt");
    let mut lines: String = (0..20).map(|i| format!("u@t{i}.example\n")).collect();
    lines.push_str("a@bigmail.example\nb@selfhosted.example\nc@nowhere.example\n");
    std::fs::write(&book, lines).unwrap();
    let db = env.dir.path().join("half.db");
    let out = env.run(&["--db", db.to_str().unwrap(), "contacts", book.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: warning: 21 of 23 domains did not resolve (21 of 23 contacts): 20 timeout, 1 NXDOMAIN; see \
         \"Server not found\" in the report\n"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(String, i64)> = c
        .prepare(
            "SELECT not_found, count(*) FROM contact_domain WHERE snapshot_id = 1 AND not_found IS NOT NULL \
             GROUP BY not_found ORDER BY not_found",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            ("DNS failed (timeout)".to_string(), 20),
            ("no such domain (NXDOMAIN)".to_string(), 1)
        ]
    );
    let status: String = c
        .query_row("SELECT status FROM snapshot WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "complete");
}

/// Some domains that do not resolve, too few timeouts to give the nameserver up: one
/// warning counts them by answer (even under -q, so cron mails it); the report lists them.
#[test]
fn a_run_where_some_domains_do_not_resolve_ends_with_one_line_counting_them() {
    let mut w = contact_world();
    w.names.push(NameSpec {
        dns_fault: DnsFault::Timeout,
        ..mail("slow.example", &[(10, "mx1.bigmail.example")])
    });
    let mut env = Env::start(w);
    env.config.dns.timeout_secs = 1.0;
    env.config.dns.attempts = 1;
    env.write_config();
    let book = env.dir.path().join("book.txt");
    std::fs::write(
        &book,
        "a@bigmail.example\nb@selfhosted.example\nc@nowhere.example\nd@gone.example\ne@broken.example\n\
         f@slow.example\ng@nomail.example\nh@nowhere.example\n",
    )
    .unwrap();
    let out = env.run(&["contacts", book.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Domains counted by answer, with the contacts they hold: those the report counts.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: warning: 4 of 7 domains did not resolve (5 of 8 contacts): 2 NXDOMAIN, 1 SERVFAIL, 1 timeout; \
         see \"Server not found\" in the report\n"
    );
    let text = flat(&String::from_utf8_lossy(&out.stdout));
    assert!(text.contains("3 no such domain (NXDOMAIN)"), "{text}");
    assert!(text.contains("1 DNS failed (timeout)"), "{text}");
}

/// `dns.attempts` counts tries, the first included: 0, and more than 10, are refused with
/// one line naming the key.
#[test]
fn dns_attempts_out_of_range_is_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    for n in [0, 11, 1_000_000] {
        std::fs::write(&path, format!("[dns]\nattempts = {n}\n")).unwrap();
        let out = crate::cli::whohosts()
            .arg("--config")
            .arg(&path)
            .args(["contacts", "book.txt"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "attempts = {n}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "whohosts: config {}: dns.attempts must be from 1 to 10 (tries per query, the first included), \
                 not {n}\n",
                path.display()
            )
        );
    }
}

/// `dns.attempts` is the number of tries, the first included (hickory counts retries after
/// the first): against a nameserver that never answers, one attempt of 1 s fails after
/// about 1 s, not 2; two attempts after about 2 s.
#[test]
fn dns_attempts_counts_tries_not_retries() {
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (attempts, low, high) in [(1, 1.0, 1.9), (2, 2.0, 2.9)] {
        let mut cfg = whohosts::config::Dns {
            nameservers: vec![dead.local_addr().unwrap().to_string()],
            ..Default::default()
        };
        cfg.timeout_secs = 1.0;
        cfg.attempts = attempts;
        cfg.not_answering_after = 0;
        let gate = AddressGate::new(whohosts::config::PrivateAddresses::All(true));
        let dns = Dns::new(&cfg, gate).unwrap();
        let started = std::time::Instant::now();
        let r = rt.block_on(dns.mx("d.example"));
        let took = started.elapsed().as_secs_f64();
        assert_eq!(r.unwrap_err().to_string(), "DNS did not answer for d.example (timeout)");
        assert!((low..high).contains(&took), "attempts = {attempts}: {took:.2} s");
    }
}

/// A mail server in no AS is no provider: the provider, organisation and AS levels count it
/// apart as the follows report counts an instance in no AS ("Counted apart: 1 no AS."), and
/// their figures are over the contacts whose provider is known.
#[test]
fn a_server_in_no_as_is_counted_apart_as_the_follows_report_counts_it() {
    let mut w = world(vec![], vec![]);
    w.providers.push(whohosts_sim::world::Provider {
        name: "unrouted".into(),
        asn: 64599,
        as_name: "UNROUTED".into(),
        octet: 61,
        country: "DE".into(),
    });
    w.names = vec![
        at("mx.routed.example", "hetzner"),
        mail("routed.example", &[(10, "mx.routed.example")]),
        at("mx.unrouted.example", "unrouted"),
        mail("unrouted.example", &[(10, "mx.unrouted.example")]),
    ];
    let env = Env::start(w);
    // The ASN data knows no range of the unrouted provider.
    let asn = env.dir.path().join("sim-asn.csv");
    let kept: String = std::fs::read_to_string(&asn)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("UNROUTED"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&asn, kept).unwrap();
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, "a@routed.example\nb@routed.example\nc@unrouted.example\n").unwrap();
    let out = env.cmd().arg("contacts").arg(&list).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let words = plain(&text);
    assert!(
        words.starts_with(
            "Of your 2 contacts whose provider is known (of 3 in all), 100 % receive their mail through 1 provider \
             (Hetzner); 1 provider covers 75 %."
        ),
        "{text}"
    );
    assert!(!text.contains("no AS found"), "{text}");
    assert!(
        words.contains(
            " By provider (1 provider, 2 contacts) 1 Hetzner 2 100.0 % top-3 100.0 %, k50 1, k75 1, HHI 10000 \
             (highly concentrated), effective number 1.0, Gini 0.00. Counted apart: 1 no AS. "
        ),
        "{text}"
    );
    assert!(
        words.contains(
            " By autonomous system (1 autonomous system, 2 contacts) 1 AS24940 Hetzner Online GmbH 2 100.0 % "
        ),
        "{text}"
    );
    assert_eq!(text.matches("Counted apart: 1 no AS.").count(), 3, "{text}");
    let out = env.run(&["contacts", "--format", "json", list.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in ["provider", "organisation", "as"] {
        let l = level(&doc, name);
        assert_eq!(
            (&l["metrics"]["total"], &l["apart"]),
            (&serde_json::json!(2.0), &serde_json::json!({"no AS": 1.0})),
            "{name}"
        );
    }
    assert_eq!(doc["not_found"], serde_json::json!({}));
    let unrouted = domain_row(&doc, "unrouted.example");
    assert_eq!(
        (&unrouted["server"], &unrouted["provider"], &unrouted["asns"]),
        (
            &serde_json::json!("mx.unrouted.example"),
            &serde_json::json!("(no AS)"),
            &serde_json::json!("(no AS)")
        )
    );
}
