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
    let out = whohosts()
        .args(["--config", "/nonexistent/c.toml", "demo"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "whohosts: config file /nonexistent/c.toml: not found\n"
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
