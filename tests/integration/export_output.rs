//! `whohosts export` refusing bad input and failing mid-way: one clear line on stderr, exit
//! code 1, and nothing half-written left behind.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use crate::export::{column, csv_rows, Fixture};

/// The one line an export refused with, and its exit code.
fn refused(o: &Output) -> (Option<i32>, String) {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(o.stdout.is_empty());
    (o.status.code(), err.trim_end().to_string())
}

/// Names in `dir` (hidden temporaries included).
/// The names in `dir`, but the `-wal` and `-shm` SQLite leaves beside a database a reader
/// opened (README: a read command in a directory it may write leaves them).
fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".db-wal") && !n.ends_with(".db-shm"))
        .collect()
}

#[test]
fn bad_input_is_refused_in_one_line_and_leaves_nothing() {
    let f = Fixture::new();
    let db = f.db();
    let before = listing(f.dir.path());
    let (code, err) = refused(&f.try_export("out", &["99"]));
    assert_eq!(
        (code, err),
        (Some(1), format!("whohosts: export: no snapshot 99 in {}", db.display()))
    );
    // A value that is no date is a usage error: exit code 2, the hint naming export's help.
    for bad in ["yesterday", "2026-13-01"] {
        let o = f.try_export("out", &["--since", bad]);
        assert_eq!(
            (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string()),
            (
                Some(2),
                format!(
                    "whohosts: --since: '{bad}' is not a date (YYYY-MM-DD)\n\
                     whohosts: see `whohosts export --help`\n"
                )
            )
        );
    }
    let (_, err) = refused(&f.try_export("out", &["--since", "2999-01-01"]));
    assert_eq!(
        err,
        format!(
            "whohosts: export: no complete snapshot started on or after 2999-01-01 in {}",
            db.display()
        )
    );
    // Snapshots named and all excluded by --since: said as such.
    let (_, err) = refused(&f.try_export("out", &["--since", "2999-01-01", "1"]));
    assert_eq!(
        err,
        "whohosts: export: snapshot 1 was started before --since 2999-01-01: give --since an earlier date or leave it out"
    );
    let (_, err) = refused(&f.try_export("out", &["--since", "2999-01-01", "1", "2"]));
    assert_eq!(
        err,
        "whohosts: export: snapshots 1, 2 were all started before --since 2999-01-01: give --since an earlier date or leave it out"
    );
    std::fs::write(f.path("file"), "x").unwrap();
    let (code, err) = refused(&f.try_export("file/out", &[]));
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!(
            "whohosts: export: cannot write {}: ",
            f.path("file/out").display()
        )),
        "{err}"
    );
    assert!(err.ends_with(": not a directory"), "{err}");
    // A directory that does not exist is named, in words (no "(os error 2)").
    let (code, err) = refused(&f.try_export("nodir/out", &[]));
    assert_eq!(
        (code, err),
        (
            Some(1),
            format!(
                "whohosts: export: cannot write {}: directory {} does not exist",
                f.path("nodir/out").display(),
                f.path("nodir").display()
            )
        )
    );
    let new: Vec<String> = listing(f.dir.path()).difference(&before).cloned().collect();
    assert_eq!(new, ["file"], "only our file is new (the key is beside the database)");

    // A directory of someone's files is never replaced, --force or not; nor a plain file.
    std::fs::create_dir_all(f.path("full/sub")).unwrap();
    std::fs::write(f.path("full/keep.txt"), "mine").unwrap();
    std::fs::write(
        f.path("full/datapackage.json"),
        r#"{"name": "whohosts-export", "resources": []}"#,
    )
    .unwrap();
    for flags in [&[][..], &["--force"][..]] {
        let (code, err) = refused(&f.try_export("full", flags));
        assert_eq!(code, Some(1));
        assert_eq!(
            err,
            format!(
                "whohosts: export: {} holds files that are no part of an earlier whohosts export: choose another path (--force replaces only an export)",
                f.path("full").display()
            )
        );
    }
    assert_eq!(std::fs::read_to_string(f.path("full/keep.txt")).unwrap(), "mine");
    assert!(f.path("full/sub").is_dir());
    std::fs::write(f.path("notes.txt"), "mine").unwrap();
    let (_, err) = refused(&f.try_export("notes.txt", &["--force"]));
    assert_eq!(
        err,
        format!(
            "whohosts: export: {} exists and is not a directory: choose another path",
            f.path("notes.txt").display()
        )
    );
    assert_eq!(std::fs::read_to_string(f.path("notes.txt")).unwrap(), "mine");
    // An earlier export with a file of someone's added: never replaced.
    f.export("mine", &[]);
    std::fs::write(f.path("mine/analysis.ipynb"), "mine").unwrap();
    let (_, err) = refused(&f.try_export("mine", &["--force"]));
    assert!(err.ends_with("holds files that are no part of an earlier whohosts export: choose another path (--force replaces only an export)"), "{err}");
    assert_eq!(std::fs::read_to_string(f.path("mine/analysis.ipynb")).unwrap(), "mine");
    // A .tar.gz that is no export (a backup): never replaced.
    std::fs::write(f.path("backup.tar.gz"), "not an export").unwrap();
    let (_, err) = refused(&f.try_export("backup.tar.gz", &["--force"]));
    assert!(
        err.ends_with("backup.tar.gz is no earlier whohosts export: --force replaces only one; choose another path"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(f.path("backup.tar.gz")).unwrap(),
        "not an export"
    );
    // An earlier export: refused without --force, replaced with it.
    f.export("full2", &[]);
    let stale = f.path("full2/snapshots.csv");
    std::fs::write(&stale, "old").unwrap();
    let (code, err) = refused(&f.try_export("full2", &[]));
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "whohosts: export: {} holds an earlier export: pass --force to replace it, or choose another path",
            f.path("full2").display()
        )
    );
    f.export("full2", &["--force"]);
    assert_ne!(std::fs::read_to_string(&stale).unwrap(), "old");
    // An empty directory is fine.
    std::fs::create_dir(f.path("empty")).unwrap();
    f.export("empty", &["--since", "2000-01-01"]);
    assert_eq!(
        column(&csv_rows(&f.path("empty/snapshots.csv")), "snapshot_id").len(),
        4
    );

    // A .tar.gz that exists: refused unless --force.
    let tgz = f.export("x.tar.gz", &["--gzip"]);
    let first = std::fs::read(&tgz).unwrap();
    let (_, err) = refused(&f.try_export("x.tar.gz", &[]));
    assert_eq!(
        err,
        format!(
            "whohosts: export: {} already exists: remove it or pass --force to replace it",
            tgz.display()
        )
    );
    assert_eq!(std::fs::read(&tgz).unwrap(), first);
    f.export("x.tar.gz", &["--force", "1"]);
    assert_ne!(std::fs::read(&tgz).unwrap(), first);
    // No temporary sibling anywhere.
    assert!(
        listing(f.dir.path()).iter().all(|n| !n.starts_with(".x.tar.gz.")),
        "{:?}",
        listing(f.dir.path())
    );
}

#[test]
fn other_archive_names_and_gzip_with_parquet_are_refused() {
    let f = Fixture::new();
    let before = listing(f.dir.path());
    for (name, kind) in [
        ("x.zip", "zip archive"),
        ("x.tgz", "gzipped tar archive (.tgz)"),
        ("x.tar.xz", "xz tar archive"),
    ] {
        let stem = &name[..name.find('.').unwrap()];
        let (code, err) = refused(&f.try_export(name, &[]));
        assert_eq!(
            (code, err),
            (
                Some(1),
                format!(
                    "whohosts: export: {} looks like a {kind}; an export is written as a directory or a .tar.gz (e.g. --out {}.tar.gz)",
                    f.path(name).display(),
                    f.path(stem).display()
                )
            )
        );
    }
    // A usage error: exit code 2, the hint naming export's help.
    let o = f.try_export("pq", &["--format", "parquet", "--gzip"]);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).as_ref()),
        (
            Some(2),
            "whohosts: --format \"parquet\": --gzip applies to CSV files only: drop --gzip, or use --format csv\n\
             whohosts: see `whohosts export --help`\n"
        )
    );
    let new: Vec<String> = listing(f.dir.path()).difference(&before).cloned().collect();
    assert!(new.iter().all(|n| n == "data"), "nothing written: {new:?}");
}

/// A tarball's entries are dated at the latest exported snapshot's end, not at export time.
#[test]
fn tar_entries_are_dated_at_the_snapshot() {
    let f = Fixture::new();
    let store = whohosts::store::Store::open(&f.db()).unwrap();
    let one = store.list().unwrap().into_iter().find(|s| s.id == 2).unwrap();
    let want = whohosts::model::time::parse(&one.finished_at)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let tgz = f.export("two.tar.gz", &["2"]);
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&tgz).unwrap());
    let mut tar = tar::Archive::new(gz);
    let mut n = 0;
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(h.mtime().unwrap(), want, "{:?}", entry.path().unwrap());
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert!(entry.path().unwrap().starts_with("two"));
        n += 1;
    }
    assert!(n >= 16, "{n} entries");
}

/// Run an export whose writes fail once files pass `kib` KiB (RLIMIT_FSIZE, SIGXFSZ ignored
/// so the write returns EFBIG): a failure in the middle of writing.
fn export_with_file_limit(f: &Fixture, out: &str, kib: u32, args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("whohosts");
    let script = format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"");
    std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(bin)
        .arg("--config")
        .arg(f.path("config.toml"))
        .arg("--db")
        .arg(f.db())
        .arg("--quiet")
        .arg("export")
        .arg("--out")
        .arg(f.path(out))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_failure_mid_way_leaves_nothing_half_written() {
    let f = Fixture::new();
    let parent = f.path("exports");
    std::fs::create_dir(&parent).unwrap();
    for (out, args) in [
        ("exports/dir", &[][..]),
        ("exports/x.tar.gz", &["--gzip"][..]),
        ("exports/pq", &["--format", "parquet"][..]),
    ] {
        let o = export_with_file_limit(&f, out, 40, args);
        let (code, err) = refused(&o);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.ends_with(": file too large"), "{err}");
        assert!(listing(&parent).is_empty(), "{out}: left {:?}", listing(&parent));
    }
    // A failed --force over an existing export leaves the old one as it was.
    let old = f.export("exports/dir", &[]);
    let before = std::fs::read(old.join("accounts.csv")).unwrap();
    let o = export_with_file_limit(&f, "exports/dir", 40, &["--force", "--include-handles"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(old.join("accounts.csv")).unwrap(), before);
    assert_eq!(listing(&parent), BTreeSet::from(["dir".to_string()]));
    // Without the limit the same command succeeds.
    let o = export_with_file_limit(&f, "exports/dir", 1 << 20, &["--force", "--include-handles"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Modes of `dir` and of everything under it: (path relative to `dir`, mode bits).
fn modes_under(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = vec![(
        ".".to_string(),
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o7777,
    )];
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let mode = std::fs::symlink_metadata(&p).unwrap().permissions().mode() & 0o7777;
            out.push((p.strip_prefix(dir).unwrap().display().to_string(), mode));
            if p.is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

/// An export with `--include-handles` names people: its directory is 0700 and its files 0600
/// (CSV, gzip, Parquet, the description), and a `.tar.gz` is 0600 with entries that unpack
/// 0700/0600, whatever the umask lets through. One without handles stays under the umask.
#[test]
fn an_export_that_names_people_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    for (out, args) in [
        ("named", vec!["--include-handles"]),
        ("named-gz", vec!["--include-handles", "--gzip"]),
        ("named-parquet", vec!["--include-handles", "--format", "parquet"]),
    ] {
        let dir = f.export(out, &args);
        let modes = modes_under(&dir);
        assert!(modes.len() >= 10, "{modes:?}");
        let wrong: Vec<&(String, u32)> = modes
            .iter()
            .filter(|(p, m)| *m != if dir.join(p).is_dir() { 0o700 } else { 0o600 })
            .collect();
        assert!(wrong.is_empty(), "{out}: {wrong:?}");
    }
    let tgz = f.export("named.tar.gz", &["--include-handles"]);
    assert_eq!(std::fs::metadata(&tgz).unwrap().permissions().mode() & 0o7777, 0o600);
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&tgz).unwrap()));
    let mut n = 0;
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        let want = match h.entry_type() {
            tar::EntryType::Directory => 0o700,
            _ => 0o600,
        };
        assert_eq!(h.mode().unwrap(), want, "{:?}", entry.path().unwrap());
        n += 1;
    }
    assert!(n >= 10, "{n} entries");
    // Without handles: the umask decides (0022 here gives 0755 and 0644).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if status
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Umask:", "0022"])
    {
        let dir = f.export("pseudonymous", &[]);
        let modes = modes_under(&dir);
        assert!(
            modes
                .iter()
                .all(|(p, m)| *m == if dir.join(p).is_dir() { 0o755 } else { 0o644 }),
            "{modes:?}"
        );
    }
}
