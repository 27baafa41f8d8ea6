//! `query --sql` cannot exhaust the machine: a runaway recursive query is stopped by the time
//! limit or the memory limit of `[query]`, with one line naming the limit.

use assert_cmd::Command;

/// An empty whohosts database and a config with the given `[query]` limits.
fn setup(time_limit: u64, memory_mb: u64) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    drop(whohosts::store::Store::open(&db).unwrap());
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[query]\ntime_limit_seconds = {time_limit}\nmemory_limit_mb = {memory_mb}\n"),
    )
    .unwrap();
    (dir, db, config)
}

fn query(db: &std::path::Path, config: &std::path::Path, sql: &str) -> (i32, String, std::time::Duration) {
    let file = db.with_file_name("runaway.sql");
    std::fs::write(&file, sql).unwrap();
    let start = std::time::Instant::now();
    let out = Command::cargo_bin("whohosts")
        .unwrap()
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db)
        .args(["query", "--sql"])
        .arg(&file)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn a_runaway_recursive_query_is_stopped_by_the_time_limit() {
    let (_dir, db, config) = setup(1, 512);
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let (code, err, took) = query(&db, &config, sql);
    let file = db.with_file_name("runaway.sql");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "whohosts: query {}: stopped after 1 s, its time limit (query.time_limit_seconds in config)\n",
            file.display()
        )
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

#[test]
fn a_runaway_recursive_query_is_stopped_by_the_memory_limit() {
    let (_dir, db, config) = setup(600, 16);
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, 'padding' FROM c";
    let (code, err, _) = query(&db, &config, sql);
    let file = db.with_file_name("runaway.sql");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "whohosts: query {}: stopped at 16 MiB, its memory limit (query.memory_limit_mb in config)\n",
            file.display()
        )
    );
}

#[test]
fn a_query_within_the_limits_runs() {
    let (_dir, db, config) = setup(30, 64);
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT x FROM c";
    let file = db.with_file_name("ok.sql");
    std::fs::write(&file, sql).unwrap();
    let out = Command::cargo_bin("whohosts")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["query", "--format", "csv", "--sql"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\n1\n2\n3\n");
}
