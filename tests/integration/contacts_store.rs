//! Contacts snapshots: `whohosts contacts` stores its measurement (kind `contacts`), and
//! `snapshots`, `report`, `diff`, `query` and the trend read it back; the user part of an
//! address is never stored.

use std::path::Path;

use whohosts_sim::world::World;

use crate::common::*;
use crate::contacts::{first_measurement, mail};

fn sqlite(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The world of the first measurement, its book written to `contacts.txt` and the database
/// path `c.db` beside it.
fn first_book() -> (Env, std::path::PathBuf, std::path::PathBuf) {
    let (w, book) = first_measurement();
    let env = Env::start(w);
    let file = env.dir.path().join("contacts.txt");
    std::fs::write(&file, book).unwrap();
    let db = env.dir.path().join("c.db");
    (env, file, db)
}

#[test]
fn a_contacts_measurement_is_stored_and_reported_again() {
    let (env, file, db) = first_book();
    let db_arg = db.to_str().unwrap();
    let printed = stdout(&env.run(&["contacts", "--db", db_arg, file.to_str().unwrap()]));

    // Listed with its kind: 150 contacts at 16 domains, its series the file read.
    let list = stdout(&env.run(&["snapshots", "--db", db_arg]));
    let row: Vec<&str> = list.lines().nth(1).unwrap().split('\t').collect();
    let canonical = std::fs::canonicalize(&file).unwrap();
    assert_eq!(
        (row[0], row[1], row[2], row[5], row[6], row[7]),
        ("1", "contacts", "complete", "150", "16", canonical.to_str().unwrap()),
        "{list}"
    );

    // `report 1` prints what `contacts` printed, from the store.
    let again = stdout(&env.run(&["report", "1", "--db", db_arg]));
    assert_eq!(again, printed);
    let words = crate::wording::plain(&printed);
    assert!(words.starts_with(
        "Of your 150 contacts, 53 % receive their mail through 2 providers (Google, Microsoft); 6 providers cover \
         75 %."
    ));
    assert!(
        words.contains(" 2 Microsoft 30 20.0 % ")
            && words.contains(" Microsoft: Outlook.com 20, Microsoft 365 6, Microsoft 365 (inferred from SPF) 4;"),
        "{printed}"
    );
    assert!(
        unwrapped(&printed).contains(&format!("\nSnapshot 1 (series: {}), measured ", canonical.display())),
        "{printed}"
    );

    // JSON: the stored figures, the snapshot, no trend yet.
    let doc: serde_json::Value =
        serde_json::from_slice(&env.run(&["report", "1", "--db", db_arg, "--format", "json"]).stdout).unwrap();
    assert_eq!(doc["kind"], "contacts");
    assert_eq!(doc["snapshot"]["id"], 1);
    assert_eq!(doc["total"], 150.0);
    assert_eq!(doc["malformed"], 2);
    let provider = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "provider")
        .unwrap();
    assert_eq!(provider["metrics"]["k50"], 2);
    assert_eq!(provider["metrics"]["k75"], 6);
    assert_eq!(provider["buckets"][0]["services"]["Google Workspace"], 20.0);
    assert_eq!(doc["trend"], serde_json::json!([]));

    // CSV and HTML through the same renderer.
    let csv = stdout(&env.run(&["report", "1", "--db", db_arg, "--format", "csv"]));
    assert!(
        csv.starts_with("snapshot,level,weight,rank,key,label,amount,share\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\n1,provider,contacts,1,Google,Google,50,0.3333333333333333\n"),
        "{csv}"
    );
    assert!(csv.contains("\n1,gateway,contacts,1,Mimecast,Mimecast,8,"), "{csv}");
    let html = stdout(&env.run(&["report", "1", "--db", db_arg, "--format", "html"]));
    assert!(
        html.contains("<h2>By provider (12 providers, 150 contacts)</h2>"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");

    // Stored: who serves each domain, each contact as a keyed hash; no user part anywhere.
    let c = sqlite(&db);
    let n: i64 = c.query_row("SELECT count(*) FROM contact", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 150);
    let (provider, service, server): (String, String, String) = c
        .query_row(
            "SELECT provider, service, server FROM contact_domain WHERE snapshot_id = 1 AND domain = 'univ-exemple.fr'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (provider.as_str(), service.as_str(), server.as_str()),
        (
            "Microsoft",
            "Microsoft 365 (inferred from SPF)",
            "mx0a-00123401.pphosted.com"
        )
    );
    let hashes: Vec<String> = c
        .prepare("SELECT hash FROM contact ORDER BY hash")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(hashes
        .iter()
        .all(|h| h.len() == 24 && h.chars().all(|c| c.is_ascii_hexdigit())));
    drop(c);
    let bytes = std::fs::read(&db).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    assert!(hay.contains("gmail.com"), "the domains are stored");
    for user in ["c17@gmail.com", "c3@ik.me", "c0@"] {
        assert!(!hay.contains(user), "{user} is stored");
    }
}

/// The first measurement's world, with `atelier-neuf.fr` at Google too, and, when `moved`,
/// `mairie-exemple.fr`'s mail moved from OVH to Google.
fn world(moved: bool) -> World {
    let (mut w, _) = first_measurement();
    w.names.push(mail("atelier-neuf.fr", &[(10, "aspmx.l.google.com")]));
    if moved {
        for n in w.names.iter_mut().filter(|n| n.name == "mairie-exemple.fr") {
            n.mx = vec![(10, "aspmx.l.google.com".into())];
        }
    }
    w
}

#[test]
fn contacts_snapshots_are_trended_diffed_and_queried() {
    let (_, book) = first_measurement();
    let (before, after) = (Env::start(world(false)), Env::start(world(true)));
    let dir = before.dir.path();
    let db = dir.join("c.db");
    let db_arg = db.to_str().unwrap();
    let v1 = dir.join("v1.txt");
    std::fs::write(&v1, &book).unwrap();
    // The second book: Proton's nine contacts gone, two at a new domain.
    let v2 = dir.join("v2.txt");
    let kept: String = book
        .lines()
        .filter(|l| !l.contains("@proton.me"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&v2, format!("{kept}new0@atelier-neuf.fr\nnew1@atelier-neuf.fr\n")).unwrap();
    let run = |env: &Env, file: &Path| {
        stdout(&env.run(&[
            "contacts",
            "--db",
            db_arg,
            "--series",
            "my book",
            file.to_str().unwrap(),
        ]))
    };
    run(&before, &v1);
    let text = run(&after, &v2);

    // The trend of the series, with what changed.
    assert!(text.contains("\nSnapshot 2 (series: my book), measured "), "{text}");
    assert!(
        text.contains("Trend by provider over 2 snapshots of this series:\n  snapshot 1 "),
        "{text}"
    );
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "top-3 69.9 % k50 2 k75 5 HHI 2481 \
             mairie-exemple.fr moved from OVH to Google (10 contacts); atelier-neuf.fr added (2 contacts, Google); \
             proton.me removed (9 contacts, was Proton); 2 contacts added, 9 removed."
        ),
        "{text}"
    );

    // diff 1 2.
    let diff = stdout(&after.run(&["diff", "1", "2", "--db", db_arg]));
    assert!(
        diff.starts_with(
            "Changes from contacts snapshot 1 to contacts snapshot 2 (weight: contacts).\n\n\
             Contacts: 2 added, 9 removed (150 then, 143 now).\n\n\
             Domains that moved to another provider, lost or found their server: 1.\n  \
             mairie-exemple.fr moved from OVH to Google (10 contacts)\n\n\
             Domains added or removed: 2.\n  \
             + atelier-neuf.fr (2 contacts, Google)\n  \
             - proton.me (9 contacts, was Proton)\n\n\
             Figures (weight: contacts), then → now:\n"
        ),
        "{diff}"
    );
    // Google: 50 of 150, then 62 of 143.
    let doc: serde_json::Value = serde_json::from_slice(
        &after
            .run(&["diff", "1", "2", "--db", db_arg, "--format", "json"])
            .stdout,
    )
    .unwrap();
    let provider = doc["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "provider")
        .unwrap();
    assert_eq!(provider["from"]["top1"], 50.0 / 150.0);
    assert_eq!(provider["to"]["top1"], 62.0 / 143.0);
    assert_eq!(doc["contacts_added"], 2);

    // The same rows from the shipped query, and Google's share over time from `share`.
    let q = stdout(&after.run(&["query", "contact-changes", "--db", db_arg, "--format", "csv"]));
    assert_eq!(
        q,
        "domain,protocol,change,from_provider,to_provider,from_contacts,to_contacts\n\
         mairie-exemple.fr,email,moved,OVH,Google,10,10\n\
         atelier-neuf.fr,email,added,,Google,,2\n\
         proton.me,email,removed,Proton,,9,\n"
    );
    let share = stdout(&after.run(&[
        "query",
        "share",
        "--db",
        db_arg,
        "-p",
        "level=provider",
        "-p",
        "weight=contacts",
        "-p",
        "name=Google",
        "--format",
        "csv",
    ]));
    let rows: Vec<Vec<&str>> = share.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{share}");
    assert_eq!((rows[0][3], rows[1][3]), ("50", "62"), "{share}");
    assert_eq!(rows[1][4].parse::<f64>().unwrap(), 62.0 / 143.0, "{share}");

    // Another series has no trend; a follows report never counts contacts snapshots.
    let other = stdout(&after.run(&["contacts", "--db", db_arg, v2.to_str().unwrap()]));
    assert!(!other.contains("Trend by"), "{other}");
}

#[test]
fn the_demo_takes_the_users_provider_and_gateway_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[attribution.mail_providers]\n\"gmail-smtp-in.l.google.com\" = \"Example Mail / Example Webmail\"\n\
         [attribution.mail_gateways]\n\"mimecast.com\" = \"Campus Filter\"\n",
    )
    .unwrap();
    let out = crate::cli::whohosts()
        .arg("--config")
        .arg(&config)
        .args(["demo", "--size", "40", "--seed", "3", "--contacts"])
        .output()
        .unwrap();
    let text = stdout(&out);
    let words = crate::wording::plain(&text);
    assert!(
        words.contains(
            " By provider (8 providers, 26 contacts) 1 Microsoft 8 30.8 % 2 Example Mail 7 26.9 % 3 Hetzner 3 11.5 % \
             4 Google 2 7.7 % "
        ) && words.contains(
            " Services: Microsoft: Microsoft 365 (inferred from SPF) 4, Outlook.com 4; Example Mail: \
             Example Webmail 7; Google: Google Workspace 2;"
        ),
        "{text}"
    );
    assert!(
        words.contains(
            " By gateway (1 gateway, 4 contacts) 1 Campus Filter 4 100.0 % top-3 100.0 %, k50 1, k75 1, HHI 10000 \
             (highly concentrated), effective number 1.0, Gini 0.00. Counted apart: 19 reach their provider directly. "
        ),
        "{text}"
    );
}

/// The rows of CSV file `path`, header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn a_contacts_snapshot_exports_pseudonymised_with_small_domains_merged() {
    let (env, file, db) = first_book();
    let db_arg = db.to_str().unwrap();
    stdout(&env.run(&["contacts", "--db", db_arg, file.to_str().unwrap()]));
    let out = env.dir.path().join("study");
    stdout(&env.run(&["export", "--db", db_arg, "--out", out.to_str().unwrap()]));

    let snaps = csv_rows(&out.join("snapshots.csv"));
    assert_eq!((snaps[1][0].as_str(), snaps[1][1].as_str()), ("1", "contacts"));
    let domains = csv_rows(&out.join("contact_domains.csv"));
    assert_eq!(
        domains[0],
        [
            "snapshot_id",
            "protocol",
            "domain",
            "group",
            "domains",
            "contacts",
            "messages",
            "server",
            "provider",
            "service",
            "gateway",
            "organisation",
            "asns",
            "country",
            "not_found",
            "steps"
        ]
    );
    // 16 domains: univ-exemple.fr (4 contacts, under the minimum of 5, behind its own
    // Proofpoint host) is not named, nor is its server; the 15 others are.
    assert_eq!(domains.len(), 1 + 16, "{domains:?}");
    let row = |d: &str| {
        domains
            .iter()
            .find(|r| r[2] == d)
            .unwrap_or_else(|| panic!("no {d}: {domains:?}"))
    };
    assert_eq!(row("gmail.com")[5], "30");
    assert_eq!(row("gmail.com")[8], "Google");
    assert_eq!(row("gmail.com")[9], "Gmail");
    // The steps taken to find a named domain's server, in order.
    assert_eq!(row("gmail.com")[15], "MX 10 gmail-smtp-in.l.google.com");
    assert_eq!(
        row("atelier-lumen.fr")[15],
        "MX 10 aspmx.l.google.com; MX 20 alt1.aspmx.l.google.com"
    );
    assert!(!domains
        .iter()
        .any(|r| r[2] == "univ-exemple.fr" || r[7].contains("pphosted")));
    let small = row("(small groups)");
    assert_eq!(
        (
            &small[1][..],
            &small[4][..],
            &small[5][..],
            &small[7][..],
            &small[8][..]
        ),
        ("email", "1", "4", "", "")
    );
    assert_eq!(small[15], "", "a merged row's steps would name its domain");
    let total: u64 = domains[1..].iter().map(|r| r[5].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 150);

    // Contacts: pseudonyms only, the small domain's contacts under its merged row.
    let contacts = csv_rows(&out.join("contacts.csv"));
    assert_eq!(
        contacts[0],
        ["snapshot_id", "contact", "protocol", "domain", "messages"]
    );
    assert_eq!(contacts.len(), 1 + 150);
    assert!(
        contacts[1..].iter().all(|r| r[1].starts_with("c-") && r[1].len() == 26),
        "{:?}",
        contacts[1]
    );
    assert_eq!(contacts[1..].iter().filter(|r| r[3] == "(small groups)").count(), 4);
    let text = std::fs::read_to_string(out.join("contacts.csv")).unwrap();
    assert!(!text.contains('@'), "no address in {text}");

    // The concentration figures, per contacts level, under the same minimum: the report's
    // headline (Google and Microsoft 80 of 150 contacts, 53 %; 6 providers cover 75 %) is there,
    // and no bucket names the small domain or its server.
    let summary = csv_rows(&out.join("metric_summary.csv"));
    let provider = summary
        .iter()
        .find(|r| r[1] == "provider")
        .unwrap_or_else(|| panic!("no provider level: {summary:?}"));
    assert_eq!((&provider[2][..], &provider[10][..]), ("contacts", "6"), "{provider:?}");
    let buckets = csv_rows(&out.join("metric_buckets.csv"));
    let amount = |level: &str, key: &str| {
        buckets
            .iter()
            .find(|r| r[1] == level && r[4] == key)
            .map(|r| r[6].clone())
            .unwrap_or_else(|| panic!("no {level} {key}: {buckets:?}"))
    };
    assert_eq!(
        (amount("provider", "Google"), amount("provider", "Microsoft")),
        ("50".into(), "30".into())
    );
    assert_eq!(amount("domain", "gmail.com"), "30");
    // univ-exemple.fr's 4 contacts, alone under the minimum, are counted apart, not named.
    let apart = csv_rows(&out.join("metric_apart.csv"));
    assert!(
        apart.contains(
            &["1", "domain", "contacts", "small groups", "4"]
                .map(String::from)
                .to_vec()
        ),
        "{apart:?}"
    );
    let levels: std::collections::BTreeSet<&str> = buckets[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        levels.into_iter().collect::<Vec<_>>(),
        [
            "as",
            "domain",
            "gateway",
            "organisation",
            "protocol",
            "provider",
            "server"
        ]
    );
    assert!(
        !buckets
            .iter()
            .any(|r| r[4].contains("univ-exemple") || r[4].contains("pphosted")),
        "{buckets:?}"
    );

    if crate::export_tools::python_has("frictionless") {
        crate::export_tools::validate_tables(&out, 16);
    }
    if crate::export_tools::python_has("duckdb") {
        // The data dictionary's contacts examples, run as printed: the provider shares are the
        // report's (Google 50 and Microsoft 30 of 150: Microsoft's small domains are merged in
        // the domain rows, not in the provider level), and the protocol sums every contact.
        let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
        let examples: Vec<&str> = readme
            .split("```sql\n")
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap())
            .collect();
        assert_eq!(examples.len(), 2, "only the contacts examples: no crawl here: {readme}");
        assert!(examples[0].contains("contacts by provider"), "{}", examples[0]);
        assert!(examples[1].contains("contacts by protocol"), "{}", examples[1]);
        let run = |sql: &str| {
            let o = std::process::Command::new("python3")
                .current_dir(&out)
                .args([
                    "-c",
                    "import duckdb, sys\nfor r in duckdb.sql(sys.argv[1]).fetchall(): print('|'.join(map(str, r)))",
                    sql,
                ])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&o.stdout).to_string();
            assert!(o.status.success(), "{sql}: {}", String::from_utf8_lossy(&o.stderr));
            stdout
        };
        let providers = run(examples[0]);
        let rows: Vec<&str> = providers.lines().collect();
        assert_eq!(
            rows[..3],
            ["1|Google|50|33.3", "1|Microsoft|30|20.0", "1|OVH|10|6.7"],
            "{providers}"
        );
        assert!(rows.iter().all(|r| !r.contains("|None|")), "{providers}");
        let protocols = run(examples[1]);
        assert_eq!(protocols, "1|email|150|16\n");
    }
}

/// A database of contacts snapshots has no weight `accounts` (the follows default): `query
/// share` without a weight runs under the snapshots' own and says so in one line; a weight
/// no snapshot there has is a usage error naming the weights there are; `report` and `diff`
/// of a contacts snapshot refuse `--weight` (exit 2) instead of ignoring it.
#[test]
fn a_contacts_database_is_queried_and_reported_under_its_own_weight() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db_arg = db.to_str().unwrap();
    let run = |args: &[&str]| {
        crate::cli::whohosts()
            .args(["--db", db_arg])
            .args(args)
            .output()
            .unwrap()
    };
    stdout(&run(&["demo", "--contacts"]));
    let out = run(&["query", "share", "-p", "name=Google", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: query share: weight contacts, that of the latest contacts snapshot: none here has accounts, the \
         default (contacts snapshots have contacts); -p weight=… to choose\n"
    );
    let rows: Vec<String> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(2).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(rows, ["1,9,0.34615384615384615"]);
    // A second measurement, so that `diff` has two contacts snapshots to compare.
    stdout(&run(&["demo", "--contacts"]));

    for (args, first) in [
        (
            &["query", "share", "-p", "name=Google", "-p", "weight=accounts"][..],
            "whohosts: query share: weight \"accounts\": no complete snapshot in this database has it (contacts \
             snapshots have contacts)\n",
        ),
        (
            &["query", "concentration", "-p", "weight=messages"][..],
            "whohosts: query concentration: weight \"messages\": no complete snapshot in this database has it \
             (contacts snapshots have contacts)\n",
        ),
        (
            &["report", "1", "--weight", "accounts"][..],
            "whohosts: --weight \"accounts\": snapshot 1 is a contacts snapshot, weighed by contacts (the weight \
             `contacts --weight` measured it with); --weight names weights of follows snapshots\n",
        ),
        (
            &["diff", "1", "2", "--weight", "edges"][..],
            "whohosts: --weight \"edges\": snapshot 1 is a contacts snapshot, weighed by contacts (the weight \
             `contacts --weight` measured it with); --weight names weights of follows snapshots\n",
        ),
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(first), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Without --weight, the contacts report as before.
    assert!(stdout(&run(&["report", "1"])).starts_with("Of your 26 contacts"));
}

/// `query contact-changes` without parameters compares the latest contacts snapshot with the
/// one before it of its series and weight, never with one of another weight; two snapshots of
/// different weights named are refused as `diff` refuses them, a usage error (exit 2).
#[test]
fn contact_changes_compares_snapshots_of_one_weight() {
    let (w, _) = first_measurement();
    let env = Env::start(w);
    let dir = env.dir.path();
    let db = dir.join("w.db");
    let db_arg = db.to_str().unwrap();
    // A mailbox: the owner writes once to each address.
    let mbox = |name: &str, to: &[&str]| {
        let path = dir.join(name);
        let m: String = to
            .iter()
            .map(|to| format!("From me@mailo.com Mon Jan  1 00:00:00 2026\nFrom: me@mailo.com\nTo: {to}\n\nhello\n\n"))
            .collect();
        std::fs::write(&path, m).unwrap();
        path.to_str().unwrap().to_string()
    };
    let one = mbox("one.mbox", &["c0@mairie-exemple.fr", "c0@gmail.com"]);
    let two = mbox("two.mbox", &["c0@mairie-exemple.fr", "c0@gmail.com", "c0@proton.me"]);
    // 1: contacts of the first mailbox; 2 and 3: the second, weighed by messages, then contacts.
    for (weight, file) in [("contacts", &one), ("messages", &two), ("contacts", &two)] {
        stdout(&env.run(&["contacts", "--db", db_arg, "--series", "mail", "--weight", weight, file]));
    }
    let run = |args: &[&str]| {
        let out = env.run(&[&["--db", db_arg][..], args].concat());
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let header = "domain,protocol,change,from_provider,to_provider,from_contacts,to_contacts\n";
    // 3 against 1, both weighed by contacts: proton.me is new.
    assert_eq!(
        run(&["query", "contact-changes", "--format", "csv"]),
        (0, format!("{header}proton.me,email,added,,Proton,,1\n"), String::new())
    );
    // Snapshot 2 is the first weighed by messages: nothing before it to compare.
    assert_eq!(
        run(&["query", "contact-changes", "-p", "to=2", "--format", "csv"]),
        (
            0,
            header.to_string(),
            "whohosts: query contact-changes: snapshot 2 is the first of its series (contacts snapshots of one \
             --series and weight): nothing before it to compare; -p from=… to choose\n"
                .to_string()
        )
    );
    // Named, two weights are refused as `diff` refuses them.
    assert_eq!(
        run(&["query", "contact-changes", "-p", "from=2", "-p", "to=3"]),
        (
            2,
            String::new(),
            "whohosts: query contact-changes: snapshot 2 (from) is weighed by messages, snapshot 3 (to) by \
             contacts: compare snapshots of one weight\nwhohosts: see `whohosts query --help`\n"
                .to_string()
        )
    );
    // Only `from` named: `to` is the latest contacts snapshot, and the pair is refused the same.
    assert_eq!(
        run(&["query", "contact-changes", "-p", "from=2"]),
        (
            2,
            String::new(),
            "whohosts: query contact-changes: snapshot 2 (from) is weighed by messages, snapshot 3 (to) by \
             contacts: compare snapshots of one weight\nwhohosts: see `whohosts query --help`\n"
                .to_string()
        )
    );
    assert_eq!(
        run(&["diff", "2", "3"]),
        (
            2,
            String::new(),
            "whohosts: snapshot 2 is weighed by messages, snapshot 3 by contacts: compare snapshots of one \
             weight\nwhohosts: see `whohosts diff --help`\n"
                .to_string()
        )
    );
}

/// Every line of a contacts report fits 80 columns, its series' long name cut in the
/// "Snapshot N (series: …)" line (issue #15); JSON keeps the name whole.
#[test]
fn a_long_series_name_is_cut_and_every_line_fits_80_columns() {
    let (env, file, db) = first_book();
    let series = "the-address-book-exported-from-the-phone-of-our-association-secretary-in-december";
    let printed = stdout(&env.run(&[
        "contacts",
        "--db",
        db.to_str().unwrap(),
        "--series",
        series,
        file.to_str().unwrap(),
    ]));
    assert_fits_80("contacts", &printed);
    assert!(
        printed.contains(&format!("\nSnapshot 1 (series: {}…), measured\n  ", &series[..39])),
        "{printed}"
    );
    let json = stdout(&env.run(&["report", "1", "--db", db.to_str().unwrap(), "--format", "json"]));
    assert!(json.contains(&format!("\"{series}\"")), "{json}");
}
