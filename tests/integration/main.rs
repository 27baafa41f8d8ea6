//! Integration tests: the real `whohosts` binary against the simulated fediverse.
//! One test binary (faster to build and link), one module per area.

mod alerts;
mod asn;
mod attribution;
mod cli;
mod common;
mod contacts;
mod crawl;
mod diff_causes;
mod export;
mod export_output;
mod export_privacy;
mod export_tools;
mod faults;
mod formats;
mod hostile;
mod hostile_lists;
mod html;
mod keepalive;
mod layers;
mod newuser;
mod opted_out;
mod origins;
mod polish;
mod politeness;
mod queries;
mod readonly;
mod report;
mod resume;
mod seeds;
mod series;
mod setup;
mod store;
mod terminal;
mod timeline;
mod tls;
