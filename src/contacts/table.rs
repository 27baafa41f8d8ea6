//! CSV exports of address books (Google Contacts, Outlook, Thunderbird and the like): every
//! column whose header names an e-mail, XMPP or Matrix address is read, whatever else the
//! table holds. Google packs several values into one cell with ` ::: `. Lines are cut at
//! [`lines::MAX_LINE`] bytes, each cut one malformed entry.

use std::path::Path;

use super::{lines, mailbox, not_contacts, unreadable, Book};
use crate::model::contact::Address;
use crate::model::handle::echo;
use crate::Result;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    Xmpp,
    Matrix,
    /// An instant-messaging value of unnamed service: told by its form, a bare `u@d` is XMPP.
    Im,
}

/// The delimiter of a header row, if `line` looks like one: no `@` (a header names
/// columns, it holds no address) and at least one `,`, `;` or tab (the most frequent wins).
pub fn delimiter(line: &str) -> Option<u8> {
    if line.contains('@') {
        return None;
    }
    [b',', b';', b'\t']
        .into_iter()
        .map(|d| (line.bytes().filter(|&b| b == d).count(), d))
        .filter(|&(n, _)| n > 0)
        .max_by_key(|&(n, _)| n)
        .map(|(_, d)| d)
}

/// Whether `line` is the header of a one-column table: a single name of an address column
/// (`Email`, `E-mail Address`), with no delimiter and no `@`.
pub fn lone_header(line: &str) -> bool {
    !line.contains('@') && delimiter(line).is_none() && column(line).is_some()
}

/// What the column named `header` holds, if addresses.
fn column(header: &str) -> Option<Column> {
    let h = header.trim().to_lowercase();
    let meta = ["type", "label", "display", "service", "name"]
        .iter()
        .any(|m| h.contains(m));
    if h.contains("jabber") || h.contains("xmpp") {
        Some(Column::Xmpp)
    } else if h.contains("matrix") {
        Some(Column::Matrix)
    } else if h.contains("mail") && !meta {
        Some(Column::Email)
    } else if (h.starts_with("im ") || h == "im" || h.contains("chat")) && !meta {
        Some(Column::Im)
    } else {
        None
    }
}

/// Read the table at `path` into `book`.
pub fn read(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let mut head = Vec::new();
    lines::next(&mut std::io::BufReader::new(&file), &mut head, lines::MAX_LINE).map_err(|e| unreadable(path, e))?;
    let (head, _) = lines::decode(&head);
    let delimiter = delimiter(head.trim_start_matches('\u{feff}')).unwrap_or(b',');
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let capped = lines::Capped::new(std::io::BufReader::new(file), lines::MAX_LINE);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(capped);
    let headers = reader
        .byte_headers()
        .map_err(|e| not_contacts(path, &format!("unreadable header row: {e}")))?
        .clone();
    let columns: Vec<(usize, Column)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| column(&lines::decode(h).0.replace('\u{feff}', "")).map(|c| (i, c)))
        .collect();
    if columns.is_empty() {
        let names: Vec<String> = headers.iter().map(|h| lines::decode(h).0.into_owned()).collect();
        return Err(not_contacts(
            path,
            &format!(
                "has no column of e-mail, XMPP or Matrix addresses (header: {})",
                echo(&names.join(","))
            ),
        ));
    }
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken quote or invalid row is one malformed entry, not the end of the file.
                book.malformed.push(super::Malformed {
                    file: path.to_path_buf(),
                    line,
                    text: String::new(),
                    reason: if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        "unreadable row"
                    } else {
                        "a row CSV cannot read"
                    },
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(not_contacts(path, &format!("read failed at line {line}: {e}")));
                }
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        for &(i, kind) in &columns {
            let Some(cell) = record.get(i) else { continue };
            let cell = book.decode(path, line, cell).replace(":::", ",");
            for a in mailbox::addresses(&cell) {
                book.entry(path, line, &a, |v| parse(kind, v));
            }
        }
    }
    for &line in &reader.get_ref().cut {
        book.entry(path, line, "", |_| Err(lines::CUT));
    }
    Ok(())
}

/// `v` read as a column of `kind` holds it.
fn parse(kind: Column, v: &str) -> std::result::Result<Address, &'static str> {
    let has_scheme = v.contains(':') && !v.starts_with('@');
    match kind {
        Column::Email => Address::classify(v),
        Column::Xmpp if !has_scheme => Address::xmpp(v),
        Column::Matrix if !has_scheme => Address::matrix(v),
        Column::Im if !has_scheme && !v.starts_with('@') => Address::xmpp(v),
        _ => Address::classify(v),
    }
}
