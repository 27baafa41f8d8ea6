//! The demo's contact book: a small address book of realistic shape (most mail with two big
//! providers, a few small hosts, a self-hosted domain, one that receives no mail, XMPP and
//! Matrix contacts, a duplicate and an address with no domain), and the `[[dns]]`
//! names that serve it in the simulated world.

use crate::world::{NameSpec, Provider, World};

/// Mailbox providers added to the world for the book, beyond the default providers: (name,
/// AS number, AS name, second octet, country).
const MAIL_PROVIDERS: [(&str, u32, &str, u8, &str); 3] = [
    ("google", 15169, "GOOGLE", 40, "US"),
    ("microsoft", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 41, "US"),
    ("infomaniak", 29222, "INFOMANIAK-AS", 42, "CH"),
];

/// Mail domains: (domain, provider of its MX hosts, contacts at it). A provider of `""` is
/// RFC 7505's null MX; a domain whose MX is `None` receives its mail on its own address.
const MAIL: [(&str, Option<&str>, usize); 9] = [
    ("gmail.example", Some("google"), 6),
    ("outlook.example", Some("microsoft"), 4),
    ("university.example", Some("microsoft"), 3),
    ("startup.example", Some("google"), 2),
    ("swissmail.example", Some("infomaniak"), 2),
    ("ovhmail.example", Some("ovh"), 2),
    ("posteo.example", Some("hetzner"), 1),
    ("family.example", None, 1),
    ("oldisp.example", Some(""), 1),
];

/// Add the names serving the demo book to `world` (and the mailbox providers it needs) and
/// give the book, a vCard 4 file.
pub fn demo_book(world: &mut World) -> String {
    for (name, asn, as_name, octet, country) in MAIL_PROVIDERS {
        if !world.providers.iter().any(|p| p.name == name || p.octet == octet) {
            world.providers.push(Provider {
                name: name.into(),
                asn,
                as_name: as_name.into(),
                octet,
                country: country.into(),
            });
        }
    }
    let mut cards = Vec::new();
    for (domain, provider, n) in MAIL {
        match provider {
            Some("") => world.names.push(mx(domain, &[(0, ".")])),
            Some(p) => {
                let (a, b) = (format!("mx1.{domain}"), format!("mx2.{domain}"));
                world.names.push(at(&a, p));
                world.names.push(at(&b, p));
                world.names.push(mx(domain, &[(10, &a), (20, &b)]));
            }
            None => world.names.push(at(domain, "home")),
        }
        for i in 0..n {
            cards.push(card(
                &format!("Friend {i} at {domain}"),
                &[format!("EMAIL;TYPE=home:friend{i}@{domain}")],
            ));
        }
    }
    world.names.push(at("xmpp.jabber.example", "netcup"));
    world
        .names
        .push(srv("_xmpp-server._tcp.jabber.example", 5269, "xmpp.jabber.example"));
    world.names.push(at("synapse.chat.example", "hetzner"));
    world
        .names
        .push(srv("_matrix-fed._tcp.chat.example", 8448, "synapse.chat.example"));
    cards.push(card(
        "Ann Lee",
        &[
            "EMAIL;TYPE=work:ann.lee@university.example".into(),
            "EMAIL;TYPE=home:Ann.Lee@GMAIL.example".into(),
            "IMPP:xmpp:ann@jabber.example".into(),
            "IMPP:matrix:u/ann:chat.example".into(),
        ],
    ));
    cards.push(card("Bo", &["X-MATRIX:@bo:chat.example".into()]));
    // A duplicate in another spelling, and an address with no domain.
    cards.push(card(
        "Friend 0 again",
        &["EMAIL:FRIEND0@gmail.example.".into(), "EMAIL:cy@".into()],
    ));
    cards.concat()
}

fn card(name: &str, lines: &[String]) -> String {
    let mut c = format!("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:{name}\r\n");
    for l in lines {
        c.push_str(l);
        c.push_str("\r\n");
    }
    c.push_str("END:VCARD\r\n");
    c
}

fn at(name: &str, provider: &str) -> NameSpec {
    NameSpec {
        name: name.into(),
        provider: Some(provider.into()),
        ..NameSpec::default()
    }
}

fn mx(name: &str, records: &[(u16, &str)]) -> NameSpec {
    NameSpec {
        name: name.into(),
        mx: records.iter().map(|(p, h)| (*p, h.to_string())).collect(),
        ..NameSpec::default()
    }
}

fn srv(name: &str, port: u16, target: &str) -> NameSpec {
    NameSpec {
        name: name.into(),
        srv: vec![(10, 0, port, target.into())],
        ..NameSpec::default()
    }
}
