//! The CSV report: one row per (level, weight, bucket), every bucket, with a header.
//!
//! Columns: `snapshot`, `level`, `weight`, `rank` (1 = largest), `key` (stable identifier:
//! host, organisation, `AS13335`, range, CIDR, country code), `label` (what a person reads),
//! `amount` (the bucket's weight), `share` (0–1 of the level's total).
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
//! as a formula. The text cells that come from outside (`key`, `label`: names from servers and
//! data files) are neutralised by [`crate::model::text::spreadsheet`], with a leading `'`; the
//! numbers whohosts writes itself stay numbers.

use super::Report;
use crate::model::text::spreadsheet;

/// The header row.
pub const COLUMNS: [&str; 8] = ["snapshot", "level", "weight", "rank", "key", "label", "amount", "share"];

/// `r` as CSV.
pub fn render(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut rows = vec![COLUMNS.map(String::from).to_vec()];
    for l in &r.levels {
        for (i, b) in l.buckets.iter().enumerate() {
            rows.push(vec![
                r.snapshot.id.to_string(),
                l.level.to_string(),
                l.weight.to_string(),
                (i + 1).to_string(),
                spreadsheet(&b.key).into_owned(),
                spreadsheet(&b.label).into_owned(),
                b.weight.to_string(),
                b.share.to_string(),
            ]);
        }
    }
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&row);
    }
    String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned()
}
