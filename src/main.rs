//! The `whohosts` binary: parse arguments, set up logging, run, print errors on one line.

use std::process::ExitCode;

use whohosts::cli::{self, logging, Cli};

fn main() -> ExitCode {
    // The command the words name (`whohosts asn-db update`), for the `--help` a usage error
    // points to.
    let words: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let command = cli::usage::command_path(cli::command(), &words);
    let args = match Cli::parse_args() {
        Ok(args) => args,
        Err(e) => match cli::usage::short(&e, &command) {
            // --help, --version: printed as clap prints them.
            None => e.exit(),
            Some(lines) => {
                logging::stderr_text(&lines);
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
            if code == whohosts::error::EXIT_USAGE {
                logging::error_line(&cli::usage::see_help(&command));
            }
            ExitCode::from(code)
        }
    }
}
