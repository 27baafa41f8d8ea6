//! The command line's names for the library's output formats (`--format`): the library's
//! types know nothing of clap.
//!
//! Reports, queries, diffs and lookups share one [`Format`]; each command offers only the
//! formats its renderer writes (the library's `FORMATS` of each), under their own names, so
//! the command line cannot ask for one it does not write. Parsing and the messages for a
//! wrong value are clap's own, the same as for a `ValueEnum`.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::ValueEnum;

use crate::model::format::Format;

/// `impl ValueEnum` for a library enum, each variant with its lower-case name.
macro_rules! value_enum {
    ($ty:path { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                use $ty as T;
                &[$(T::$variant),+]
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                use $ty as T;
                Some(match self {
                    $(T::$variant => PossibleValue::new($name)),+
                })
            }
        }
    };
}

value_enum!(crate::export::Format { Csv => "csv", Parquet => "parquet" });

/// The `--format` values of one command: the formats it writes, each under its name, in the
/// order `--help` lists them.
#[derive(Debug, Clone)]
pub struct Offered(Vec<(Format, &'static str)>);

/// `formats`, each under its own name ([`Format::as_str`]).
pub fn offered(formats: &[Format]) -> Offered {
    Offered(formats.iter().map(|f| (*f, f.as_str())).collect())
}

impl Offered {
    /// The same, with `format` called `name` on the command line.
    pub fn named(mut self, format: Format, name: &'static str) -> Offered {
        for (f, n) in &mut self.0 {
            if *f == format {
                *n = name;
            }
        }
        self
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(_, n)| *n).collect()
    }
}

impl TypedValueParser for Offered {
    type Value = Format;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<Format, clap::Error> {
        // Like clap's parser of a `ValueEnum`, a value that is not UTF-8 is a wrong value too
        // (its replacement characters match no name), not an "invalid UTF-8" error.
        let text = value.to_string_lossy();
        let given = PossibleValuesParser::new(self.names()).parse_ref(cmd, arg, OsStr::new(text.as_ref()))?;
        let ignore_case = arg.is_some_and(clap::Arg::is_ignore_case_set);
        let (format, _) = self
            .0
            .iter()
            .find(|(_, n)| PossibleValue::new(*n).matches(&given, ignore_case))
            .expect("clap accepted one of these names");
        Ok(*format)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|(_, n)| PossibleValue::new(*n))))
    }
}

/// Reports (`crawl`, `demo`, `report`): text, json, csv, html.
pub fn report() -> Offered {
    offered(crate::report::FORMATS)
}

/// `query`: table (aligned text), csv, json.
pub fn query() -> Offered {
    offered(crate::query::FORMATS).named(Format::Text, "table")
}

/// `diff`: text, json.
pub fn diff() -> Offered {
    offered(crate::report::diff::FORMATS)
}

/// `contacts`: text, json.
pub fn contacts() -> Offered {
    offered(crate::report::contacts::FORMATS)
}

/// `instances`: text, json, csv.
pub fn instances() -> Offered {
    offered(crate::report::instances::FORMATS)
}

/// `lookup`: text, json, tsv.
pub fn lookup() -> Offered {
    offered(super::lookup::FORMATS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(offered: Offered, value: &str) -> Result<Format, String> {
        let cmd = clap::Command::new("t").arg(clap::Arg::new("format").long("format").value_parser(offered));
        cmd.try_get_matches_from(["t", "--format", value])
            .map(|m| *m.get_one::<Format>("format").expect("given"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn each_command_offers_its_names_in_order() {
        assert_eq!(report().names(), ["text", "json", "csv", "html"]);
        assert_eq!(query().names(), ["table", "csv", "json"]);
        assert_eq!(diff().names(), ["text", "json"]);
        assert_eq!(lookup().names(), ["text", "json", "tsv"]);
    }

    #[test]
    fn names_parse_to_the_one_format() {
        assert_eq!(parse(query(), "table"), Ok(Format::Text));
        assert_eq!(parse(report(), "text"), Ok(Format::Text));
        assert_eq!(parse(report(), "html"), Ok(Format::Html));
        assert_eq!(parse(lookup(), "tsv"), Ok(Format::Tsv));
        assert_eq!(parse(diff(), "json"), Ok(Format::Json));
    }

    #[test]
    fn a_format_a_command_does_not_write_is_refused_with_the_ones_it_does() {
        let e = parse(query(), "text").unwrap_err();
        assert!(
            e.starts_with("error: invalid value 'text' for '--format <format>'\n  [possible values: table, csv, json]"),
            "{e}"
        );
        let e = parse(report(), "tsv").unwrap_err();
        assert!(e.contains("[possible values: text, json, csv, html]"), "{e}");
        let e = parse(diff(), "jsn").unwrap_err();
        assert!(e.contains("tip: a similar value exists: 'json'"), "{e}");
    }
}
