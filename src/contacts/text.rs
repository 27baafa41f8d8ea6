//! Plain text contact lists: one address a line (or several, comma-separated), bare or as
//! `Name <addr>`; blank lines and `#` comments skipped.

use std::io::BufRead;
use std::path::Path;

use super::{mailbox, unreadable, Book};
use crate::model::contact::Address;
use crate::Result;

/// Read the text list at `path` into `book`.
pub fn read(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    for (n, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line.map_err(|e| unreadable(path, e))?;
        let line = String::from_utf8_lossy(&line);
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let found = mailbox::addresses(line);
        if found.is_empty() {
            book.entry(path, n as u64 + 1, line, Address::classify);
        }
        for a in found {
            book.entry(path, n as u64 + 1, &a, Address::classify);
        }
    }
    Ok(())
}
