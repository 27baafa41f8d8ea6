//! What a new user meets in a crawl: `-o` that never destroys a file, failures on stderr,
//! logs, the JSON document and the small words of the report.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use whohosts_sim::world::Software;

use crate::common::*;

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One Mastodon instance, `u` following two accounts and `v` following one of them.
fn small() -> Env {
    Env::start(world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
        ],
        vec![
            acct("u@a.example", &["w@b.example".into(), "x@a.example".into()]),
            acct("v@a.example", &["w@b.example".into()]),
            acct("w@b.example", &[]),
            acct("x@a.example", &[]),
            acct("lonely@a.example", &[]),
        ],
    ))
}

/// The binary on `env`'s config, without `--quiet`.
fn loud(env: &Env) -> Command {
    let mut c = Command::cargo_bin("whohosts").unwrap();
    c.arg("--config").arg(env.config_path());
    c.env_remove("WHOHOSTS_TOKEN")
        .env_remove("WHOHOSTS_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    c.timeout(std::time::Duration::from_secs(120));
    c
}

#[test]
fn output_through_a_symlink_updates_the_target_and_keeps_the_link() {
    let env = small();
    let real = env.dir.path().join("real.json");
    let link = env.dir.path().join("link.json");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    let out = env.run(&["crawl", "--json-copy", link.to_str().unwrap(), "u@a.example"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let v: Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 1);
    // No temporary sibling (`.real.json.XXXXXX.part`) is left beside the file.
    let left: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn output_to_a_fifo_is_written_through_not_replaced() {
    let env = small();
    let fifo = env.dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = env.run(&["crawl", "--json-copy", fifo.to_str().unwrap(), "u@a.example"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was replaced"
    );
    let v: Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(v["crawl"]["seeds"][0]["handle"], "@u@a.example");
}

#[test]
fn output_into_a_missing_directory_fails_before_any_request() {
    let env = small();
    let out = env.run(&["crawl", "-o", "/nonexistent/dir/out.json", "u@a.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "whohosts: cannot write /nonexistent/dir/out.json: directory /nonexistent/dir does not exist\n"
    );
    assert_eq!(stdout(&out), "");
    assert!(env.sim.sim.stats().requests.is_empty(), "the crawl ran");
}

#[test]
fn output_into_a_read_only_directory_fails_before_any_request() {
    use std::os::unix::fs::PermissionsExt;
    let env = small();
    let ro = env.dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root writes anywhere; sysfs refuses new files even to root.
    let dir = if std::fs::write(ro.join("probe"), "").is_ok() {
        Path::new("/sys").to_path_buf()
    } else {
        ro
    };
    let path = dir.join("out.json");
    let out = env.run(&["crawl", "-o", path.to_str().unwrap(), "u@a.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("whohosts: cannot write {}: permission denied\n", path.display())
    );
    assert!(env.sim.sim.stats().requests.is_empty(), "the crawl ran");
}

#[test]
fn every_failed_seed_has_one_line_on_stderr_even_when_quiet() {
    let env = small();
    let out = env.run(&["crawl", "u@a.example", "nobody@a.example", "x@nowhere.example", ""]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "whohosts: no such account @nobody@a.example (the server answered 404)\n\
         whohosts: @x@nowhere.example: its domain does not resolve (DNS nowhere.example: NXDOMAIN)\n\
         whohosts: invalid handle \"\": empty\n"
    );
    let text = stdout(&out);
    assert!(
        text.contains("failed: no such account @nobody@a.example (the server answered 404)\n"),
        "{text}"
    );
    assert!(text.contains("failed: invalid handle \"\": empty\n"), "{text}");
    assert!(
        text.contains("@u@a.example (on a.example): 2 following listed"),
        "{text}"
    );
}

#[test]
fn a_bad_handle_says_the_same_alone_and_among_good_ones() {
    let env = small();
    let alone = env.run(&["crawl", "al ice@a.example"]);
    let mixed = env.run(&["crawl", "al ice@a.example", "u@a.example"]);
    let line = "whohosts: invalid handle \"al ice@a.example\": user name has a character a handle cannot have (letters, digits, _ . - + only)\n";
    assert_eq!(stderr(&alone), line);
    assert_eq!(stderr(&mixed), line);
}

#[test]
fn actor_urls_are_seeds_too() {
    let env = small();
    let port = env.sim.http_port;
    let url = format!("http://a.example:{port}/users/u");
    let (snap, code) = env.crawl(&[&url]);
    assert_eq!(code, 0, "{snap}");
    let s = seed(&snap, &url);
    assert_eq!(s["handle"], "@u@a.example");
    assert_eq!(s["following"]["accounts"].as_array().unwrap().len(), 2);
    // A URL without a port is fetched on the configured origin, as a bare domain is.
    let (snap, code) = env.crawl(&["https://b.example/users/w"]);
    assert_eq!(code, 0, "{snap}");
    assert_eq!(seed(&snap, "https://b.example/users/w")["handle"], "@w@b.example");
    let out = env.run(&["crawl", "https://a.example/users/nobody"]);
    assert_eq!(
        stderr(&out),
        "whohosts: no such account https://a.example/users/nobody (the server answered 404)\n\
         whohosts: no seed could be read: snapshot 3 is stored as failed (no baseline for trends, comparisons or \
         rules)\n"
    );
}

#[test]
fn logs_in_a_pipe_carry_no_colour_even_from_dependencies() {
    let env = small();
    let out = loud(&env)
        .env("RUST_LOG", "debug")
        .args(["crawl", "u@a.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(" DEBUG hickory"), "{err}");
    assert!(!err.contains("\x1b["), "ANSI codes in a pipe: {err}");
}

#[test]
fn verbose_shows_whohosts_events_and_the_default_does_not() {
    let env = small();
    let quiet = loud(&env).args(["crawl", "u@a.example"]).output().unwrap();
    assert_eq!(stderr(&quiet), "");
    let out = loud(&env).args(["-v", "crawl", "u@a.example"]).output().unwrap();
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("crawl finished seeds=1 failed=0 requests="))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains(" INFO "), "{line}");
    // Dependencies stay at warn: nothing from hickory or hyper on a clean crawl.
    let out = loud(&env).args(["-vv", "crawl", "u@a.example"]).output().unwrap();
    let err = stderr(&out);
    assert!(err.contains(" DEBUG whohosts"), "{err}");
    assert!(!err.contains("hickory") && !err.contains("hyper"), "{err}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let env = small();
    let out = loud(&env)
        .args(["-v", "--log-format", "json", "crawl", "u@a.example", "nobody@a.example"])
        .output()
        .unwrap();
    let err = stderr(&out);
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let failed = lines
        .iter()
        .find(|v| v["level"] == "ERROR")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        failed["message"],
        "no such account @nobody@a.example (the server answered 404)"
    );
    let info = lines
        .iter()
        .find(|v| v["level"] == "INFO")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(info["seeds"], 2);
    assert_eq!(info["failed"], 1);
}

#[test]
fn quiet_shows_only_errors() {
    let env = small();
    let out = loud(&env)
        .args(["-q", "crawl", "u@a.example", "nobody@a.example"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        "whohosts: no such account @nobody@a.example (the server answered 404)\n"
    );
}

#[test]
fn counts_say_list_entries_and_distinct_accounts() {
    let env = small();
    let out = env.run(&["crawl", "u@a.example", "v@a.example"]);
    let text = unwrapped(&stdout(&out));
    assert!(
        text.contains("\nPopulation: 2 distinct accounts (3 list entries, 3 follow edges) on 2 instances, from 2 seeds (0 failed)."),
        "{text}"
    );
    let out = env.run(&["crawl", "lonely@a.example"]);
    let text = unwrapped(&stdout(&out));
    assert!(
        text.contains("\nPopulation: 0 distinct accounts (0 list entries, 0 follow edges) on 0 instances, from 1 seed (0 failed)."),
        "{text}"
    );
    assert!(
        text.starts_with(
            "Nothing to attribute: no accounts followed could be attributed to a hosting\norganisation.\n"
        ),
        "{text}"
    );
}

#[test]
fn singular_words_and_top_zero_means_all() {
    let env = Env::start(world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            inst("b.example", Software::Mastodon, "ovh"),
        ],
        vec![
            acct(
                "u@a.example",
                &["w@b.example".into(), "x@a.example".into(), "y@a.example".into()],
            ),
            acct("w@b.example", &["u@a.example".into()]),
            acct("x@a.example", &[]),
            acct("y@a.example", &[]),
        ],
    ));
    let out = env.run(&["crawl", "--followers", "--top", "0", "w@b.example"]);
    let text = unwrapped(&stdout(&out));
    assert!(text.contains("(on b.example): 1 following listed"), "{text}");
    assert!(text.contains("; complete; 1 follower listed"), "{text}");
    assert!(
        text.starts_with(
            "Of the 1 account listed, 100 % are hosted by 1 organisation (Hetzner); 1\norganisation covers 75 %."
        ),
        "{text}"
    );
    let out = env.run(&["crawl", "--top", "0", "u@a.example"]);
    let text = stdout(&out);
    let rows = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.starts_with("By instance "))
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with("top-3"))
            .map(|l| l.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(rows(&text), ["1 a.example 2 66.7", "2 b.example 1 33.3"], "{text}");
    let out = env.run(&["crawl", "--top", "1", "u@a.example"]);
    assert_eq!(rows(&stdout(&out)), ["1 a.example 2 66.7", "(1 more) 1 33.3"]);
}

#[test]
fn json_has_a_schema_version_and_the_summary() {
    let env = small();
    let (v, code) = env.crawl(&["u@a.example", "v@a.example"]);
    assert_eq!(code, 0);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["weight"], "accounts");
    assert_eq!(v["population"]["list_entries"], 3);
    assert_eq!(v["population"]["accounts"], 2);
    let inst = &v["levels"][0];
    assert_eq!(inst["level"], "instance");
    assert_eq!(
        (
            inst["summary"]["total"].as_f64(),
            inst["summary"]["k50"].as_u64(),
            inst["summary"]["k75"].as_u64()
        ),
        (Some(2.0), Some(1), Some(2))
    );
    assert_eq!(v["levels"][1]["level"], "organisation");
    assert_eq!(v["levels"][1]["summary"]["buckets"], 2);
}

#[test]
fn opted_out_accounts_appear_in_no_row_level_output() {
    let mut quiet = acct("shy@b.example", &[]);
    quiet.noindex = true;
    let mut tagged = acct("tagged@b.example", &[]);
    tagged.bio = "<p>Please, no crawlers. #nobot</p>".into();
    tagged.display_name = Some("Tagged Person".into());
    let mut hidden = acct("undiscoverable@a.example", &[]);
    hidden.discoverable = Some(false);
    let env = Env::start(world(
        vec![
            inst("a.example", Software::Mastodon, "hetzner"),
            ap_only("b.example", "ovh"),
        ],
        vec![
            acct(
                "u@a.example",
                &[
                    "shy@b.example".into(),
                    "tagged@b.example".into(),
                    "undiscoverable@a.example".into(),
                    "w@b.example".into(),
                ],
            ),
            acct("w@b.example", &[]),
            quiet,
            tagged,
            hidden,
        ],
    ));
    let file = env.dir.path().join("out.json");
    let json = env.run(&[
        "crawl",
        "--format",
        "json",
        "--json-copy",
        file.to_str().unwrap(),
        "u@a.example",
    ]);
    let text = env.run(&["crawl", "u@a.example"]);
    let written = std::fs::read_to_string(&file).unwrap();
    for output in [stdout(&json), stdout(&text), written.clone()] {
        for secret in ["shy", "tagged", "Tagged Person", "undiscoverable"] {
            assert!(!output.contains(secret), "{secret} leaked: {output}");
        }
    }
    let v: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["population"]["list_entries"], 4);
    assert!(stdout(&json).contains("@w@b.example"));
}
