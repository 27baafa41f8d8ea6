//! `whohosts prune --keep N | --older-than DURATION`: delete old snapshots.

use std::path::Path;

use super::print;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{self, lock::DbLock, prune::Rule, Store};

/// `prune` arguments.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("rule").required(true).args(["keep", "older_than"])))]
pub struct Args {
    /// Keep the newest N snapshots
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Delete snapshots started longer ago than this (e.g. 90d, 12weeks)
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
}

/// Run `prune`. Takes the database lock: it never runs beside a crawl.
///
/// # Errors
/// [`Error::ConfigValue`] for a bad duration; [`Error::Locked`]; database errors.
pub async fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    let rule = match (args.keep, &args.older_than) {
        (Some(n), _) => Rule::Keep(n),
        (None, Some(d)) => Rule::OlderThan(
            humantime::parse_duration(d)
                .map_err(|e| Error::ConfigValue(format!("--older-than {d:?}: {e} (try 90d or 12weeks)")))?,
        ),
        (None, None) => {
            return Err(Error::ConfigValue(
                "prune needs --keep N or --older-than DURATION".into(),
            ))
        }
    };
    let path = store::database_path(db, config);
    let _lock = DbLock::acquire(&path, "prune")?;
    let store = Store::open(&path)?;
    let writer = store.writer()?;
    let pruned = writer.prune(rule).await;
    writer.close().await;
    let p = pruned?;
    print(&format!(
        "Deleted {} snapshots, {} accounts and {} instances no longer referenced.\n",
        p.snapshots, p.accounts, p.instances
    ))?;
    Ok(0)
}
