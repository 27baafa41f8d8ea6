//! Worlds that change over time: crawl week 0, advance the running simulator, crawl week 1,
//! and see exactly what changed.

use serde_json::Value;
use whohosts_sim::world::World;

use crate::common::{listed, seed, Env};

const SEEDS: [&str; 3] = ["@alice@hub.example", "@carol@hub.example", "@dan@hub.example"];

fn timeline_world() -> World {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/timeline.toml");
    World::load(&path).expect("the timeline fixture loads")
}

/// (AS number, organisation, bucket) of a host's first address.
fn hosted(snap: &Value, host: &str) -> (u64, String, String) {
    let h = &snap["hosts"][host];
    let a = &h["addresses"][0];
    let bucket = h["shares"].as_object().unwrap().keys().next().unwrap().clone();
    (
        a["asn"].as_u64().unwrap(),
        a["organisation"].as_str().unwrap().to_string(),
        bucket,
    )
}

fn moved_to(snap: &Value, input: &str, handle: &str) -> Value {
    seed(snap, input)["following"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["handle"] == handle)
        .unwrap_or_else(|| panic!("{input} does not list {handle}"))["moved_to"]
        .clone()
}

#[test]
fn crawling_week_0_then_week_1_sees_every_change() {
    let env = Env::start_timeline(timeline_world());
    let (w0, c0) = env.crawl(&SEEDS);
    env.sim.set_week(1).unwrap();
    let (w1, c1) = env.crawl(&SEEDS);
    assert_eq!((c0, c1), (0, 0));
    // bob moved: alice's follow now points at the new account; carol still follows the old
    // one, which says where it went.
    let alice0 = listed(&seed(&w0, SEEDS[0])["following"]);
    let alice1 = listed(&seed(&w1, SEEDS[0])["following"]);
    let gained: Vec<&String> = alice1.difference(&alice0).collect();
    let lost: Vec<&String> = alice0.difference(&alice1).collect();
    assert_eq!(gained, ["@bob@b.example", "@eve@new.example"]);
    assert_eq!(lost, ["@bob@a.example"]);
    assert_eq!(moved_to(&w0, SEEDS[1], "@bob@a.example"), Value::Null);
    assert_eq!(moved_to(&w1, SEEDS[1], "@bob@a.example"), "@bob@b.example");
    // mig.example migrated from DigitalOcean to OVH: a new address in OVH's range.
    assert_eq!(hosted(&w0, "mig.example").0, 14061);
    assert_eq!(hosted(&w1, "mig.example").1, "OVH");
    assert_eq!(hosted(&w1, "mig.example").0, 16276);
    assert_eq!(w1["hosts"]["mig.example"]["addresses"][0]["ip"], "127.4.0.3");
    // cdn.example moved behind Cloudflare: its own bucket, not "hosted by Cloudflare".
    assert_eq!(hosted(&w0, "cdn.example").2, "Contabo");
    assert_eq!(hosted(&w1, "cdn.example").2, "behind CDN Cloudflare, origin unknown");
    // gone.example vanished from DNS; new.example appeared.
    assert_eq!(w0["hosts"]["gone.example"]["dns_error"], Value::Null);
    assert_eq!(w1["hosts"]["gone.example"]["dns_error"], "NXDOMAIN");
    assert_eq!(
        w1["crawl"]["instances"]["gone.example"]["nodeinfo_error"]["kind"],
        "dns"
    );
    assert!(w0["hosts"].get("new.example").is_none());
    assert_eq!(hosted(&w1, "new.example").0, 64500);
    // dan's list became hidden.
    assert_eq!(seed(&w0, SEEDS[2])["following"]["status"]["state"], "complete");
    assert_eq!(seed(&w1, SEEDS[2])["following"]["status"]["state"], "hidden");
    assert_eq!(seed(&w1, SEEDS[2])["following"]["status"]["unseen"], 2);
    // Unchanged hosts keep their address.
    assert_eq!(w0["hosts"]["hub.example"], w1["hosts"]["hub.example"]);
}

#[test]
fn week_2_refuses_connections_and_fronts_by_cname() {
    let env = Env::start_timeline(timeline_world());
    env.sim.set_week(2).unwrap();
    let (w2, _) = env.crawl(&SEEDS);
    let dead = &w2["crawl"]["instances"]["dead.example"]["nodeinfo_error"];
    assert_eq!(dead["kind"], "transport");
    assert!(
        dead["message"]
            .as_str()
            .unwrap()
            .contains("connection refused by dead.example:"),
        "{dead}"
    );
    // Its name still resolves, in its provider's range.
    assert_eq!(hosted(&w2, "dead.example").1, "Scaleway");
    let cdn2 = &w2["hosts"]["cdn2.example"];
    assert_eq!(cdn2["cnames"], serde_json::json!(["cdn2.global.fastly.net"]));
    assert_eq!(hosted(&w2, "cdn2.example").2, "behind CDN Fastly, origin unknown");
    // alice unfollowed cy: cdn.example is no longer met at all.
    assert!(w2["crawl"]["instances"].get("cdn.example").is_none());
    // Going back to week 0 serves the old world again.
    env.sim.set_week(0).unwrap();
    let (w0, _) = env.crawl(&SEEDS[..1]);
    assert_eq!(w0["crawl"]["instances"]["dead.example"]["nodeinfo_error"], Value::Null);
    assert_eq!(hosted(&w0, "cdn2.example").2, "Scaleway");
}

#[test]
fn sim_refuses_a_week_the_world_does_not_have() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/timeline.toml");
    let world = path.to_str().unwrap();
    let cases: [(&[&str], &str); 2] = [
        (
            &["--world", world, "--week", "9"],
            "whohosts: --week \"9\": the world has weeks 0 to 2 (--weeks N adds weeks to a generated world)\n\
             whohosts: see `whohosts sim --help`\n",
        ),
        (
            &["--weeks", "600"],
            "whohosts: --weeks \"600\": at most 520 weeks (ten years) are generated\n\
             whohosts: see `whohosts sim --help`\n",
        ),
    ];
    for (args, want) in cases {
        let out = assert_cmd::Command::cargo_bin("whohosts")
            .unwrap()
            .arg("sim")
            .args(args)
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        // A value the command line gave that cannot be used: a usage error.
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&out.stderr), want);
    }
}

/// Read `child`'s stdout up to a line starting with `prefix`.
fn read_until(out: &mut impl std::io::BufRead, prefix: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "sim ended before {prefix:?}: {seen}"
        );
        seen.push_str(&line);
        if line.starts_with(prefix) {
            return seen;
        }
    }
}

/// Kills the simulator it holds when the test ends, even by a panic.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sim_serves_the_week_asked_for_and_switches_on_stdin() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    let world = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worlds/timeline.toml");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .args(["sim", "--week", "1", "--world"])
        .arg(&world)
        .arg("--write-config")
        .arg(&config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let _child = KillOnDrop(child);
    assert!(read_until(&mut out, "Serving week 1 of 0–2").contains("Serving week 1 of 0–2: 9 instances"));
    let dan = || {
        let out = assert_cmd::Command::cargo_bin("whohosts")
            .unwrap()
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(dir.path().join("x.db"))
            .args(["--quiet", "crawl", "--format", "json", "@dan@hub.example"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        seed(&v, "@dan@hub.example")["following"]["status"]["state"].clone()
    };
    assert_eq!(dan(), "hidden");
    stdin.write_all(b"0\n").unwrap();
    stdin.flush().unwrap();
    read_until(&mut out, "Serving week 0.");
    assert_eq!(dan(), "complete");
}
