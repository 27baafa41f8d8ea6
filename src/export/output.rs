//! Where an export goes: a directory or a `.tar.gz`, written whole or not at all.
//!
//! Files are written into a hidden temporary sibling of the target (a
//! [`files::StagedDir`]), which is renamed into place, or packed into the target through a
//! [`files::AtomicFile`], only when everything is written; on any failure (or a panic) the
//! sibling is removed, so nothing half-written is left behind. An existing non-empty
//! directory or an existing `.tar.gz` is only replaced with `--force`, and a directory only
//! when it holds an earlier export (never a directory of other files).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;

/// An export being written.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    staged: files::StagedDir,
    private: bool,
}

fn refuse(what: String) -> Error {
    Error::Export(what)
}

fn cannot(target: &Path, e: std::io::Error) -> Error {
    refuse(format!(
        "cannot write {}: {}",
        target.display(),
        crate::error::path_reason(target, &e)
    ))
}

/// Whether `path` names a `.tar.gz` target (`.TAR.GZ` too: the suffix in any case).
pub fn is_tarball(path: &Path) -> bool {
    tarball_stem(path).is_some()
}

/// The name of a `.tar.gz` target without its suffix, in any case; `None` for another name.
fn tarball_stem(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let cut = name.len().checked_sub(".tar.gz".len())?;
    let suffix = name.get(cut..)?;
    suffix.eq_ignore_ascii_case(".tar.gz").then(|| name[..cut].to_string())
}

/// The kind of archive other than `.tar.gz` that `path`'s name suggests (`.zip`, `.tgz`,
/// `.tar.xz` …): an export is a directory or a `.tar.gz`, never one of those.
pub fn other_archive(path: &Path) -> Option<(&'static str, &'static str)> {
    if is_tarball(path) {
        return None;
    }
    let name = path.file_name()?.to_string_lossy().to_lowercase();
    const KINDS: &[(&str, &str)] = &[
        (".zip", "zip archive"),
        (".tgz", "gzipped tar archive (.tgz)"),
        (".tar", "tar archive"),
        (".tar.bz2", "bzip2 tar archive"),
        (".tbz2", "bzip2 tar archive"),
        (".tar.xz", "xz tar archive"),
        (".txz", "xz tar archive"),
        (".tar.zst", "zstd tar archive"),
        (".7z", "7-Zip archive"),
        (".rar", "RAR archive"),
        (".gz", "gzip file"),
    ];
    KINDS.iter().find(|(ext, _)| name.ends_with(ext)).copied()
}

/// What an existing directory named as the target holds.
enum Holds {
    /// Nothing: it is written into.
    Nothing,
    /// An earlier export (its `datapackage.json` names `whohosts-export`, and it holds only
    /// the files that lists): replaced with `--force`.
    Export,
    /// Someone's other files (or an export with files added beside it): never replaced,
    /// `--force` or not.
    Other,
}

fn dir_holds(dir: &Path) -> Holds {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Holds::Other;
    };
    let names: Vec<std::ffi::OsString> = entries.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    if names.is_empty() {
        return Holds::Nothing;
    }
    let listed = match files::read_no_follow(&dir.join("datapackage.json")) {
        Ok(f) => export_files(f),
        Err(_) => None,
    };
    // Every entry is a file the earlier export wrote (its data files, its datapackage.json
    // and README.md): a file someone added beside them is theirs, and is never deleted.
    match listed {
        Some(listed)
            if names.iter().all(|n| {
                n.to_str().is_some_and(|n| listed.iter().any(|l| l == n))
                    && std::fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.is_file())
            }) =>
        {
            Holds::Export
        }
        _ => Holds::Other,
    }
}

/// The files an export's `datapackage.json` (read from `from`, at most 1 MiB) says the export
/// holds: itself, README.md and each resource's path; `None` when it is no whohosts export's.
fn export_files(from: impl std::io::Read) -> Option<Vec<String>> {
    use std::io::Read;
    let mut text = Vec::new();
    from.take(1 << 20).read_to_end(&mut text).ok()?;
    let package: serde_json::Value = serde_json::from_slice(&text).ok()?;
    if package.get("name")?.as_str()? != "whohosts-export" {
        return None;
    }
    let mut listed = vec!["datapackage.json".to_string(), "README.md".to_string()];
    for r in package.get("resources")?.as_array()? {
        listed.push(r.get("path")?.as_str()?.to_string());
    }
    Some(listed)
}

/// Whether the `.tar.gz` at `path` is an earlier export: a gzipped tar of one directory
/// whose `datapackage.json` is a whohosts export's (at most 10,000 entries are read).
fn is_export_tarball(path: &Path) -> bool {
    let Ok(file) = files::read_no_follow(path) else {
        return false;
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let Ok(entries) = archive.entries() else {
        return false;
    };
    for entry in entries.take(10_000) {
        let Ok(entry) = entry else { return false };
        let is_package = entry
            .path()
            .is_ok_and(|p| p.components().count() == 2 && p.ends_with("datapackage.json"));
        if is_package {
            return export_files(entry).is_some();
        }
    }
    false
}

impl Staging {
    /// Check that `target` may be written (replaced only with `force`) and make the
    /// temporary directory beside it. A `private` export (one that names people:
    /// `--include-handles`) is written 0700 (directories) and 0600 (files, the `.tar.gz`
    /// and its entries); any other under the umask.
    ///
    /// # Errors
    /// [`Error::Export`] with one line naming the target and what is wrong.
    pub fn prepare(target: &Path, force: bool, private: bool) -> Result<Staging> {
        if target.file_name().is_none() {
            return Err(refuse(format!(
                "--out {}: an export needs a name of its own (e.g. --out whohosts-export), not a directory such as . or ..",
                target.display()
            )));
        }
        if let Some((ext, kind)) = other_archive(target) {
            let shown = target.display().to_string();
            let stem = &shown[..shown.len() - ext.len()];
            return Err(refuse(format!(
                "{shown} looks like a {kind}; an export is written as a directory or a .tar.gz (e.g. --out {stem}.tar.gz)"
            )));
        }
        if target.is_dir() {
            match dir_holds(target) {
                Holds::Nothing => {}
                Holds::Export if force => {}
                Holds::Export => {
                    return Err(refuse(format!(
                        "{} holds an earlier export: pass --force to replace it, or choose another path",
                        target.display()
                    )))
                }
                Holds::Other => {
                    return Err(refuse(format!(
                        "{} holds files that are no part of an earlier whohosts export: choose another path (--force replaces only an export)",
                        target.display()
                    )))
                }
            }
        } else if std::fs::symlink_metadata(target).is_ok() {
            let what = match (is_tarball(target), force) {
                (true, true) if is_export_tarball(target) => None,
                (true, true) => Some("is no earlier whohosts export: --force replaces only one; choose another path"),
                (true, false) => Some("already exists: remove it or pass --force to replace it"),
                (false, _) => Some("exists and is not a directory: choose another path"),
            };
            if let Some(what) = what {
                return Err(refuse(format!("{} {what}", target.display())));
            }
        }
        let staged = files::StagedDir::create(target, private).map_err(|e| cannot(target, e))?;
        Ok(Staging {
            target: target.to_path_buf(),
            staged,
            private,
        })
    }

    /// The directory to write the files into.
    pub fn dir(&self) -> &Path {
        self.staged.path()
    }

    /// A path inside the written directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.staged.path().join(file)
    }

    /// The mode a new file of this export gets (before the umask).
    fn file_mode(&self) -> u32 {
        match self.private {
            true => files::PRIVATE,
            false => files::PUBLIC,
        }
    }

    /// Create the file `file` in the written directory, with this export's mode.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn create(&self, file: &str) -> Result<(std::fs::File, PathBuf)> {
        let path = self.path(file);
        match files::create_new(&path, self.file_mode()) {
            Ok(f) => Ok((f, path)),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Put the export in place: pack it when the target is a `.tar.gz`, then rename.
    ///
    /// # Errors
    /// [`Error::Export`] naming the target; the temporary files are removed.
    /// A `.tar.gz`'s entries are dated `mtime` (seconds since 1970: the time of the latest
    /// snapshot exported), the same for every entry.
    pub fn commit(self, mtime: u64) -> Result<()> {
        let target = self.target.clone();
        if is_tarball(&target) {
            // The staged directory is dropped (removed) once packed.
            self.pack(mtime).map_err(|e| cannot(&target, e))
        } else {
            self.staged.commit().map_err(|e| cannot(&target, e))
        }
    }

    /// Pack the directory as `STEM/…` (STEM: the target's name without `.tar.gz`), with
    /// deterministic headers (no owner names; every entry dated `mtime`), into the target.
    fn pack(&self, mtime: u64) -> std::io::Result<()> {
        let stem = tarball_stem(&self.target).unwrap_or_default();
        let file = self.staged.sibling_file(self.file_mode())?;
        let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        append_dated(&mut tar, Path::new(&stem), self.staged.path(), mtime, self.private)?;
        let gz = tar.into_inner()?;
        let buf = gz.finish()?;
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.commit()
    }
}

/// Append directory `dir` as `name` and everything in it (sorted by name), each entry with a
/// fixed owner (0, no names), mode 0755 or 0644 (0700 or 0600 when `private`), and `mtime`.
fn append_dated<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    name: &Path,
    dir: &Path,
    mtime: u64,
    private: bool,
) -> std::io::Result<()> {
    let header = |kind: tar::EntryType, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(match (kind == tar::EntryType::Directory, private) {
            (true, false) => 0o755,
            (false, false) => 0o644,
            (true, true) => 0o700,
            (false, true) => 0o600,
        });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(mtime);
        h
    };
    tar.append_data(&mut header(tar::EntryType::Directory, 0), name, std::io::empty())?;
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let path = name.join(e.file_name());
        let kind = e.file_type()?;
        if kind.is_dir() {
            append_dated(tar, &path, &e.path(), mtime, private)?;
        } else if kind.is_file() {
            let file = std::fs::File::open(e.path())?;
            let size = file.metadata()?.len();
            tar.append_data(&mut header(tar::EntryType::Regular, size), &path, file)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suffix is read in any case, and only the suffix is cut from the entries' folder.
    #[test]
    fn a_tarball_is_known_by_its_suffix_in_any_case() {
        for (name, stem) in [
            ("x.tar.gz", Some("x")),
            ("dir/Week 1.TAR.GZ", Some("Week 1")),
            ("x.Tar.Gz", Some("x")),
            ("x.tar.gz.d", None),
            ("x", None),
            ("é.tar.gz", Some("é")),
            ("ééé", None),
        ] {
            assert_eq!(tarball_stem(Path::new(name)).as_deref(), stem, "{name}");
            assert_eq!(is_tarball(Path::new(name)), stem.is_some(), "{name}");
        }
        assert_eq!(other_archive(Path::new("x.TAR.GZ")), None);
        assert_eq!(other_archive(Path::new("x.ZIP")).map(|k| k.1), Some("zip archive"));
    }
}
