//! The command line itself: help text in the README, config errors, the demo.

use assert_cmd::Command;

use crate::common::*;

/// The binary, with no config of the user's in reach, and a data directory of its own (a
/// fresh temporary one: tests running at once never share a snapshot database).
pub fn whohosts() -> Command {
    let mut c = Command::cargo_bin("whohosts").unwrap();
    let data = tempfile::tempdir().expect("a temporary directory").keep();
    c.env_remove("WHOHOSTS_CONFIG")
        .env_remove("WHOHOSTS_TOKEN")
        .env_remove("WHOHOSTS_DB")
        .env("HOME", "/nonexistent")
        .env("XDG_DATA_HOME", data)
        .env_remove("XDG_CONFIG_HOME");
    c.timeout(std::time::Duration::from_secs(120));
    c
}

/// The README shows `whohosts --help` and `whohosts crawl --help` exactly as printed.
#[test]
fn readme_help_blocks_match_the_binary() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for args in [vec!["--help"], vec!["crawl", "--help"]] {
        let out = whohosts().args(&args).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let marker = format!("$ whohosts {}\n", args.join(" "));
        let start = readme
            .find(&marker)
            .unwrap_or_else(|| panic!("README lacks `{}`", marker.trim()))
            + marker.len();
        let block = &readme[start..start + readme[start..].find("```").unwrap()];
        assert_eq!(
            block,
            help,
            "README block for `whohosts {}` is out of date",
            args.join(" ")
        );
    }
}

/// Every command's help, long (`--help`) and short (`-h`), fits 80 columns (issue #15),
/// whatever the terminal's width.
#[test]
fn every_help_fits_80_columns() {
    fn paths(c: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        out.push(prefix.to_vec());
        for sub in c.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = prefix.to_vec();
            p.push(sub.get_name().to_string());
            paths(sub, &p, out);
        }
    }
    let mut all = vec![];
    paths(&whohosts::cli::command(), &[], &mut all);
    assert!(all.len() > 15, "{all:?}");
    for path in all {
        for flag in ["--help", "-h"] {
            let out = whohosts().args(&path).arg(flag).env("COLUMNS", "200").output().unwrap();
            let help = String::from_utf8(out.stdout).unwrap();
            assert!(help.contains("Usage: whohosts"), "{path:?} {flag}: {help}");
            crate::common::assert_fits_80(&format!("whohosts {} {flag}", path.join(" ")), &help);
        }
    }
}

#[test]
fn a_bad_config_line_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[network]\nallow_htp = true\n").unwrap();
    let out = whohosts()
        .arg("--config")
        .arg(&path)
        .args(["crawl", "a@b.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "whohosts: config {}:2:1: unknown field `allow_htp`, expected one of ",
            path.display()
        )),
        "{err}"
    );
    assert!(err.ends_with(" (in `allow_htp = true`)\n"), "{err}");
    let missing = dir.path().join("none/c.toml");
    let out = whohosts().arg("--config").arg(&missing).arg("demo").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "whohosts: config file {}: directory {} does not exist\n",
            missing.display(),
            dir.path().join("none").display()
        )
    );
    // A config given by a relative name: the missing file it names is shown where it was
    // looked for, as a whole path.
    std::fs::write(
        dir.path().join("c3.toml"),
        "[attribution]\nasn_database = \"missing.csv\"\n",
    )
    .unwrap();
    let out = whohosts()
        .current_dir(dir.path())
        .args(["--config", "c3.toml", "--db", "x.db", "crawl", "a@b.example"])
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), String::from_utf8(out.stderr).unwrap()),
        (
            Some(1),
            format!(
                "whohosts: config c3.toml: attribution.asn_database: no file {} (relative paths are relative to \
                 the config file)\n",
                dir.path().join("missing.csv").display()
            )
        )
    );
}

#[test]
fn only_malformed_handles_stop_before_any_traffic() {
    let out = whohosts().args(["crawl", "alice", "@bob@"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "whohosts: invalid handle \"alice\": expected user@domain\nwhohosts: invalid handle \"@bob@\": domain is empty\n"
    );
}

#[test]
fn demo_runs_the_whole_pipeline_offline() {
    let out = whohosts()
        .args(["demo", "--size", "40", "--seed", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = unwrapped(&String::from_utf8(out.stdout).unwrap());
    assert!(text.starts_with("Of the "), "{text}");
    assert!(text.contains("(A simulated fediverse: 40 instances, "), "{text}");
    // The report is of the last simulated week (week 3), when 249 are followed.
    assert!(text.contains("@demo@flagship.example (on flagship.example): 249 following listed via mastodon-api, 249 declared; complete"), "{text}");
    assert!(text.contains("\nBy instance (43 instances, 249 accounts)\n"), "{text}");
    assert!(text.contains("\nBy hosting organisation ("), "{text}");
    assert!(text.contains(" organisations, 245 accounts)\n"), "{text}");
    assert!(text.contains("Hetzner"), "{text}");
    // The demo's table is its own: it says so, rather than a warning about its source.
    assert!(
        text.contains(", licence: the simulator's own table of made-up ranges; address policy"),
        "{text}"
    );
    let json = whohosts()
        .args(["demo", "--size", "40", "--seed", "3", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["crawl"]["seeds"][0]["following"]["accounts"]
            .as_array()
            .unwrap()
            .len(),
        249
    );
}

/// The demo world's accounts have last posts (fixed by their place in the world, counted
/// back from the week served), so `demo --weight active` weighs the accounts that posted
/// within 90 days, in every week of the trend; the other figures of the demo are unchanged.
#[test]
fn demo_weighs_active_accounts() {
    let out = whohosts()
        .args(["demo", "--size", "40", "--seed", "3", "--weight", "active"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "Of the 174 active accounts (162 with a known host), 63 % are hosted by 2\n\
             organisations (Hetzner, netcup); 3 organisations cover 75 %, one of them a CDN\n"
        ),
        "{text}"
    );
    assert!(text.contains("top-3  78.8 %  k50   2  HHI  2759\n"), "{text}");
    assert!(text.contains("top-3  75.9 %  k50   2  HHI  2620\n"), "{text}");
    assert!(
        text.contains("\nBy instance (39 instances, 165 active accounts)\n"),
        "{text}"
    );
    assert!(text.contains("  Counted apart: 9 activity unknown.\n"), "{text}");
}

#[test]
fn the_shipped_example_world_runs() {
    let world = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/worlds/variants.toml");
    let out = whohosts()
        .args(["demo", "--world", world, "@alice@masto.example", "@pix@pixel.example"])
        .output()
        .unwrap();
    let text = unwrapped(&String::from_utf8(out.stdout).unwrap());
    assert!(
        text.contains(
            "@alice@masto.example (on masto.example): 6 following listed via mastodon-api, 6 declared; complete"
        ),
        "{text}"
    );
    assert!(text.contains("@pix@pixel.example (on pixel.example): 0 following listed via activitypub, 2 declared; items not exposed by the server (2 not visible)"), "{text}");
}

#[test]
fn worlds_can_be_json() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/worlds/variants.toml"
    ))
    .unwrap();
    let w = whohosts_sim::world::World::from_toml(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.json");
    std::fs::write(&path, serde_json::to_string(&w).unwrap()).unwrap();
    let out = whohosts()
        .args(["demo", "--world", path.to_str().unwrap(), "carol@misskey.example"])
        .output()
        .unwrap();
    let text = unwrapped(&String::from_utf8(out.stdout).unwrap());
    assert!(
        text.contains(
            "@carol@misskey.example (on misskey.example): 1 following listed via activitypub, 1 declared; complete"
        ),
        "{text}"
    );
    std::fs::write(&path, "{\"instance\": 3}").unwrap();
    let out = whohosts()
        .args(["demo", "--world", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "whohosts: world {}: invalid type: integer `3`",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn json_output_file_and_broken_pipe() {
    let env = Env::start(world(
        vec![inst("a.example", whohosts_sim::world::Software::Mastodon, "hetzner")],
        vec![acct("u@a.example", &[])],
    ));
    let file = env.dir.path().join("out.json");
    let out = env.run(&["crawl", "--json-copy", file.to_str().unwrap(), "u@a.example"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["crawl"]["seeds"][0]["server"], "a.example");
    let left: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.json") || n.ends_with(".part"))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "no temporary sibling is left");
    // (An unwritable destination: see newuser.rs, it fails before the crawl.)
    // `whohosts … | head` ends quietly when head stops reading.
    let bin = assert_cmd::cargo::cargo_bin("whohosts");
    let script = format!(
        "set -o pipefail; {} demo --size 300 --format json | head -c 100 >/dev/null",
        bin.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// `-o` means the same on every command: the report, in `--format`, goes to FILE instead of
/// stdout; `--json-copy FILE` adds the JSON document.
#[test]
fn dash_o_writes_the_report_in_its_format_on_every_command() {
    let env = Env::start(world(
        vec![inst("a.example", whohosts_sim::world::Software::Mastodon, "hetzner")],
        vec![acct("u@a.example", &[])],
    ));
    let page = env.dir.path().join("r.html");
    let copy = env.dir.path().join("r.json");
    let out = env.run(&[
        "crawl",
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
        "--json-copy",
        copy.to_str().unwrap(),
        "u@a.example",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "the report went to -o");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{html}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&copy).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 1);
    let text = env.dir.path().join("r.txt");
    let out = env.run(&["crawl", "-o", text.to_str().unwrap(), "u@a.example"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert!(std::fs::read_to_string(&text)
        .unwrap()
        .contains("\nWeight: accounts — "));
    // `demo` takes the same flags.
    let csv = env.dir.path().join("demo.csv");
    let out = whohosts()
        .args(["demo", "--size", "40", "--seed", "3", "--format", "csv", "-o"])
        .arg(&csv)
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.lines().next().unwrap().contains("level"), "{csv}");
}

/// Stdout of a successful run, its lines joined (the closing note is wrapped).
fn joined(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `demo --contacts --db FILE` writes into a new database or one of demo data: a database
/// of crawls, or one holding a contacts series of the user's own, is refused as `demo`
/// refuses one (exit code 2, nothing added); its own series again is fine.
#[test]
fn the_contacts_demo_never_appends_to_a_database_of_real_data() {
    let dir = tempfile::tempdir().unwrap();
    let (crawls, book) = (dir.path().join("crawls.db"), dir.path().join("book.db"));
    let demo = |extra: &[&str]| whohosts().arg("demo").args(extra).output().unwrap();
    let count = |db: &std::path::Path| {
        let c = rusqlite::Connection::open(db).unwrap();
        c.query_row("SELECT count(*) FROM snapshot", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert!(
        demo(&["--size", "15", "--weeks", "1", "--db", crawls.to_str().unwrap()])
            .status
            .success()
    );
    let out = demo(&["--contacts", "--db", crawls.to_str().unwrap()]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned()),
        (
            Some(2),
            format!(
                "whohosts: --db {crawls:?}: already holds 2 crawl snapshots; the demo writes its contact book into a \
                 new database: name a new file\nwhohosts: see `whohosts demo --help`\n"
            )
        )
    );
    assert_eq!(count(&crawls), 2);
    for _ in 0..2 {
        let out = demo(&["--contacts", "--db", book.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(count(&book), 2);
    // The first one as if it were the user's own book (another series).
    rusqlite::Connection::open(&book)
        .unwrap()
        .execute(
            "UPDATE snapshot SET request = json_set(request, '$.series', 'mine') WHERE id = 1",
            [],
        )
        .unwrap();
    let out = demo(&["--contacts", "--db", book.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with(&format!("whohosts: --db {book:?}: already holds 1 contacts snapshot;")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&book), 2);
}

/// The demo's closing note names the commands that run next on the database the snapshots
/// are in (quoted for the shell), or how to keep them; a second demo into that database is
/// refused (its weeks would be dated before the stored ones); its report files are private.
#[test]
fn the_demo_says_what_to_run_next_and_never_appends_to_a_used_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("my demo.db");
    let run = |extra: &[&str]| {
        whohosts()
            .args(["demo", "--size", "15", "--weeks", "1"])
            .args(extra)
            .output()
            .unwrap()
    };
    let db_arg = db.to_str().unwrap();
    let kept = joined(&run(&["--db", db_arg]));
    let q = format!("'{db_arg}'");
    assert!(
        kept.ends_with(&format!(
            "They are in {db_arg}: try `whohosts --db {q} report --format html -o report.html`, \
             `whohosts --db {q} diff 1 2`, `whohosts --db {q} query --list`.)"
        )),
        "{kept}"
    );
    let again = run(&["--db", db_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        format!(
            "whohosts: --db \"{db_arg}\": already holds 2 crawl snapshots; the demo writes its weeks into a new \
             database: name a new file\nwhohosts: see `whohosts demo --help`\n"
        )
    );
    let listed = whohosts().arg("--db").arg(&db).arg("snapshots").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&listed.stdout).lines().count(), 1 + 2);

    // Without --db: the same command with --db added, to keep them.
    let temporary = joined(&run(&[]));
    assert!(
        temporary.ends_with(
            "They were in a temporary database, now removed: to keep them, run `whohosts demo --size 15 \
             --weeks 1 --db demo.db`, then try `whohosts --db demo.db report --format html -o report.html`, \
             `whohosts --db demo.db diff 1 2`, `whohosts --db demo.db query --list`.)"
        ),
        "{temporary}"
    );

    // -o and --json-copy name accounts: created 0600; a file the owner opened keeps its mode.
    let (html, json) = (dir.path().join("r.html"), dir.path().join("r.json"));
    std::fs::write(&json, "old").unwrap();
    std::fs::set_permissions(&json, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let out = run(&[
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
        "--json-copy",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((mode(&html), mode(&json)), (0o600, 0o640));
    assert!(std::fs::read_to_string(&json).unwrap().starts_with('{'));
}

/// `demo --help` gives the demo's own default database; `sim` stores nothing and refuses --db
/// on its command line (but not WHOHOSTS_DB, set for the others); `instances` stores its
/// survey and takes --db.
#[test]
fn db_is_described_for_demo_and_refused_where_nothing_is_stored() {
    let help = joined(&whohosts().args(["demo", "--help"]).output().unwrap());
    assert!(
        help.contains(
            "--db <FILE> Keep the demo's snapshots in FILE, a new database (one that holds snapshots is refused) \
             [default: a temporary database, removed when the demo ends; WHOHOSTS_DB is not used]"
        ),
        "{help}"
    );
    let help = joined(&whohosts().args(["instances", "--help"]).output().unwrap());
    assert!(help.contains("--db <FILE>"), "{help}");
    {
        let cmd = "sim";
        let out = whohosts().args(["--db", "x.db", cmd]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "whohosts: --db \"x.db\": `{cmd}` stores no snapshot, so it takes no database\n\
                 whohosts: see `whohosts {cmd} --help`\n"
            )
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "# none\n").unwrap();
    let out = whohosts()
        .env("WHOHOSTS_DB", dir.path().join("x.db"))
        .args(["instances", "--asn-db", "/nonexistent.csv"])
        .arg(&list)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A bad value is a usage error naming the subcommand's help, whatever clap's text says.
#[test]
fn value_errors_are_usage_errors_pointing_to_the_subcommands_help() {
    for (args, first) in [
        (
            &["report", "--format", "pdf"][..],
            "--format: 'pdf' is not one of text, json, csv, html\n",
        ),
        (&["demo", "--weeks", "x"][..], "--weeks: 'x' is not a whole number\n"),
        (&["demo", "--size", "2"][..], "--size: '2' is not between 3 and 10000\n"),
        (
            &["demo", "--size", "-5"][..],
            "--size: '-5' is not between 3 and 10000\n",
        ),
    ] {
        let out = whohosts().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.starts_with(&format!("whohosts: {first}")), "{err}");
        assert!(
            err.ends_with(&format!("\nwhohosts: see `whohosts {} --help`\n", args[0])),
            "{err}"
        );
        assert_eq!(err.lines().count(), 2, "{err}");
    }
}

/// Every numeric flag's bad value is one line in whohosts' words naming the flag and the
/// value (no "invalid digit found in string", no "use '-- -1'"), then the hint; exit code 2.
#[test]
fn numeric_values_are_refused_in_our_words() {
    for (args, line) in [
        (&["prune", "--keep", "x"][..], "--keep: 'x' is not a whole number"),
        (
            &["prune", "--keep", "-1"],
            "--keep: '-1' is negative: give a whole number, 0 or more",
        ),
        (&["prune", "--keep", ""], "--keep: '' is empty: give a whole number"),
        (
            &["prune", "--keep", "99999999999999999999999"],
            "--keep: '99999999999999999999999' is too large: at most 18446744073709551615",
        ),
        (
            &["crawl", "--depth", "9", "a@b.example"],
            "--depth: '9' is not between 1 and 4",
        ),
        (
            &["crawl", "--depth", "-2", "a@b.example"],
            "--depth: '-2' is not between 1 and 4",
        ),
        (
            &["crawl", "--max-requests", "lots", "a@b.example"],
            "--max-requests: 'lots' is not a whole number",
        ),
        (
            &["report", "--top", "-1"],
            "--top: '-1' is negative: give a whole number, 0 or more",
        ),
        (&["report", "ten"], "SNAPSHOT: 'ten' is not a whole number"),
        (&["diff", "1", "2x"], "B: '2x' is not a whole number"),
        (
            &["demo", "--weeks", "99999999999"],
            "--weeks: '99999999999' is too large: at most 4294967295",
        ),
        (
            &["asn-db", "update", "--min-ranges", "-5"],
            "--min-ranges: '-5' is negative: give a whole number, 0 or more",
        ),
        (
            &["prune", "--older-than", "-3d"],
            "--older-than: '-3d' is negative: give a duration such as 90d or 12weeks",
        ),
        (
            &["report", "--format", "jsn"],
            "--format: 'jsn' is not one of text, json, csv, html (did you mean 'json'?)",
        ),
        (
            &["report", "--json-copy", "r.json"],
            "unexpected argument '--json-copy' found",
        ),
        (&["report", "--top"], "--top: needs a value"),
        (&["export", "--out"], "--out: needs a value"),
        (
            &["report", "--by", ""],
            "--by: needs a value, one of instance, organisation, as, range, block, country, hosting",
        ),
    ] {
        let out = whohosts().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let command = if args[0] == "asn-db" { "asn-db update" } else { args[0] };
        assert_eq!(
            (out.status.code(), err),
            (
                Some(2),
                format!("whohosts: {line}\nwhohosts: see `whohosts {command} --help`\n")
            ),
            "{args:?}"
        );
    }
}

/// `demo --contacts` says `--show-malformed` lists the malformed entry, and `demo` takes it.
#[test]
fn the_demo_takes_the_show_malformed_it_suggests() {
    let run = |extra: &[&str]| {
        whohosts()
            .args(["demo", "--size", "40", "--seed", "3", "--contacts"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("whohosts: warning: ")
            && err.ends_with("the demo's contact book: 1 malformed entry (--show-malformed lists them)\n")
            && err.lines().count() == 1,
        "{err}"
    );
    let out = run(&["--show-malformed"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("whohosts: the demo's contact book:"), "{err}");
    assert!(!err.contains("--show-malformed"), "{err}");
    let out = whohosts().args(["demo", "--show-malformed"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A closed stderr (`2>&1 | head`, a cron mailer that stopped reading) drops the lines, never
/// the exit code: each command exits with its documented code, not 101 from a panic.
#[test]
fn a_closed_stderr_keeps_the_exit_code() {
    for (args, code) in [(vec!["lookup", "1::2::3"], 1), (vec!["lookup", "--keep", "x"], 2)] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
            .args(&args)
            .env_remove("WHOHOSTS_CONFIG")
            .env("XDG_DATA_HOME", tempfile::tempdir().unwrap().keep())
            .stderr(std::process::Stdio::from(writer))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}
