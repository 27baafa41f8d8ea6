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

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::net::IpAddr;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::{store, AsInfo, AsnDb, Row};
use crate::error::{Error, Result};
use crate::model::attribution::DbInfo;

/// What is said of a database whose licence nobody stated: neither a sidecar written by
/// `asn-db update` nor `attribution.asn_licence` in the config. File names are not evidence.
pub const LICENCE_NOT_STATED: &str = "not stated";

/// Longest organisation name accepted, in bytes. The longest in the real ip-location-db data
/// (412k IPv4 + 103k IPv6 rows) is 169 bytes, a name repeated twice; three times that is
/// room for any real name, while a field that swallowed lines through a stray quote is not.
pub const MAX_NAME_BYTES: usize = 512;

const MMDB_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

#[derive(Default)]
struct Builder {
    v4: Vec<Row>,
    v6: Vec<Row>,
    names: Vec<AsInfo>,
    index: HashMap<(u32, String, Option<String>), u32>,
    skipped: u64,
}

impl Builder {
    /// The index of this AS and name, added when new; a name longer than [`MAX_NAME_BYTES`] is
    /// refused.
    fn intern(&mut self, asn: u32, name: &str, country: Option<&str>) -> std::result::Result<u32, String> {
        if name.len() > MAX_NAME_BYTES {
            return Err(format!(
                "organisation name of {} bytes is longer than any real one (at most {MAX_NAME_BYTES})",
                name.len()
            ));
        }
        let key = (asn, name.to_string(), country.map(str::to_string));
        if let Some(&i) = self.index.get(&key) {
            return Ok(i);
        }
        let i = self.names.len() as u32;
        self.names.push(AsInfo {
            asn,
            name: key.1.clone(),
            country: key.2.clone(),
        });
        self.index.insert(key, i);
        Ok(i)
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
    let mut b = Builder::default();
    let mut infos = vec![];
    for path in paths {
        let before = (b.v4.len(), b.v6.len());
        infos.push(read_one(path, lenient, &mut b)?);
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

fn is_gzip(raw: &[u8]) -> bool {
    raw.starts_with(&[0x1f, 0x8b])
}

fn gzip_error(path: &Path, e: impl std::fmt::Display) -> Error {
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

/// Read database content that did not come from a file (fuzzing, tests): `name` stands for the
/// file name in messages and format hints (`v6` in it marks integer bounds as IPv6).
///
/// # Errors
/// As [`load`].
pub fn load_bytes(name: &str, raw: Vec<u8>, lenient: bool) -> Result<AsnDb> {
    let mut b = Builder::default();
    let path = Path::new(name);
    let (format, _) = read_content(path, name, raw, lenient, &mut b)?;
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
    let (format, date) = read_content(path, &file, raw, lenient, b)?;
    let date = date.unwrap_or_else(|| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(crate::model::time::rfc3339)
            .unwrap_or_default()
    });
    let stated = store::sidecar(path, &sha256);
    let skipped = b.skipped - skipped_before;
    Ok(DbInfo {
        skipped_by_file: (skipped > 0).then(|| (file.clone(), skipped)).into_iter().collect(),
        file,
        format: format.into(),
        sha256,
        date: stated.as_ref().map(|s| s.downloaded_at.clone()).unwrap_or(date),
        licence: stated.map(|s| s.licence).unwrap_or_else(|| LICENCE_NOT_STATED.into()),
        ..DbInfo::default()
    })
}

/// Add the rows of `raw` (format detected) to `b`: the format, and the build date when the
/// content holds one (.mmdb).
fn read_content(
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
        return Ok(("mmdb", Some(read_mmdb(path, data, b)?)));
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

fn is_mmdb(data: &[u8]) -> bool {
    let tail = &data[data.len().saturating_sub(128 * 1024)..];
    tail.windows(MMDB_MARKER.len()).any(|w| w == MMDB_MARKER)
}

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
fn read_lines(
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

fn csv_row(b: &mut Builder, line: &str, first: bool, v6_hint: bool) -> std::result::Result<(), String> {
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

fn tsv_row(b: &mut Builder, line: &str, first: bool) -> std::result::Result<(), String> {
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

#[derive(serde::Deserialize)]
struct MmdbAsn<'a> {
    #[serde(default, deserialize_with = "any_unsigned")]
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

/// AS numbers stored as any unsigned width (writers pick the smallest that fits).
fn any_unsigned<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u32>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an unsigned AS number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("AS number {v} out of range")))
        }
        fn visit_u128<E: serde::de::Error>(self, v: u128) -> std::result::Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("AS number {v} out of range")))
        }
    }
    d.deserialize_any(V)
}

fn read_mmdb(path: &Path, data: Vec<u8>, b: &mut Builder) -> Result<String> {
    let err = |e: maxminddb::MaxMindDbError| Error::AsnDb {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let reader = maxminddb::Reader::from_source(data).map_err(err)?;
    // A build date past what a clock holds (the file says so) is no date, not a panic.
    let date = crate::model::time::from_unix(reader.metadata().build_epoch)
        .map(crate::model::time::rfc3339)
        .unwrap_or_default();
    for item in reader.networks(Default::default()).map_err(err)? {
        let item = item.map_err(err)?;
        let net = item.network().map_err(err)?;
        let Some(rec) = item.decode::<MmdbAsn>().map_err(err)? else {
            continue;
        };
        let Some(asn) = rec.autonomous_system_number.filter(|a| *a != 0) else {
            continue;
        };
        let info = b
            .intern(asn, rec.autonomous_system_organization.unwrap_or(""), None)
            .map_err(|m| Error::AsnDb {
                path: path.to_path_buf(),
                message: m,
            })?;
        let (start, end) = match net {
            ipnetwork::IpNetwork::V4(n) => (IpAddr::V4(n.network()), IpAddr::V4(n.broadcast())),
            // IPv4 data in an IPv6 tree lives at ::/96 (IPv4-compatible addresses).
            ipnetwork::IpNetwork::V6(n) if n.prefix() >= 96 && u128::from(n.network()) >> 32 == 0 => (
                IpAddr::V4((u128::from(n.network()) as u32).into()),
                IpAddr::V4((u128::from(n.broadcast()) as u32).into()),
            ),
            ipnetwork::IpNetwork::V6(n) => (IpAddr::V6(n.network()), IpAddr::V6(n.broadcast())),
        };
        b.push(start, end, info).map_err(|m| Error::AsnDb {
            path: path.to_path_buf(),
            message: m,
        })?;
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(name: &str, body: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().write_all(body).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_quoted_names_and_numeric_rows() {
        let (_d, p) = write(
            "asn.csv",
            b"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n5.8.0.0,5.8.7.255,41009,\"LLC \"\"SPUTNIK\"\"\"\n",
        );
        let db = load(&p, false).unwrap();
        assert_eq!(db.lookup("1.0.0.7".parse().unwrap()).unwrap().name, "Cloudflare, Inc.");
        assert_eq!(db.lookup("5.8.1.1".parse().unwrap()).unwrap().name, "LLC \"SPUTNIK\"");
        let (_d, p) = write("asn-ipv4-num.csv", b"16777216,16777471,13335,Cloudflare\n");
        assert_eq!(
            load(&p, false).unwrap().lookup("1.0.0.1".parse().unwrap()).unwrap().asn,
            13335
        );
    }

    #[test]
    fn reads_iptoasn_tsv_and_skips_unrouted() {
        let (_d, p) = write(
            "ip2asn-combined.tsv",
            b"1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET - Cloudflare, Inc.\n1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n2a01:4f8::\t2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff\t24940\tDE\tHETZNER-AS\n",
        );
        let db = load(&p, false).unwrap();
        let hit = db.lookup("1.0.0.1".parse().unwrap()).unwrap();
        assert_eq!((hit.asn, hit.country.as_deref()), (13335, Some("US")));
        assert_eq!(db.lookup("1.0.2.1".parse().unwrap()), None);
        assert_eq!(db.lookup("2a01:4f8:1::1".parse().unwrap()).unwrap().asn, 24940);
        assert_eq!(
            (db.info.format.as_str(), db.info.ranges_v4, db.info.ranges_v6),
            ("iptoasn-tsv", 1, 1)
        );
    }

    #[test]
    fn bad_line_names_file_and_line_unless_lenient() {
        let (_d, p) = write(
            "x.csv",
            b"1.0.0.0,1.0.0.255,13335,A\n1.0.1.0,nope,5,B\n1.0.2.0,1.0.2.255,7,C\n",
        );
        let err = load(&p, false).unwrap_err().to_string();
        assert!(
            err.ends_with("x.csv:2: \"nope\" is neither an address nor an integer"),
            "{err}"
        );
        let db = load(&p, true).unwrap();
        assert_eq!((db.info.skipped_lines, db.info.ranges_v4), (1, 2));
    }

    #[test]
    fn gzip_is_read_directly() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"8.8.8.0,8.8.8.255,15169,Google LLC\n").unwrap();
        let (_d, p) = write("asn.csv.gz", &gz.finish().unwrap());
        assert_eq!(
            load(&p, false).unwrap().lookup("8.8.8.8".parse().unwrap()).unwrap().asn,
            15169
        );
    }

    #[test]
    fn an_unclosed_quote_is_a_bad_line_not_a_swallowed_block() {
        let body = b"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n2.0.0.0,2.0.0.255,5,\"Open, never closed\n3.0.0.0,3.0.0.255,7,C\n4.0.0.0,4.0.0.255,8,\"D, Ltd\"\n";
        let (_d, p) = write("x.csv", body);
        let err = load(&p, false).unwrap_err().to_string();
        assert!(
            err.ends_with("x.csv:2: quote opened in field 4 is not closed on this line"),
            "{err}"
        );
        let db = load(&p, true).unwrap();
        assert_eq!((db.info.skipped_lines, db.info.ranges_v4), (1, 3));
        assert_eq!(db.lookup("3.0.0.1".parse().unwrap()).unwrap().asn, 7);
        assert_eq!(db.lookup("4.0.0.1".parse().unwrap()).unwrap().name, "D, Ltd");
        assert_eq!(db.lookup("2.0.0.1".parse().unwrap()), None);
    }

    #[test]
    fn a_name_longer_than_any_real_one_is_a_bad_line() {
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        let body = format!("1.0.0.0,1.0.0.255,1,A\n2.0.0.0,2.0.0.255,2,{long}\n");
        let (_d, p) = write("x.csv", body.as_bytes());
        let err = load(&p, false).unwrap_err().to_string();
        assert!(
            err.ends_with("x.csv:2: organisation name of 513 bytes is longer than any real one (at most 512)"),
            "{err}"
        );
        let ok = format!("1.0.0.0,1.0.0.255,1,{}\n", "x".repeat(MAX_NAME_BYTES));
        let (_d, p) = write("x.csv", ok.as_bytes());
        assert!(load(&p, false).is_ok());
    }

    #[test]
    fn csv_fields_follow_rfc4180_within_a_line() {
        let f = |l: &str| csv_fields(l).map(|v| v.iter().map(|c| c.to_string()).collect::<Vec<_>>());
        assert_eq!(f("a,\"b, c\",\"d \"\"e\"\"\",").unwrap(), ["a", "b, c", "d \"e\"", ""]);
        assert_eq!(f("a,\"b\"x").unwrap_err(), "text after the closing quote of field 2");
        assert_eq!(
            f("\"").unwrap_err(),
            "quote opened in field 1 is not closed on this line"
        );
    }

    #[test]
    fn a_header_row_is_skipped_and_an_empty_file_says_so() {
        let (_d, p) = write("x.csv", b"start,end,asn,org\n1.0.0.0,1.0.0.255,13335,Cloudflare\n");
        let db = load(&p, false).unwrap();
        assert_eq!((db.info.skipped_lines, db.info.ranges_v4), (0, 1));
        let (_d, p) = write(
            "x.tsv",
            b"range_start\trange_end\tAS_number\tcountry_code\tAS_description\n1.0.0.0\t1.0.0.255\t13335\tUS\tCF\n",
        );
        assert_eq!(load(&p, false).unwrap().info.ranges_v4, 1);
        // A damaged first row is not a header.
        let (_d, p) = write("x.csv", b"1.0.0.x,1.0.0.255,1x,Cloudflare\n1.0.1.0,1.0.1.255,2,B\n");
        assert!(load(&p, false)
            .unwrap_err()
            .to_string()
            .ends_with("x.csv:1: \"1.0.0.x\" is neither an address nor an integer"));
        // Only the first line may be a header.
        let (_d, p) = write("x.csv", b"1.0.0.0,1.0.0.255,13335,Cloudflare\nstart,end,asn,org\n");
        assert!(load(&p, false)
            .unwrap_err()
            .to_string()
            .ends_with("x.csv:2: \"start\" is neither an address nor an integer"));
        for body in [&b""[..], b"\n  \n"] {
            let (_d, p) = write("empty.csv", body);
            assert_eq!(
                load(&p, false).unwrap_err().to_string(),
                format!("ASN database {}: the file is empty", p.display())
            );
        }
    }

    #[test]
    fn the_licence_is_stated_by_a_sidecar_or_not_at_all() {
        let (d, p) = write("asn-ipv4.csv", b"1.0.0.0,1.0.0.255,13335,Cloudflare\n");
        assert_eq!(load(&p, false).unwrap().info.licence, "not stated");
        let (_d2, tsv) = write("ip2asn-v4.tsv", b"1.0.0.0\t1.0.0.255\t13335\tUS\tCF\n");
        assert_eq!(
            load(&tsv, false).unwrap().info.licence,
            "not stated",
            "not from the name"
        );
        let sha = load(&p, false).unwrap().info.sha256;
        let source = |sha256: &str| store::Source {
            url: "http://127.0.0.1/x".into(),
            downloaded_at: "2026-11-21T00:00:00Z".into(),
            sha256: sha256.into(),
            ranges_v4: 1,
            ranges_v6: 0,
            licence: "CC0".into(),
        };
        let side = store::sidecar_path(&p);
        assert_eq!(side, d.path().join("asn-ipv4.csv.source.json"));
        std::fs::write(&side, serde_json::to_vec(&source(&sha)).unwrap()).unwrap();
        let info = load(&p, false).unwrap().info;
        assert_eq!(
            (info.licence.as_str(), info.date.as_str()),
            ("CC0", "2026-11-21T00:00:00Z")
        );
        std::fs::write(&side, serde_json::to_vec(&source("other content")).unwrap()).unwrap();
        assert_eq!(
            load(&p, false).unwrap().info.licence,
            "not stated",
            "sidecar of another file"
        );
    }
}
