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

/// A contact book modelled on the measurement that started the project: 150 contacts, 53 %
/// of them with Google or Microsoft, six organisations reaching 75 %.
fn first_measurement() -> (World, String) {
    let mut w = world(vec![], vec![]);
    for (name, asn, as_name, octet) in [
        ("google", 15169, "GOOGLE", 40),
        ("microsoft", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 41),
        ("infomaniak", 29222, "INFOMANIAK-AS", 42),
        ("mailo", 64510, "MAILO-AS - Mailo SAS, FR", 43),
    ] {
        w.providers.push(whohosts_sim::world::Provider {
            name: name.into(),
            asn,
            as_name: as_name.into(),
            octet,
            country: "US".into(),
        });
    }
    // (mail domain, provider of its MX, contacts)
    let plan = [
        ("gmail.example", "google", 50),
        ("outlook.example", "microsoft", 30),
        ("ovhmail.example", "ovh", 10),
        ("hetzmail.example", "hetzner", 9),
        ("awsmail.example", "amazon", 8),
        ("scwmail.example", "scaleway", 7),
        ("domail.example", "digitalocean", 6),
        ("contabomail.example", "contabo", 6),
        ("netcupmail.example", "netcup", 6),
        ("assomail.example", "association", 6),
        ("infomail.example", "infomaniak", 6),
        ("selfhosted.example", "mailo", 6),
    ];
    let mut book = String::from("# contacts\n");
    for (domain, provider, n) in plan {
        if domain == "selfhosted.example" {
            // No MX: the domain's own address receives its mail.
            w.names.push(at(domain, provider));
        } else {
            let mx = format!("mx.{domain}");
            w.names.push(at(&mx, provider));
            w.names.push(mail(domain, &[(10, &mx)]));
        }
        for i in 0..n {
            book.push_str(&format!("Contact {i} <c{i}@{domain}>\n"));
        }
    }
    // Duplicates in other spellings, and lines that are no address.
    book.push_str("C0@GMAIL.EXAMPLE.\nc1@gmail.example\nnot an address\n@@\n");
    (w, book)
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
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "Of your 150 contacts, 53 % are served by 2 organisations (Google, Microsoft); 6 organisations cover 75 %."
    );
    assert!(
        text.contains("150 distinct addresses, weighed by contacts; 2 malformed entries skipped."),
        "{text}"
    );
    assert!(text.contains("\nBy organisation (12 organisations, 150 contacts)\n   33.3 %       50  Google\n   20.0 %       30  Microsoft\n"), "{text}");

    let out = env.run(&["contacts", "--format", "json", file.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let orgs = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "organisation")
        .unwrap();
    assert_eq!(orgs["metrics"]["k50"], 2);
    assert_eq!(orgs["metrics"]["k75"], 6);
    assert_eq!(orgs["buckets"][0]["key"], "Google");
    let servers = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "server")
        .unwrap();
    assert_eq!(servers["buckets"][0]["key"], "mx.gmail.example");
}

#[test]
fn a_mailbox_weighs_contacts_by_the_messages_exchanged() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let mbox = env.dir.path().join("mail.mbox");
    // The owner writes three times to a contact at OVH, once to Google; Google writes back once.
    let mut m = String::new();
    for (to, n) in [("c0@ovhmail.example", 3), ("c0@gmail.example", 1)] {
        for _ in 0..n {
            m.push_str(&format!("From me@selfhosted.example Mon Jan  1 00:00:00 2026\nFrom: me@selfhosted.example\nTo: {to}\n\nhello\n\n"));
        }
    }
    m.push_str(
        "From c0@gmail.example Mon Jan  1 00:00:00 2026\nFrom: c0@gmail.example\nTo: me@selfhosted.example\n\nhi\n\n",
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
    assert_eq!(doc["total"], 5.0, "the owner's own address is no contact");
    let orgs = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "organisation")
        .unwrap();
    assert_eq!(orgs["buckets"][0]["key"], "OVH");
    assert_eq!(orgs["buckets"][0]["weight"], 3.0);
    assert_eq!(orgs["buckets"][1]["key"], "Google");
    assert_eq!(orgs["buckets"][1]["weight"], 2.0);

    // Without a mailbox, the messages weight is a usage error naming the flag.
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, "a@gmail.example\n").unwrap();
    let out = env
        .cmd()
        .args(["contacts", "--weight", "messages"])
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: --weight \"messages\": needs a mailbox (mbox or Maildir) among the files: none holds a message\n"
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
    let good = write("good.txt", b"ann@gmail.example\nbob@outlook.example\nnot an address\n");
    let binary = write("photo.vcf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let empty = write("empty.txt", b"");
    let phones = write("phones.csv", b"Name,Phone\nAnn,123\n");
    let broken = write(
        "broken.vcf",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:cy@gmail.example\r\nNOTE:a note\r\nthat lost its fold\r\nEND:VCARD\r\n",
    );
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    let folder = folder.to_str().unwrap().to_string();
    let huge = write(
        "huge.txt",
        format!("{}\ndan@gmail.example\n", "y".repeat(100_000)).as_bytes(),
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
        text.contains("   75.0 %        3  Google\n   25.0 %        1  Microsoft\n"),
        "{text}"
    );

    // Every source refused: the lines, no report, exit code 1.
    let out = env.run(&["contacts", &empty, &phones]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 2);

    // A file that cannot be read: one line (as root the permission is no obstacle, so only
    // a missing file is checked then).
    let locked = write("locked.txt", b"eve@gmail.example\n");
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
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("2 distinct addresses"));
    }
}

#[test]
fn the_demo_measures_a_contact_book_offline() {
    let out = crate::cli::whohosts()
        .args(["demo", "--size", "40", "--seed", "3", "--contacts"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "Of your 26 contacts whose server was found (of 27 in all), 65 % are served by 2 organisations (Google, Microsoft); 3 organisations cover 75 %.",
        "{text}"
    );
    assert!(
        text.contains("Server not found: 1 receives no mail (null MX).\n"),
        "{text}"
    );
    assert!(
        text.contains("\nBy organisation (7 organisations, 26 contacts)\n   34.6 %        9  Google\n   30.8 %        8  Microsoft\n   11.5 %        3  Hetzner\n"),
        "{text}"
    );
    assert!(text.contains("    3.8 %        1  xmpp.jabber.example\n"), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: 1 entries name no usable address (--show-malformed lists them)\n"
    );
    assert!(
        text.contains("27 distinct addresses, weighed by contacts; 1 malformed entries skipped."),
        "{text}"
    );
    assert!(
        text.contains("(A demo contact book, a vCard of 25 cards, measured in a simulated world"),
        "{text}"
    );
}
