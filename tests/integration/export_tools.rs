//! Exports checked by the tools researchers use: `frictionless validate` (no error, no
//! warning) and DuckDB recomputing the headline figures from the exported rows.
//!
//! Needs python3 with `frictionless[parquet]`, `pandas` and `duckdb` (see `.ci/run`). Under
//! `CI=true` a missing one fails the test; elsewhere the test says so and passes.

use std::path::Path;
use std::process::Command;

use whohosts::metrics::{Level, Weight};
use whohosts::store::Store;

use crate::export::Fixture;

/// Whether python3 can import `module`; fails under CI when it cannot.
pub(crate) fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "python3 module {module} missing (see .ci/run)"
        );
        eprintln!(
            "skipped: python3 module {module} is not installed (pip install frictionless[parquet] pandas duckdb)"
        );
    }
    ok
}

fn validate(dir: &Path) {
    validate_tables(dir, 14);
}

/// `frictionless validate` passes on the export in `dir`, of `tables` tables, with no error
/// and no warning.
pub(crate) fn validate_tables(dir: &Path, tables: usize) {
    let out = Command::new("python3")
        .args(["-m", "frictionless", "validate", "--json"])
        .arg(dir.join("datapackage.json"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "frictionless said no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let problems: Vec<&serde_json::Value> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["errors"] != serde_json::json!([]) || t["warnings"] != serde_json::json!([]))
        .collect();
    assert_eq!(report["valid"], true, "{dir:?}: {problems:?} {}", report["errors"]);
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report["tasks"].as_array().unwrap().len(), tables);
}

#[test]
fn frictionless_validates_csv_gzip_and_parquet_exports() {
    if !python_has("frictionless") || !python_has("pandas") || !python_has("pyarrow") {
        return;
    }
    let f = Fixture::new();
    validate(&f.export("csv", &[]));
    validate(&f.export("gz", &["--gzip"]));
    validate(&f.export("pq", &["--format", "parquet"]));
}

#[test]
fn duckdb_recomputes_the_headline_figures_from_the_rows() {
    if !python_has("duckdb") {
        return;
    }
    // Exported with nothing merged or generalised (the defaults withhold the small groups'
    // host shares, so an export's own figures are those of the buckets it publishes): every
    // account's weight is in the rows, which give the stored figures back.
    let f = Fixture::new();
    let config = f.path("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text += "[export]\nmin_group_members = 1\nmin_instance_users = 0\n";
    std::fs::write(&config, text).unwrap();
    let store = Store::open(&f.db()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export/headline.py");
    for (out, format) in [("csv", "csv"), ("gz", "csv"), ("pq", "parquet")] {
        let args: &[&str] = match out {
            "gz" => &["--gzip"],
            "pq" => &["--format", "parquet"],
            _ => &[],
        };
        let dir = f.export(out, args);
        let o = Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .arg(format)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(got.as_object().unwrap().len(), 4, "{got}");
        for s in store.list().unwrap() {
            let stored = store.metrics(s.id).unwrap();
            let want = &stored.get(Level::Organisation, Weight::Accounts).unwrap().summary;
            let g = &got[s.id.to_string()];
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert!(
                close(g["top3"].as_f64().unwrap(), want.top3),
                "{out} {}: top3 {g} vs {want:?}",
                s.id
            );
            assert!(
                close(g["hhi"].as_f64().unwrap(), want.hhi),
                "{out} {}: hhi {g} vs {want:?}",
                s.id
            );
            assert_eq!(g["k50"].as_u64().unwrap() as usize, want.k50, "{out} {}", s.id);
            assert_eq!(g["buckets"].as_u64().unwrap() as usize, want.buckets, "{out} {}", s.id);
        }
    }
}

/// Every SQL example the export's README prints runs as written in DuckDB, from the export's
/// directory, and returns rows.
#[test]
fn duckdb_runs_every_example_of_the_data_dictionary() {
    if !python_has("duckdb") {
        return;
    }
    let f = Fixture::new();
    for (out, args) in [
        ("csv", &[][..]),
        ("gz", &["--gzip"][..]),
        ("pq", &["--format", "parquet"][..]),
    ] {
        let dir = f.export(out, args);
        run_examples(&dir, out);
    }
}

/// Run every SQL example of the README.md in export `dir` in DuckDB, from `dir`; each must
/// return rows. Returns the examples.
pub(crate) fn run_examples(dir: &Path, out: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let examples: Vec<&str> = readme
        .split("```sql\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(!examples.is_empty(), "{out}: no example in {readme}");
    for sql in &examples {
        let o = Command::new("python3")
            .args([
                "-c",
                "import duckdb, sys; print(len(duckdb.sql(sys.argv[1]).fetchall()))",
                sql,
            ])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{out}: {sql}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let rows: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert!(rows > 0, "{out}: {sql} returned no row");
    }
    examples.iter().map(|e| e.to_string()).collect()
}
