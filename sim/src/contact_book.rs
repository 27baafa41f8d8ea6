//! The demo's contact book: a small address book of realistic shape (most mail with two big
//! providers, a few small hosts, a self-hosted domain, one that receives no mail, XMPP and
//! Matrix contacts, a duplicate and an address with no domain), and the `[[dns]]`
//! names that serve it in the simulated world. Its MX hosts bear the names the providers'
//! real ones have (`gmail-smtp-in.l.google.com`, `mx1.mail.ovh.net` …), served by the
//! simulator's DNS, so the shipped provider rules name them offline: services, a filtering
//! gateway (Mimecast) and a provider inferred from an SPF include show as they would.

use crate::world::{NameSpec, Provider, World};

/// Mailbox providers added to the world for the book, beyond the default providers: (name,
/// AS number, AS name, second octet, country).
const MAIL_PROVIDERS: [(&str, u32, &str, u8, &str); 4] = [
    ("google", 15169, "GOOGLE", 40, "US"),
    ("microsoft", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 41, "US"),
    ("infomaniak", 29222, "INFOMANIAK-AS", 42, "CH"),
    ("mimecast", 30031, "MIMECAST - Mimecast Services Limited, GB", 43, "GB"),
];

/// A mail domain of the book.
struct Mail {
    domain: &'static str,
    /// Its MX hosts, preference 10, 20 …; none: it receives its mail on its own address.
    mx: &'static [&'static str],
    /// The provider its MX hosts (or its own address) are on; `""` is RFC 7505's null MX.
    provider: &'static str,
    /// Its SPF record, if any.
    spf: Option<&'static str>,
    /// Contacts at it.
    contacts: usize,
}

const MAIL: [Mail; 9] = [
    Mail {
        domain: "gmail.com",
        mx: &["gmail-smtp-in.l.google.com", "alt1.gmail-smtp-in.l.google.com"],
        provider: "google",
        spf: None,
        contacts: 6,
    },
    Mail {
        domain: "outlook.com",
        mx: &["outlook-com.olc.protection.outlook.com"],
        provider: "microsoft",
        spf: None,
        contacts: 4,
    },
    // Behind a filtering gateway; its SPF record says Microsoft holds its mail.
    Mail {
        domain: "university.example",
        mx: &["eu-smtp-inbound-1.mimecast.com", "eu-smtp-inbound-2.mimecast.com"],
        provider: "mimecast",
        spf: Some("v=spf1 include:spf.protection.outlook.com -all"),
        contacts: 3,
    },
    Mail {
        domain: "startup.example",
        mx: &["aspmx.l.google.com", "alt1.aspmx.l.google.com"],
        provider: "google",
        spf: Some("v=spf1 include:_spf.google.com ~all"),
        contacts: 2,
    },
    Mail {
        domain: "swissmail.example",
        mx: &["mta-gw.infomaniak.ch"],
        provider: "infomaniak",
        spf: None,
        contacts: 2,
    },
    Mail {
        domain: "ovhmail.example",
        mx: &["mx1.mail.ovh.net", "mx2.mail.ovh.net"],
        provider: "ovh",
        spf: None,
        contacts: 2,
    },
    // Self-hosted: no rule names its MX, so its provider is its AS's organisation.
    Mail {
        domain: "posteo.example",
        mx: &["mx1.posteo.example"],
        provider: "hetzner",
        spf: None,
        contacts: 1,
    },
    Mail {
        domain: "family.example",
        mx: &[],
        provider: "home",
        spf: None,
        contacts: 1,
    },
    Mail {
        domain: "oldisp.example",
        mx: &[],
        provider: "",
        spf: None,
        contacts: 1,
    },
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
    for m in MAIL {
        let domain = m.domain;
        let mut name = if m.provider.is_empty() {
            mx(domain, &[(0, ".")])
        } else if m.mx.is_empty() {
            at(domain, m.provider)
        } else {
            let records: Vec<(u16, &str)> = (10..).step_by(10).zip(m.mx.iter().copied()).collect();
            for host in m.mx {
                world.names.push(at(host, m.provider));
            }
            mx(domain, &records)
        };
        name.txt = m.spf.map(|s| vec![s.to_string()]).unwrap_or_default();
        world.names.push(name);
        for i in 0..m.contacts {
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
            "EMAIL;TYPE=home:Ann.Lee@GMAIL.COM".into(),
            "IMPP:xmpp:ann@jabber.example".into(),
            "IMPP:matrix:u/ann:chat.example".into(),
        ],
    ));
    cards.push(card("Bo", &["X-MATRIX:@bo:chat.example".into()]));
    // A duplicate in another spelling, and an address with no domain.
    cards.push(card(
        "Friend 0 again",
        &["EMAIL:FRIEND0@gmail.com.".into(), "EMAIL:cy@".into()],
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
