//! A survey (`whohosts instances --db`) stopped part way, by SIGTERM or by SIGKILL, is
//! continued by the same command: the instances stored before the stop are not asked again,
//! and the finished snapshot holds the rows an uninterrupted survey stores.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use whohosts_sim::world::Software;

use crate::common::*;
use crate::instances::sized;
use crate::resume::{reader, rows};

const LISTED: usize = 120;

/// 120 instances answering slowly (30 ms a response), surveyed 4 at a time, so the survey
/// can be stopped part way; one claims an implausible count, one listed host is dead.
fn env() -> Env {
    let providers = ["hetzner", "ovh", "amazon", "netcup", "digitalocean", "contabo"];
    let instances = (0..LISTED - 1)
        .map(|i| {
            let users = if i == 7 {
                1_000_000_000_000
            } else {
                1000 / (i as u64 + 1) + 1
            };
            let mut inst = sized(&format!("i{i}.example"), Software::Mastodon, providers[i % 6], users);
            inst.latency_ms = 30;
            inst
        })
        .collect();
    let mut env = Env::start(world(instances, vec![]));
    env.config.network.global_concurrency = 4;
    env.write_config();
    env
}

fn list(env: &Env) -> std::path::PathBuf {
    let path = env.dir.path().join("list.txt");
    let mut text: String = (0..LISTED - 1).map(|i| format!("i{i}.example\n")).collect();
    text.push_str("dead.example\nnot a host\n");
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn_survey(env: &Env, db: &Path, list: &Path) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .arg("--quiet")
        .arg("--db")
        .arg(db)
        .arg("instances")
        .arg(list)
        .env_remove("WHOHOSTS_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every row only a survey stores (its instances by place, the bad entries), then every row
/// `rows` compares for a crawl (instance states, attribution, figures).
fn survey_rows(db: &Path) -> Vec<String> {
    let conn = reader(db).unwrap();
    let mut out = vec![];
    for q in [
        "SELECT s.position || '|' || i.host || '|' || ifnull(s.implausible, '-') FROM survey_instance s
           JOIN instance i ON i.id = s.instance_id WHERE s.snapshot_id = 1 ORDER BY s.position",
        "SELECT line || '|' || text || '|' || reason FROM survey_bad_entry WHERE snapshot_id = 1 ORDER BY line",
    ] {
        let mut stmt = conn.prepare(q).unwrap();
        out.extend(
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap),
        );
    }
    out.extend(rows(db, 1));
    out
}

/// The hosts survey 1 has stored.
fn stored(db: &Path) -> BTreeSet<String> {
    let Some(conn) = reader(db) else {
        return BTreeSet::new();
    };
    let Ok(mut stmt) = conn.prepare(
        "SELECT i.host FROM survey_instance s JOIN instance i ON i.id = s.instance_id WHERE s.snapshot_id = 1",
    ) else {
        return BTreeSet::new();
    };
    let hosts = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    hosts
}

/// Wait until `done` holds; panics if the survey ends first or after 60 s.
fn wait_until(child: &mut Child, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the survey ended before it was stopped"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "not there after 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn status(db: &Path) -> String {
    reader(db)
        .unwrap()
        .query_row("SELECT status FROM snapshot WHERE id = 1", [], |r| r.get(0))
        .unwrap()
}

/// Hosts asked anything since request `from` of the simulator's log.
fn asked_since(env: &Env, from: usize) -> BTreeSet<String> {
    env.sim.sim.stats().requests[from..]
        .iter()
        .map(|r| r.host.clone())
        .collect()
}

/// Continue the survey of `db` with the same command; its hosts asked, and checks that the
/// snapshot is complete with the rows of the uninterrupted survey `expected`.
fn resume(env: &Env, db: &Path, list: &Path, expected: &[String]) -> BTreeSet<String> {
    resume_with(env, db, list, expected, &[])
}

/// [`resume`], the command given `flags` too.
fn resume_with(env: &Env, db: &Path, list: &Path, expected: &[String], flags: &[&str]) -> BTreeSet<String> {
    let from = env.sim.sim.stats().requests.len();
    let mut args = vec!["--db", db.to_str().unwrap(), "instances", list.to_str().unwrap()];
    args.extend_from_slice(flags);
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status(db), "complete");
    assert_eq!(survey_rows(db), expected);
    asked_since(env, from)
}

#[test]
fn a_survey_stopped_by_sigterm_or_killed_continues_to_the_same_rows() {
    let env = env();
    let list = list(&env);
    let (l, whole) = (list.to_str().unwrap(), env.dir.path().join("whole.db"));
    let out = env.run(&["--db", whole.to_str().unwrap(), "instances", l]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = survey_rows(&whole);
    assert_eq!(stored(&whole).len(), LISTED);

    // SIGTERM once 30 instances have been asked for their NodeInfo document.
    let db = env.dir.path().join("term.db");
    let from = env.sim.sim.stats().requests.len();
    let mut child = spawn_survey(&env, &db, &list);
    wait_until(&mut child, || {
        env.sim.sim.stats().requests[from..]
            .iter()
            .filter(|r| r.path.starts_with("/nodeinfo/"))
            .count()
            >= 30
    });
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let before = stored(&db);
    assert!(before.len() >= 20 && before.len() < LISTED, "{} stored", before.len());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: warning: {}: 1 bad entry skipped (run without -q to list them)\n\
             whohosts: interrupted after surveying {} of {LISTED} instances; snapshot 1 kept: \
             run the same command again to continue it\n",
            list.display(),
            before.len()
        )
    );
    assert_eq!(status(&db), "interrupted");
    let snapshots = String::from_utf8_lossy(&env.run(&["--db", db.to_str().unwrap(), "snapshots"]).stdout).into_owned();
    let row: Vec<&str> = snapshots.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(
        (row[1], row[2], row[6]),
        ("instances", "interrupted", before.len().to_string().as_str())
    );
    let asked = resume(&env, &db, &list, &expected);
    assert!(
        asked.is_disjoint(&before),
        "asked again: {:?}",
        asked.intersection(&before).collect::<Vec<_>>()
    );
    // Every other instance asked (dead.example has no address to ask).
    assert!(asked.len() + before.len() >= LISTED - 1, "{} asked", asked.len());

    // SIGKILL once some rows are stored: the snapshot is left running, and continued.
    let db = env.dir.path().join("kill.db");
    let mut child = spawn_survey(&env, &db, &list);
    wait_until(&mut child, || stored(&db).len() >= 10);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = stored(&db);
    assert!(before.len() < LISTED, "{} stored", before.len());
    assert_eq!(status(&db), "running");
    let asked = resume(&env, &db, &list, &expected);
    assert!(
        asked.is_disjoint(&before),
        "asked again: {:?}",
        asked.intersection(&before).collect::<Vec<_>>()
    );
}

/// `instances` takes `crawl`'s `--resume` and `--fresh`: `--resume` with no unfinished
/// survey of the list fails in one line, storing nothing; `--fresh` begins a new survey
/// (snapshot 2, every instance asked) however the last one ended, and leaves the unfinished
/// one as it was; `--resume` then continues that one to the rows of an uninterrupted survey.
#[test]
fn a_survey_takes_resume_and_fresh_as_a_crawl_does() {
    let env = env();
    let list = list(&env);
    let (l, whole) = (list.to_str().unwrap(), env.dir.path().join("whole.db"));
    let out = env.run(&["--db", whole.to_str().unwrap(), "instances", l]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = survey_rows(&whole);

    let db = env.dir.path().join("flags.db");
    let d = db.to_str().unwrap();
    let out = env.run(&["--db", d, "instances", l, "--resume"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: warning: {}: 1 bad entry skipped (run without -q to list them)\n\
             whohosts: --resume: no interrupted snapshot of this command (same list and options) to continue\n",
            list.display()
        )
    );
    assert!(stored(&db).is_empty());

    // Killed once some rows are stored: snapshot 1 is left running.
    let mut child = spawn_survey(&env, &db, &list);
    wait_until(&mut child, || stored(&db).len() >= 10);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = stored(&db);
    assert_eq!(status(&db), "running");

    let from = env.sim.sim.stats().requests.len();
    let out = env.run(&["--db", d, "instances", l, "--fresh"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let asked = asked_since(&env, from);
    assert!(before.is_subset(&asked), "the instances of survey 1 asked again");
    assert_eq!(asked.len(), LISTED - 1, "every instance but the dead one");
    let statuses: Vec<String> = {
        let conn = reader(&db).unwrap();
        let mut stmt = conn.prepare("SELECT status FROM snapshot ORDER BY id").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        rows
    };
    assert_eq!(statuses, ["running", "complete"]);
    assert_eq!(stored(&db), before, "survey 1 untouched");

    let out = env.run(&["--db", d, "instances", l, "--resume", "--fresh"]);
    assert_eq!(out.status.code(), Some(2), "the two conflict");
    let asked = resume_with(&env, &db, &list, &expected, &["--resume"]);
    assert!(
        asked.is_disjoint(&before),
        "asked again: {:?}",
        asked.intersection(&before).collect::<Vec<_>>()
    );
}
