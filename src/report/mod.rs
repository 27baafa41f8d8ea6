//! Reports a person reads, from stored snapshots: a headline in plain words, every level as a
//! ranked table, the population, the data credits and, when the database holds earlier
//! snapshots of the same seeds, the trend and the changes that drove it.
//!
//! # Architecture
//! [`Report::build`] gathers everything a report shows from the store — the snapshot as
//! crawled ([`Snapshot`]), its stored metrics ([`crate::metrics::SnapshotMetrics`], never
//! recomputed here) and the trend ([`trend`]) — into one [`Report`]. Each format is one
//! rendering of that value: [`text`] (what `crawl` and `demo` end with), JSON (the
//! [`Report`] serialised, schema [`SCHEMA_VERSION`]), [`csv`] and [`html`] (self-contained,
//! charts in inline SVG from [`svg`]). [`diff`] compares two snapshots; the trend reuses it.

pub mod contacts;
pub mod contacts_diff;
pub mod csv;
pub mod degraded;
pub mod diff;
pub mod diff_accounts;
pub mod diff_lists;
pub mod html;
pub mod instances;
pub mod model;
pub mod prometheus;
pub mod seeds;
pub mod survey_diff;
pub mod svg;
pub mod text;
pub mod trend;

use crate::error::Result;
/// The output formats; a report is written in [`FORMATS`].
pub use crate::model::format::Format;
pub use model::{Credits, Headline, Options, Report, SnapshotRef, SCHEMA_VERSION};
pub use seeds::{failure_line, failure_sentence};

/// The formats a report is written in (`crawl`, `demo`, `report`).
pub const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Csv, Format::Html];

/// `report` in `format` (one of [`FORMATS`]), `top` rows per level (0: all). `color` only
/// affects text (ANSI colours for a terminal).
///
/// # Errors
/// [`crate::error::Error::Input`] for a format not in [`FORMATS`].
pub fn render(report: &Report, format: Format, top: usize, color: bool) -> Result<String> {
    // `--top 0` means every row.
    let top = if top == 0 { usize::MAX } else { top };
    let rendered = match format {
        Format::Text => text::render(report, top, color),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("reports serialise: string keys, finite numbers") + "\n"
        }
        Format::Csv => csv::render(report),
        Format::Html => html::render(report, top),
        Format::Tsv => return Err(format.not_offered("a report", FORMATS)),
    };
    Ok(format.safe(rendered, color && format == Format::Text))
}

/// `n word` or `n words`: `entry` → `entries`, `country` → `countries`, `address` →
/// `addresses`, `AS` → `ASes` (the last word of `word` is the one that takes the plural).
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        return format!("1 {word}");
    }
    let lower = word.to_ascii_lowercase();
    let consonant_y =
        lower.ends_with('y') && !lower.ends_with("ay") && !lower.ends_with("ey") && !lower.ends_with("oy");
    if consonant_y {
        format!("{n} {}ies", &word[..word.len() - 1])
    } else if ["s", "x", "ch", "sh"].iter().any(|e| lower.ends_with(e)) {
        format!("{n} {word}es")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests;
