//! Tests of the query runner on a small hand-made database (the shipped queries are tested
//! on crawled worlds in the integration suite).

use super::*;

fn db() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE TABLE t (id INTEGER, name TEXT, share REAL);
         INSERT INTO t VALUES (1, 'Hetzner', 0.5), (2, 'OVH, SAS', 0.25), (3, NULL, 0.125);",
    )
    .unwrap();
    c
}

const SQL: &str = "-- pick: rows of t from an id on,
-- and more words.
--
-- Parameters:
--   :from = 1     the first id
--   :name = null  a name to keep (default: all)
-- Columns:
--   id     the id
--   name   the name, or null
--          when it has none
SELECT id, name, share FROM t WHERE id >= :from AND (:name IS NULL OR name = :name) ORDER BY id";

fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn err(sql: &str, pairs: &[(&str, &str)]) -> String {
    run(&db(), "pick", sql, &given(pairs)).unwrap_err().to_string()
}

#[test]
fn the_header_gives_what_it_answers_its_parameters_and_columns() {
    let h = Header::parse(SQL);
    assert_eq!(h.about, "rows of t from an id on, and more words.");
    assert_eq!(
        h.params,
        [
            Param {
                name: "from".into(),
                default: Some("1".into()),
                about: "the first id".into()
            },
            Param {
                name: "name".into(),
                default: Some("null".into()),
                about: "a name to keep (default: all)".into()
            },
        ]
    );
    assert_eq!(
        h.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["id", "name"]
    );
    assert_eq!(h.columns[1].about, "the name, or null when it has none");
}

#[test]
fn every_shipped_query_documents_itself() {
    for q in SHIPPED {
        let h = Header::parse(q.sql);
        assert!(!h.about.is_empty(), "{}: no description", q.name);
        assert!(h.columns.len() >= 3, "{}: columns not documented", q.name);
        assert!(
            q.sql.starts_with(&format!("-- {}: ", q.name)),
            "{}: header names another query",
            q.name
        );
    }
}

#[test]
fn parameters_are_bound_by_name_with_defaults() {
    let all = run(&db(), "pick", SQL, &[]).unwrap();
    assert_eq!(all.rows.len(), 3);
    let some = run(&db(), "pick", SQL, &given(&[("from", "2")])).unwrap();
    assert_eq!(some.rows[0][0], Value::Integer(2));
    // A value is data, never SQL.
    let quoted = run(&db(), "pick", SQL, &given(&[("name", "x' OR 1=1 --")])).unwrap();
    assert!(quoted.rows.is_empty());
    let named = run(&db(), "pick", SQL, &given(&[("name", "OVH, SAS")])).unwrap();
    assert_eq!(named.rows.len(), 1);
}

#[test]
fn unknown_missing_and_positional_parameters_are_one_clear_error() {
    assert_eq!(
        err(SQL, &[("form", "2")]),
        "query pick: unknown parameter \"form\" (it takes from, name)"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE id = :id", &[]),
        "query pick: missing parameter \"id\": add --param id=VALUE"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE id = ?", &[]),
        "query pick: uses a positional parameter (?); name it, as in :snapshot"
    );
    assert_eq!(
        err("SELECT * FROM t", &[("x", "1")]),
        "query pick: unknown parameter \"x\" (it takes none)"
    );
}

#[test]
fn writes_and_several_statements_are_refused() {
    assert_eq!(
        err("DELETE FROM t", &[]),
        "query pick: it would change the database; queries are read-only"
    );
    assert_eq!(
        err("SELECT 1; DROP TABLE t", &[]),
        "query pick: holds more than one statement; give one SELECT"
    );
    let e = err("SELECT missing FROM t", &[]);
    assert!(
        e.starts_with("query pick: ") && e.contains("no such column: missing"),
        "{e}"
    );
}

#[test]
fn a_read_only_database_refuses_writes_even_past_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    drop(crate::store::Store::open(&path).unwrap());
    let before = std::fs::read(&path).unwrap();
    let c = open_read_only(&path).unwrap();
    let e = c
        .execute("INSERT INTO instance (host) VALUES ('x.example')", [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("readonly"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let missing = open_read_only(&dir.path().join("nope.db")).unwrap_err().to_string();
    assert!(
        missing.ends_with("nope.db: crawl first, or name one with --db"),
        "{missing}"
    );
}

#[test]
fn tables_render_aligned_as_csv_and_as_json() {
    let t = run(&db(), "pick", SQL, &[]).unwrap();
    assert_eq!(
        t.render(Format::Text).unwrap(),
        "id  name      share\n--  --------  -----\n 1  Hetzner     0.5\n 2  OVH, SAS   0.25\n 3            0.125\n"
    );
    assert_eq!(
        t.render(Format::Csv).unwrap(),
        "id,name,share\n1,Hetzner,0.5\n2,\"OVH, SAS\",0.25\n3,,0.125\n"
    );
    let json: serde_json::Value = serde_json::from_str(&t.render(Format::Json).unwrap()).unwrap();
    assert_eq!(json[1], serde_json::json!({"id": 2, "name": "OVH, SAS", "share": 0.25}));
    assert_eq!(json[2]["name"], serde_json::Value::Null);
}

/// Every rendering is written a row at a time (one write per row, besides the header and
/// the ends), and reads as the whole rendering did: JSON as `serde_json` prints the array.
#[test]
fn tables_are_written_a_row_at_a_time() {
    struct Pieces(Vec<Vec<u8>>);
    impl std::io::Write for Pieces {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.push(b.to_vec());
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let t = run(&db(), "pick", SQL, &[]).unwrap();
    let whole = serde_json::json!([
        {"id": 1, "name": "Hetzner", "share": 0.5},
        {"id": 2, "name": "OVH, SAS", "share": 0.25},
        {"id": 3, "name": null, "share": 0.125},
    ]);
    for (format, pieces) in [(Format::Json, 3 + 2), (Format::Text, 3 + 2), (Format::Csv, 3 + 1)] {
        let mut out = Pieces(vec![]);
        t.write(format, &mut out).unwrap().unwrap();
        assert_eq!(out.0.len(), pieces, "{format}: {:?}", out.0);
        let written = String::from_utf8(out.0.concat()).unwrap();
        assert_eq!(written, t.render(format).unwrap(), "{format}");
        if format == Format::Json {
            assert_eq!(written, serde_json::to_string_pretty(&whole).unwrap() + "\n");
        }
    }
    let empty = run(&db(), "pick", "SELECT 1 AS one WHERE 0", &[]).unwrap();
    assert_eq!(empty.render(Format::Json).unwrap(), "[]\n");
}

#[test]
fn unknown_queries_name_the_ones_there_are() {
    assert_eq!(
        find("nope").unwrap_err().to_string(),
        "query nope: no such query (there are: summary, concentration, share, host-changes, instance-changes, moved-accounts, account-changes, contact-changes, survey-changes; see `whohosts query --list`)"
    );
}

#[test]
fn every_shipped_query_declares_exactly_the_parameters_it_uses_and_the_columns_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(&dir.path().join("empty.db")).unwrap();
    for q in SHIPPED {
        let stmt = store.connection().prepare(q.sql).unwrap();
        assert!(stmt.readonly(), "{} writes", q.name);
        let mut used: Vec<String> = (1..=stmt.parameter_count())
            .filter_map(|i| stmt.parameter_name(i).map(|n| n.trim_start_matches(':').to_string()))
            .collect();
        let h = Header::parse(q.sql);
        let mut declared: Vec<String> = h.params.iter().map(|p| p.name.clone()).collect();
        used.sort();
        declared.sort();
        assert_eq!(used, declared, "{}: parameters", q.name);
        let columns: Vec<&str> = h.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(stmt.column_names().collect::<Vec<_>>(), columns, "{}: columns", q.name);
        // Every parameter with a default runs as it is; the rest say what is missing.
        let missing = run(store.connection(), q.name, q.sql, &[]);
        match h.params.iter().find(|p| p.default.is_none()) {
            Some(p) => assert!(missing
                .unwrap_err()
                .to_string()
                .contains(&format!("missing parameter \"{}\"", p.name))),
            None => assert!(
                missing.unwrap().rows.is_empty(),
                "{}: rows in an empty database",
                q.name
            ),
        }
    }
}

#[test]
fn a_table_is_not_written_as_tsv_or_html() {
    let t = run(&db(), "pick", SQL, &[]).unwrap();
    assert_eq!(
        t.render(Format::Tsv).unwrap_err().to_string(),
        "a query's table is not written as tsv (only as text, csv, json)"
    );
    assert!(t.render(Format::Html).is_err());
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Pick {
    id: i64,
    name: Option<String>,
    share: f64,
}

#[test]
fn rows_read_as_typed_records() {
    let t = run(&db(), "pick", SQL, &given(&[("from", "2")])).unwrap();
    assert_eq!(
        t.records::<Pick>().unwrap(),
        [
            Pick {
                id: 2,
                name: Some("OVH, SAS".into()),
                share: 0.25
            },
            Pick {
                id: 3,
                name: None,
                share: 0.125
            },
        ]
    );
}

#[test]
fn records_read_every_value_as_the_json_rendering_does() {
    let sql = "SELECT 1 AS i, 2.5 AS r, 'a,b' AS t, NULL AS n, x'00ff10' AS b, 1e999 AS inf, \
               -1e999 AS ninf, 'again' AS t";
    let t = run(&db(), "all", sql, &[]).unwrap();
    let json: Vec<serde_json::Value> = serde_json::from_str(&t.render(Format::Json).unwrap()).unwrap();
    let records: Vec<serde_json::Value> = t.records().unwrap();
    assert_eq!(records, json);
    assert_eq!(
        records[0],
        serde_json::json!({"i": 1, "r": 2.5, "t": "again", "n": null, "b": "00ff10", "inf": null, "ninf": null})
    );
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Optional {
        n: Option<i64>,
        inf: Option<f64>,
        b: Option<String>,
    }
    assert_eq!(
        t.records::<Optional>().unwrap(),
        [Optional {
            n: None,
            inf: None,
            b: Some("00ff10".into())
        }]
    );
}

#[test]
fn records_that_do_not_fit_name_the_row_and_the_field() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read only to fail
    struct Missing {
        id: i64,
        owner: String,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read only to fail
    struct Wrong {
        name: String,
    }
    let t = run(&db(), "pick", SQL, &[]).unwrap();
    assert_eq!(t.records::<Missing>().unwrap_err(), "row 1: missing field `owner`");
    assert_eq!(
        t.records::<Wrong>().unwrap_err(),
        "row 3: invalid type: unit value, expected a string"
    );
}

/// Each comparison reads one kind of snapshot, the one its default snapshots are taken from;
/// the other queries none.
#[test]
fn comparisons_know_the_kind_they_read() {
    let kind = |name: &str| super::read_kind(super::find(name).unwrap().sql);
    let kinds: Vec<(&str, Option<&str>)> = super::SHIPPED.iter().map(|q| (q.name, kind(q.name))).collect();
    assert_eq!(
        kinds,
        [
            ("summary", None),
            ("concentration", None),
            ("share", None),
            ("host-changes", Some("follows")),
            ("instance-changes", Some("follows")),
            ("moved-accounts", Some("follows")),
            ("account-changes", Some("follows")),
            ("contact-changes", Some("contacts")),
            ("survey-changes", Some("instances")),
        ]
    );
}

#[test]
fn a_text_of_comments_and_semicolons_holds_no_statement() {
    for sql in [
        "",
        " \n",
        ";;",
        "-- a\n;",
        "/* a */ -- b",
        "/* unterminated",
        "-- no newline",
    ] {
        assert!(!super::holds_statement(sql), "{sql:?}");
    }
    for sql in ["SELECT 1", "-- a\nSELECT 1", "/* a */ x", "; ;'a'"] {
        assert!(super::holds_statement(sql), "{sql:?}");
    }
}

#[test]
fn a_file_loses_its_byte_order_mark_and_is_refused_with_a_nul_byte() {
    assert_eq!(sql_of_file("\u{feff}SELECT 1"), Ok("SELECT 1"));
    assert_eq!(sql_of_file("SELECT 1"), Ok("SELECT 1"));
    assert_eq!(
        sql_of_file("\u{feff}").unwrap_err(),
        "the file holds no statement, only a byte order mark; give one SELECT statement"
    );
    assert_eq!(
        sql_of_file("\u{feff}-- later").unwrap_err(),
        "the file holds no statement, only comments, blanks or ';'; give one SELECT statement"
    );
    assert_eq!(
        sql_of_file(" \n").unwrap_err(),
        "the file is empty; give one SELECT statement"
    );
    assert_eq!(
        sql_of_file("\u{feff}SELECT\0").unwrap_err(),
        "the file is not SQL text: a NUL byte at byte offset 9"
    );
}

/// Rows are counted at what glibc's allocator holds for them: a chunk of 16-byte steps with an
/// 8-byte header, at least 32 bytes.
#[test]
fn rows_are_counted_at_what_the_allocator_holds() {
    assert_eq!(
        (allocation(0), allocation(1), allocation(24), allocation(40)),
        (0, 32, 32, 48)
    );
    // Two values (64 bytes: a 80-byte chunk), 40 bytes of text (48), a slot twice (48).
    let row = vec![Value::Integer(1), Value::Text("x".repeat(40))];
    assert_eq!(row_bytes(&row), 80 + 48 + 48);
}

#[test]
fn a_misspelt_name_is_matched_within_a_few_edits() {
    let names = ["Hetzner Online", "Hetzner", "OVH", "DigitalOcean"];
    assert_eq!(crate::model::text::nearest("Hetznr", names), Some("Hetzner"));
    assert_eq!(
        crate::model::text::nearest("hetzner onlin", names),
        Some("Hetzner Online")
    );
    assert_eq!(crate::model::text::nearest("OVX", names), Some("OVH"));
    // Two edits in three letters is another name, not a typo.
    assert_eq!(crate::model::text::nearest("AWS", names), None);
    assert_eq!(crate::model::text::nearest("Nowhere Ltd", names), None);
}
