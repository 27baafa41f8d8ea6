//! The README's claims checked against the program.
//!
//! Every fenced block of README.md whose first line is `$ COMMAND` is a transcript: each
//! `$ ` line is run with `sh -c`, in the README's order, in one temporary directory (so the
//! blocks that read `--db demo.db` read the database the demo block made), with the binary
//! first on `PATH` and no configuration of the user's; what the block quotes after it is
//! compared with what the command prints. Only what truly varies between runs is normalised:
//! dates, times of day and loopback ports (`normalise`). A line `...` in a block stands for
//! any number of lines. A block that cannot run offline says so in an HTML comment on the
//! line before it, `<!-- not run: WHY -->`, and is skipped.
//!
//! The claims in prose that the issue found stale are checked here too, each as the README
//! words it: "Nothing to attribute", the weight that counts an account once, and the four
//! formats that carry the same numbers.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::Env;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// One `$ COMMAND` of a README block and the output quoted after it.
#[derive(Debug)]
struct Transcript {
    /// README line of the command (1-based), for messages.
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The transcripts of README.md in order, but for blocks marked `<!-- not run: … -->`.
fn transcripts(readme: &str) -> Vec<Transcript> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !fence.starts_with("```") {
            i += 1;
            continue;
        }
        let indent = lines[i].len() - fence.len();
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .expect("every README block is closed");
        let body: Vec<&str> = lines[i + 1..end]
            .iter()
            .map(|l| l.get(indent..).unwrap_or(""))
            .collect();
        let skipped = i > 0 && lines[i - 1].trim_start().starts_with("<!-- not run:");
        if body.first().is_some_and(|l| l.starts_with("$ ")) && !skipped {
            for (k, l) in body.iter().enumerate() {
                if let Some(command) = l.strip_prefix("$ ") {
                    out.push(Transcript {
                        line: i + 2 + k,
                        command: command.to_string(),
                        expected: vec![],
                    });
                } else {
                    out.last_mut().unwrap().expected.push(l.to_string());
                }
            }
        }
        i = end + 1;
    }
    out
}

/// Replace every run of characters shaped like `shape` (`9` a digit, anything else itself),
/// not touching other digits, with `with`.
fn replace_shape(s: &str, shape: &str, with: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let p: Vec<char> = shape.chars().collect();
    let fits = |i: usize| {
        i + p.len() <= c.len()
            && p.iter()
                .zip(&c[i..])
                .all(|(p, c)| if *p == '9' { c.is_ascii_digit() } else { p == c })
            && (i == 0 || !c[i - 1].is_ascii_digit())
            && c.get(i + p.len()).is_none_or(|n| !n.is_ascii_digit())
    };
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        if fits(i) {
            out += with;
            i += p.len();
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Replace the digits after every `prefix` with `with`.
fn replace_after(s: &str, prefix: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find(prefix) {
        out += &rest[..at + prefix.len()];
        rest = &rest[at + prefix.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out += with;
            rest = &rest[digits..];
        }
    }
    out + rest
}

/// What varies from run to run, made alike: dates (the demo's weeks end today), times of day,
/// and the loopback ports the simulator listens on (5 digits, so lines wrap alike).
fn normalise(s: &str) -> String {
    let s = replace_shape(s, "9999-99-99", "YYYY-MM-DD");
    let s = replace_shape(&s, "99:99:99", "hh:mm:ss");
    let s = replace_after(&s, "127.0.0.1:", "PORT");
    let s = replace_after(&s, ".example:", "PORT");
    replace_after(&s, "HTTP port ", "PORT")
}

/// Whether `actual` holds the `expected` lines, a line `...` standing for any lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((first, rest)) => actual.first() == Some(first) && matches(rest, &actual[1..]),
    }
}

/// Whether python3 can import `module`; fails under CI when it cannot.
fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var("CI").as_deref() != Ok("true"),
        "python3 lacks {module} under CI"
    );
    if !ok {
        eprintln!("skipped: python3 module {module} is not installed");
    }
    ok
}

/// Run `command` as the README reader would: `sh -c` in `dir`, the binary first on `PATH`.
fn shell(dir: &Path, command: &str) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("whohosts");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("WHOHOSTS_CONFIG")
        .env_remove("WHOHOSTS_TOKEN")
        .env_remove("WHOHOSTS_DB")
        .env_remove("XDG_CONFIG_HOME")
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

/// Run every transcript of `readme` in `dir`; the differences found, one message each.
fn run_transcripts(readme: &str, dir: &Path) -> Vec<String> {
    let mut wrong = vec![];
    for t in transcripts(readme) {
        if t.command.starts_with("python3") && t.command.contains("duckdb") && !python_has("duckdb") {
            continue;
        }
        let out = shell(dir, &t.command);
        let printed = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            wrong.push(format!(
                "README.md:{}: `{}` failed ({}): {}",
                t.line,
                t.command,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        // A block cannot show the blank lines that end an output: they are not compared.
        let trimmed = |v: Vec<String>| {
            let keep = v.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1);
            v[..keep].to_vec()
        };
        let actual = trimmed(normalise(&printed).lines().map(str::to_string).collect());
        let expected = trimmed(t.expected.iter().map(|l| normalise(l)).collect());
        if !matches(&expected, &actual) {
            wrong.push(format!(
                "README.md:{}: `{}` prints, normalised:\n{}\n--- but the README quotes:\n{}",
                t.line,
                t.command,
                actual.join("\n"),
                expected.join("\n")
            ));
        }
    }
    wrong
}

/// The demo's trend dates: one week apart, the last one today.
fn demo_dates_are_weeks_apart(demo_db: &Path) {
    let text = crate::html::with_db(demo_db, &["report"]);
    let dates: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  snapshot "))
        .map(|l| l[4..14].to_string())
        .collect();
    assert_eq!(dates.len(), 4, "{text}");
    let day = |d: &str| {
        let civil = |s: &str| s.parse::<i64>().unwrap();
        // Days from a fixed epoch (Howard Hinnant's days_from_civil).
        let (y, m, d) = (civil(&d[..4]), civil(&d[5..7]), civil(&d[8..10]));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy
    };
    let steps: Vec<i64> = dates.windows(2).map(|w| day(&w[1]) - day(&w[0])).collect();
    assert_eq!(steps, [7, 7, 7], "{dates:?}");
    assert_eq!(dates[3], whohosts::model::time::now()[..10]);
}

/// Every README transcript prints what the README quotes; then the four formats of the
/// demo's report carry the same numbers, as the README says.
#[test]
fn readme_transcripts_print_what_the_readme_quotes() {
    let readme = readme();
    let ts = transcripts(&readme);
    let commands: Vec<&str> = ts.iter().map(|t| t.command.as_str()).collect();
    for needed in [
        "whohosts --db demo.db demo",
        "whohosts --db demo.db diff 2 3",
        "whohosts --db demo.db query share -p name=Hetzner",
        "whohosts demo --contacts",
        "whohosts --help",
    ] {
        assert!(commands.contains(&needed), "README runs `{needed}`: {commands:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let wrong = run_transcripts(&readme, dir.path());
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    let db = dir.path().join("demo.db");
    demo_dates_are_weeks_apart(&db);
    four_formats_carry_the_same_numbers(&readme, &db);
}

/// A README block that no longer matches the program is found, and its line named.
#[test]
fn a_readme_block_out_of_date_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let readme = "Text.\n\n```\n$ whohosts snapshots --help\nList the stored snapshots\n...\n```\n\n\
                  <!-- not run: needs a server -->\n```\n$ whohosts crawl @a@b.example\nanything\n```\n";
    assert_eq!(run_transcripts(readme, dir.path()), Vec::<String>::new());
    let stale = readme.replace("List the stored", "List the kept");
    let wrong = run_transcripts(&stale, dir.path());
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert!(
        wrong[0]
            .starts_with("README.md:4: `whohosts snapshots --help` prints, normalised:\nList the stored snapshots\n"),
        "{}",
        wrong[0]
    );
    // What varies is normalised alike on both sides, and nothing else.
    assert_eq!(
        normalise("2026-11-15T04:04:24Z http://node13.example:41234/u DNS at 127.0.0.1:53127, HTTP port 40111 12:34"),
        "YYYY-MM-DDThh:mm:ssZ http://node13.example:PORT/u DNS at 127.0.0.1:PORT, HTTP port PORT 12:34"
    );
}

/// `"…"` quoted in the README (with its quotes), which must be there word for word.
fn quoted<'a>(readme: &str, sentence: &'a str) -> &'a str {
    let q = format!("\"{sentence}\"");
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&q), "README no longer says {q}");
    sentence
}

/// "A run where no list gave any account leads with "Nothing to attribute: …" … and a
/// grouping with nothing in it says "nothing to attribute at this level: not rated"."
#[test]
fn readme_nothing_to_attribute_is_what_the_report_says() {
    let readme = readme();
    let lead = quoted(
        &readme,
        "Nothing to attribute: no accounts followed could be attributed to a hosting organisation.",
    );
    let level = quoted(&readme, "nothing to attribute at this level: not rated");
    let env = Env::start(crate::alerts::small_world());
    let out = env.run(&["crawl", "@carol@a.example"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.split("\n\n").next().unwrap().replace('\n', " ");
    assert_eq!(
        first
            .split("\nWeight:")
            .next()
            .unwrap()
            .split(" Weight:")
            .next()
            .unwrap(),
        lead
    );
    assert_eq!(text.matches(&format!("  {level}.")).count(), 3, "{text}");
    assert!(!text.contains("unconcentrated"), "{text}");
}

/// "Reports weigh by `accounts` unless `--weight` says otherwise: an account two seeds both
/// follow, or listed both as followed and as follower, counts once; `--weight edges` counts
/// every follow."
#[test]
fn readme_an_account_two_seeds_follow_counts_once() {
    use crate::common::{acct, inst, world};
    use whohosts_sim::world::Software;
    let readme = readme();
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(
        "Reports weigh by `accounts` unless `--weight` says otherwise: an account two seeds both follow, or \
         listed both as followed and as follower, counts once; `--weight edges` counts every follow."
    ));
    let both = ["c@b.example".to_string()];
    let w = world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
        ],
        vec![
            acct("s1@a.example", &[both[0].clone(), "d@b.example".into()]),
            acct("s2@a.example", &both),
            acct("c@b.example", &[]),
            acct("d@b.example", &[]),
        ],
    );
    let env = Env::start(w);
    let (v, code) = env.crawl(&["@s1@a.example", "@s2@a.example"]);
    assert_eq!(code, 0);
    let total = |v: &Value| v["levels"][0]["summary"]["total"].as_f64().unwrap();
    assert_eq!(total(&v), 2.0, "c counts once under accounts");
    let (v, _) = env.crawl(&["--weight", "edges", "@s1@a.example", "@s2@a.example"]);
    assert_eq!(total(&v), 3.0, "every follow under edges");
    assert_eq!(v["population"]["list_entries"], 3);
}

/// "The four formats agree": the README says what each carries, and the test reads the
/// demo's report in all four and compares every figure each one carries.
fn four_formats_carry_the_same_numbers(readme: &str, db: &Path) {
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("the four formats carry the same numbers"),
        "README no longer says the four formats carry the same numbers"
    );
    crate::formats::compare_all_formats(db);
}

#[test]
fn transcripts_are_read_as_written() {
    let readme = "```sh\nwhohosts x\n```\n\n  ```\n  $ whohosts a\n  one\n  $ whohosts b\n  ```\n";
    let ts = transcripts(readme);
    assert_eq!(ts.len(), 2);
    assert_eq!((ts[0].line, ts[0].command.as_str()), (6, "whohosts a"));
    assert_eq!(ts[0].expected, ["one"]);
    assert!(ts[1].expected.is_empty());
    let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches(&l(&["a", "...", "d"]), &l(&["a", "b", "c", "d"])));
    assert!(matches(&l(&["a", "..."]), &l(&["a"])));
    assert!(!matches(&l(&["a", "...", "d"]), &l(&["a", "b", "c"])));
    assert!(!matches(&l(&["a"]), &l(&["a", "b"])));
}
