//! Contacts beyond the fediverse, the input side: address books and mailboxes read into
//! normalised addresses ([`crate::model::contact::Address`]) with their weights.
//!
//! # Architecture
//! [`read`] tells each file's kind from its content, never its name ([`detect`]), and hands
//! it to its reader: [`vcard`] (vCard 3 and 4, folded lines, several EMAIL and IMPP per
//! card), [`table`] (CSV exports of Google Contacts, Outlook, Thunderbird: any column whose
//! header names an e-mail, XMPP or Matrix address), [`text`] (one address a line, or
//! `Name <addr>`), [`mbox`] (mbox files and Maildir folders, streamed, for the `messages`
//! weight). Every reader turns the text it finds into addresses through the one
//! address-list parser ([`mailbox::addresses`]) and [`Address::classify`], so an address
//! spelled twice is one contact. A malformed entry is counted and kept with its file and
//! line, never fatal; a file that is no contact source at all (binary, empty, a CSV with no
//! address column) is one error naming it.
//!
//! Who serves each address is [`serve`] (MX, SRV, Matrix discovery, a fediverse handle's
//! WebFinger, each with the steps taken) and, behind a filtering gateway, [`spf`]; the
//! measurement is stored as a snapshot of kind `contacts` by [`crate::pipeline::contacts`].

pub mod detect;
pub mod lines;
pub mod mailbox;
pub mod mbox;
pub mod serve;
pub mod spf;
pub mod table;
pub mod text;
pub mod vcard;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::contact::Address;
use crate::model::handle::echo;

pub use detect::Kind;

/// How much one address weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Weight {
    /// Messages exchanged with the address (each message once, however many of its headers
    /// name it); 0 when only address books name it.
    pub messages: u64,
    /// Messages the address sent (to find the mailbox owner when `--me` is not given).
    pub sent: u64,
}

/// An entry that names no usable address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The file it is in.
    pub file: PathBuf,
    /// Its line (1-based; in a Maildir, the message file's line).
    pub line: u64,
    /// The entry as written, cut to a short echo.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Everything read from the contact sources.
#[derive(Debug, Default)]
pub struct Book {
    /// Each distinct address once, with its weight.
    pub addresses: BTreeMap<Address, Weight>,
    /// Entries that name no usable address, in the order met.
    pub malformed: Vec<Malformed>,
    /// How many of them each source gave (a Maildir counts its messages' together), for the
    /// sources that gave any, in the order given.
    pub malformed_by_source: Vec<(PathBuf, usize)>,
    /// How many messages the mailboxes held.
    pub messages: u64,
    /// The kind each source was read as.
    pub sources: Vec<(PathBuf, Kind)>,
    /// The sources refused (binary, empty, no address column, unreadable), one error each
    /// naming the file; what a source gave before a read error stays in the book.
    pub refused: Vec<Error>,
    /// How many lines read were not UTF-8 (read as Windows-1252: their ASCII addresses
    /// intact, an 8-bit display name perhaps misread).
    pub recoded: u64,
    /// The first [`RECODED_LISTED`] of those lines, file and line (1-based).
    pub recoded_lines: Vec<(PathBuf, u64)>,
    /// The last line noted as not UTF-8 (a CSV row decodes cell by cell).
    last_recoded: Option<(PathBuf, u64)>,
}

/// How many lines that were not UTF-8 a book lists (it counts them all).
pub const RECODED_LISTED: usize = 1000;

impl Book {
    /// Note an address met in an address book (or a header, with `message` set).
    fn add(&mut self, addr: Address) -> &mut Weight {
        self.addresses.entry(addr).or_default()
    }

    /// The text of `bytes`, line `line` of `file` ([`lines::decode`]), noting the line when
    /// it was not UTF-8 (once, however many cells of it are decoded).
    fn decode<'a>(&mut self, file: &Path, line: u64, bytes: &'a [u8]) -> std::borrow::Cow<'a, str> {
        let (text, recoded) = lines::decode(bytes);
        let again = self.last_recoded.as_ref().is_some_and(|(f, l)| *l == line && f == file);
        if recoded && !again {
            self.recoded += 1;
            if self.recoded_lines.len() < RECODED_LISTED {
                self.recoded_lines.push((file.to_path_buf(), line));
            }
            self.last_recoded = Some((file.to_path_buf(), line));
        }
        text
    }

    /// Note `raw` from `file:line`: its address, or a malformed entry.
    fn entry(
        &mut self,
        file: &Path,
        line: u64,
        raw: &str,
        parse: impl Fn(&str) -> std::result::Result<Address, &'static str>,
    ) {
        match parse(raw) {
            Ok(a) => {
                self.add(a);
            }
            Err(reason) => self.malformed.push(Malformed {
                file: file.to_path_buf(),
                line,
                text: echo(raw),
                reason,
            }),
        }
    }

    /// The owner's addresses: those given, else the most frequent sender of the mailboxes
    /// read (none when no mailbox was read).
    pub fn owner(&self, given: &[Address]) -> Vec<Address> {
        if !given.is_empty() {
            return given.to_vec();
        }
        let top = self
            .addresses
            .iter()
            .filter(|(_, w)| w.sent > 0)
            .max_by_key(|(a, w)| (w.sent, std::cmp::Reverse(*a)));
        top.map(|(a, _)| vec![a.clone()]).unwrap_or_default()
    }

    /// Remove the owner's own addresses: they are not contacts.
    pub fn without(mut self, owner: &[Address]) -> Book {
        for a in owner {
            self.addresses.remove(a);
        }
        self
    }
}

/// Read every source into one book. A source that is no contact source at all (or cannot be
/// read) is one error in [`Book::refused`] naming it, and the other sources are still read;
/// malformed entries inside a source are listed in [`Book::malformed`].
pub fn read(paths: &[PathBuf]) -> Book {
    let mut book = Book::default();
    for path in paths {
        let before = book.malformed.len();
        match read_one(path, &mut book) {
            Ok(kind) => book.sources.push((path.clone(), kind)),
            Err(e) => book.refused.push(e),
        }
        // A source refused after a read error keeps what it gave, malformed entries too.
        let n = book.malformed.len() - before;
        if n > 0 {
            book.malformed_by_source.push((path.clone(), n));
        }
    }
    book
}

/// Read the source at `path` into `book`.
///
/// # Errors
/// A source that is no contact source, or a read error.
pub fn read_one(path: &Path, book: &mut Book) -> Result<Kind> {
    let kind = detect::kind(path)?;
    match kind {
        Kind::VCard => vcard::read(path, book)?,
        Kind::Csv => table::read(path, book)?,
        Kind::Text => text::read(path, book)?,
        Kind::Mbox => mbox::read_mbox(path, book)?,
        Kind::Message => mbox::read_message(path, book)?,
        Kind::Maildir => mbox::read_maildir(path, book)?,
    }
    Ok(kind)
}

/// The error for a file that cannot be read.
fn unreadable(path: &Path, e: std::io::Error) -> Error {
    Error::File {
        what: "contacts file",
        path: path.to_path_buf(),
        note: "",
        source: e,
    }
}

/// The error for a file that is no contact source.
fn not_contacts(path: &Path, what: &str) -> Error {
    Error::Input(format!("contacts file {}: {what}", path.display()))
}

#[cfg(test)]
mod tests;
