//! whohosts: how concentrated is a social graph?
//!
//! Give it fediverse handles; it walks their follow lists (WebFinger, Mastodon REST,
//! ActivityPub), groups the accounts by instance, then by who hosts each instance (autonomous
//! system, IP range, organisation, CDN).
//!
//! # Architecture
//! - [`handle`], [`config`], [`error`]: the edges: validated input, configuration, errors.
//! - [`dns`], [`ratelimit`], [`http`]: the safe, polite network layer every request uses.
//! - [`webfinger`], [`mastodon`], [`activitypub`], [`nodeinfo`]: one module per protocol;
//!   [`pager`] walks the paged lists of both; [`bio`] reads bios as text for opt-outs.
//! - [`fanout`]: the bounded, panic-proof fan-out every concurrent stage uses.
//! - [`crawl`]: the crawl over a [`crawl::Frontier`] of work, producing a [`crawl::CrawlReport`].
//! - [`asn`], [`org`], [`attribution`]: from host to addresses, AS, range and organisation.
//! - [`metrics`]: the concentration metrics of every level and weight (one implementation).
//! - [`report`]: the printed and JSON summaries.
//! - [`store`]: every crawl kept as a snapshot in SQLite (one writer, resumable, locked);
//!   [`pipeline`]: crawl → attribute → store, the one path `crawl`, `demo`, benchmarks and
//!   tests take.
//! - [`export`]: stored snapshots as pseudonymised research files (CSV/Parquet + Data Package).
//! - [`cli`]: the subcommands, one file each; `main.rs` only wires them up.
//!
//! The simulated fediverse (HTTP + DNS on loopback) used by tests, benchmarks, `whohosts demo`
//! and `whohosts sim` is a crate of its own, `whohosts-sim` (the `sim` feature, on by default);
//! [`config::Config::loopback`] points the client at it.

pub mod attribution;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod error;
pub mod export;
pub mod metrics;
pub mod model;
pub mod net;
pub mod pipeline;
pub mod protocol;
pub mod query;
pub mod report;
pub mod store;

pub use error::{Error, Result};
