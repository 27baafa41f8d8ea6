//! Text from outside (servers, data files) made safe for a terminal, a JSON reader and a
//! spreadsheet.
//!
//! # Architecture
//! One sanitiser for every text a terminal shows: [`terminal`] makes C0 and C1 control
//! characters, DEL, the bidirectional overrides and isolates, the line and paragraph
//! separators and the zero-width characters no name needs visible as `\u{1b}`, so a name
//! an AS registry, a NodeInfo document or a WebFinger server chose cannot set the window
//! title, clear the screen or reverse a line. [`crate::model::format::Format::safe`] applies
//! it to every rendered answer (report, diff, query table, lookup), the CLI to every error,
//! notice, log and progress line. [`json`] is the same for a JSON document: the characters
//! JSON leaves raw become `\uXXXX` escapes, so the value is unchanged. Data read in is
//! [`cleaned`] (NodeInfo strings) or refused ([`has_control`], ASN files) before it is kept.
//! [`spreadsheet`] is the one neutraliser of a CSV text cell a spreadsheet would run as a
//! formula: every CSV a person opens in one (the reports, `query --format csv`, an export's
//! files) writes its text cells through it; numbers are never altered. [`nearest`] is the one
//! "did you mean" of a mistyped name (a query, a level, a weight).

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 controls but newline and tab, DEL, C1
/// controls, the bidirectional embeddings, overrides, isolates and marks, the line and
/// paragraph separators (which editors, log viewers and some terminals break a line at), and
/// the characters drawn as nothing that no name needs (zero-width space, word joiner, the
/// invisible operators, the deprecated format characters, the byte order mark, the
/// Mongolian vowel separator, the combining grapheme joiner, the Hangul
/// and Khmer fillers, the interlinear annotation marks, the shorthand format controls, the
/// musical format controls, the tag characters): two names that differ only by one of them
/// must not look alike. The zero-width joiner and non-joiner stay (emoji sequences and
/// Persian or Indic names are written with them), and so does the soft hyphen (registries
/// write it as a dash in AS names: `WANTEL TECNOLOGIA LTDA. \u{ad} EPP`).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{180e}' | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}'
        | '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}')
}

/// Whether `s` holds a character [`is_unsafe`], or a newline or tab (a name has neither).
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| is_unsafe(c) || c == '\n' || c == '\t' || c == '\r')
}

/// `s` for a terminal: every unsafe character written visibly as `\u{XX}`. Newlines and tabs
/// stay (they are the layout of the program's own output).
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// As [`terminal`], but the colour sequences whohosts writes itself (`ESC [ digits;… m`, SGR:
/// they change colour and nothing else) are kept. Only for output the program painted.
pub fn terminal_with_colour(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_colour: bool) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if keep_colour && c == '\u{1b}' {
            if let Some(n) = colour_len(rest) {
                out.push_str(&rest[..n]);
                rest = &rest[n..];
                continue;
            }
        }
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of an SGR sequence at the start of `s` (`ESC [`, digits and `;`, `m`).
fn colour_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\u{1b}[")?;
    let end = body.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
    (body[end..].starts_with('m') && end <= 16).then_some(2 + end + 1)
}

/// A JSON document for a terminal: the characters [`is_unsafe`] that JSON leaves raw (DEL, C1,
/// bidirectional controls; C0 are always escaped) written as `\uXXXX`. They can only stand
/// inside strings, so the document means exactly what it meant.
pub fn json(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer passing on what is written to it made safe as [`json`] makes it, character by
/// character, so a JSON document can be written as it is serialised, never held whole; a
/// character cut between two writes is held until it is whole.
#[derive(Debug)]
pub struct JsonWriter<W: std::io::Write> {
    inner: W,
    /// The start of a character cut by the end of the last write.
    cut: Vec<u8>,
}

impl<W: std::io::Write> JsonWriter<W> {
    pub fn new(inner: W) -> JsonWriter<W> {
        JsonWriter { inner, cut: Vec::new() }
    }

    fn pass(&mut self, s: &str) -> std::io::Result<()> {
        self.inner.write_all(json(s).as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for JsonWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8");
        if !self.cut.is_empty() {
            // Complete the cut character first, a byte at a time.
            let Some(&b) = buf.first() else { return Ok(0) };
            self.cut.push(b);
            match std::str::from_utf8(&self.cut) {
                Ok(_) => {
                    let cut = std::mem::take(&mut self.cut);
                    self.pass(std::str::from_utf8(&cut).map_err(|_| invalid())?)?;
                }
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return Err(invalid()),
            }
            return Ok(1);
        }
        let whole = match std::str::from_utf8(buf) {
            Ok(s) => s,
            Err(e) if e.error_len().is_none() => {
                self.cut.extend_from_slice(&buf[e.valid_up_to()..]);
                std::str::from_utf8(&buf[..e.valid_up_to()]).map_err(|_| invalid())?
            }
            Err(_) => return Err(invalid()),
        };
        self.pass(whole)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.cut.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a character cut short",
            ));
        }
        self.inner.flush()
    }
}

/// A name read from a server or a data file, cleaned before it is kept: at most `max`
/// characters, then unsafe characters, newlines and tabs written visibly as `\u{1b}` (a name
/// is one line; what was there stays readable).
pub fn cleaned(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().take(max) {
        if is_unsafe(c) || matches!(c, '\n' | '\t' | '\r') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` cut to at most `max` characters, ending in `…` when it was cut: a long input or URL
/// as a message shows it.
pub fn marked(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

/// `s` cut to at most `max` characters (strings from servers are bounded where they are
/// exported).
pub fn bounded(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((i, _)) => Cow::Owned(s[..i].to_string()),
        None => Cow::Borrowed(s),
    }
}

/// A CSV text cell as a spreadsheet will not run it: a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return (a formula to Excel, LibreOffice and Google Sheets) gets a
/// leading `'`, as OWASP recommends, and so does one that already starts with `'`, so the rule
/// undoes exactly: drop the first character of a cell that starts with `'`. A spreadsheet
/// shows the cell as it was (it hides one leading `'`). Only for text: numbers are written as
/// they are. A cell that is a fediverse handle and nothing else (`@user@host`, of letters,
/// digits, `_`, `.` and `-` only) is kept: with no parenthesis, `!`, `|` or operator but `-` it
/// calls nothing, and an export's handles stay handles.
pub fn spreadsheet(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) && !is_plain_handle(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `@user@host` with letters, digits, `_`, `.` and `-` only, both parts non-empty.
fn is_plain_handle(cell: &str) -> bool {
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    match cell.strip_prefix('@').and_then(|rest| rest.split_once('@')) {
        Some((user, host)) => plain(user) && plain(host),
        None => false,
    }
}

/// Levenshtein distance between `a` and `b`, in characters, ignoring case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.to_lowercase().chars().collect(), b.to_lowercase().chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The name among `labels` nearest `name` by edit distance, when it is near enough to be a typo: at
/// most a third of its length (1 for a short name, 3 at most). Ties go to the shorter, then
/// the first in order.
pub fn nearest<'a>(name: &str, labels: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    labels
        .into_iter()
        .map(|l| (edit_distance(name, l), l.chars().count(), l))
        .filter(|(d, _, _)| *d <= limit)
        .min()
        .map(|(_, _, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_kept() {
        assert_eq!(spreadsheet("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for c in ["+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=1", "'quoted"] {
            assert_eq!(spreadsheet(c), format!("'{c}"));
            // Undone by dropping the first character.
            assert_eq!(&spreadsheet(c)[1..], c);
        }
        assert!(matches!(spreadsheet("OVH SAS"), Cow::Borrowed("OVH SAS")));
        // A handle and nothing else calls nothing: kept, so exported handles stay handles.
        assert!(matches!(spreadsheet("@bob@a.example"), Cow::Borrowed(_)));
        for c in ["@SUM(1)@x", "@a@b!A0", "@a|b@c", "@@x", "@a@", "@a@b@c"] {
            assert_eq!(spreadsheet(c), format!("'{c}"), "{c}");
        }
        assert_eq!(spreadsheet("AS16276"), "AS16276");
        assert_eq!(spreadsheet("a=b"), "a=b");
    }

    #[test]
    fn title_clear_screen_and_bidi_are_made_visible() {
        assert_eq!(
            terminal("AS\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}x\u{202e}y\u{7f}\n\tok"),
            "AS\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}x\\u{202e}y\\u{7f}\n\tok"
        );
        assert!(matches!(terminal("plain Ünïcode"), Cow::Borrowed(_)));
        assert_eq!(terminal("line\u{2028}sep\u{2029}"), "line\\u{2028}sep\\u{2029}");
        // Drawn as nothing: made visible, so "Hetz\u{200b}ner" cannot pass for "Hetzner".
        assert_eq!(
            terminal("Hetz\u{200b}ner\u{feff}\u{2060}\u{3164}\u{fff9}\u{e0041}"),
            "Hetz\\u{200b}ner\\u{feff}\\u{2060}\\u{3164}\\u{fff9}\\u{e0041}"
        );
        // Joiners stay: emoji sequences and scripts need them.
        assert!(matches!(terminal("👩\u{200d}💻 می\u{200c}خواهم"), Cow::Borrowed(_)));
    }

    #[test]
    fn own_colour_is_kept_and_nothing_else() {
        assert_eq!(
            terminal_with_colour("\u{1b}[1;32mok\u{1b}[0m \u{1b}[2J \u{1b}]0;t\u{7}"),
            "\u{1b}[1;32mok\u{1b}[0m \\u{1b}[2J \\u{1b}]0;t\\u{7}"
        );
    }

    #[test]
    fn json_keeps_its_value() {
        let doc = serde_json::json!({"name": "a\u{1b}b\u{9b}c\u{202e}d"}).to_string();
        let safe = json(&doc);
        assert!(!safe.chars().any(is_unsafe));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], "a\u{1b}b\u{9b}c\u{202e}d");
    }

    #[test]
    fn names_are_cleaned_and_bounded() {
        assert_eq!(cleaned("Mast\u{1b}[2Jodon\n", 256), "Mast\\u{1b}[2Jodon\\u{a}");
        assert_eq!(cleaned("abcdef", 3), "abc");
        assert_eq!(bounded("äbcdef", 2), "äb");
        assert!(has_control("a\u{202e}b") && has_control("a\nb") && !has_control("a b"));
    }

    #[test]
    fn json_written_in_pieces_is_json_of_the_whole() {
        use std::io::Write as _;
        let doc = "{\"n\": \"a\u{202e}b\u{85}ä\u{2028}€\"}\n";
        let whole = json(doc).into_owned();
        // Every cut, a character split between two writes included.
        for cut in 0..=doc.len() {
            let mut w = JsonWriter::new(Vec::new());
            w.write_all(&doc.as_bytes()[..cut]).unwrap();
            w.write_all(&doc.as_bytes()[cut..]).unwrap();
            w.flush().unwrap();
            assert_eq!(String::from_utf8(w.inner).unwrap(), whole, "cut at {cut}");
        }
        let mut w = JsonWriter::new(Vec::new());
        w.write_all(&"€".as_bytes()[..2]).unwrap();
        assert!(w.flush().is_err(), "a character cut short is an error");
    }
}
