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
    // `lookup` awaits one target at a time: worker threads would only be started and joined.
    let runtime = if args.single_threaded() {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Runtime::new()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            logging::error_line(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            let code = e.exit_code();
            logging::error_line(&anyhow::Error::from(e).to_string());
            if code == whohosts::error::EXIT_USAGE {
                logging::error_line(&cli::usage::see_help(&command));
            }
            ExitCode::from(code)
        }
    };
    // Tasks still holding a database writer (a command that failed half-way) drop it here;
    // the process then waits for the writer to close its connection, so it never exits in the
    // middle of a checkpoint (which would leave a -wal file beside the database).
    drop(runtime);
    if !whohosts::store::writer::wait_for_threads(std::time::Duration::from_secs(30)) {
        logging::error_line("warning: the database writer did not finish within 30 s; the database is intact and its -wal file is read at the next open");
    }
    code
}
