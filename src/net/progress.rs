//! Progress on long work: an indicatif bar on a terminal, silence otherwise.
//!
//! The bar is drawn on stderr only when stderr is a terminal and `--quiet` was not given, so
//! cron jobs and pipes get clean output. Warnings always go through `tracing`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A cloneable handle on the (possibly hidden) bar.
#[derive(Clone)]
pub struct Progress {
    bar: Arc<ProgressBar>,
}

impl Progress {
    /// A bar over `seeds` seeds, visible only on a terminal and when not `quiet`.
    pub fn new(seeds: u64, quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::new(seeds)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos}/{len} {wide_msg}")
                .expect("the template is valid"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Arc::new(bar) }
    }

    /// Say what is being done now.
    pub fn note(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }

    /// Say that the crawl waits for `host`, so a long pause does not look like a hang:
    /// `waiting 12 s for HOST (rate limit)` (whole seconds, rounded up).
    pub fn waiting(&self, host: &str, wait: Duration, reason: &str) {
        let secs = wait.as_secs_f64().ceil();
        self.note(&format!("waiting {secs} s for {host} ({reason})"));
    }

    /// The message shown now.
    pub fn message(&self) -> String {
        self.bar.message()
    }

    /// Report a problem without breaking the bar.
    pub fn warn(&self, msg: &str) {
        self.bar.suspend(|| tracing::warn!("{msg}"));
    }

    /// One seed finished.
    pub fn seed_done(&self) {
        self.bar.inc(1);
    }

    /// More units of work are known.
    pub fn add_work(&self, n: u64) {
        self.bar.inc_length(n);
    }

    /// Units of work finished.
    pub fn work_done(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Remove the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
