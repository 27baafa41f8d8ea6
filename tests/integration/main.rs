//! Integration tests: the real `whohosts` binary against the simulated fediverse.
//! One test binary (faster to build and link), one module per area.

mod asn;
mod attribution;
mod cli;
mod common;
mod crawl;
mod faults;
mod formats;
mod html;
mod politeness;
mod queries;
mod report;
mod resume;
mod seeds;
mod store;
mod timeline;
mod tls;
