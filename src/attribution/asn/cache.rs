//! The compiled index: the flattened tables of an ASN database, cached in the data directory
//! so a run reads one file instead of parsing the CSV or TSV sources again.
//!
//! The sources stay the truth. The cache is keyed by the SHA-256 of a format version, the
//! `lenient` flag and, per source file in order, the SHA-256 of its content, its sidecar and
//! its modification time (what [`super::load`] reads into the description); a cache whose key
//! differs is rebuilt from the sources. It is mapped (read in one go where it cannot be) and
//! validated once before use (magic, version, every length, the file size, the order and
//! bounds of every range, every name index, every name's place and UTF-8): a truncated,
//! corrupt or other-version cache is rebuilt, never trusted, and never a panic. It is written
//! through [`crate::files::AtomicFile`], so a reader sees the old one or the new one, and a
//! file once mapped is never written in place.
//!
//! The same bytes are the loaded database: [`super::Table`] and [`super::Names`] read their
//! entries in place, so a run with a cache copies neither ranges nor names out of it, and a
//! database built from its sources is encoded first and read the same way ([`Bytes`]).
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
//! names × (asn u32, text_at u32, name_len u32, country_len u32 or u32::MAX for none)
//! names_bytes: the names' text (each name, then its country), from text_at
//! info_bytes: the database description as JSON
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{load, AsInfo, AsnDb, Key, Names, Segment, Table};
use crate::files;
use crate::model::attribution::DbInfo;

/// Start of every cache file.
pub const MAGIC: &[u8; 8] = b"WHASNIX\0";
/// Version of the layout and of what the key covers; another version is rebuilt (2: a date
/// that is not the data's own is labelled "file date"; 3: names as fixed records over one
/// text, read in place).
pub const VERSION: u32 = 3;
/// Bytes of AS name text an index holds at most: a name record gives where its text begins
/// and its lengths in 32 bits, `u32::MAX` marking no country. The loader refuses a database
/// whose names hold more ([`super::load`]), before it is encoded.
pub const MAX_TEXT: usize = u32::MAX as usize - 1;
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
        // The index records the file's name and date (what reports and the store name as the
        // source): a copy under another name is another key, never answered as the first.
        let name = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let name = name.as_os_str().as_encoded_bytes();
        h.update((name.len() as u64).to_le_bytes());
        h.update(name);
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

/// The bytes of a compiled index, which the loaded database reads in place.
pub enum Bytes {
    /// The cache file, mapped.
    Mapped(memmap2::Mmap),
    /// Read into memory, or encoded from the sources.
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self {
            Bytes::Mapped(_) => "mapped",
            Bytes::Owned(_) => "in memory",
        };
        write!(f, "compiled index of {} bytes, {how}", self.len())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes::Owned(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes::Owned(v.to_vec())
    }
}

/// The cache file at `path`, mapped (read into memory where it cannot be mapped).
fn open(path: &Path) -> std::io::Result<Bytes> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(Bytes::Owned(vec![]));
    }
    // SAFETY: the mapping is only read, through `Bytes`, and every offset and length in it is
    // checked once by `decode` before use. Rust assumes the mapped bytes do not change while
    // mapped: whohosts never writes a cache file in place (it writes a new file and renames
    // it over the old one, `write` below), and the file is its user's, in a private
    // directory, so only that user truncating or editing it in place during a run could
    // break this (a SIGBUS, or answers from changed bytes), as with any mapped file.
    // `populate` maps every page up front: `decode` reads them all anyway.
    match unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
        Ok(m) => Ok(Bytes::Mapped(m)),
        Err(_) => std::fs::read(path).map(Bytes::Owned),
    }
}

/// Load `paths` through the cache at `cache`: read it when its key matches, otherwise build
/// from the sources and write it. A cache that cannot be written is no error. The key is
/// remembered beside the cache ([`remembered_key`]).
///
/// # Errors
/// As [`load::load_all`]: the sources decide.
pub fn load_cached(paths: &[PathBuf], lenient: bool, cache: &Path) -> crate::Result<(AsnDb, Outcome)> {
    let (want, _) = remembered_key(paths, lenient, &cache.with_file_name(KEY_MEMO_FILE))?;
    let why = match open(cache) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no cache yet".to_string(),
        Err(e) => format!("unreadable: {e}"),
        Ok(bytes) => match decode(bytes) {
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

/// Where the key lies in the header.
const KEY_AT: std::ops::Range<usize> = 16..48;

fn write(cache: &Path, key: &[u8; 32], db: &AsnDb) -> std::io::Result<()> {
    if let Some(dir) = cache.parent() {
        files::private_dir(dir)?;
    }
    let mut f = files::AtomicFile::create(cache, files::PUBLIC)?;
    f.write_all(&db.index[..KEY_AT.start])?;
    f.write_all(key)?;
    f.write_all(&db.index[KEY_AT.end..])?;
    f.commit()
}

/// The cache bytes of `db` under `key`: the index it was read or built from.
pub fn encode(key: &[u8; 32], db: &AsnDb) -> Vec<u8> {
    let mut out = db.index.to_vec();
    out[KEY_AT].copy_from_slice(key);
    out
}

/// The index of flattened segments (`v4`, `v6`, in address order) naming `names`, described
/// by `info` (whose range counts are set here), under `key`.
pub fn encode_rows(
    key: &[u8; 32],
    v4: impl Iterator<Item = Segment>,
    v6: impl Iterator<Item = Segment>,
    names: &[AsInfo],
    mut info: DbInfo,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(key);
    out.resize(HEADER, 0);
    // The entries, then the original bounds of those an overlap cut.
    let mut cuts: [Vec<u8>; 2] = [vec![], vec![]];
    let mut counts = [0u64; 7];
    for (k, (segs, w)) in [
        (Box::new(v4) as Box<dyn Iterator<Item = Segment>>, 4),
        (Box::new(v6), 16),
    ]
    .into_iter()
    .enumerate()
    {
        for (j, s) in segs.enumerate() {
            out.extend_from_slice(&s.start.to_le_bytes()[..w]);
            out.extend_from_slice(&s.end.to_le_bytes()[..w]);
            out.extend_from_slice(&s.info.to_le_bytes());
            if let Some((cs, ce)) = s.cut {
                cuts[k].extend_from_slice(&(j as u32).to_le_bytes());
                cuts[k].extend_from_slice(&cs.to_le_bytes()[..w]);
                cuts[k].extend_from_slice(&ce.to_le_bytes()[..w]);
                counts[2 + k] += 1;
            }
            counts[k] += 1;
        }
    }
    out.extend_from_slice(&cuts[0]);
    out.extend_from_slice(&cuts[1]);
    // Offsets and lengths fit in 32 bits: the loader keeps the text within `MAX_TEXT`.
    let mut text = Vec::new();
    for n in names {
        out.extend_from_slice(&n.asn.to_le_bytes());
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(&(n.name.len() as u32).to_le_bytes());
        let clen = n.country.as_ref().map_or(u32::MAX, |c| c.len() as u32);
        out.extend_from_slice(&clen.to_le_bytes());
        text.extend_from_slice(n.name.as_bytes());
        text.extend_from_slice(n.country.as_deref().unwrap_or("").as_bytes());
    }
    out.extend_from_slice(&text);
    (info.ranges_v4, info.ranges_v6) = (counts[0] as usize, counts[1] as usize);
    let info = serde_json::to_vec(&info).expect("DbInfo serialises");
    out.extend_from_slice(&info);
    (counts[4], counts[5], counts[6]) = (names.len() as u64, text.len() as u64, info.len() as u64);
    for (i, n) in counts.iter().enumerate() {
        let at = HEADER - 7 * 8 + 8 * i;
        out[at..at + 8].copy_from_slice(&n.to_le_bytes());
    }
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

/// Read cache bytes: their key and the database, which reads its tables and names in place
/// from them, or what is wrong with them. Every offset and length is checked here, once.
///
/// # Errors
/// A sentence saying why the bytes are not a valid cache of this version.
pub fn decode(bytes: impl Into<Bytes>) -> Result<([u8; 32], AsnDb), String> {
    let index = Arc::new(bytes.into());
    let bytes: &[u8] = &index;
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
    let [n4, n6, c4, c6, nn, text_len, info_len] = n;
    // The exact size the lengths imply, checked before anything is allocated from them.
    let size = [
        (n4, 12),
        (n6, 36),
        (c4, 12),
        (c6, 36),
        (nn, 16),
        (text_len, 1),
        (info_len, 1),
    ]
    .iter()
    .try_fold(HEADER as u64, |acc, &(k, w)| k.checked_mul(w)?.checked_add(acc));
    if size != Some(bytes.len() as u64) || n4 > u64::from(u32::MAX) || n6 > u64::from(u32::MAX) {
        return Err(format!("{} bytes, not what its lengths say", bytes.len()));
    }
    // Every length now fits in the bytes, so in `usize`.
    let (n4, n6, nn) = (n4 as usize, n6 as usize, nn as usize);
    let at4 = r.at;
    r.take(n4 * 12)?;
    let at6 = r.at;
    r.take(n6 * 36)?;
    let cut4 = cuts::<u32>(&mut r, c4 as usize, 4)?;
    let cut6 = cuts::<u128>(&mut r, c6 as usize, 16)?;
    let names_at = r.at;
    r.take(nn * 16)?;
    let text_at = r.at;
    r.take(text_len as usize)?;
    let info: DbInfo = serde_json::from_slice(r.take(info_len as usize)?).map_err(|e| format!("description: {e}"))?;
    let names = Names::new(index.clone(), names_at, nn, text_at..text_at + text_len as usize)?;
    let db = AsnDb {
        v4: Table::new(index.clone(), at4, n4, cut4, nn)?,
        v6: Table::new(index.clone(), at6, n6, cut6, nn)?,
        names,
        info,
        index,
    };
    Ok((key, db))
}

/// A little-endian integer of `b.len()` bytes as `T`, refused when it does not fit.
fn int<T: Key>(b: &[u8]) -> Result<T, String> {
    let mut v = [0u8; 16];
    v[..b.len()].copy_from_slice(b);
    T::try_from(u128::from_le_bytes(v)).map_err(|_| "a range is out of its family".to_string())
}

/// `n` original bounds of cut entries (checked against the entries by [`Table::new`]).
fn cuts<T: Key>(r: &mut Reader, n: usize, w: usize) -> Result<Vec<super::table::Cut<T>>, String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let j = r.u32()?;
        let (s, e) = (int::<T>(r.take(w)?)?, int::<T>(r.take(w)?)?);
        out.push((j, (s, e)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
