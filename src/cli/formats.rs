//! The command line's names for the library's output formats (`--format`): the library's
//! enums know nothing of clap.

use clap::builder::PossibleValue;
use clap::ValueEnum;

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

value_enum!(crate::report::Format { Text => "text", Json => "json", Csv => "csv", Html => "html" });
value_enum!(crate::query::Format { Table => "table", Csv => "csv", Json => "json" });
value_enum!(crate::export::Format { Csv => "csv", Parquet => "parquet" });
