use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// One real-looking host for every shipped rule: (host, address domain, the rule it must
/// hit, company or gateway, service). The test fails when a rule is missing or broken (its
/// host then hits another rule or none) and when a rule has no row here.
const TABLE: &[(&str, &str, &str, &str, &str)] = &[
    (
        "aspmx.l.google.com",
        "example.org",
        "aspmx.l.google.com",
        "Google",
        "Google Workspace",
    ),
    (
        "alt1.aspmx.l.google.com",
        "example.org",
        "aspmx.l.google.com",
        "Google",
        "Google Workspace",
    ),
    (
        "gmail-smtp-in.l.google.com",
        "gmail.com",
        "gmail-smtp-in.l.google.com",
        "Google",
        "Gmail",
    ),
    (
        "smtp.google.com",
        "example.org",
        "smtp.google.com",
        "Google",
        "Google Workspace",
    ),
    (
        "aspmx2.googlemail.com",
        "googlemail.com",
        "googlemail.com",
        "Google",
        "Gmail",
    ),
    (
        "example-org.mail.protection.outlook.com",
        "example.org",
        "mail.protection.outlook.com",
        "Microsoft",
        "Microsoft 365",
    ),
    (
        "hotmail-com.olc.protection.outlook.com",
        "hotmail.com",
        "olc.protection.outlook.com",
        "Microsoft",
        "Outlook.com",
    ),
    (
        "mx4.mail.eo.outlook.com",
        "example.org",
        "mail.eo.outlook.com",
        "Microsoft",
        "Microsoft 365",
    ),
    (
        "example-org.a-v1.mx.microsoft",
        "example.org",
        "mx.microsoft",
        "Microsoft",
        "Microsoft 365",
    ),
    (
        "mta5.am0.yahoodns.net",
        "yahoo.com",
        "am0.yahoodns.net",
        "Yahoo",
        "Yahoo Mail",
    ),
    (
        "mx-aol.mail.gm0.yahoodns.net",
        "aol.com",
        "gm0.yahoodns.net",
        "Yahoo",
        "AOL Mail",
    ),
    (
        "mx-biz.mail.am0.yahoodns.net",
        "example.org",
        "mx-biz.mail.am0.yahoodns.net",
        "Yahoo",
        "Yahoo Small Business",
    ),
    (
        "mx01.mail.icloud.com",
        "icloud.com",
        "mail.icloud.com",
        "Apple",
        "iCloud Mail",
    ),
    (
        "mailsec.protonmail.ch",
        "proton.me",
        "protonmail.ch",
        "Proton",
        "Proton Mail",
    ),
    ("mail.tutanota.de", "tuta.com", "mail.tutanota.de", "Tuta", "Tuta Mail"),
    (
        "in1-smtp.messagingengine.com",
        "fastmail.com",
        "messagingengine.com",
        "Fastmail",
        "Fastmail",
    ),
    ("mx.zoho.com", "example.org", "zoho.com", "Zoho", "Zoho Mail"),
    ("mx2.zoho.eu", "example.org", "zoho.eu", "Zoho", "Zoho Mail"),
    ("mx.zoho.in", "example.org", "zoho.in", "Zoho", "Zoho Mail"),
    ("mx.zoho.com.au", "example.org", "zoho.com.au", "Zoho", "Zoho Mail"),
    ("mx.zohomail.com", "example.org", "zohomail.com", "Zoho", "Zoho Mail"),
    (
        "mxext1.mailbox.org",
        "mailbox.org",
        "mailbox.org",
        "mailbox.org",
        "mailbox.org",
    ),
    ("mx01.posteo.de", "posteo.de", "posteo.de", "Posteo", "Posteo"),
    (
        "mx1.mail.ovh.net",
        "example.fr",
        "mail.ovh.net",
        "OVH",
        "OVHcloud Email",
    ),
    ("redirect.ovh.net", "example.fr", "ovh.net", "OVH", "OVHcloud Email"),
    ("mx1.mail.ovh.ca", "example.ca", "mail.ovh.ca", "OVH", "OVHcloud Email"),
    (
        "spool.mail.gandi.net",
        "example.fr",
        "mail.gandi.net",
        "Gandi",
        "Gandi Mail",
    ),
    (
        "mta-gw.infomaniak.ch",
        "example.ch",
        "infomaniak.ch",
        "Infomaniak",
        "Infomaniak Mail",
    ),
    ("mx00.ionos.de", "example.de", "ionos.de", "IONOS", "IONOS Mail"),
    ("mx00.ionos.com", "example.com", "ionos.com", "IONOS", "IONOS Mail"),
    (
        "mx00.ionos.co.uk",
        "example.co.uk",
        "ionos.co.uk",
        "IONOS",
        "IONOS Mail",
    ),
    ("mx00.ionos.fr", "example.fr", "ionos.fr", "IONOS", "IONOS Mail"),
    ("mx00.ionos.es", "example.es", "ionos.es", "IONOS", "IONOS Mail"),
    (
        "mx00.kundenserver.de",
        "example.de",
        "kundenserver.de",
        "IONOS",
        "IONOS Mail",
    ),
    (
        "mx00.1and1.co.uk",
        "example.co.uk",
        "1and1.co.uk",
        "IONOS",
        "IONOS Mail",
    ),
    ("mx00.1and1.fr", "example.fr", "1and1.fr", "IONOS", "IONOS Mail"),
    ("mx00.1and1.es", "example.es", "1and1.es", "IONOS", "IONOS Mail"),
    ("mx00.perfora.net", "example.com", "perfora.net", "IONOS", "IONOS Mail"),
    (
        "smtp.secureserver.net",
        "example.com",
        "secureserver.net",
        "GoDaddy",
        "GoDaddy Email",
    ),
    (
        "mx1.privateemail.com",
        "example.com",
        "privateemail.com",
        "Namecheap",
        "Private Email",
    ),
    (
        "eforward1.registrar-servers.com",
        "example.com",
        "registrar-servers.com",
        "Namecheap",
        "Namecheap Email Forwarding",
    ),
    ("smtp-in.orange.fr", "orange.fr", "orange.fr", "Orange", "Mail Orange"),
    ("mx1.free.fr", "free.fr", "free.fr", "Free", "Free Mail"),
    ("mx2.sfr.fr", "sfr.fr", "sfr.fr", "SFR", "SFR Mail"),
    (
        "smtpz4.laposte.net",
        "laposte.net",
        "laposte.net",
        "La Poste",
        "La Poste Mail",
    ),
    ("mx1.mailo.com", "mailo.com", "mailo.com", "Mailo", "Mailo"),
    ("mx.net-c.com", "net-c.fr", "net-c.com", "Mailo", "Mailo"),
    ("mx00.emig.gmx.net", "gmx.de", "gmx.net", "United Internet", "GMX"),
    ("mx00.gmx.com", "gmx.com", "gmx.com", "United Internet", "GMX"),
    ("mx-ha02.web.de", "web.de", "web.de", "United Internet", "WEB.DE"),
    ("mx00.mail.com", "mail.com", "mail.com", "United Internet", "mail.com"),
    ("mx.yandex.ru", "yandex.ru", "yandex.ru", "Yandex", "Yandex Mail"),
    ("mx.yandex.net", "example.ru", "yandex.net", "Yandex", "Yandex 360"),
    ("mxs.mail.ru", "mail.ru", "mxs.mail.ru", "VK", "Mail.ru"),
    ("emx.mail.ru", "example.ru", "emx.mail.ru", "VK", "VK WorkMail"),
    ("mx1.runbox.com", "runbox.com", "runbox.com", "Runbox", "Runbox"),
    ("aspmx1.migadu.com", "example.org", "migadu.com", "Migadu", "Migadu"),
    (
        "mailserver.purelymail.com",
        "example.org",
        "purelymail.com",
        "Purelymail",
        "Purelymail",
    ),
    (
        "mx1.emailsrvr.com",
        "example.com",
        "emailsrvr.com",
        "Rackspace",
        "Rackspace Email",
    ),
    (
        "inbound-smtp.us-east-1.amazonaws.com",
        "example.com",
        "inbound-smtp.us-east-1.amazonaws.com",
        "Amazon",
        "Amazon WorkMail / SES",
    ),
    (
        "inbound-smtp.us-west-2.amazonaws.com",
        "example.com",
        "inbound-smtp.us-west-2.amazonaws.com",
        "Amazon",
        "Amazon WorkMail / SES",
    ),
    (
        "inbound-smtp.eu-west-1.amazonaws.com",
        "example.com",
        "inbound-smtp.eu-west-1.amazonaws.com",
        "Amazon",
        "Amazon WorkMail / SES",
    ),
    ("smtpin.rzone.de", "example.de", "rzone.de", "Strato", "Strato Mail"),
    (
        "mx1.hostinger.com",
        "example.com",
        "hostinger.com",
        "Hostinger",
        "Hostinger Email",
    ),
    (
        "www123.your-server.de",
        "example.de",
        "your-server.de",
        "Hetzner",
        "Hetzner webhosting mail",
    ),
    (
        "mx00.t-online.de",
        "t-online.de",
        "t-online.de",
        "Deutsche Telekom",
        "T-Online Mail",
    ),
    ("mx.freenet.de", "freenet.de", "freenet.de", "freenet", "freenet Mail"),
    ("mx1.seznam.cz", "seznam.cz", "seznam.cz", "Seznam", "Seznam Email"),
    ("mx1.qq.com", "qq.com", "qq.com", "Tencent", "QQ Mail"),
    (
        "mxbiz1.qq.com",
        "example.cn",
        "mxbiz1.qq.com",
        "Tencent",
        "Tencent Exmail",
    ),
    (
        "163mx01.mxmail.netease.com",
        "163.com",
        "netease.com",
        "NetEase",
        "NetEase Mail",
    ),
    (
        "mxw.mxhichina.com",
        "example.cn",
        "mxhichina.com",
        "Alibaba",
        "Alibaba Mail",
    ),
    ("mx1.naver.com", "naver.com", "naver.com", "Naver", "Naver Mail"),
    (
        "mx1a1.comcast.net",
        "comcast.net",
        "comcast.net",
        "Comcast",
        "Xfinity Mail",
    ),
    (
        "smtp-in.libero.it",
        "libero.it",
        "libero.it",
        "Italiaonline",
        "Libero Mail",
    ),
    ("mx.aruba.it", "example.it", "aruba.it", "Aruba", "Aruba PEC and Mail"),
    ("knopi.disroot.org", "disroot.org", "disroot.org", "Disroot", "Disroot"),
    ("mx1.riseup.net", "riseup.net", "riseup.net", "Riseup", "Riseup"),
    (
        "mx01.kolabnow.com",
        "kolabnow.com",
        "kolabnow.com",
        "Kolab Now",
        "Kolab Now",
    ),
    (
        "mx.startmail.com",
        "startmail.com",
        "startmail.com",
        "StartMail",
        "StartMail",
    ),
    (
        "mx1.mailfence.com",
        "mailfence.com",
        "mailfence.com",
        "Mailfence",
        "Mailfence",
    ),
    ("mx1.titan.email", "example.com", "titan.email", "Titan", "Titan Email"),
    ("work-mx.app.hey.com", "hey.com", "hey.com", "37signals", "HEY"),
    (
        "mx0a-001b2d01.pphosted.com",
        "example.com",
        "pphosted.com",
        "Proofpoint",
        "",
    ),
    (
        "mx1-us1.ppe-hosted.com",
        "example.com",
        "ppe-hosted.com",
        "Proofpoint",
        "",
    ),
    (
        "eu-smtp-inbound-1.mimecast.com",
        "example.com",
        "mimecast.com",
        "Mimecast",
        "",
    ),
    (
        "za-smtp-inbound-1.mimecast.co.za",
        "example.co.za",
        "mimecast.co.za",
        "Mimecast",
        "",
    ),
    (
        "d123456a.ess.barracudanetworks.com",
        "example.com",
        "ess.barracudanetworks.com",
        "Barracuda",
        "",
    ),
    ("mx1.hc1234-56.iphmx.com", "example.com", "iphmx.com", "Cisco", ""),
    (
        "in.tmes.trendmicro.com",
        "example.com",
        "tmes.trendmicro.com",
        "Trend Micro",
        "",
    ),
    (
        "in.tmes.trendmicro.eu",
        "example.com",
        "tmes.trendmicro.eu",
        "Trend Micro",
        "",
    ),
    (
        "mx-01-eu-central-1.prod.hydra.sophos.com",
        "example.com",
        "hydra.sophos.com",
        "Sophos",
        "",
    ),
    (
        "mx01.hornetsecurity.com",
        "example.de",
        "hornetsecurity.com",
        "Hornetsecurity",
        "",
    ),
    (
        "cluster1.eu.messagelabs.com",
        "example.com",
        "messagelabs.com",
        "Broadcom",
        "",
    ),
    (
        "cluster-a.mailcontrol.com",
        "example.com",
        "mailcontrol.com",
        "Forcepoint",
        "",
    ),
    ("mx.spamexperts.com", "example.com", "spamexperts.com", "N-able", ""),
    (
        "mx.eu1.antispamcloud.com",
        "example.com",
        "antispamcloud.com",
        "N-able",
        "",
    ),
    (
        "mailstream-eu1.mxrecord.io",
        "example.com",
        "mxrecord.io",
        "Cloudflare",
        "",
    ),
    (
        "route1.mx.cloudflare.net",
        "example.com",
        "mx.cloudflare.net",
        "Cloudflare",
        "",
    ),
    ("mx1.mailroute.net", "example.com", "mailroute.net", "MailRoute", ""),
    (
        "example.fortimailcloud.com",
        "example.com",
        "fortimailcloud.com",
        "Fortinet",
        "",
    ),
    ("mx1.spamhero.com", "example.com", "spamhero.com", "SpamHero", ""),
];

/// Chat servers: (host, the rule it must hit, company, service).
const CHAT: &[(&str, &str, &str, &str)] = &[
    (
        "matrix-federation.matrix.org",
        "matrix.org",
        "The Matrix.org Foundation",
        "matrix.org",
    ),
    ("example.ems.host", "ems.host", "Element", "Element Matrix Services"),
    (
        "matrix-client.element.io",
        "element.io",
        "Element",
        "Element Matrix Services",
    ),
    ("example.modular.im", "modular.im", "Element", "Element Matrix Services"),
    (
        "conversations.im",
        "conversations.im",
        "Conversations.im",
        "Conversations.im",
    ),
    ("jabber.at", "jabber.at", "jabber.at", "jabber.at"),
];

fn shipped() -> Providers {
    Providers::new(&BTreeMap::new(), &BTreeMap::new())
}

#[test]
fn every_shipped_rule_names_its_hosts() {
    let p = shipped();
    let mut tested = BTreeSet::new();
    for (host, domain, rule, name, service) in TABLE {
        let hit = p.mail(host, domain).unwrap_or_else(|| panic!("{host}: no rule"));
        assert_eq!(
            (hit.rule.as_str(), hit.name.as_str(), hit.service.as_str()),
            (*rule, *name, *service),
            "{host} for {domain}"
        );
        assert_eq!(hit.kind == Kind::Gateway, service.is_empty(), "{host}");
        tested.insert((*rule, false));
    }
    for (host, rule, name, service) in CHAT {
        let hit = p.chat(host).unwrap_or_else(|| panic!("{host}: no rule"));
        assert_eq!(
            (hit.rule.as_str(), hit.name.as_str(), hit.service.as_str(), hit.kind),
            (*rule, *name, *service, Kind::Chat)
        );
        tested.insert((*rule, true));
    }
    let shipped: BTreeSet<(&str, bool)> = p
        .rules()
        .iter()
        .map(|r| (r.suffix.as_str(), r.kind == Kind::Chat))
        .collect();
    let untested: Vec<_> = shipped.difference(&tested).collect();
    assert!(untested.is_empty(), "rules without a test row: {untested:?}");
    assert_eq!(p.rules().len(), tested.len(), "no two rules share a suffix");
    assert!(p.rules().len() >= 100);
}

#[test]
fn a_suffix_matches_on_a_label_boundary_only() {
    let p = shipped();
    assert_eq!(p.mail("mx.notgoogle.com", "example.org"), None);
    assert_eq!(
        p.mail("gmail.com", "gmail.com"),
        None,
        "mail.com is not a suffix of gmail.com"
    );
    assert_eq!(p.mail("ASPMX.L.GOOGLE.COM.", "Gmail.com").unwrap().service, "Gmail");
    assert_eq!(
        p.chat("aspmx.l.google.com"),
        None,
        "mail rules do not name chat servers"
    );
    assert_eq!(
        p.mail("matrix.org", "matrix.org"),
        None,
        "chat rules do not name MX hosts"
    );
}

#[test]
fn spf_behind_a_gateway_names_one_provider_or_none() {
    let p = shipped();
    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let hit = p
        .behind_gateway(
            &t(&["spf.protection.outlook.com", "_spf.salesforce.com"]),
            "example.com",
        )
        .unwrap();
    assert_eq!(
        (hit.name.as_str(), hit.service.as_str()),
        ("Microsoft", "Microsoft 365")
    );
    assert_eq!(hit.rule, "spf.protection.outlook.com");
    assert_eq!(
        p.behind_gateway(&t(&["_spf.google.com"]), "gmail.com").unwrap().service,
        "Gmail"
    );
    assert_eq!(
        p.behind_gateway(&t(&["eu._spf.google.com"]), "example.com")
            .unwrap()
            .name,
        "Google"
    );
    assert_eq!(
        p.behind_gateway(&t(&["_spf.google.com", "spf.protection.outlook.com"]), "example.com"),
        None,
        "two companies: no inference"
    );
    assert_eq!(
        p.behind_gateway(&t(&["_spf.google.com", "_spf.google.com"]), "x.org")
            .unwrap()
            .name,
        "Google"
    );
    assert_eq!(p.behind_gateway(&t(&["sendgrid.net"]), "example.com"), None);
}

#[test]
fn config_adds_and_replaces_rules() {
    let p = Providers::new(
        &BTreeMap::from([
            (
                "mx.assoc.example".to_string(),
                "Our Association / Members' mail".to_string(),
            ),
            ("protonmail.ch".to_string(), "Proton AG".to_string()),
        ]),
        &BTreeMap::from([("filter.example".to_string(), "Our Filter".to_string())]),
    );
    let hit = p.mail("in.mx.assoc.example", "assoc.example").unwrap();
    assert_eq!(
        (hit.name.as_str(), hit.service.as_str()),
        ("Our Association", "Members' mail")
    );
    let proton = p.mail("mail.protonmail.ch", "proton.me").unwrap();
    assert_eq!(
        (proton.name.as_str(), proton.service.as_str()),
        ("Proton AG", "Proton AG")
    );
    assert_eq!(
        p.rules().len(),
        shipped().rules().len() + 2,
        "the Proton rule is replaced"
    );
    assert_eq!(p.mail("a.filter.example", "x.org").unwrap().kind, Kind::Gateway);
}
