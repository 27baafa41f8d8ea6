//! Every byte an export writes — decompressed, untarred, and Parquet both raw and decoded —
//! holds no handle, actor URI, display name or small-instance host of the source snapshots,
//! unless `--include-handles` asks for them (which proves the search finds them).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::export::{small_hosts, Fixture};

/// Every text an export holds: each file's bytes (gunzipped), tarballs unpacked, and for
/// Parquet also every decoded value.
fn texts(path: &Path) -> Vec<(String, String)> {
    let mut out = vec![];
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            let p = e.unwrap().path();
            let name = p.display().to_string();
            add(&mut out, &name, std::fs::read(&p).unwrap());
        }
    } else {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
        let mut tar = tar::Archive::new(gz);
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let mut bytes = vec![];
            entry.read_to_end(&mut bytes).unwrap();
            add(&mut out, &name, bytes);
        }
    }
    assert!(out.len() >= 16, "{path:?}: {} files", out.len());
    out
}

fn add(out: &mut Vec<(String, String)>, name: &str, bytes: Vec<u8>) {
    if name.ends_with(".gz") {
        let mut plain = vec![];
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut plain)
            .unwrap();
        out.push((name.to_string(), String::from_utf8_lossy(&plain).into_owned()));
    } else if name.ends_with(".parquet") {
        out.push((format!("{name} (decoded)"), decoded(bytes.clone())));
        out.push((name.to_string(), String::from_utf8_lossy(&bytes).into_owned()));
    } else {
        out.push((name.to_string(), String::from_utf8_lossy(&bytes).into_owned()));
    }
}

fn decoded(bytes: Vec<u8>) -> String {
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
    let mut text = String::new();
    for row in reader.get_row_iter(None).unwrap() {
        for (_, field) in row.unwrap().get_column_iter() {
            match field {
                Field::Str(s) => text.push_str(s),
                other => text.push_str(&other.to_string()),
            }
            text.push('\t');
        }
        text.push('\n');
    }
    assert!(text.len() > 10, "decoded nothing");
    text
}

/// Whether `host` occurs in `text` as a whole name (not inside a longer one).
fn has_host(text: &str, host: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    text.match_indices(host).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + host.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// What must not leak: (kind, value) of every identity in the source snapshots.
struct Secrets {
    /// Handles (without a leading `@`), actor URIs and display names of accounts that did
    /// not opt out; the same of those that did.
    shown: BTreeSet<(String, String)>,
    opted_out: BTreeSet<(String, String)>,
    hosts: BTreeSet<String>,
}

fn secrets(f: &Fixture) -> Secrets {
    let mut s = Secrets {
        shown: BTreeSet::new(),
        opted_out: BTreeSet::new(),
        hosts: BTreeSet::new(),
    };
    for (_, snap) in f.snapshots() {
        s.hosts.extend(small_hosts(&snap, 10));
        for seed in &snap.crawl.seeds {
            s.shown
                .insert(("seed input".into(), seed.input.trim_start_matches('@').to_string()));
            for list in [&seed.following, &seed.followers].into_iter().flatten() {
                for a in &list.accounts {
                    let set = if a.may_expand() { &mut s.shown } else { &mut s.opted_out };
                    for (kind, v) in [
                        ("handle", &a.handle),
                        ("actor URI", &a.actor_uri),
                        ("display name", &a.display_name),
                    ] {
                        if let Some(v) = v {
                            set.insert((kind.to_string(), v.trim_start_matches('@').to_string()));
                        }
                    }
                }
            }
        }
    }
    // A display name that is also a shown one (user0 on two instances) is not secret to
    // the opted-out side alone.
    let shown = s.shown.clone();
    s.opted_out
        .retain(|(_, v)| !shown.iter().any(|(_, w)| w == v || w.contains(v.as_str())));
    assert!(s.shown.len() > 300 && !s.opted_out.is_empty() && s.hosts.len() >= 10);
    s
}

fn found<'a>(files: &[(String, String)], values: impl Iterator<Item = &'a (String, String)>) -> Vec<String> {
    values
        .filter(|(_, v)| files.iter().any(|(_, text)| text.contains(v.as_str())))
        .map(|(k, v)| format!("{k} {v}"))
        .collect()
}

#[test]
fn no_identity_leaves_without_include_handles() {
    let f = Fixture::new();
    let s = secrets(&f);
    let exports = [
        f.export("csv", &[]),
        f.export("csv.tar.gz", &["--gzip"]),
        f.export("pq", &["--format", "parquet"]),
        f.export("pq.tar.gz", &["--format", "parquet"]),
    ];
    for dir in &exports {
        let files = texts(dir);
        let leaks = found(&files, s.shown.iter().chain(&s.opted_out));
        assert!(leaks.is_empty(), "{dir:?} leaks {leaks:?}");
        let hosts: Vec<&String> = s
            .hosts
            .iter()
            .filter(|h| files.iter().any(|(_, t)| has_host(t, h)))
            .collect();
        assert!(hosts.is_empty(), "{dir:?} names small instances {hosts:?}");
    }
}

#[test]
fn include_handles_shows_them_but_never_opted_out_accounts() {
    let f = Fixture::new();
    let s = secrets(&f);
    for dir in [
        f.export("csv", &["--include-handles"]),
        f.export("pq", &["--include-handles", "--format", "parquet"]),
    ] {
        let files = texts(&dir);
        let decoded: Vec<(String, String)> = files
            .iter()
            .filter(|(n, _)| !n.ends_with(".parquet"))
            .cloned()
            .collect();
        let shown = found(&decoded, s.shown.iter());
        let missing: Vec<_> = s
            .shown
            .iter()
            .filter(|(k, v)| !shown.contains(&format!("{k} {v}")))
            .collect();
        assert!(missing.is_empty(), "{dir:?}: identities missing: {missing:?}");
        assert!(
            s.hosts.iter().all(|h| decoded.iter().any(|(_, t)| has_host(t, h))),
            "{dir:?}: small hosts missing"
        );
        let leaks = found(&files, s.opted_out.iter());
        assert!(leaks.is_empty(), "{dir:?}: opted-out accounts appear: {leaks:?}");
        let meta = std::fs::read_to_string(dir.join("datapackage.json")).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
        assert_eq!(meta["whohosts"]["include_handles"], true);
    }
    let plain = f.export("plain", &[]);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plain.join("datapackage.json")).unwrap()).unwrap();
    assert_eq!(meta["whohosts"]["include_handles"], false);
    assert_eq!(meta["whohosts"]["pseudonym_bits"], 96);
}
