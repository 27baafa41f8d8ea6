//! NodeInfo user counts are claims of the server: judged before they are trusted.
//!
//! A count is implausible when it is negative, not a whole number, not a number at all, above
//! the configured ceiling (`instances.max_users`), when `activeMonth` exceeds `total`, or
//! when GoToSocial says 0 users (its `instance-stats-mode = "zero"` serves zeros). An
//! instance with any implausible count keeps none of its counts: it is counted apart.
//!
//! What cannot be seen: GoToSocial's `baffle` mode serves random counts and, in the same
//! setting, disallows NodeInfo in robots.txt, so a polite reader never sees them (the
//! instance fails as "robots.txt disallows"); a random count under the ceiling, read once,
//! looks like any other (whohosts reads NodeInfo once per host, so it does not compare two
//! reads).

use serde::Serialize;
use serde_json::Value;

/// The counts an instance's NodeInfo claims, judged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// `usage.users.total`, when present and plausible (and nothing else is implausible).
    pub users: Option<u64>,
    /// `usage.users.activeMonth`, likewise.
    pub active: Option<u64>,
    /// Why the counts are not trusted (empty: they are).
    pub implausible: Vec<String>,
}

/// One count: absent, a plausible whole number, or why it is implausible.
fn count(doc: &Value, field: &str, max: u64) -> Result<Option<u64>, String> {
    let Some(v) = doc.pointer(&format!("/usage/users/{field}")) else {
        return Ok(None);
    };
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) if u > max => Err(format!("{field} {u} is above instances.max_users ({max})")),
            (Some(u), _, _) => Ok(Some(u)),
            (None, Some(i), _) => Err(format!("{field} {i} is negative")),
            // A float: a whole one is judged as the whole number it is (`120.0` is 120, `1e308`
            // is above any ceiling), one with a fraction is no count of users.
            (None, None, Some(x)) if x.is_finite() && x.fract() == 0.0 => {
                let shown = if x.abs() < 1e15 {
                    format!("{x:.0}")
                } else if x.abs() == f64::MAX {
                    // A number no float holds, read as the largest one (`1e400`).
                    format!("{}1.8e308 or more", if x < 0.0 { "-" } else { "" })
                } else {
                    format!("{x:e}")
                };
                if x < 0.0 {
                    Err(format!("{field} {shown} is negative"))
                } else if x > max as f64 {
                    Err(format!("{field} {shown} is above instances.max_users ({max})"))
                } else {
                    Ok(Some(x as u64))
                }
            }
            _ => Err(format!("{field} {n} is not a whole number")),
        },
        other => Err(format!(
            "{field} is not a number ({})",
            crate::model::handle::echo(&other.to_string())
        )),
    }
}

/// Judge the user counts of NodeInfo document `doc` of `software` against the ceiling `max`.
pub fn judge(doc: &Value, software: Option<&str>, max: u64) -> Claims {
    let mut implausible = vec![];
    let mut take = |field| {
        count(doc, field, max).unwrap_or_else(|why| {
            implausible.push(why);
            None
        })
    };
    let (users, active) = (take("total"), take("activeMonth"));
    if let (Some(u), Some(a)) = (users, active) {
        if a > u {
            implausible.push(format!("activeMonth {a} is above total {u}"));
        }
    }
    if users == Some(0) && software == Some("gotosocial") {
        implausible.push("GoToSocial claims 0 users (its stats mode \"zero\" hides them)".into());
    }
    if implausible.is_empty() {
        Claims {
            users,
            active,
            implausible,
        }
    } else {
        Claims {
            users: None,
            active: None,
            implausible,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(total: Value, active: Value) -> Value {
        json!({"usage": {"users": {"total": total, "activeMonth": active}}})
    }

    #[test]
    fn plausible_counts_are_kept() {
        let c = judge(&doc(json!(120), json!(40)), Some("mastodon"), 1000);
        assert_eq!((c.users, c.active, c.implausible.len()), (Some(120), Some(40), 0));
        let c = judge(&json!({}), None, 1000);
        assert_eq!(c, Claims::default());
    }

    #[test]
    fn implausible_counts_are_named_and_dropped() {
        let why = |t, a, sw| judge(&doc(t, a), sw, 1000).implausible;
        assert_eq!(why(json!(-5), json!(1), None), ["total -5 is negative"]);
        assert_eq!(why(json!(2.5), json!(1), None), ["total 2.5 is not a whole number"]);
        assert_eq!(
            why(json!(5000), json!(1), None),
            ["total 5000 is above instances.max_users (1000)"]
        );
        assert_eq!(why(json!("many"), json!(1), None), ["total is not a number (\"many\")"]);
        assert_eq!(why(json!(10), json!(11), None), ["activeMonth 11 is above total 10"]);
        assert_eq!(why(json!(0), json!(0), Some("gotosocial")).len(), 1);
        assert_eq!(judge(&doc(json!(10), json!(-1)), None, 1000).users, None);
    }

    #[test]
    fn float_counts_read_as_the_numbers_they_are() {
        let read = |text: &str| judge(&serde_json::from_str(text).unwrap(), None, 1000);
        // A whole number beyond any integer type is too large, not "not a whole number".
        let c = read(r#"{"usage": {"users": {"total": 1e+308}}}"#);
        assert_eq!(c.implausible, ["total 1e308 is above instances.max_users (1000)"]);
        let c = read(r#"{"usage": {"users": {"total": 1e19, "activeMonth": -3.0}}}"#);
        assert_eq!(
            c.implausible,
            [
                "total 1e19 is above instances.max_users (1000)",
                "activeMonth -3 is negative"
            ]
        );
        // A whole float under the ceiling is the count it says.
        let c = read(r#"{"usage": {"users": {"total": 120.0, "activeMonth": 4e1}}}"#);
        assert_eq!((c.users, c.active, c.implausible.len()), (Some(120), Some(40), 0));
        // Only a fraction is "not a whole number".
        let c = read(r#"{"usage": {"users": {"total": 2.5e0}}}"#);
        assert_eq!(c.implausible, ["total 2.5 is not a whole number"]);
        let c = read(r#"{"usage": {"users": {"total": 5000.0}}}"#);
        assert_eq!(c.implausible, ["total 5000 is above instances.max_users (1000)"]);
    }

    #[test]
    fn a_count_no_float_holds_is_above_the_ceiling_not_a_malformed_document() {
        let page = |body: &str| crate::net::http::Page {
            url: "https://x.example/nodeinfo/2.0".parse().unwrap(),
            status: 200,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
            remote: None,
        };
        let served =
            page(r#"{"software": {"name": "mastodon"}, "usage": {"users": {"total": 1e400, "activeMonth": -1e999}}}"#);
        let doc = crate::protocol::nodeinfo::document(&served).unwrap();
        let c = judge(&doc, Some("mastodon"), 1000);
        assert_eq!(
            c.implausible,
            [
                "total 1.8e308 or more is above instances.max_users (1000)",
                "activeMonth -1.8e308 or more is negative"
            ]
        );
        assert_eq!((c.users, c.active), (None, None));
        // A document that is no JSON object, or no JSON, is malformed.
        let array = crate::protocol::nodeinfo::document(&page("[1, 2, 3]")).unwrap_err();
        assert!(
            array.to_string().contains("the NodeInfo document is not a JSON object"),
            "{array}"
        );
        let e = crate::protocol::nodeinfo::document(&page(r#"{"usage": 1e400"#)).unwrap_err();
        assert!(e.to_string().contains("invalid JSON"), "{e}");
    }
}
