//! `whohosts lookup HOST|IP...`: the attribution chain of hosts or addresses.
//!
//! With `-` it reads one target a line from stdin and streams one answer line each
//! (TSV by default, or JSON lines), for scripts.

use std::io::BufRead;
use std::net::IpAddr;
use std::sync::Arc;

use super::{print, AttributionArgs, Context, Format};
use crate::attribution::{AddressAttribution, Attributor, HostAttribution};
use crate::config::Config;
use crate::error::Result;

/// `lookup` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Host names or IP addresses; `-` reads them from stdin, one a line
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output format [default: text for arguments, tsv for stdin]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub attribution: AttributionArgs,
}

/// Column names of the TSV output.
pub const TSV_HEADER: &str =
    "target\taddress\tasn\tas_name\torganisation\tcdn\trange\tcidr\tcover\tcountry\tcnames\thosting\tsource\terror";

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
    if format == Format::Tsv {
        print(&format!("{TSV_HEADER}\n"))?;
    }
    let mut failed = false;
    for t in args.targets.iter().filter(|t| *t != "-") {
        failed |= !answer(&attributor, t.trim(), format).await?;
    }
    if stdin {
        let lines = std::io::stdin().lock().lines();
        for line in lines {
            let line = line.map_err(|e| crate::error::Error::io("<stdin>", e))?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            failed |= !answer(&attributor, t, format).await?;
        }
    }
    Ok(i32::from(failed))
}

/// Print one target's answer; `false` when it failed.
async fn answer(a: &Attributor, target: &str, format: Format) -> Result<bool> {
    let host = match target.parse::<IpAddr>() {
        Ok(ip) => HostAttribution {
            host: target.to_string(),
            cnames: vec![],
            dns_error: None,
            dns_ttl: 0,
            addresses: vec![a.address(ip, None).await],
            connected: None,
            hosting_service: None,
            shares: Default::default(),
        },
        Err(_) => a.host(target, None).await,
    };
    let ok = host.dns_error.is_none() && host.addresses.iter().all(|x| x.asn.is_some());
    let text = match format {
        Format::Json => serde_json::to_string(&host).expect("attributions serialise") + "\n",
        Format::Tsv => tsv(target, &host),
        Format::Text => text(target, &host),
    };
    print(&text)?;
    Ok(ok)
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
    let clean = |s: String| s.replace(['\t', '\n'], " ");
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
                if a.asn.is_none() {
                    "no AS found".into()
                } else {
                    String::new()
                },
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
            None => out.push_str(&format!("  {}  no AS found ({})\n", a.ip, a.source)),
        }
    }
    out
}
