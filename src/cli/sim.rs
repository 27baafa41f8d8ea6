//! `whohosts sim`: serve a simulated fediverse on loopback until interrupted, and print the
//! config that points whohosts at it. For trying things by hand and for benchmarks. A world
//! with a timeline is served at `--week N`; a week number typed on stdin switches to it.

use tokio::io::AsyncBufReadExt;

use std::path::Path;

use super::print;
use crate::config::{Config, Paths};
use crate::error::{Error, Result};
use whohosts_sim::{self as sim, generate, timeline::Timeline};

/// The client settings that point whohosts at `running`, with attribution from its ASN
/// fixture, written to `fixture` (ip-location-db CSV).
///
/// # Errors
/// [`Error::Io`] when the fixture cannot be written.
pub fn client_config(running: &sim::Running, fixture: &Path) -> Result<Config> {
    running.write_asn_fixture(fixture)?;
    Ok(Config::loopback(running.dns_addr, running.http_port, running.ca())
        .with_asn_fixture(fixture, sim::FIXTURE_LICENCE))
}

/// Write the config for `running` to `path` and its ASN fixture beside it (`NAME.asn.csv`),
/// named relative to the config, so the pair works from any directory.
fn write_config(running: &sim::Running, path: &Path) -> Result<()> {
    let fixture = path.with_extension("asn.csv");
    let mut config = client_config(running, &fixture)?;
    if let Some(name) = fixture.file_name() {
        config.attribution.asn_database = Paths::One(name.to_string_lossy().into_owned());
    }
    let text = toml::to_string(&config).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// `sim` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub world: super::WorldArgs,
    /// Write the config for the simulated world to FILE (and its ASN fixture beside it);
    /// an existing FILE is refused unless --force
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<std::path::PathBuf>,
    /// Serve this week of the world's timeline (0 is the world as first written)
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = super::usage::whole::<u32>)]
    pub week: u32,
    /// Let --write-config replace an existing file
    #[arg(long, requires = "write_config")]
    pub force: bool,
}

/// Claim `path` for the config before the simulator starts: refuse an existing file unless
/// `force` (a production config must not silently become the simulator's, which allows
/// plain http and private addresses), and name the path as given when it cannot be written.
fn claim(path: &Path, force: bool) -> Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    open.open(path).map(drop).map_err(|e| {
        let message = match e.kind() {
            std::io::ErrorKind::AlreadyExists => "the file exists; pass --force to replace it".into(),
            _ => crate::error::path_reason(path, &e),
        };
        Error::Flag {
            flag: "--write-config",
            value: path.display().to_string(),
            message,
        }
    })
}

/// Run `sim` until Ctrl-C.
///
/// # Errors
/// World, bind or file errors; a `--week` the world does not have.
pub async fn run(args: Args) -> Result<i32> {
    let w = args.world.world()?;
    if let Some(path) = &args.write_config {
        claim(path, args.force)?;
    }
    let suggested = generate::suggested_seeds(&w, 3).join(" ");
    let timeline = Timeline::new(w)?;
    if args.week > timeline.last_week() {
        return Err(Error::Flag {
            flag: "--week",
            value: args.week.to_string(),
            message: format!(
                "the world has weeks 0 to {} (--weeks N adds weeks to a generated world)",
                timeline.last_week()
            ),
        });
    }
    let running = sim::start_timeline(timeline, None).await?;
    running.set_week(args.week)?;
    if let Some(path) = &args.write_config {
        write_config(&running, path)?;
    }
    print(&format!(
        "Serving week {} of 0–{}: {} instances: DNS {}, HTTP port {}.\nTry: whohosts --config {} crawl {suggested}\nType a week number and Enter to switch weeks; Ctrl-C stops.\n",
        args.week,
        running.stage.last_week(),
        running.stage.sim().layout.world.instances.len(),
        running.dns_addr,
        running.http_port,
        args.write_config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "<file written with --write-config>".into())
    ))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(|e| Error::io("<signal>", e))?,
        () = switch_weeks(&running) => {}
    }
    Ok(0)
}

/// The longest stdin line read as a week number: a longer one is refused whole, and never
/// held in memory.
const MAX_STDIN_LINE: usize = 64;

/// How far a line without a line break is read at most (skipped, never held): past this,
/// stdin is not read any more, so an endless input (`sim < /dev/zero`) does not keep a core
/// busy.
const MAX_STDIN_SKIP: usize = 4 << 20;

/// Why a stdin line is not a week number to read.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// Longer than [`MAX_STDIN_LINE`] (its length in bytes; skipped to its end).
    Long(usize),
    /// Stdin is not read further, and why (one line to say so).
    Stop(String),
}

/// The next line of `input` (without its newline); `Err` when it is longer than
/// [`MAX_STDIN_LINE`] (skipped to its end), or when stdin is binary (a NUL byte) or a line
/// runs past [`MAX_STDIN_SKIP`] bytes without a line break (then nothing more is read);
/// `None` at the end.
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(input: &mut R) -> Option<Result<String, Refused>> {
    let mut line: Vec<u8> = vec![];
    let mut length = 0usize;
    loop {
        let chunk = input.fill_buf().await.ok()?;
        if chunk.is_empty() {
            return (length > 0).then(|| ended(line, length));
        }
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if part.contains(&0) {
            return Some(Err(Refused::Stop(
                "stdin: a NUL byte, so stdin is binary, not week numbers; it is no longer read (Ctrl-C stops)".into(),
            )));
        }
        length = length.saturating_add(part.len());
        if length > MAX_STDIN_SKIP {
            return Some(Err(Refused::Stop(format!(
                "stdin: no line break in {MAX_STDIN_SKIP} bytes, so no week numbers; it is no longer read (Ctrl-C stops)"
            ))));
        }
        if length <= MAX_STDIN_LINE {
            line.extend_from_slice(part);
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            return Some(ended(line, length));
        }
    }
}

fn ended(line: Vec<u8>, length: usize) -> Result<String, Refused> {
    if length > MAX_STDIN_LINE {
        Err(Refused::Long(length))
    } else {
        Ok(String::from_utf8_lossy(&line).into_owned())
    }
}

/// Read week numbers from stdin and serve them; at the end of input, or when stdin cannot be
/// week numbers (binary, or endless without a line break), wait forever.
async fn switch_weeks(running: &sim::Running) {
    let mut input = tokio::io::BufReader::new(tokio::io::stdin());
    while let Some(line) = next_line(&mut input).await {
        let line = match line {
            Ok(line) => line,
            Err(Refused::Long(length)) => {
                super::logging::error_line(&format!(
                    "stdin: a line of {length} bytes is not a week number (at most {MAX_STDIN_LINE} bytes a line)"
                ));
                continue;
            }
            Err(Refused::Stop(why)) => {
                super::logging::error_line(&why);
                break;
            }
        };
        match line.trim().parse::<u32>().map(|n| (n, running.set_week(n))) {
            Ok((n, Ok(()))) => drop(print(&format!("Serving week {n}.\n"))),
            Ok((_, Err(e))) => super::logging::error_line(&e.to_string()),
            Err(_) => super::logging::error_line(&format!("stdin: {:?} is not a week number", line.trim())),
        }
    }
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::{next_line, Refused, MAX_STDIN_LINE, MAX_STDIN_SKIP};

    #[tokio::test]
    async fn stdin_lines_are_read_within_a_bound() {
        let long = "7".repeat(1 << 20);
        let text = format!("1\n{long}\n2\n{}\n3", "x".repeat(MAX_STDIN_LINE));
        let mut input = tokio::io::BufReader::with_capacity(16, text.as_bytes());
        let mut got = vec![];
        while let Some(line) = next_line(&mut input).await {
            got.push(line);
        }
        assert_eq!(
            got,
            [
                Ok("1".to_string()),
                Err(Refused::Long(1 << 20)),
                Ok("2".to_string()),
                Ok("x".repeat(MAX_STDIN_LINE)),
                Ok("3".to_string())
            ]
        );
    }

    /// `sim < /dev/zero`: NUL bytes, or a line that never ends, stop the reading with one
    /// line, within a bound, instead of reading forever.
    #[tokio::test]
    async fn endless_or_binary_stdin_stops_with_one_line() {
        use tokio::io::AsyncReadExt;
        let mut zeros = tokio::io::BufReader::new(tokio::io::repeat(0).take(1 << 40));
        let got = next_line(&mut zeros).await;
        assert_eq!(
            got,
            Some(Err(Refused::Stop(
                "stdin: a NUL byte, so stdin is binary, not week numbers; it is no longer read (Ctrl-C stops)".into()
            )))
        );
        // Endless text without a line break: read up to the bound, not further.
        let mut endless = tokio::io::BufReader::new(tokio::io::repeat(b'7').take(1 << 40));
        let got = next_line(&mut endless).await;
        assert_eq!(
            got,
            Some(Err(Refused::Stop(format!(
                "stdin: no line break in {MAX_STDIN_SKIP} bytes, so no week numbers; it is no longer read (Ctrl-C stops)"
            ))))
        );
        // A week number after a line of zeros is never read: stdin stopped.
        let text = b"\0\0\n2\n";
        let mut input = tokio::io::BufReader::new(&text[..]);
        assert!(matches!(next_line(&mut input).await, Some(Err(Refused::Stop(_)))));
    }
}
