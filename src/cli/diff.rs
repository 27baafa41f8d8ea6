//! `whohosts diff A B`: what changed between two stored snapshots, as text or JSON.

use std::path::Path;

use super::print;
use crate::config::Config;
use crate::error::Result;
use crate::report::diff::{self, Diff};
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
    #[command(flatten)]
    pub scope: super::report::Scope,
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
    let d = Diff::between(&store, args.from, args.to, &args.scope.levels(), args.scope.weight)?;
    print(&match args.format {
        Format::Text => diff::render_text(&d),
        Format::Json => serde_json::to_string_pretty(&d).expect("diffs serialise: string keys") + "\n",
    })?;
    Ok(0)
}
