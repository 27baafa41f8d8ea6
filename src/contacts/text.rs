//! Plain text contact lists: one address a line (or several, comma-separated), bare or as
//! `Name <addr>`; blank lines and `#` comments skipped; a line longer than
//! [`lines::MAX_LINE`] is one malformed entry.

use std::path::Path;

use super::{lines, mailbox, unreadable, Book};
use crate::model::contact::Address;
use crate::Result;

/// Read the text list at `path` into `book`.
pub fn read(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let (mut buf, mut n) = (Vec::new(), 0u64);
    while let Some(cut) = lines::next(&mut reader, &mut buf, lines::MAX_LINE).map_err(|e| unreadable(path, e))? {
        n += 1;
        let line = book.decode(path, n, &buf).into_owned();
        let line = line.trim().trim_start_matches('\u{feff}');
        if cut {
            book.entry(path, n, line, |_| Err(lines::TOO_LONG));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let found = mailbox::addresses(line);
        if found.is_empty() {
            book.entry(path, n, line, Address::classify);
        }
        for a in found {
            book.entry(path, n, &a, Address::classify);
        }
    }
    Ok(())
}
