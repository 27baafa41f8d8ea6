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

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::net::IpAddr;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::{AsInfo, AsnDb, DbInfo, Row};
use crate::error::{Error, Result};

/// The credit line the ip-location-db data asks for.
pub const IPLOCATION_CREDIT: &str = "CC BY 4.0: RouteViews, DB-IP.com and NRO (via ip-location-db)";
/// iptoasn's data is public domain.
pub const IPTOASN_CREDIT: &str = "public domain (iptoasn.com; RouteViews, RIRs)";
/// What is said of a file whose source cannot be told from its name.
pub const UNKNOWN_LICENCE: &str = "unknown: check the data's source";

/// The licence of a file, told from its format and its publisher's file naming
/// (ip-location-db: `asn-ipv4.csv`, `asn-ipv6-num.csv` …; iptoasn: `ip2asn-*.tsv`).
fn licence_of(file: &str, format: &str) -> &'static str {
    match format {
        "ip-location-db-csv" if file.starts_with("asn") => IPLOCATION_CREDIT,
        "iptoasn-tsv" if file.starts_with("ip2asn") => IPTOASN_CREDIT,
        "mmdb" => "see the database's own licence (GeoLite2: MaxMind EULA; DB-IP Lite: CC BY 4.0)",
        _ => UNKNOWN_LICENCE,
    }
}

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
    fn intern(&mut self, asn: u32, name: &str, country: Option<&str>) -> u32 {
        let key = (asn, name.to_string(), country.map(str::to_string));
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(AsInfo {
            asn,
            name: key.1.clone(),
            country: key.2.clone(),
        });
        self.index.insert(key, i);
        i
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

/// Add one file's rows to `b`; its description (ranges not yet counted).
fn read_one(path: &Path, lenient: bool, b: &mut Builder) -> Result<DbInfo> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let sha256: String = Sha256::digest(&raw).iter().map(|b| format!("{b:02x}")).collect();
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_default();
    let head = head(path, &raw)?;
    let binary = head.contains(&0);
    let (format, licence, date) = if binary || is_mmdb(&raw) {
        let data = if is_gzip(&raw) {
            let mut out = Vec::new();
            stream(&raw).read_to_end(&mut out).map_err(|e| gzip_error(path, e))?;
            out
        } else {
            raw
        };
        let date = read_mmdb(path, data, b)?;
        ("mmdb", licence_of(&file, "mmdb"), date)
    } else {
        let text = String::from_utf8_lossy(&head);
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if first.contains('\t') {
            read_tsv(path, stream(&raw), lenient, b)?;
            ("iptoasn-tsv", licence_of(&file, "iptoasn-tsv"), modified)
        } else if first.contains(',') {
            read_csv(path, stream(&raw), lenient, file.contains("v6"), b)?;
            ("ip-location-db-csv", licence_of(&file, "ip-location-db-csv"), modified)
        } else {
            return Err(Error::AsnDb {
                path: path.to_path_buf(),
                message: "not a known format (expected ip-location-db CSV, iptoasn TSV or .mmdb)".into(),
            });
        }
    };
    Ok(DbInfo {
        file,
        format: format.into(),
        sha256,
        date,
        licence: licence.into(),
        ..DbInfo::default()
    })
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

fn read_csv(path: &Path, data: impl Read, lenient: bool, v6_hint: bool, b: &mut Builder) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            // A broken stream is not a bad line: never skip it.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => return Err(gzip_error(path, e)),
            Err(_) if lenient => {
                b.skipped += 1;
                continue;
            }
            Err(e) => return Err(bad_line(path, line, e.to_string())),
        }
        if let Err(msg) = csv_row(b, &record, v6_hint) {
            if !lenient {
                return Err(bad_line(path, line, msg));
            }
            b.skipped += 1;
        }
    }
    Ok(())
}

fn csv_row(b: &mut Builder, r: &csv::StringRecord, v6_hint: bool) -> std::result::Result<(), String> {
    if r.len() < 3 {
        return Err(format!("expected start,end,asn,organisation; found {} fields", r.len()));
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
    let name = r.get(3).unwrap_or("").trim();
    let info = b.intern(asn, name, None);
    b.push_int(start, end, s6, info)
}

fn parse_asn(field: &str) -> std::result::Result<u32, String> {
    let f = field.trim();
    f.trim_start_matches("AS")
        .parse::<u32>()
        .map_err(|_| format!("AS number {f:?} is not a number"))
}

fn read_tsv(path: &Path, mut data: impl BufRead, lenient: bool, b: &mut Builder) -> Result<()> {
    let mut buf = Vec::new();
    let mut n = 0u64;
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
        if let Err(msg) = tsv_row(b, line) {
            if !lenient {
                return Err(bad_line(path, n, msg));
            }
            b.skipped += 1;
        }
    }
}

fn tsv_row(b: &mut Builder, line: &str) -> std::result::Result<(), String> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 5 {
        return Err(format!("expected 5 tab-separated fields, found {}", f.len()));
    }
    let start: IpAddr = f[0].parse().map_err(|_| format!("{:?} is not an address", f[0]))?;
    let end: IpAddr = f[1].parse().map_err(|_| format!("{:?} is not an address", f[1]))?;
    let asn = parse_asn(f[2])?;
    if asn == 0 {
        return Ok(());
    }
    let country = Some(f[3].trim()).filter(|c| !c.is_empty() && *c != "None");
    let info = b.intern(asn, f[4].trim(), country);
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
    let date = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(reader.metadata().build_epoch),
    )
    .to_string();
    for item in reader.networks(Default::default()).map_err(err)? {
        let item = item.map_err(err)?;
        let net = item.network().map_err(err)?;
        let Some(rec) = item.decode::<MmdbAsn>().map_err(err)? else {
            continue;
        };
        let Some(asn) = rec.autonomous_system_number.filter(|a| *a != 0) else {
            continue;
        };
        let info = b.intern(asn, rec.autonomous_system_organization.unwrap_or(""), None);
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
}
