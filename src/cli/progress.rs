//! The terminal's side of [`crate::net::progress`]: an indicatif bar on stderr when stderr is
//! a terminal and `--quiet` was not given (cron jobs and pipes get clean output), and notices
//! as `whohosts: …` lines.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::logging;
use crate::net::progress::{self, Bar, Terminal};

struct Indicatif(ProgressBar);

impl Bar for Indicatif {
    fn set_message(&self, msg: String) {
        self.0.set_message(crate::model::text::terminal(&msg).into_owned());
    }
    fn suspend(&self, f: &mut dyn FnMut()) {
        self.0.suspend(f);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn inc_length(&self, n: u64) {
        self.0.inc_length(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn bar(len: u64, quiet: bool) -> Arc<dyn Bar> {
    let visible = !quiet && std::io::stderr().is_terminal();
    let bar = if visible {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos}/{len} {wide_msg}")
            .expect("the template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Arc::new(Indicatif(bar))
}

/// Show the library's progress and notices on this terminal.
pub fn install() {
    progress::install(Terminal {
        bar,
        notice: logging::notice_line,
    });
}
