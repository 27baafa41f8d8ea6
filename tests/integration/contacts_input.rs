//! Contacts, the input side as the user meets it: malformed entries said per file, the
//! owner's addresses given with `--me`, the first measurement's book weighed by a mailbox,
//! and the country level.

use crate::common::*;
use crate::contacts::first_measurement;
use crate::wording::{flat, plain};

/// An mbox of `(from, to, times)` messages.
fn mbox(messages: &[(&str, &str, usize)]) -> String {
    let mut m = String::new();
    for (from, to, n) in messages {
        for _ in 0..*n {
            m.push_str(&format!(
                "From {from} Mon Jan  1 00:00:00 2026\nFrom: {from}\nTo: {to}\n\nhello\n\n"
            ));
        }
    }
    m
}

/// A level of a JSON report as `key weight` rows, in its order.
fn rows(doc: &serde_json::Value, level: &str) -> Vec<String> {
    let l = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == level)
        .unwrap_or_else(|| panic!("no level {level}: {doc}"));
    l["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| format!("{} {}", b["key"].as_str().unwrap(), b["weight"]))
        .collect()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Without `--show-malformed`, each file with malformed entries is one warning naming it and
/// counting them (a clean file says nothing), with or without `-q`: entries that name no
/// usable address are contacts lost, as a crawl's lost data is a warning under -q.
#[test]
fn malformed_entries_are_one_warning_per_file_even_under_quiet() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let write = |name: &str, body: &str| {
        let p = env.dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let list = write("list.txt", "ann@gmail.com\nnot an address\n");
    let clean = write("clean.txt", "bob@outlook.com\n");
    // The broken fold: its cut address and the orphan line, and an EMAIL with no address.
    let book = write(
        "book.vcf",
        "BEGIN:VCARD\r\nEMAIL:cy@gmail.c\r\nom\r\nEMAIL:nobody\r\nEMAIL:dy@gmail.com\r\nEND:VCARD\r\n",
    );
    let want = format!(
        "whohosts: warning: {list}: 1 malformed entry (--show-malformed lists them)\n\
         whohosts: warning: {book}: 3 malformed entries (--show-malformed lists them)\n"
    );
    for quiet in [true, false] {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"));
        cmd.arg("--config").arg(env.config_path()).env_remove("WHOHOSTS_CONFIG");
        if quiet {
            cmd.arg("-q");
        }
        let out = cmd.args(["contacts", &list, &clean, &book]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "quiet: {quiet}");
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains("3 distinct addresses, weighed by contacts; 4 malformed entries skipped."),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// `--me` names the user's own addresses (here two, neither the most frequent sender): they
/// are no contacts of a messages-weighted run. Without it, the most frequent sender (a
/// contact who writes a lot) is taken for the owner and the user's two addresses count as
/// contacts (me@mailo.com in 5 messages). A `--me` that is no address is a usage error naming the flag.
#[test]
fn me_removes_the_users_own_addresses_from_a_messages_run() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let path = env.dir.path().join("mail.mbox");
    std::fs::write(
        &path,
        mbox(&[
            ("c0@gmail.com", "me@mailo.com", 3),
            ("me@mailo.com", "c0@mairie-exemple.fr", 2),
            ("me.alias@proton.me", "c0@mairie-exemple.fr", 1),
        ]),
    )
    .unwrap();
    let mbox = path.to_str().unwrap();
    let run = |extra: &[&str]| {
        json(
            &env.run(
                &[
                    &["contacts", "--weight", "messages", "--format", "json"][..],
                    extra,
                    &[mbox],
                ]
                .concat(),
            ),
        )
    };
    let doc = run(&["--me", "me@mailo.com", "--me", "Me.Alias@Proton.ME"]);
    assert_eq!(doc["total"], 6.0);
    assert_eq!(rows(&doc, "domain"), ["gmail.com 3.0", "mairie-exemple.fr 3.0"]);
    assert_eq!(rows(&doc, "provider"), ["Google 3.0", "OVH 3.0"]);
    let doc = run(&[]);
    assert_eq!(doc["total"], 9.0);
    assert_eq!(
        rows(&doc, "domain"),
        ["mailo.com 5.0", "mairie-exemple.fr 3.0", "proton.me 1.0"]
    );

    let out = env.run(&["contacts", "--weight", "messages", "--me", "me.mailo.com", mbox]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: --me \"me.mailo.com\": no '@' in the address\nwhohosts: see `whohosts contacts --help`\n"
    );
    assert!(out.stdout.is_empty());
}

/// The first measurement's book (53 % Google and Microsoft, k75 = 6 by contacts) weighed by
/// a mailbox: the figures follow the messages. 40 message-contact pairs: Google 22 (Gmail 16,
/// 4 of them replies, and Workspace 6), Proton 10, OVH 5, Microsoft 3; the book's other
/// contacts were written to not at all and weigh nothing.
#[test]
fn the_first_measurement_weighed_by_a_mailbox_follows_the_messages() {
    let (w, book) = first_measurement();
    let env = Env::start(w);
    let book_path = env.dir.path().join("contacts.txt");
    std::fs::write(&book_path, book).unwrap();
    let mbox_path = env.dir.path().join("sent.mbox");
    std::fs::write(
        &mbox_path,
        mbox(&[
            ("me@mailo.com", "c0@gmail.com", 12),
            ("c0@gmail.com", "me@mailo.com", 4),
            ("me@mailo.com", "c1@atelier-lumen.fr", 6),
            ("me@mailo.com", "c0@proton.me", 10),
            ("me@mailo.com", "c0@mairie-exemple.fr", 5),
            ("me@mailo.com", "c0@hotmail.fr", 3),
        ]),
    )
    .unwrap();
    let files = [book_path.to_str().unwrap(), mbox_path.to_str().unwrap()];
    let out = env.run(&[&["contacts", "--weight", "messages"][..], &files].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        flat(&text).starts_with(
            "Of 40 message-contact pairs, 55 % go through 1 provider (Google); 2 providers cover 75 %. 150 \
             distinct addresses, weighed by messages (a message counts once for each contact it names); 2 \
             malformed entries skipped."
        ),
        "{text}"
    );
    assert!(
        plain(&text).contains(
            " By provider (4 providers, 40 message-contact pairs) 1 Google 22 55.0 % 2 Proton 10 25.0 % 3 OVH 5 \
             12.5 % 4 Microsoft 3 7.5 % "
        ),
        "{text}"
    );
    assert!(
        plain(&text).contains(
            " Services: Google: Gmail 16, Google Workspace 6; Proton: Proton Mail 10; OVH: OVHcloud Email 5; \
             Microsoft: Outlook.com 3."
        ),
        "{text}"
    );
    let doc = json(&env.run(&[&["contacts", "--weight", "messages", "--format", "json"][..], &files].concat()));
    assert_eq!(doc["total"], 40.0);
    let provider = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "provider")
        .unwrap();
    assert_eq!(
        (provider["metrics"]["k50"].clone(), provider["metrics"]["k75"].clone()),
        (1.into(), 2.into())
    );
}

/// The country level of a contacts report, from the country of each MX host's AS range
/// (the test's ASN data given a country column: the iptoasn TSV `asn-db update` reads): US
/// 86 (Google 50, Microsoft 26, Proofpoint 4, DigitalOcean 6), FR 22, DE 18, CH 16, GB 8.
#[test]
fn a_contacts_report_has_a_country_level() {
    let (w, book) = first_measurement();
    let tsv = w.clone().layout().asn_tsv();
    let env = Env::start(w);
    std::fs::write(env.dir.path().join("sim-asn.csv"), tsv).unwrap();
    let file = env.dir.path().join("contacts.txt");
    std::fs::write(&file, book).unwrap();
    let doc = json(&env.run(&["contacts", "--format", "json", file.to_str().unwrap()]));
    assert_eq!(
        rows(&doc, "country"),
        ["US 86.0", "FR 22.0", "DE 18.0", "CH 16.0", "GB 8.0"]
    );
    let out = env.run(&["contacts", file.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        plain(&text).contains(
            " By country (5 countries, 150 contacts) 1 US 86 57.3 % 2 FR 22 14.7 % 3 DE 18 12.0 % 4 CH 16 10.7 % 5 \
             GB 8 5.3 % "
        ),
        "{text}"
    );
}
