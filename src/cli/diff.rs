//! `whohosts diff A B`: what changed between two stored snapshots, as text or JSON.

use std::path::Path;

use super::print;
use crate::config::Config;
use crate::error::Result;
use crate::model::format::Format;
use crate::report::diff::{self, Diff};
use crate::store::{self, Store};

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
    #[arg(long, value_parser = super::formats::diff(), default_value = "text")]
    pub format: Format,
}

/// Run `diff`.
///
/// # Errors
/// [`crate::error::Error::Store`] when a snapshot does not exist; database errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    let store = Store::open_read_only(&store::database_path(db, config))?;
    let d = Diff::between(&store, args.from, args.to, &args.scope.levels(), args.scope.weight)?;
    print(&diff::render(&d, args.format)?)?;
    Ok(0)
}
