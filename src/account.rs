//! What the crawl keeps about an account and about a follow list.
//!
//! Both come from two sources (Mastodon's REST API and ActivityPub) and end up in one shape,
//! so everything downstream (grouping, attribution, later snapshots) reads one type.

use serde::{Deserialize, Serialize};

use crate::handle::InstanceHost;

/// One account met in a follow list (or a seed account).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// `@user@domain` when known (the handle domain may differ from `server`).
    pub handle: Option<String>,
    /// The host of the account's actor URI: the instance that serves it.
    pub server: Option<InstanceHost>,
    pub actor_uri: Option<String>,
    pub display_name: Option<String>,
    pub bot: Option<bool>,
    /// Where the account moved to (REST `moved`, ActivityPub `movedTo`).
    pub moved_to: Option<String>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub noindex: Option<bool>,
    pub hide_collections: Option<bool>,
    pub followers_count: Option<u64>,
    pub following_count: Option<u64>,
    /// The bio carries `#nobot` or `#noindex`.
    pub nobot_tag: bool,
    /// When the account last posted, as the server says (Mastodon REST `last_status_at`, a
    /// `YYYY-MM-DD` date; some servers send a full timestamp). `None` when the server does not say.
    #[serde(default)]
    pub last_status_at: Option<String>,
    /// Why the account's own details could not be fetched, when they could not.
    pub fetch_error: Option<String>,
}

impl Account {
    /// Whether the account's owner lets crawlers expand it (crawl its own follows).
    /// Accounts that opt out are still counted in aggregates.
    pub fn may_expand(&self) -> bool {
        self.noindex != Some(true)
            && self.indexable != Some(false)
            && self.discoverable != Some(false)
            && !self.nobot_tag
    }
}

/// Whether a bio opts out of bots with `#nobot` or `#noindex`.
pub fn bio_opts_out(bio: &str) -> bool {
    let lower = bio.to_lowercase();
    ["#nobot", "#noindex"].iter().any(|tag| {
        lower.match_indices(tag).any(|(i, _)| {
            let after = lower[i + tag.len()..].chars().next();
            !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// Which list of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Following,
    Followers,
}

impl Direction {
    /// The path segment both APIs use.
    pub fn segment(self) -> &'static str {
        match self {
            Direction::Following => "following",
            Direction::Followers => "followers",
        }
    }
}

/// How completely a follow list could be seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ListStatus {
    /// Every page was read.
    Complete,
    /// The owner hides the list; `unseen` accounts are declared but not listed.
    Hidden { unseen: Option<u64> },
    /// The server refused us (authorized fetch, robots.txt, API closed to the public).
    Refused { reason: String },
    /// Some pages were read, then something stopped the walk.
    Partial { reason: String },
}

/// A follow list as far as it could be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowList {
    pub direction: Direction,
    /// `mastodon-api` or `activitypub`.
    pub source: String,
    /// The count the server declares (`following_count` / `totalItems`).
    pub declared: Option<u64>,
    pub status: ListStatus,
    pub accounts: Vec<Account>,
    /// Pages fetched.
    pub pages: u32,
}

impl FollowList {
    /// An empty list in `status`.
    pub fn empty(direction: Direction, source: &str, declared: Option<u64>, status: ListStatus) -> Self {
        FollowList {
            direction,
            source: source.to_string(),
            declared,
            status,
            accounts: vec![],
            pages: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobot_tags_are_whole_words() {
        assert!(bio_opts_out("<p>Artist. #NoBot please</p>"));
        assert!(bio_opts_out("#noindex"));
        assert!(!bio_opts_out("#nobotany fan"));
        assert!(!bio_opts_out("bots welcome"));
    }

    #[test]
    fn opt_outs_block_expansion() {
        let base = Account::default();
        assert!(base.may_expand());
        for a in [
            Account {
                noindex: Some(true),
                ..base.clone()
            },
            Account {
                indexable: Some(false),
                ..base.clone()
            },
            Account {
                discoverable: Some(false),
                ..base.clone()
            },
            Account {
                nobot_tag: true,
                ..base.clone()
            },
        ] {
            assert!(!a.may_expand(), "{a:?}");
        }
    }
}
