//! Telling a database's format from its content (gzip or not) and handing it to its reader.

use std::io::{BufRead, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::mmdb::{is_mmdb, read_mmdb};
use super::text::{csv_row, read_lines, tsv_row};
use super::Builder;
use crate::error::{Error, Result};

fn is_gzip(raw: &[u8]) -> bool {
    raw.starts_with(&[0x1f, 0x8b])
}

pub(super) fn gzip_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::AsnDb {
        path: path.to_path_buf(),
        message: format!("gzip: {e}"),
    }
}

/// The content as a stream, decompressed on the fly when gzip: the text is never held whole.
fn stream(raw: &[u8]) -> Box<dyn BufRead + '_> {
    if is_gzip(raw) {
        Box::new(std::io::BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw)))
    } else {
        Box::new(raw)
    }
}

/// The first 64 KiB of the content, to tell the format.
fn head(path: &Path, raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    stream(raw)
        .take(1 << 16)
        .read_to_end(&mut out)
        .map_err(|e| gzip_error(path, e))?;
    Ok(out)
}

/// Add the rows of `raw` (format detected) to `b`: the format, and the build date when the
/// content holds one (.mmdb).
pub(super) fn read_content(
    path: &Path,
    file: &str,
    raw: Vec<u8>,
    lenient: bool,
    b: &mut Builder,
) -> Result<(&'static str, Option<String>)> {
    let head = head(path, &raw)?;
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::AsnDb {
            path: path.to_path_buf(),
            message: "the file is empty".into(),
        });
    }
    if head.contains(&0) || is_mmdb(&raw) {
        let data = if is_gzip(&raw) {
            let mut out = Vec::new();
            stream(&raw).read_to_end(&mut out).map_err(|e| gzip_error(path, e))?;
            out
        } else {
            raw
        };
        return Ok(("mmdb", read_mmdb(path, data, b)?));
    }
    let text = String::from_utf8_lossy(&head);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.contains('\t') {
        read_lines(path, stream(&raw), lenient, b, tsv_row)?;
        Ok(("iptoasn-tsv", None))
    } else if first.contains(',') {
        let v6_hint = file.contains("v6");
        read_lines(path, stream(&raw), lenient, b, |b, line, first| {
            csv_row(b, line, first, v6_hint)
        })?;
        Ok(("ip-location-db-csv", None))
    } else {
        Err(Error::AsnDb {
            path: path.to_path_buf(),
            message: "not a known format (expected ip-location-db CSV, iptoasn TSV or .mmdb)".into(),
        })
    }
}
