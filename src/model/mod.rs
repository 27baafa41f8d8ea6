//! Pure data: what every stage reads and writes, with no I/O.
//!
//! # Architecture
//! [`handle`] holds the validated inputs (handles, account references, instance hosts);
//! [`account`] what the crawl keeps about an account and a follow list. `model` imports
//! nothing of the crate but [`crate::error`]: every layer above may use it, and it knows of
//! none of them.

pub mod account;
pub mod handle;
