//! Cron safety: a crawl killed at any moment resumes to the same rows without fetching again
//! what it had fetched; SIGTERM marks the snapshot interrupted; one crawl per database.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::common::*;
use crate::store::{count, crawl_db, db_in, generated};

/// A generated world slow enough (latency per response) to be killed mid-crawl.
fn slow_env() -> (Env, Vec<String>) {
    let (mut w, seeds) = generated(9, 60);
    for i in &mut w.instances {
        i.latency_ms = 15;
    }
    (Env::start(w), seeds)
}

fn spawn_crawl(env: &Env, db: &Path, seeds: &[String]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .arg("--quiet")
        .arg("--db")
        .arg(db)
        .arg("crawl")
        .args(seeds)
        .env_remove("WHOHOSTS_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn reader(db: &Path) -> Option<Connection> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()
}

pub fn journal_rows(db: &Path) -> i64 {
    reader(db)
        .and_then(|c| c.query_row("SELECT count(*) FROM journal", [], |r| r.get(0)).ok())
        .unwrap_or(0)
}

/// Wait until the running crawl has journaled `k` responses; panics if it ends first.
pub fn wait_for_rows(child: &mut Child, db: &Path, k: i64) {
    let start = Instant::now();
    while journal_rows(db) < k {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the crawl ended before {k} journal rows"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {k} journal rows after 60 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every row of snapshot `id` that a crawl of the world decides, without ids or timestamps.
pub fn rows(db: &Path, id: i64) -> Vec<String> {
    let conn = reader(db).unwrap();
    let queries = [
        "SELECT s.position, s.input, s.handle, i.host, s.actor_uri, s.failure_kind, s.failure_message
           FROM seed s LEFT JOIN instance i ON i.id = s.instance_id WHERE s.snapshot_id = ?1 ORDER BY s.position",
        "SELECT seed_position, direction, source, declared, status, unseen, failure_kind, reason, pages
           FROM follow_list WHERE snapshot_id = ?1 ORDER BY seed_position, direction",
        "SELECT seed_input, direction, position, handle, actor_uri, instance, display_name, bot, moved_to,
                discoverable, indexable, noindex, hide_collections, followers_count, following_count, nobot_tag
           FROM follow_edge WHERE snapshot_id = ?1 ORDER BY seed_input, direction, position",
        "SELECT i.host, s.accounts, s.connected_address, s.nodeinfo_schema, s.software, s.version,
                s.users_total, s.users_active_month, s.nodeinfo_failure_kind
           FROM instance_state s JOIN instance i ON i.id = s.instance_id WHERE s.snapshot_id = ?1 ORDER BY i.host",
        "SELECT instance, ip, asn, as_name, organisation, cdn, range_start, range_end, cidr, block, country,
                cname_chain, hosting_service
           FROM instance_address WHERE snapshot_id = ?1 ORDER BY instance, ip",
        "SELECT i.host, d.ttl, d.failure_kind, d.connected_address FROM dns_answer d
           JOIN instance i ON i.id = d.instance_id WHERE d.snapshot_id = ?1 ORDER BY i.host",
        "SELECT i.host, h.bucket, h.share FROM host_share h
           JOIN instance i ON i.id = h.instance_id WHERE h.snapshot_id = ?1 ORDER BY i.host, h.bucket",
        "SELECT name, value FROM metric_population WHERE snapshot_id = ?1 ORDER BY name",
        "SELECT level, weight, total, buckets, top1, top3, top5, top10, k50, k75, hhi, band, entropy,
                effective, gini
           FROM metric_summary WHERE snapshot_id = ?1 ORDER BY level, weight",
        "SELECT level, weight, rank, key, label, amount, share FROM metric_bucket
          WHERE snapshot_id = ?1 ORDER BY level, weight, rank",
        "SELECT level, weight, what, amount FROM metric_apart WHERE snapshot_id = ?1 ORDER BY level, weight, what",
    ];
    let mut out = vec![];
    for q in queries {
        let mut stmt = conn.prepare(q).unwrap();
        let n = stmt.column_count();
        let mut r = stmt.query([id]).unwrap();
        while let Some(row) = r.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            out.push(cells.join("|"));
        }
    }
    out
}

/// (host, path and query) of every journaled request of the database.
fn journaled(db: &Path) -> Vec<(String, String)> {
    let conn = reader(db).unwrap();
    let mut stmt = conn.prepare("SELECT url FROM journal").unwrap();
    let urls: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    urls.iter()
        .map(|u| {
            let u = url::Url::parse(u).unwrap();
            let pq = match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            };
            (u.host_str().unwrap().to_string(), pq)
        })
        .collect()
}

fn requests_since(env: &Env, from: usize) -> Vec<(String, String)> {
    let log = env.sim.sim.stats().requests;
    log[from.min(log.len())..]
        .iter()
        .map(|r| (r.host.clone(), r.path.clone()))
        .collect()
}

#[test]
fn a_crawl_killed_at_any_moment_resumes_to_the_same_rows() {
    let (env, seeds) = slow_env();
    let base = db_in(&env, "base.db");
    let before = env.sim.sim.stats().requests.len();
    assert_eq!(crawl_db(&env, &base, &seeds, &[]).status.code(), Some(0));
    let total = requests_since(&env, before)
        .iter()
        .filter(|(_, path)| path != "/robots.txt")
        .count() as i64;
    let expected = rows(&base, 1);
    assert!(
        expected.len() > 300 && total > 100,
        "{} rows, {total} requests",
        expected.len()
    );
    for k in [1, total / 8, total / 4, total / 2, total * 2 / 3, total * 5 / 6] {
        let db: PathBuf = db_in(&env, &format!("killed-{k}.db"));
        // The same opted-out key as the uninterrupted crawl's, so their hashed rows compare.
        std::fs::copy(
            whohosts::store::optout::key_path(&base).unwrap(),
            whohosts::store::optout::key_path(&db).unwrap(),
        )
        .unwrap();
        let came = env.sim.sim.stats().arrived;
        let mut child = spawn_crawl(&env, &db, &seeds);
        wait_for_rows(&mut child, &db, k);
        child.kill().unwrap();
        child.wait().unwrap();
        let fetched = journaled(&db);
        assert!(fetched.len() as i64 >= k);
        let status: String = reader(&db)
            .unwrap()
            .query_row("SELECT status FROM snapshot", [], |r| r.get(0))
            .unwrap();
        assert_eq!(status, "running");
        let mark = env.sim.sim.stats().requests.len();
        let killed_run = env.sim.sim.stats().arrived - came;
        let out = crawl_db(&env, &db, &seeds, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let again: Vec<_> = requests_since(&env, mark)
            .into_iter()
            .filter(|r| fetched.contains(r))
            .collect();
        assert!(again.is_empty(), "killed after {k} rows, fetched again: {again:?}");
        let conn = reader(&db).unwrap();
        assert_eq!(
            count(&conn, "SELECT count(*) FROM snapshot"),
            1,
            "resumed, not restarted"
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM journal"), 0);
        assert_eq!(rows(&db, 1), expected, "killed after {k} journal rows");
        // `requests` counts every run: each request is counted before it is sent, so every
        // request the simulator received is in it; a kill at a random moment can add only the
        // requests counted but not yet sent (at most the global concurrency). Exact when the
        // kill comes at rest (the test below).
        let made = requests_since(&env, mark).len() as u64;
        let requests = count(&conn, "SELECT requests FROM snapshot WHERE id = 1") as u64;
        let received = killed_run + made;
        let in_flight = env.config.network.global_concurrency as u64;
        assert!(
            (received..=received + in_flight).contains(&requests),
            "killed after {k} journal rows: {requests} requests counted, {received} received"
        );
    }
}

#[test]
fn sigterm_marks_the_snapshot_interrupted_and_the_same_command_continues_it() {
    let (env, seeds) = slow_env();
    let db = db_in(&env, "term.db");
    let mut child = spawn_crawl(&env, &db, &seeds);
    wait_for_rows(&mut child, &db, 10);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: interrupted; snapshot 1 kept: run the same command again to continue it\n"
    );
    let conn = reader(&db).unwrap();
    let status: String = conn.query_row("SELECT status FROM snapshot", [], |r| r.get(0)).unwrap();
    assert_eq!(status, "interrupted");
    assert!(count(&conn, "SELECT count(*) FROM journal") >= 10);
    let report = env.cmd().arg("--db").arg(&db).args(["report", "1"]).output().unwrap();
    assert_eq!(report.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&report.stderr),
        "whohosts: snapshot 1 is interrupted: its report is stored when it completes (run the same crawl again to continue it)\n"
    );
    // --fresh starts over in a new snapshot; --resume continues the interrupted one.
    let out = crawl_db(&env, &db, &seeds, &["--fresh"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let statuses = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn.prepare("SELECT status FROM snapshot ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(statuses(&conn), ["interrupted", "complete"]);
    let out = crawl_db(&env, &db, &seeds, &["--resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(statuses(&conn), ["complete", "complete"]);
    let out = crawl_db(&env, &db, &seeds, &["--resume"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "whohosts: --resume: no interrupted snapshot of this command (same handles and options) to continue\n"
    );
}

/// A crawl interrupted longer ago than `crawl.resume_within_hours` (a weekly cron killed
/// last week) is not continued by the same command: its responses are a week old and would
/// be mixed with this week's. It is given up (failed, its journal dropped) and said even
/// under `--quiet`; `--resume` still continues an old one on purpose.
#[test]
fn an_interrupted_crawl_older_than_resume_within_hours_is_given_up_not_mixed_in() {
    let (env, seeds) = slow_env();
    let db = db_in(&env, "weekly.db");
    let interrupt = |id: i64| {
        let mut child = spawn_crawl(&env, &db, &seeds);
        wait_for_rows(&mut child, &db, 10);
        assert!(std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        assert_eq!(child.wait_with_output().unwrap().status.code(), Some(4));
        // Started 25 hours ago: one hour past the default limit.
        let back = whohosts::model::time::rfc3339(std::time::SystemTime::now() - Duration::from_secs(25 * 3600));
        Connection::open(&db)
            .unwrap()
            .execute(
                "UPDATE snapshot SET started_at = ?2 WHERE id = ?1",
                rusqlite::params![id, back],
            )
            .unwrap();
        back
    };
    let started = interrupt(1);
    let out = crawl_db(&env, &db, &seeds, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: warning: snapshot 1 of this command, interrupted after it started at {started}, is older \
             than crawl.resume_within_hours: given up (stored as failed), snapshot 2 starts afresh\n"
        )
    );
    let conn = reader(&db).unwrap();
    let statuses = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn.prepare("SELECT status FROM snapshot ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(statuses(&conn), ["failed", "complete"]);
    assert_eq!(count(&conn, "SELECT count(*) FROM journal"), 0);
    drop(conn);
    interrupt(3);
    let out = crawl_db(&env, &db, &seeds, &["--resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(statuses(&reader(&db).unwrap()), ["failed", "complete", "complete"]);
}

#[test]
fn one_crawl_per_database_and_a_dead_holder_never_blocks() {
    let (env, seeds) = slow_env();
    let db = db_in(&env, "locked.db");
    let mut first = spawn_crawl(&env, &db, &seeds);
    wait_for_rows(&mut first, &db, 1);
    let started = Instant::now();
    let second = crawl_db(&env, &db, &seeds, &[]);
    assert!(started.elapsed() < Duration::from_secs(5), "the second crawl waited");
    assert_eq!(second.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&second.stderr),
        format!(
            "whohosts: {} is in use by another whohosts (pid {} (whohosts crawl)); try again when it has finished\n",
            db.display(),
            first.id()
        )
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // The lock file is still there, with the dead process's pid: it does not block.
    assert!(std::fs::read_to_string(whohosts::store::lock::lock_path(&db).unwrap())
        .unwrap()
        .contains(&format!("pid {}", first.id())));
    let third = crawl_db(&env, &db, &seeds, &[]);
    assert_eq!(
        third.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
}

/// The simulator's count of requests that arrived (answered or not).
fn arrived(env: &Env) -> u64 {
    env.sim.sim.stats().arrived
}

#[test]
fn requests_of_a_resumed_snapshot_are_every_request_of_all_its_runs() {
    let (mut w, seeds) = generated(9, 60);
    let seed_hosts: Vec<String> = seeds
        .iter()
        .filter_map(|s| s.rsplit_once('@'))
        .map(|(_, h)| h.to_string())
        .collect();
    // One instance no seed is on holds its first request (a follow's NodeInfo or actor): the
    // killed run has done all the rest, robots.txt included, when it is killed.
    let held = w
        .instances
        .iter_mut()
        .rev()
        .find(|i| !seed_hosts.contains(&i.domain))
        .unwrap();
    held.fault = whohosts_sim::world::Fault::StallOnce;
    let mut env = Env::start(w);
    env.config.network.request_timeout_secs = 60.0;
    env.write_config();
    let db = db_in(&env, "counted.db");
    let start = arrived(&env);
    let mut child = spawn_crawl(&env, &db, &seeds);
    // Wait until the stalled request came and nothing else arrives for a second.
    let (mut last, mut quiet_since, begun) = (start, Instant::now(), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(50));
        assert!(child.try_wait().unwrap().is_none(), "the crawl ended while held");
        assert!(
            begun.elapsed() < Duration::from_secs(50),
            "the crawl never came to rest"
        );
        let now = arrived(&env);
        if now != last {
            (last, quiet_since) = (now, Instant::now());
        } else if env.sim.sim.stats().stalled == 1 && quiet_since.elapsed() > Duration::from_secs(1) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_run = arrived(&env) - start;
    let recorded = journal_rows(&db) as u64;
    assert!(
        recorded > 20 && killed_run > recorded,
        "{recorded} responses recorded of {killed_run} requests"
    );
    let mark = arrived(&env);
    let out = crawl_db(&env, &db, &seeds, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let completing_run = arrived(&env) - mark;
    assert!(completing_run > 0);
    let conn = reader(&db).unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM snapshot"),
        1,
        "resumed, not restarted"
    );
    // Every request the simulator received from either run: the killed run's robots.txt
    // and its held request included, none counted twice.
    let requests = count(&conn, "SELECT requests FROM snapshot WHERE id = 1") as u64;
    assert_eq!(requests, killed_run + completing_run);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["crawl"]["requests"].as_u64(), Some(requests));
}
