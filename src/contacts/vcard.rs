//! vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350): folded lines joined, each `EMAIL` an e-mail
//! address, each `IMPP` (and the older `X-JABBER`, `X-MATRIX`) told by its URI scheme.
//! vCard 2.1's quoted-printable values (`ENCODING=QUOTED-PRINTABLE`, or the bare
//! `QUOTED-PRINTABLE` parameter) are joined at their soft line breaks (`=` ending a line,
//! the next line unindented) and decoded; its base64 values (a photo) run on unindented
//! lines up to the next property and are skipped.

use std::path::Path;

use super::{lines, mailbox, unreadable, Book};
use crate::model::contact::Address;
use crate::Result;

/// Read the vCards at `path` into `book`. A line that is neither a property (`NAME:value`)
/// nor a folded continuation (leading space or tab) is malformed (a broken fold), and so is
/// the address of a property line it directly follows (its value was cut there:
/// [`BROKEN_FOLD`]), as is an address property whose value names no usable address or is
/// longer than [`lines::MAX_LINE`]; other properties are skipped (a long one, such as a
/// photo, unread past the bound).
pub fn read(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    // The logical line being joined, the physical line it started on, and whether it was
    // cut at `MAX_LINE`.
    let mut current: Option<(u64, String, bool)> = None;
    // The logical line before it, read once the next one is known ([`settle`]).
    let mut pending: Option<(u64, String, bool)> = None;
    let (mut buf, mut n) = (Vec::new(), 0u64);
    while let Some(cut) = lines::next(&mut reader, &mut buf, lines::MAX_LINE).map_err(|e| unreadable(path, e))? {
        n += 1;
        let raw = book.decode(path, n, &buf).into_owned();
        let raw = raw.trim_end_matches('\r');
        if let Some((_, text, long)) = current.as_mut() {
            // vCard 2.1: a quoted-printable soft line break joins the next line as it is; a
            // base64 value runs on over lines that hold no `:`.
            let soft = text.ends_with('=') && encoding(text) == Some(Encoding::QuotedPrintable);
            let base64 = !raw.contains(':') && !raw.trim().is_empty() && encoding(text) == Some(Encoding::Base64);
            if soft || base64 {
                *long |= cut || text.len() + raw.len() > lines::MAX_LINE;
                if soft && !*long {
                    text.pop();
                    text.push_str(raw);
                }
                continue;
            }
        }
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            if let Some((_, text, long)) = current.as_mut() {
                // A long folded value (a photo) is kept up to the bound, and marked.
                *long |= cut || text.len() + rest.len() > lines::MAX_LINE;
                if !*long {
                    text.push_str(rest);
                }
                continue;
            }
        }
        if let Some(done) = current.take() {
            settle(path, &mut pending, done, book);
        }
        if raw.trim().is_empty() {
            // A blank line: the next line does not follow the property before it.
            if let Some((line, text, long)) = pending.take() {
                property(path, line, &text, long, false, book);
            }
        } else {
            current = Some((n, raw.trim_start_matches('\u{feff}').to_string(), cut));
        }
    }
    if let Some(done) = current {
        settle(path, &mut pending, done, book);
    }
    if let Some((line, text, long)) = pending {
        property(path, line, &text, long, false, book);
    }
    Ok(())
}

/// A logical line is complete: the one before it (`pending`) is read now that what follows it
/// is known, and `done` waits for its own next line. A line that is neither a property nor a
/// folded line (an orphan: a fold that lost its leading space) tells that the property before
/// it was cut, so its address is wrong.
fn settle(path: &Path, pending: &mut Option<(u64, String, bool)>, done: (u64, String, bool), book: &mut Book) {
    let orphan = !done.1.contains(':');
    if let Some((line, text, long)) = pending.replace(done) {
        property(path, line, &text, long, orphan, book);
    }
}

/// The reason given for an address property followed by an orphan line.
pub const BROKEN_FOLD: &str =
    "an address the next line seems to continue (a fold without its leading space?), not counted";

/// One unfolded content line; `long` when it was longer than [`lines::MAX_LINE`]; `cut` when
/// the next line is an orphan (a broken fold), so an address it holds is malformed.
fn property(path: &Path, line: u64, text: &str, long: bool, cut: bool, book: &mut Book) {
    let Some((head, value)) = text.split_once(':') else {
        book.malformed.push(super::Malformed {
            file: path.to_path_buf(),
            line,
            text: crate::model::handle::echo(text),
            reason: "neither a property nor a folded line (a fold without its leading space?)",
        });
        return;
    };
    // `item1.EMAIL;TYPE=work` → `EMAIL`.
    let name = head.split(';').next().unwrap_or_default();
    let name = name.rsplit('.').next().unwrap_or_default().to_ascii_uppercase();
    let value = match encoding(text) {
        Some(Encoding::QuotedPrintable) => unescape(lines::decode(&quoted_printable(value.trim())).0.trim()),
        _ => unescape(value.trim()),
    };
    let parse: fn(&str) -> std::result::Result<Address, &'static str> = match name.as_str() {
        "EMAIL" => |v| Address::classify(v.strip_prefix("mailto:").unwrap_or(v)).and_then(only_email),
        "IMPP" => impp,
        "X-JABBER" | "X-JABBER-ID" | "X-XMPP" => Address::xmpp,
        "X-MATRIX" => Address::matrix,
        _ => return,
    };
    if long {
        book.entry(path, line, &value, |_| Err(lines::TOO_LONG));
        return;
    }
    if cut {
        book.entry(path, line, &value, |_| Err(BROKEN_FOLD));
        return;
    }
    // An EMAIL value may be written `Name <addr>`; an IMPP value is one URI.
    let found = if name == "EMAIL" {
        mailbox::addresses(&value)
    } else {
        vec![value.clone()]
    };
    if found.is_empty() {
        book.entry(path, line, &value, parse);
    }
    for a in found {
        book.entry(path, line, &a, parse);
    }
}

/// A vCard 2.1 value's encoding, from its property's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    QuotedPrintable,
    Base64,
}

/// The encoding the parameters of the content line `text` name, if one.
fn encoding(text: &str) -> Option<Encoding> {
    let head = text.split_once(':').map_or(text, |(h, _)| h);
    head.split(';').skip(1).find_map(|p| {
        let p = p.trim();
        let v = match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("encoding") => v.trim(),
            Some(_) => return None,
            None => p,
        };
        if v.eq_ignore_ascii_case("quoted-printable") {
            Some(Encoding::QuotedPrintable)
        } else if v.eq_ignore_ascii_case("base64") || v.eq_ignore_ascii_case("b") {
            Some(Encoding::Base64)
        } else {
            None
        }
    })
}

/// The bytes a quoted-printable value stands for: `=XX` is the byte of hex `XX`; an `=` not
/// followed by two hex digits is kept as written.
fn quoted_printable(v: &str) -> Vec<u8> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'=', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// An `EMAIL` value must be an e-mail address.
fn only_email(a: Address) -> std::result::Result<Address, &'static str> {
    match a.protocol() {
        crate::model::contact::Protocol::Email => Ok(a),
        _ => Err("an EMAIL property that is not an e-mail address"),
    }
}

/// An `IMPP` URI: `xmpp:` and `matrix:` are measured; `mailto:` is e-mail; another
/// scheme (`sip:`, `skype:`) names a network whohosts does not measure.
fn impp(v: &str) -> std::result::Result<Address, &'static str> {
    let scheme = v.split(':').next().unwrap_or_default().to_ascii_lowercase();
    match scheme.as_str() {
        "xmpp" | "matrix" | "mailto" | "https" => Address::classify(v),
        "im" => Address::xmpp(&v[3..]),
        _ => Err("an IMPP address of a network whohosts does not measure"),
    }
}

/// A vCard text value with its escapes (`\,` `\;` `\\` `\n`) undone.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}
