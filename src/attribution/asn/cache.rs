//! The compiled index: the flattened tables of an ASN database, cached in the data directory
//! so a run reads one file instead of parsing the CSV or TSV sources again.
//!
//! The sources stay the truth. The cache is keyed by the SHA-256 of a format version, the
//! `lenient` flag and, per source file in order, the SHA-256 of its content, its sidecar and
//! its modification time (what [`super::load`] reads into the description); a cache whose key
//! differs is rebuilt from the sources. It is read in one go and validated before use (magic,
//! version, every length, the file size, the order and bounds of every range, every name
//! index): a truncated, corrupt or other-version cache is rebuilt, never trusted, and never a
//! panic. It is written through [`crate::files::AtomicFile`], so a reader sees the old one or
//! the new one.
//!
//! Hashing the sources (7.8 MB for the real tables) would be most of a short run's start, so
//! the key is remembered beside the cache ([`KEY_MEMO_FILE`]) with what `stat` says of every
//! source and sidecar (length, modification and change times, inode, device), as git's index
//! does: while none of these changed, the remembered key is used; any change, and the sources
//! are hashed again. A source modified less than [`RACY_SECS`] before it was hashed is not
//! remembered (it could still change within its time stamp's granularity).
//!
//! # Layout (little-endian)
//! ```text
//! magic "WHASNIX\0" | version u32 | 0 u32 | key [32]
//! n4 u64 | n6 u64 | cut4 u64 | cut6 u64 | names u64 | names_bytes u64 | info_bytes u64
//! n4 × (start u32, end u32, as u32)        n6 × (start u128, end u128, as u32)
//! cut4 × (entry u32, start u32, end u32)   cut6 × (entry u32, start u128, end u128)
//! names_bytes: names × (asn u32, name_len u32, country_len u32 or u32::MAX for none, bytes)
//! info_bytes: the database description as JSON
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::table::Cut;
use super::{load, AsInfo, AsnDb, Entry, Key, Segment, Table};
use crate::files;
use crate::model::attribution::DbInfo;

/// Start of every cache file.
pub const MAGIC: &[u8; 8] = b"WHASNIX\0";
/// Version of the layout and of what the key covers; another version is rebuilt (2: a date
/// that is not the data's own is labelled "file date").
pub const VERSION: u32 = 2;
/// File name of the cache inside `<data_dir>/asn/`.
pub const CACHE_FILE: &str = "compiled-index.bin";
const HEADER: usize = 8 + 4 + 4 + 32 + 7 * 8;

/// File name of the remembered key inside `<data_dir>/asn/`.
pub const KEY_MEMO_FILE: &str = "compiled-index.key.json";
/// A source modified this close to the moment it was hashed (or later) is hashed again on the
/// next run rather than remembered: a write within its time stamp's granularity could leave
/// its stamp as it was. (Any later write moves the modification time away from an older one,
/// and putting that back moves the change time.)
pub const RACY_SECS: i128 = 2;

/// `<data_dir>/asn/compiled-index.bin`.
pub fn path(data_dir: &Path) -> PathBuf {
    super::store::dir(data_dir).join(CACHE_FILE)
}

/// What happened to the cache on a load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Read from the cache.
    Hit,
    /// Built from the sources and written (`why`: no cache, another source, or what was wrong).
    Rebuilt(String),
    /// Built from the sources; the cache could not be written (`why`).
    NotWritten(String),
}

/// The key of `paths` read with `lenient`.
///
/// # Errors
/// [`crate::Error`] when a source cannot be read (as the loader would say).
pub fn key(paths: &[PathBuf], lenient: bool) -> crate::Result<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(VERSION.to_le_bytes());
    h.update([u8::from(lenient)]);
    for p in paths {
        let raw = std::fs::read(p).map_err(|e| crate::Error::file("ASN database", p, e))?;
        h.update(Sha256::digest(&raw));
        let side = std::fs::read(super::store::sidecar_path(p)).unwrap_or_default();
        h.update((side.len() as u64).to_le_bytes());
        h.update(&side);
        let mtime = std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        h.update(mtime.to_le_bytes());
    }
    Ok(h.finalize().into())
}

/// What `stat` says of one file, as far as a change of its content shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub len: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

impl Stamp {
    /// The stamp of `path`, `None` when it does not exist or cannot be read.
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
            Some(Stamp {
                len: m.len(),
                mtime_ns: ns(m.mtime(), m.mtime_nsec()),
                ctime_ns: ns(m.ctime(), m.ctime_nsec()),
                ino: m.ino(),
                dev: m.dev(),
            })
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = m
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos() as i128;
            Some(Stamp {
                len: m.len(),
                mtime_ns,
                ctime_ns: mtime_ns,
                ino: 0,
                dev: 0,
            })
        }
    }
}

/// The remembered key of a set of sources ([`KEY_MEMO_FILE`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Memo {
    version: u32,
    lenient: bool,
    /// Per source in order: its path, its stamp and its sidecar's (`None`: no sidecar).
    files: Vec<(PathBuf, Option<Stamp>, Option<Stamp>)>,
    /// When the hashing began (nanoseconds since the epoch).
    hashed_at_ns: i128,
    key: String,
}

/// The stamps of `paths` and of their sidecars.
fn stamps(paths: &[PathBuf]) -> Vec<(PathBuf, Option<Stamp>, Option<Stamp>)> {
    paths
        .iter()
        .map(|p| (p.clone(), Stamp::of(p), Stamp::of(&super::store::sidecar_path(p))))
        .collect()
}

fn hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the key was computed or remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The sources were hashed.
    Hashed,
    /// No source changed since they were hashed: the remembered key.
    Remembered,
}

/// The key of `paths` read with `lenient` ([`key`]), remembered in `memo`: taken from it while
/// every source and sidecar has the stamp it had when it was hashed, computed (and remembered
/// when no source is racy) otherwise. A memo that cannot be read or written only costs a hash.
///
/// # Errors
/// As [`key`].
pub fn remembered_key(paths: &[PathBuf], lenient: bool, memo: &Path) -> crate::Result<([u8; 32], KeyOrigin)> {
    let now = stamps(paths);
    let racy = |files: &[(PathBuf, Option<Stamp>, Option<Stamp>)], at: i128| {
        files
            .iter()
            .flat_map(|(_, a, b)| [a, b])
            .flatten()
            .any(|s| s.mtime_ns > at - RACY_SECS * 1_000_000_000)
    };
    let kept = std::fs::read(memo)
        .ok()
        .and_then(|b| serde_json::from_slice::<Memo>(&b).ok())
        .filter(|m| m.version == VERSION && m.lenient == lenient && m.files == now && !racy(&m.files, m.hashed_at_ns))
        .and_then(|m| {
            let mut k = [0u8; 32];
            let digits = m.key.as_bytes();
            (digits.len() == 64).then_some(())?;
            for (i, b) in k.iter_mut().enumerate() {
                *b = u8::from_str_radix(std::str::from_utf8(&digits[2 * i..2 * i + 2]).ok()?, 16).ok()?;
            }
            Some(k)
        });
    if let Some(k) = kept {
        return Ok((k, KeyOrigin::Remembered));
    }
    let hashed_at_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let k = key(paths, lenient)?;
    // Remembered only when nothing changed while it was hashed, and nothing is racy.
    if stamps(paths) == now && !racy(&now, hashed_at_ns) {
        let m = Memo {
            version: VERSION,
            lenient,
            files: now,
            hashed_at_ns,
            key: hex(&k),
        };
        let json = serde_json::to_vec(&m).expect("a memo serialises");
        if let Some(dir) = memo.parent() {
            let _ = files::private_dir(dir);
        }
        let _ = files::write(memo, &json, files::PUBLIC);
    }
    Ok((k, KeyOrigin::Hashed))
}

/// Load `paths` through the cache at `cache`: read it when its key matches, otherwise build
/// from the sources and write it. A cache that cannot be written is no error. The key is
/// remembered beside the cache ([`remembered_key`]).
///
/// # Errors
/// As [`load::load_all`]: the sources decide.
pub fn load_cached(paths: &[PathBuf], lenient: bool, cache: &Path) -> crate::Result<(AsnDb, Outcome)> {
    let (want, _) = remembered_key(paths, lenient, &cache.with_file_name(KEY_MEMO_FILE))?;
    let why = match std::fs::read(cache) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no cache yet".to_string(),
        Err(e) => format!("unreadable: {e}"),
        Ok(bytes) => match decode(&bytes) {
            Ok((k, db)) if k == want => return Ok((db, Outcome::Hit)),
            Ok(_) => "built from other sources".to_string(),
            Err(e) => e,
        },
    };
    let db = load::load_all(paths, lenient)?;
    let outcome = match write(cache, &want, &db) {
        Ok(()) => Outcome::Rebuilt(why),
        Err(e) => Outcome::NotWritten(format!("{}: {e}", cache.display())),
    };
    Ok((db, outcome))
}

fn write(cache: &Path, key: &[u8; 32], db: &AsnDb) -> std::io::Result<()> {
    if let Some(dir) = cache.parent() {
        files::private_dir(dir)?;
    }
    let bytes = encode(key, db);
    let mut f = files::AtomicFile::create(cache, files::PUBLIC)?;
    f.write_all(&bytes)?;
    f.commit()
}

/// The cache bytes of `db` under `key`.
pub fn encode(key: &[u8; 32], db: &AsnDb) -> Vec<u8> {
    let mut names = Vec::new();
    for n in &db.names {
        names.extend_from_slice(&n.asn.to_le_bytes());
        names.extend_from_slice(&(n.name.len() as u32).to_le_bytes());
        let clen = n.country.as_ref().map_or(u32::MAX, |c| c.len() as u32);
        names.extend_from_slice(&clen.to_le_bytes());
        names.extend_from_slice(n.name.as_bytes());
        names.extend_from_slice(n.country.as_deref().unwrap_or("").as_bytes());
    }
    let info = serde_json::to_vec(&db.info).expect("DbInfo serialises");
    let segs4: Vec<Segment> = db.v4.segments().collect();
    let segs6: Vec<Segment> = db.v6.segments().collect();
    let cut = |s: &[Segment]| s.iter().filter(|g| g.cut.is_some()).count() as u64;
    let mut out = Vec::with_capacity(HEADER + segs4.len() * 12 + segs6.len() * 36 + names.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(key);
    for n in [
        segs4.len() as u64,
        segs6.len() as u64,
        cut(&segs4),
        cut(&segs6),
        db.names.len() as u64,
        names.len() as u64,
        info.len() as u64,
    ] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    for (segs, w) in [(&segs4, 4), (&segs6, 16)] {
        for s in segs.iter() {
            out.extend_from_slice(&s.start.to_le_bytes()[..w]);
            out.extend_from_slice(&s.end.to_le_bytes()[..w]);
            out.extend_from_slice(&s.info.to_le_bytes());
        }
    }
    for (segs, w) in [(&segs4, 4), (&segs6, 16)] {
        for (j, s) in segs.iter().enumerate() {
            if let Some((cs, ce)) = s.cut {
                out.extend_from_slice(&(j as u32).to_le_bytes());
                out.extend_from_slice(&cs.to_le_bytes()[..w]);
                out.extend_from_slice(&ce.to_le_bytes()[..w]);
            }
        }
    }
    out.extend_from_slice(&names);
    out.extend_from_slice(&info);
    out
}

/// A cursor over the cache bytes that refuses to read past their end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.bytes.len()))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

/// Read cache bytes: their key and the database, or what is wrong with them.
///
/// # Errors
/// A sentence saying why the bytes are not a valid cache of this version.
pub fn decode(bytes: &[u8]) -> Result<([u8; 32], AsnDb), String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(8).ok() != Some(&MAGIC[..]) {
        return Err("not a whohosts ASN index".into());
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("format version {version}, not {VERSION}"));
    }
    r.u32()?;
    let key: [u8; 32] = r.take(32)?.try_into().expect("32 bytes");
    let mut n = [0u64; 7];
    for v in &mut n {
        *v = r.u64()?;
    }
    let [n4, n6, c4, c6, nn, names_len, info_len] = n;
    // The exact size the lengths imply, checked before anything is allocated from them.
    let size = [(n4, 12), (n6, 36), (c4, 12), (c6, 36), (names_len, 1), (info_len, 1)]
        .iter()
        .try_fold(HEADER as u64, |acc, &(k, w)| k.checked_mul(w)?.checked_add(acc));
    if size != Some(bytes.len() as u64) || n4 > u64::from(u32::MAX) || n6 > u64::from(u32::MAX) {
        return Err(format!("{} bytes, not what its lengths say", bytes.len()));
    }
    let rows4 = rows::<u32>(&mut r, n4 as usize, 4)?;
    let rows6 = rows::<u128>(&mut r, n6 as usize, 16)?;
    let cut4 = cuts(&mut r, &rows4, c4 as usize, 4)?;
    let cut6 = cuts(&mut r, &rows6, c6 as usize, 16)?;
    let names = names_of(&mut r, nn, names_len as usize)?;
    let infos = rows4.iter().map(|e| e.info).chain(rows6.iter().map(|e| e.info));
    if let Some(i) = infos.into_iter().find(|i| *i as usize >= names.len()) {
        return Err(format!("a range names AS entry {i} of {}", names.len()));
    }
    let info: DbInfo = serde_json::from_slice(r.take(info_len as usize)?).map_err(|e| format!("description: {e}"))?;
    let db = AsnDb {
        v4: Table::from_rows(rows4, cut4),
        v6: Table::from_rows(rows6, cut6),
        names,
        info,
    };
    Ok((key, db))
}

/// `n` ranges of width `w` bytes, read straight into the table's entries: each start ≤ end,
/// in order without overlap.
fn rows<T: Key>(r: &mut Reader, n: usize, w: usize) -> Result<Vec<Entry<T>>, String> {
    let bytes = r.take(n * (2 * w + 4))?;
    let mut rows: Vec<Entry<T>> = Vec::with_capacity(n);
    for row in bytes.chunks_exact(2 * w + 4) {
        let (start, end) = (int::<T>(&row[..w])?, int::<T>(&row[w..2 * w])?);
        if start > end || rows.last().is_some_and(|p| p.end >= start) {
            return Err(format!("range {} is out of order", rows.len()));
        }
        rows.push(Entry {
            start,
            end,
            info: u32::from_le_bytes(row[2 * w..].try_into().expect("4 bytes")),
        });
    }
    Ok(rows)
}

/// A little-endian integer of `b.len()` bytes as `T`, refused when it does not fit.
fn int<T: Key>(b: &[u8]) -> Result<T, String> {
    let mut v = [0u8; 16];
    v[..b.len()].copy_from_slice(b);
    T::try_from(u128::from_le_bytes(v)).map_err(|_| "a range is out of its family".to_string())
}

/// `n` original bounds of cut entries: each names an entry (in increasing order, so each
/// once) and holds it.
fn cuts<T: Key>(r: &mut Reader, rows: &[Entry<T>], n: usize, w: usize) -> Result<Vec<Cut<T>>, String> {
    let mut out: Vec<Cut<T>> = Vec::with_capacity(n);
    for _ in 0..n {
        let j = r.u32()?;
        let (s, e) = (int::<T>(r.take(w)?)?, int::<T>(r.take(w)?)?);
        let Some(&Entry { start, end, .. }) = rows.get(j as usize) else {
            return Err(format!("a cut names entry {j}"));
        };
        if out.last().is_some_and(|c| c.0 >= j) || s > start || e < end {
            return Err(format!("the cut of entry {j} is not valid"));
        }
        out.push((j, (s, e)));
    }
    Ok(out)
}

/// `n` AS names in `len` bytes.
fn names_of(r: &mut Reader, n: u64, len: usize) -> Result<Vec<AsInfo>, String> {
    let mut sub = Reader {
        bytes: r.take(len)?,
        at: 0,
    };
    // Each name takes at least 12 bytes: a count beyond that is a lie, not an allocation.
    if n > (len / 12) as u64 {
        return Err(format!("{n} names in {len} bytes"));
    }
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| "a name is not UTF-8".to_string());
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (asn, nl, cl) = (sub.u32()?, sub.u32()?, sub.u32()?);
        let name = text(sub.take(nl as usize)?)?;
        let country = match cl {
            u32::MAX => None,
            cl => Some(text(sub.take(cl as usize)?)?),
        };
        out.push(AsInfo { asn, name, country });
    }
    if sub.at != len {
        return Err("bytes left after the names".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
