//! `whohosts diff A B`: what changed between two stored snapshots, as text or JSON: two
//! follows snapshots, two contacts snapshots or two surveys (their own comparisons).

use std::path::Path;

use super::print;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::format::Format;
use crate::report::contacts_diff::ContactsDiff;
use crate::report::diff::{self, Diff};
use crate::report::survey_diff;
use crate::store::{self, Store};

/// `diff` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The earlier snapshot (see `whohosts snapshots`)
    #[arg(value_name = "A", value_parser = super::usage::whole::<i64>)]
    pub from: i64,
    /// The later snapshot
    #[arg(value_name = "B", value_parser = super::usage::whole::<i64>)]
    pub to: i64,
    #[command(flatten)]
    pub scope: super::report::Scope,
    /// Output format
    #[arg(long, value_parser = super::formats::diff(), default_value = "text")]
    pub format: Format,
}

/// Run `diff`.
///
/// # Errors
/// [`crate::error::Error::Store`] when a snapshot does not exist; [`Error::Usage`] for one
/// snapshot given twice, or two snapshots of different kinds or weights; database errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    if args.from == args.to {
        return Err(Error::Usage(format!(
            "diff {0} {0}: a snapshot compared with itself has no changes: give two different snapshots",
            args.from
        )));
    }
    let store = Store::open_read_only(&store::database_path(db, config))?;
    let contacts = crate::report::contacts_diff::KIND;
    let kinds = (store.kind(args.from)?, store.kind(args.to)?);
    match (kinds.0.as_deref(), kinds.1.as_deref()) {
        (Some(a), Some(b)) if a == contacts && b == contacts => {
            let d = ContactsDiff::between(&store, args.from, args.to)?;
            args.scope
                .refuse_weight(args.from, &super::report::contacts_weighed(&d.weight))?;
            let text = crate::report::contacts_diff::render(&d, args.format)?;
            store.check_unchanged()?;
            print(&text)?;
            return Ok(0);
        }
        (Some(a), Some(b)) if a == survey_diff::KIND && b == survey_diff::KIND => {
            args.scope.refuse_weight(args.from, super::report::SURVEY_WEIGHED)?;
            args.scope.refuse_by(args.from, super::report::SURVEY_LEVELS)?;
            let d = survey_diff::SurveyDiff::between(&store, args.from, args.to)?;
            let text = survey_diff::render(&d, args.format)?;
            store.check_unchanged()?;
            print(&text)?;
            return Ok(0);
        }
        (Some(a), Some(b)) if a != b => {
            let what = store::kinds::snapshot_words;
            return Err(Error::Usage(format!(
                "snapshot {} is {} and snapshot {} {}: a diff compares two of one kind",
                args.from,
                what(a),
                args.to,
                what(b)
            )));
        }
        _ => {}
    }
    let d = Diff::between(&store, args.from, args.to, &args.scope.levels(), args.scope.weight())?;
    let text = diff::render(&d, args.format)?;
    store.check_unchanged()?;
    print(&text)?;
    Ok(0)
}
