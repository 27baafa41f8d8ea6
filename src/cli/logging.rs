//! Log output on stderr: which events show, in colour or not, as text or JSON lines.
//!
//! whohosts's own events follow `-q`/`-v`; dependencies (hickory, hyper, reqwest, rustls)
//! stay at warnings unless `RUST_LOG` asks for more. Colour only when stderr is a terminal
//! and `NO_COLOR` is unset, so cron mail and pipes never carry escape codes; every line goes
//! through [`crate::model::text`], so no server-supplied text carries one either.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

use crate::model::text::{terminal, terminal_with_colour};

/// stderr for log events, made safe for a terminal: a host name or server message in an
/// event cannot carry a control sequence (the colour whohosts itself adds is kept).
struct SafeStderr {
    colour: bool,
    json: bool,
}

impl std::io::Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let safe = if self.json {
            crate::model::text::json(&text)
        } else if self.colour {
            terminal_with_colour(&text)
        } else {
            terminal(&text)
        };
        std::io::stderr().lock().write_all(safe.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    // One readable line per event.
    #[default]
    Text,
    // One JSON object per line (for cron, journald and log collectors).
    Json,
}

/// Set once the subscriber writes JSON: error lines then go through it too.
static JSON: AtomicBool = AtomicBool::new(false);

/// Write `text` to stderr, never panicking: when stderr is closed (`2>&1 | head`, a cron
/// mailer that stopped reading) the text is dropped, so the exit code stays the documented one.
pub fn stderr_text(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Say an error on stderr: `whohosts: LINE` as text, or an ERROR event in JSON mode, so
/// every stderr line stays one JSON object. Shown even under `--quiet`.
pub fn error_line(line: &str) {
    let line = terminal(line);
    if JSON.load(Ordering::Relaxed) {
        tracing::error!("{line}");
    } else {
        stderr_text(&format!("whohosts: {line}\n"));
    }
}

/// Target of the warnings [`warning_line`] says, which `--quiet` keeps.
pub const WARNING_TARGET: &str = "whohosts::warning";

/// Say a warning on stderr: `whohosts: warning: LINE` as text, or a WARN event (target
/// [`WARNING_TARGET`]) in JSON mode; shown even under `--quiet`, so cron mails it.
pub fn warning_line(line: &str) {
    let line = terminal(line);
    if JSON.load(Ordering::Relaxed) {
        tracing::warn!(target: "whohosts::warning", "{line}");
    } else {
        stderr_text(&format!("whohosts: warning: {line}\n"));
    }
}

/// Say what a `--fail-if` or `--warn-if` rule found, even under `--quiet`: `whohosts: LINE`
/// in text; in JSON mode an ERROR event when it `fails` the run, else a WARN event (target
/// [`WARNING_TARGET`], which `--quiet` keeps).
pub fn rule_line(line: &str, fails: bool) {
    if fails || !JSON.load(Ordering::Relaxed) {
        error_line(line);
    } else {
        tracing::warn!(target: "whohosts::warning", "{}", terminal(line));
    }
}

/// Say a notice on stderr (`whohosts: LINE`, or a WARN event in JSON mode); callers skip it
/// under `--quiet`.
pub fn notice_line(line: &str) {
    let line = terminal(line);
    if JSON.load(Ordering::Relaxed) {
        tracing::warn!("{line}");
    } else {
        stderr_text(&format!("whohosts: {line}\n"));
    }
}

/// The filter directives for `-q` / `-v` counts, when `RUST_LOG` is not set.
///
/// Failed seeds are printed once by `crawl` itself, so the crawl's progress warnings for them
/// (target `whohosts::net::progress`) are not repeated. Warnings about the data
/// ([`WARNING_TARGET`]) show even under `--quiet`.
pub fn directives(verbose: u8, quiet: bool) -> String {
    let own = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let deps = if quiet { "error" } else { "warn" };
    format!("{deps},whohosts={own},whohosts::net::progress=off,{WARNING_TARGET}=warn")
}

/// Whether log lines may carry ANSI colour: stderr is a terminal and `NO_COLOR` is unset
/// (or empty, as <https://no-color.org> says).
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Install the global subscriber on stderr.
pub fn init(verbose: u8, quiet: bool, format: LogFormat) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(s) if !s.trim().is_empty() => EnvFilter::new(s),
        _ => EnvFilter::new(directives(verbose, quiet)),
    };
    let ansi = format == LogFormat::Text && colour();
    let json = format == LogFormat::Json;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || SafeStderr { colour: ansi, json })
        .with_target(true);
    match format {
        LogFormat::Text => builder.with_ansi(ansi).init(),
        LogFormat::Json => {
            JSON.store(true, Ordering::Relaxed);
            builder.json().with_ansi(false).flatten_event(true).init();
        }
    }
}

/// The one warning a run's DNS lookups end with, if any: the nameserver taken for not
/// answering, and the `nouns` that did not resolve counted by answer, then `see` (where the
/// report lists them). `None` when every name resolved and the nameserver answered.
pub fn dns_warning(
    unresolved: &crate::net::dns::Unresolved,
    dead: Option<&crate::net::dns::NotAnswering>,
    (noun, nouns): (&str, &str),
    see: &str,
) -> Option<String> {
    let counted = (unresolved.count() > 0).then(|| format!("{}; {see}", unresolved.sentence(noun, nouns)));
    match (dead, counted) {
        (Some(d), Some(c)) => Some(format!("{}: {c}", d.sentence())),
        (Some(d), None) => Some(d.sentence()),
        (None, c) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_stay_at_warn_while_whohosts_follows_the_flags() {
        assert_eq!(
            directives(0, false),
            "warn,whohosts=warn,whohosts::net::progress=off,whohosts::warning=warn"
        );
        assert_eq!(
            directives(1, false),
            "warn,whohosts=info,whohosts::net::progress=off,whohosts::warning=warn"
        );
        assert_eq!(
            directives(3, false),
            "warn,whohosts=debug,whohosts::net::progress=off,whohosts::warning=warn"
        );
        assert_eq!(
            directives(2, true),
            "error,whohosts=error,whohosts::net::progress=off,whohosts::warning=warn"
        );
    }
}
