//! `whohosts prune --keep N | --older-than DURATION`: delete old snapshots.

use std::path::Path;

use super::print;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{self, lock::DbLock, prune::Rule, Store};

/// A `--older-than` value (humantime's syntax), refused in words that follow the value.
fn duration(text: &str) -> Result<std::time::Duration, String> {
    use humantime::DurationError;
    humantime::parse_duration(text).map_err(|e| {
        match e {
            DurationError::Empty => "is empty: give a duration such as 90d or 12weeks",
            DurationError::NumberOverflow => "is too long: give a duration such as 90d or 12weeks",
            _ if text.starts_with('-') => "is negative: give a duration such as 90d or 12weeks",
            _ => "is not a duration such as 90d or 12weeks",
        }
        .to_string()
    })
}

/// `prune` arguments.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("rule").required(true).args(["keep", "older_than"])))]
pub struct Args {
    /// Keep the newest N complete snapshots (and any failed or interrupted run since the oldest of them)
    #[arg(long, value_name = "N", value_parser = super::usage::whole::<usize>)]
    pub keep: Option<usize>,
    /// Delete snapshots started longer ago than this (e.g. 90d, 12weeks)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = duration)]
    pub older_than: Option<std::time::Duration>,
    /// Go ahead even when this deletes every complete snapshot (`--keep 0`, say)
    #[arg(long)]
    pub yes: bool,
}

/// Whether `rule` would delete every complete snapshot of `list` (snapshots still running
/// are never pruned), as the store applies it.
fn deletes_every_complete(list: &[store::SnapshotInfo], rule: &Rule) -> bool {
    let complete = list.iter().filter(|s| s.status == "complete").count();
    let kept_complete = match rule {
        // `--keep N` keeps the N newest complete snapshots (failed runs are not counted).
        Rule::Keep(n) => (*n).min(complete),
        Rule::OlderThan(age) => {
            let now = std::time::SystemTime::now();
            let cutoff =
                crate::model::time::rfc3339(now.checked_sub(*age).unwrap_or(std::time::SystemTime::UNIX_EPOCH));
            list.iter()
                .filter(|s| s.status == "complete" && s.started_at >= cutoff)
                .count()
        }
    };
    complete > 0 && kept_complete == 0
}

/// Run `prune`. Takes the database lock: it never runs beside a crawl.
///
/// # Errors
/// [`Error::Locked`]; database errors (a bad duration is clap's usage error).
pub async fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    let rule = match (args.keep, &args.older_than) {
        (Some(n), _) => Rule::Keep(n),
        (None, Some(d)) => Rule::OlderThan(*d),
        (None, None) => {
            return Err(Error::ConfigValue(
                "prune needs --keep N or --older-than DURATION".into(),
            ))
        }
    };
    let path = store::database_path(db, config);
    // Nothing to prune in a database that is not there: a mistyped --db creates nothing.
    if !path.exists() {
        return Err(Error::NoDatabase { path });
    }
    let _lock = DbLock::acquire(&path, "prune")?;
    let store = Store::open(&path)?;
    if !args.yes && deletes_every_complete(&store.list()?, &rule) {
        return Err(Error::Input(format!(
            "prune would delete every complete snapshot in {}; add --yes if that is what you want",
            path.display()
        )));
    }
    let writer = store.writer()?;
    let pruned = writer.prune(rule).await;
    writer.close().await;
    let p = pruned?;
    let n = |n: u64, word: &str| crate::report::plural(n, word);
    print(&format!(
        "Deleted {}, {} and {} no longer referenced.\n",
        n(p.snapshots as u64, "snapshot"),
        n(p.accounts as u64, "account"),
        n(p.instances as u64, "instance")
    ))?;
    Ok(0)
}
