//! Reading a bio as its reader sees it, and finding its hashtags the way Mastodon does.
//!
//! Mastodon sends a bio (REST `note`, ActivityPub `summary`) as HTML: paragraphs, `<br>`,
//! entities, and hashtags as `<a href="…/tags/nobot" class="mention hashtag" rel="tag">#<span>nobot</span></a>`.
//! [`text`] strips the tags and decodes the entities in one linear pass; [`hashtags`] then
//! applies Mastodon's rule for what a hashtag is (`Tag::HASHTAG_RE`): a `#` or fullwidth `＃`
//! at the start or after a character that is not a letter, a number, `=`, `/` or `)` (so
//! `_#nobot` is a tag), followed by word characters (letters, combining marks, numbers and
//! `_`; `·`, `・` and ZWNJ allowed inside, so `#no` U+0308 `bot` is one tag). A tag's name is then
//! normalised as Mastodon's `HashtagNormalizer` does ([`normal_tag`]): NFKC (fullwidth
//! `ｎｏｂｏｔ` is `nobot`), lower case, accented Latin letters folded to ASCII (`nöbot` is
//! `nobot`), and characters no tag name holds dropped. So a tag is read as the tag Mastodon
//! files it under and links to (`/tags/nobot`), which is what a person sees it as.
//!
//! Entities are decoded as a browser shows them, so an opt-out cannot hide behind an
//! encoding: numeric references with or without the closing `;` (`&#35nobot` reads
//! `#nobot`), and the named entities for the characters a hashtag is made of (`&num;`,
//! `&lowbar;`, `&middot;`, `&zwnj;` …) besides the usual ones.

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

/// Consume one tag after its `<`; a line break for `<br>` and block boundaries. A tag ends
/// where a browser ends it: a comment (`<!--`) at its `-->` (or the end of the text), any
/// other tag at the first `>` outside a quoted attribute value, so neither a comment nor an
/// attribute holding `>` can split a word the reader sees whole (`#no<!-- > -->bot`).
fn tag<'a>(s: &'a str, out: &mut String) -> &'a str {
    if let Some(comment) = s.strip_prefix("!--") {
        // `<!-->` and `<!--->` end at once, as browsers read them.
        let body = comment.strip_prefix('-').unwrap_or(comment);
        if let Some(after) = body.strip_prefix('>') {
            return after;
        }
        return comment.split_once("-->").map_or("", |(_, after)| after);
    }
    let mut quote = None;
    let end = s.char_indices().find(|&(_, c)| match quote {
        Some(q) if c == q => {
            quote = None;
            false
        }
        Some(_) => false,
        None if c == '"' || c == '\'' => {
            quote = Some(c);
            false
        }
        None => c == '>',
    });
    let Some((inside, after)) = end.map(|(i, _)| (&s[..i], &s[i + 1..])) else {
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

/// Consume one entity after its `&`. A numeric reference ends at its last digit, `;` or not
/// (as browsers read it); a named one needs its `;` and a name from [`named`]. Names are
/// short, so the search for `;` is bounded and a body of lone `&`s stays linear.
fn entity<'a>(s: &'a str, out: &mut String) -> &'a str {
    let decoded = match s.strip_prefix('#') {
        Some(n) => numeric(n),
        None => {
            let semicolon = s.char_indices().take(32).find(|(_, c)| *c == ';').map(|(i, _)| i);
            semicolon
                .and_then(|i| Some((named(s.get(..i)?)?, s.get(i..)?)))
                .or_else(|| legacy(s))
        }
    };
    match decoded {
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

/// A numeric reference after `&#`: its character (U+FFFD for zero, surrogates and values
/// past U+10FFFF, as browsers show them) and the text after its digits.
fn numeric(n: &str) -> Option<(char, &str)> {
    let (radix, digits) = match n.strip_prefix(['x', 'X']) {
        Some(hex) => (16, hex),
        None => (10, n),
    };
    let end = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
    let (number, tail) = digits.split_at(end);
    if number.is_empty() {
        return None;
    }
    let value = number
        .chars()
        .try_fold(0u32, |acc, d| acc.checked_mul(radix)?.checked_add(d.to_digit(radix)?));
    let c = value.filter(|v| *v != 0).and_then(char::from_u32).unwrap_or('\u{fffd}');
    Some((c, tail))
}

/// Names a browser decodes in text without their `;` (HTML5's legacy references, those of
/// [`named`]), longest first: `&shybot` reads as a soft hyphen and `bot`.
const LEGACY: [&str; 11] = [
    "middot", "nbsp", "quot", "QUOT", "amp", "AMP", "shy", "lt", "LT", "gt", "GT",
];

/// A legacy reference without its `;` at the start of `s`: its character and the rest.
fn legacy(s: &str) -> Option<(char, &str)> {
    let name = LEGACY.iter().find(|n| s.starts_with(**n))?;
    Some((named(name)?, &s[name.len()..]))
}

/// The named entities decoded: the usual ones and every HTML5 name for a character that can
/// start, make up or separate a hashtag (HTML5 names are case-sensitive).
fn named(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" | "NonBreakingSpace" => ' ',
        "num" => '#',
        "NewLine" => '\n',
        "Tab" => '\t',
        "lowbar" | "UnderBar" => '_',
        "middot" | "centerdot" | "CenterDot" => '\u{b7}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "sol" => '/',
        "rpar" => ')',
        "lpar" => '(',
        "equals" => '=',
        "period" => '.',
        "comma" => ',',
        "colon" => ':',
        "semi" => ';',
        "excl" => '!',
        "quest" => '?',
        "commat" => '@',
        "shy" => '\u{ad}',
        "lrm" => '\u{200e}',
        "rlm" => '\u{200f}',
        "NoBreak" => '\u{2060}',
        "af" | "ApplyFunction" => '\u{2061}',
        "it" | "InvisibleTimes" => '\u{2062}',
        "ic" | "InvisibleComma" => '\u{2063}',
        "ZeroWidthSpace"
        | "NegativeVeryThinSpace"
        | "NegativeThinSpace"
        | "NegativeMediumSpace"
        | "NegativeThickSpace" => '\u{200b}',
        _ => return None,
    })
}

/// A word character as Mastodon's `[[:word:]]` (Ruby's) reads it: a letter, a mark (so a
/// letter written with a combining accent, `o` + U+0308, stays one word), a number, or a
/// connector punctuation (`_`, `‿`, `＿` …).
fn is_word(c: char) -> bool {
    use icu_properties::props::{GeneralCategory, GeneralCategoryGroup};
    if c.is_alphanumeric() || c == '_' {
        return true;
    }
    if c.is_ascii() {
        return false;
    }
    let category = icu_properties::CodePointMapData::<GeneralCategory>::new().get(c);
    GeneralCategoryGroup::Mark.contains(category) || GeneralCategoryGroup::ConnectorPunctuation.contains(category)
}

/// Whether a hashtag may start after `prev` (Mastodon's `(?<![=/)\p{Alnum}])`): not after a
/// letter or a number, `=`, `/` or `)`. An underscore or a mark before the `#` does not
/// stop it: `_#nobot` is the tag `nobot`.
fn may_start_after(prev: Option<char>) -> bool {
    !prev.is_some_and(|p| p.is_alphanumeric() || matches!(p, '=' | '/' | ')'))
}

/// Characters Mastodon allows inside (not at the end of) a hashtag besides word characters.
fn is_separator(c: char) -> bool {
    matches!(c, '\u{00b7}' | '\u{30fb}' | '\u{200c}')
}

/// The hash signs Mastodon reads as starting a hashtag: `#` and fullwidth `＃` (U+FF03).
fn is_hash(c: char) -> bool {
    c == '#' || c == '\u{ff03}'
}

/// A tag's name as Mastodon files it (its `HashtagNormalizer`): NFKC, lower case, the Latin
/// letters of Latin-1 and Latin Extended-A folded to their ASCII letter ([`ascii_fold`]), then
/// every character that is not alphanumeric, a separator ([`is_separator`], `_`) or a Thai
/// tone mark (U+0E47 to U+0E4E) removed.
pub fn normal_tag(name: &str) -> String {
    let compat = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(name);
    compat
        .to_lowercase()
        .chars()
        .map(ascii_fold)
        .filter(|c| c.is_alphanumeric() || *c == '_' || is_separator(*c) || ('\u{e47}'..='\u{e4e}').contains(c))
        .collect()
}

/// The ASCII letter Mastodon's folding (`ASCIIFolding`) reads a Latin letter of U+00C0 to
/// U+017F as: the base letter of its canonical decomposition (`ö` is `o`), or for the letters
/// that have none, the letter drawn inside them (`ø`, `ł`, `đ`, `ħ`, `ŧ`, `ŋ`, `ı`, `ĸ`).
/// Every other character is kept (`æ`, `ß`, `þ`, `œ`, `×` among them).
fn ascii_fold(c: char) -> char {
    if !('\u{c0}'..='\u{17f}').contains(&c) {
        return c;
    }
    let stroked = match c {
        'Ð' | 'Đ' => Some('D'),
        'ð' | 'đ' => Some('d'),
        'Ħ' => Some('H'),
        'ħ' => Some('h'),
        'ı' => Some('i'),
        'ĸ' => Some('k'),
        'Ŀ' | 'Ł' => Some('L'),
        'ŀ' | 'ł' => Some('l'),
        'ŉ' | 'ŋ' => Some('n'),
        'Ŋ' => Some('N'),
        'Ø' => Some('O'),
        'ø' => Some('o'),
        'ſ' => Some('s'),
        'Ŧ' => Some('T'),
        'ŧ' => Some('t'),
        _ => None,
    };
    if let Some(base) = stroked {
        return base;
    }
    let mut buf = [0; 4];
    let decomposed = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd().normalize(c.encode_utf8(&mut buf));
    match decomposed.chars().next() {
        Some(base) if base.is_ascii_alphabetic() => base,
        _ => c,
    }
}

/// The hashtags of a plain text, each as Mastodon files it ([`normal_tag`]), in order.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut tags = vec![];
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts = is_hash(c) && may_start_after(prev);
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = text.get(i + c.len_utf8()..).unwrap_or_default();
        let end = rest
            .char_indices()
            .find(|(_, c)| !(is_word(*c) || is_separator(*c)))
            .map_or(rest.len(), |(j, _)| j);
        let name = rest.split_at(end).0.trim_end_matches(is_separator);
        if name.chars().any(char::is_alphabetic) {
            tags.push(normal_tag(name));
        }
    }
    tags
}

/// An opt-out flag (`noindex`, `indexable`, `discoverable`) read so that it fails closed:
/// a boolean, or the string `"true"`/`"false"`, is that boolean; `null` is unknown; any
/// other value reads as `opted_out` (the value that keeps the account from being expanded),
/// so a server cannot turn an opt-out into "unknown" by sending it in another type.
pub fn opt_out_flag(v: &serde_json::Value, opted_out: bool) -> Option<bool> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => Some(opted_out),
    }
}

/// Whether `c` is drawn as nothing: a format character (Unicode category Cf: soft hyphen,
/// zero-width space and joiners, bidi marks, word joiner, BOM, tags …) or another default
/// ignorable one (combining grapheme joiner, variation selectors, Hangul fillers).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}'
        | '\u{600}'..='\u{605}' | '\u{6dd}' | '\u{70f}' | '\u{890}' | '\u{891}' | '\u{8e2}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}')
}

/// Whether a bio opts out of bots with the hashtag `#nobot` or `#noindex`.
///
/// The bio is read as text first ([`text`]): Mastodon renders it as HTML, with
/// hashtags as `<a …>#<span>nobot</span></a>`. Tags are matched as Mastodon parses them
/// ([`hashtags`]), so `#nobots` or `#NoBotany` are other tags. A tag is matched both as
/// written and as a person reads it, characters drawn as nothing removed ([`is_invisible`]):
/// `#no&shy;bot` or `#no` ZWJ `bot` shows `#nobot`, and opts out.
pub fn bio_opts_out(bio: &str) -> bool {
    let read = text(bio);
    let seen: String = read.chars().filter(|c| !is_invisible(*c)).collect();
    [read, seen]
        .iter()
        .any(|t| hashtags(t).iter().any(|t| t == "nobot" || t == "noindex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_split_by_an_invisible_character_reads_as_a_person_sees_it() {
        for bio in [
            "<p>#no&shy;bot</p>",
            "#no\u{ad}bot",
            "#no\u{200d}bot",
            "#no&zwj;bot",
            "#no&#x200B;bot",
            "#no\u{2060}index",
            "#\u{feff}nobot",
            "#nob\u{34f}ot",
            "#no\u{fe0f}bot",
            "#no\u{e0062}bot",
            "#no\u{202e}bot",
            "<a href=\"https://x.example/tags/nobot\">#<span>no&#173;bot</span></a>",
            // Named references of invisible characters, and a legacy one without its `;`,
            // as a browser decodes them (outside trial).
            "#no&lrm;bot",
            "#no&rlm;bot",
            "#no&NoBreak;index",
            "#no&af;bot",
            "#no&ApplyFunction;bot",
            "#no&it;bot",
            "#no&InvisibleTimes;bot",
            "#no&ic;bot",
            "#no&InvisibleComma;bot",
            "<p>#no&shybot</p>",
            "#no&shyindex",
        ] {
            assert!(bio_opts_out(bio), "{bio:?}");
        }
        // Still other tags, and words that only look near it.
        for bio in ["#no\u{ad}bots", "#nob\u{200b}ody", "no\u{ad}bot", "#no bot", "#no-bot"] {
            assert!(!bio_opts_out(bio), "{bio:?}");
        }
        // A tag Mastodon parses as written stays one: an invisible character before it.
        assert!(bio_opts_out("x\u{200b}#nobot"));
    }

    /// Mastodon files a tag under its NFKC form, lower-cased, Latin letters folded to ASCII:
    /// each of these is the tag a person sees (and Mastodon links) as #nobot or #noindex.
    #[test]
    fn tags_are_read_after_mastodons_normalisation() {
        for bio in [
            "#\u{ff4e}\u{ff4f}\u{ff42}\u{ff4f}\u{ff54}",
            "#\u{ff2e}\u{ff2f}\u{ff22}\u{ff2f}\u{ff34}",
            "#\u{ff4e}\u{ff4f}\u{ff49}\u{ff4e}\u{ff44}\u{ff45}\u{ff58}",
            "<p>Hi! &#xff03;\u{ff4e}\u{ff4f}\u{ff42}\u{ff4f}\u{ff54}</p>",
            "#n\u{f6}bot",
            "#NO\u{1d401}OT",
            "#no\u{1d5bb}ot",
            "#n\u{f8}index",
            "#no\u{131}ndex",
        ] {
            assert!(bio_opts_out(bio), "{bio:?} reads {:?}", hashtags(&text(bio)));
        }
        // NFKC can also make another tag: the ligature fi is f and i.
        assert_eq!(hashtags("#no\u{fb01}x"), ["nofix"]);
        assert_eq!(normal_tag("Caf\u{e9}_\u{1d7d9}"), "cafe_1");
        assert_eq!(normal_tag("stra\u{df}e\u{153}"), "stra\u{df}e\u{153}");
        assert_eq!(normal_tag("\u{130}x"), "ix");
        assert_eq!(normal_tag("a\u{b7}b\u{30fb}c"), "a\u{b7}b\u{30fb}c");
    }

    /// Mastodon's `HASHTAG_RE` starts a tag after anything but a letter, a number, `=`, `/`
    /// or `)`, and reads marks as word characters: each of these is #nobot or #noindex as
    /// Mastodon renders (and files) it.
    #[test]
    fn an_underscore_before_the_hash_and_a_decomposed_letter_still_make_the_tag() {
        for bio in [
            "_#nobot",
            "a_#nobot",
            "<p>me_#NoIndex</p>",
            "#n\u{6f}\u{308}bot",
            "#no\u{308}bot",
            "#N\u{4f}\u{308}BOT",
            "#no\u{308}index",
            "x\u{301}#nobot",
            "#nobo\u{332}t",
            "\u{203f}#nobot",
        ] {
            assert!(bio_opts_out(bio), "{bio:?} reads {:?}", hashtags(&text(bio)));
        }
        assert_eq!(hashtags("_#nobot"), ["nobot"]);
        assert_eq!(hashtags("#no\u{308}bot"), ["nobot"]);
        // Lookalikes that are other tags, or no tag at all.
        for bio in [
            "#_nobot",
            "#nobot_",
            "#nobot\u{308}",
            "#n\u{43e}bot",
            "#\u{2116}obot",
            "x#nobot",
            "\u{e9}#nobot",
            "1#nobot",
            "=#nobot",
            "/#nobot",
            ")#nobot",
            "#no\u{308}bots",
            "#nob\u{308}\u{308}ot_x",
        ] {
            assert!(!bio_opts_out(bio), "{bio:?} reads {:?}", hashtags(&text(bio)));
        }
    }

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

    #[test]
    fn encoded_hash_signs_still_make_hashtags() {
        for bio in [
            "&num;nobot",
            "&#35nobot",
            "&#35;nobot",
            "&#x23nobot",
            "&#X23;nobot",
            "&#0035nobot",
            "<p>x&NewLine;&num;NoBot</p>",
            "x&Tab;&#35nobot",
            "a&nbsp;#nobot",
            "\u{ff03}nobot",
            "&#65283;nobot",
            "#&#110;obot",
            "#no&lowbar;bot",
        ] {
            let tags = hashtags(&text(bio));
            let expected = if bio.contains("lowbar") { "no_bot" } else { "nobot" };
            assert_eq!(tags, [expected], "{bio:?}");
        }
    }

    #[test]
    fn broken_references_read_as_browsers_show_them() {
        assert_eq!(
            text("&#;x &#xZ &#0; &#99999999999 &num &bogus; &Num;"),
            "&#;x &#xZ \u{fffd} \u{fffd} &num &bogus; &Num;"
        );
        assert_eq!(hashtags("a=#b x\u{ff03}c #d\u{30fb}e\u{30fb}"), ["d\u{30fb}e"]);
    }

    #[test]
    fn nobot_tags_are_whole_words() {
        assert!(bio_opts_out("<p>Artist. #NoBot please</p>"));
        assert!(bio_opts_out("#noindex"));
        assert!(!bio_opts_out("#nobotany fan"));
        assert!(!bio_opts_out("#nobots"));
        assert!(!bio_opts_out("bots welcome"));
    }

    #[test]
    fn mastodon_hashtag_links_opt_out() {
        let html = r#"<p>Artist.</p><p><a href="https://x.example/tags/nobot" class="mention hashtag" rel="tag">#<span>nobot</span></a></p>"#;
        assert!(bio_opts_out(html));
        assert!(bio_opts_out("<p>a<br>#<span>NoIndex</span>&nbsp;b</p>"));
        assert!(!bio_opts_out(
            r#"<a href="https://x.example/tags/nobotany">#<span>nobotany</span></a>"#
        ));
    }

    /// A comment or a quoted attribute holding `>` does not end the tag early, so it cannot
    /// split a word a browser shows whole.
    #[test]
    fn comments_and_quoted_attributes_holding_a_bracket_hide_no_opt_out() {
        assert_eq!(text("<p>#no<!-- > -->bot</p>"), "\n#nobot\n");
        assert!(bio_opts_out("<p>#no<!-- > -->bot</p>"));
        assert!(bio_opts_out(r#"#no<span title=">">bot</span>"#));
        assert!(bio_opts_out("#no<span title='a>b'>bot</span>"));
        assert_eq!(text("a<!-->b<!--->c<!-- never closed #nobot"), "abc");
        assert_eq!(text("1 < 2 and it's #nobot"), "1 < 2 and it's #nobot");
    }

    #[test]
    fn opt_out_flags_sent_as_strings_or_junk_fail_closed() {
        use serde_json::json;
        let rest = |flags: serde_json::Value| {
            let mut v = json!({"acct": "a@x.example", "uri": "https://x.example/users/a"});
            v.as_object_mut().unwrap().extend(flags.as_object().unwrap().clone());
            let via_rest = crate::protocol::mastodon::listed_account(v.clone(), "x.example").unwrap();
            v["id"] = v["uri"].clone();
            let via_ap = crate::protocol::activitypub::account_from_actor(&v);
            assert_eq!(
                (via_rest.noindex, via_rest.indexable, via_rest.discoverable),
                (via_ap.noindex, via_ap.indexable, via_ap.discoverable)
            );
            via_rest
        };
        for opted_out in [
            json!({"noindex": "true"}),
            json!({"noindex": " TRUE "}),
            json!({"noindex": "yes"}),
            json!({"noindex": 1}),
            json!({"noindex": {}}),
            json!({"indexable": "false"}),
            json!({"indexable": 0}),
            json!({"discoverable": "false"}),
            json!({"discoverable": ["x"]}),
        ] {
            assert!(!rest(opted_out.clone()).may_expand(), "{opted_out}");
        }
        let open = rest(json!({"noindex": "false", "indexable": "true", "discoverable": null}));
        assert_eq!(
            (open.noindex, open.indexable, open.discoverable),
            (Some(false), Some(true), None)
        );
        assert!(open.may_expand());
    }
}
