//! `whohosts lookup HOST|IP|URL...`: the attribution chain of hosts or addresses.
//!
//! A target is a host name, an IP address, a URL or `host:port` / `[v6]:port` (the host is
//! taken); anything else is refused with one line on stderr before any DNS query. With `-` it
//! reads one target a line from stdin and streams the answers (TSV by default: one line per
//! address, each starting with the target as given; or one JSON object per target), through
//! one buffered writer flushed at the end.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use super::{logging, stdout_result, AttributionArgs};
use crate::attribution::asn::{cover, AsnDb, Found};
use crate::attribution::{database_source, Attributor};
use crate::config::Config;
use crate::error::Result;
use crate::model::attribution::{AddressAttribution, HostAttribution, NO_AS};
use crate::model::format::Format;
use crate::model::text::terminal;
use crate::net::dns::DNS_NOT_ANSWERING;
use crate::report::text::{cut, wrap, WIDTH};

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
    // `192.0.2.1.`: an IPv4 address with the trailing dot of a fully qualified name is that
    // address, as the URL standard reads `http://192.0.2.1./` (strictly four decimal parts).
    if let Some(v4) = host.strip_suffix('.').and_then(|h| h.parse::<Ipv4Addr>().ok()) {
        return Ok(Target::Ip(v4.into()));
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

/// The input as shown in a message: at most 60 characters, as a handle is echoed.
fn shown(input: &str) -> String {
    crate::model::handle::echo(input)
}

/// Run `lookup`; exit code 1 when any target could not be resolved or attributed.
///
/// # Errors
/// Config or database errors.
pub async fn run(mut config: Config, args: Args, quiet: bool) -> Result<i32> {
    args.attribution.apply(&mut config)?;
    // Resolver and database only: lookup fetches nothing over HTTP.
    let attributor = Arc::new(crate::pipeline::attributor(&config, quiet)?);
    let stdin = args.targets.iter().any(|t| t == "-");
    let format = args.format.unwrap_or(if stdin { Format::Tsv } else { Format::Text });
    let mut out = BufWriter::with_capacity(OUT_BUFFER, std::io::stdout());
    // Stdin in big blocks: a stream of addresses is read in a few dozen calls.
    let input = stdin.then(|| BufReader::with_capacity(1 << 20, std::io::stdin().lock()));
    let result = answer_all(&attributor, &args.targets, input, format, &mut out).await;
    stdout_result(out.flush())?;
    result
}

/// Answer the targets given as arguments, then (`stdin`: the input of `-`) one a line.
async fn answer_all(
    a: &Attributor,
    targets: &[String],
    stdin: Option<impl BufRead>,
    format: Format,
    out: &mut impl Write,
) -> Result<i32> {
    if format == Format::Tsv {
        stdout_result(writeln!(out, "{TSV_HEADER}"))?;
    }
    let mut failed = false;
    let mut unanswered = Unanswered::default();
    for t in targets.iter().filter(|t| *t != "-") {
        failed |= !answer(a, t.trim(), format, None, &mut unanswered, out).await?;
    }
    if let Some(mut input) = stdin {
        // Plain addresses in TSV are written straight from the table (`Stream`); everything
        // else (host names, URLs, refused lines, JSON, no database) goes through `answer`.
        let mut fast = a
            .database()
            .filter(|_| format == Format::Tsv)
            .map(|db| Stream::new(a, db));
        let mut bytes = vec![];
        for n in 1.. {
            let read = match read_line(&mut input, &mut bytes) {
                Ok(read) => read,
                Err(e) => {
                    // The rows of the lines before are written first.
                    if let Some(fast) = &mut fast {
                        stdout_result(fast.flush(out))?;
                    }
                    return Err(crate::error::Error::io("<stdin>", e));
                }
            };
            if let (Some(fast), Some(length)) = (&mut fast, read) {
                // A plain address (the line trimmed): queued for its row.
                if let Some(ip) = plain_ip(&bytes).filter(|_| length <= MAX_TARGET) {
                    fast.queue(&bytes, ip);
                    if fast.queued.len() >= BATCH {
                        stdout_result(fast.render_queued(out))?;
                    }
                    continue;
                }
            }
            // Any other line, and the end, writes the queued rows first: rows keep the order
            // of the input.
            if let Some(fast) = &mut fast {
                stdout_result(fast.flush(out))?;
            }
            let Some(length) = read else {
                break;
            };
            // A line too long to be a target (blanks around it left out) is refused on its
            // own, only its start kept (a comment is a comment, however long).
            if length > MAX_TARGET {
                let lossy = String::from_utf8_lossy(&bytes);
                let start = lossy.trim_start();
                if start.starts_with('#') {
                    continue;
                }
                let why = format!("is {length} bytes long, too long to be a host name, an IP address or a URL");
                refused(start, Echo::Start, &why, format, Some(n), out)?;
                failed = true;
                continue;
            }
            // A line that is not UTF-8 is refused on its own; the stream goes on.
            let line = match std::str::from_utf8(&bytes) {
                Ok(line) => line,
                Err(_) => {
                    let lossy = String::from_utf8_lossy(&bytes);
                    refused(lossy.trim(), Echo::Whole, "is not UTF-8 text", format, Some(n), out)?;
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
            failed |= !answer(a, t, format, Some(n), &mut unanswered, out).await?;
        }
    }
    if let Some(line) = unanswered.line(a) {
        logging::error_line(&line);
    }
    Ok(i32::from(failed))
}

/// The host names a run looked up, and those DNS left unanswered (timed out, or failed at
/// once as the nameserver was taken for not answering): once it is, these get no line each
/// but one at the end, as a crawl's seeds do.
#[derive(Debug, Default)]
struct Unanswered(crate::net::dns::Unresolved);

impl Unanswered {
    /// Count looked-up host `h`; whether DNS left it unanswered. Each is counted as what its
    /// row says: a name that timed out before the nameserver was taken for not answering
    /// had its row and its line say `timeout`, and the closing line counts it so.
    fn count(&mut self, h: &HostAttribution) -> bool {
        self.0.of += 1;
        let silent = h
            .dns_error
            .as_deref()
            .filter(|e| matches!(*e, "timeout" | DNS_NOT_ANSWERING));
        if let Some(answer) = silent {
            self.0.add(answer);
        }
        silent.is_some()
    }

    /// The one line a run ends with when its nameserver was taken for not answering.
    fn line(&self, a: &Attributor) -> Option<String> {
        let dead = a.not_answering()?;
        logging::dns_warning(&self.0, Some(&dead), ("host name", "host names"), "stdout lists them")
    }
}

/// Plain addresses looked up together before their rows are rendered
/// ([`Stream::render_queued`]).
const BATCH: usize = 64;

/// Bytes of stdout's buffer.
const OUT_BUFFER: usize = 1 << 16;

/// Bytes of rows a [`Stream`] renders before it writes them: more than [`OUT_BUFFER`], so
/// they go to stdout in one call without being copied into its buffer first.
const WRITE_AT: usize = 4 * OUT_BUFFER;

/// Bytes of a stdin line kept at most: a longer line is refused, and only its start is read
/// into memory (the rest is skipped as it is read).
const MAX_LINE: usize = MAX_TARGET + 2;

/// Bytes of one stdin line read at most (most of them skipped, see [`MAX_LINE`]): a longer
/// line ends the stream with one error, so endless input without a line break (`/dev/zero`)
/// cannot keep `lookup -` reading for ever.
const MAX_STREAM_LINE: usize = 1 << 30;

/// Characters of a refused target echoed in its TSV or JSON row at most.
const MAX_ECHO: usize = 256;

/// Read one line into `bytes`: its text without its line break and without the ASCII blanks
/// around it (spaces, tabs, `\r` …), keeping at most [`MAX_LINE`] bytes of that; how many
/// bytes the trimmed line has (`None` at the end of input). Blanks before and after the text
/// are skipped as they are read, however many, never held nor counted: an address followed
/// by 3,000 spaces is that address, and a line of blanks is empty.
fn read_line(input: &mut impl BufRead, bytes: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    fn blank(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
    }
    bytes.clear();
    let mut read_any = false;
    // Whether the text has begun (a byte that is not blank was read).
    let mut begun = false;
    // Bytes since the text began, and of them those up to its last byte that is not blank.
    let (mut total, mut end) = (0usize, 0usize);
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            bytes.truncate(end);
            return Ok(read_any.then_some(end));
        }
        read_any = true;
        let (part, used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let part = match begun {
            true => part,
            false => match part.iter().position(|b| !blank(*b)) {
                Some(i) => {
                    begun = true;
                    &part[i..]
                }
                None => &part[..0],
            },
        };
        if let Some(last) = part.iter().rposition(|b| !blank(*b)) {
            end = total + last + 1;
        }
        let room = MAX_LINE.saturating_sub(bytes.len());
        bytes.extend_from_slice(&part[..part.len().min(room)]);
        total += part.len();
        input.consume(used);
        if total > MAX_STREAM_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a line longer than {} GiB: not a list of targets, one a line (binary input, or /dev/zero?)",
                    MAX_STREAM_LINE >> 30
                ),
            ));
        }
        if done {
            bytes.truncate(end);
            return Ok(Some(end));
        }
    }
}

/// What a refused target is: the whole of it, or the start of a line too long to be read
/// whole (whose length the reason states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Echo {
    Whole,
    Start,
}

/// A refused target as its row echoes it: at most [`MAX_ECHO`] characters, then `…` and,
/// for a whole target, its length.
fn echoed(target: &str, echo: Echo) -> Cow<'_, str> {
    match (target.char_indices().nth(MAX_ECHO), echo) {
        (Some((cut, _)), Echo::Whole) => Cow::Owned(format!("{}… ({} bytes in all)", &target[..cut], target.len())),
        (Some((cut, _)), Echo::Start) => Cow::Owned(format!("{}…", &target[..cut])),
        (None, Echo::Start) => Cow::Owned(format!("{target}…")),
        (None, Echo::Whole) => Cow::Borrowed(target),
    }
}

/// A target refused before any look-up (`why`): one line on stderr (naming its stdin line in a
/// stream), and a row saying so in TSV or JSON, echoing at most the target's start
/// ([`echoed`]).
fn refused(
    target: &str,
    echo: Echo,
    why: &str,
    format: Format,
    line: Option<usize>,
    out: &mut impl Write,
) -> Result<()> {
    let at = line.map(|n| format!(" (stdin line {n})")).unwrap_or_default();
    let line = format!(
        "lookup {:?}{at} {why}; give a host name, an IP address or a URL",
        shown(target)
    );
    let target = echoed(target, echo);
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
/// stderr (even under `--quiet`), so cron mails it while stdout keeps its rows, unless DNS
/// left a host name unanswered once the nameserver was taken for not answering: that is
/// counted in `unanswered`, said once at the end. In a
/// stream (`line`: the target's line number on stdin), an address in no range is a result,
/// not a failure: its row says so.
async fn answer(
    a: &Attributor,
    target: &str,
    format: Format,
    line: Option<usize>,
    unanswered: &mut Unanswered,
    out: &mut impl Write,
) -> Result<bool> {
    let stream = line.is_some();
    let mut silent = false;
    let parsed = parse_target(target);
    let address_given = matches!(parsed, Ok(Target::Ip(_)));
    let host = match parsed {
        Err(why) => {
            refused(target, Echo::Whole, why, format, line, out)?;
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
        Ok(Target::Host(name)) => {
            let host = a.host(&name, None).await;
            silent = unanswered.count(&host);
            host
        }
    };
    let text = match format {
        Format::Json => json(a, target, &host) + "\n",
        Format::Tsv => String::new(),
        Format::Text => text(target, &host),
        Format::Csv | Format::Html => return Err(format.not_offered("a lookup", FORMATS)),
    };
    let failure = failure(&host, stream, address_given);
    // Once the nameserver is taken for not answering, its silence is said once, at the end.
    let said_at_end = silent && a.not_answering().is_some();
    if let Some(why) = failure.as_ref().filter(|_| !said_at_end) {
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
/// The address is named unless it is the target itself (`address_given`), which the message
/// already names.
fn failure(h: &HostAttribution, stream: bool, address_given: bool) -> Option<String> {
    if let Some(e) = &h.dns_error {
        return Some(format!("cannot resolve: {e}"));
    }
    let a = h
        .addresses
        .iter()
        .find(|x| x.asn.is_none() && !(stream && x.lookup_error.is_none()))?;
    Some(if address_given {
        no_as(a)
    } else {
        format!("{}: {}", a.ip, no_as(a))
    })
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

/// The columns of a TSV row of `lookup` that follow from its AS alone (and the run), every
/// text already as written ([`safe`], [`cleaned`]): a [`Stream`] renders them once per AS.
struct AsColumns<'a> {
    asn: Option<u32>,
    as_name: &'a str,
    organisation: &'a str,
    cdn: &'a str,
    country: &'a str,
    cnames: &'a str,
    hosting: &'a str,
    source: &'a str,
    error: &'a str,
}

impl AsColumns<'_> {
    /// The columns between the address and the range (`asn … cdn`, each with the tab after
    /// it), then those after the cover (`country … error`, then the line break), added to
    /// `buf`; where they lie in it.
    fn render(&self, buf: &mut Vec<u8>) -> Span {
        let start = buf.len();
        if let Some(asn) = self.asn {
            put_u32(buf, asn);
        }
        for s in ["\t", self.as_name, "\t", self.organisation, "\t", self.cdn, "\t"] {
            buf.extend_from_slice(s.as_bytes());
        }
        let middle = buf.len();
        for s in [
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
            buf.extend_from_slice(s.as_bytes());
        }
        Span {
            start,
            middle,
            end: buf.len(),
        }
    }
}

/// Where [`AsColumns::render`] put the AS columns of a row: the middle ones at
/// `start..middle`, the trailing ones at `middle..end`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    middle: usize,
    end: usize,
}

/// The AS columns of a row, rendered ([`AsColumns::render`]).
#[derive(Debug, Clone, Copy)]
struct Rendered<'a> {
    middle: &'a [u8],
    trail: &'a [u8],
}

impl<'a> Rendered<'a> {
    /// The columns at `span` in `text`.
    fn at(text: &'a [u8], span: Span) -> Self {
        Rendered {
            middle: &text[span.start..span.middle],
            trail: &text[span.middle..span.end],
        }
    }
}

/// One TSV row of `lookup`. [`Row::render`] and [`AsColumns::render`] are the one layout of a
/// row: the record path ([`tsv`]) and the stream of plain addresses ([`Stream`]) both fill a
/// `Row`.
struct Row<'a> {
    target: &'a [u8],
    ip: IpAddr,
    range: Option<(IpAddr, IpAddr)>,
    cidr: Option<IpNetwork>,
    cover: IpNetwork,
    columns: Rendered<'a>,
}

impl Row<'_> {
    /// The row, added to `buf`.
    fn render(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.target);
        buf.push(b'\t');
        put_ip(buf, self.ip);
        buf.push(b'\t');
        buf.extend_from_slice(self.columns.middle);
        if let Some((s, e)) = self.range {
            put_ip(buf, s);
            buf.push(b'-');
            put_ip(buf, e);
        }
        buf.push(b'\t');
        if let Some(c) = self.cidr {
            put_net(buf, c);
        }
        buf.push(b'\t');
        put_net(buf, self.cover);
        buf.push(b'\t');
        buf.extend_from_slice(self.columns.trail);
    }
}

/// Longest address as written (IPv4-mapped IPv6 is 45 bytes).
const IP_TEXT: usize = 48;

/// `ip` as its `Display` writes it, without the formatting machinery (most of a row's cost
/// otherwise), added to `buf`: written in place, in room made for the longest.
fn put_ip(buf: &mut Vec<u8>, ip: IpAddr) {
    let at = buf.len();
    buf.resize(at + IP_TEXT, 0);
    let room: &mut [u8; IP_TEXT] = (&mut buf[at..]).try_into().expect("room for an address");
    let n = match ip {
        IpAddr::V4(v4) => put_v4(room, 0, v4),
        IpAddr::V6(v6) => put_v6(room, v6),
    };
    buf.truncate(at + n);
}

/// Write `v4` dotted into `buf` from `n`; where it ends.
fn put_v4(buf: &mut [u8; 48], mut n: usize, v4: Ipv4Addr) -> usize {
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
    n
}

/// Write `v6` into `buf` as `Display` does (RFC 5952: lower-case hex groups without leading
/// zeros, the first longest run of two or more zero groups as `::`, IPv4-mapped addresses
/// as `::ffff:a.b.c.d`); its length.
fn put_v6(buf: &mut [u8; 48], v6: Ipv6Addr) -> usize {
    if let Some(v4) = v6.to_ipv4_mapped() {
        buf[..7].copy_from_slice(b"::ffff:");
        return put_v4(buf, 7, v4);
    }
    let groups = v6.segments();
    let (mut zeros_at, mut zeros, mut run_at, mut run) = (0, 0, 0, 0);
    for (i, &g) in groups.iter().enumerate() {
        if g == 0 {
            if run == 0 {
                run_at = i;
            }
            run += 1;
            if run > zeros {
                (zeros_at, zeros) = (run_at, run);
            }
        } else {
            run = 0;
        }
    }
    /// Write `part` as colon-separated hex groups from `n`; where they end.
    fn hex(buf: &mut [u8; 48], mut n: usize, part: &[u16]) -> usize {
        for (i, &g) in part.iter().enumerate() {
            if i > 0 {
                buf[n] = b':';
                n += 1;
            }
            let digits = 1 + usize::from(g >= 0x10) + usize::from(g >= 0x100) + usize::from(g >= 0x1000);
            for k in (0..digits).rev() {
                buf[n] = b"0123456789abcdef"[usize::from(g >> (4 * k)) & 0xf];
                n += 1;
            }
        }
        n
    }
    if zeros > 1 {
        let n = hex(buf, 0, &groups[..zeros_at]);
        buf[n..n + 2].copy_from_slice(b"::");
        hex(buf, n + 2, &groups[zeros_at + zeros..])
    } else {
        hex(buf, 0, &groups)
    }
}

/// `v` in decimal, added to `buf`.
fn put_u32(buf: &mut Vec<u8>, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return buf.extend_from_slice(&digits[at..]);
        }
    }
}

/// `text` as an address when it is one in a plain spelling (dotted IPv4 without leading
/// zeros, IPv6 as hex groups with at most one `::`), read without the generality of the
/// standard parser; `None` for anything else, which the standard parser then judges. It
/// accepts nothing `str::parse::<IpAddr>` refuses, and reads the same address.
fn plain_ip(text: &[u8]) -> Option<IpAddr> {
    if text.contains(&b':') {
        plain_v6(text).map(IpAddr::V6)
    } else {
        plain_v4(text).map(IpAddr::V4)
    }
}

fn plain_v4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let (mut k, mut value, mut digits) = (0, 0u32, 0);
    for &c in text {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return None;
                }
                value = value * 10 + u32::from(c - b'0');
                digits += 1;
                if value > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && k < 3 => {
                octets[k] = value as u8;
                (k, value, digits) = (k + 1, 0, 0);
            }
            _ => return None,
        }
    }
    if digits == 0 || k != 3 {
        return None;
    }
    octets[3] = value as u8;
    Some(Ipv4Addr::from(octets))
}

fn plain_v6(text: &[u8]) -> Option<Ipv6Addr> {
    let mut groups = [0u16; 8];
    let (mut n, mut gap, mut i) = (0, None, 0);
    if text.starts_with(b"::") {
        (gap, i) = (Some(0), 2);
    }
    while i < text.len() {
        let (mut value, mut digits) = (0u32, 0);
        while let Some(d) = text.get(i).and_then(|c| char::from(*c).to_digit(16)) {
            value = value * 16 + d;
            digits += 1;
            i += 1;
            if digits > 4 {
                return None;
            }
        }
        if digits == 0 || n == 8 {
            return None;
        }
        groups[n] = value as u16;
        n += 1;
        match text.get(i) {
            None => break,
            Some(b':') => i += 1,
            // An embedded IPv4 address, or no address: the standard parser decides.
            Some(_) => return None,
        }
        if text.get(i) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            (gap, i) = (Some(n), i + 1);
        } else if i == text.len() {
            return None;
        }
    }
    let mut all = [0u16; 8];
    match gap {
        None if n == 8 => all = groups,
        Some(g) if n <= 7 => {
            all[..g].copy_from_slice(&groups[..g]);
            all[8 - (n - g)..].copy_from_slice(&groups[g..n]);
        }
        _ => return None,
    }
    Some(Ipv6Addr::from(all))
}

/// `net` as its `Display` writes it (`address/prefix`), added to `buf`.
fn put_net(buf: &mut Vec<u8>, net: IpNetwork) {
    put_ip(buf, net.ip());
    let p = net.prefix();
    buf.push(b'/');
    if p >= 100 {
        buf.push(b'0' + p / 100);
    }
    if p >= 10 {
        buf.push(b'0' + p / 10 % 10);
    }
    buf.push(b'0' + p % 10);
}

/// The TSV rows of a looked-up host: one per address, or one with its DNS error.
fn tsv(target: &str, h: &HostAttribution, out: &mut impl Write) -> std::io::Result<()> {
    let (target, cnames) = (safe(target), safe(&h.cnames.join(",")).into_owned());
    if let Some(e) = &h.dns_error {
        let line = format!("{target}\t\t\t\t\t\t\t\t\t\t{cnames}\t\t\t{}\n", cleaned(e));
        return out.write_all(line.as_bytes());
    }
    let hosting = safe(h.hosting_service.as_deref().unwrap_or("")).into_owned();
    let (mut buf, mut columns) = (vec![], vec![]);
    for a in &h.addresses {
        let error = if a.asn.is_none() { no_as(a) } else { String::new() };
        columns.clear();
        let span = AsColumns {
            asn: a.asn,
            as_name: &cleaned(a.as_name.as_deref().unwrap_or("")),
            organisation: &cleaned(&a.organisation),
            cdn: &safe(a.cdn.as_deref().unwrap_or("")),
            country: &safe(a.country.as_deref().unwrap_or("")),
            cnames: &cnames,
            hosting: &hosting,
            source: &cleaned(&a.source),
            error: &safe(&error),
        }
        .render(&mut columns);
        Row {
            target: target.as_bytes(),
            ip: a.ip,
            range: a.range_start.zip(a.range_end),
            cidr: a.cidr,
            cover: a.cover,
            columns: Rendered::at(&columns, span),
        }
        .render(&mut buf);
    }
    out.write_all(&buf)
}

/// `lookup -` for plain addresses the database answers: each row is rendered through [`Row`]
/// straight from the table, with the columns of an AS (its number, name, organisation, CDN,
/// country) rendered the first time the AS is met, as [`Attributor::address`] derives them,
/// so an address costs no allocation and its row a few copies.
struct Stream<'a> {
    attributor: &'a Attributor,
    db: &'a AsnDb,
    source: String,
    /// The AS columns rendered ([`AsColumns::render`]), one after the other: those of an
    /// address in no range, then those of each AS as it is first met.
    columns: Vec<u8>,
    /// Where those of an address in no range lie in `columns`.
    no_as: Span,
    /// Where those of each AS met lie in `columns`.
    spans: Vec<Span>,
    /// Per AS index: 1 + the index of its columns in `spans`; 0 while not met.
    slot: Vec<u32>,
    /// Addresses waiting for their rows: their targets one after the other in `queued_text`,
    /// each with where it ends there.
    queued_text: Vec<u8>,
    queued: Vec<(usize, IpAddr)>,
    /// What the table answers for each queued address (kept for its allocation).
    found: Vec<Option<Found>>,
    /// Rows rendered, not yet written (kept for its allocation).
    rows: Vec<u8>,
}

impl<'a> Stream<'a> {
    fn new(attributor: &'a Attributor, db: &'a AsnDb) -> Self {
        let source = cleaned(&database_source(db));
        let mut columns = vec![];
        let no_as = AsColumns {
            asn: None,
            as_name: "",
            organisation: &cleaned(NO_AS),
            cdn: "",
            country: "",
            cnames: "",
            hosting: "",
            source: &source,
            error: NO_AS_FOUND,
        }
        .render(&mut columns);
        Stream {
            attributor,
            db,
            source,
            columns,
            no_as,
            spans: vec![],
            slot: vec![0; db.names.len()],
            queued_text: vec![],
            queued: vec![],
            found: vec![],
            rows: vec![],
        }
    }

    /// Queue the row of `ip`, given as `target`, for [`Stream::flush`].
    fn queue(&mut self, target: &[u8], ip: IpAddr) {
        self.queued_text.extend_from_slice(target);
        self.queued.push((self.queued_text.len(), ip));
    }

    /// Render the queued rows, in order, and write the rows rendered once they fill
    /// [`WRITE_AT`] bytes. The addresses are looked up together first, so the cache misses of
    /// the table's searches overlap instead of following each other.
    fn render_queued(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let (text, queued, mut found) = (
            std::mem::take(&mut self.queued_text),
            std::mem::take(&mut self.queued),
            std::mem::take(&mut self.found),
        );
        let db = self.db;
        for &(_, ip) in &queued {
            db.warm(ip);
        }
        found.extend(queued.iter().map(|&(_, ip)| db.find(ip)));
        let mut start = 0;
        for (&(end, ip), f) in queued.iter().zip(&found) {
            self.render(&text[start..end], ip, *f);
            start = end;
        }
        (self.queued_text, self.queued, self.found) = (text, queued, found);
        self.queued_text.clear();
        self.queued.clear();
        self.found.clear();
        if self.rows.len() >= WRITE_AT {
            self.write_rows(out)?;
        }
        Ok(())
    }

    /// Write every queued row (before the row of another line, and at the end).
    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        self.render_queued(out)?;
        self.write_rows(out)
    }

    /// Write the row of `ip`, given as `target` (its text on stdin, trimmed).
    fn write(&mut self, target: &str, ip: IpAddr, out: &mut impl Write) -> std::io::Result<()> {
        self.render(target.as_bytes(), ip, self.db.find(ip));
        self.write_rows(out)
    }

    /// Write the rows rendered.
    fn write_rows(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let result = out.write_all(&self.rows);
        self.rows.clear();
        result
    }

    /// Render the row of `ip`, given as `target`, which the table answers with `found`.
    fn render(&mut self, target: &[u8], ip: IpAddr, found: Option<Found>) {
        let span = match found {
            None => self.no_as,
            Some(f) => self.span(f.as_index as usize),
        };
        Row {
            target,
            ip,
            range: found.map(|f| (f.range_start, f.range_end)),
            cidr: found.map(|f| f.cidr),
            cover: cover(ip),
            columns: Rendered::at(&self.columns, span),
        }
        .render(&mut self.rows);
    }

    /// Where the AS columns of AS index `i` lie in `columns`, rendered when first met.
    fn span(&mut self, i: usize) -> Span {
        let slot = self.slot[i];
        if slot > 0 {
            return self.spans[slot as usize - 1];
        }
        // The table names entries the names hold (checked at load).
        let info = self.db.names.get(i).unwrap_or_default();
        let (organisation, cdn) = self.attributor.organisation(info.asn, info.name, None);
        let span = AsColumns {
            asn: Some(info.asn),
            as_name: &cleaned(info.name),
            organisation: &cleaned(&organisation),
            cdn: &safe(cdn.as_deref().unwrap_or("")),
            country: &safe(info.country.unwrap_or("")),
            cnames: "",
            hosting: "",
            source: &self.source,
            error: "",
        }
        .render(&mut self.columns);
        self.spans.push(span);
        self.slot[i] = self.spans.len() as u32;
        span
    }
}

/// The text answer for one target, every line within [`WIDTH`] columns: the target and its
/// CNAME chain (wrapped), then per address its AS, its organisation (CDN, country), its range
/// and CIDR, its covering block and source, each a line of its own, a long name [`cut`] with `…`
/// (TSV and JSON keep every value whole).
fn text(target: &str, h: &HostAttribution) -> String {
    if let Some(e) = &h.dns_error {
        return wrap(&format!("{target}: cannot resolve: {e}"), "", "  ");
    }
    let chain: Vec<&str> = std::iter::once(target)
        .chain(h.cnames.iter().map(String::as_str))
        .collect();
    let mut head = chain.join(" → ");
    if let Some(s) = &h.hosting_service {
        head.push_str(&format!(" [hosting service: {s}]"));
    }
    let mut out = wrap(&head, "", "  ");
    let mut line = |l: String| {
        out.push_str(&cut(&l, WIDTH));
        out.push('\n');
    };
    for a in &h.addresses {
        match a.asn {
            Some(asn) => {
                line(format!("  {}  AS{asn} {}", a.ip, a.as_name.as_deref().unwrap_or("")));
                line(format!(
                    "    org {}{}{}",
                    a.organisation,
                    a.cdn
                        .as_ref()
                        .map(|c| format!(" [CDN {c}: origin unknown]"))
                        .unwrap_or_default(),
                    a.country.as_ref().map(|c| format!("  country {c}")).unwrap_or_default(),
                ));
                line(format!("    range {}  cidr {}", range(a), opt(&a.cidr)));
                line(format!("    /{} {}  ({})", a.cover.prefix(), a.cover, a.source));
            }
            None => {
                line(format!("  {}  {}", a.ip, no_as(a)));
                line(format!("    ({})", a.source));
            }
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
        assert_eq!(
            echoed(&huge, Echo::Whole),
            format!("{}… (600 bytes in all)", "é".repeat(256))
        );
        assert_eq!(echoed("short", Echo::Whole), "short");
        let mut out = vec![];
        refused(&huge, Echo::Whole, "is too long", Format::Tsv, Some(1), &mut out).unwrap();
        let row = String::from_utf8(out).unwrap();
        assert!(
            row.starts_with(&format!("{}… (600 bytes in all)\t", "é".repeat(256))),
            "{row}"
        );
        assert!(row.len() < 1000, "{} bytes", row.len());
        let input = format!("{}\n1.1.1.1\n", "x".repeat(50 * 1024 * 1024));
        let mut reader = std::io::BufReader::new(input.as_bytes());
        let mut bytes = vec![];
        assert_eq!(read_line(&mut reader, &mut bytes).unwrap(), Some(50 * 1024 * 1024));
        assert_eq!(bytes.len(), MAX_LINE);
        assert_eq!(read_line(&mut reader, &mut bytes).unwrap(), Some(7));
        assert_eq!(bytes, b"1.1.1.1");
        assert_eq!(read_line(&mut reader, &mut bytes).unwrap(), None);
        // A line's length leaves out its line break, "\r\n" too, wherever a read cuts it.
        let input = format!("{}\r\n\r\nab\r\nc", "y".repeat(3000));
        for block in [1, 2, 3, 7, 4096] {
            let mut reader = std::io::BufReader::with_capacity(block, input.as_bytes());
            let lengths: Vec<_> = std::iter::from_fn(|| read_line(&mut reader, &mut bytes).unwrap()).collect();
            assert_eq!(lengths, [3000, 0, 2, 1], "blocks of {block}");
        }
    }

    /// The attributor of the committed cut of the tables (its data directory beside it).
    fn cut_attributor(orgs: &[(&str, &str)]) -> (tempfile::TempDir, Attributor) {
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
        for (asn, org) in orgs {
            config
                .attribution
                .organisations
                .insert(asn.to_string(), org.to_string());
        }
        let a = crate::pipeline::attributor(&config, true).unwrap();
        (dir, a)
    }

    /// `lookup -` over `input`: its exit code and TSV.
    async fn stream_of(a: &Attributor, input: &str) -> (i32, String) {
        let mut out = vec![];
        let code = answer_all(a, &[], Some(input.as_bytes()), Format::Tsv, &mut out)
            .await
            .unwrap();
        (code, String::from_utf8(out).unwrap())
    }

    /// Input without a line break ends the stream after [`MAX_STREAM_LINE`] bytes with one
    /// error, not a read without end.
    #[test]
    fn endless_input_without_a_line_break_ends_the_stream() {
        let mut zeros = std::io::BufReader::with_capacity(1 << 20, std::io::repeat(0));
        let mut bytes = vec![];
        let e = read_line(&mut zeros, &mut bytes).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a line longer than 1 GiB: not a list of targets, one a line (binary input, or /dev/zero?)"
        );
        assert!(bytes.len() <= MAX_LINE);
    }

    /// Input that fails to read after some lines ends the stream with its error, the rows of
    /// the lines before written (not left queued).
    #[tokio::test]
    async fn a_read_error_ends_the_stream_after_the_rows_before_it() {
        struct Failing(&'static [u8]);
        impl std::io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("the disk is gone"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let (_dir, a) = cut_attributor(&[]);
        let mut out = vec![];
        let input = std::io::BufReader::new(Failing(b"1.1.1.1\n2001:db8::1\n"));
        let e = answer_all(&a, &[], Some(input), Format::Tsv, &mut out)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("the disk is gone"), "{e}");
        let tsv = String::from_utf8(out).unwrap();
        let targets: Vec<&str> = tsv.lines().skip(1).map(|l| l.split('\t').next().unwrap()).collect();
        assert_eq!(targets, ["1.1.1.1", "2001:db8::1"], "{tsv}");
    }

    /// A line too long to be a target is refused with its true length, stated once; a
    /// comment is skipped however long it is.
    #[tokio::test]
    async fn a_long_line_states_its_length_once_and_a_long_comment_is_a_comment() {
        let (_dir, a) = cut_attributor(&[]);
        let long = "x".repeat(600_000);
        let (code, tsv) = stream_of(&a, &format!("{long}\r\n1.1.1.1\n")).await;
        assert_eq!(code, 1);
        let rows: Vec<&str> = tsv.lines().collect();
        assert_eq!(rows.len(), 3, "{tsv}");
        let cells: Vec<&str> = rows[1].split('\t').collect();
        assert_eq!(cells[0], format!("{}…", "x".repeat(256)));
        assert_eq!(
            cells[13],
            format!(
                "lookup \"{}…\" (stdin line 1) is 600000 bytes long, too long to be a host name, an IP address or a URL; give a host name, an IP address or a URL",
                "x".repeat(60)
            )
        );
        assert!(rows[2].starts_with("1.1.1.1\t1.1.1.1\t13335\t"), "{}", rows[2]);
        // Queued addresses keep their place among the other lines.
        let (code, tsv) = stream_of(&a, "1.1.1.1\na b\n\n::1\n# note\n8.8.8.8\n").await;
        assert_eq!(code, 1);
        let targets: Vec<&str> = tsv.lines().skip(1).map(|r| r.split('\t').next().unwrap()).collect();
        assert_eq!(targets, ["1.1.1.1", "a b", "::1", "8.8.8.8"]);
        for comment in [format!("#{long}"), format!("  # {long}"), "# short".to_string()] {
            let (code, tsv) = stream_of(&a, &format!("{comment}\n1.1.1.1\n")).await;
            assert_eq!(code, 0, "{tsv}");
            assert_eq!(tsv.lines().count(), 2, "{tsv}");
        }
    }

    /// Blanks around a target are no part of it, however many: a line of 3,000 spaces is an
    /// empty line, an address followed by 3,000 spaces that address (not a line too long);
    /// `192.0.2.1.` (the trailing dot of a fully qualified name) is the address.
    #[tokio::test]
    async fn blanks_around_a_target_and_a_trailing_dot_are_read_as_meant() {
        let (_dir, a) = cut_attributor(&[]);
        let pad = " ".repeat(3000);
        let input = format!("{pad}\n1.1.1.1{pad}\n\t{pad}8.8.8.8 \t{pad}\r\n{pad}\t\r\n1.1.1.1.\n");
        let (code, tsv) = stream_of(&a, &input).await;
        assert_eq!(code, 0, "{tsv}");
        let rows: Vec<&str> = tsv.lines().skip(1).collect();
        let starts: Vec<String> = rows
            .iter()
            .map(|r| r.split('\t').take(3).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            starts,
            [
                "1.1.1.1 1.1.1.1 13335",
                "8.8.8.8 8.8.8.8 15169",
                "1.1.1.1. 1.1.1.1 13335"
            ],
            "{tsv}"
        );
        assert_eq!(parse_target("192.0.2.1."), Ok(Target::Ip("192.0.2.1".parse().unwrap())));
        // Not four decimal parts, or more than one dot: as before, no host name.
        assert_eq!(parse_target("1.2.3."), Err("is not a valid host name"));
        assert_eq!(parse_target("192.0.2.1.."), Err("is not a valid host name"));
        // A long line is as long as its text: blanks around it are not counted.
        let long = "x".repeat(3000);
        let (code, tsv) = stream_of(&a, &format!("   {long}   \n")).await;
        assert_eq!(code, 1);
        assert!(tsv.contains("is 3000 bytes long"), "{tsv}");
    }

    /// The plain spellings read fast are read as the standard parser reads them, and nothing
    /// it refuses is taken.
    #[test]
    fn plain_addresses_read_as_the_standard_parser_reads_them() {
        let mut rng = fastrand::Rng::with_seed(5);
        let mut texts: Vec<String> = [
            "",
            ":",
            "::",
            ":::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8::",
            "01:0002::00003:4",
            "12345::",
            "1:::2",
            ":1::",
            "1::2::3",
            "::ffff:1.2.3.4",
            "64:ff9b::1.2.3.4",
            "2001:DB8::A",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.4.",
            "1.2.3.04",
            "1.2.3.0",
            "-1.2.3.4",
            "1.2.3.4 ",
            " ::1",
            "::g",
            "1.2.3.4:80",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..200_000 {
            let len = rng.usize(0..24);
            texts.push(
                (0..len)
                    .map(|_| rng.choice(b"0123456789aF:.".iter()).map(|c| *c as char).unwrap())
                    .collect(),
            );
            // Addresses whose groups are often zero, spelled by Display.
            let groups: [u16; 8] = std::array::from_fn(|_| if rng.bool() { 0 } else { rng.u16(..) >> rng.u32(0..16) });
            let v6 = Ipv6Addr::from(groups);
            texts.push(v6.to_string());
            texts.push(format!(
                "{:x}:{:X}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7]
            ));
            texts.push(Ipv4Addr::from(rng.u32(..) >> rng.u32(0..32)).to_string());
        }
        let mut fast = 0;
        for t in &texts {
            let std = t.parse::<IpAddr>().ok();
            match plain_ip(t.as_bytes()) {
                Some(ip) => {
                    assert_eq!(Some(ip), std, "{t:?}");
                    fast += 1;
                }
                None => assert!(
                    std.is_none() || t.contains('.') && t.contains(':'),
                    "{t:?} is an address in a plain spelling"
                ),
            }
        }
        assert!(fast > 600_000, "{fast} read fast");
    }

    /// The stream of plain addresses writes, byte for byte, the row the record path writes:
    /// IPv4 and IPv6, found and not, the first and last address of ranges and their
    /// neighbours, IPv4-mapped and non-canonical spellings, a CDN edge, and an organisation
    /// whose name needs cleaning and escaping.
    #[tokio::test]
    async fn the_stream_writes_the_rows_of_the_record_path() {
        let (_dir, a) = cut_attributor(&[("AS24940", "Hetz\tner \u{1b}[2J\u{202e}GmbH")]);
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
            assert!(
                answer(&a, t, Format::Tsv, Some(1), &mut Unanswered::default(), &mut record)
                    .await
                    .unwrap()
            );
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
             116.202.0.0-116.203.255.255\t116.202.0.0/15\t116.202.3.0/24\t\t\t\t\
             asn-ipv4-cut.csv.gz + asn-ipv6-cut.csv.gz (ip-location-db-csv)\t\n"
        );
        // NAT64 and 6to4 addresses are attributed by the IPv4 address they embed, and
        // covered by its /24.
        for t in ["64:ff9b::116.202.3.4", "2002:74ca:304::1"] {
            assert!(
                row(t).contains("\t24940\tHetzner Online GmbH\t")
                    && row(t).contains("\t116.202.0.0-116.203.255.255\t116.202.0.0/15\t116.202.3.0/24\t"),
                "{t}: {}",
                row(t)
            );
        }
        // The stream reads its plain addresses itself: the same rows.
        let input: String = targets.iter().map(|t| format!("{t}\n")).collect();
        let (code, tsv) = stream_of(&a, &input).await;
        assert_eq!(code, 0);
        let mut expected = format!("{TSV_HEADER}\n");
        let mut s = Stream::new(&a, db);
        for t in &targets {
            let mut row = vec![];
            s.write(t, t.parse().unwrap(), &mut row).unwrap();
            expected.push_str(std::str::from_utf8(&row).unwrap());
        }
        assert_eq!(tsv, expected);
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
            "::1.2.3.4",
            "::ffff:0:1.2.3.4",
            "::1",
            "1::",
            "1:0:0:2::3",
            "1::2:0:0:3",
            "1:0:2:0:3:0:4:0",
            "0:1:0:0:2:0:0:0",
            "2001:db8::1",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        for _ in 0..20_000 {
            ips.push(IpAddr::V4(rng.u32(..).into()));
            ips.push(IpAddr::V6(rng.u128(..).into()));
            let groups: [u16; 8] = std::array::from_fn(|_| if rng.bool() { 0 } else { rng.u16(..) >> rng.u32(0..16) });
            ips.push(IpAddr::V6(groups.into()));
        }
        for ip in ips {
            let mut out = vec![];
            put_ip(&mut out, ip);
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
            let max = if ip.is_ipv4() { 32 } else { 128 };
            for prefix in [0, 7, 9, 10, 24, 48, 99, 100, 127, 128]
                .into_iter()
                .filter(|p| *p <= max)
            {
                let net = IpNetwork::new(ip, prefix).unwrap();
                let mut out = vec![];
                put_net(&mut out, net);
                assert_eq!(String::from_utf8(out).unwrap(), net.to_string());
            }
        }
    }
}
