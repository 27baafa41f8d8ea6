//! The snapshot store: what a crawl stores reads back exactly, `report` prints what `crawl`
//! printed, foreign and newer files are refused untouched, prune deletes what only old
//! snapshots referenced.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use sha2::{Digest, Sha256};
use whohosts::crawl::CrawlOptions;
use whohosts::pipeline::{self, Job};
use whohosts::store::{Resume, Store};
use whohosts_sim::generate;

use crate::common::*;

/// A generated world of `size` instances and its demo seeds.
pub fn generated(seed: u64, size: usize) -> (whohosts_sim::world::World, Vec<String>) {
    let w = generate::generate(seed, size);
    let seeds = generate::demo_seeds(&w);
    (w, seeds)
}

pub fn db_in(env: &Env, name: &str) -> PathBuf {
    env.dir.path().join(name)
}

/// `--db DB crawl SEEDS` with extra args; the output.
pub fn crawl_db(env: &Env, db: &Path, seeds: &[String], extra: &[&str]) -> std::process::Output {
    env.cmd()
        .arg("--db")
        .arg(db)
        .arg("crawl")
        .args(extra)
        .args(seeds)
        .output()
        .unwrap()
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn sha(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[test]
fn a_stored_snapshot_reads_back_exactly() {
    let (w, seeds) = generated(7, 30);
    let env = Env::start(w);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = db_in(&env, "round.db");
    let store = Store::open(&db).unwrap();
    let writer = store.writer().unwrap();
    let job = Job {
        seeds: seeds.clone(),
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet: true,
        clock_offset_secs: 0,
    };
    let snap = rt.block_on(async {
        let ctx = whohosts::pipeline::Context::new(env.config.clone()).unwrap();
        let attributor = std::sync::Arc::new(ctx.attributor(true).unwrap());
        let snap = pipeline::snapshot(&ctx, &attributor, &seeds, &job.options, true).await;
        let begun = pipeline::begin(&writer, &env.config, &job).await.unwrap();
        writer.complete(begun.id, snap.clone()).await.unwrap();
        snap
    });
    let mut back = store.load(1).unwrap();
    // The stored snapshot starts when it was begun; everything else is as crawled, but for
    // accounts that opted out: those are stored as their keyed hash (store::optout).
    back.crawl.started_at = snap.crawl.started_at.clone();
    let opt_out = whohosts::store::optout::OptOut::of_database(&db).unwrap();
    let mut expected = snap.clone();
    let mut hidden = 0;
    for seed in &mut expected.crawl.seeds {
        for list in [&mut seed.following, &mut seed.followers].into_iter().flatten() {
            for a in &mut list.accounts {
                if !a.may_expand() {
                    hidden += 1;
                    *a = opt_out.redact(a).into_owned();
                }
            }
        }
    }
    assert!(hidden > 0, "the world has accounts that opted out");
    assert_eq!(back, expected);
    // The metrics are stored once, as computed from the crawl.
    let mut computed = whohosts::metrics::compute(&snap);
    computed.levels.sort_by_key(|l| (l.level, l.weight));
    let stored = store.metrics(1).unwrap();
    assert!(stored.levels.len() >= 30, "{}", stored.levels.len());
    assert_eq!(stored, computed);
    let listed: usize = computed.population.list_entries;
    assert!(listed > 50, "{listed}");
    let conn = store.connection();
    assert_eq!(count(conn, "SELECT count(*) FROM follow") as usize, listed);
    assert_eq!(count(conn, "SELECT follows FROM snapshot_summary"), listed as i64);
    assert_eq!(count(conn, "SELECT count(*) FROM journal"), 0);
    assert_eq!(
        count(conn, "SELECT count(*) FROM instance_state WHERE snapshot_id = 1") as usize,
        snap.crawl.instances.len()
    );
    // The refused GoToSocial seed is stored with its own kind.
    let kind: String = conn
        .query_row("SELECT kind FROM failure WHERE subject = 'list'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "authorized_fetch");
}

/// An account listed again in one snapshot with another state (another display name) is
/// still one account, the new state its own: the writer keeps no map of the accounts it
/// wrote, its identity is found again through the database's unique index.
#[test]
fn an_account_seen_with_two_states_in_one_snapshot_is_one_account() {
    let (w, seeds) = generated(7, 30);
    let env = Env::start(w);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = db_in(&env, "twice.db");
    let store = Store::open(&db).unwrap();
    let writer = store.writer().unwrap();
    let job = Job {
        seeds: seeds.clone(),
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet: true,
        clock_offset_secs: 0,
    };
    let uri = rt.block_on(async {
        let ctx = whohosts::pipeline::Context::new(env.config.clone()).unwrap();
        let attributor = std::sync::Arc::new(ctx.attributor(true).unwrap());
        let mut snap = pipeline::snapshot(&ctx, &attributor, &seeds, &job.options, true).await;
        let list = snap
            .crawl
            .seeds
            .iter_mut()
            .filter_map(|s| s.following.as_mut())
            .find(|l| l.accounts.iter().any(|a| a.may_expand() && a.actor_uri.is_some()))
            .expect("a list with an account that lets crawlers in");
        let mut again = list
            .accounts
            .iter()
            .find(|a| a.may_expand() && a.actor_uri.is_some())
            .unwrap()
            .clone();
        again.display_name = Some("Another name".into());
        let uri = again.actor_uri.clone().unwrap();
        list.accounts.push(again);
        let begun = pipeline::begin(&writer, &env.config, &job).await.unwrap();
        writer.complete(begun.id, snap).await.unwrap();
        uri
    });
    let conn = store.connection();
    let accounts: i64 = conn
        .query_row("SELECT count(*) FROM account WHERE actor_uri = ?1", [&uri], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(accounts, 1);
    // The new state is the one account's (beside those the world's lists already gave it).
    let renamed: i64 = conn
        .query_row(
            "SELECT count(*) FROM account_state s JOIN account a ON a.id = s.account_id
              WHERE a.actor_uri = ?1 AND s.display_name = 'Another name'",
            [&uri],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(renamed, 1);
}

#[test]
fn report_prints_byte_for_byte_what_crawl_printed() {
    let (w, seeds) = generated(3, 25);
    let env = Env::start(w);
    let db = db_in(&env, "r.db");
    for format in ["text", "json"] {
        let crawled = crawl_db(&env, &db, &seeds, &["--format", format]);
        assert_eq!(
            crawled.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&crawled.stderr)
        );
        let reported = env
            .cmd()
            .arg("--db")
            .arg(&db)
            .args(["report", "--format", format])
            .output()
            .unwrap();
        assert_eq!(reported.status.code(), Some(0));
        assert!(crawled.stdout.len() > 500);
        assert_eq!(
            String::from_utf8_lossy(&reported.stdout),
            String::from_utf8_lossy(&crawled.stdout)
        );
    }
    let listing = env.cmd().arg("--db").arg(&db).arg("snapshots").output().unwrap();
    let text = String::from_utf8(listing.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with("1\tfollows\tcomplete\t"), "{text}");
    assert!(lines[2].starts_with("2\tfollows\tcomplete\t"), "{text}");
    assert!(lines[2].ends_with(&seeds.join(" ")), "{text}");
}

fn refused(env: &Env, db: &Path) -> (i32, String) {
    let out = env.cmd().arg("--db").arg(db).arg("snapshots").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn foreign_files_are_refused_and_left_untouched() {
    let env = Env::start(world(
        vec![inst("a.example", whohosts_sim::world::Software::Mastodon, "hetzner")],
        vec![],
    ));
    let noise = db_in(&env, "noise.db");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&noise, &bytes).unwrap();
    let before = sha(&noise);
    let (code, err) = refused(&env, &noise);
    assert_eq!(code, 5, "{err}");
    assert_eq!(
        err,
        format!(
            "whohosts: {} is not a whohosts database (not an SQLite database); it was left untouched: give --db the path of a whohosts database\n",
            noise.display()
        )
    );
    assert_eq!(sha(&noise), before);

    let foreign = db_in(&env, "foreign.db");
    let c = Connection::open(&foreign).unwrap();
    c.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine');",
    )
    .unwrap();
    drop(c);
    let before = sha(&foreign);
    let (code, err) = refused(&env, &foreign);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("(an SQLite database of another program); it was left untouched"),
        "{err}"
    );
    assert_eq!(sha(&foreign), before);
}

#[test]
fn a_database_of_a_newer_whohosts_is_refused() {
    let env = Env::start(world(
        vec![inst("a.example", whohosts_sim::world::Software::Mastodon, "hetzner")],
        vec![],
    ));
    let db = db_in(&env, "new.db");
    drop(Store::open(&db).unwrap());
    let c = Connection::open(&db).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let before = sha(&db);
    let (code, err) = refused(&env, &db);
    assert_eq!(code, 5, "{err}");
    assert_eq!(
        err,
        format!(
            "whohosts: {} was written by a newer whohosts (schema version 99; this one knows up to {}): upgrade whohosts to use it\n",
            db.display(),
            whohosts::store::schema::LATEST
        )
    );
    assert_eq!(sha(&db), before);
}

#[test]
fn prune_deletes_old_snapshots_and_keeps_shared_accounts() {
    let (w, seeds) = generated(5, 20);
    let env = Env::start(w);
    let db = db_in(&env, "p.db");
    assert_eq!(crawl_db(&env, &db, &seeds, &[]).status.code(), Some(0));
    let conn = Connection::open(&db).unwrap();
    let (accounts, states) = (
        count(&conn, "SELECT count(*) FROM account"),
        count(&conn, "SELECT count(*) FROM account_state"),
    );
    // An unchanged repeat stores no new account or account state; then one seed only.
    assert_eq!(crawl_db(&env, &db, &seeds, &[]).status.code(), Some(0));
    assert_eq!(count(&conn, "SELECT count(*) FROM account"), accounts);
    assert_eq!(count(&conn, "SELECT count(*) FROM account_state"), states);
    assert_eq!(crawl_db(&env, &db, &seeds[..1], &[]).status.code(), Some(0));
    let kept = count(
        &conn,
        "SELECT count(*) FROM (SELECT account_id FROM follow_edge WHERE snapshot_id = 3
          UNION SELECT st.account_id FROM seed JOIN account_state st ON st.id = seed.account_state_id
           WHERE seed.snapshot_id = 3)",
    );
    assert!(accounts > kept && kept > 10, "{accounts} {kept}");
    let prune = |args: &[&str]| env.cmd().arg("--db").arg(&db).arg("prune").args(args).output().unwrap();
    let out = prune(&["--older-than", "1000d"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Deleted 0 snapshots, 0 accounts and 0 instances no longer referenced.\n"
    );
    let out = prune(&["--older-than", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        err,
        "whohosts: --older-than: 'soon' is not a duration such as 90d or 12weeks\n\
         whohosts: see `whohosts prune --help`\n"
    );
    let out = env
        .cmd()
        .arg("--db")
        .arg(&db)
        .args(["prune", "--keep", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Deleted 1 snapshot, 0 accounts and 0 instances no longer referenced.\n"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM snapshot"), 2);
    assert_eq!(count(&conn, "SELECT count(*) FROM account"), accounts);
    let out = env
        .cmd()
        .arg("--db")
        .arg(&db)
        .args(["prune", "--keep", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(count(&conn, "SELECT count(*) FROM snapshot"), 1);
    assert_eq!(count(&conn, "SELECT min(id) FROM snapshot"), 3);
    // Accounts only the pruned snapshots listed are gone; those snapshot 3 lists survive.
    assert_eq!(count(&conn, "SELECT count(*) FROM account"), kept);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM follow_edge WHERE snapshot_id = 3"),
        count(&conn, "SELECT count(*) FROM follow")
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM seed"), 1);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM instance_state WHERE snapshot_id <> 3"),
        0
    );
    // A prune that would leave no complete snapshot asks for --yes, and deletes nothing.
    let out = prune(&["--keep", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "whohosts: prune would delete every complete snapshot in {}; add --yes if that is what you want\n",
            db.display()
        )
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM snapshot"), 1);
    let report = env.cmd().arg("--db").arg(&db).arg("report").output().unwrap();
    assert_eq!(report.status.code(), Some(0));
    let out = prune(&["--keep", "0", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(count(&conn, "SELECT count(*) FROM snapshot"), 0);
}

fn bare() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("whohosts").unwrap();
    c.env_remove("WHOHOSTS_CONFIG")
        .env_remove("WHOHOSTS_DB")
        .env_remove("WHOHOSTS_TOKEN")
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME");
    c.timeout(std::time::Duration::from_secs(120));
    c
}

#[test]
fn the_database_is_the_flag_then_the_environment_then_config_then_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let with_db = d.join("with.toml");
    let data = d.join("data");
    std::fs::write(
        &with_db,
        format!("data_dir = {:?}\ndatabase = {:?}\n", data, d.join("config.db")),
    )
    .unwrap();
    let without_db = d.join("without.toml");
    std::fs::write(&without_db, format!("data_dir = {:?}\n", data)).unwrap();
    // A read command names the database it would read ("no database at PATH") and creates
    // nothing, so the path it names shows which setting won.
    let run = |config: &Path, env: Option<&str>, flag: Option<&str>| -> String {
        let mut c = bare();
        c.arg("--config").arg(config);
        if let Some(e) = env {
            c.env("WHOHOSTS_DB", d.join(e));
        }
        if let Some(f) = flag {
            c.arg("--db").arg(d.join(f));
        }
        let out = c.arg("snapshots").output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap()
    };
    let says = |path: PathBuf| {
        format!(
            "whohosts: no database at {}: crawl first, or name one with --db\n",
            path.display()
        )
    };
    assert_eq!(run(&without_db, None, None), says(data.join("whohosts.db")));
    assert_eq!(run(&with_db, None, None), says(d.join("config.db")));
    assert_eq!(run(&with_db, Some("env.db"), None), says(d.join("env.db")));
    assert_eq!(run(&with_db, Some("env2.db"), Some("flag.db")), says(d.join("flag.db")));
    assert!(!data.exists(), "a read command creates no data directory");
    assert!(!d.join("env2.db").exists());
}

#[test]
fn demo_stores_into_the_database_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let demo = bare()
        .arg("--db")
        .arg(&db)
        .args(["--quiet", "demo", "--size", "15"])
        .output()
        .unwrap();
    assert_eq!(demo.status.code(), Some(0), "{}", String::from_utf8_lossy(&demo.stderr));
    let report = bare().arg("--db").arg(&db).arg("report").output().unwrap();
    let demo_text = String::from_utf8(demo.stdout).unwrap();
    // The demo prints the stored report of its last week, then a note about the simulator.
    let body = String::from_utf8(report.stdout).unwrap();
    assert!(body.contains("\nBy hosting organisation ("), "{body}");
    assert!(demo_text.starts_with(&body), "{demo_text}");
    assert!(
        demo_text[body.len()..].starts_with("\n(A simulated fediverse: 15 instances"),
        "{demo_text}"
    );
}

/// A crawl refused before its first request (here an `--asn-db` file that is not there)
/// stores nothing: no `failed` snapshot beside the ones there were, and no database made
/// where there was none.
#[test]
fn a_crawl_refused_before_it_starts_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let crawl = |db: &Path| {
        crate::cli::whohosts()
            .arg("--db")
            .arg(db)
            .args(["crawl", "--nameserver", "127.0.0.1:9", "--asn-db"])
            .arg(&missing)
            .arg("demo@flagship.example")
            .output()
            .unwrap()
    };
    let expected = format!("whohosts: ASN database {}: no such file\n", missing.display());
    let fresh = dir.path().join("fresh.db");
    let out = crawl(&fresh);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    // A survey refused the same way leaves nothing either: no database, no lock, no key.
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "flagship.example\n").unwrap();
    let out = crate::cli::whohosts()
        .arg("--db")
        .arg(&fresh)
        .args(["instances", "--nameserver", "127.0.0.1:9", "--asn-db"])
        .arg(&missing)
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["list.txt"], "a refused run leaves no file");

    // A database with a snapshot keeps that one only.
    let db = dir.path().join("c.db");
    let made = crate::cli::whohosts()
        .arg("--db")
        .arg(&db)
        .args(["demo", "--contacts"])
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = crawl(&db);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
    let statuses: Vec<(String, String)> = Connection::open(&db)
        .unwrap()
        .prepare("SELECT kind, status FROM snapshot ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(statuses, [("contacts".to_string(), "complete".to_string())]);
}
