//! Unit tests of the configuration: the shipped file, errors, paths, overrides, validation.

use std::path::{Path, PathBuf};

use super::*;

#[test]
fn shipped_config_is_the_defaults() {
    let text = include_str!("../../config.toml");
    let parsed = Config::from_toml(text, Path::new("config.toml")).unwrap();
    assert_eq!(parsed, Config::default());
}

#[test]
fn bad_lines_name_the_file_and_key() {
    let err = Config::from_toml("[network]\nallow_htp = true\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("config c.toml:2:1: unknown field `allow_htp`"), "{err}");
    assert!(err.ends_with(" (in `allow_htp = true`)"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    let err = Config::from_toml("[network]\n\nport = \"x\"\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config c.toml:3:8: invalid type: string \"x\""),
        "{err}"
    );
    let err = Config::from_toml("[rate_limit]\nrequests = 0\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "config c.toml: rate_limit.requests must be at least 1");
    let err = Config::from_toml("[crawl]\nmax_actor_bytes = 0\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "config c.toml: crawl.max_actor_bytes must be at least 1");
    let err = Config::from_toml("[crawl]\nmax_pages = 0\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "config c.toml: crawl.max_pages must be at least 1");
    let err = Config::from_toml("[crawl]\nmax_pages = -1\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_pages"), "{err}");
}

#[test]
fn paths_in_a_file_are_relative_to_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "data_dir = \"data\"\n[network]\nextra_root_certificates = [\"ca.pem\", \"/etc/abs.pem\"]\n[attribution]\nasn_database = [\"v4.csv\", \"sub/v6.csv\"]\n",
    )
    .unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "config {}: network.extra_root_certificates: no file {} (relative paths are relative to the config file)",
            path.display(),
            dir.path().join("ca.pem").display()
        )
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for f in ["ca.pem", "v4.csv", "sub/v6.csv"] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(
        err.contains(": network.extra_root_certificates: no file /etc/abs.pem "),
        "{err}"
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("/etc/abs.pem", "abs.pem");
    std::fs::write(&path, text).unwrap();
    std::fs::write(dir.path().join("abs.pem"), "").unwrap();
    let c = Config::load(&path).unwrap();
    assert_eq!(c.data_dir(), dir.path().join("data"));
    assert_eq!(
        c.network.extra_root_certificates,
        [
            dir.path().join("ca.pem").to_string_lossy().into_owned(),
            dir.path().join("abs.pem").to_string_lossy().into_owned()
        ]
    );
    assert_eq!(
        c.attribution.asn_database.list(),
        [dir.path().join("v4.csv"), dir.path().join("sub/v6.csv")]
    );
}

#[test]
fn host_override_keeps_unset_keys() {
    let c = Config::from_toml(
        "[hosts.\"big.example\"]\nrequests = 50\nconcurrency = 4\n",
        Path::new("c"),
    )
    .unwrap();
    let (rl, conc) = c.host_budget("big.example");
    assert_eq!((rl.requests, rl.period_secs, conc), (50, 300.0, 4));
    assert_eq!(c.host_budget("other.example").0.requests, 300);
}

/// The error for `text`, or "accepted"; the message is checked to name the file.
fn refusal(text: &str) -> String {
    match Config::from_toml(text, Path::new("c.toml")) {
        Ok(_) => format!("accepted: {text}"),
        Err(e) => {
            let e = e.to_string();
            assert!(e.starts_with("config c.toml: "), "{e}");
            e
        }
    }
}

fn assert_ends(err: &str, message: &str) {
    assert!(err.ends_with(&format!(": {message}")), "{err}");
}

#[test]
fn every_duration_is_validated_at_load() {
    let keys = [
        "[network]\nrequest_timeout_secs",
        "[network]\nconnect_timeout_secs",
        "[network]\nretry_base_secs",
        "[network]\nmax_wait_secs",
        "[network]\nmax_host_wait_secs",
        "[network]\nidle_connection_secs",
        "[dns]\ntimeout_secs",
        "[rate_limit]\nperiod_secs",
        "[rate_limit]\npaged_period_secs",
        "[hosts.\"big.example\"]\nperiod_secs",
        "[hosts.\"big.example\"]\npaged_period_secs",
    ];
    for key in keys {
        for bad in ["-1.0", "nan", "inf", "-inf", "1e300", "604801.0"] {
            let err = refusal(&format!("{key} = {bad}\n"));
            let name = key.replace("]\n", ".").replace('[', "");
            assert!(err.starts_with("config c.toml: "), "{key} = {bad}: {err}");
            assert!(
                err.contains(&format!("{name} must be a number of seconds")),
                "{key} = {bad}: {err}"
            );
        }
    }
    for zero_is_bad in [
        "[rate_limit]\nperiod_secs",
        "[hosts.\"big.example\"]\nperiod_secs",
        "[dns]\ntimeout_secs",
    ] {
        assert!(
            refusal(&format!("{zero_is_bad} = 0.0\n")).contains("above 0"),
            "{zero_is_bad}"
        );
    }
    assert_ends(
        &refusal("[hosts.\"big.example\"]\nperiod_secs = 0.0\n"),
        "hosts.\"big.example\".period_secs must be a number of seconds, above 0 and at most 604800, not 0",
    );
    assert_ends(
        &refusal("[hosts.\"big.example\"]\nrequests = 0\n"),
        "hosts.\"big.example\".requests must be at least 1",
    );
    assert!(refusal("[hosts.\"big.example\"]\nconcurrency = 0\n").contains("concurrency must be at least 1"));
    assert!(refusal("[network]\nmax_wait_secs = 0.0\nretry_base_secs = 0.0\n").starts_with("accepted"));
}

#[test]
fn host_keys_are_normalised_like_instance_hosts() {
    let c = Config::from_toml(
        "[hosts.\"Big.Example.\"]\nrequests = 50\n[hosts.\"bücher.example\"]\nburst = 2\n",
        Path::new("c"),
    )
    .unwrap();
    assert_eq!(c.host_budget("big.example").0.requests, 50);
    assert_eq!(c.host_budget("xn--bcher-kva.example").0.burst, 2);
    assert_eq!(c.host_budget("big.example.").0.requests, 50);
    assert_eq!(c.host_budget("BÜCHER.example.").0.burst, 2);
    assert_ends(
        &refusal("[hosts.\"a.example\"]\nburst = 1\n[hosts.\"A.example\"]\nburst = 2\n"),
        "hosts keys \"A.example\" and \"a.example\" both name a.example",
    );
    for bad in ["https://a.example", "a.example:8443", "a.example/x", ""] {
        let err = refusal(&format!("[hosts.\"{bad}\"]\nburst = 1\n"));
        assert!(err.contains(&format!("hosts key {bad:?} is not a host name")), "{err}");
    }
}

#[test]
fn asn_database_takes_one_path_or_a_list() {
    let one = Config::from_toml("[attribution]\nasn_database = \"a.csv\"\n", Path::new("c")).unwrap();
    assert_eq!(one.attribution.asn_database.list(), vec![PathBuf::from("a.csv")]);
    let many = Config::from_toml(
        "[attribution]\nasn_database = [\"v4.csv.gz\", \"v6.csv.gz\"]\n",
        Path::new("c"),
    )
    .unwrap();
    assert_eq!(
        many.attribution.asn_database.list(),
        vec![PathBuf::from("v4.csv.gz"), PathBuf::from("v6.csv.gz")]
    );
    assert!(Config::default().attribution.asn_database.list().is_empty());
}

#[test]
fn private_addresses_accepts_bool_or_networks() {
    let c = Config::from_toml(
        "[network]\nallow_private_addresses = [\"127.0.0.0/8\"]\n",
        Path::new("c"),
    )
    .unwrap();
    assert_eq!(
        c.network.allow_private_addresses,
        PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()])
    );
}
