//! The one address-list parser: the text of a `To:` header, a line of a text file or a CSV
//! cell split into the addresses it names (RFC 5322 `address-list`, leniently: display
//! names, quoted strings, comments, angle brackets and groups).

/// The addresses `list` names, each trimmed, without display names or comments. `a@x,
/// "Lee, Ann" <b@y>, group: c@z;` gives `a@x`, `b@y`, `c@z`.
pub fn addresses(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in split_top_level(list) {
        let item = strip_group_name(item);
        if let Some(inner) = angle_part(item) {
            out.push(inner.trim().to_string());
            continue;
        }
        let bare = strip_comments(item);
        let bare = bare.trim().trim_end_matches(';').trim();
        if !bare.is_empty() {
            out.push(bare.to_string());
        }
    }
    out
}

/// `list` cut at the commas (and `;` ending a group) outside quotes, comments and angle
/// brackets.
fn split_top_level(list: &str) -> Vec<&str> {
    let (mut quoted, mut depth, mut angle, mut escaped) = (false, 0u32, false, false);
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in list.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            '<' if !quoted && depth == 0 => angle = true,
            '>' if !quoted && depth == 0 => angle = false,
            ',' | ';' if !quoted && depth == 0 && !angle => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// `item` without a leading `group-name:` (a colon outside quotes before any `@` or `<`).
/// A Matrix ID (`@u:s`) or a URI (`xmpp:…`) keeps its colon.
fn strip_group_name(item: &str) -> &str {
    let t = item.trim_start();
    if t.starts_with('@') || t.contains("://") {
        return item;
    }
    let mut quoted = false;
    for (i, c) in t.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '@' | '<' if !quoted => return item,
            ':' if !quoted => {
                let name = &t[..i];
                let scheme = ["mailto", "xmpp", "matrix", "acct", "https", "http"];
                if scheme.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                    return item;
                }
                return &t[i + 1..];
            }
            _ => {}
        }
    }
    item
}

/// The text between `<` and `>` outside quotes, if the item has angle brackets.
fn angle_part(item: &str) -> Option<&str> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in item.char_indices() {
        if std::mem::take(&mut escaped) {
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => {
                let rest = &item[i + 1..];
                return Some(rest.split('>').next().unwrap_or(rest));
            }
            _ => {}
        }
    }
    None
}

/// `item` without `(comments)` outside quotes.
fn strip_comments(item: &str) -> String {
    let (mut out, mut depth, mut quoted) = (String::new(), 0u32, false);
    for c in item.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::addresses;

    #[test]
    fn display_names_quotes_comments_and_groups() {
        assert_eq!(
            addresses(r#"a@x.example, "Lee, Ann" <b@y.example>, friends: c@z.example (Carl), d@w.example;"#),
            ["a@x.example", "b@y.example", "c@z.example", "d@w.example"]
        );
        assert_eq!(addresses("Ann <ann@x.example>"), ["ann@x.example"]);
        assert_eq!(addresses(r#""a\"b" <q@x.example>"#), ["q@x.example"]);
        assert_eq!(addresses("undisclosed-recipients:;"), Vec::<String>::new());
    }

    #[test]
    fn uris_and_matrix_ids_keep_their_colons() {
        assert_eq!(addresses("xmpp:romeo@m.example"), ["xmpp:romeo@m.example"]);
        assert_eq!(addresses("@alice:matrix.example"), ["@alice:matrix.example"]);
        assert_eq!(addresses("mailto:a@x.example"), ["mailto:a@x.example"]);
    }

    #[test]
    fn unbalanced_input_does_not_panic() {
        for s in [
            "<", ">", "\"", "(", ")", "a<b", "\"a,b", "(a,b", "<<>>,,;;", "\\", "é<ü>",
        ] {
            let _ = addresses(s);
        }
        assert_eq!(addresses("Ann <ann@x.example"), ["ann@x.example"]);
    }
}
