//! Integration tests: the real `whohosts` binary against the simulated fediverse.
//! One test binary (faster to build and link), one module per area.

mod asn;
mod attribution;
mod cli;
mod common;
mod crawl;
mod faults;
mod hostile;
mod hostile_lists;
mod newuser;
mod polish;
mod politeness;
mod seeds;
mod setup;
mod tls;
