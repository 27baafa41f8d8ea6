//! Where an export goes: a directory or a `.tar.gz`, written whole or not at all.
//!
//! Files are written into a hidden temporary sibling of the target (`.NAME.partial-PID`),
//! which is renamed into place only when everything is written; on any failure (or a panic)
//! the sibling is removed, so nothing half-written is left behind. An existing non-empty
//! directory or an existing `.tar.gz` is only replaced with `--force`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// An export being written.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    /// The directory files are written into.
    dir: PathBuf,
    /// The `.tar.gz` being packed, when the target is one.
    tarball: Option<PathBuf>,
    done: bool,
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
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| refuse(format!("{} names no file or directory", target.display())))?;
        let tarball = is_tarball(target);
        if target.exists() && !force {
            if tarball {
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
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| cannot(target, e))?;
        Ok(Staging {
            target: target.to_path_buf(),
            tarball: tarball.then(|| parent.join(format!(".{name}.partial-{}.tar.gz", std::process::id()))),
            dir,
            done: false,
        })
    }

    /// The directory to write the files into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside the written directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Put the export in place: pack it when the target is a `.tar.gz`, then rename.
    ///
    /// # Errors
    /// [`Error::Export`] naming the target; the temporary files are removed.
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.clone();
        match self.tarball.clone() {
            Some(tmp) => {
                self.pack(&tmp).map_err(|e| cannot(&target, e))?;
                std::fs::rename(&tmp, &target).map_err(|e| cannot(&target, e))?;
            }
            None => self.replace_dir().map_err(|e| cannot(&target, e))?,
        }
        self.done = true;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }

    fn replace_dir(&self) -> std::io::Result<()> {
        if !self.target.exists() {
            return std::fs::rename(&self.dir, &self.target);
        }
        let old = self.dir.with_extension("old");
        std::fs::rename(&self.target, &old)?;
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            let _ = std::fs::rename(&old, &self.target);
            return Err(e);
        }
        if old.is_dir() {
            std::fs::remove_dir_all(&old)
        } else {
            std::fs::remove_file(&old)
        }
    }

    /// Pack the directory as `STEM/…` (STEM: the target's name without `.tar.gz`), with
    /// deterministic headers (no owner names, fixed times).
    fn pack(&self, tmp: &Path) -> std::io::Result<()> {
        let stem = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".tar.gz").to_string())
            .unwrap_or_default();
        let file = std::fs::File::create(tmp)?;
        let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        tar.follow_symlinks(false);
        tar.append_dir_all(&stem, &self.dir)?;
        let gz = tar.into_inner()?;
        let mut buf = gz.finish()?;
        std::io::Write::flush(&mut buf)?;
        buf.get_ref().sync_all()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
            if let Some(t) = &self.tarball {
                let _ = std::fs::remove_file(t);
            }
        }
    }
}
