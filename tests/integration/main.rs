//! Integration tests: the real `whohosts` binary against the simulated fediverse.
//! One test binary (faster to build and link), one module per area.

mod asn;
mod attribution;
mod cli;
mod common;
mod crawl;
mod export;
mod export_output;
mod export_privacy;
mod export_tools;
mod faults;
mod politeness;
mod queries;
mod resume;
mod seeds;
mod store;
mod timeline;
mod tls;
