//! A domain's SPF record (RFC 7208), read only for the names it includes: behind a filtering
//! gateway, `include:_spf.google.com` says whose servers send (and, in practice, hold) the
//! domain's mail.
//!
//! Bounded: a record longer than [`MAX_RECORD`] bytes or with more than [`MAX_TERMS`] terms is
//! refused; includes are never followed (only their names are matched); several `v=spf1`
//! records are RFC 7208's permerror and give nothing.

use crate::net::dns::Dns;

/// The longest SPF record read (RFC 7208 keeps a DNS answer under 512 bytes in practice; a
/// TXT record may be far longer).
pub const MAX_RECORD: usize = 2048;
/// The most terms read from a record.
pub const MAX_TERMS: usize = 64;
/// The most names kept from a record.
const MAX_TARGETS: usize = 16;

/// The `include:` and `redirect=` targets of `record`, lower case, or why it is refused.
pub fn targets(record: &str) -> Result<Vec<String>, &'static str> {
    if record.len() > MAX_RECORD {
        return Err("SPF record longer than 2048 bytes");
    }
    let mut terms = record.split_ascii_whitespace();
    if !terms.next().is_some_and(|v| v.eq_ignore_ascii_case("v=spf1")) {
        return Err("not an SPF record");
    }
    let mut out = vec![];
    for (n, term) in terms.enumerate() {
        if n >= MAX_TERMS {
            return Err("SPF record with more than 64 terms");
        }
        let term = term.trim_start_matches(['+', '-', '~', '?']);
        let lower = term.to_ascii_lowercase();
        let target = lower
            .strip_prefix("include:")
            .or_else(|| lower.strip_prefix("redirect="));
        if let Some(t) = target {
            let t = t.trim_end_matches('.');
            // Macros (`%{d}`) name nothing whohosts can match.
            if !t.is_empty() && !t.contains('%') && out.len() < MAX_TARGETS && !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    Ok(out)
}

/// The include and redirect targets of `domain`'s one SPF record; none when it has none,
/// several, or DNS fails.
pub async fn of(dns: &Dns, domain: &str) -> Vec<String> {
    let Ok(txt) = dns.txt(domain).await else {
        return vec![];
    };
    let spf: Vec<&String> = txt
        .iter()
        .filter(|t| {
            t.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("v=spf1 ") || t.eq_ignore_ascii_case("v=spf1"))
        })
        .collect();
    match spf.as_slice() {
        [one] => targets(one).unwrap_or_default(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_and_redirects_are_read_and_bounded() {
        assert_eq!(
            targets("v=spf1 ip4:192.0.2.0/24 include:spf.protection.outlook.com ~include:_SPF.Google.com. -all"),
            Ok(vec![
                "spf.protection.outlook.com".to_string(),
                "_spf.google.com".to_string()
            ])
        );
        assert_eq!(
            targets("v=spf1 redirect=_spf.mail.ru"),
            Ok(vec!["_spf.mail.ru".to_string()])
        );
        assert_eq!(targets("v=spf1 include:%{d}.spf.example -all"), Ok(vec![]));
        assert_eq!(targets("google-site-verification=abc"), Err("not an SPF record"));
        let long = format!("v=spf1 {}", "a ".repeat(65));
        assert_eq!(targets(&long), Err("SPF record with more than 64 terms"));
        let huge = format!("v=spf1 include:{}.example", "a".repeat(3000));
        assert_eq!(targets(&huge), Err("SPF record longer than 2048 bytes"));
        let many: String = (0..40).map(|i| format!(" include:s{i}.example")).collect();
        assert_eq!(targets(&format!("v=spf1{many}")).unwrap().len(), 16);
    }
}
