//! Reading IP-to-ASN databases in the formats people have.
//!
//! Detected from the content, gzip or not:
//! - ip-location-db CSV, `start,end,asn,organisation`, with addresses (`1.0.0.0`) or their
//!   integer values (the `-num` variants), IPv4 and IPv6;
//! - iptoasn TSV, `start end asn country description` (`ip2asn-combined.tsv.gz`), where AS 0
//!   marks unrouted space;
//! - MaxMind / DB-IP ASN `.mmdb`.
//!
//! A bad line stops the load with the file and line, or under `lenient` is skipped and counted.
//!
//! `detect` tells the format and hands the content to its reader: `text` for the CSV and
//! TSV files, line by line, `mmdb` for MaxMind / DB-IP trees. Every reader adds its rows to
//! one `Builder`, from which the [`AsnDb`] is built.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{cache, store, AsInfo, AsnDb, Row};
use crate::error::{Error, Result};
use crate::model::attribution::DbInfo;

mod detect;
mod mmdb;
mod text;

use detect::read_content;
pub use text::csv_fields;

/// What is said of a database whose licence nobody stated: neither a sidecar written by
/// `asn-db update` nor `attribution.asn_licence` in the config. File names are not evidence.
pub const LICENCE_NOT_STATED: &str = "not stated";

/// Longest organisation name accepted, in bytes. The longest in the real ip-location-db data
/// (412k IPv4 + 103k IPv6 rows) is 169 bytes, a name repeated twice; three times that is
/// room for any real name, while a field that swallowed lines through a stray quote is not.
pub const MAX_NAME_BYTES: usize = 512;

#[derive(Default)]
struct Builder {
    v4: Vec<Row>,
    v6: Vec<Row>,
    names: Vec<AsInfo>,
    index: HashMap<(u32, String, Option<String>), u32>,
    skipped: u64,
    /// Bytes of the names' text (each name and its country), as the compiled index holds it.
    text: usize,
}

impl Builder {
    /// The index of this AS and name, added when new; a name longer than [`MAX_NAME_BYTES`] is
    /// refused, control characters in a name (or country) are shown as `\u{1b}`
    /// ([`crate::model::text::cleaned`]): a registry's name cannot drive a terminal.
    fn intern(&mut self, asn: u32, name: &str, country: Option<&str>) -> std::result::Result<u32, String> {
        if name.len() > MAX_NAME_BYTES {
            return Err(format!(
                "organisation name of {} bytes is longer than any real one (at most {MAX_NAME_BYTES})",
                name.len()
            ));
        }
        let visible = |s: &str| crate::model::text::cleaned(s, MAX_NAME_BYTES);
        let key = (asn, visible(name), country.map(visible));
        if let Some(&i) = self.index.get(&key) {
            return Ok(i);
        }
        let i = self.names.len() as u32;
        self.text += key.1.len() + key.2.as_ref().map_or(0, String::len);
        self.names.push(AsInfo {
            asn,
            name: key.1.clone(),
            country: key.2.clone(),
        });
        self.index.insert(key, i);
        Ok(i)
    }

    /// Refuse more name text than `limit` bytes ([`cache::MAX_TEXT`], what a compiled index
    /// can address), naming `path`, the file whose names went past it.
    fn check_text(&self, path: &Path, limit: usize) -> Result<()> {
        if self.text <= limit {
            return Ok(());
        }
        Err(Error::AsnDb {
            path: path.to_path_buf(),
            message: format!(
                "its AS names bring their text to {} bytes, more than an index holds ({limit} bytes)",
                self.text
            ),
        })
    }

    fn push(&mut self, start: IpAddr, end: IpAddr, info: u32) -> std::result::Result<(), String> {
        match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => {
                self.push_int(u128::from(u32::from(s)), u128::from(u32::from(e)), false, info)
            }
            (IpAddr::V6(s), IpAddr::V6(e)) => self.push_int(u128::from(s), u128::from(e), true, info),
            _ => Err("start and end are of different address families".into()),
        }
    }

    fn push_int(&mut self, start: u128, end: u128, v6: bool, info: u32) -> std::result::Result<(), String> {
        if start > end {
            return Err("range start is after its end".into());
        }
        let row = Row { start, end, info };
        if v6 {
            self.v6.push(row);
        } else if end > u128::from(u32::MAX) {
            return Err("IPv4 value out of range".into());
        } else {
            self.v4.push(row);
        }
        Ok(())
    }
}

/// Read `path` (format detected) into a database.
///
/// # Errors
/// [`Error::Io`] when unreadable, [`Error::AsnLine`] for a bad line (unless `lenient`),
/// [`Error::AsnDb`] for an unknown format or an empty result.
pub fn load(path: &Path, lenient: bool) -> Result<AsnDb> {
    load_all(&[path.to_path_buf()], lenient)
}

/// Read several files (say ip-location-db's separate IPv4 and IPv6 files) into one database.
///
/// # Errors
/// As [`load`], for the first file that fails.
pub fn load_all(paths: &[std::path::PathBuf], lenient: bool) -> Result<AsnDb> {
    load_all_within(paths, lenient, cache::MAX_TEXT)
}

/// [`load_all`], refusing more than `text_limit` bytes of name text ([`Builder::check_text`]).
fn load_all_within(paths: &[std::path::PathBuf], lenient: bool, text_limit: usize) -> Result<AsnDb> {
    let mut b = Builder::default();
    let mut infos = vec![];
    for path in paths {
        let before = (b.v4.len(), b.v6.len());
        infos.push(read_one(path, lenient, &mut b)?);
        b.check_text(path, text_limit)?;
        if (b.v4.len(), b.v6.len()) == before {
            return Err(Error::AsnDb {
                path: path.clone(),
                message: "no usable ranges".into(),
            });
        }
    }
    let join = |f: fn(&DbInfo) -> &str| {
        let mut v: Vec<&str> = infos.iter().map(f).collect();
        v.dedup();
        v.join(" + ")
    };
    let info = DbInfo {
        file: join(|i| &i.file),
        format: join(|i| &i.format),
        sha256: join(|i| &i.sha256),
        date: join(|i| &i.date),
        ranges_v4: 0,
        ranges_v6: 0,
        skipped_lines: b.skipped,
        skipped_by_file: infos.iter().flat_map(|i| i.skipped_by_file.clone()).collect(),
        licence: join(|i| &i.licence),
    };
    let Builder {
        v4, v6, names, index, ..
    } = b;
    drop(index);
    Ok(AsnDb::from_rows(&v4, &v6, names, info))
}

/// The label of an ASN database date that is the file's, not the data's own version.
pub const FILE_DATE: &str = "file date";

/// Read database content that did not come from a file (fuzzing, tests): `name` stands for the
/// file name in messages and format hints (`v6` in it marks integer bounds as IPv6).
///
/// # Errors
/// As [`load`].
pub fn load_bytes(name: &str, raw: Vec<u8>, lenient: bool) -> Result<AsnDb> {
    let mut b = Builder::default();
    let path = Path::new(name);
    let (format, _) = read_content(path, name, raw, lenient, &mut b)?;
    b.check_text(path, cache::MAX_TEXT)?;
    let info = DbInfo {
        file: name.into(),
        format: format.into(),
        skipped_lines: b.skipped,
        licence: LICENCE_NOT_STATED.into(),
        ..DbInfo::default()
    };
    Ok(AsnDb::from_rows(&b.v4, &b.v6, b.names, info))
}

/// Add one file's rows to `b`; its description (ranges not yet counted).
fn read_one(path: &Path, lenient: bool, b: &mut Builder) -> Result<DbInfo> {
    let raw = std::fs::read(path).map_err(|e| Error::file("ASN database", path, e))?;
    let sha256: String = Sha256::digest(&raw).iter().map(|b| format!("{b:02x}")).collect();
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let skipped_before = b.skipped;
    let (format, own_date) = read_content(path, &file, raw, lenient, b)?;
    let stated = store::sidecar(path, &sha256);
    // The data's own version when it states one; else when the file was downloaded (or last
    // changed), labelled so that no one takes the copy's time for the data's.
    let date = own_date.unwrap_or_else(|| {
        let when = stated.as_ref().map(|s| s.downloaded_at.clone()).unwrap_or_else(|| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map(crate::model::time::rfc3339)
                .unwrap_or_default()
        });
        format!("{when} ({FILE_DATE})")
    });
    let skipped = b.skipped - skipped_before;
    Ok(DbInfo {
        skipped_by_file: (skipped > 0).then(|| (file.clone(), skipped)).into_iter().collect(),
        file,
        format: format.into(),
        sha256,
        date,
        licence: stated.map(|s| s.licence).unwrap_or_else(|| LICENCE_NOT_STATED.into()),
        ..DbInfo::default()
    })
}

#[cfg(test)]
mod tests;
