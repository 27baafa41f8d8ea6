//! The `whohosts` binary: parse arguments, set up logging, run, print errors on one line.

use std::process::ExitCode;

use clap::Parser;
use whohosts::cli::{self, logging, Cli};

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => match cli::usage::short(&e) {
            // --help, --version: printed as clap prints them.
            None => e.exit(),
            Some(lines) => {
                eprint!("{lines}");
                return ExitCode::from(2);
            }
        },
    };
    logging::init(args.verbose, args.quiet, args.log_format);
    cli::progress::install();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            logging::error_line(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            let code = e.exit_code();
            logging::error_line(&anyhow::Error::from(e).to_string());
            ExitCode::from(code)
        }
    }
}
