//! `whohosts snapshots`: list the stored snapshots, one line each.

use std::fmt::Write as _;
use std::path::Path;

use super::print;
use crate::config::Config;
use crate::error::Result;
use crate::store::{self, SnapshotInfo, Store};

/// `snapshots` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// The table `snapshots` prints.
pub fn table(list: &[SnapshotInfo]) -> String {
    let mut out = String::from("id\tkind\tstatus\tstarted\tfinished\taccounts\tinstances\tseeds\n");
    for s in list {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.id,
            s.kind,
            s.status,
            s.started_at,
            if s.finished_at.is_empty() { "-" } else { &s.finished_at },
            s.accounts,
            s.instances,
            s.seeds.join(" ")
        );
    }
    out
}

/// Run `snapshots`.
///
/// # Errors
/// Database errors.
pub fn run(config: &Config, _args: Args, db: Option<&Path>) -> Result<i32> {
    let store = Store::open_read_only(&store::database_path(db, config))?;
    let text = table(&store.list()?);
    store.check_unchanged()?;
    print(&text)?;
    Ok(0)
}
