//! Writing one [`Table`] as CSV (optionally gzip) or Parquet.
//!
//! CSV: a header line, `,` separated, UTF-8, RFC 4180 quoting; null is an empty field;
//! booleans `true`/`false`; numbers in Rust's shortest round-trip notation (never an
//! exponent), so a float read back is the float written; a text cell that starts with `=`,
//! `+`, `-`, `@`, a tab, a carriage return or `'` has a `'` put before it, so a spreadsheet
//! does not run it (a handle `@user@host` and nothing else is kept; drop a text cell's leading
//! `'` to undo it). Parquet: one row group, INT64,
//! DOUBLE, BOOLEAN, UTF-8 strings, and times as TIMESTAMP (microseconds, UTC); required
//! fields are REQUIRED columns, others OPTIONAL. No compression codec is built in (the build
//! stays lean); gzip the CSV instead when size matters.

use crate::model::time;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::table::{Field, Kind, Table, Value};
use crate::error::{Error, Result};

/// A cell as CSV text: a text cell a spreadsheet would run as a formula neutralised
/// ([`crate::model::text::spreadsheet`]: a leading `'`, undone by dropping a leading `'`);
/// numbers, booleans and nulls as they are.
fn csv_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Int(n) => n.to_string(),
        Value::Num(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Text(s) => crate::model::text::spreadsheet(s).into_owned(),
    }
}

/// Write `table` as CSV into `out`.
///
/// # Errors
/// I/O errors.
pub fn write_csv(table: &Table, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(table.fields.iter().map(|f| f.name))?;
    for row in &table.rows {
        w.write_record(row.iter().map(csv_text))?;
    }
    w.flush()
}

/// Write `table` as CSV (gzip when `gzip`) to `file`, opened at `path`.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn csv_file(table: &Table, file: std::fs::File, path: &Path, gzip: bool) -> Result<()> {
    let io = |e| Error::io(path, e);
    let buf = std::io::BufWriter::new(file);
    if gzip {
        let mut gz = flate2::write::GzEncoder::new(buf, flate2::Compression::default());
        write_csv(table, &mut gz).map_err(io)?;
        gz.finish().and_then(|mut b| b.flush()).map_err(io)
    } else {
        let mut buf = buf;
        write_csv(table, &mut buf).map_err(io)?;
        buf.flush().map_err(io)
    }
}

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Export(format!("cannot write {}: {e}", path.display()))
}

fn column_type(f: &Field) -> parquet::errors::Result<Arc<Type>> {
    let (physical, logical) = match f.kind {
        Kind::Integer => (Physical::INT64, None),
        Kind::Number => (Physical::DOUBLE, None),
        Kind::Boolean => (Physical::BOOLEAN, None),
        Kind::String => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        Kind::Datetime => (Physical::INT64, Some(LogicalType::timestamp(true, TimeUnit::MICROS))),
    };
    let repetition = if f.required {
        Repetition::REQUIRED
    } else {
        Repetition::OPTIONAL
    };
    Ok(Arc::new(
        Type::primitive_type_builder(f.name, physical)
            .with_repetition(repetition)
            .with_logical_type(logical)
            .build()?,
    ))
}

/// One column's values and definition levels (1 = present, 0 = null).
struct Column<T> {
    values: Vec<T>,
    levels: Vec<i16>,
}

fn column<T>(
    t: &Table,
    i: usize,
    f: &Field,
    get: impl Fn(&Value) -> Option<T>,
) -> std::result::Result<Column<T>, String> {
    let mut c = Column {
        values: vec![],
        levels: vec![],
    };
    for v in t.column(i) {
        if *v == Value::Null {
            if f.required {
                return Err(format!("null in required column {}.{}", t.name, f.name));
            }
            c.levels.push(0);
            continue;
        }
        let x = get(v).ok_or_else(|| format!("{}.{}: {v:?} is not {}", t.name, f.name, f.kind.schema_name()))?;
        c.values.push(x);
        c.levels.push(1);
    }
    Ok(c)
}

/// Write `table` as Parquet to `file`, opened at `path`.
///
/// # Errors
/// [`Error::Io`] or [`Error::Export`] naming the file.
pub fn parquet_file(table: &Table, file: std::fs::File, path: &Path) -> Result<()> {
    let fail = |e: parquet::errors::ParquetError| parquet_error(path, e);
    let fields = table
        .fields
        .iter()
        .map(column_type)
        .collect::<parquet::errors::Result<Vec<_>>>()
        .map_err(fail)?;
    let schema = Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(fail)?,
    );
    let props = WriterProperties::builder()
        .set_created_by(format!("whohosts {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(props)).map_err(fail)?;
    let mut group = writer.next_row_group().map_err(fail)?;
    let mut i = 0;
    while let Some(mut col) = group.next_column().map_err(fail)? {
        let f = table
            .fields
            .get(i)
            .ok_or_else(|| parquet_error(path, "more columns than fields"))?;
        write_column(table, i, f, &mut col).map_err(|e| parquet_error(path, e))?;
        col.close().map_err(fail)?;
        i += 1;
    }
    group.close().map_err(fail)?;
    writer.close().map_err(fail)?;
    Ok(())
}

fn write_column(
    t: &Table,
    i: usize,
    f: &Field,
    col: &mut parquet::file::writer::SerializedColumnWriter<'_>,
) -> std::result::Result<(), String> {
    fn put<T: parquet::data_type::DataType>(
        col: &mut parquet::file::writer::SerializedColumnWriter<'_>,
        c: Column<T::T>,
        required: bool,
    ) -> std::result::Result<(), String> {
        let levels = (!required).then_some(c.levels.as_slice());
        col.typed::<T>()
            .write_batch(&c.values, levels, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    let req = f.required;
    match f.kind {
        Kind::Integer => put::<Int64Type>(
            col,
            column(t, i, f, |v| if let Value::Int(n) = v { Some(*n) } else { None })?,
            req,
        ),
        Kind::Number => put::<DoubleType>(
            col,
            column(t, i, f, |v| if let Value::Num(x) = v { Some(*x) } else { None })?,
            req,
        ),
        Kind::Boolean => put::<BoolType>(
            col,
            column(t, i, f, |v| if let Value::Bool(b) = v { Some(*b) } else { None })?,
            req,
        ),
        Kind::String => put::<ByteArrayType>(
            col,
            column(t, i, f, |v| {
                if let Value::Text(s) = v {
                    Some(ByteArray::from(s.as_str()))
                } else {
                    None
                }
            })?,
            req,
        ),
        Kind::Datetime => put::<Int64Type>(
            col,
            column(t, i, f, |v| if let Value::Text(s) = v { time::micros(s) } else { None })?,
            req,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::table::{field, required};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn sample() -> Table {
        let mut t = Table::new(
            "t",
            "test",
            vec![
                required("id", Kind::Integer, ""),
                field("text", Kind::String, ""),
                field("x", Kind::Number, ""),
                field("ok", Kind::Boolean, ""),
                field("at", Kind::Datetime, ""),
            ],
            &["id"],
        );
        let hostile = "a \"quoted\", line\nbreak, é ✓ and a trailing space ";
        t.push(vec![
            1.into(),
            hostile.into(),
            0.1.into(),
            true.into(),
            "2026-11-22T00:22:02Z".into(),
        ]);
        t.push(vec![2.into(), Value::Null, Value::Null, Value::Null, Value::Null]);
        t.push(vec![3.into(), "=1+1".into(), 2e-7.into(), false.into(), Value::Null]);
        t
    }

    #[test]
    fn csv_round_trips_hostile_text_and_exact_floats() {
        let mut bytes = vec![];
        write_csv(&sample(), &mut bytes).unwrap();
        let mut r = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(r.headers().unwrap(), vec!["id", "text", "x", "ok", "at"]);
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(rows[0][1], "a \"quoted\", line\nbreak, é ✓ and a trailing space ");
        assert_eq!(rows[0][2].parse::<f64>().unwrap(), 0.1);
        assert_eq!(rows[1], ["2", "", "", "", ""]);
        assert_eq!(rows[2][2], "0.0000002", "no exponent notation");
        assert_eq!((rows[0][3].as_str(), rows[2][3].as_str()), ("true", "false"));
        assert_eq!(rows[2][1], "'=1+1", "a formula neutralised");
    }

    #[test]
    fn parquet_round_trips_types_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        parquet_file(&sample(), std::fs::File::create(&path).unwrap(), &path).unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let rows: Vec<String> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        assert_eq!(rows.len(), 3);
        assert!(
            rows[0].contains("id: 1") && rows[0].contains("x: 0.1") && rows[0].contains("ok: true"),
            "{}",
            rows[0]
        );
        assert!(rows[0].contains("2026-11-22 00:22:02"), "{}", rows[0]);
        assert_eq!(rows[1], "{id: 2, text: null, x: null, ok: null, at: null}");
    }

    #[test]
    fn a_null_in_a_required_column_is_refused() {
        let mut t = sample();
        t.push(vec![Value::Null, Value::Null, Value::Null, Value::Null, Value::Null]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let err = parquet_file(&t, std::fs::File::create(&path).unwrap(), &path)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("export: cannot write {}: null in required column t.id", path.display())
        );
    }
}
