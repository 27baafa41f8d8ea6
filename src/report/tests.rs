//! Unit tests of the report's building blocks: bars, wrapping, numbers, colour choice,
//! escaping, and the formats a diff is written in.

use std::ffi::OsStr;

use super::svg::escape;
use super::text::{amount, bar, color_wanted, hhi, percent, wrap, WIDTH};

#[test]
fn bars_are_drawn_in_eighths_of_a_cell() {
    assert_eq!(bar(1.0, 10), "██████████");
    assert_eq!(bar(0.5, 10), "█████");
    assert_eq!(bar(0.0125, 10), "▏", "1/8 of a cell");
    assert_eq!(bar(0.3125, 4), "█▎", "1.25 cells");
    assert_eq!(bar(0.0, 10), "");
    assert_eq!(bar(7.0, 3), "███", "never wider than the width");
    assert_eq!(bar(f64::NAN, 3), "", "NaN draws nothing");
}

#[test]
fn wrapping_keeps_words_and_percent_signs_within_the_width() {
    let text = "Of the 412 accounts followed, 59 % are hosted by 2 organisations (Hetzner, Contabo); 4 organisations cover 75 %. Hosting is highly concentrated.";
    let wrapped = wrap(text, "", "  ");
    assert!(wrapped.lines().all(|l| l.chars().count() <= WIDTH), "{wrapped}");
    assert_eq!(wrapped.replace("\n  ", " ").trim_end(), text);
    assert!(wrapped.lines().all(|l| !l.trim_start().starts_with('%')), "{wrapped}");
    let narrow = wrap(&format!("{} 31 %.", "x".repeat(76)), "", "");
    assert_eq!(narrow, format!("{}\n31 %.\n", "x".repeat(76)));
    assert_eq!(wrap("", "  ", "  "), "\n");
    // A word longer than a line (a long name or path) is cut with "…": no line passes the
    // width (issue #15; JSON and CSV keep the whole value).
    let long = "y".repeat(100);
    assert_eq!(
        wrap(&format!("see {long} there"), "  ", "    "),
        format!("  see\n    {}…\n    there\n", "y".repeat(75))
    );
}

#[test]
fn numbers_read_as_people_write_them() {
    assert_eq!(amount(127.0), "127");
    assert_eq!(amount(18.5), "18.5");
    assert_eq!(amount(0.333_333), "0.3");
    assert_eq!(percent(0.308_252), "30.8 %");
    assert_eq!(hhi(1562.5), "1563", "half up");
    assert_eq!(hhi(2384.179), "2384");
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    assert!(color_wanted(true, None));
    assert!(!color_wanted(false, None));
    assert!(!color_wanted(true, Some(OsStr::new("1"))));
    assert!(
        color_wanted(true, Some(OsStr::new(""))),
        "an empty NO_COLOR does not count"
    );
}

#[test]
fn svg_text_is_escaped() {
    assert_eq!(
        escape("LLC \"SPUTNIK\" <a&b> 'x'"),
        "LLC &quot;SPUTNIK&quot; &lt;a&amp;b&gt; &#39;x&#39;"
    );
}

fn empty_diff() -> super::diff::Diff {
    super::diff::Diff {
        schema_version: super::SCHEMA_VERSION,
        from: 1,
        to: 2,
        weight: crate::metrics::Weight::Accounts,
        not_like_for_like: None,
        lists: vec![],
        accounts: vec![],
        opted_out: vec![],
        counted: vec![],
        hosts: vec![],
        instances: vec![],
        metrics: vec![],
    }
}

#[test]
fn a_diff_is_written_as_text_or_json_only() {
    use super::diff::{render, render_text};
    use super::Format;
    let d = empty_diff();
    assert_eq!(render(&d, Format::Text).unwrap(), render_text(&d));
    assert!(render(&d, Format::Text)
        .unwrap()
        .starts_with("Changes from snapshot 1 to snapshot 2 (weight: accounts).\n"));
    let json: serde_json::Value = serde_json::from_str(&render(&d, Format::Json).unwrap()).unwrap();
    assert_eq!(json["from"], 1);
    assert_eq!(json["weight"], "accounts");
    assert_eq!(
        render(&d, Format::Csv).unwrap_err().to_string(),
        "a diff is not written as csv (only as text, json)"
    );
    assert!(render(&d, Format::Html).is_err());
    assert!(render(&d, Format::Tsv).is_err());
}

#[test]
fn plural_takes_the_english_ending_and_never_says_one_things() {
    let cases = [
        (1, "entry", "1 entry"),
        (2, "malformed entry", "2 malformed entries"),
        (3, "country", "3 countries"),
        (2, "distinct address", "2 distinct addresses"),
        (4, "AS", "4 ASes"),
        (1, "AS", "1 AS"),
        (0, "provider", "0 providers"),
        (2, "day", "2 days"),
        (5, "duplicate", "5 duplicates"),
    ];
    for (n, word, want) in cases {
        assert_eq!(super::plural(n, word), want);
    }
}
