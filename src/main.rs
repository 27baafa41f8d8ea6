//! The `whohosts` binary: parse arguments, set up logging, run, print errors on one line.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use whohosts::cli::{self, Cli};

fn main() -> ExitCode {
    let args = Cli::parse();
    let level = match args.verbose {
        0 => "error",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level)))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("whohosts: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            let code = e.exit_code();
            eprintln!("whohosts: {}", anyhow::Error::from(e));
            ExitCode::from(code)
        }
    }
}
