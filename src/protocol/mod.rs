//! The protocols spoken to a server, one module each, over the [`crate::net`] client.
//!
//! # Architecture
//! [`webfinger`] turns a handle into its actor and server; [`mastodon`] reads the REST API's
//! accounts and paged lists; [`activitypub`] reads actors and their collections; [`nodeinfo`]
//! what software an instance runs and its users; [`pager`] is the one walker both paged
//! protocols share; [`bio`] reads a bio as its reader sees it, for opt-outs. Each turns
//! responses into [`crate::model`] values; none decides what to crawl next.

pub mod activitypub;
pub mod bio;
pub mod mastodon;
pub mod nodeinfo;
pub mod pager;
pub mod webfinger;
