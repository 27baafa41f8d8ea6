//! `whohosts sim`: serve a simulated fediverse on loopback until interrupted, and print the
//! config that points whohosts at it. For trying things by hand and for benchmarks. A world
//! with a timeline is served at `--week N`; a week number typed on stdin switches to it.

use tokio::io::AsyncBufReadExt;

use super::print;
use crate::error::{Error, Result};
use crate::sim::{self, timeline::Timeline};

/// `sim` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub world: super::WorldArgs,
    /// Write the config for the simulated world to FILE (and its ASN fixture beside it)
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<std::path::PathBuf>,
    /// Serve this week of the world's timeline (0 is the world as first written)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub week: u32,
}

/// Run `sim` until Ctrl-C.
///
/// # Errors
/// World, bind or file errors; a `--week` the world does not have.
pub async fn run(args: Args) -> Result<i32> {
    let timeline = Timeline::new(args.world.world()?)?;
    let running = sim::start_timeline(timeline, None).await?;
    running.set_week(args.week)?;
    if let Some(path) = &args.write_config {
        let config = running.config_with_fixture(&path.with_extension("asn.csv"))?;
        let text = toml::to_string(&config).map_err(|e| Error::ConfigValue(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    print(&format!(
        "Serving week {} of 0–{}: {} instances: DNS {} , HTTP port {}.\nTry: whohosts --config {} crawl @demo@flagship.example\nType a week number and Enter to switch weeks; Ctrl-C stops.\n",
        args.week,
        running.stage.last_week(),
        running.stage.sim().layout.world.instances.len(),
        running.dns_addr,
        running.http_port,
        args.write_config.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<file written with --write-config>".into())
    ))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(|e| Error::io("<signal>", e))?,
        () = switch_weeks(&running) => {}
    }
    Ok(0)
}

/// Read week numbers from stdin and serve them; at the end of input, wait forever.
async fn switch_weeks(running: &sim::Running) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match line.trim().parse::<u32>().map(|n| (n, running.set_week(n))) {
            Ok((n, Ok(()))) => drop(print(&format!("Serving week {n}.\n"))),
            Ok((_, Err(e))) => eprintln!("whohosts: {e}"),
            Err(_) => eprintln!("whohosts: stdin: {:?} is not a week number", line.trim()),
        }
    }
    std::future::pending::<()>().await;
}
