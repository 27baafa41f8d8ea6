//! How a [`Table`] is written: columns aligned for a terminal, CSV or JSON ([`FORMATS`]);
//! linear in its rows (whether a column is numeric is worked out once per column). The CSV's
//! text cells go through [`crate::model::text::spreadsheet`], as every CSV a person opens in
//! a spreadsheet.

use rusqlite::types::Value;

use super::{Format, Table};
use crate::error::Result;

/// The formats a [`Table`] is written in: [`Format::Text`] (columns aligned; `table` on the
/// command line), CSV and JSON.
pub const FORMATS: &[Format] = &[Format::Text, Format::Csv, Format::Json];

fn text(v: &Value, round: bool) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) if round => {
            let s = format!("{f:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        Value::Text(t) => t.clone().into(),
        Value::Blob(b) => b.iter().map(|x| format!("{x:02x}")).collect::<String>().into(),
    }
}

impl Table {
    /// The table in `format` (one of [`FORMATS`]), ending with a newline: [`Table::write`]
    /// into a string.
    ///
    /// # Errors
    /// [`Error::Input`](crate::error::Error::Input) for a format not in [`FORMATS`].
    pub fn render(&self, format: Format) -> Result<String> {
        let mut out = vec![];
        self.write(format, &mut out)?
            .expect("writing into memory does not fail");
        Ok(String::from_utf8(out).expect("every rendering is UTF-8"))
    }

    /// Write the table in `format` (one of [`FORMATS`]) to `out` a row at a time, each row
    /// made safe for a terminal ([`Format::safe`]) as it is written: what is held besides the
    /// rows is one row's rendering (and, for the aligned table, a width per column). The outer
    /// error is the format's, refused before anything is written; the inner one `out`'s.
    ///
    /// # Errors
    /// [`Error::Input`](crate::error::Error::Input) for a format not in [`FORMATS`].
    pub fn write(&self, format: Format, out: &mut dyn std::io::Write) -> Result<std::io::Result<()>> {
        let mut put = |piece: String| out.write_all(format.safe(piece, false).as_bytes());
        Ok(match format {
            Format::Text => self.aligned(&mut put),
            Format::Csv => self.csv(&mut put),
            Format::Json => self.json(&mut put),
            Format::Tsv | Format::Html => return Err(format.not_offered("a query's table", FORMATS)),
        })
    }

    /// A JSON array of one object per row, as `serde_json::to_string_pretty` writes it, an
    /// object at a time.
    fn json(&self, put: &mut dyn FnMut(String) -> std::io::Result<()>) -> std::io::Result<()> {
        if self.rows.is_empty() {
            return put("[]\n".into());
        }
        put("[\n".into())?;
        for (n, r) in self.rows.iter().enumerate() {
            let object: serde_json::Map<String, serde_json::Value> =
                self.columns.iter().cloned().zip(r.iter().map(json)).collect();
            let text = serde_json::to_string_pretty(&object).expect("JSON values serialise");
            // Nested one level: every line indented (a string's line breaks are escaped).
            let mut piece = String::with_capacity(text.len() + 64);
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    piece.push('\n');
                }
                piece.push_str("  ");
                piece.push_str(line);
            }
            piece.push_str(if n + 1 < self.rows.len() { ",\n" } else { "\n" });
            put(piece)?;
        }
        put("]\n".into())
    }

    /// Columns padded to their widest cell; numbers to the right, shown to 4 decimals. Each
    /// cell's text is made twice (once to measure it, once to write it) rather than held.
    fn aligned(&self, put: &mut dyn FnMut(String) -> std::io::Result<()>) -> std::io::Result<()> {
        let cell = |v: &Value| crate::model::text::terminal(&text(v, true)).chars().count();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        // Worked out once per column: the table is rendered in time linear in its rows.
        let mut numeric = vec![true; self.columns.len()];
        for r in &self.rows {
            for (i, v) in r.iter().enumerate() {
                widths[i] = widths[i].max(cell(v));
                numeric[i] &= matches!(v, Value::Integer(_) | Value::Real(_) | Value::Null);
            }
        }
        let line = |row: &mut dyn Iterator<Item = String>| {
            let mut out = String::new();
            for (i, c) in row.enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                // Padded by hand: `format!`'s width stops at 65,535 (a wider cell would panic).
                let pad = widths[i].saturating_sub(c.chars().count());
                if numeric[i] {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
                out.push_str(&c);
                if !numeric[i] {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            let end = out.trim_end().len();
            out.truncate(end);
            out.push('\n');
            out
        };
        put(line(&mut self.columns.iter().cloned()))?;
        put(line(&mut widths.iter().map(|w| "-".repeat(*w))))?;
        for r in &self.rows {
            put(line(
                &mut r
                    .iter()
                    .map(|v| crate::model::text::terminal(&text(v, true)).into_owned()),
            ))?;
        }
        Ok(())
    }

    fn csv(&self, put: &mut dyn FnMut(String) -> std::io::Result<()>) -> std::io::Result<()> {
        // A record at a time, each quoted by its own small writer.
        let mut record = |cells: &mut dyn Iterator<Item = String>| {
            let mut w = csv::WriterBuilder::new().buffer_capacity(1 << 10).from_writer(vec![]);
            w.write_record(cells).map_err(std::io::Error::other)?;
            let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
            put(String::from_utf8_lossy(&bytes).into_owned())
        };
        record(&mut self.columns.iter().cloned())?;
        for r in &self.rows {
            // A text cell a spreadsheet would run is neutralised; numbers are written as they are.
            record(&mut r.iter().map(|v| match v {
                Value::Text(t) => crate::model::text::spreadsheet(t).into_owned(),
                v => text(v, false),
            }))?;
        }
        Ok(())
    }
}
