//! Files and directories written whole or not at all: the one atomic writer.
//!
//! [`AtomicFile`] is created exclusively beside its target under an unpredictable name
//! (`.NAME.XXXXXX.part`, never following a symlink planted there), written, synced to disk
//! and renamed over the target, so a reader sees the old file or the new one, never half of
//! one; dropped without [`AtomicFile::commit`], it is removed. A file it replaces keeps its
//! mode (and owner and group where the system allows). [`StagedDir`] does the same for a
//! directory of files. `-o FILE`, exports and the downloaded ASN database all write through
//! here.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Mode of a new file anyone may read, as `open(2)` with the umask applied.
pub const PUBLIC: u32 = 0o666;
/// Mode of a new file only its owner may read or write (still subject to the umask).
pub const PRIVATE: u32 = 0o600;

/// The directory `target` lives in (`.` for a bare name).
fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `.NAME.` for a temporary sibling of `target`.
fn prefix_of(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.")
}

/// A fresh unpredictable name beside `target`: `.NAME.XXXXXXXXXX` + `suffix`.
fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let mut rng = fastrand::Rng::with_seed(seed());
    let tag: String = std::iter::repeat_with(|| rng.alphanumeric()).take(10).collect();
    parent_of(target).join(format!("{}{tag}{suffix}", prefix_of(target)))
}

/// 64 bits from the operating system's generator (a clock-derived value if it fails).
fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
    }
    u64::from_le_bytes(b)
}

/// Tries before giving up on finding a free name (a collision is already unlikely once).
const TRIES: usize = 16;

/// Create a new file or directory at a fresh sibling name of `target` with `make`, which
/// must fail with `AlreadyExists` rather than follow or reuse anything already there.
fn create_sibling<T>(
    target: &Path,
    suffix: &str,
    make: impl Fn(&Path) -> std::io::Result<T>,
) -> std::io::Result<(PathBuf, T)> {
    for _ in 0..TRIES {
        let path = sibling(target, suffix);
        match make(&path) {
            Ok(made) => return Ok((path, made)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists))
}

/// Create directory `dir` and any missing parents, each new one private (0700 before the
/// umask); directories that exist keep their mode.
///
/// # Errors
/// A parent cannot be created.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    private_builder().recursive(true).create(dir)
}

/// A directory builder whose new directories are private (0700 before the umask).
fn private_builder() -> std::fs::DirBuilder {
    use std::os::unix::fs::DirBuilderExt;
    let mut b = std::fs::DirBuilder::new();
    b.mode(0o700);
    b
}

/// Create a new private directory (0700) beside `near`, under an unpredictable name
/// (`.NAME.XXXXXXXXXX`), never reusing one already there: for a run's temporary files, such
/// as the demo's database in the system's shared temporary directory. The caller removes it.
///
/// # Errors
/// The parent does not exist or cannot be written.
pub fn new_private_dir(near: &Path) -> std::io::Result<PathBuf> {
    create_sibling(near, "", |p| private_builder().create(p)).map(|(p, ())| p)
}

/// Open `path` for reading and writing, creating it with `mode` when absent. The last
/// component is never followed when it is a symbolic link (`O_NOFOLLOW`), so a link planted
/// at a predictable name (a lock file) cannot redirect the write; an existing file keeps its
/// mode.
///
/// # Errors
/// The file cannot be opened or created; `ELOOP` for a symbolic link.
pub fn open_no_follow(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Open `path` for reading only, never following a symbolic link at its last component (as
/// [`open_no_follow`]; `ELOOP` for a link), for a file that must be the one at that name (a
/// key beside a database).
///
/// # Errors
/// The file cannot be opened; `ELOOP` for a symbolic link.
pub fn read_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// How many names (hard links) the open `file` has: more than one means a link planted at a
/// predictable name to a file of someone's, which the lock and the key refuse.
///
/// # Errors
/// The file's metadata cannot be read.
pub fn names(file: &std::fs::File) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.nlink())
}

/// Create `path` as a new file with `mode` (before the umask), open for writing; fails when
/// anything is there already (never following a link planted at the name).
///
/// # Errors
/// `AlreadyExists`; the directory does not exist or cannot be written.
pub fn create_new(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// Create `path` as a new empty file with `mode` if nothing is there (never following a
/// link planted at the name); leave an existing file as its owner set it.
///
/// # Errors
/// The directory does not exist or cannot be written.
pub fn create_if_absent(path: &Path, mode: u32) -> std::io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A file being written beside its target; see the module docs.
#[derive(Debug)]
pub struct AtomicFile {
    file: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    target: PathBuf,
    done: bool,
}

impl AtomicFile {
    /// Create the temporary sibling of `target` with `mode` (before the umask) for a file
    /// that does not exist yet.
    ///
    /// # Errors
    /// The directory does not exist or cannot be written.
    pub fn create(target: &Path, mode: u32) -> std::io::Result<AtomicFile> {
        let (path, file) = create_sibling(target, ".part", |p| {
            // `create_new` is O_CREAT|O_EXCL: it never follows a link planted at the name.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(p)
        })?;
        Ok(AtomicFile {
            file: std::io::BufWriter::new(file),
            path,
            target: target.to_path_buf(),
            done: false,
        })
    }

    /// Where the content is being written (to read it back before committing).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sync the content to disk, give it the replaced file's permissions, and rename it over
    /// the target.
    ///
    /// # Errors
    /// Writing, syncing or renaming failed; the temporary file is removed.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        if let Ok(old) = std::fs::metadata(&self.target) {
            // Not allowed to give the file away (EPERM): it stays ours, with the old mode.
            let _ = std::os::unix::fs::chown(&self.path, Some(old.uid()), Some(old.gid()));
            std::fs::set_permissions(&self.path, old.permissions())?;
        }
        std::fs::rename(&self.path, &self.target)?;
        self.done = true;
        sync_dir(parent_of(&self.target));
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Replace `target` with `bytes` atomically; a new file gets `mode` (before the umask).
///
/// # Errors
/// As [`AtomicFile::create`] and [`AtomicFile::commit`]; the target is then untouched.
pub fn write(target: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut f = AtomicFile::create(target, mode)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Make a rename in `dir` durable (best effort: some file systems refuse to sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A directory of files being written beside its target (`.NAME.XXXXXXXXXX`: the usual
/// directory mode under the umask, or 0700 for a private one), put in place by one rename;
/// removed when dropped uncommitted.
#[derive(Debug)]
pub struct StagedDir {
    dir: PathBuf,
    target: PathBuf,
    done: bool,
}

impl StagedDir {
    /// Create the staging directory beside `target`, private (0700, see [`new_private_dir`])
    /// when `private`: what it holds identifies people.
    ///
    /// # Errors
    /// The parent directory does not exist or cannot be written.
    pub fn create(target: &Path, private: bool) -> std::io::Result<StagedDir> {
        // mkdir(2) never follows a link planted at the name.
        let dir = match private {
            true => new_private_dir(target)?,
            false => create_sibling(target, "", |p| std::fs::create_dir(p))?.0,
        };
        Ok(StagedDir {
            dir,
            target: target.to_path_buf(),
            done: false,
        })
    }

    /// The directory to write the files into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A sibling of the staging directory for a file that will replace the target instead
    /// (a packed archive of the staged files).
    ///
    /// # Errors
    /// As [`AtomicFile::create`].
    pub fn sibling_file(&self, mode: u32) -> std::io::Result<AtomicFile> {
        AtomicFile::create(&self.target, mode)
    }

    /// Rename the staged directory over the target (an existing target is moved aside first
    /// and removed once the new one is in place; put back if the rename fails).
    ///
    /// # Errors
    /// A rename failed; the target is then as it was.
    pub fn commit(mut self) -> std::io::Result<()> {
        let staged = self.dir.clone();
        let put = || -> std::io::Result<()> {
            if std::fs::symlink_metadata(&self.target).is_err() {
                return std::fs::rename(&staged, &self.target);
            }
            // Beside the staged directory, under its unpredictable name.
            let mut old = staged.as_os_str().to_owned();
            old.push(".old");
            let old = PathBuf::from(old);
            std::fs::rename(&self.target, &old)?;
            if let Err(e) = std::fs::rename(&staged, &self.target) {
                let _ = std::fs::rename(&old, &self.target);
                return Err(e);
            }
            if old.is_dir() {
                std::fs::remove_dir_all(&old)
            } else {
                std::fs::remove_file(&old)
            }
        };
        let done = put();
        // On success the staged name is gone; on failure Drop removes it.
        self.done = done.is_ok();
        sync_dir(parent_of(&self.target));
        done
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_file_is_replaced_whole_keeping_its_mode_and_nothing_is_left_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.json");
        write(&target, b"one", PUBLIC).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&target, b"two", PRIVATE).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o640);
        // Dropped uncommitted: the target keeps its content and no temporary file remains.
        let mut f = AtomicFile::create(&target, PUBLIC).unwrap();
        f.write_all(b"three").unwrap();
        assert!(f.path().file_name().unwrap().to_string_lossy().starts_with(".r.json."));
        drop(f);
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        assert_eq!(names(dir.path()), vec!["r.json"]);
        // A new private file is 0600.
        let secret = dir.path().join("key");
        write(&secret, b"k", PRIVATE).unwrap();
        assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_new_private_directory_is_0700_and_never_one_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let near = dir.path().join("whohosts-demo");
        let a = new_private_dir(&near).unwrap();
        let b = new_private_dir(&near).unwrap();
        assert_ne!(a, b);
        for d in [&a, &b] {
            assert_eq!(std::fs::metadata(d).unwrap().permissions().mode() & 0o777, 0o700);
            assert!(d.file_name().unwrap().to_string_lossy().starts_with(".whohosts-demo."));
        }
        private_dir(&dir.path().join("x/y")).unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join("x/y")).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn a_planted_symlink_at_a_guessable_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("out.part")).unwrap();
        write(&dir.path().join("out"), b"new", PUBLIC).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(dir.path().join("out")).unwrap(), b"new");
    }

    #[test]
    fn a_staged_directory_replaces_the_target_or_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("export");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.csv"), b"old").unwrap();
        let staged = StagedDir::create(&target, false).unwrap();
        std::fs::write(staged.path().join("new.csv"), b"new").unwrap();
        staged.commit().unwrap();
        assert_eq!(names(&target), vec!["new.csv"]);
        assert_eq!(names(dir.path()), vec!["export"]);
        let staged = StagedDir::create(&target, false).unwrap();
        std::fs::write(staged.path().join("half.csv"), b"x").unwrap();
        drop(staged);
        assert_eq!(names(dir.path()), vec!["export"]);
        assert_eq!(names(&target), vec!["new.csv"]);
    }
}
