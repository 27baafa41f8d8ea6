//! How a [`Table`] is written: columns aligned for a terminal, CSV or JSON ([`FORMATS`]);
//! linear in its rows (whether a column is numeric is worked out once per column). The CSV's
//! text cells go through [`crate::model::text::spreadsheet`], as every CSV a person opens in
//! a spreadsheet.

use std::fmt::Write as _;

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
    /// The table in `format` (one of [`FORMATS`]), ending with a newline.
    ///
    /// # Errors
    /// [`Error::Input`] for a format not in [`FORMATS`].
    pub fn render(&self, format: Format) -> Result<String> {
        let rendered = match format {
            Format::Text => self.aligned(),
            Format::Csv => self.csv(),
            Format::Json => {
                let rows: Vec<serde_json::Value> = self
                    .rows
                    .iter()
                    .map(|r| self.columns.iter().cloned().zip(r.iter().map(json)).collect())
                    .collect();
                serde_json::to_string_pretty(&rows).expect("JSON values serialise") + "\n"
            }
            Format::Tsv | Format::Html => return Err(format.not_offered("a query's table", FORMATS)),
        };
        Ok(format.safe(rendered, false))
    }

    /// Columns padded to their widest cell; numbers to the right, shown to 4 decimals.
    fn aligned(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| crate::model::text::terminal(&text(v, true)).into_owned())
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                let widest = cells.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
                widest.max(self.columns[i].chars().count())
            })
            .collect();
        // Worked out once per column: the table is rendered in time linear in its rows.
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .all(|r| matches!(r[i], Value::Integer(_) | Value::Real(_) | Value::Null))
            })
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, row: &[String]| {
            let padded: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| match numeric[i] {
                    true => format!("{c:>w$}", w = widths[i]),
                    false => format!("{c:<w$}", w = widths[i]),
                })
                .collect();
            let _ = writeln!(out, "{}", padded.join("  ").trim_end());
        };
        line(&mut out, &self.columns);
        line(&mut out, &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
        for r in &cells {
            line(&mut out, r);
        }
        out
    }

    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(vec![]);
        let _ = w.write_record(&self.columns);
        for r in &self.rows {
            // A text cell a spreadsheet would run is neutralised; numbers are written as they are.
            let _ = w.write_record(r.iter().map(|v| match v {
                Value::Text(t) => crate::model::text::spreadsheet(t).into_owned(),
                v => text(v, false),
            }));
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
