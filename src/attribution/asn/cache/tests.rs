use std::net::IpAddr;

use super::*;

const CSV: &str = "1.0.0.0,1.0.0.255,13335,Cloudflare\n1.0.0.0,1.0.0.15,64500,Inner\n8.8.8.0,8.8.8.255,15169,Google\n2606:4700::,2606:4700::ffff,13335,Cloudflare\n";

fn answers(db: &AsnDb) -> Vec<Option<(u32, String, String)>> {
    [
        "1.0.0.1",
        "1.0.0.200",
        "8.8.8.8",
        "9.9.9.9",
        "2606:4700::1",
        "2001:db8::1",
    ]
    .iter()
    .map(|a| {
        db.lookup(a.parse::<IpAddr>().unwrap())
            .map(|h| (h.asn, format!("{}-{}", h.range_start, h.range_end), h.cidr.to_string()))
    })
    .collect()
}

fn small() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("asn.csv");
    std::fs::write(&src, CSV).unwrap();
    let db = load::load(&src, false).unwrap();
    let bytes = encode(&[7; 32], &db);
    (dir, src, bytes)
}

#[test]
fn a_cache_reads_back_the_same_answers() {
    let (_dir, src, bytes) = small();
    let db = load::load(&src, false).unwrap();
    let (key, back) = decode(bytes.as_slice()).unwrap();
    assert_eq!(key, [7; 32]);
    assert_eq!(answers(&back), answers(&db));
    assert_eq!(back.info, db.info);
    assert_eq!(
        back.names.iter().collect::<Vec<_>>(),
        db.names.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        answers(&back)[0],
        Some((64500, "1.0.0.0-1.0.0.15".into(), "1.0.0.0/28".into()))
    );
    assert_eq!(
        answers(&back)[1],
        Some((13335, "1.0.0.0-1.0.0.255".into(), "1.0.0.128/25".into()))
    );
    assert_eq!(answers(&back)[3], None);
}

#[test]
fn every_truncation_is_refused_not_trusted() {
    let (_dir, _src, bytes) = small();
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len]).is_err(), "truncated to {len} bytes");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(longer).is_err());
}

#[test]
fn flipped_bytes_never_panic_and_other_versions_are_refused() {
    let (_dir, _src, bytes) = small();
    let mut other = bytes.clone();
    let next = u8::try_from(VERSION + 1).unwrap();
    other[8] = next;
    assert_eq!(
        decode(other).err(),
        Some(format!("format version {next}, not {VERSION}"))
    );
    for i in 0..bytes.len() {
        for v in [0u8, 0xff, bytes[i] ^ 1] {
            let mut b = bytes.clone();
            b[i] = v;
            if let Ok((_, db)) = decode(b) {
                let _ = answers(&db);
            }
        }
    }
}

#[test]
fn a_changed_source_rebuilds_and_a_corrupt_cache_is_rebuilt_right() {
    let (dir, src, _) = small();
    let cache = dir.path().join("asn").join(CACHE_FILE);
    let srcs = vec![src.clone()];
    let (db, o) = load_cached(&srcs, false, &cache).unwrap();
    assert_eq!(o, Outcome::Rebuilt("no cache yet".into()));
    let want = answers(&db);
    let (db, o) = load_cached(&srcs, false, &cache).unwrap();
    assert_eq!((o, answers(&db)), (Outcome::Hit, want.clone()));
    // Another source: the cache of the old one is not used.
    std::fs::write(&src, "8.8.8.0,8.8.8.255,64511,Other\n").unwrap();
    let (db, o) = load_cached(&srcs, false, &cache).unwrap();
    assert_eq!(o, Outcome::Rebuilt("built from other sources".into()));
    assert_eq!(db.lookup("8.8.8.8".parse().unwrap()).map(|h| h.asn), Some(64511));
    assert_eq!(db.lookup("1.0.0.1".parse().unwrap()).map(|h| h.asn), None);
    // A corrupt cache is rebuilt, with the source's answers.
    std::fs::write(&src, CSV).unwrap();
    load_cached(&srcs, false, &cache).unwrap();
    let mut bytes = std::fs::read(&cache).unwrap();
    let n = bytes.len();
    bytes.truncate(n - 3);
    std::fs::write(&cache, &bytes).unwrap();
    let (db, o) = load_cached(&srcs, false, &cache).unwrap();
    assert_eq!(
        o,
        Outcome::Rebuilt(format!("{} bytes, not what its lengths say", n - 3))
    );
    assert_eq!(answers(&db), want);
    let (_, o) = load_cached(&srcs, false, &cache).unwrap();
    assert_eq!(o, Outcome::Hit);
}

/// A cache file with a flipped byte is read in place (mapped) only after every range and
/// name in it is checked: a name that is no longer UTF-8, or a range out of order, is found
/// at load and the cache rebuilt, with the sources' answers.
#[test]
fn a_bit_flipped_cache_file_is_rebuilt_right() {
    let (dir, src, _) = small();
    let cache = dir.path().join("asn").join(CACHE_FILE);
    let srcs = vec![src.clone()];
    let (db, _) = load_cached(&srcs, false, &cache).unwrap();
    let want = answers(&db);
    let good = std::fs::read(&cache).unwrap();
    let name_at = good.windows(10).position(|w| w == b"Cloudflare").unwrap();
    let first_range = HEADER;
    let count = |k: usize| u64::from_le_bytes(good[48 + 8 * k..56 + 8 * k].try_into().unwrap()) as usize;
    let first_name = HEADER + count(0) * 12 + count(1) * 36 + count(2) * 12 + count(3) * 36;
    for (at, flipped, why) in [
        (first_name + 11, 0x7f, "AS name 0 is not valid"),
        (name_at, 0xff, "the AS names are not UTF-8"),
        (first_range + 3, 0xff, "range 0 is out of order"),
    ] {
        let mut bytes = good.clone();
        bytes[at] = flipped;
        std::fs::write(&cache, &bytes).unwrap();
        let (db, o) = load_cached(&srcs, false, &cache).unwrap();
        assert_eq!(o, Outcome::Rebuilt(why.into()));
        assert_eq!(answers(&db), want);
        assert_eq!(std::fs::read(&cache).unwrap(), good);
        let (db, o) = load_cached(&srcs, false, &cache).unwrap();
        assert_eq!((o, answers(&db)), (Outcome::Hit, want.clone()));
    }
}

/// The in-tree companion of the `asn_index` fuzz target (which needs cargo-fuzz): thousands
/// of indexes with several bytes overwritten, cut or grown are refused or give answers that
/// lie inside the row they name.
#[test]
fn random_mutations_are_refused_or_answer_inside_their_rows() {
    let (_dir, _src, bytes) = small();
    let mut rng = fastrand::Rng::with_seed(16);
    let as_u128 = |ip: IpAddr| match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let (mut decoded, mut refused) = (0, 0);
    for _ in 0..4000 {
        let mut b = bytes.clone();
        for _ in 0..rng.usize(1..8) {
            let i = rng.usize(..b.len());
            b[i] = if rng.bool() {
                rng.u8(..)
            } else {
                b[i].wrapping_add(rng.u8(1..4))
            };
        }
        match rng.u8(..10) {
            0 => b.truncate(rng.usize(..b.len())),
            1 => {
                let n = rng.usize(1..64);
                b.extend(std::iter::repeat_with(|| rng.u8(..)).take(n));
            }
            _ => {}
        }
        let Ok((_, db)) = decode(b) else {
            refused += 1;
            continue;
        };
        decoded += 1;
        for a in [
            "1.0.0.1",
            "1.0.0.200",
            "8.8.8.8",
            "2606:4700::1",
            "255.255.255.255",
            "::",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            if let Some(h) = db.lookup(ip) {
                let x = as_u128(ip);
                assert!(as_u128(h.range_start) <= x && x <= as_u128(h.range_end), "{a} in {h:?}");
                assert!(h.cidr.contains(ip), "{a} outside {}", h.cidr);
            }
        }
    }
    assert!(
        refused > 0 && decoded + refused == 4000,
        "{decoded} decoded, {refused} refused"
    );
}

/// The key is hashed once and then remembered while no source or sidecar changes its stamp;
/// a changed source is hashed again, even with its length and modification time put back
/// (its change time moved), and so is one written so recently that it could still change
/// unseen within its time stamp.
#[test]
fn the_key_is_remembered_until_a_source_changes() {
    let (dir, src, _) = small();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let age = |p: &Path| {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap()
    };
    age(&src);
    let memo = dir.path().join("asn").join(KEY_MEMO_FILE);
    let srcs = vec![src.clone()];
    let first = key(&srcs, false).unwrap();
    assert_eq!(remembered_key(&srcs, false, &memo).unwrap(), (first, KeyOrigin::Hashed));
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (first, KeyOrigin::Remembered)
    );
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (first, KeyOrigin::Remembered)
    );
    // Another `lenient` is another key.
    let lenient = key(&srcs, true).unwrap();
    assert_ne!(lenient, first);
    assert_eq!(
        remembered_key(&srcs, true, &memo).unwrap(),
        (lenient, KeyOrigin::Hashed)
    );
    assert_eq!(remembered_key(&srcs, true, &memo).unwrap().1, KeyOrigin::Remembered);
    assert_eq!(remembered_key(&srcs, false, &memo).unwrap(), (first, KeyOrigin::Hashed));
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (first, KeyOrigin::Remembered)
    );

    // Same length, same modification time, other content: hashed again, another key.
    let other = CSV.replace("Google", "Gaagle");
    assert_eq!(other.len(), CSV.len());
    std::fs::write(&src, &other).unwrap();
    age(&src);
    let second = key(&srcs, false).unwrap();
    assert_ne!(second, first);
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (second, KeyOrigin::Hashed)
    );
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (second, KeyOrigin::Remembered)
    );

    // A sidecar appearing is a change too.
    let side = super::super::store::sidecar_path(&src);
    std::fs::write(&side, "{}").unwrap();
    age(&side);
    let third = key(&srcs, false).unwrap();
    assert_ne!(third, second);
    assert_eq!(remembered_key(&srcs, false, &memo).unwrap(), (third, KeyOrigin::Hashed));
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (third, KeyOrigin::Remembered)
    );

    // A source modified just now is hashed on every run until it is older than RACY_SECS.
    std::fs::write(&src, CSV).unwrap();
    let fresh = key(&srcs, false).unwrap();
    for _ in 0..2 {
        assert_eq!(remembered_key(&srcs, false, &memo).unwrap(), (fresh, KeyOrigin::Hashed));
    }

    // A memo that is not one only costs a hash.
    age(&src);
    let aged = key(&srcs, false).unwrap();
    std::fs::write(&memo, "not json").unwrap();
    assert_eq!(remembered_key(&srcs, false, &memo).unwrap(), (aged, KeyOrigin::Hashed));
    assert_eq!(
        remembered_key(&srcs, false, &memo).unwrap(),
        (aged, KeyOrigin::Remembered)
    );
}

/// A copy of a source under another name (same bytes, same modification time) is not
/// answered from the first one's index: the index records the file it was built from, and
/// reports and the store name that file as the source.
#[test]
fn a_copy_under_another_name_is_named_as_itself() {
    let (dir, src, _) = small();
    let cache = dir.path().join("asn").join(CACHE_FILE);
    let (db, _) = load_cached(std::slice::from_ref(&src), false, &cache).unwrap();
    assert_eq!(db.info.file, "asn.csv");
    let copy = dir.path().join("moved.csv");
    std::fs::copy(&src, &copy).unwrap();
    let mtime = std::fs::metadata(&src).unwrap().modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let (db, o) = load_cached(&[copy], false, &cache).unwrap();
    assert_eq!(o, Outcome::Rebuilt("built from other sources".into()));
    assert_eq!(db.info.file, "moved.csv");
}
