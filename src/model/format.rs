//! The output formats a person or a program reads: one type for reports, trend queries,
//! diffs and lookups, each of which writes some of them (its `FORMATS`).
//!
//! Research exports have their own `export::Format` (CSV or Parquet): a file format for
//! tables that other tools load, not a rendering of one answer, so it is not this type.

use std::fmt;

use crate::error::Error;

/// How an answer is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// For a person at a terminal: sentences, or columns aligned with spaces.
    Text,
    Json,
    Csv,
    /// Tab-separated, one line per record.
    Tsv,
    /// A self-contained page.
    Html,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[Format::Text, Format::Json, Format::Csv, Format::Tsv, Format::Html];

    /// The format's lower-case name (`text`, `json`, `csv`, `tsv`, `html`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Html => "html",
        }
    }

    /// `rendered`, an answer written in this format, made safe for a terminal (see
    /// [`crate::model::text`]): JSON keeps its value (raw controls become `\uXXXX`), every
    /// other format shows them as `\u{1b}`. `colour`: keep whohosts's own colour sequences.
    /// Every rendered report, diff, query table and lookup goes through here.
    pub fn safe(self, rendered: String, colour: bool) -> String {
        use crate::model::text;
        let safe = match self {
            Format::Json => text::json(&rendered),
            _ if colour => text::terminal_with_colour(&rendered),
            _ => text::terminal(&rendered),
        };
        match safe {
            std::borrow::Cow::Borrowed(_) => rendered,
            std::borrow::Cow::Owned(s) => s,
        }
    }

    /// The error for asking `what` in this format when it is written only in `offered`.
    pub fn not_offered(self, what: &str, offered: &[Format]) -> Error {
        let names: Vec<&str> = offered.iter().map(|f| f.as_str()).collect();
        Error::Input(format!(
            "{what} is not written as {self} (only as {})",
            names.join(", ")
        ))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_lower_case() {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["text", "json", "csv", "tsv", "html"]);
        assert_eq!(Format::Tsv.to_string(), "tsv");
    }

    #[test]
    fn not_offered_names_the_format_and_the_ones_offered() {
        let e = Format::Html.not_offered("a diff", &[Format::Text, Format::Json]);
        assert_eq!(e.to_string(), "a diff is not written as html (only as text, json)");
    }
}
