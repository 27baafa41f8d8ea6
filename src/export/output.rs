//! Where an export goes: a directory or a `.tar.gz`, written whole or not at all.
//!
//! Files are written into a hidden temporary sibling of the target (a
//! [`files::StagedDir`]), which is renamed into place, or packed into the target through a
//! [`files::AtomicFile`], only when everything is written; on any failure (or a panic) the
//! sibling is removed, so nothing half-written is left behind. An existing non-empty
//! directory or an existing `.tar.gz` is only replaced with `--force`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;

/// An export being written.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    staged: files::StagedDir,
}

fn refuse(what: String) -> Error {
    Error::Export(what)
}

fn cannot(target: &Path, e: std::io::Error) -> Error {
    refuse(format!("cannot write {}: {e}", target.display()))
}

/// Whether `path` names a `.tar.gz` target.
pub fn is_tarball(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".tar.gz")
}

impl Staging {
    /// Check that `target` may be written (replaced only with `force`) and make the
    /// temporary directory beside it.
    ///
    /// # Errors
    /// [`Error::Export`] with one line naming the target and what is wrong.
    pub fn prepare(target: &Path, force: bool) -> Result<Staging> {
        if target.file_name().is_none() {
            return Err(refuse(format!("{} names no file or directory", target.display())));
        }
        if target.exists() && !force {
            if is_tarball(target) {
                return Err(refuse(format!(
                    "{} already exists: remove it or pass --force to replace it",
                    target.display()
                )));
            }
            let empty = std::fs::read_dir(target)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(refuse(format!(
                    "{} exists and is not an empty directory: choose another path or pass --force to replace it",
                    target.display()
                )));
            }
        }
        let staged = files::StagedDir::create(target).map_err(|e| cannot(target, e))?;
        Ok(Staging {
            target: target.to_path_buf(),
            staged,
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

    /// Put the export in place: pack it when the target is a `.tar.gz`, then rename.
    ///
    /// # Errors
    /// [`Error::Export`] naming the target; the temporary files are removed.
    pub fn commit(self) -> Result<()> {
        let target = self.target.clone();
        if is_tarball(&target) {
            // The staged directory is dropped (removed) once packed.
            self.pack().map_err(|e| cannot(&target, e))
        } else {
            self.staged.commit().map_err(|e| cannot(&target, e))
        }
    }

    /// Pack the directory as `STEM/…` (STEM: the target's name without `.tar.gz`), with
    /// deterministic headers (no owner names, fixed times), into the target.
    fn pack(&self) -> std::io::Result<()> {
        let stem = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".tar.gz").to_string())
            .unwrap_or_default();
        let file = self.staged.sibling_file(files::PUBLIC)?;
        let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        tar.follow_symlinks(false);
        tar.append_dir_all(&stem, self.staged.path())?;
        let gz = tar.into_inner()?;
        let buf = gz.finish()?;
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.commit()
    }
}
