//! `whohosts export`: stored snapshots as a research export (see [`crate::export`]).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Result;
use crate::export::{self, pseudonym::Pseudonymiser, Format, Options};
use crate::store::{self, Store};

/// `export` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Snapshot ids to export [default: every complete snapshot]
    #[arg(value_name = "SNAPSHOT", value_parser = super::usage::whole::<i64>)]
    pub snapshots: Vec<i64>,
    /// Output directory, or a file ending in .tar.gz (no other archive kind)
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// File format of the tables
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Only snapshots started on or after this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = |t: &str| export::parse_since(t).map_err(|_| "is not a date (YYYY-MM-DD)".to_string()))]
    pub since: Option<String>,
    /// Gzip the CSV files (.csv.gz; refused with --format parquet)
    #[arg(long)]
    pub gzip: bool,
    /// Replace an existing output directory or .tar.gz
    #[arg(long)]
    pub force: bool,
    /// Export handles, actor URIs and display names instead of pseudonyms (identifies people)
    #[arg(long)]
    pub include_handles: bool,
    /// Derive the pseudonym key for this recipient: two recipients' exports cannot be joined
    #[arg(long, value_name = "NAME")]
    pub recipient: Option<String>,
    /// Exact follower/following counts, day of last post and bot flag per account instead of
    /// bands, ISO weeks and bots counted per instance
    #[arg(long)]
    pub precise: bool,
}

/// Run `export`; prints one line saying what was written.
///
/// # Errors
/// [`crate::Error::Flag`] for `--gzip` with Parquet; [`crate::Error::Export`] for bad input;
/// database and I/O errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    if args.gzip && args.format == Format::Parquet {
        return Err(crate::Error::Flag {
            flag: "--format",
            value: "parquet".into(),
            message: "--gzip applies to CSV files only: drop --gzip, or use --format csv".into(),
        });
    }
    let since = args.since.clone();
    let path = store::database_path(db, config);
    if !path.exists() {
        return Err(crate::Error::Export(format!(
            "no database at {}: crawl something first",
            path.display()
        )));
    }
    let store = Store::open_read_only(&path)?;
    let keys = Pseudonymiser::of_database(&path, args.recipient.as_deref())?;
    let options = Options {
        snapshots: args.snapshots,
        since,
        format: args.format,
        gzip: args.gzip,
        force: args.force,
        include_handles: args.include_handles,
        precise: args.precise,
        min_instance_users: config.export.min_instance_users,
        min_group_members: config.export.min_group_members,
        out: args.out,
    };
    let m = export::export(&store, &keys, &options)?;
    if !quiet {
        let ids: Vec<String> = m.snapshots.iter().map(|i| i.to_string()).collect();
        let who = if m.include_handles {
            "handles included".to_string()
        } else {
            format!("pseudonymised ({}-bit HMAC-SHA256)", export::pseudonym::PSEUDONYM_BITS)
        };
        super::print(&format!(
            "Exported snapshot{} {} to {} ({}, {who}).\n",
            if ids.len() == 1 { "" } else { "s" },
            ids.join(", "),
            options.out.display(),
            match (m.format, m.gzip) {
                (Format::Csv, false) => "CSV",
                (Format::Csv, true) => "gzipped CSV",
                (Format::Parquet, _) => "Parquet",
            }
        ))?;
    }
    Ok(0)
}
