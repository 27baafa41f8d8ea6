//! Reading a configuration: TOML text or a file, relative paths resolved against the file,
//! named files checked, syntax errors reported as one precise line.

use std::path::{Path, PathBuf};

use super::validate::normalised_hosts;
use super::{Config, Paths};
use crate::error::{Error, Result};

impl Config {
    /// Parse a configuration from TOML text; `path` only names the source in errors.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, line and key when the text is not valid.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let mut config: Config = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;
        let in_file = |e: Error| Error::Config {
            path: path.to_path_buf(),
            message: match e {
                Error::ConfigValue(m) => m,
                other => other.to_string(),
            },
        };
        config.hosts = normalised_hosts(std::mem::take(&mut config.hosts)).map_err(in_file)?;
        config.validate().map_err(in_file)?;
        Ok(config)
    }

    /// Read and parse a configuration file. Relative paths in it are relative to the file's
    /// directory, wherever whohosts is run from.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Config`] when it does not parse.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file("config file", path, e))?;
        let mut config = Config::from_toml(&text, path)?;
        config.resolve_paths(path.parent().unwrap_or(Path::new("")));
        config.check_files(path)?;
        Ok(config)
    }

    /// Check that the files a config names exist, so a wrong path is reported with its key
    /// and the config file, not later as a bare file name.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, the key and the path it resolved to.
    fn check_files(&self, path: &Path) -> Result<()> {
        let certs = self.network.extra_root_certificates.iter().map(PathBuf::from);
        let named = certs.map(|p| ("network.extra_root_certificates", p)).chain(
            self.attribution
                .asn_database
                .list()
                .into_iter()
                .map(|p| ("attribution.asn_database", p)),
        );
        for (key, file) in named {
            if !file.is_file() {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!(
                        "{key}: no file {} (relative paths are relative to the config file)",
                        // The path as resolved, whole: a config given as `c.toml` resolves
                        // `v4.csv` to `./v4.csv`, which would not say where it was looked for.
                        std::path::absolute(&file).unwrap_or(file.clone()).display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Make every relative path key (`data_dir`, `network.extra_root_certificates`,
    /// `attribution.asn_database`) relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        let under = |p: &String| -> String {
            if p.is_empty() || Path::new(p).is_absolute() {
                p.clone()
            } else {
                base.join(p).to_string_lossy().into_owned()
            }
        };
        self.data_dir = under(&self.data_dir);
        self.network.extra_root_certificates = self.network.extra_root_certificates.iter().map(under).collect();
        self.attribution.asn_database = match &self.attribution.asn_database {
            Paths::One(p) => Paths::One(under(p)),
            Paths::Many(v) => Paths::Many(v.iter().map(under).collect()),
        };
    }
}

/// A TOML error as one precise line: `FILE:LINE:COLUMN: message (in `the line`)`.
fn syntax_error(text: &str, path: &Path, e: &toml::de::Error) -> Error {
    let start = e.span().map_or(0, |s| s.start).min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    let source_line = text.lines().nth(line - 1).unwrap_or("").trim();
    let shown: String = source_line.chars().take(80).collect();
    let message = e.message().trim().replace('\n', " ");
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line,
        column,
        message: if shown.is_empty() {
            message
        } else {
            format!("{message} (in `{shown}`)")
        },
    }
}
