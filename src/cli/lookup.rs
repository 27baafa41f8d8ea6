//! `whohosts lookup HOST|IP|URL...`: the attribution chain of hosts or addresses.
//!
//! A target is a host name, an IP address, a URL or `host:port` / `[v6]:port` (the host is
//! taken); anything else is refused with one line on stderr before any DNS query. With `-` it
//! reads one target a line from stdin and streams the answers (TSV by default: one line per
//! address, each starting with the target as given; or one JSON object per target), through
//! one buffered writer flushed at the end.

use std::borrow::Cow;
use std::io::{BufRead, BufWriter, Write};
use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;

use super::{logging, stdout_result, AttributionArgs};
use crate::attribution::asn::{cover, AsnDb};
use crate::attribution::{database_source, Attributor};
use crate::config::Config;
use crate::error::Result;
use crate::model::attribution::{AddressAttribution, HostAttribution, NO_AS};
use crate::model::format::Format;
use crate::model::text::terminal;
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
    if let Some(why) = not_an_address(input) {
        return Err(why);
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

/// Why `input`, written as an IPv6 address (bare, or in brackets with or without a port),
/// is not one that can be looked up: a zone id (`fe80::1%eth0`, which names a network
/// interface of this machine, not a host), or more than one colon that is no IPv6 address
/// (`1::2::3`). `None` for anything else (a host name, a URL, `host:port`).
fn not_an_address(input: &str) -> Option<&'static str> {
    if input.contains("://") {
        return None;
    }
    let inner = match input.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(inner, _)| inner),
        None if input.matches(':').count() >= 2 => input,
        None => return None,
    };
    if let Some((addr, _zone)) = inner.split_once('%') {
        return Some(match addr.parse::<std::net::Ipv6Addr>() {
            Ok(_) => "has a zone id (%…): zone ids are not looked up (give the address without it)",
            Err(_) => "is not an IP address",
        });
    }
    inner
        .parse::<std::net::Ipv6Addr>()
        .is_err()
        .then_some("is not an IP address")
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
        // Plain addresses in TSV are written straight from the table (`Stream`); everything
        // else (host names, URLs, refused lines, JSON, no database) goes through `answer`.
        let mut fast = a
            .database()
            .filter(|_| format == Format::Tsv)
            .map(|db| Stream::new(a, db));
        let mut input = std::io::stdin().lock();
        let mut bytes = vec![];
        for n in 1.. {
            let read = read_line(&mut input, &mut bytes).map_err(|e| crate::error::Error::io("<stdin>", e))?;
            if read == 0 {
                break;
            }
            // A line too long to be a target is refused on its own, only its start kept.
            if read > bytes.len() {
                let lossy = String::from_utf8_lossy(&bytes);
                let why = format!("is {read} bytes long, too long to be a host name, an IP address or a URL");
                refused(lossy.trim_start(), &why, format, Some(n), out)?;
                failed = true;
                continue;
            }
            // A line that is not UTF-8 is refused on its own; the stream goes on.
            let line = match std::str::from_utf8(&bytes) {
                Ok(line) => line,
                Err(_) => {
                    let lossy = String::from_utf8_lossy(&bytes);
                    refused(lossy.trim(), "is not UTF-8 text", format, Some(n), out)?;
                    failed = true;
                    continue;
                }
            };
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(fast) = &mut fast {
                if let Ok(ip) = t.parse::<IpAddr>() {
                    stdout_result(fast.write(t, ip, out))?;
                    continue;
                }
            }
            failed |= !answer(a, t, format, Some(n), out).await?;
        }
    }
    Ok(i32::from(failed))
}

/// Bytes of a stdin line kept at most: a longer line is refused, and only its start is read
/// into memory (the rest is skipped as it is read).
const MAX_LINE: usize = MAX_TARGET + 2;

/// Characters of a refused target echoed in its TSV or JSON row at most.
const MAX_ECHO: usize = 256;

/// Read one line (up to and including its `\n`) into `bytes`, keeping at most [`MAX_LINE`]
/// bytes of it; how many bytes the line had (0 at the end of input).
fn read_line(input: &mut impl BufRead, bytes: &mut Vec<u8>) -> std::io::Result<usize> {
    bytes.clear();
    let mut total = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = MAX_LINE.saturating_sub(bytes.len());
        bytes.extend_from_slice(&buf[..take.min(room)]);
        total += take;
        input.consume(take);
        if done {
            return Ok(total);
        }
    }
}

/// A refused target as its row echoes it: at most [`MAX_ECHO`] characters, then `…` and the
/// length of the whole.
fn echoed(target: &str) -> Cow<'_, str> {
    match target.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes in all)", &target[..cut], target.len())),
        None => Cow::Borrowed(target),
    }
}

/// A target refused before any look-up (`why`): one line on stderr (naming its stdin line in a
/// stream), and a row saying so in TSV or JSON, echoing at most the target's start
/// ([`echoed`]).
fn refused(target: &str, why: &str, format: Format, line: Option<usize>, out: &mut impl Write) -> Result<()> {
    let at = line.map(|n| format!(" (stdin line {n})")).unwrap_or_default();
    let line = format!(
        "lookup {:?}{at} {why}; give a host name, an IP address or a URL",
        shown(target)
    );
    let target = echoed(target);
    let text = match format {
        Format::Json => serde_json::json!({ "target": target, "error": line }).to_string() + "\n",
        Format::Tsv => format!("{}\t\t\t\t\t\t\t\t\t\t\t\t\t{line}\n", clean(target.into_owned())),
        Format::Text => String::new(),
        Format::Csv | Format::Html => return Err(format.not_offered("a lookup", FORMATS)),
    };
    logging::error_line(&line);
    stdout_result(out.write_all(format.safe(text, false).as_bytes()))
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
            refused(target, why, format, line, out)?;
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
        Format::Tsv => String::new(),
        Format::Text => text(target, &host),
        Format::Csv | Format::Html => return Err(format.not_offered("a lookup", FORMATS)),
    };
    let failure = failure(&host, stream);
    if let Some(why) = &failure {
        logging::error_line(&format!("lookup {}: {why}", shown(target)));
    }
    if format == Format::Tsv {
        stdout_result(tsv(target, &host, out))?;
    } else {
        stdout_result(out.write_all(format.safe(text, false).as_bytes()))?;
    }
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
        None => NO_AS_FOUND.into(),
    }
}

/// The error column of an address in no range of the database.
const NO_AS_FOUND: &str = "no AS found";

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn range(a: &AddressAttribution) -> String {
    match (a.range_start, a.range_end) {
        (Some(s), Some(e)) => format!("{s}-{e}"),
        _ => String::new(),
    }
}

/// A TSV text field as written: made safe for a terminal ([`Format::safe`]).
fn safe(s: &str) -> Cow<'_, str> {
    terminal(s)
}

/// A TSV text field from outside whose tabs and line breaks become spaces, made safe.
fn cleaned(s: &str) -> String {
    terminal(&clean(s.to_string())).into_owned()
}

/// One TSV row of `lookup`, every text already as written ([`safe`], [`cleaned`]).
/// [`Row::write`] is the one layout of a row: the record path ([`tsv`]) and the stream of
/// plain addresses ([`Stream`]) both fill a `Row`.
struct Row<'a> {
    target: &'a str,
    ip: IpAddr,
    asn: Option<u32>,
    as_name: &'a str,
    organisation: &'a str,
    cdn: &'a str,
    range: Option<(IpAddr, IpAddr)>,
    cidr: Option<IpNetwork>,
    cover: IpNetwork,
    country: &'a str,
    cnames: &'a str,
    hosting: &'a str,
    source: &'a str,
    error: &'a str,
}

impl Row<'_> {
    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(self.target.as_bytes())?;
        out.write_all(b"\t")?;
        write_ip(out, self.ip)?;
        out.write_all(b"\t")?;
        if let Some(asn) = self.asn {
            write!(out, "{asn}")?;
        }
        for s in ["\t", self.as_name, "\t", self.organisation, "\t", self.cdn, "\t"] {
            out.write_all(s.as_bytes())?;
        }
        if let Some((s, e)) = self.range {
            write_ip(out, s)?;
            out.write_all(b"-")?;
            write_ip(out, e)?;
        }
        out.write_all(b"\t")?;
        if let Some(c) = self.cidr {
            write_net(out, c)?;
        }
        out.write_all(b"\t")?;
        write_net(out, self.cover)?;
        for s in [
            "\t",
            self.country,
            "\t",
            self.cnames,
            "\t",
            self.hosting,
            "\t",
            self.source,
            "\t",
            self.error,
            "\n",
        ] {
            out.write_all(s.as_bytes())?;
        }
        Ok(())
    }
}

/// `ip` as its `Display` writes it; an IPv4 address without the formatting machinery (most
/// of a row's cost otherwise).
fn write_ip(out: &mut impl Write, ip: IpAddr) -> std::io::Result<()> {
    let IpAddr::V4(v4) = ip else {
        return write!(out, "{ip}");
    };
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, o) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    out.write_all(&buf[..n])
}

/// `net` as its `Display` writes it (`address/prefix`).
fn write_net(out: &mut impl Write, net: IpNetwork) -> std::io::Result<()> {
    write_ip(out, net.ip())?;
    let p = net.prefix();
    let digits = [b'/', b'0' + p / 100, b'0' + p / 10 % 10, b'0' + p % 10];
    let skip = if p >= 100 {
        0
    } else if p >= 10 {
        1
    } else {
        2
    };
    out.write_all(&digits[..1])?;
    out.write_all(&digits[1 + skip..])
}

/// The TSV rows of a looked-up host: one per address, or one with its DNS error.
fn tsv(target: &str, h: &HostAttribution, out: &mut impl Write) -> std::io::Result<()> {
    let (target, cnames) = (safe(target), safe(&h.cnames.join(",")).into_owned());
    if let Some(e) = &h.dns_error {
        let line = format!("{target}\t\t\t\t\t\t\t\t\t\t{cnames}\t\t\t{}\n", cleaned(e));
        return out.write_all(line.as_bytes());
    }
    let hosting = safe(h.hosting_service.as_deref().unwrap_or("")).into_owned();
    for a in &h.addresses {
        let error = if a.asn.is_none() { no_as(a) } else { String::new() };
        Row {
            target: &target,
            ip: a.ip,
            asn: a.asn,
            as_name: &cleaned(a.as_name.as_deref().unwrap_or("")),
            organisation: &cleaned(&a.organisation),
            cdn: &safe(a.cdn.as_deref().unwrap_or("")),
            range: a.range_start.zip(a.range_end),
            cidr: a.cidr,
            cover: a.cover,
            country: &safe(a.country.as_deref().unwrap_or("")),
            cnames: &cnames,
            hosting: &hosting,
            source: &cleaned(&a.source),
            error: &safe(&error),
        }
        .write(out)?;
    }
    Ok(())
}

/// `lookup -` for plain addresses the database answers: each row is written through [`Row`]
/// straight from the table, with the texts of an AS (its name, organisation, CDN, country)
/// prepared the first time the AS is met, as [`Attributor::address`] derives them, so an
/// address costs no allocation.
struct Stream<'a> {
    attributor: &'a Attributor,
    db: &'a AsnDb,
    source: String,
    no_as: String,
    /// Per AS index: 1 + the index of its texts in `texts`; 0 while not met.
    slot: Vec<u32>,
    texts: Vec<AsTexts>,
}

/// The row texts of one AS.
struct AsTexts {
    as_name: String,
    organisation: String,
    cdn: String,
    country: String,
}

impl<'a> Stream<'a> {
    fn new(attributor: &'a Attributor, db: &'a AsnDb) -> Self {
        Stream {
            attributor,
            db,
            source: cleaned(&database_source(db)),
            no_as: cleaned(NO_AS),
            slot: vec![0; db.names.len()],
            texts: vec![],
        }
    }

    /// Write the row of `ip`, given as `target` (its text on stdin, trimmed).
    fn write(&mut self, target: &str, ip: IpAddr, out: &mut impl Write) -> std::io::Result<()> {
        let mut row = Row {
            target,
            ip,
            asn: None,
            as_name: "",
            organisation: &self.no_as,
            cdn: "",
            range: None,
            cidr: None,
            cover: cover(ip),
            country: "",
            cnames: "",
            hosting: "",
            source: &self.source,
            error: NO_AS_FOUND,
        };
        let Some(found) = self.db.find(ip) else {
            return row.write(out);
        };
        let slot = &mut self.slot[found.as_index as usize];
        if *slot == 0 {
            let info = found.as_info;
            let (organisation, cdn) = self.attributor.organisation(info.asn, &info.name, None);
            self.texts.push(AsTexts {
                as_name: cleaned(&info.name),
                organisation: cleaned(&organisation),
                cdn: safe(cdn.as_deref().unwrap_or("")).into_owned(),
                country: safe(info.country.as_deref().unwrap_or("")).into_owned(),
            });
            *slot = self.texts.len() as u32;
        }
        let t = &self.texts[*slot as usize - 1];
        row.asn = Some(found.as_info.asn);
        row.as_name = &t.as_name;
        row.organisation = &t.organisation;
        row.cdn = &t.cdn;
        row.range = Some((found.range_start, found.range_end));
        row.cidr = Some(found.cidr);
        row.country = &t.country;
        row.error = "";
        row.write(out)
    }
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

    /// An IPv6 address with a zone id, or a spelling with colons that is no address, is
    /// refused for what it is, not as "a port that is not a number".
    #[test]
    fn zone_ids_and_broken_addresses_say_what_is_wrong() {
        let zone = Err("has a zone id (%…): zone ids are not looked up (give the address without it)");
        assert_eq!(parse_target("fe80::1%eth0"), zone);
        assert_eq!(parse_target("[fe80::1%25eth0]:443"), zone);
        assert_eq!(parse_target("[fe80::1%eth0]"), zone);
        for bad in [
            "1::2::3",
            "[1::2::3]",
            "[1::2::3]:80",
            "1:2:3",
            "fe80::x%eth0",
            "[host.example]:80",
        ] {
            assert_eq!(parse_target(bad), Err("is not an IP address"), "{bad}");
        }
        let ip = |a: &str| Ok(Target::Ip(a.parse().unwrap()));
        assert_eq!(parse_target("[fe80::1]:80"), ip("fe80::1"));
        assert_eq!(parse_target("::ffff:1.2.3.4"), ip("::ffff:1.2.3.4"));
        assert_eq!(parse_target("[2001:db8::1"), Err("has an unclosed '['"));
    }

    /// A refused target's row echoes its first 256 characters and says how long it was; a
    /// stdin line is read only as far as a target can go, the rest skipped.
    #[test]
    fn a_huge_line_is_read_and_echoed_only_in_part() {
        let huge = "é".repeat(300);
        assert_eq!(echoed(&huge), format!("{}… (600 bytes in all)", "é".repeat(256)));
        assert_eq!(echoed("short"), "short");
        let mut out = vec![];
        refused(&huge, "is too long", Format::Tsv, Some(1), &mut out).unwrap();
        let row = String::from_utf8(out).unwrap();
        assert!(
            row.starts_with(&format!("{}… (600 bytes in all)\t", "é".repeat(256))),
            "{row}"
        );
        assert!(row.len() < 1000, "{} bytes", row.len());
        let input = format!("{}\n1.1.1.1\n", "x".repeat(50 * 1024 * 1024));
        let mut reader = std::io::BufReader::new(input.as_bytes());
        let mut bytes = vec![];
        assert_eq!(read_line(&mut reader, &mut bytes).unwrap(), 50 * 1024 * 1024 + 1);
        assert_eq!(bytes.len(), MAX_LINE);
        assert_eq!(read_line(&mut reader, &mut bytes).unwrap(), 8);
        assert_eq!(bytes, b"1.1.1.1\n");
        assert_eq!(read_line(&mut reader, &mut bytes).unwrap(), 0);
    }

    /// The stream of plain addresses writes, byte for byte, the row the record path writes:
    /// IPv4 and IPv6, found and not, the first and last address of ranges and their
    /// neighbours, IPv4-mapped and non-canonical spellings, a CDN edge, and an organisation
    /// whose name needs cleaning and escaping.
    #[tokio::test]
    async fn the_stream_writes_the_rows_of_the_record_path() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/asn");
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_string_lossy().into_owned(),
            ..Config::default()
        };
        config.attribution.asn_database = crate::config::Paths::Many(vec![
            fixtures.join("asn-ipv4-cut.csv.gz").to_string_lossy().into_owned(),
            fixtures.join("asn-ipv6-cut.csv.gz").to_string_lossy().into_owned(),
        ]);
        config
            .attribution
            .organisations
            .insert("AS24940".into(), "Hetz\tner \u{1b}[2J\u{202e}GmbH".into());
        let ctx = Context::new(config).unwrap();
        let a = ctx.attributor(true).unwrap();
        let db = a.database().unwrap();

        let mut targets: Vec<String> = [
            "1.1.1.1",
            "116.202.0.0",
            "116.203.255.255",
            "116.204.0.0",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::ffff:1.1.1.1",
            "::FFFF:116.202.3.4",
            "2001:DB8:0:0::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "64:ff9b::116.202.3.4",
            "2002:74ca:304::1",
        ]
        .map(String::from)
        .to_vec();
        // Every entry of the table: its first and last address, their neighbours, its middle.
        let around = |s: u128, e: u128| [s.wrapping_sub(1), s, s + (e - s) / 2, e, e.wrapping_add(1)];
        for j in 0..db.v4.len() {
            let (s, e) = db.v4.bounds(j);
            for x in around(s.into(), e.into()) {
                targets.push(std::net::Ipv4Addr::from(x as u32).to_string());
            }
        }
        for j in 0..db.v6.len() {
            let (s, e) = db.v6.bounds(j);
            for x in around(s, e) {
                targets.push(std::net::Ipv6Addr::from(x).to_string());
            }
        }
        let mut rng = fastrand::Rng::with_seed(17);
        for _ in 0..1000 {
            targets.push(IpAddr::V4(rng.u32(..).into()).to_string());
            targets.push(IpAddr::V6((rng.u128(..) >> 3 | 1 << 125).into()).to_string());
        }
        let mut stream = Stream::new(&a, db);
        let (mut found, mut cdn, mut escaped) = (0, 0, 0);
        for t in &targets {
            let mut record = vec![];
            assert!(answer(&a, t, Format::Tsv, Some(1), &mut record).await.unwrap());
            let mut fast = vec![];
            stream.write(t, t.parse().unwrap(), &mut fast).unwrap();
            let (record, fast) = (String::from_utf8(record).unwrap(), String::from_utf8(fast).unwrap());
            assert_eq!(fast, record, "{t}");
            found += usize::from(!record.ends_with("\tno AS found\n"));
            cdn += usize::from(record.contains("\tCloudflare\t"));
            escaped += usize::from(record.contains("Hetz ner \\u{1b}[2J\\u{202e}GmbH"));
        }
        assert!(
            targets.len() > 10_000 && found > 5000,
            "{} targets, {found} found",
            targets.len()
        );
        assert!(cdn > 0 && escaped > 0, "{cdn} CDN rows, {escaped} escaped");
        let row = |t: &str| {
            let mut out = vec![];
            Stream::new(&a, db).write(t, t.parse().unwrap(), &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            row("::FFFF:116.202.3.4"),
            "::FFFF:116.202.3.4\t::ffff:116.202.3.4\t24940\tHetzner Online GmbH\tHetz ner \\u{1b}[2J\\u{202e}GmbH\t\t\
             116.202.0.0-116.203.255.255\t116.202.0.0/15\t::/48\t\t\t\t\
             asn-ipv4-cut.csv.gz + asn-ipv6-cut.csv.gz (ip-location-db-csv)\t\n"
        );
        // NAT64 and 6to4 addresses are attributed by the IPv4 address they embed.
        for t in ["64:ff9b::116.202.3.4", "2002:74ca:304::1"] {
            assert!(
                row(t).contains("\t24940\tHetzner Online GmbH\t") && row(t).contains("\t116.202.0.0-116.203.255.255\t"),
                "{t}: {}",
                row(t)
            );
        }
    }

    /// The row's own address writer writes what `Display` does.
    #[test]
    fn addresses_and_networks_are_written_as_display_writes_them() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut ips: Vec<IpAddr> = [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
            "1.20.3.199",
            "::",
            "::ffff:1.2.3.4",
            "2001:db8::1",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        for _ in 0..20_000 {
            ips.push(IpAddr::V4(rng.u32(..).into()));
            ips.push(IpAddr::V6(rng.u128(..).into()));
        }
        for ip in ips {
            let mut out = vec![];
            write_ip(&mut out, ip).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
            let max = if ip.is_ipv4() { 32 } else { 128 };
            for prefix in [0, 7, 9, 10, 24, 48, 99, 100, 127, 128]
                .into_iter()
                .filter(|p| *p <= max)
            {
                let net = IpNetwork::new(ip, prefix).unwrap();
                let mut out = vec![];
                write_net(&mut out, net).unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), net.to_string());
            }
        }
    }
}
