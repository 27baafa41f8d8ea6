//! The rule parser on good and bad input, and checks against hand-made metrics.

use super::*;
use crate::metrics::{concentration, LevelMetrics, Population};

fn err(s: &str) -> String {
    s.parse::<Rule>().expect_err(s).to_string()
}

#[test]
fn parses_the_documented_examples() {
    let r: Rule = "organisation.top1 > 0.5".parse().unwrap();
    assert_eq!(r.subject, Subject::Level(Level::Organisation, "top1"));
    assert_eq!((r.change, r.op, r.threshold), (false, Op::Gt, 0.5));
    let r: Rule = " organisation.hhi.change>=200 ".parse().unwrap();
    assert_eq!(
        (r.change, r.op, r.threshold, r.text.as_str()),
        (true, Op::Ge, 200.0, "organisation.hhi.change>=200")
    );
    assert_eq!("instance.k50 < 3".parse::<Rule>().unwrap().op, Op::Lt);
    assert_eq!("as.hhi <= 2500".parse::<Rule>().unwrap().op, Op::Le);
    assert_eq!("as.k75 != 4".parse::<Rule>().unwrap().op, Op::Ne);
    assert_eq!("as.k75 == 4".parse::<Rule>().unwrap().op, Op::Eq);
    assert_eq!(
        "unseen.share > 0.2".parse::<Rule>().unwrap().subject,
        Subject::Unseen("share")
    );
    assert_eq!("as.hhi.change < -1e2".parse::<Rule>().unwrap().threshold, -100.0);
}

#[test]
fn bad_rules_name_the_token() {
    assert_eq!(
        err("galaxy.top1 > 0.5"),
        "rule \"galaxy.top1 > 0.5\": unknown level \"galaxy\": expected one of instance, organisation, as, range, \
         block, country, hosting, unseen"
    );
    assert!(err("as.top2 > 0.5").contains("unknown metric \"top2\""));
    assert!(err("as.hhi.delta > 1").contains("unexpected \"delta\""));
    assert!(err("as.hhi.change.x > 1").contains("unexpected \"x\""));
    assert!(err("as.hhi 2500").contains("no comparison"));
    assert!(err("as.hhi = 2500").contains("unknown comparison \"= \""));
    assert!(err("as.hhi => 2500").contains("unknown comparison \"=>\""));
    assert!(err("as.hhi > ").contains("no number"));
    assert!(err("as.hhi > lots").contains("\"lots\" is not a number"));
    assert!(err("as.hhi > inf").contains("\"inf\" is not a number"));
    assert!(err("as.hhi > NaN").contains("\"NaN\" is not a number"));
    assert!(err("as.hhi > 1e999").contains("is not a number"));
    assert!(err("as.hhi > 1 < 2").contains("\"1 < 2\" is not a number"));
    assert!(err("hhi > 1").contains("\"hhi\" names no metric"));
    assert!(err("unseen.top1 > 1").contains("unknown metric \"top1\" of unseen"));
    assert!(err(&"a".repeat(300)).contains("longer than 200 bytes"));
    assert_eq!(Rule::parse("as.hhi > x").unwrap_err(), "\"x\" is not a number");
}

#[test]
fn hostile_input_never_panics() {
    let pieces = [
        "", ".", "..", ">", "<", "=", "!", "é", "\u{0}", " ", "as", "hhi", "change", "1", "-", "e",
    ];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                for d in pieces {
                    let _ = format!("{a}{b}{c}{d}").parse::<Rule>();
                }
            }
        }
    }
    for s in [
        "as.hhi >é",
        "é< 1",
        "as.é.change > 1",
        "<",
        "!",
        ">=",
        "\u{202e}as.hhi > 1",
    ] {
        let _ = s.parse::<Rule>();
    }
}

fn metrics(org_weights: &[f64], accounts: usize, unseen: u64) -> SnapshotMetrics {
    let level = |level, w: &[f64]| LevelMetrics {
        level,
        weight: Weight::Accounts,
        buckets: vec![],
        summary: concentration(w),
        apart: Default::default(),
    };
    SnapshotMetrics {
        population: Population {
            accounts,
            accounts_unseen: unseen,
            ..Population::default()
        },
        levels: vec![level(Level::Organisation, org_weights), level(Level::As, &[])],
    }
}

#[test]
fn checks_values_changes_and_what_cannot_be_checked() {
    let now = metrics(&[6.0, 2.0, 2.0], 10, 10);
    let before = metrics(&[5.0, 5.0], 10, 0);
    let rule = |s: &str| s.parse::<Rule>().unwrap();
    let w = Weight::Accounts;
    assert_eq!(
        rule("organisation.top1 > 0.5").check(&now, None, w),
        Outcome::Triggered(0.6)
    );
    assert_eq!(rule("organisation.k50 < 1").check(&now, None, w), Outcome::Clear(1.0));
    // HHI 3600 + 400 + 400 = 4400 now, 5000 before.
    match rule("organisation.hhi.change < -500").check(&now, Some(&before), w) {
        Outcome::Triggered(v) => assert!((v + 600.0).abs() < 1e-6, "{v}"),
        o => panic!("{o:?}"),
    }
    assert_eq!(
        rule("organisation.hhi.change > 1").check(&now, None, w),
        Outcome::Unchecked("no earlier complete snapshot of the same seeds".into())
    );
    assert_eq!(
        rule("as.hhi > 1").check(&now, None, w),
        Outcome::Unchecked("nothing to attribute at level as (accounts)".into())
    );
    assert_eq!(rule("unseen.share > 0.2").check(&now, None, w), Outcome::Triggered(0.5));
    assert_eq!(
        rule("unseen.accounts >= 10").check(&now, None, w),
        Outcome::Triggered(10.0)
    );
    assert_eq!(
        rule("unseen.share.change > 0.4").check(&now, Some(&before), w),
        Outcome::Triggered(0.5)
    );
}
