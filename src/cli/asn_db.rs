//! `whohosts asn-db update|info`: the offline IP-to-ASN database.

use clap::Subcommand;
use url::Url;

use super::print;
use crate::attribution::asn::{load, store};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::pipeline::Context;

/// `asn-db` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download the database (iptoasn combined, public domain) into the data directory
    Update {
        /// Where to download from
        #[arg(long, default_value = store::DEFAULT_URL)]
        url: String,
        /// Fewest ranges of each family (IPv4, IPv6) the download must hold to replace the
        /// current database
        #[arg(long, value_name = "N", default_value_t = store::DEFAULT_MIN_RANGES,
              value_parser = super::usage::whole::<usize>)]
        min_ranges: usize,
        /// The data's licence, recorded beside it [default: the default source's; other URLs:
        /// not stated]
        #[arg(long, value_name = "TEXT")]
        licence: Option<String>,
    },
    /// Show the database in use: source, date, ranges, licence
    Info,
}

/// Run `asn-db`.
///
/// # Errors
/// Download, parse or file errors, each naming its input.
pub async fn run(mut config: Config, cmd: Command) -> Result<i32> {
    match cmd {
        Command::Update {
            url,
            min_ranges,
            licence,
        } => {
            let url = Url::parse(&url).map_err(|e| Error::ConfigValue(format!("--url {url:?}: {e}")))?;
            let licence = licence.unwrap_or_else(|| {
                let default = url.as_str() == store::DEFAULT_URL;
                (if default {
                    store::DEFAULT_LICENCE
                } else {
                    load::LICENCE_NOT_STATED
                })
                .to_string()
            });
            let checks = store::Plausible::for_url(&url, min_ranges);
            config.network.max_body_bytes = config.network.max_body_bytes.max(store::MAX_DOWNLOAD_BYTES);
            config.network.request_timeout_secs = config.network.request_timeout_secs.max(300.0);
            let data_dir = config.data_dir();
            let ctx = Context::new(config)?;
            let s = store::update(&ctx.fetcher, &data_dir, &url, &checks, &licence).await?;
            print(&format!(
                "Updated {}: {} IPv4 and {} IPv6 ranges from {} (licence: {}).\n",
                store::dir(&data_dir).join(store::DB_FILE).display(),
                s.ranges_v4,
                s.ranges_v6,
                s.url,
                s.licence
            ))?;
            Ok(0)
        }
        Command::Info => info(&config),
    }
}

fn info(config: &Config) -> Result<i32> {
    let data_dir = config.data_dir();
    let Some(db) = crate::pipeline::load_database(config)? else {
        super::logging::error_line(&format!(
            "no IP-to-ASN database in {}; run `whohosts asn-db update`, or set attribution.asn_database",
            store::dir(&data_dir).display()
        ));
        return Ok(1);
    };
    let files = crate::pipeline::database_files(config).unwrap_or_default();
    let shown: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let source = store::source(&data_dir).filter(|s| s.sha256 == db.info.sha256);
    let mut out = format!(
        "file: {}\nformat: {}\nsha256: {}\n",
        shown.join(" + "),
        db.info.format,
        db.info.sha256
    );
    match &source {
        Some(s) => out.push_str(&format!("source: {}\ndownloaded: {}\n", s.url, s.downloaded_at)),
        None => out.push_str(&format!("date: {}\n", db.info.date)),
    }
    out.push_str(&format!(
        "ranges: {} IPv4, {} IPv6 (after merging overlaps)\nskipped lines: {}\nlicence: {}\n",
        db.info.ranges_v4, db.info.ranges_v6, db.info.skipped_lines, db.info.licence
    ));
    print(&out)?;
    Ok(0)
}
