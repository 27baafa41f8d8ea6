//! Pure data: what every stage reads and writes, with no I/O.
//!
//! # Architecture
//! [`handle`] holds the validated inputs (handles, account references, instance hosts);
//! [`account`] what the crawl keeps about an account and a follow list; [`snapshot`] a crawl
//! as stored (seeds, lists, instances) with [`attribution`]'s records of who hosts each host;
//! [`packed`] keeps a deeper crawl's expanded reports deflated in memory until they are stored;
//! [`contact`] an address on any network (e-mail, XMPP, Matrix, fediverse);
//! [`time`] is the one clock; [`text`] the one sanitiser of outside text for a terminal;
//! [`format`](mod@format) names the output formats answers are
//! written in. `model` imports nothing of the crate but [`crate::error`]: every layer above
//! may use it, and it knows of none of them.

pub mod account;
pub mod attribution;
pub mod contact;
pub mod format;
pub mod handle;
pub mod packed;
pub mod snapshot;
pub mod text;
pub mod time;
