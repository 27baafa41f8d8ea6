//! `whohosts report [SNAPSHOT]`: print a stored snapshot's report. `crawl` and `demo` print
//! through [`print_stored`] too, so the report of a snapshot is the same whenever it is asked.

use std::path::Path;

use super::{print, ReportFormat};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::Snapshot;
use crate::store::{self, Store};

/// `report` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Snapshot id (see `whohosts snapshots`) [default: the latest complete one]
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: Option<i64>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Rows shown per grouping in the text report
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

/// The report of `snap` in `format`.
pub fn render(snap: &Snapshot, format: ReportFormat, top: usize) -> String {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(snap).expect("snapshots serialise") + "\n",
        ReportFormat::Text => snap.render(top),
    }
}

/// Load snapshot `id` from `store` and print its report; returns what was printed from.
///
/// # Errors
/// Store errors; [`Error::Io`] for stdout.
pub fn print_stored(store: &Store, id: i64, format: ReportFormat, top: usize) -> Result<Snapshot> {
    let snap = store.load(id)?;
    print(&render(&snap, format, top))?;
    Ok(snap)
}

/// Run `report`.
///
/// # Errors
/// [`Error::Store`] when there is no such (or no complete) snapshot; database errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    let path = store::database_path(db, config);
    let store = Store::open(&path)?;
    let id = match args.snapshot {
        Some(id) => id,
        None => store
            .latest_complete()?
            .ok_or_else(|| Error::Store(format!("no complete snapshot in {} yet", path.display())))?,
    };
    print_stored(&store, id, args.format, args.top)?;
    Ok(0)
}
