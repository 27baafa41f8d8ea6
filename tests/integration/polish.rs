//! What a newcomer found trying the README: `-o` destinations, stderr for cron, JSON logs,
//! messages that name their input.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use whohosts_sim::world::Software;

fn one_account() -> Env {
    Env::start(world(
        vec![inst("a.example", Software::Mastodon, "hetzner")],
        vec![acct("u@a.example", &[])],
    ))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `--json-copy /dev/stdout` into a pipe: the report, then the JSON, both on the pipe.
#[test]
fn output_to_dev_stdout_through_a_pipe() {
    let env = one_account();
    let bin = assert_cmd::cargo::cargo_bin("whohosts");
    let script = format!(
        "set -o pipefail; {} --quiet --config {} crawl --json-copy /dev/stdout u@a.example | cat",
        bin.display(),
        env.config_path().display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_report_then_json(&text(&out.stdout));
}

/// `out` holds the text report, then the JSON document of the one-account crawl.
fn assert_report_then_json(out: &str) {
    let json_at = out.find("{\n").expect("JSON after the report");
    assert!(out[..json_at].contains("Population:"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out[json_at..]).unwrap();
    assert_eq!(v["crawl"]["seeds"][0]["server"], "a.example");
}

/// `--json-copy /dev/stdout` with stdout appended to a file (`>> log`): earlier content stays, the
/// report and the JSON follow it.
#[test]
fn output_to_dev_stdout_appended_to_a_file() {
    let env = one_account();
    let log = env.dir.path().join("log.txt");
    std::fs::write(&log, "earlier run\n").unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .args(["--quiet", "crawl", "--json-copy", "/dev/stdout", "u@a.example"])
        .stdout(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = std::fs::read_to_string(&log).unwrap();
    let rest = all.strip_prefix("earlier run\n").unwrap_or_else(|| panic!("{all}"));
    assert_report_then_json(rest);
}

/// `--json-copy /dev/fd/3` writes to descriptor 3 as the shell opened it (appending), not to a
/// reopened or replaced file.
#[test]
fn output_to_another_open_descriptor_appends() {
    let env = one_account();
    let log = env.dir.path().join("fd3.txt");
    std::fs::write(&log, "earlier run\n").unwrap();
    let script = format!(
        "exec 3>>{}; {} --quiet --config {} crawl --json-copy /dev/fd/3 u@a.example > /dev/null",
        log.display(),
        assert_cmd::cargo::cargo_bin("whohosts").display(),
        env.config_path().display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = std::fs::read_to_string(&log).unwrap();
    let json = all.strip_prefix("earlier run\n").unwrap_or_else(|| panic!("{all}"));
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["crawl"]["seeds"][0]["server"], "a.example");
}

/// `-o FILE` keeps the mode of the file it replaces; a new file gets the umask's.
#[test]
fn output_file_keeps_its_mode() {
    let env = one_account();
    for mode in [0o600, 0o444] {
        let file = env.dir.path().join(format!("out-{mode:o}.json"));
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = env.run(&["crawl", "--json-copy", file.to_str().unwrap(), "u@a.example"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{}", file.display());
        assert!(std::fs::read_to_string(&file).unwrap().contains("a.example"));
    }
}

/// A database of one range, and one with a bad line that only `--lenient` reads.
fn small_dbs(dir: &std::path::Path) -> (String, String) {
    let good = dir.join("good.csv");
    std::fs::write(&good, "1.0.0.0,1.0.0.255,13335,Cloudflare\n").unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "1.0.0.0,1.0.0.255,13335,Cloudflare\nnot,a,line\n").unwrap();
    (good.display().to_string(), bad.display().to_string())
}

/// A failed `lookup` target says so on stderr, one line each, also under `--quiet`, while
/// stdout (thrown away by cron) keeps its output.
#[test]
fn lookup_failures_reach_stderr() {
    let env = one_account();
    let out = env.run(&["lookup", "a.example", "nowhere.example", "9.9.9.9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("whohosts: lookup nowhere.example: cannot resolve: "),
        "{err}"
    );
    assert!(lines[0].contains("NXDOMAIN"), "{err}");
    assert_eq!(lines[1], "whohosts: lookup 9.9.9.9: no AS found");
    assert!(text(&out.stdout).contains("nowhere.example: cannot resolve"));
}

/// `asn-db info` without any database says so on stderr, not on stdout.
#[test]
fn asn_db_info_without_database_says_so_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").unwrap();
    let out = crate::cli::whohosts()
        .arg("--config")
        .arg(&config)
        .args(["asn-db", "info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "whohosts: no IP-to-ASN database in {}; run `whohosts asn-db update`, or set attribution.asn_database\n",
            dir.path().join("data/asn").display()
        )
    );
}

/// Under `--log-format json` every stderr line is one JSON object: the `--lenient` count and
/// a refused lookup input included.
#[test]
fn json_logs_cover_every_stderr_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bad) = small_dbs(dir.path());
    let out = crate::cli::whohosts()
        .args([
            "--log-format",
            "json",
            "lookup",
            "--lenient",
            "--asn-db",
            &bad,
            "a b",
            "1.0.0.1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let messages: Vec<String> = err
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["message"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        messages,
        [
            "skipped 1 bad line in ASN database bad.csv (--lenient)".to_string(),
            "lookup \"a b\" contains a space; give a host name, an IP address or a URL".into(),
        ]
    );
}

/// JSON objects carry the target as given; in `lookup -` a refused line still has its row.
#[test]
fn lookup_rows_name_their_target() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = small_dbs(dir.path());
    let out = crate::cli::whohosts()
        .args(["lookup", "--format", "json", "--asn-db", &good, "https://1.0.0.1/x"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"], "https://1.0.0.1/x");
    assert_eq!(v["addresses"][0]["asn"], 13335);
    let out = crate::cli::whohosts()
        .args(["lookup", "--asn-db", &good, "-"])
        .write_stdin("  1.0.0.1  \na b\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let rows: Vec<Vec<&str>> = stdout.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(rows[0][0..3], ["1.0.0.1", "1.0.0.1", "13335"]);
    let refusal = "lookup \"a b\" (stdin line 2) contains a space; give a host name, an IP address or a URL";
    assert_eq!(rows[1][0], "a b");
    assert_eq!(rows[1].len(), 14);
    assert_eq!(rows[1][13], refusal);
    assert_eq!(text(&out.stderr), format!("whohosts: {refusal}\n"));
}

/// `attribution.asn_licence` credits the configured files only: a file given with
/// `--asn-db` (no sidecar) has no stated licence.
#[test]
fn configured_licence_is_not_given_to_a_command_line_database() {
    let env = one_account();
    assert!(env.config.attribution.asn_licence.is_some());
    let (good, _) = small_dbs(env.dir.path());
    let (snap, _) = env.crawl(&["u@a.example"]);
    let licence = &snap["attribution"]["database"]["licence"];
    assert_eq!(licence.as_str(), env.config.attribution.asn_licence.as_deref());
    let (snap, _) = env.crawl(&["--asn-db", &good, "u@a.example"]);
    assert_eq!(snap["attribution"]["database"]["file"], "good.csv");
    assert_eq!(snap["attribution"]["database"]["licence"], "not stated");
}

/// `-v` shows refusals with host and the URL's origin and kind: here a server that answers
/// only signed requests.
#[test]
fn verbose_shows_an_authorized_fetch_refusal() {
    let env = Env::start(world(
        vec![inst("gts.example", Software::Gotosocial, "hetzner")],
        vec![acct("u@gts.example", &[])],
    ));
    let run = |verbose: &[&str]| {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
            .arg("--config")
            .arg(env.config_path())
            .args(verbose)
            .args(["crawl", "u@gts.example"])
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        text(&out.stderr)
    };
    let err = run(&["-v"]);
    let line = err
        .lines()
        .find(|l| l.contains("refused: authorized fetch"))
        .unwrap_or_else(|| panic!("no refusal line in:\n{err}"));
    // Host, origin and kind only, as every log line of the client: never the path, which
    // names the account.
    assert!(line.contains("host=gts.example"), "{line}");
    assert!(line.contains("url=http://gts.example:"), "{line}");
    assert!(line.contains("/<actor-or-page>"), "{line}");
    assert!(!err.contains("/users/u"), "{err}");
    assert!(!err.contains(" request "), "requests are debug:\n{err}");
    assert!(!run(&[]).contains("refused: authorized fetch"));
    assert!(run(&["-vv"]).contains("request"));
}

/// `sim --write-config` never replaces a file silently: `--force` is needed.
#[test]
fn sim_write_config_refuses_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod.toml");
    std::fs::write(&path, "contact_url = \"https://me.example\"\n").unwrap();
    let out = crate::cli::whohosts()
        .args(["sim", "--size", "3", "--write-config"])
        .arg(&path)
        .output()
        .unwrap();
    // A usage error (the path needs --force): exit 2, and the hint names sim's help.
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "whohosts: --write-config {:?}: the file exists; pass --force to replace it\n\
             whohosts: see `whohosts sim --help`\n",
            path.display().to_string()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "contact_url = \"https://me.example\"\n"
    );
    // A missing directory (under the test's own directory: as root, /nonexistent could be
    // created by another test running beside this one).
    let missing = dir.path().join("missing").join("x.toml");
    let out = crate::cli::whohosts()
        .args(["sim", "--write-config"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stderr),
        format!(
            "whohosts: --write-config {:?}: directory {} does not exist\n\
             whohosts: see `whohosts sim --help`\n",
            missing.display().to_string(),
            dir.path().join("missing").display()
        )
    );
}

/// A file that cannot be read is named with its role.
#[test]
fn missing_files_name_their_role() {
    let dir = tempfile::tempdir().unwrap();
    let err = |args: &[&str], env: Option<&str>| {
        let mut c = crate::cli::whohosts();
        c.current_dir(dir.path()).args(args);
        if let Some(v) = env {
            c.env("WHOHOSTS_CONFIG", v);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        text(&out.stderr)
    };
    assert_eq!(
        err(&["--config", "missing.toml", "lookup", "1.1.1.1"], None),
        "whohosts: config file missing.toml: no such file\n"
    );
    assert_eq!(
        err(&["lookup", "1.1.1.1"], Some("missing.toml")),
        "whohosts: config file missing.toml (from $WHOHOSTS_CONFIG): no such file\n"
    );
    assert_eq!(
        err(&["demo", "--world", "nonexist.toml"], None),
        "whohosts: world file nonexist.toml: no such file\n"
    );
    assert_eq!(
        err(&["lookup", "--asn-db", "nothere.csv", "1.1.1.1"], None),
        "whohosts: ASN database nothere.csv: no such file\n"
    );
}

/// A DNS server that does not answer is not "does not resolve"; a refused connection is one
/// short cause, not reqwest's chain.
#[test]
fn network_failures_say_what_happened_in_a_few_words() {
    let mut env = one_account();
    env.config.dns.timeout_secs = 0.3;
    env.config.dns.attempts = 1;
    env.write_config();
    let out = env.run(&["crawl", "--nameserver", "127.0.0.1:9", "u@a.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "whohosts: @u@a.example: DNS did not answer for a.example (timeout)\n\
         whohosts: no seed could be read: snapshot 1 is stored as failed (no baseline for trends, comparisons or \
         rules)\n"
    );
    let (snap, _) = env.crawl(&["--nameserver", "127.0.0.1:9", "u@a.example"]);
    assert_eq!(seed(&snap, "u@a.example")["error"]["kind"], "dns-no-answer");
    let (snap, _) = env.crawl(&["nobody@unknown.example"]);
    assert_eq!(seed(&snap, "nobody@unknown.example")["error"]["kind"], "dns");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.config.network.port = closed;
    env.write_config();
    let out = env.run(&["crawl", "u@a.example"]);
    // The URL as a log line writes it: origin and kind (see quiet_lines.rs).
    assert_eq!(
        text(&out.stderr),
        format!(
            "whohosts: @u@a.example: http://a.example:{closed}/<robots.txt>: connection refused by a.example:{closed}\n\
             whohosts: no seed could be read: snapshot 4 is stored as failed (no baseline for trends, comparisons or \
             rules)\n"
        )
    );
}

/// The README's JSON table lists every field of `summary.population` and of a list, as a
/// demo crawl writes them.
#[test]
fn readme_json_table_lists_every_population_and_list_field() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = |field: &str| -> std::collections::BTreeSet<String> {
        let line = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{field}` |")))
            .unwrap_or_else(|| panic!("README has no row for {field}"));
        line.split('`').skip(3).step_by(2).map(str::to_string).collect()
    };
    let out = crate::cli::whohosts()
        .args(["demo", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = |o: &serde_json::Value| -> Vec<String> { o.as_object().unwrap().keys().cloned().collect() };
    let documented = row("population");
    for k in keys(&v["population"]) {
        assert!(documented.contains(&k), "population.{k} is not in the README");
    }
    let crawl = row("crawl");
    for k in keys(&v["crawl"]["seeds"][0]["following"]) {
        assert!(crawl.contains(&k), "a list's {k} is not in the README");
    }
    for k in keys(&v["crawl"]["seeds"][0]) {
        assert!(crawl.contains(&k), "a seed's {k} is not in the README");
    }
}

/// `-q` and `-v` contradict each other: a usage error, not a silent choice.
#[test]
fn quiet_and_verbose_together_are_a_usage_error() {
    let out = crate::cli::whohosts()
        .args(["-q", "-v", "lookup", "1.1.1.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "whohosts: the argument '--quiet' cannot be used with '--verbose'\n\
         whohosts: see `whohosts --help`\n"
    );
}

/// A usage error is two lines (what is wrong, with clap's tip; where help is), not clap's
/// usage block.
#[test]
fn usage_errors_are_two_lines() {
    let out = crate::cli::whohosts()
        .args(["report", "--fromat", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "whohosts: unexpected argument '--fromat' found (tip: a similar argument exists: '--format')\n\
         whohosts: see `whohosts report --help`\n"
    );
    let out = crate::cli::whohosts().args(["crawl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "whohosts: the following required arguments were not provided: <HANDLE>...\n\
         whohosts: see `whohosts crawl --help`\n"
    );
    // Help is still clap's, on stdout, exit 0.
    let out = crate::cli::whohosts().args(["crawl", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Usage: whohosts crawl"));
}
