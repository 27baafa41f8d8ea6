//! A database written before opted-out accounts were hashed still named them; the first write
//! command upgrades it and leaves none of their names in the file.

use rusqlite::Connection;

const OLD_SCHEMA: [&str; 3] = [
    include_str!("../../migrations/0001_snapshots.sql"),
    include_str!("../../migrations/0002_metrics.sql"),
    include_str!("../../migrations/0003_trend_views.sql"),
];

/// Schema 3 with a complete snapshot following an opted-out account (`#nobot`) by name.
fn old_database(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    for sql in OLD_SCHEMA {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "application_id", whohosts::store::schema::APPLICATION_ID)
        .unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.execute_batch(
        "INSERT INTO instance (id, host) VALUES (1, 'hub.example');
         INSERT INTO account (id, actor_uri, handle, instance_id) VALUES
             (1, 'https://hub.example/users/hiddenhermit', '@hiddenhermit@hub.example', 1);
         INSERT INTO account_state (id, account_id, digest, display_name, nobot_tag) VALUES
             (1, 1, 1, 'Hermit Hidden', 1);
         INSERT INTO snapshot (id, kind, status, request, started_at, finished_at, tool, configuration)
             VALUES (1, 'follows', 'complete', '{\"seeds\":[\"@alice@hub.example\"]}',
                     '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'whohosts 0.1', '{}');
         INSERT INTO seed (snapshot_id, position, input) VALUES (1, 0, '@alice@hub.example');
         INSERT INTO follow_list (id, snapshot_id, seed_position, direction, source, status, pages)
             VALUES (1, 1, 0, 'following', 'activitypub', 'complete', 1);
         INSERT INTO follow (list_id, position, account_state_id) VALUES (1, 0, 1);",
    )
    .unwrap();
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_write_command_scrubs_an_old_database_of_opted_out_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    old_database(&db);
    assert!(contains(&std::fs::read(&db).unwrap(), "hiddenhermit"));
    let out = assert_cmd::Command::cargo_bin("whohosts")
        .unwrap()
        .arg("--db")
        .arg(&db)
        .args(["prune", "--keep", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut bytes = std::fs::read(&db).unwrap();
    for tail in ["-wal", "-shm"] {
        bytes.extend(std::fs::read(dir.path().join(format!("old.db{tail}"))).unwrap_or_default());
    }
    for name in ["hiddenhermit", "Hermit Hidden"] {
        assert!(!contains(&bytes, name), "{name} is still in the file");
    }
    // Still one account on hub.example, counted, as its hash.
    let conn = Connection::open(&db).unwrap();
    let (uri, host): (String, String) = conn
        .query_row("SELECT actor_uri, instance FROM follow_edge", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(uri.starts_with("opted-out:"), "{uri}");
    assert_eq!(host, "hub.example");
    assert!(std::fs::metadata(whohosts::store::optout::key_path(&db).unwrap()).is_ok());
}
