//! The text formats, read line by line: ip-location-db CSV (`start,end,asn,organisation`,
//! RFC 4180 quoting within a line) and iptoasn TSV (`start end asn country description`).

use std::borrow::Cow;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::Path;

use super::detect::gzip_error;
use super::Builder;
use crate::error::{Error, Result};

fn bad_line(path: &Path, line: u64, message: impl Into<String>) -> Error {
    Error::AsnLine {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn parse_bound(field: &str, v6_hint: bool) -> std::result::Result<(u128, bool), String> {
    if let Ok(ip) = field.parse::<IpAddr>() {
        return Ok(match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
            IpAddr::V6(v6) => (u128::from(v6), true),
        });
    }
    field
        .parse::<u128>()
        .map(|n| (n, v6_hint || n > u128::from(u32::MAX)))
        .map_err(|_| format!("{field:?} is neither an address nor an integer"))
}

/// Feed each non-blank line of `data` to `row` with whether it is the first one (which may be
/// a header). A bad line stops the load with its number, or under `lenient` is counted.
pub(super) fn read_lines(
    path: &Path,
    mut data: impl BufRead,
    lenient: bool,
    b: &mut Builder,
    row: impl Fn(&mut Builder, &str, bool) -> std::result::Result<(), String>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut n = 0u64;
    let mut first = true;
    loop {
        buf.clear();
        if data.read_until(b'\n', &mut buf).map_err(|e| gzip_error(path, e))? == 0 {
            return Ok(());
        }
        n += 1;
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        if let Err(msg) = row(b, line, std::mem::take(&mut first)) {
            if !lenient {
                return Err(bad_line(path, n, msg));
            }
            b.skipped += 1;
        }
    }
}

/// Split one CSV line into fields (RFC 4180 quoting). A field never spans lines in these
/// files, so a quote still open at the end of the line is an error, not a reason to read on.
pub fn csv_fields(line: &str) -> std::result::Result<Vec<Cow<'_, str>>, String> {
    let mut out = vec![];
    let mut rest = line;
    loop {
        let Some(mut s) = rest.strip_prefix('"') else {
            match rest.split_once(',') {
                Some((field, tail)) => {
                    out.push(Cow::Borrowed(field));
                    rest = tail;
                    continue;
                }
                None => {
                    out.push(Cow::Borrowed(rest));
                    return Ok(out);
                }
            }
        };
        let mut value = String::new();
        loop {
            let (part, tail) = s
                .split_once('"')
                .ok_or_else(|| format!("quote opened in field {} is not closed on this line", out.len() + 1))?;
            value.push_str(part);
            match tail.strip_prefix('"') {
                Some(after) => {
                    value.push('"');
                    s = after;
                }
                None => {
                    s = tail;
                    break;
                }
            }
        }
        out.push(Cow::Owned(value));
        match s.strip_prefix(',') {
            Some(tail) => rest = tail,
            None if s.is_empty() => return Ok(out),
            None => return Err(format!("text after the closing quote of field {}", out.len())),
        }
    }
}

/// Whether the first line of a file is a column header (`start,end,asn,org`,
/// `range_start\trange_end\tAS_number…`): its start and AS fields are words (letters and
/// `_`), not values. A damaged first row is still a bad line.
fn is_header(start: &str, asn: &str) -> bool {
    let word = |f: &str| {
        let f = f.trim();
        !f.is_empty() && f.chars().all(|c| c.is_ascii_alphabetic() || c == '_' || c == ' ')
    };
    word(start) && word(asn) && parse_bound(start.trim(), false).is_err()
}

pub(super) fn csv_row(b: &mut Builder, line: &str, first: bool, v6_hint: bool) -> std::result::Result<(), String> {
    let r = csv_fields(line)?;
    if r.len() < 3 {
        return Err(format!("expected start,end,asn,organisation; found {} fields", r.len()));
    }
    if first && is_header(&r[0], &r[2]) {
        return Ok(());
    }
    let (start, s6) = parse_bound(r[0].trim(), v6_hint)?;
    let (end, e6) = parse_bound(r[1].trim(), v6_hint)?;
    if s6 != e6 {
        return Err("start and end are of different address families".into());
    }
    let asn = parse_asn(&r[2])?;
    if asn == 0 {
        return Ok(());
    }
    let name = r.get(3).map(|n| n.trim()).unwrap_or("");
    let info = b.intern(asn, name, None)?;
    b.push_int(start, end, s6, info)
}

fn parse_asn(field: &str) -> std::result::Result<u32, String> {
    let f = field.trim();
    f.trim_start_matches("AS")
        .parse::<u32>()
        .map_err(|_| format!("AS number {f:?} is not a number"))
}

pub(super) fn tsv_row(b: &mut Builder, line: &str, first: bool) -> std::result::Result<(), String> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 5 {
        return Err(format!("expected 5 tab-separated fields, found {}", f.len()));
    }
    if first && is_header(f[0], f[2]) {
        return Ok(());
    }
    let start: IpAddr = f[0].parse().map_err(|_| format!("{:?} is not an address", f[0]))?;
    let end: IpAddr = f[1].parse().map_err(|_| format!("{:?} is not an address", f[1]))?;
    let asn = parse_asn(f[2])?;
    if asn == 0 {
        return Ok(());
    }
    let country = Some(f[3].trim()).filter(|c| !c.is_empty() && *c != "None");
    let info = b.intern(asn, f[4].trim(), country)?;
    b.push(start, end, info)
}
