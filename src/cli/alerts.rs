//! `--fail-if`, `--warn-if` and `--metrics-file` on `crawl` and `report`: what a cron job
//! checks after a snapshot is stored.
//!
//! The rules are parsed by [`crate::metrics::rules`] when the command line is (a bad rule is a
//! usage error, exit code 2, naming the token); `--metrics-file` is checked before any work
//! and written through [`super::output::Output`] (atomically, through [`crate::files`]). After
//! the report, [`Alerts::finish`] writes the metrics file, says on stderr when the data is
//! degraded ([`crate::report::degraded`]) and one line per triggered rule, and gives the exit
//! code: [`EXIT_FAIL_IF`] when a `--fail-if` rule holds, else [`EXIT_WARN_IF`] when a
//! `--warn-if` rule holds, else 0.

use std::path::PathBuf;

use super::logging::{rule_line, warning_line};
use super::output::Output;
use crate::config::Config;
use crate::error::Result;
use crate::metrics::rules::{Outcome, Rule};
use crate::metrics::Weight;
use crate::report::{degraded, prometheus, trend};
use crate::store::Store;

/// Exit code: a `--fail-if` rule holds.
pub const EXIT_FAIL_IF: i32 = 6;
/// Exit code: a `--warn-if` rule holds (and no `--fail-if` rule does).
pub const EXIT_WARN_IF: i32 = 7;

fn rule(s: &str) -> std::result::Result<Rule, String> {
    Rule::parse(s)
}

/// The flags (a group of their own id: the commands that flatten them have an `Args` too).
#[derive(Debug, Clone, Default, clap::Args)]
#[group(id = "alerts")]
pub struct Args {
    /// Exit with code 6 when RULE holds for the snapshot, as in 'organisation.top1 > 0.5' or
    /// 'as.hhi.change > 200' (repeatable; see "Alerts from cron" in the README)
    #[arg(long = "fail-if", value_name = "RULE", value_parser = rule)]
    pub fail_if: Vec<Rule>,
    /// Like --fail-if, with exit code 7
    #[arg(long = "warn-if", value_name = "RULE", value_parser = rule)]
    pub warn_if: Vec<Rule>,
    /// Also write the snapshot's metrics to FILE in Prometheus text format (replaced
    /// atomically; for node_exporter's textfile collector)
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
}

/// The flags, checked before the work.
pub struct Alerts {
    args: Args,
    metrics_file: Option<Output>,
    max_unseen_share: f64,
}

fn figure(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

impl Args {
    /// Check the metrics file can be written, before any work.
    ///
    /// # Errors
    /// [`crate::Error::Output`] naming the file.
    pub fn check(self, config: &Config) -> Result<Alerts> {
        Ok(Alerts {
            metrics_file: self.metrics_file.as_deref().map(Output::check).transpose()?,
            max_unseen_share: config.report.max_unseen_share,
            args: self,
        })
    }
}

impl Alerts {
    /// After snapshot `id` was reported under `weight`: write the metrics file,
    /// warn about degraded data, check the rules. Returns the exit code of the rules.
    ///
    /// # Errors
    /// Store errors; [`crate::Error::Output`] for the metrics file.
    pub fn finish(&self, store: &Store, id: i64, weight: Weight) -> Result<i32> {
        let metrics = store.metrics(id)?;
        if let Some(out) = &self.metrics_file {
            let info = store.list()?.into_iter().find(|s| s.id == id);
            let finished = info.map(|i| i.finished_at).unwrap_or_default();
            out.write_public(prometheus::render(id, &finished, &metrics).as_bytes())?;
        }
        for w in degraded::warnings(&metrics.population, self.max_unseen_share) {
            warning_line(&format!("snapshot {id}: {w}."));
        }
        if self.args.fail_if.is_empty() && self.args.warn_if.is_empty() {
            return Ok(0);
        }
        let previous = trend::previous(store, id)?;
        let before = previous.map(|p| store.metrics(p)).transpose()?;
        let mut code = 0;
        for (flag, rules, exit) in [
            ("--fail-if", &self.args.fail_if, EXIT_FAIL_IF),
            ("--warn-if", &self.args.warn_if, EXIT_WARN_IF),
        ] {
            for r in rules {
                let against = match (r.change, previous) {
                    (true, Some(p)) => format!(" (snapshot {id} against {p})"),
                    _ => format!(" (snapshot {id})"),
                };
                match r.check(&metrics, before.as_ref(), weight) {
                    Outcome::Triggered(v) => {
                        let line = format!("{flag} '{}': {} is {}{against}", r.text, r.name, figure(v));
                        rule_line(&line, exit == EXIT_FAIL_IF);
                        if code == 0 {
                            code = exit;
                        }
                    }
                    Outcome::Clear(_) => {}
                    Outcome::Unchecked(why) => rule_line(&format!("{flag} '{}': not checked: {why}", r.text), false),
                }
            }
        }
        Ok(code)
    }
}
