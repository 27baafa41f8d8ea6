//! whohosts: how concentrated is a social graph?
//!
//! Give it fediverse handles; it walks their follow lists (WebFinger, Mastodon REST,
//! ActivityPub), groups the accounts by instance, then by who hosts each instance (autonomous
//! system, IP range, organisation, CDN).
//!
//! # Architecture
//! One folder per stage of the pipeline, each a layer. A module imports only layers below
//! its own, never a peer on its line (`tests/integration/layers.rs` reads the sources and
//! fails on an import that points upward). Lowest first:
//!
//! 1. [`error`]: the one error type. Imports nothing of the crate.
//! 2. [`model`] and [`files`] (peers): pure data (handles, accounts, follow lists, the
//!    snapshot, attribution records, the clock, the one output-format type), importing only
//!    `error`, no I/O; and the one atomic writer every file whohosts replaces goes through.
//! 3. [`config`]: the configuration and its defaults.
//! 4. [`net`]: DNS, the safe polite HTTP client, per-host limits, the one bounded fan-out,
//!    progress as a trait the caller shows.
//! 5. [`protocol`]: WebFinger, Mastodon REST, ActivityPub, NodeInfo, the one pager, bios.
//! 6. [`crawl`], [`contacts`], [`instances`] and [`attribution`] (peers): from seeds to
//!    follow lists; from address books and mailboxes to contact addresses; from instance lists
//!    to each instance's NodeInfo and judged user counts; from hosts to AS, range,
//!    organisation and CDN, and from mail and chat servers to their providers and gateways.
//! 7. [`metrics`]: the concentration metrics of every level and weight (one implementation).
//! 8. [`store`]: snapshots in SQLite (one writer, resumable, locked).
//! 9. [`query`]: the shipped and ad-hoc SQL over a database the store wrote.
//! 10. [`report`] and [`export`] (peers): what a person reads; what a researcher receives.
//! 11. [`pipeline`]: crawl → attribute → store, built from a [`config::Config`]; the one path
//!     `crawl`, `demo`, benchmarks and tests take; contacts measured (served, attributed,
//!     weighed); instance lists surveyed (NodeInfo, attribution).
//! 12. [`cli`]: the subcommands, one file each; `main.rs` only wires them up.
//!
//! Invariants the test holds: `model` imports nothing of the crate but `error`; nothing below
//! `cli` knows about the terminal or the command line (no clap, no indicatif, no printing:
//! progress and notices go through [`net::progress`], which the CLI installs). The simulated
//! fediverse is the workspace crate `whohosts-sim`, which knows nothing of whohosts; whohosts
//! drives it for `demo`, `sim`, the tests and the benches (cargo feature `sim`, on by default).

pub mod attribution;
pub mod cli;
pub mod config;
pub mod contacts;
pub mod crawl;
pub mod error;
pub mod export;
pub mod files;
pub mod instances;
pub mod metrics;
pub mod model;
pub mod net;
pub mod pipeline;
pub mod protocol;
pub mod query;
pub mod report;
pub mod store;

pub use error::{Error, Result};
