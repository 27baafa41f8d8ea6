//! Keyed pseudonyms: HMAC-SHA256 under a secret key of the database being exported.
//!
//! The key is derived from the database's own key file (`DB.optout-key`, beside the database,
//! mode 0600, made by the first command that writes the database: [`crate::store::optout`];
//! an export never makes one), never exported or printed: exports of one database agree with each other across snapshots and runs, and
//! exports of two databases share no pseudonym. With `--recipient NAME` the key is derived
//! from the database key and the name, so two researchers given exports of one database cannot
//! join their files. A key file that others may read is refused.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::store::optout::{self, OptOut};

/// Hex digits kept of each HMAC (96 bits).
pub const PSEUDONYM_HEX: usize = 24;
/// Bits of each pseudonym.
pub const PSEUDONYM_BITS: usize = PSEUDONYM_HEX * 4;
/// Longest `--recipient` name.
pub const MAX_RECIPIENT: usize = 100;

/// The HMAC key, and which kind of key it is.
pub struct Pseudonymiser {
    key: [u8; 32],
    recipient: Option<String>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(key hidden)")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser with this key (tests, benchmarks).
    pub fn with_key(key: [u8; 32]) -> Pseudonymiser {
        Pseudonymiser { key, recipient: None }
    }

    /// The key of the database at `db` (its key file is never made here: exporting is
    /// reading), for `recipient` when one is named.
    ///
    /// # Errors
    /// [`Error::Export`] for a key file others can read, or a recipient name that is empty,
    /// longer than [`MAX_RECIPIENT`] or holds control characters; store and I/O errors.
    pub fn of_database(db: &Path, recipient: Option<&str>) -> Result<Pseudonymiser> {
        if let Some(r) = recipient {
            if r.trim().is_empty() || r.chars().count() > MAX_RECIPIENT || r.chars().any(char::is_control) {
                return Err(Error::Export(format!(
                    "--recipient {:?}: expected a name of 1 to {MAX_RECIPIENT} characters without control characters",
                    crate::model::text::bounded(r, MAX_RECIPIENT + 1)
                )));
            }
        }
        let path = optout::key_path(db)?;
        if path.exists() {
            check_private(&path)?;
        }
        let base = OptOut::existing(db)?;
        let purpose = match recipient {
            None => "export pseudonyms".to_string(),
            Some(r) => format!("export pseudonyms for recipient\0{r}"),
        };
        Ok(Pseudonymiser {
            key: base.derive(purpose.as_bytes()),
            recipient: recipient.map(str::to_string),
        })
    }

    /// Which key made the pseudonyms, as the data package says (never the key itself).
    pub fn kind(&self) -> String {
        match &self.recipient {
            None => "per database: HMAC-SHA256 under a key kept beside the exported database".to_string(),
            Some(r) => format!(
                "per recipient ({r}): HMAC-SHA256 under a key derived from the database's key and the recipient's name; exports for other recipients do not join"
            ),
        }
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

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::Export(format!(
            "pseudonym key {}: readable by others (mode {:o}); run `chmod 600 {}` first",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_database_and_per_recipient() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.db"), dir.path().join("two.db"));
        let x = "https://x.example/users/alice";
        // Reading never makes the key: a command that writes the database does.
        let err = Pseudonymiser::of_database(&one, None).unwrap_err().to_string();
        assert!(err.contains("its pseudonym key") && err.contains("is missing"), "{err}");
        assert!(!optout::key_path(&one).unwrap().exists());
        OptOut::of_database(&one).unwrap();
        OptOut::of_database(&two).unwrap();
        let a = Pseudonymiser::of_database(&one, None).unwrap();
        let p = a.pseudonym("account", x);
        assert_eq!(
            p,
            Pseudonymiser::of_database(&one, None).unwrap().pseudonym("account", x)
        );
        assert_eq!(p.len(), 2 + PSEUDONYM_HEX);
        assert!(p.starts_with("a-"), "{p}");
        assert_ne!(p, a.pseudonym("account", "https://x.example/users/bob"));
        assert_ne!(a.pseudonym("handle", "x"), a.pseudonym("account", "x"));
        assert_ne!(
            p,
            Pseudonymiser::of_database(&two, None).unwrap().pseudonym("account", x)
        );
        let ra = Pseudonymiser::of_database(&one, Some("A")).unwrap();
        let rb = Pseudonymiser::of_database(&one, Some("B")).unwrap();
        assert_ne!(ra.pseudonym("account", x), rb.pseudonym("account", x));
        assert_ne!(ra.pseudonym("account", x), p);
        assert!(ra.kind().starts_with("per recipient (A)"), "{}", ra.kind());
        assert!(a.kind().starts_with("per database"), "{}", a.kind());
        let err = Pseudonymiser::of_database(&one, Some(" ")).unwrap_err().to_string();
        assert_eq!(
            err,
            "export: --recipient \" \": expected a name of 1 to 100 characters without control characters"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = optout::key_path(&one).unwrap();
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = Pseudonymiser::of_database(&one, None).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "export: pseudonym key {}: readable by others (mode 644); run `chmod 600 {}` first",
                    key.display(),
                    key.display()
                )
            );
        }
    }

    #[test]
    fn different_keys_give_different_pseudonyms() {
        let a = Pseudonymiser::with_key([1; 32]);
        let b = Pseudonymiser::with_key([2; 32]);
        assert_ne!(a.pseudonym("account", "x"), b.pseudonym("account", "x"));
        assert_eq!(format!("{a:?}"), "Pseudonymiser(key hidden)");
    }
}
