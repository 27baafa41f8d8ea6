//! The test harness: build a world, serve it on loopback, point the binary at it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use whohosts::config::Config;
use whohosts_sim::server::Logged;
use whohosts_sim::world::{AccountSpec, Instance, Software, World};
use whohosts_sim::Background;

/// A running world plus a temp dir holding its config and ASN fixture.
pub struct Env {
    pub sim: Background,
    pub dir: tempfile::TempDir,
    pub config: Config,
}

pub fn inst(domain: &str, software: Software, provider: &str) -> Instance {
    Instance::new(domain, software, provider)
}

/// A Mastodon instance whose REST API answers 404, so lists are read through ActivityPub.
pub fn ap_only(domain: &str, provider: &str) -> Instance {
    let mut i = Instance::new(domain, Software::Mastodon, provider);
    i.api = Some(whohosts_sim::world::Api::None);
    i
}

pub fn acct(handle: &str, follows: &[String]) -> AccountSpec {
    AccountSpec {
        handle: handle.into(),
        follows: follows.to_vec(),
        ..AccountSpec::default()
    }
}

/// `user0@domain` … `user{n-1}@domain`.
pub fn crowd(domain: &str, n: usize) -> Vec<AccountSpec> {
    (0..n).map(|i| acct(&format!("user{i}@{domain}"), &[])).collect()
}

pub fn handles_of(accounts: &[AccountSpec]) -> Vec<String> {
    accounts.iter().map(|a| a.handle.clone()).collect()
}

pub fn world(instances: Vec<Instance>, accounts: Vec<AccountSpec>) -> World {
    World {
        providers: whohosts_sim::world::default_providers(),
        instances,
        accounts,
        weeks: vec![],
        names: vec![],
    }
}

/// The client settings that point whohosts at `sim`, with attribution from its ASN fixture,
/// written to `fixture`.
pub fn config_with_fixture(sim: &Background, fixture: &std::path::Path) -> Config {
    sim.write_asn_fixture(fixture).expect("fixture written");
    Config::loopback(sim.dns_addr, sim.http_port, sim.ca()).with_asn_fixture(fixture, whohosts_sim::FIXTURE_LICENCE)
}

impl Env {
    /// Serve `world` and write a config pointing at it (with its ASN fixture).
    pub fn start(world: World) -> Env {
        Env::start_with(world, None)
    }

    /// Serve `world` over TLS with the test certificates in tests/fixtures/tls.
    pub fn start_tls(world: World) -> Env {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let tls = whohosts_sim::Tls {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            ca: dir.join("ca.pem"),
        };
        Env::start_with(world, Some(tls))
    }

    /// Serve week 0 of a world with a timeline; `env.sim.set_week(n)` moves on.
    pub fn start_timeline(world: World) -> Env {
        let timeline = whohosts_sim::timeline::Timeline::new(world).expect("a valid timeline");
        Env::serve(Background::start_timeline(timeline, None).expect("simulator starts"))
    }

    fn start_with(world: World, tls: Option<whohosts_sim::Tls>) -> Env {
        Env::serve(Background::start_with(world.layout(), tls).expect("simulator starts"))
    }

    fn serve(sim: Background) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = config_with_fixture(&sim, &dir.path().join("sim-asn.csv"));
        config.data_dir = dir.path().join("data").to_string_lossy().into_owned();
        config.network.request_timeout_secs = 3.0;
        let env = Env { sim, dir, config };
        env.write_config();
        env
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// Write `self.config` (after a test changed it).
    pub fn write_config(&self) {
        std::fs::write(self.config_path(), toml::to_string(&self.config).unwrap()).unwrap();
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("whohosts").unwrap();
        c.arg("--config").arg(self.config_path()).arg("--quiet");
        c.env_remove("WHOHOSTS_TOKEN").env_remove("WHOHOSTS_CONFIG");
        c.timeout(std::time::Duration::from_secs(120));
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// `crawl --format json ARGS`: the snapshot and the exit code.
    pub fn crawl(&self, args: &[&str]) -> (Value, i32) {
        let out = self
            .cmd()
            .arg("crawl")
            .arg("--format")
            .arg("json")
            .args(args)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON ({e}); exit {code}; stderr: {}; stdout: {}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (v, code)
    }

    /// Requests to `host`, in the order they arrived.
    pub fn log(&self, host: &str) -> Vec<Logged> {
        let mut log: Vec<Logged> = self
            .sim
            .sim
            .stats()
            .requests
            .into_iter()
            .filter(|r| r.host == host)
            .collect();
        log.sort_by_key(|r| r.at);
        log
    }

    /// Check from the simulator's log that no request to `host` arrived before a pause the
    /// host announced had ended; returns how many announced pauses a later request followed.
    pub fn pauses_waited_out(&self, host: &str) -> usize {
        let log = self.log(host);
        let mut followed = 0;
        for (k, r) in log.iter().enumerate() {
            let Some(until) = r.announced_until else { continue };
            if let Some(next) = log.get(k + 1) {
                assert!(
                    next.at >= until,
                    "{host}: {} came {:?} before the pause announced by {} ({}) ended",
                    next.path,
                    until.duration_since(next.at).unwrap_or_default(),
                    r.path,
                    r.status
                );
                followed += 1;
            }
        }
        followed
    }

    /// Paths requested from `host`.
    pub fn paths(&self, host: &str) -> Vec<String> {
        self.sim
            .sim
            .stats()
            .requests
            .iter()
            .filter(|r| r.host == host)
            .map(|r| r.path.clone())
            .collect()
    }
}

/// The seed report for `input`.
pub fn seed<'a>(snap: &'a Value, input: &str) -> &'a Value {
    snap["crawl"]["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["input"] == input)
        .unwrap_or_else(|| panic!("no seed {input}"))
}

/// Handles in a list (accounts without a handle appear by actor URI).
pub fn listed(list: &Value) -> BTreeSet<String> {
    list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["handle"].as_str().or(a["actor_uri"].as_str()).unwrap().to_string())
        .collect()
}

/// Assert that `list` holds exactly `handles`, every account fetched without error.
pub fn assert_fetched_in_full(list: &Value, handles: &[String]) {
    assert_eq!(listed(list), expected(handles));
    let errors: Vec<&Value> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| !a["fetch_error"].is_null())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The addresses of a host in a snapshot's `hosts`, in order.
pub fn ips(host: &Value) -> Vec<&str> {
    host["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ip"].as_str().unwrap())
        .collect()
}

pub fn expected(handles: &[String]) -> BTreeSet<String> {
    handles.iter().map(|h| format!("@{h}")).collect()
}

/// A text report with its wrapped lines joined again: a line that starts with exactly two
/// spaces continues the one before (seed lines, the population and the credits wrap so).
pub fn unwrapped(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.strip_prefix("  ") {
            Some(rest) if !out.is_empty() && !rest.starts_with(' ') => {
                out.push(' ');
                out.push_str(rest);
            }
            _ => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(line);
            }
        }
    }
    out
}

/// Assert that no line of `text` (what `what` printed) is wider than 80 columns, counting
/// characters, not bytes (issue #15).
pub fn assert_fits_80(what: &str, text: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{what}: a line of {} columns:\n{line}\n\n{text}",
            line.chars().count()
        );
    }
}
