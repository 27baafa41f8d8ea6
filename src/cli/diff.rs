//! `whohosts diff A B`: what changed between two stored snapshots, as text or JSON.

use std::path::Path;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::print;
use crate::config::Config;
use crate::error::Result;
use crate::metrics::{Level, Weight};
use crate::report::diff::{self, Diff};
use crate::report::model::DEFAULT_LEVELS;
use crate::store::{self, Store};

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `diff` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The earlier snapshot (see `whohosts snapshots`)
    #[arg(value_name = "A")]
    pub from: i64,
    /// The later snapshot
    #[arg(value_name = "B")]
    pub to: i64,
    /// Level whose metrics are compared; repeat for several [default: instance, organisation, as]
    #[arg(long = "by", value_name = "LEVEL",
          value_parser = PossibleValuesParser::new(Level::ALL.iter().map(|l| l.as_str())).try_map(|s| s.parse::<Level>()))]
    pub by: Vec<Level>,
    /// What each bucket weighs in the metrics compared
    #[arg(long, value_name = "W", default_value = "accounts",
          value_parser = PossibleValuesParser::new(Weight::ALL.iter().map(|w| w.as_str())).try_map(|s| s.parse::<Weight>()))]
    pub weight: Weight,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Run `diff`.
///
/// # Errors
/// [`crate::error::Error::Store`] when a snapshot does not exist; database errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    let store = Store::open(&store::database_path(db, config))?;
    let levels = if args.by.is_empty() {
        DEFAULT_LEVELS.to_vec()
    } else {
        args.by
    };
    let d = Diff::between(&store, args.from, args.to, &levels, args.weight)?;
    print(&match args.format {
        Format::Text => diff::render_text(&d),
        Format::Json => serde_json::to_string_pretty(&d).expect("diffs serialise: string keys") + "\n",
    })?;
    Ok(0)
}
