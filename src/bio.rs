//! Reading a bio as its reader sees it, and finding its hashtags the way Mastodon does.
//!
//! Mastodon sends a bio (REST `note`, ActivityPub `summary`) as HTML: paragraphs, `<br>`,
//! entities, and hashtags as `<a href="…/tags/nobot" class="mention hashtag" rel="tag">#<span>nobot</span></a>`.
//! [`text`] strips the tags and decodes the entities in one linear pass; [`hashtags`] then
//! applies Mastodon's rule for what a hashtag is (`Tag::HASHTAG_RE`): a `#` at the start or
//! after a character that is not a word character, `/` or `)`, followed by word characters
//! (`_`, `·` and ZWNJ allowed inside). Tags are compared lower-cased.

/// The visible text of an HTML fragment: tags removed (`<br>` and block ends become line
/// breaks), entities decoded, unknown entities kept as written.
pub fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        let (before, tail) = rest.split_at(i);
        out.push_str(before);
        rest = match tail.strip_prefix('<') {
            Some(inside) => tag(inside, &mut out),
            None => entity(tail.strip_prefix('&').unwrap_or(tail), &mut out),
        };
    }
    out.push_str(rest);
    out
}

/// Consume one tag after its `<`; a line break for `<br>` and block boundaries.
fn tag<'a>(s: &'a str, out: &mut String) -> &'a str {
    let Some((inside, after)) = s.split_once('>') else {
        out.push('<');
        out.push_str(s);
        return "";
    };
    let name = inside
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if matches!(
        name.as_str(),
        "br" | "p" | "div" | "li" | "blockquote" | "h1" | "h2" | "h3"
    ) {
        out.push('\n');
    }
    after
}

/// Consume one entity after its `&` (names are short: the search for `;` is bounded, so a
/// body of lone `&`s stays linear).
fn entity<'a>(s: &'a str, out: &mut String) -> &'a str {
    let semicolon = s.char_indices().take(12).find(|(_, c)| *c == ';').map(|(i, _)| i);
    let parts = semicolon.map(|i| s.split_at(i));
    match parts.and_then(|(name, tail)| Some((decode(name)?, tail))) {
        Some((c, tail)) => {
            out.push(c);
            tail.strip_prefix(';').unwrap_or(tail)
        }
        None => {
            out.push('&');
            s
        }
    }
}

fn decode(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix| u32::from_str_radix(digits, radix).ok().and_then(char::from_u32);
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => match name.strip_prefix('#') {
            Some(n) => match n.strip_prefix(['x', 'X']) {
                Some(hex) => numeric(hex, 16),
                None => numeric(n, 10),
            },
            None => None,
        },
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters Mastodon allows inside (not at the end of) a hashtag besides word characters.
fn is_separator(c: char) -> bool {
    c == '\u{00b7}' || c == '\u{200c}'
}

/// The hashtags of a plain text, lower-cased, in order.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut tags = vec![];
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts = c == '#' && !prev.is_some_and(|p| is_word(p) || p == '/' || p == ')');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = text.get(i + 1..).unwrap_or_default();
        let end = rest
            .char_indices()
            .find(|(_, c)| !(is_word(*c) || is_separator(*c)))
            .map_or(rest.len(), |(j, _)| j);
        let name = rest.split_at(end).0.trim_end_matches(is_separator);
        if name.chars().any(char::is_alphabetic) {
            tags.push(name.to_lowercase());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_reads_as_text() {
        assert_eq!(
            text("<p>a&amp;b&nbsp;c<br/>d</p><p>I ain&apos;t &#35;x &#x41; &bogus; &</p>"),
            "\na&b c\nd\n\nI ain't #x A &bogus; &\n"
        );
        assert_eq!(text("unclosed <a href"), "unclosed <a href");
    }

    #[test]
    fn hashtags_follow_mastodons_rule() {
        assert_eq!(
            hashtags("#NoBot, #nobots #no_bot x#nobot /#a (#b) #123 #b·c· #"),
            ["nobot", "nobots", "no_bot", "b", "b·c"]
        );
    }
}
