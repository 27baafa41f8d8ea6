//! Keyed pseudonyms: HMAC-SHA256 under a secret key kept in the data directory.
//!
//! The key (32 random bytes, hex, `export.key` in the data directory) is made on first use,
//! mode 0600, created atomically (written to a private temporary file, then hard-linked into
//! place, so two exports racing agree on one key), and never exported or printed. A key file
//! that others may read is refused. The same input under the same key always gives the same
//! pseudonym, so one database's exports agree with each other across snapshots and runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "export.key";
/// Hex digits kept of each HMAC (96 bits).
pub const PSEUDONYM_HEX: usize = 24;
/// Bits of each pseudonym.
pub const PSEUDONYM_BITS: usize = PSEUDONYM_HEX * 4;

/// The HMAC key.
pub struct Pseudonymiser {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(key hidden)")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser with this key (tests, benchmarks).
    pub fn with_key(key: [u8; 32]) -> Pseudonymiser {
        Pseudonymiser { key }
    }

    /// The key of `data_dir`, created on first use.
    ///
    /// # Errors
    /// [`Error::Export`] for a key file others can read or that is not a key; [`Error::Io`].
    pub fn of_data_dir(data_dir: &Path) -> Result<Pseudonymiser> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            create(data_dir, &path)?;
        }
        read(&path).map(|key| Pseudonymiser { key })
    }

    /// The pseudonym of `value` in `domain` (`account`, `handle`, `uri`, `name` …): the
    /// domain's first letter and `-`, then the first [`PSEUDONYM_HEX`] hex digits of
    /// HMAC-SHA256(key, domain ‖ 0 ‖ value).
    pub fn pseudonym(&self, domain: &str, value: &str) -> String {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(PSEUDONYM_HEX + 2);
        out.push_str(&domain[..1.min(domain.len())]);
        out.push('-');
        for b in digest.iter().take(PSEUDONYM_HEX / 2) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

fn bad_key(path: &Path, what: &str) -> Error {
    Error::Export(format!("pseudonym key {}: {what}", path.display()))
}

fn read(path: &Path) -> Result<[u8; 32]> {
    check_private(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let hex = text.trim();
    let mut key = [0u8; 32];
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad_key(path, "not a whohosts key (64 hex digits expected)"));
    }
    for (i, b) in key.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).unwrap_or("");
        *b = u8::from_str_radix(pair, 16).map_err(|_| bad_key(path, "not a whohosts key (64 hex digits expected)"))?;
    }
    Ok(key)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(bad_key(
            path,
            &format!(
                "readable by others (mode {:o}); run `chmod 600 {}` first",
                mode & 0o777,
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

fn create(data_dir: &Path, path: &Path) -> Result<()> {
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| bad_key(path, &format!("no randomness: {e}")))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let tmp: PathBuf = data_dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
    let written = private_file(&tmp).and_then(|mut f| {
        f.write_all(format!("{hex}\n").as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        // Another export made the key first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
        Ok(()) => Ok(()),
    }
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_made_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = Pseudonymiser::of_data_dir(dir.path()).unwrap();
        let b = Pseudonymiser::of_data_dir(dir.path()).unwrap();
        let p = a.pseudonym("account", "https://x.example/users/alice");
        assert_eq!(p, b.pseudonym("account", "https://x.example/users/alice"));
        assert_eq!(p.len(), 2 + PSEUDONYM_HEX);
        assert!(p.starts_with("a-"), "{p}");
        assert_ne!(p, a.pseudonym("account", "https://x.example/users/bob"));
        assert_ne!(a.pseudonym("handle", "x"), a.pseudonym("account", "x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join(KEY_FILE);
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = Pseudonymiser::of_data_dir(dir.path()).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "export: pseudonym key {}: readable by others (mode 644); run `chmod 600 {}` first",
                    key.display(),
                    key.display()
                )
            );
        }
        // The temporary file is gone: only the key remains.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn different_keys_give_different_pseudonyms() {
        let a = Pseudonymiser::with_key([1; 32]);
        let b = Pseudonymiser::with_key([2; 32]);
        assert_ne!(a.pseudonym("account", "x"), b.pseudonym("account", "x"));
        assert_eq!(format!("{a:?}"), "Pseudonymiser(key hidden)");
    }
}
