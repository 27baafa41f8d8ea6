//! The downloaded database in the data directory: `asn-db update` and `asn-db info`.
//!
//! The download is written to a temporary sibling ([`crate::files::AtomicFile`]), parsed in
//! full, and only then renamed over the current one, so a failed, partial or implausible download (too few ranges, a family missing,
//! well-known addresses wrong) never replaces a working database. A sidecar
//! `<file>.source.json` beside it records where and when it came from and its licence; the
//! loader reads the licence from it while the file's checksum still matches.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use super::load;
use crate::error::{Error, Result};
use crate::files;
use crate::net::http::{Fetcher, Request};

/// iptoasn's combined IPv4+IPv6 table (public domain).
pub const DEFAULT_URL: &str = "https://iptoasn.com/data/ip2asn-combined.tsv.gz";
/// File name of the current database inside `<data_dir>/asn/`.
pub const DB_FILE: &str = "ip2asn-combined.tsv.gz";
/// Largest download accepted (the real file is about 7 MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;
/// Licence of the default source.
pub const DEFAULT_LICENCE: &str = "public domain (iptoasn.com; RouteViews, RIRs)";
/// Fewest ranges of each family a new download must hold by default (the real tables hold
/// 100k+ IPv6 and 400k+ IPv4 ranges after merging).
pub const DEFAULT_MIN_RANGES: usize = 10_000;
/// Addresses the default source must place in the right AS: Cloudflare's and Google's resolvers.
pub const WELL_KNOWN: [(&str, u32); 2] = [("1.1.1.1", 13335), ("8.8.8.8", 15169)];

/// What a new download must satisfy before it replaces the current database.
#[derive(Debug, Clone, PartialEq)]
pub struct Plausible {
    /// Fewest ranges of each family.
    pub min_ranges: usize,
    /// Addresses that must map to these AS numbers.
    pub known: Vec<(std::net::IpAddr, u32)>,
}

impl Plausible {
    /// The checks for `url`: the well-known addresses only for the default source.
    pub fn for_url(url: &Url, min_ranges: usize) -> Self {
        let known = if url.as_str() == DEFAULT_URL {
            WELL_KNOWN
                .iter()
                .map(|(ip, asn)| (ip.parse().expect("WELL_KNOWN holds valid addresses"), *asn))
                .collect()
        } else {
            vec![]
        };
        Plausible { min_ranges, known }
    }

    /// Why `db` is not a plausible IP-to-ASN table, if it is not.
    pub fn check(&self, db: &super::AsnDb) -> std::result::Result<(), String> {
        let (v4, v6) = (db.info.ranges_v4, db.info.ranges_v6);
        let min = self.min_ranges.max(1);
        if v4 < min || v6 < min {
            return Err(format!(
                "it has {v4} IPv4 and {v6} IPv6 ranges, and a table needs at least {min} of each (--min-ranges)"
            ));
        }
        for (ip, want) in &self.known {
            let got = db.lookup(*ip).map(|h| h.asn);
            if got != Some(*want) {
                let got = got.map_or("no AS".to_string(), |a| format!("AS{a}"));
                return Err(format!("it places {ip} in {got}, not AS{want}"));
            }
        }
        Ok(())
    }
}

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

/// Download `url` into the data directory, verify it against `checks`, then make it current,
/// with a sidecar stating `licence`.
///
/// # Errors
/// Fetch errors; [`Error::AsnUpdate`] when the download does not parse or is not plausible
/// (the previous database, if any, is kept); [`Error::Io`] when the data directory cannot be written.
pub async fn update(f: &Fetcher, data_dir: &Path, url: &Url, checks: &Plausible, licence: &str) -> Result<Source> {
    let page = f.get_ok(url, Request::accept("*/*")).await?;
    let dir = dir(data_dir);
    files::private_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    let final_path = dir.join(DB_FILE);
    let mut part = files::AtomicFile::create(&final_path, files::PUBLIC).map_err(|e| Error::io(&dir, e))?;
    part.write_all(&page.body)
        .and_then(|()| part.flush())
        .map_err(|e| Error::io(part.path(), e))?;
    // Parsed from the temporary file before it replaces anything (dropped, it is removed).
    let db = match load::load(part.path(), false).and_then(|db| {
        checks.check(&db).map_err(|m| Error::AsnDb {
            path: part.path().to_path_buf(),
            message: m,
        })?;
        Ok(db)
    }) {
        Ok(db) => db,
        Err(e) => {
            return Err(Error::AsnUpdate {
                url: url.to_string(),
                reason: match e {
                    Error::AsnDb { message, .. } => message,
                    Error::AsnLine { line, message, .. } => format!("line {line}: {message}"),
                    other => other.to_string(),
                },
                kept: current(data_dir).is_some(),
            });
        }
    };
    let source = Source {
        url: url.to_string(),
        downloaded_at: crate::model::time::now(),
        sha256: db.info.sha256.clone(),
        ranges_v4: db.info.ranges_v4,
        ranges_v6: db.info.ranges_v6,
        licence: licence.to_string(),
    };
    let meta = sidecar_path(&final_path);
    // The old sidecar goes first: never a new file described by the old one's licence.
    let _ = std::fs::remove_file(&meta);
    part.commit().map_err(|e| Error::io(&final_path, e))?;
    let json = serde_json::to_vec_pretty(&source).expect("Source serialises");
    files::write(&meta, &json, files::PUBLIC).map_err(|e| Error::io(&meta, e))?;
    Ok(source)
}

/// `<db>.source.json`, the sidecar describing the database file `db`.
pub fn sidecar_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".source.json");
    PathBuf::from(name)
}

/// The sidecar of the database file `db`, if there is one and it describes this content.
pub fn sidecar(db: &Path, sha256: &str) -> Option<Source> {
    let text = std::fs::read(sidecar_path(db)).ok()?;
    serde_json::from_slice::<Source>(&text)
        .ok()
        .filter(|s| s.sha256 == sha256)
}

/// The recorded source of the downloaded database, if any.
pub fn source(data_dir: &Path) -> Option<Source> {
    let db = dir(data_dir).join(DB_FILE);
    let text = std::fs::read(sidecar_path(&db)).ok()?;
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(body: &str) -> super::super::AsnDb {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, body).unwrap();
        load::load(&p, false).unwrap()
    }

    #[test]
    fn a_download_must_look_like_a_real_table() {
        let both = "1.1.1.0,1.1.1.255,13335,Cloudflare\n8.8.8.0,8.8.8.255,15169,Google\n2606:4700::,2606:4700::ffff,13335,Cloudflare\n";
        let default = Url::parse(DEFAULT_URL).unwrap();
        let other = Url::parse("http://127.0.0.1:1/x.tsv").unwrap();
        assert_eq!(Plausible::for_url(&other, 1).check(&db(both)), Ok(()));
        assert_eq!(Plausible::for_url(&default, 1).check(&db(both)), Ok(()));
        assert_eq!(
            Plausible::for_url(&other, 2).check(&db(both)),
            Err("it has 2 IPv4 and 1 IPv6 ranges, and a table needs at least 2 of each (--min-ranges)".into())
        );
        let v4_only = "1.1.1.0,1.1.1.255,13335,Cloudflare\n";
        assert_eq!(
            Plausible::for_url(&other, 0).check(&db(v4_only)),
            Err("it has 1 IPv4 and 0 IPv6 ranges, and a table needs at least 1 of each (--min-ranges)".into())
        );
        let wrong = "1.1.1.0,1.1.1.255,13335,Cloudflare\n8.8.8.0,8.8.8.255,64500,Fake\n::1,::1,1,X\n";
        assert_eq!(
            Plausible::for_url(&other, 1).check(&db(wrong)),
            Ok(()),
            "only the default source"
        );
        assert_eq!(
            Plausible::for_url(&default, 1).check(&db(wrong)),
            Err("it places 8.8.8.8 in AS64500, not AS15169".into())
        );
    }
}
