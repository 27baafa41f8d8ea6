//! The downloaded database in the data directory: `asn-db update` and `asn-db info`.
//!
//! The download is written to a `.part` file, parsed in full, and only then renamed over the
//! current one, so a failed or partial download never replaces a working database. A small
//! `source.json` beside it records where and when it came from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use super::load;
use crate::error::{Error, Result};
use crate::http::{Fetcher, Request};

/// iptoasn's combined IPv4+IPv6 table (public domain).
pub const DEFAULT_URL: &str = "https://iptoasn.com/data/ip2asn-combined.tsv.gz";
/// File name of the current database inside `<data_dir>/asn/`.
pub const DB_FILE: &str = "ip2asn-combined.tsv.gz";
/// Largest download accepted (the real file is about 7 MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// Where a database came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub url: String,
    pub downloaded_at: String,
    pub sha256: String,
    pub ranges_v4: usize,
    pub ranges_v6: usize,
    pub licence: String,
}

/// `<data_dir>/asn`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("asn")
}

/// The current database file, if one was downloaded.
pub fn current(data_dir: &Path) -> Option<PathBuf> {
    let p = dir(data_dir).join(DB_FILE);
    p.is_file().then_some(p)
}

/// Download `url` into the data directory, verify it, then make it current.
///
/// # Errors
/// Fetch errors; [`Error::AsnDb`] when the download does not parse (the previous database is
/// kept); [`Error::Io`] when the data directory cannot be written.
pub async fn update(f: &Fetcher, data_dir: &Path, url: &Url) -> Result<Source> {
    let page = f.get_ok(url, Request::accept("*/*")).await?;
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let part = dir.join(format!("{DB_FILE}.part"));
    std::fs::write(&part, &page.body).map_err(|e| Error::io(&part, e))?;
    let db = match load::load(&part, false) {
        Ok(db) => db,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(Error::AsnDb {
                path: part,
                message: format!("download from {url} is not a usable database, previous one kept: {e}"),
            });
        }
    };
    let source = Source {
        url: url.to_string(),
        downloaded_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        sha256: db.info.sha256.clone(),
        ranges_v4: db.info.ranges_v4,
        ranges_v6: db.info.ranges_v6,
        licence: db.info.licence.clone(),
    };
    let final_path = dir.join(DB_FILE);
    std::fs::rename(&part, &final_path).map_err(|e| Error::io(&final_path, e))?;
    let meta = dir.join("source.json");
    let json = serde_json::to_vec_pretty(&source).expect("Source serialises");
    std::fs::write(&meta, json).map_err(|e| Error::io(&meta, e))?;
    Ok(source)
}

/// The recorded source of the current database, if any.
pub fn source(data_dir: &Path) -> Option<Source> {
    let text = std::fs::read(dir(data_dir).join("source.json")).ok()?;
    serde_json::from_slice(&text).ok()
}
