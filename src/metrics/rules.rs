//! Threshold rules over a snapshot's stored metrics: what `--fail-if` and `--warn-if` check.
//!
//! A rule is `SUBJECT.METRIC[.change] OP NUMBER`, read by a small hand-written parser
//! ([`Rule::from_str`]) that names the token it cannot use:
//! - SUBJECT is a level (`instance`, `organisation`, `as`, `range`, `block`, `country`,
//!   `hosting`) with METRIC one of [`LEVEL_METRICS`] (`top1` … `gini`, read from the stored
//!   [`crate::metrics::Concentration`] under the report's weight), or `unseen` with METRIC
//!   `share` (accounts hidden or not-exposed lists declare but do not show, over those plus the
//!   distinct accounts seen) or `accounts` (their number).
//! - `.change` compares with the previous complete snapshot of the same seeds: the value now
//!   minus the value then.
//! - OP is one of `>`, `>=`, `<`, `<=`, `==`, `!=`; NUMBER a finite decimal (`0.5`, `2500`,
//!   `-100`, `1e3`).
//!
//! [`Rule::check`] gives the value and whether the rule holds, or why it could not be checked
//! (a level with nothing to attribute, no earlier snapshot for a `.change`). Parsing never
//! panics on any input (a unit test feeds it hostile strings).

use std::str::FromStr;

use super::{Level, SnapshotMetrics, Weight};
use crate::error::{Error, Result};

/// Longest rule accepted, in bytes (a rule is a few words).
pub const MAX_RULE_BYTES: usize = 200;

/// The metrics a level offers to rules, as they are written.
pub const LEVEL_METRICS: &[&str] = &[
    "top1",
    "top3",
    "top5",
    "top10",
    "k50",
    "k75",
    "hhi",
    "entropy",
    "effective",
    "gini",
    "buckets",
    "total",
];

/// The metrics of `unseen`.
pub const UNSEEN_METRICS: &[&str] = &["share", "accounts"];

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Op {
    /// Operators in the order the parser tries them (two-character ones first).
    const ALL: [(&'static str, Op); 6] = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];

    /// Whether `value OP threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Eq => (value - threshold).abs() < 1e-9,
            Op::Ne => (value - threshold).abs() >= 1e-9,
        }
    }
}

/// What a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A level's concentration figure (one of [`LEVEL_METRICS`]).
    Level(Level, &'static str),
    /// A figure of the accounts lists declare but do not show (one of [`UNSEEN_METRICS`]).
    Unseen(&'static str),
}

/// One parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule as written, trimmed (for messages).
    pub text: String,
    /// What it reads, as written (`organisation.hhi.change`).
    pub name: String,
    pub subject: Subject,
    /// Compare with the previous snapshot of the same seeds.
    pub change: bool,
    pub op: Op,
    pub threshold: f64,
}

/// The outcome of checking one rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The rule holds (triggered) for `value`.
    Triggered(f64),
    /// The rule does not hold for `value`.
    Clear(f64),
    /// The rule cannot be checked, for the reason given.
    Unchecked(String),
}

fn one_of<'a>(token: &str, names: &[&'a str]) -> Option<&'a str> {
    names.iter().copied().find(|n| *n == token)
}

impl FromStr for Rule {
    type Err = Error;

    /// # Errors
    /// [`Error::Input`] naming the rule and the token that is wrong.
    fn from_str(s: &str) -> Result<Rule> {
        Rule::parse(s).map_err(|message| Error::Input(format!("rule {:?}: {message}", s.trim())))
    }
}

impl Rule {
    /// Parse a rule; the error names the token that is wrong (not the rule itself, which the
    /// caller names: clap says "invalid value 'RULE' for '--fail-if <RULE>'").
    ///
    /// # Errors
    /// What is wrong, in one sentence.
    pub fn parse(s: &str) -> std::result::Result<Rule, String> {
        let text = s.trim();
        if text.len() > MAX_RULE_BYTES {
            return Err(format!("longer than {MAX_RULE_BYTES} bytes"));
        }
        let Some(at) = text.find(['<', '>', '=', '!']) else {
            return Err(String::from("no comparison: expected one of >, >=, <, <=, ==, !="));
        };
        // The first operator character starts the operator; two-character ones first.
        let Some((sym, op)) = Op::ALL.iter().find(|(sym, _)| text[at..].starts_with(sym)).copied() else {
            let token: String = text[at..].chars().take(2).collect();
            return Err(format!(
                "unknown comparison {token:?}: expected one of >, >=, <, <=, ==, !="
            ));
        };
        let (left, right) = (text[..at].trim(), text[at + sym.len()..].trim());
        let threshold = parse_number(right)?;
        let mut parts = left.split('.');
        let subject_token = parts.next().unwrap_or_default();
        let Some(metric_token) = parts.next() else {
            return Err(format!(
                "{left:?} names no metric: expected LEVEL.METRIC, as in organisation.top1"
            ));
        };
        let change = match parts.next() {
            None => false,
            Some("change") => true,
            Some(other) => return Err(format!("unexpected {other:?}: only \".change\" may follow the metric")),
        };
        if let Some(extra) = parts.next() {
            return Err(format!("unexpected {extra:?} after \".change\""));
        }
        let subject = subject(subject_token, metric_token)?;
        Ok(Rule {
            text: text.to_string(),
            name: left.to_string(),
            subject,
            change,
            op,
            threshold,
        })
    }
}

fn parse_number(token: &str) -> std::result::Result<f64, String> {
    if token.is_empty() {
        return Err(String::from("no number after the comparison"));
    }
    let plain = token
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    match token.parse::<f64>() {
        Ok(v) if plain && v.is_finite() => Ok(v),
        _ => {
            let hint = match token.strip_suffix('%').map(|n| n.trim().parse::<f64>()) {
                Some(Ok(p)) => format!(": shares run from 0 to 1 ({p} % is {})", p / 100.0),
                _ if token.starts_with(['<', '>', '=', '!']) => String::from(
                    ": give one comparison between the metric and the number, as in organisation.top1 > 0.5",
                ),
                _ => String::new(),
            };
            Err(format!("{token:?} is not a number{hint}"))
        }
    }
}

/// ` (did you mean "X"?)` when `name` is a near miss of one of `known`, else nothing.
fn did_you_mean(name: &str, known: &[&str]) -> String {
    crate::model::text::nearest(name, known.iter().copied())
        .map(|n| format!(" (did you mean {n:?}?)"))
        .unwrap_or_default()
}

fn subject(subject: &str, metric: &str) -> std::result::Result<Subject, String> {
    if subject == "unseen" {
        return one_of(metric, UNSEEN_METRICS).map(Subject::Unseen).ok_or_else(|| {
            format!(
                "unknown metric {metric:?} of unseen: expected one of {}",
                UNSEEN_METRICS.join(", ")
            )
        });
    }
    let level: Level = subject.parse().map_err(|_| {
        let mut levels: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        levels.push("unseen");
        format!(
            "unknown level {subject:?}{}: expected one of {}",
            did_you_mean(subject, &levels),
            levels.join(", ")
        )
    })?;
    one_of(metric, LEVEL_METRICS)
        .map(|m| Subject::Level(level, m))
        .ok_or_else(|| {
            format!(
                "unknown metric {metric:?}{}: expected one of {}",
                did_you_mean(metric, LEVEL_METRICS),
                LEVEL_METRICS.join(", ")
            )
        })
}

/// The value of `subject` in `metrics` under `weight`; `Err` says why there is none.
pub fn value(subject: Subject, metrics: &SnapshotMetrics, weight: Weight) -> std::result::Result<f64, String> {
    match subject {
        Subject::Unseen(m) => {
            let p = &metrics.population;
            Ok(match m {
                "share" => p.unseen_share(),
                _ => p.accounts_unseen as f64,
            })
        }
        Subject::Level(level, m) => {
            let l = metrics
                .get(level, weight)
                .filter(|l| l.summary.buckets > 0)
                .ok_or_else(|| format!("nothing to attribute at level {level} ({weight})"))?;
            let s = &l.summary;
            Ok(match m {
                "top1" => s.top1,
                "top3" => s.top3,
                "top5" => s.top5,
                "top10" => s.top10,
                "k50" => s.k50 as f64,
                "k75" => s.k75 as f64,
                "hhi" => s.hhi,
                "entropy" => s.entropy,
                "effective" => s.effective,
                "gini" => s.gini,
                "buckets" => s.buckets as f64,
                _ => s.total,
            })
        }
    }
}

impl Rule {
    /// Check the rule against `now`, and `before` (the previous snapshot of the same seeds)
    /// for a `.change` rule.
    pub fn check(&self, now: &SnapshotMetrics, before: Option<&SnapshotMetrics>, weight: Weight) -> Outcome {
        let current = match value(self.subject, now, weight) {
            Ok(v) => v,
            Err(why) => return Outcome::Unchecked(why),
        };
        let v = if self.change {
            let Some(before) = before else {
                return Outcome::Unchecked("no earlier complete snapshot of the same seeds".into());
            };
            match value(self.subject, before, weight) {
                Ok(b) => current - b,
                Err(why) => return Outcome::Unchecked(format!("in the earlier snapshot, {why}")),
            }
        } else {
            current
        };
        if self.op.holds(v, self.threshold) {
            Outcome::Triggered(v)
        } else {
            Outcome::Clear(v)
        }
    }
}

#[cfg(test)]
mod tests;
