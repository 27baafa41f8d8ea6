//! Lines read with a bound on their length, so a file of one endless line (a binary blob
//! that passed the sniff, a base64 body with no newline) costs at most [`MAX_LINE`] bytes of
//! memory, however large it is; and decoded ([`decode`]): UTF-8, else Windows-1252, so one
//! 8-bit byte (a Latin-1 display name in a header) never costs the line its addresses.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

/// The longest line kept; the rest of a longer line is read past and dropped.
pub const MAX_LINE: usize = 64 * 1024;

/// The reason given for a line longer than [`MAX_LINE`], skipped.
pub const TOO_LONG: &str = "a line longer than 64 KiB, skipped";

/// The reason given for a line longer than [`MAX_LINE`], read up to there.
pub const CUT: &str = "a line longer than 64 KiB, read up to there";

/// The characters Windows-1252 gives bytes 0x80 to 0x9F (the five it leaves undefined kept
/// as the C1 control of the same number, as Latin-1 reads them); every other byte is the
/// Latin-1 character of its number.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// `bytes` as text: UTF-8 when they are, else read as Windows-1252 (a superset of Latin-1's
/// printable characters: what 8-bit mail and address books are in when they are not UTF-8),
/// with `true` for "was not UTF-8". ASCII, and so every address in ASCII, is the same either
/// way; no byte is lost.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => {
            let s = bytes
                .iter()
                .map(|&b| match b {
                    0x80..=0x9f => CP1252_HIGH[usize::from(b - 0x80)],
                    _ => char::from(b),
                })
                .collect();
            (Cow::Owned(s), true)
        }
    }
}

/// Read the next line of `reader` into `buf` (cleared first; without its `\n`), keeping at
/// most `max` bytes of it. `None` at the end of the input, else whether the line was cut.
///
/// # Errors
/// A read error of `reader`.
pub fn next(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    buf.clear();
    let (mut read_any, mut cut) = (false, false);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(read_any.then_some(cut));
        }
        read_any = true;
        let newline = chunk.iter().position(|&b| b == b'\n');
        let end = newline.unwrap_or(chunk.len());
        let room = max.saturating_sub(buf.len());
        cut |= end > room;
        buf.extend_from_slice(&chunk[..end.min(room)]);
        reader.consume(newline.map_or(end, |i| i + 1));
        if newline.is_some() {
            return Ok(Some(cut));
        }
    }
}

/// A reader that passes its input through with every line cut at `max` bytes, and notes
/// which lines (1-based) it cut: for the CSV reader, whose records are read by the `csv`
/// crate.
pub struct Capped<R> {
    inner: R,
    max: usize,
    /// Bytes of the current line passed so far.
    column: usize,
    /// The current line (0-based).
    line: u64,
    /// The lines cut, 1-based, in order.
    pub cut: Vec<u64>,
}

impl<R: BufRead> Capped<R> {
    /// `inner` with lines cut at `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        Capped {
            inner,
            max,
            column: 0,
            line: 0,
            cut: Vec::new(),
        }
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < out.len() {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let mut used = 0;
            for &b in chunk {
                if written == out.len() {
                    break;
                }
                used += 1;
                if b == b'\n' {
                    self.column = 0;
                    self.line += 1;
                } else if self.column >= self.max {
                    if self.cut.last() != Some(&(self.line + 1)) {
                        self.cut.push(self.line + 1);
                    }
                    continue;
                } else {
                    self.column += 1;
                }
                out[written] = b;
                written += 1;
            }
            self.inner.consume(used);
            if written > 0 {
                break;
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_the_rest_is_read_past() {
        let input = b"short\nabcdefghij\n\nlast";
        let mut r = std::io::BufReader::with_capacity(3, &input[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(cut) = next(&mut r, &mut buf, 4).unwrap() {
            got.push((String::from_utf8(buf.clone()).unwrap(), cut));
        }
        let want = [("shor", true), ("abcd", true), ("", false), ("last", false)];
        let want: Vec<(String, bool)> = want.iter().map(|(s, c)| (s.to_string(), *c)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn eight_bit_lines_are_read_as_windows_1252_and_said_so() {
        assert_eq!(
            decode("Zoë <z@x.example>".as_bytes()),
            (Cow::Borrowed("Zoë <z@x.example>"), false)
        );
        let (text, recoded) = decode(b"Zo\xeb \x93Z\x94 <z@x.example> \x80");
        assert_eq!((text.as_ref(), recoded), ("Zoë “Z” <z@x.example> €", true));
    }

    #[test]
    fn a_capped_reader_cuts_each_line_and_names_it() {
        let input = b"a,b\nxxxxxxxxxx\nc,d\nyyyyyy";
        let mut r = Capped::new(std::io::BufReader::with_capacity(2, &input[..]), 4);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a,b\nxxxx\nc,d\nyyyy");
        assert_eq!(r.cut, [2, 4]);
    }
}
