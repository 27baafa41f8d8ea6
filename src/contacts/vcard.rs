//! vCard 3.0 and 4.0 (RFC 2426, RFC 6350): folded lines joined, each `EMAIL` an e-mail
//! address, each `IMPP` (and the older `X-JABBER`, `X-MATRIX`) told by its URI scheme.

use std::io::BufRead;
use std::path::Path;

use super::{mailbox, unreadable, Book};
use crate::model::contact::Address;
use crate::Result;

/// Read the vCards at `path` into `book`. A line that is neither a property (`NAME:value`)
/// nor a folded continuation (leading space or tab) is malformed (a broken fold), as is an
/// address property whose value names no usable address; other properties are skipped.
pub fn read(path: &Path, book: &mut Book) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    // The logical line being joined, and the physical line it started on.
    let mut current: Option<(u64, String)> = None;
    for (n, raw) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let raw = raw.map_err(|e| unreadable(path, e))?;
        let raw = String::from_utf8_lossy(&raw);
        let raw = raw.trim_end_matches('\r');
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            if let Some((_, text)) = current.as_mut() {
                text.push_str(rest);
                continue;
            }
        }
        if let Some((line, text)) = current.take() {
            property(path, line, &text, book);
        }
        if !raw.trim().is_empty() {
            current = Some((n as u64 + 1, raw.trim_start_matches('\u{feff}').to_string()));
        }
    }
    if let Some((line, text)) = current {
        property(path, line, &text, book);
    }
    Ok(())
}

/// One unfolded content line.
fn property(path: &Path, line: u64, text: &str, book: &mut Book) {
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
    let value = unescape(value.trim());
    let parse: fn(&str) -> std::result::Result<Address, &'static str> = match name.as_str() {
        "EMAIL" => |v| Address::classify(v.strip_prefix("mailto:").unwrap_or(v)).and_then(only_email),
        "IMPP" => impp,
        "X-JABBER" | "X-JABBER-ID" | "X-XMPP" => Address::xmpp,
        "X-MATRIX" => Address::matrix,
        _ => return,
    };
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
