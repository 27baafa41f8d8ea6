//! Mailboxes: mbox files (and single `.eml` messages) streamed line by line, and Maildir
//! folders message by message, for the `messages` weight: every address in a message's
//! `From`, `To` and `Cc` counts that message once. Only headers are parsed; bodies are
//! skipped as they stream past, so memory does not grow with the mailbox.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

use super::{lines, mailbox, unreadable, Book};
use crate::model::contact::Address;
use crate::Result;

/// The longest `From`/`To`/`Cc` header read whole, folded lines joined: 1 MiB, some 30,000
/// addresses. A longer one is read up to its last whole address before the bound, and is one
/// malformed entry ([`HEADER_CUT`]) naming its file and line: the addresses after it are not
/// counted, and that is said, never silent.
pub const MAX_HEADER: usize = 1 << 20;

/// The reason given for a header longer than [`MAX_HEADER`].
pub const HEADER_CUT: &str = "a header longer than 1 MiB: its addresses after the first MiB are not counted";

/// One `From`, `To` or `Cc` header being read.
struct Header {
    from: bool,
    /// The line it starts on (1-based).
    line: u64,
    value: String,
    /// Whether it went past [`MAX_HEADER`] (the rest was dropped).
    cut: bool,
}

impl Header {
    /// Append `text` (a line's value, or a continuation), up to [`MAX_HEADER`].
    fn push(&mut self, text: &str, cut: bool) {
        if self.cut {
            return;
        }
        let room = MAX_HEADER.saturating_sub(self.value.len());
        if cut || text.len() > room {
            self.cut = true;
            // Up to the last address that is whole: a cut one would be a wrong address.
            let mut fits = room.min(text.len());
            while !text.is_char_boundary(fits) {
                fits -= 1;
            }
            let whole = text[..fits].rfind(',').unwrap_or(0);
            self.value.push_str(&text[..whole]);
            return;
        }
        self.value.push_str(text);
    }
}

/// The headers of one message being read.
#[derive(Default)]
struct Message {
    /// Unfolded `From`, `To`, `Cc` headers.
    headers: Vec<Header>,
    /// Whether the last header kept is one of those (a continuation line extends it).
    open: bool,
}

impl Message {
    /// One header line (`line` 1-based); `cut` when the line itself went past the bound.
    fn header(&mut self, line: u64, text: &str, cut: bool) {
        if text.starts_with([' ', '\t']) {
            if self.open {
                if let Some(h) = self.headers.last_mut() {
                    h.push(" ", false);
                    h.push(text.trim(), cut);
                }
            }
            return;
        }
        let (name, value) = text.split_once(':').unwrap_or((text, ""));
        let name = name.trim().to_ascii_lowercase();
        self.open = matches!(name.as_str(), "from" | "to" | "cc");
        if self.open {
            let mut h = Header {
                from: name == "from",
                line,
                value: String::new(),
                cut: false,
            };
            h.push(value.trim(), cut);
            self.headers.push(h);
        }
    }

    /// Count the message for every address it names.
    fn finish(self, path: &Path, book: &mut Book) {
        if self.headers.is_empty() {
            return;
        }
        book.messages += 1;
        let mut named = BTreeSet::new();
        for Header { from, line, value, cut } in self.headers {
            if cut {
                book.entry(path, line, &value, |_| Err(HEADER_CUT));
            }
            for raw in mailbox::addresses(&value) {
                match Address::classify(&raw) {
                    Ok(a) => {
                        if from {
                            book.add(a.clone()).sent += 1;
                        }
                        named.insert(a);
                    }
                    Err(_) => book.entry(path, line, &raw, Address::classify),
                }
            }
        }
        for a in named {
            book.add(a).messages += 1;
        }
    }
}

/// Read the mbox at `path` into `book`.
pub fn read_mbox(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    read_stream(path, std::io::BufReader::with_capacity(1 << 16, file), true, book)
}

/// Read the single message (`.eml`) at `path` into `book`: one message, whatever its body
/// holds (a `From ` line there starts nothing).
pub fn read_message(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    read_stream(path, std::io::BufReader::with_capacity(1 << 16, file), false, book)
}

/// Read every message of the Maildir at `path` (`cur/` and `new/`) into `book`.
pub fn read_maildir(path: &Path, book: &mut Book) -> Result<()> {
    for sub in ["cur", "new"] {
        let dir = path.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        // A message that cannot be read is refused on its own; the others are still read.
        for f in files {
            let read = std::fs::File::open(&f)
                .map_err(|e| unreadable(&f, e))
                .and_then(|file| read_stream(&f, std::io::BufReader::new(file), false, book));
            if let Err(e) = read {
                book.refused.push(e);
            }
        }
    }
    Ok(())
}

/// Read messages from `reader`; in an mbox, a `From ` line that is the file's first line or
/// follows an empty line (mboxo/mboxrd: not one of spaces) starts the next message; anywhere
/// else it is a line of the message (a header or the body).
fn read_stream(path: &Path, mut reader: impl BufRead, mbox: bool, book: &mut Book) -> Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut message = Message::default();
    let mut in_headers = true;
    let mut after_empty = true;
    let mut line = 0u64;
    // A body line longer than the bound is read past; a header line is read up to
    // `MAX_HEADER` (the bound of the whole header).
    loop {
        let max = if in_headers { MAX_HEADER } else { lines::MAX_LINE };
        let Some(cut) = lines::next(&mut reader, &mut buf, max).map_err(|e| unreadable(path, e))? else {
            break;
        };
        line += 1;
        if mbox && after_empty && buf.starts_with(b"From ") {
            std::mem::take(&mut message).finish(path, book);
            in_headers = true;
            after_empty = false;
            continue;
        }
        let blank = buf.iter().all(u8::is_ascii_whitespace);
        // Empty: nothing but the line's end (`\r` of a CRLF file).
        after_empty = buf.is_empty() || buf == b"\r";
        if !in_headers {
            continue;
        }
        if blank {
            in_headers = false;
            continue;
        }
        let text = book.decode(path, line, &buf);
        message.header(line, text.trim_end_matches('\r'), cut);
    }
    message.finish(path, book);
    Ok(())
}
