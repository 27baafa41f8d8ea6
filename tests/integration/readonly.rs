//! A database only its owner can write, that others can read: private modes, read commands
//! that create and change nothing, errors that name the true cause, one lock per file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use whohosts_sim::world::Software;

use crate::common::*;

/// A small world crawled once into the default database: the env and the database path.
fn crawled() -> (Env, PathBuf) {
    let mut accounts = crowd("far.example", 3);
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@home.example", &follows));
    let env = Env::start(world(
        vec![
            inst("home.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let (_, code) = env.crawl(&["seed@home.example"]);
    assert_eq!(code, 0);
    let db = env.dir.path().join("data/whohosts.db");
    (env, db)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_database_its_lock_and_the_data_directory_are_private() {
    let (_env, db) = crawled();
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    let lock = whohosts::store::lock::lock_path(&db).unwrap();
    assert_eq!(mode(&lock), 0o600);
}

/// The first command run may be `lookup`: the data directory it creates for the compiled
/// ASN index, and the index's own folder, are private as the database's are.
#[test]
fn a_data_directory_made_by_lookup_is_private() {
    let env = Env::start(world(
        vec![inst("home.example", Software::Mastodon, "hetzner")],
        vec![acct("seed@home.example", &[])],
    ));
    let data = env.dir.path().join("data");
    assert!(!data.exists());
    let out = env.run(&["lookup", "127.0.0.1"]);
    assert!(data.join("asn").is_dir(), "{}", stderr(&out));
    assert_eq!((mode(&data), mode(&data.join("asn"))), (0o700, 0o700));
}

/// A researcher reads the cron user's database in a directory they cannot write: every read
/// command works, and the file is byte-identical afterwards with nothing created beside it
/// (meaningful as root too, where the modes do not bind).
#[test]
fn read_commands_read_a_database_in_a_read_only_directory_and_change_nothing() {
    let (env, db) = crawled();
    // A second crawl, so that `diff` compares two snapshots.
    assert_eq!(env.crawl(&["seed@home.example"]).1, 0);
    let dir = db.parent().unwrap().to_path_buf();
    std::fs::remove_file(whohosts::store::lock::lock_path(&db).unwrap()).unwrap();
    let before = std::fs::read(&db).unwrap();
    // What the crawl left beside the database (its opted-out key, the compiled ASN index).
    let beside = names(&dir);
    assert!(beside.contains(&"whohosts.db".to_string()) && !beside.iter().any(|n| n.ends_with("-wal")));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let dbs = db.to_str().unwrap();
    let exported = env.dir.path().join("export");
    for args in [
        vec!["snapshots", "--db", dbs],
        vec!["report", "--db", dbs],
        vec!["query", "--db", dbs, "concentration"],
        vec!["diff", "--db", dbs, "1", "2"],
        vec!["export", "--db", dbs, "--out", exported.to_str().unwrap()],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    // The export read the database's own key: the seed's 3 follows in each of the two
    // snapshots, pseudonymised.
    let accounts = std::fs::read_to_string(exported.join("accounts.csv")).unwrap();
    assert_eq!(accounts.lines().count(), 1 + 2 * 3, "{accounts}");
    assert!(!accounts.contains("far.example/users"), "{accounts}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(std::fs::read(&db).unwrap(), before, "byte-identical");
    assert_eq!(names(&dir), beside, "no -wal, -shm or lock file created");
}

/// A reader shares the writer's `-shm` where it can make one (a directory it may write), so a
/// checkpoint or VACUUM by a crawl starting during a long read cannot change what it reads;
/// the empty `-wal` and the `-shm` SQLite leaves there do not stop a reader who cannot write
/// the directory. That reader reads the file `immutable`, and a change to the file while it
/// reads (a crawl's checkpoint) is refused in one line rather than answered with wrong figures.
#[test]
fn a_database_changed_under_an_immutable_read_is_refused() {
    use std::io::{Read, Seek, SeekFrom, Write};
    let (_env, db) = crawled();
    let dir = db.parent().unwrap().to_path_buf();
    let store = whohosts::store::Store::open_read_only(&db).unwrap();
    assert_eq!(store.list().unwrap().len(), 1);
    store.check_unchanged().unwrap();
    drop(store);
    let wal = dir.join("whohosts.db-wal");
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "{:?}", names(&dir));
    assert!(dir.join("whohosts.db-shm").exists(), "{:?}", names(&dir));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let store = whohosts::store::Store::open_read_only(&db);
    let result = store.and_then(|store| {
        assert_eq!(store.list()?.len(), 1);
        store.check_unchanged()?;
        // What a checkpoint does to the file: pages rewritten, the header's change counter
        // moved on.
        let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&db).unwrap();
        let mut counter = [0u8; 4];
        file.seek(SeekFrom::Start(24)).unwrap();
        file.read_exact(&mut counter).unwrap();
        let next = u32::from_be_bytes(counter).wrapping_add(1).to_be_bytes();
        file.seek(SeekFrom::Start(24)).unwrap();
        file.write_all(&next).unwrap();
        drop(file);
        store.check_unchanged()
    });
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(
        result.unwrap_err().to_string(),
        format!(
            "{}: the database changed while it was read (a crawl is writing to it); run the command again",
            db.display()
        )
    );
}

#[test]
fn a_missing_database_is_named_and_nothing_is_created() {
    let (env, _) = crawled();
    let missing = env.dir.path().join("typo/whohosts.db");
    for cmd in ["report", "snapshots"] {
        let out = env.run(&[cmd, "--db", missing.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out),
            format!(
                "whohosts: no database at {}: crawl first, or name one with --db\n",
                missing.display()
            )
        );
    }
    // prune writes, but a mistyped name in an existing directory gets the same line, and no
    // file (a cron typo would otherwise "prune" a new empty database, exit 0).
    let typo = env.dir.path().join("typo.db");
    let out = env.run(&["prune", "--db", typo.to_str().unwrap(), "--older-than", "90d"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: no database at {}: crawl first, or name one with --db\n",
            typo.display()
        )
    );
    let made: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("typo.db"))
        .collect();
    assert!(made.is_empty(), "{made:?}");
    let out = env.run(&["crawl", "--db", missing.to_str().unwrap(), "seed@home.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: cannot create database {}: no directory {}\n",
            missing.display(),
            missing.parent().unwrap().display()
        )
    );
    assert!(!missing.parent().unwrap().exists(), "nothing created");
}

#[test]
fn read_errors_name_the_true_cause() {
    let (env, db) = crawled();
    let dir = env.dir.path();
    let truncated = dir.join("truncated.db");
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let other = dir.join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE notes (x)").unwrap();
    drop(conn);
    let old = dir.join("old.db");
    let conn = rusqlite::Connection::open(&old).unwrap();
    conn.execute_batch("CREATE TABLE t (x); PRAGMA application_id = 2003332968; PRAGMA user_version = 1")
        .unwrap();
    drop(conn);
    let old_bytes = std::fs::read(&old).unwrap();
    let cases = [
        (&truncated, 1, format!("database {}: database disk image is malformed", truncated.display())),
        (&other, 5, format!("{} is not a whohosts database (an SQLite database of another program); it was left untouched: give --db the path of a whohosts database", other.display())),
        (&old, 5, format!("{} has schema version 1, older than this whohosts ({}): run a command that writes (crawl or prune) on it once to upgrade it; read commands never change it", old.display(), whohosts::store::schema::LATEST)),
    ];
    for (path, code, message) in cases {
        let out = env.run(&["snapshots", "--db", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert_eq!(stderr(&out), format!("whohosts: {message}\n"));
    }
    assert_eq!(
        std::fs::read(&old).unwrap(),
        old_bytes,
        "the old database was not upgraded"
    );
}

/// A second name for the database (a symbolic link) finds the same lock.
#[test]
fn a_link_to_a_locked_database_cannot_start_a_second_writer() {
    let (env, db) = crawled();
    let link = env.dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let _held = whohosts::store::lock::DbLock::acquire(&db, "crawl").unwrap();
    let out = env.run(&["crawl", "--db", link.to_str().unwrap(), "seed@home.example"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is in use by another whohosts"),
        "{}",
        stderr(&out)
    );
}

/// A command that fails after it opened the database writer (here `--resume` with nothing to
/// resume) exits only once the writer has closed its connection: no -wal file is left for a
/// reader who cannot write the directory.
#[test]
fn a_command_that_fails_after_opening_the_writer_leaves_no_wal_file() {
    let (env, db) = crawled();
    let out = env.run(&["crawl", "seed@home.example", "far0@far.example", "--resume"]);
    assert_eq!(
        (out.status.code(), stderr(&out).lines().last()),
        (
            Some(1),
            Some("whohosts: --resume: no interrupted snapshot of this command (same handles and options) to continue")
        )
    );
    let beside = names(db.parent().unwrap());
    assert!(
        !beside.iter().any(|n| n.ends_with("-wal") || n.ends_with("-shm")),
        "{beside:?}"
    );
}

/// The database's key file follows the file, not the name typed: a crawl through a link and
/// one through the real path hash opted-out accounts alike (a diff finds nothing changed), and
/// exports through either name give the same pseudonyms.
#[test]
fn a_link_to_the_database_uses_its_own_key() {
    let mut accounts = crowd("far.example", 2);
    for i in 0..3 {
        let mut a = acct(&format!("nb{i}@far.example"), &[]);
        a.noindex = true;
        accounts.push(a);
    }
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@home.example", &follows));
    let env = Env::start(world(
        vec![
            inst("home.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        accounts,
    ));
    let dir = env.dir.path();
    std::fs::create_dir(dir.join("s")).unwrap();
    let (real, link) = (dir.join("s/x.db"), dir.join("link.db"));
    std::os::unix::fs::symlink("s/x.db", &link).unwrap();
    let (reals, links) = (real.to_str().unwrap(), link.to_str().unwrap());
    for db in [reals, links] {
        let out = env.run(&["crawl", "--db", db, "seed@home.example"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert!(!dir.join("link.db.optout-key").exists(), "{:?}", names(dir));
    let out = env.run(&["diff", "--db", links, "1", "2", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&diff["accounts"], &diff["opted_out"]),
        (&serde_json::json!([]), &serde_json::json!([])),
        "{diff}"
    );
    let export = |db: &str, out: &str| {
        let out = dir.join(out);
        let o = env.run(&["export", "--db", db, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::read_to_string(out.join("accounts.csv")).unwrap()
    };
    let (via_link, via_real) = (export(links, "e-link"), export(reals, "e-real"));
    assert_eq!(via_link.lines().count(), 1 + 2 * 2, "{via_link}");
    assert_eq!(via_link, via_real);
}

/// A read command never makes the pseudonym key: an export of a database whose key is gone
/// says so in one line and writes nothing.
#[test]
fn an_export_without_the_key_says_so_and_makes_none() {
    let (env, db) = crawled();
    let key = db.with_file_name("whohosts.db.optout-key");
    std::fs::remove_file(&key).unwrap();
    let before = names(db.parent().unwrap());
    let out_dir = env.dir.path().join("e");
    let out = env.run(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {}: its pseudonym key {} is missing: copy it back from where the database came \
             from (a read command never makes one; the next crawl or prune of the database makes a \
             new key, and pseudonyms and opted-out hashes then change)\n",
            db.display(),
            key.display()
        )
    );
    // No key made: only the empty `-wal` and the `-shm` an SQLite reader leaves.
    let made: Vec<String> = names(db.parent().unwrap())
        .into_iter()
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert_eq!(made, before, "nothing made");
    assert!(!out_dir.exists());
}

/// With no IP-to-ASN database configured, a crawl into a missing directory or into a file
/// that is no database is refused in one line, before the attribution notice, and nothing
/// is created.
#[test]
fn a_bad_db_is_refused_in_one_line_before_the_attribution_notice() {
    let (mut env, _) = crawled();
    env.config.attribution.asn_database = whohosts::config::Paths::default();
    env.write_config();
    let dir = env.dir.path();
    let notes = dir.join("notes.db");
    std::fs::write(&notes, "my notes, not a database\n").unwrap();
    let missing = dir.join("nodir/x.db");
    let run = |db: &Path| {
        let mut c = assert_cmd::Command::cargo_bin("whohosts").unwrap();
        c.env_remove("WHOHOSTS_TOKEN").env_remove("WHOHOSTS_CONFIG");
        c.arg("--config")
            .arg(env.config_path())
            .arg("crawl")
            .arg("--db")
            .arg(db);
        c.arg("seed@home.example").timeout(std::time::Duration::from_secs(60));
        c.output().unwrap()
    };
    let out = run(&missing);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: cannot create database {}: no directory {}\n",
            missing.display(),
            missing.parent().unwrap().display()
        )
    );
    assert!(!missing.parent().unwrap().exists());
    let out = run(&notes);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {} is not a whohosts database (not an SQLite database); it was left untouched: give --db the path of a whohosts database\n",
            notes.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes, not a database\n");
    // The notice itself is still given to a crawl that can run.
    let ok = run(&dir.join("fresh.db"));
    assert!(stderr(&ok).contains("no IP-to-ASN database"), "{}", stderr(&ok));
}

/// Deleted data does not linger: after `prune`, an account only the pruned snapshot listed is
/// not readable anywhere in the database's files.
#[test]
fn a_pruned_account_is_not_left_in_the_file() {
    let env = Env::start(world(
        vec![
            inst("home.example", Software::Mastodon, "hetzner"),
            inst("far.example", Software::Mastodon, "ovh"),
        ],
        vec![
            acct("lonelyzq@far.example", &[]),
            acct("stays@far.example", &[]),
            acct(
                "old@home.example",
                &["lonelyzq@far.example".into(), "stays@far.example".into()],
            ),
            acct("new@home.example", &["stays@far.example".into()]),
        ],
    ));
    let db = env.dir.path().join("data/whohosts.db");
    for seed in ["old@home.example", "new@home.example"] {
        let out = env.run(&["crawl", seed]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let hits = |needle: &[u8]| -> usize {
        names(db.parent().unwrap())
            .iter()
            .filter(|n| n.starts_with("whohosts.db"))
            .map(|n| {
                let bytes = std::fs::read(db.with_file_name(n)).unwrap();
                bytes.windows(needle.len()).filter(|w| *w == needle).count()
            })
            .sum()
    };
    assert!(hits(b"lonelyzq") > 0, "the search would find it");
    let out = env.run(&["prune", "--keep", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Deleted 1 snapshot, 2 accounts and 0 instances no longer referenced.\n"
    );
    assert_eq!(hits(b"lonelyzq"), 0);
    assert_eq!(hits(b"old@home"), 0);
    assert!(hits(b"stays@far") > 0);
}

/// A hard link planted at the lock file's name (to a file of the user's) is refused in one
/// line, and the file it names is not overwritten.
#[test]
fn a_hard_link_at_the_lock_file_is_refused() {
    let (env, db) = crawled();
    let lock = whohosts::store::lock::lock_path(&db).unwrap();
    std::fs::remove_file(&lock).unwrap();
    let precious = env.dir.path().join("precious.txt");
    std::fs::write(&precious, "keep me\n").unwrap();
    std::fs::hard_link(&precious, &lock).unwrap();
    let out = env.run(&["crawl", "seed@home.example"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: lock file {}: it has 2 names (a hard link to another file); nothing was written to it: remove it and run the command again\n",
            lock.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me\n");
}

/// A pseudonym key planted beside the database (a symbolic link, or a hard link to another
/// database's key) is refused in one line, as a planted lock is: an export never runs under
/// a key swapped in from elsewhere.
#[test]
fn a_planted_pseudonym_key_is_refused() {
    let (env, db) = crawled();
    let key = whohosts::store::optout::key_path(&db).unwrap();
    let other = env.dir.path().join("other.optout-key");
    std::fs::write(&other, format!("{}\n", "ab".repeat(32))).unwrap();
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out_dir = env.dir.path().join("ex");
    let export = |env: &Env| {
        env.run(&[
            "export",
            "--db",
            db.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
    };
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink(&other, &key).unwrap();
    let out = export(&env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {}: its pseudonym key {} is a symbolic link: not this database's own key; remove it and put the database's key file there\n",
            db.display(),
            key.display()
        )
    );
    std::fs::remove_file(&key).unwrap();
    std::fs::hard_link(&other, &key).unwrap();
    let out = export(&env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {}: its pseudonym key {}: it has 2 names (a hard link to another file): not this database's own key\n",
            db.display(),
            key.display()
        )
    );
    assert!(!out_dir.exists());
}

/// `contacts` checks its `--db` before it takes the lock, as `crawl` and `instances` do: a
/// file that is no database is refused in one line and no lock file is left beside it.
#[test]
fn contacts_refuses_a_bad_db_before_it_locks() {
    let (env, _) = crawled();
    let dir = env.dir.path();
    let notes = dir.join("notes.db");
    std::fs::write(&notes, "my notes, not a database\n").unwrap();
    let book = dir.join("book.txt");
    std::fs::write(&book, "ann@home.example\n").unwrap();
    let out = env.run(&["contacts", "--db", notes.to_str().unwrap(), book.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {} is not a whohosts database (not an SQLite database); it was left untouched: give --db the path of a whohosts database\n",
            notes.display()
        )
    );
    assert!(!dir.join("notes.db.lock").exists());
}

/// `instances` checks its `--db` before it reads the list, as `crawl` and `contacts` do: a
/// list with bad entries given a file that is no database gets one line on stderr, the
/// database's, and nothing of the list (its bad entries are not printed first).
#[test]
fn instances_refuses_a_bad_db_before_it_prints_the_lists_bad_entries() {
    let (env, _) = crawled();
    let dir = env.dir.path();
    let notes = dir.join("notes.db");
    std::fs::write(&notes, "my notes, not a database\n").unwrap();
    let list = dir.join("list.txt");
    std::fs::write(&list, "home.example\nnot a host!\n1.2.3.4\n").unwrap();
    // Not --quiet: the bad entries would be printed.
    let mut c = assert_cmd::Command::cargo_bin("whohosts").unwrap();
    c.env_remove("WHOHOSTS_TOKEN").env_remove("WHOHOSTS_CONFIG");
    c.arg("--config")
        .arg(env.config_path())
        .arg("instances")
        .arg("--db")
        .arg(&notes)
        .arg(&list);
    let out = c.timeout(std::time::Duration::from_secs(60)).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {} is not a whohosts database (not an SQLite database); it was left untouched: give --db the path of a whohosts database\n",
            notes.display()
        )
    );
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(!dir.join("notes.db.lock").exists());
}

/// A key an older whohosts left beside a link's own name is not replaced by a new key in
/// silence when the database is next written through the link: one line says where to move it.
#[test]
fn a_key_left_beside_a_link_is_not_replaced_in_silence() {
    let (env, db) = crawled();
    let link = env.dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let key = whohosts::store::optout::key_path(&db).unwrap();
    let old = env.dir.path().join("link.db.optout-key");
    std::fs::rename(&key, &old).unwrap();
    let out = env.run(&["crawl", "--db", link.to_str().unwrap(), "seed@home.example"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {}: its pseudonym key is at {} (beside a link's name), not at {}: move it there\n",
            link.display(),
            old.display(),
            key.display()
        )
    );
    assert!(!key.exists());
}

/// A crawl's database as a killed crawl leaves it, copied for a researcher into `into` (made
/// here): snapshot 1 in the file, snapshot 2 only in the `-wal` (a reader held the file at
/// snapshot 1 while the second crawl ran, so no checkpoint could copy it), and the `-shm`
/// when `shm`, private (0600) as SQLite makes it. Every file readable by others but the
/// `-shm`. The env, and the copy's path.
fn second_crawl_only_in_the_wal(into: &str, shm: bool) -> (Env, PathBuf) {
    let (env, db) = crawled();
    let reader = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let held: i64 = reader
        .query_row("SELECT count(*) FROM snapshot", [], |r| r.get(0))
        .unwrap();
    assert_eq!(held, 1);
    assert_eq!(env.crawl(&["seed@home.example"]).1, 0);
    let copy = env.dir.path().join(into);
    std::fs::create_dir(&copy).unwrap();
    let mut suffixes = vec!["", "-wal"];
    if shm {
        suffixes.push("-shm");
    }
    for suffix in suffixes {
        let (from, to) = (dir_file(&db, suffix), copy.join(format!("whohosts.db{suffix}")));
        std::fs::copy(&from, &to).unwrap();
        let mode = if suffix == "-shm" { 0o600 } else { 0o644 };
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    drop(reader);
    assert!(std::fs::metadata(copy.join("whohosts.db-wal")).unwrap().len() > 0);
    // The researcher reads through the env's directory and config.
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    (env, copy.join("whohosts.db"))
}

fn dir_file(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

/// `whohosts ARGS` as a user who does not own the database: `nobody` when the tests run as
/// root (where modes do not bind); otherwise this user, for whom a 0555 directory and a 0000
/// `-shm` are what another user's are.
fn as_another_user(env: &Env, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"));
    cmd.arg("--config").arg(env.config_path()).args(args);
    cmd.env_remove("WHOHOSTS_TOKEN").env_remove("WHOHOSTS_CONFIG");
    // SAFETY: geteuid only reads this process's effective user id.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534).env("HOME", "/nonexistent");
    }
    cmd.output().unwrap()
}

/// Each file of `dir` by name, with its bytes' hash.
fn hashed(dir: &Path) -> Vec<(String, u64)> {
    use std::hash::{Hash, Hasher};
    names(dir)
        .into_iter()
        .map(|n| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(dir.join(&n)).unwrap().hash(&mut h);
            (n, h.finish())
        })
        .collect()
}

/// What a reader of the copy must print: both snapshots (the second only in the `-wal`), and
/// the second's report with the seed's three follows on far.example.
fn reads_every_committed_row(env: &Env, db: &Path) {
    let dbs = db.to_str().unwrap();
    let out = as_another_user(env, &["--quiet", "--db", dbs, "snapshots"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let complete: Vec<&str> = listed.lines().filter(|l| l.contains("complete")).collect();
    assert_eq!(complete.len(), 2, "{listed}");
    let out = as_another_user(env, &["--quiet", "--db", dbs, "report", "2", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&report["snapshot"]["id"], &report["population"]["accounts"]),
        (&serde_json::json!(2), &serde_json::json!(3))
    );
    let out = as_another_user(
        env,
        &[
            "--quiet",
            "--db",
            dbs,
            "query",
            "concentration",
            "-p",
            "level=instance",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r["snapshot_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2], "{rows:?}");
    let out = as_another_user(env, &["--quiet", "--db", dbs, "diff", "1", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A killed crawl's database copied, `-wal` and all but no `-shm`, into a directory the
/// reader cannot write: read by another user with every committed row of the `-wal`, one
/// line saying how (not under `--quiet`), and every file byte-identical afterwards, nothing
/// created.
#[test]
fn a_wal_without_its_shm_in_a_read_only_directory_is_read_whole() {
    let (env, db) = second_crawl_only_in_the_wal("copy", false);
    let dir = db.parent().unwrap().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = hashed(&dir);
    reads_every_committed_row(&env, &db);
    let out = as_another_user(&env, &["--db", db.to_str().unwrap(), "snapshots"]);
    assert_eq!(
        stderr(&out),
        format!(
            "whohosts: {}: read from the file and its -wal alone (no -shm beside it, and none may be made in \
             its directory); a crawl that writes it meanwhile stops this command\n",
            db.display()
        )
    );
    assert_eq!(hashed(&dir), before, "byte-identical, nothing created");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `-shm` another user left private (0600) beside a `-wal` that holds pages, in a directory
/// the reader may write and in one it may not: read whole, nothing changed or created.
#[test]
fn a_private_shm_of_another_user_does_not_stop_a_reader() {
    let (env, db) = second_crawl_only_in_the_wal("copy", true);
    let dir = db.parent().unwrap().to_path_buf();
    let shm = dir.join("whohosts.db-shm");
    // SAFETY: geteuid only reads this process's effective user id.
    if unsafe { libc::geteuid() } != 0 {
        std::fs::set_permissions(&shm, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    for dir_mode in [0o777, 0o555] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
        let before = hashed(&dir);
        reads_every_committed_row(&env, &db);
        assert_eq!(hashed(&dir), before, "{dir_mode:o}: byte-identical, nothing created");
    }
    let out = as_another_user(&env, &["--db", db.to_str().unwrap(), "snapshots"]);
    assert!(
        stderr(&out)
            .ends_with("(its -shm is not readable by you); a crawl that writes it meanwhile stops this command\n"),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `-shm` that is no regular file (a FIFO someone made there) is not opened: the reader
/// reads the file alone instead of blocking for ever (outside trial), and it is left as it was.
#[test]
fn a_shm_that_is_a_fifo_does_not_block_a_reader() {
    let f = crate::export::Fixture::new();
    let shm = std::path::PathBuf::from(format!("{}-shm", f.db().display()));
    let _ = std::fs::remove_file(&shm);
    let _ = std::fs::remove_file(format!("{}-wal", f.db().display()));
    let made = std::process::Command::new("mkfifo").arg(&shm).status().unwrap();
    assert!(made.success());
    let out = f.cmd().args(["query", "summary", "--format", "csv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1 + 4);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&shm).unwrap().file_type().is_fifo());
}
