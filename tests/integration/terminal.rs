//! What a terminal receives: no control character from a server or a data file reaches
//! stdout or stderr of `report`, `diff`, `query` or `lookup`.

use whohosts_sim::world::Software;

use crate::common::*;

/// Sets the window title, clears the screen, a C1 CSI, and reverses the line.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}evil";

/// Every byte sequence that would drive a terminal: C0 controls but newline, DEL, C1 and the
/// bidirectional controls.
fn controls(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| whohosts::model::text::is_unsafe(*c) || *c == '\r')
        .collect()
}

fn assert_clean(what: &str, out: &std::process::Output) {
    assert_eq!(controls(&out.stdout), Vec::<char>::new(), "{what}: stdout");
    assert_eq!(controls(&out.stderr), Vec::<char>::new(), "{what}: stderr");
}

#[test]
fn no_control_character_from_servers_or_data_files_reaches_the_terminal() {
    let mut host = inst("evil.example", Software::Mastodon, "ovh");
    host.software_name = Some(format!("mastodon{HOSTILE}"));
    let mut a = acct("a@evil.example", &["b@evil.example".to_string()]);
    a.display_name = Some(format!("Alice{HOSTILE}"));
    let mut b = acct("b@evil.example", &[]);
    b.display_name = Some(format!("Bob{HOSTILE}"));
    let env = Env::start(world(vec![host], vec![a, b]));
    // The ASN table the crawl attributes with, rewritten with a hostile AS name.
    let fixture = env.dir.path().join("sim-asn.csv");
    let table = std::fs::read_to_string(&fixture).unwrap();
    let table = table
        .replace(",OVH SAS\n", ",\"OVH SAS\"\n")
        .replace("\"OVH SAS\"", &format!("\"OVH{HOSTILE}\""));
    std::fs::write(&fixture, table).unwrap();
    let db = env.dir.path().join("t.db");
    let db = db.to_str().unwrap();
    for _ in 0..2 {
        let out = env.run(&["--db", db, "crawl", "a@evil.example", "--by", "as"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_clean("crawl", &out);
    }
    let text = env.run(&["--db", db, "report", "--by", "as", "--by", "organisation"]);
    assert_clean("report", &text);
    // The name is kept readable, its controls shown as escapes.
    let shown = String::from_utf8(text.stdout).unwrap();
    assert!(shown.contains("OVH\\u{1b}]0;pwned\\u{7}"), "{shown}");
    for format in ["json", "csv", "html"] {
        assert_clean(
            format,
            &env.run(&["--db", db, "report", "--format", format, "--by", "as"]),
        );
    }
    assert_clean("diff", &env.run(&["--db", db, "diff", "1", "2"]));
    assert_clean(
        "diff json",
        &env.run(&["--db", db, "diff", "1", "2", "--format", "json"]),
    );
    let sql = env.dir.path().join("names.sql");
    std::fs::write(
        &sql,
        "SELECT a.display_name, i.software FROM account_state a, instance_state i ORDER BY 1 LIMIT 1",
    )
    .unwrap();
    let sql = sql.to_str().unwrap();
    let table = env.run(&["--db", db, "query", "--sql", sql]);
    assert_clean("query", &table);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("Alice\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}evil"),
        "{table}"
    );
    for format in ["json", "csv"] {
        let out = env.run(&["--db", db, "query", "--sql", sql, "--format", format]);
        assert_clean(format, &out);
        if format == "json" {
            // The JSON keeps the value exactly; only its spelling is escaped.
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v[0]["display_name"], format!("Alice{HOSTILE}"));
        }
    }
    for format in ["text", "json", "tsv"] {
        let out = env.run(&["lookup", "evil.example", "--format", format]);
        assert_clean("lookup", &out);
        let shown = String::from_utf8_lossy(&out.stdout).replace("\\\\", "\\");
        assert!(shown.contains("OVH\\u{1b}"), "{format}: {shown}");
    }
    // An error line naming a hostile input.
    assert_clean("lookup error", &env.run(&["lookup", &format!("bad{HOSTILE}/x y")]));
}

#[test]
fn report_csv_cells_from_outside_cannot_run_in_a_spreadsheet() {
    let mut env = Env::start(world(
        vec![inst("calc.example", Software::Mastodon, "association")],
        vec![
            acct("a@calc.example", &["b@calc.example".to_string()]),
            acct("b@calc.example", &[]),
        ],
    ));
    let fixture = env.dir.path().join("sim-asn.csv");
    let table = std::fs::read_to_string(&fixture).unwrap();
    let table = table.replace(
        "\"TINYHOST - Tiny Association Hosting e.V., DE\"",
        "\"=HYPERLINK(\"\"http://x\"\")\"",
    );
    std::fs::write(&fixture, table).unwrap();
    let db = env.dir.path().join("t.db");
    let db = db.to_str().unwrap();
    let out = env.run(&["--db", db, "crawl", "a@calc.example"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = env.run(&[
        "--db",
        db,
        "report",
        "--format",
        "csv",
        "--by",
        "as",
        "--by",
        "organisation",
    ]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let org = csv.lines().find(|l| l.contains(",organisation,")).unwrap();
    assert_eq!(
        org, "1,organisation,accounts,1,\"'=HYPERLINK(\"\"http://x\"\")\",\"'=HYPERLINK(\"\"http://x\"\")\",1,1",
        "{csv}"
    );
    for line in csv.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']),
                "{line}"
            );
        }
    }
    // So does `query --format csv`, in its text cells only: numbers are written as they are.
    let sql = env.dir.path().join("org.sql");
    std::fs::write(
        &sql,
        "SELECT label, amount, -1 AS n, '-2' AS t FROM metric_bucket WHERE level = 'organisation' \
         AND weight = 'accounts'",
    )
    .unwrap();
    let out = env.run(&["--db", db, "query", "--format", "csv", "--sql", sql.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "label,amount,n,t\n\"'=HYPERLINK(\"\"http://x\"\")\",1,-1,'-2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And an export's CSV files, whose README says how to undo it (the one organisation
    // published by name: groups of one allowed).
    env.config.export.min_group_members = 1;
    env.config.export.min_instance_users = 1;
    env.write_config();
    let exported = env.dir.path().join("export");
    let out = env.run(&["--db", db, "export", "--out", exported.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let buckets = std::fs::read_to_string(exported.join("metric_buckets.csv")).unwrap();
    let org = buckets.lines().find(|l| l.contains(",organisation,accounts,")).unwrap();
    assert!(org.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{buckets}");
    let readme = std::fs::read_to_string(exported.join("README.md")).unwrap();
    assert!(
        readme.contains(
            "a text field that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or `'` has a `'` put \
             before it"
        ),
        "{readme}"
    );
    // `lookup`'s TSV is a stream for programs: the name as the data file gives it.
    let out = env.run(&["lookup", "calc.example", "--format", "tsv"]);
    let tsv = String::from_utf8(out.stdout).unwrap();
    assert!(tsv.contains("\t=HYPERLINK(\"http://x\")"), "{tsv}");
    // A survey's CSV report neutralises the same cells.
    let list = env.dir.path().join("list.txt");
    std::fs::write(&list, "calc.example\n").unwrap();
    let survey = env.dir.path().join("s.db");
    let out = env.run(&[
        "--db",
        survey.to_str().unwrap(),
        "instances",
        list.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let org = csv.lines().find(|l| l.contains(",organisation,instances,")).unwrap();
    assert_eq!(
        org, "1,organisation,instances,1,\"'=HYPERLINK(\"\"http://x\"\")\",\"'=HYPERLINK(\"\"http://x\"\")\",1,1",
        "{csv}"
    );
}
