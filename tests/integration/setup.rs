//! What a new user meets around the crawl: the simulator's config and suggestions, flag and
//! config errors, and metadata that must stay true (the example world, `rust-version`).

use serde_json::Value;
use whohosts_sim::world::Software;

use crate::cli::whohosts;
use crate::newuser::{stderr, stdout};

const VARIANTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/worlds/variants.toml");

/// `sim --write-config` in one directory, the crawl from another: the ASN table is found,
/// and the suggested handle exists in the world served.
#[test]
fn sim_config_works_from_anywhere_and_suggests_real_handles() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    /// Stops the simulator even when an assertion fails first.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .args(["sim", "--world", VARIANTS, "--write-config", "sim.toml"])
        .current_dir(dir.path())
        .env("HOME", "/nonexistent")
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("WHOHOSTS_CONFIG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout_pipe = child.stdout.take().unwrap();
    let _stop = Stop(child);
    let mut lines = std::io::BufReader::new(stdout_pipe).lines();
    let serving = lines.next().unwrap().unwrap();
    let try_line = lines.next().unwrap().unwrap();
    assert!(
        serving.starts_with("Serving week 0 of 0–0: 9 instances: DNS 127.0.0.1:"),
        "{serving}"
    );
    assert!(serving.contains(", HTTP port ") && !serving.contains(" ,"), "{serving}");
    assert_eq!(
        try_line,
        "Try: whohosts --config sim.toml crawl @alice@masto.example @edge@edge.example @bob@pleroma.example"
    );
    let config = std::fs::read_to_string(dir.path().join("sim.toml")).unwrap();
    assert!(config.contains("asn_database = \"sim.asn.csv\""), "{config}");
    let out = whohosts()
        .current_dir(elsewhere.path())
        .arg("--config")
        .arg(dir.path().join("sim.toml"))
        .args(["crawl", "@alice@masto.example"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(
        stdout(&out).contains("\nData: IP-to-AS sim.asn.csv (ip-location-db-csv"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn demo_lists_handles_of_a_world_without_demo_accounts_and_checks_sizes() {
    let out = whohosts().args(["demo", "--world", VARIANTS]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("whohosts: world {VARIANTS} has no demo account: name handles to crawl, such as @alice@masto.example @edge@edge.example @bob@pleroma.example @pix@pixel.example @quinn@quirky.example\n")
    );
    for size in ["0", "2"] {
        // A value the flag cannot take is a usage error: exit 2, the hint names demo's help.
        let out = whohosts().args(["demo", "--size", size]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            stderr(&out),
            format!(
                "whohosts: --size: '{size}' is not between 3 and 10000\n\
                 whohosts: see `whohosts demo --help`\n"
            )
        );
        assert_eq!(stdout(&out), "");
    }
}

/// The example world claims to show every knob: every field of an instance and of an
/// account appears in it at least once (so a new knob must be added there too).
#[test]
fn the_example_world_shows_every_knob() {
    use whohosts_sim::world::{AccountSpec, Instance, World};
    let text = std::fs::read_to_string(VARIANTS).unwrap();
    World::from_toml(&text).unwrap();
    let file: toml::Table = text.parse().unwrap();
    for (table, all) in [
        (
            "instance",
            serde_json::to_value(Instance::new("x.example", Software::Mastodon, "ovh")).unwrap(),
        ),
        ("account", serde_json::to_value(AccountSpec::default()).unwrap()),
    ] {
        let used: std::collections::BTreeSet<&String> = file[table]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t.as_table().unwrap().keys())
            .collect();
        for knob in all.as_object().unwrap().keys() {
            assert!(
                used.contains(knob),
                "variants.toml shows no `{knob}` in any [[{table}]]"
            );
        }
    }
}

#[test]
fn flag_errors_name_the_flag() {
    let out = whohosts()
        .args(["crawl", "--nameserver", "foo", "a@b.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "whohosts: --nameserver \"foo\": expected an IP address, or ip:port\n\
         whohosts: see `whohosts crawl --help`\n"
    );
}

#[test]
fn config_value_errors_have_one_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[rate_limit]\nrequests = 0\n").unwrap();
    let out = whohosts()
        .arg("--config")
        .arg(&path)
        .args(["crawl", "a@b.example"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: config {}: rate_limit.requests must be at least 1\n",
            path.display()
        )
    );
}

/// `rust-version` is the highest any dependency in the resolved graph declares.
#[test]
fn rust_version_is_the_highest_a_dependency_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    // "1.89" and "1.89.0" are the same version.
    let parse = |v: &str| -> Vec<u64> {
        let mut parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap()).collect();
        parts.resize(3, 0);
        parts
    };
    let mut highest: Option<(Vec<u64>, String)> = None;
    let mut ours = None;
    for p in meta["packages"].as_array().unwrap() {
        let Some(rv) = p["rust_version"].as_str() else { continue };
        if p["name"] == "whohosts" {
            ours = Some(rv.to_string());
            continue;
        }
        if highest.as_ref().is_none_or(|(h, _)| parse(rv) > *h) {
            highest = Some((parse(rv), format!("{rv} ({} {})", p["name"], p["version"])));
        }
    }
    let (h, who) = highest.unwrap();
    let ours = ours.expect("Cargo.toml states a rust-version");
    assert_eq!(
        parse(&ours),
        h,
        "rust-version = {ours:?}, but {who} needs more (or less)"
    );
}
