//! `whohosts lookup HOST|IP|URL...`: the attribution chain of hosts or addresses.
//!
//! A target is a host name, an IP address, a URL or `host:port` / `[v6]:port` (the host is
//! taken); anything else is refused with one line on stderr before any DNS query. With `-` it
//! reads one target a line from stdin and streams the answers (TSV by default: one line per
//! address, each starting with the target as given; or one JSON object per target), through
//! one buffered writer flushed at the end.

use std::io::{BufRead, BufWriter, Write};
use std::net::IpAddr;
use std::sync::Arc;

use super::{logging, stdout_result, AttributionArgs};
use crate::attribution::Attributor;
use crate::config::Config;
use crate::error::Result;
use crate::model::attribution::{AddressAttribution, HostAttribution};
use crate::model::format::Format;
use crate::pipeline::Context;

/// `lookup` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Host names, IP addresses, URLs or host:port; `-` reads them from stdin, one a line
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output format [default: text for arguments, tsv for stdin]
    #[arg(long, value_parser = super::formats::lookup())]
    pub format: Option<Format>,
    #[command(flatten)]
    pub attribution: AttributionArgs,
}

/// The formats `lookup` writes.
pub const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Tsv];

/// Column names of the TSV output.
pub const TSV_HEADER: &str =
    "target\taddress\tasn\tas_name\torganisation\tcdn\trange\tcidr\tcover\tcountry\tcnames\thosting\tsource\terror";

/// Longest target accepted (a DNS name is at most 253 characters; a URL may carry a path).
const MAX_TARGET: usize = 2048;

/// What a target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Ip(IpAddr),
    Host(String),
}

/// Read a target: an address, a host name (IDNs in punycode), a URL or `host:port`.
///
/// # Errors
/// Why it is none of these, as the end of a sentence about the input.
pub fn parse_target(input: &str) -> std::result::Result<Target, &'static str> {
    if input.is_empty() {
        return Err("is empty");
    }
    if input.len() > MAX_TARGET {
        return Err("is too long to be a host name, an IP address or a URL");
    }
    if input.chars().any(char::is_control) {
        return Err("contains a control character");
    }
    if input.chars().any(char::is_whitespace) {
        return Err("contains a space");
    }
    if let Ok(ip) = input.parse::<IpAddr>() {
        return Ok(Target::Ip(ip));
    }
    let host = if input.contains("://") {
        let url = url::Url::parse(input).map_err(|_| "is not a valid URL")?;
        match url.host() {
            Some(url::Host::Ipv4(a)) => return Ok(Target::Ip(a.into())),
            Some(url::Host::Ipv6(a)) => return Ok(Target::Ip(a.into())),
            Some(url::Host::Domain(d)) => d.to_string(),
            None => return Err("is a URL without a host"),
        }
    } else {
        strip_port(input)?
    };
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok(Target::Ip(ip));
    }
    let name = match url::Host::parse(host.trim_end_matches('.')) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => return Err("is not a valid host name"),
    };
    // One dot-free label (`localhost`) is a name too.
    if !crate::model::handle::valid_domain(&format!("{name}.x")) || name.contains(':') {
        return Err("is not a valid host name");
    }
    Ok(Target::Host(name))
}

/// The host of `host`, `host:port`, `[v6]` or `[v6]:port`.
fn strip_port(input: &str) -> std::result::Result<String, &'static str> {
    let (host, port) = match input.strip_prefix('[') {
        Some(rest) => {
            let (inner, after) = rest.split_once(']').ok_or("has an unclosed '['")?;
            (
                inner,
                after
                    .strip_prefix(':')
                    .map(Some)
                    .unwrap_or(Some(after))
                    .filter(|p| !p.is_empty()),
            )
        }
        None => match input.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (input, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err("has a port that is not a number from 0 to 65535");
    }
    Ok(host.to_string())
}

/// The input as shown in a message: at most 60 characters.
fn shown(input: &str) -> String {
    let cut: String = input.chars().take(60).collect();
    if cut.len() < input.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Run `lookup`; exit code 1 when any target could not be resolved or attributed.
///
/// # Errors
/// Config or database errors.
pub async fn run(mut config: Config, args: Args, quiet: bool) -> Result<i32> {
    args.attribution.apply(&mut config)?;
    let ctx = Context::new(config)?;
    let attributor = Arc::new(ctx.attributor(quiet)?);
    let stdin = args.targets.iter().any(|t| t == "-");
    let format = args.format.unwrap_or(if stdin { Format::Tsv } else { Format::Text });
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
    let result = answer_all(&attributor, &args.targets, stdin, format, &mut out).await;
    stdout_result(out.flush())?;
    result
}

async fn answer_all(
    a: &Attributor,
    targets: &[String],
    stdin: bool,
    format: Format,
    out: &mut impl Write,
) -> Result<i32> {
    if format == Format::Tsv {
        stdout_result(writeln!(out, "{TSV_HEADER}"))?;
    }
    let mut failed = false;
    for t in targets.iter().filter(|t| *t != "-") {
        failed |= !answer(a, t.trim(), format, None, out).await?;
    }
    if stdin {
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|e| crate::error::Error::io("<stdin>", e))?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            failed |= !answer(a, t, format, Some(n + 1), out).await?;
        }
    }
    Ok(i32::from(failed))
}

/// Print one target's answer; `false` when it failed. A failure also gets one line on
/// stderr (even under `--quiet`), so cron mails it while stdout keeps its rows. In a
/// stream (`line`: the target's line number on stdin), an address in no range is a result,
/// not a failure: its row says so.
async fn answer(
    a: &Attributor,
    target: &str,
    format: Format,
    line: Option<usize>,
    out: &mut impl Write,
) -> Result<bool> {
    let stream = line.is_some();
    let host = match parse_target(target) {
        Err(why) => {
            let at = line.map(|n| format!(" (stdin line {n})")).unwrap_or_default();
            let line = format!(
                "lookup {:?}{at} {why}; give a host name, an IP address or a URL",
                shown(target)
            );
            let text = match format {
                Format::Json => serde_json::json!({ "target": target, "error": line }).to_string() + "\n",
                Format::Tsv => format!("{}\t\t\t\t\t\t\t\t\t\t\t\t\t{line}\n", clean(target.into())),
                Format::Text => String::new(),
                Format::Csv | Format::Html => return Err(format.not_offered("a lookup", FORMATS)),
            };
            logging::error_line(&line);
            stdout_result(out.write_all(format.safe(text, false).as_bytes()))?;
            return Ok(false);
        }
        Ok(Target::Ip(ip)) => HostAttribution {
            host: target.to_string(),
            cnames: vec![],
            dns_error: None,
            dns_ttl: 0,
            addresses: vec![a.address(ip, None).await],
            connected: None,
            hosting_service: None,
            shares: Default::default(),
        },
        Ok(Target::Host(name)) => a.host(&name, None).await,
    };
    let text = match format {
        Format::Json => json(a, target, &host) + "\n",
        Format::Tsv => tsv(target, &host),
        Format::Text => text(target, &host),
        Format::Csv | Format::Html => return Err(format.not_offered("a lookup", FORMATS)),
    };
    let failure = failure(&host, stream);
    if let Some(why) = &failure {
        logging::error_line(&format!("lookup {}: {why}", shown(target)));
    }
    stdout_result(out.write_all(format.safe(text, false).as_bytes()))?;
    Ok(failure.is_none())
}

/// Why a looked-up host counts as failed: its DNS error, or its first address without an AS
/// (in a `stream`, only one whose look-up itself failed: no AS found is an answer there).
fn failure(h: &HostAttribution, stream: bool) -> Option<String> {
    if let Some(e) = &h.dns_error {
        return Some(format!("cannot resolve: {e}"));
    }
    let a = h
        .addresses
        .iter()
        .find(|x| x.asn.is_none() && !(stream && x.lookup_error.is_none()))?;
    Some(format!("{}: {}", a.ip, no_as(a)))
}

/// A TSV field: tabs and line breaks become spaces.
fn clean(s: String) -> String {
    s.replace(['\t', '\n'], " ")
}

/// One JSON object, with `target` (the input as given) and `database_skipped_lines` (per
/// file) when `--lenient` skipped any.
fn json(a: &Attributor, target: &str, host: &HostAttribution) -> String {
    let mut v = serde_json::to_value(host).expect("attributions serialise");
    if let Some(obj) = v.as_object_mut() {
        obj.insert("target".into(), target.into());
    }
    if let (Some(db), Some(obj)) = (a.source().database, v.as_object_mut()) {
        if !db.skipped_by_file.is_empty() {
            obj.insert(
                "database_skipped_lines".into(),
                serde_json::to_value(&db.skipped_by_file).expect("a map of counts serialises"),
            );
        }
    }
    v.to_string()
}

/// What the error column and text output say of an address without an AS.
fn no_as(a: &AddressAttribution) -> String {
    match &a.lookup_error {
        Some(e) => format!("AS unknown: {e}"),
        None => "no AS found".into(),
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn range(a: &AddressAttribution) -> String {
    match (a.range_start, a.range_end) {
        (Some(s), Some(e)) => format!("{s}-{e}"),
        _ => String::new(),
    }
}

fn tsv(target: &str, h: &HostAttribution) -> String {
    if let Some(e) = &h.dns_error {
        return format!(
            "{target}\t\t\t\t\t\t\t\t\t\t{}\t\t\t{}\n",
            h.cnames.join(","),
            clean(e.clone())
        );
    }
    h.addresses
        .iter()
        .map(|a| {
            let fields = [
                target.to_string(),
                a.ip.to_string(),
                opt(&a.asn),
                clean(opt(&a.as_name)),
                clean(a.organisation.clone()),
                opt(&a.cdn),
                range(a),
                opt(&a.cidr),
                a.cover.to_string(),
                opt(&a.country),
                h.cnames.join(","),
                opt(&h.hosting_service),
                clean(a.source.clone()),
                if a.asn.is_none() { no_as(a) } else { String::new() },
            ];
            fields.join("\t") + "\n"
        })
        .collect()
}

fn text(target: &str, h: &HostAttribution) -> String {
    if let Some(e) = &h.dns_error {
        return format!("{target}: cannot resolve: {e}\n");
    }
    let mut out = String::new();
    let chain: Vec<&str> = std::iter::once(target)
        .chain(h.cnames.iter().map(String::as_str))
        .collect();
    out.push_str(&chain.join(" → "));
    if let Some(s) = &h.hosting_service {
        out.push_str(&format!("  [hosting service: {s}]"));
    }
    out.push('\n');
    for a in &h.addresses {
        match a.asn {
            Some(asn) => out.push_str(&format!(
                "  {}  AS{asn} {}  org {}{}  range {}  cidr {}  /{} {}{}  ({})\n",
                a.ip,
                a.as_name.as_deref().unwrap_or(""),
                a.organisation,
                a.cdn
                    .as_ref()
                    .map(|c| format!(" [CDN {c}: origin unknown]"))
                    .unwrap_or_default(),
                range(a),
                opt(&a.cidr),
                a.cover.prefix(),
                a.cover,
                a.country.as_ref().map(|c| format!("  country {c}")).unwrap_or_default(),
                a.source
            )),
            None => out.push_str(&format!("  {}  {} ({})\n", a.ip, no_as(a), a.source)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_ports_give_their_host_and_the_rest_is_refused() {
        let host = |h: &str| Ok(Target::Host(h.into()));
        let ip = |a: &str| Ok(Target::Ip(a.parse().unwrap()));
        assert_eq!(parse_target("http://mastodon.social"), host("mastodon.social"));
        assert_eq!(parse_target("https://Host.Example:8443/path?q"), host("host.example"));
        assert_eq!(parse_target("mastodon.social:443"), host("mastodon.social"));
        assert_eq!(parse_target("localhost"), host("localhost"));
        assert_eq!(parse_target("bücher.example."), host("xn--bcher-kva.example"));
        assert_eq!(parse_target("[2001:db8::1]:443"), ip("2001:db8::1"));
        assert_eq!(parse_target("[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(parse_target("https://[2001:db8::1]:8443/"), ip("2001:db8::1"));
        assert_eq!(parse_target("192.0.2.1:80"), ip("192.0.2.1"));
        assert_eq!(parse_target("2001:db8::1"), ip("2001:db8::1"));
        assert_eq!(parse_target(""), Err("is empty"));
        assert_eq!(parse_target("a b"), Err("contains a space"));
        assert_eq!(parse_target("a\u{7}b"), Err("contains a control character"));
        assert_eq!(parse_target("-x"), Err("is not a valid host name"));
        assert_eq!(parse_target(&"a".repeat(300)), Err("is not a valid host name"));
        assert_eq!(
            parse_target("host:99999"),
            Err("has a port that is not a number from 0 to 65535")
        );
        assert_eq!(
            parse_target("mailto:x@y"),
            Err("has a port that is not a number from 0 to 65535")
        );
        assert_eq!(parse_target("file:///etc/passwd"), Err("is a URL without a host"));
    }
}
