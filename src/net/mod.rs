//! The network layer: the safe, polite client every request goes through.
//!
//! # Architecture
//! [`dns`] resolves names (one resolver for the client and attribution, the address policy
//! enforced where addresses enter the client); [`ratelimit`] keeps each host's limiters,
//! concurrency cap and announced back-off; [`http`] sends, retries, follows redirects by hand
//! and reads bounded bodies; [`fanout`] is the one bounded fan-out every concurrent stage
//! uses; [`progress`] is how long work reports what it does, to whatever the caller shows.
//! `net` knows no protocol: it moves bytes for the layers above.

pub mod dns;
pub mod fanout;
pub mod http;
pub mod progress;
pub mod ratelimit;
