//! What kind of contact source a file is, told from its content (a Google export named
//! `contacts.txt` is still a CSV).

use std::io::Read;
use std::path::Path;

use super::{not_contacts, unreadable};
use crate::Result;

/// A contact source's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// vCard 3 or 4 (`BEGIN:VCARD`).
    VCard,
    /// A CSV (or TSV, or `;`-separated) table with a header row.
    Csv,
    /// One address a line.
    Text,
    /// An mbox file (`From ` lines between messages).
    Mbox,
    /// One message (`.eml`): read as an mbox of one.
    Message,
    /// A Maildir folder (`cur/`, `new/`).
    Maildir,
}

impl Kind {
    /// The name messages use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::VCard => "vCard",
            Kind::Csv => "CSV",
            Kind::Text => "text",
            Kind::Mbox => "mbox",
            Kind::Message => "message",
            Kind::Maildir => "Maildir",
        }
    }
}

/// How much of a file is read to tell its kind.
const SNIFF: usize = 8192;

/// Header names that open a message file.
const MESSAGE_HEADERS: [&str; 8] = [
    "return-path:",
    "received:",
    "from:",
    "delivered-to:",
    "message-id:",
    "date:",
    "to:",
    "mime-version:",
];

/// Whether `head` (a file's first bytes) is binary data rather than text: a NUL byte, or
/// more than one byte in 64 a control character no text holds (C0 controls but tab, line
/// feed, form feed, carriage return and the escape of ISO-2022 mail). Bytes above 0x7F are
/// text: 8-bit mail and address books (Latin-1, Windows-1252) are read, line by line
/// ([`super::lines::decode`]).
fn binary(head: &[u8]) -> bool {
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | 0x1b) || b == 0x7f)
        .count();
    head.contains(&0) || control * 64 > head.len()
}

/// The kind of the source at `path`: a folder with `cur/` or `new/` is a Maildir; a file is
/// told by its first line. Binary data ([`binary`], in the first 8 KiB; UTF-16 is named) and
/// an empty file are errors.
pub fn kind(path: &Path) -> Result<Kind> {
    if path.is_dir() {
        if path.join("cur").is_dir() || path.join("new").is_dir() {
            return Ok(Kind::Maildir);
        }
        return Err(not_contacts(
            path,
            "is a folder but not a Maildir (no cur/ or new/ inside)",
        ));
    }
    let mut head = Vec::with_capacity(SNIFF);
    std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF as u64).read_to_end(&mut head))
        .map_err(|e| unreadable(path, e))?;
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(not_contacts(
            path,
            "is UTF-16 text; save it as UTF-8 (or Latin-1) and give it again",
        ));
    }
    if binary(&head) {
        return Err(not_contacts(
            path,
            "is not text (binary data); expected vCard, CSV, plain text, mbox or Maildir",
        ));
    }
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(not_contacts(path, "is empty"));
    }
    let (text, _) = super::lines::decode(&head);
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let lower = first.to_ascii_lowercase();
    Ok(if lower.starts_with("begin:vcard") {
        Kind::VCard
    } else if first.starts_with("From ") {
        Kind::Mbox
    } else if MESSAGE_HEADERS.iter().any(|h| lower.starts_with(h)) {
        Kind::Message
    } else if super::table::delimiter(first).is_some() || super::table::lone_header(first) {
        Kind::Csv
    } else {
        Kind::Text
    })
}
