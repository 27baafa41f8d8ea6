//! Progress on long work, shown by whatever the caller installs.
//!
//! The library knows no terminal: [`Progress`] records what is being done and passes it to a
//! [`Bar`], and notices for the user go through [`notice`]. The command line installs its
//! terminal once at start ([`install`]: an indicatif bar on a terminal, `whohosts: …` lines on
//! stderr); a library caller that installs nothing gets a silent bar, and notices and warnings
//! as `tracing` events.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What shows progress: a bar on a terminal, or nothing.
pub trait Bar: Send + Sync {
    /// Show `msg` as what is being done now.
    fn set_message(&self, msg: String);
    /// Run `f` (which prints) without breaking the bar.
    fn suspend(&self, f: &mut dyn FnMut());
    /// `n` more units done.
    fn inc(&self, n: u64);
    /// `n` more units known.
    fn inc_length(&self, n: u64);
    /// Remove the bar.
    fn finish(&self);
}

/// How the caller shows progress and notices.
pub struct Terminal {
    /// A bar over `len` units; `quiet` asks for none.
    pub bar: fn(len: u64, quiet: bool) -> Arc<dyn Bar>,
    /// Say one notice line to the user.
    pub notice: fn(&str),
}

static TERMINAL: OnceLock<Terminal> = OnceLock::new();

/// Install how progress and notices are shown, once per process (later calls are ignored).
pub fn install(t: Terminal) {
    let _ = TERMINAL.set(t);
}

/// Say a notice to the user (database loaded, fallback used): through the installed terminal,
/// else as a `tracing` warning.
pub fn notice(line: &str) {
    match TERMINAL.get() {
        Some(t) => (t.notice)(line),
        None => tracing::warn!("{line}"),
    }
}

/// A bar that shows nothing.
struct Silent;

impl Bar for Silent {
    fn set_message(&self, _: String) {}
    fn suspend(&self, f: &mut dyn FnMut()) {
        f();
    }
    fn inc(&self, _: u64) {}
    fn inc_length(&self, _: u64) {}
    fn finish(&self) {}
}

/// A cloneable handle on the (possibly silent) bar.
#[derive(Clone)]
pub struct Progress {
    bar: Arc<dyn Bar>,
    message: Arc<Mutex<String>>,
}

impl Progress {
    /// A bar over `seeds` seeds, from the installed terminal (none when `quiet`).
    pub fn new(seeds: u64, quiet: bool) -> Self {
        let bar = match TERMINAL.get() {
            Some(t) => (t.bar)(seeds, quiet),
            None => Arc::new(Silent),
        };
        Progress {
            bar,
            message: Arc::default(),
        }
    }

    /// Say what is being done now.
    pub fn note(&self, msg: &str) {
        *self.message.lock().unwrap_or_else(|e| e.into_inner()) = msg.to_string();
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
        self.message.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Report a problem without breaking the bar.
    pub fn warn(&self, msg: &str) {
        self.bar.suspend(&mut || tracing::warn!("{msg}"));
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
        self.bar.finish();
    }
}
