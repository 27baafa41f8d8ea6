//! The tables of an export: their fields (names, types, descriptions) and keys.
//!
//! Rows are filled by [`super::rows`] and [`super::measures`]; this file is the data
//! dictionary that `datapackage.json` and the README.md of every export are written from.

use super::table::{field, required, Kind::*, Table};

const SNAP: &[&str] = &["snapshot_id"];

/// Every table, empty, in the order they are written.
pub fn all() -> Vec<Table> {
    vec![
        snapshots(),
        seeds(),
        lists(),
        instances(),
        accounts(),
        follows(),
        opted_out(),
        dns_answers(),
        addresses(),
        host_shares(),
        population(),
        metric_summary(),
        metric_buckets(),
        metric_apart(),
    ]
}

pub fn snapshots() -> Table {
    Table::new("snapshots", "One crawl or survey (a snapshot of the source database), with how it was made.", vec![
        required("snapshot_id", Integer, "The snapshot's id in the source database; the same in every export of it."),
        required("kind", String, "What was measured: `follows` (a crawl), `instances` (a survey of an instance list, `whohosts instances --db`: its instances in `instances`, its figures in `population`, its metrics under the `instances`, `users` and `active` weights) or `contacts` (`whohosts contacts`; its rows are in `contact_domains` and `contacts`)."),
        required("status", String, "Always `complete`: only complete snapshots are exported."),
        required("started_at", Datetime, "When the crawl started (UTC)."),
        required("finished_at", Datetime, "When the crawl finished (UTC)."),
        required("tool", String, "The whohosts version that crawled."),
        required("address_policy", String, "Which addresses of a host count: `split` (all, the host's weight split evenly between their organisations), `ipv4` (IPv4 only, IPv6 when a host has none) or `first` (the address connected to)."),
        required("online_fallback", Boolean, "Whether addresses were attributed by Team Cymru's DNS service for want of a database."),
        field("asn_database_file", String, "File name of the IP-to-ASN database used (null: none)."),
        field("asn_database_format", String, "Its format (`ip-location-db-csv`, `iptoasn-tsv`, `mmdb`)."),
        field("asn_database_sha256", String, "SHA-256 of the database file."),
        field("asn_database_date", Datetime, "The database's date (UTC): its own build date when the data states one, else the file's modification date (`asn_database_date_source`); the oldest when several files were used."),
        field("asn_database_date_source", String, "`data` (the database's own build date) or `file` (the file's date: the data states none)."),
        field("asn_database_licence", String, "Credits and licence of the ASN data, as recorded (`not stated` when unknown)."),
        field("asn_ranges_v4", Integer, "IPv4 ranges in the database."),
        field("asn_ranges_v6", Integer, "IPv6 ranges in the database."),
        required("requests", Integer, "HTTP requests the crawl made."),
        required("retries", Integer, "Requests retried (429, 502, 503)."),
        required("seeds_omitted", Integer, "Seeds left out of `seeds` because their account opted out of crawlers."),
    ], SNAP)
}

pub fn seeds() -> Table {
    Table::new(
        "seeds",
        "Each account whose lists were crawled and what became of it: a seed the command named (depth 0), then, in a crawl with --depth 2 or more, each account it expanded (depth 1 and beyond).",
        vec![
            required("snapshot_id", Integer, "The snapshot."),
            required("position", Integer, "Order of the seed in the command (0 first); the accounts a deeper crawl expanded follow, in the order they were reached."),
            required(
                "seed",
                String,
                "The seed: its pseudonym, or its handle with --include-handles.",
            ),
            field(
                "account",
                String,
                "The seed account's pseudonym (as in `accounts.account`); null when it did not resolve.",
            ),
            field("instance", String, "The seed's instance (generalised when small)."),
            required(
                "outcome",
                String,
                "`crawled`, `duplicate` (another seed named the same account) or `failed`.",
            ),
            field("duplicate_of", Integer, "Position of the seed this one duplicates."),
            field("failure_kind", String, "Why the seed failed, one kind per cause."),
            field(
                "failure_message",
                String,
                "The failure message (only with --include-handles: it names hosts).",
            ),
            required(
                "depth",
                Integer,
                "0 for a seed the command named; for an account a deeper crawl expanded, how many lists away from a seed it was first listed (1: in a seed's list).",
            ),
        ],
        &["snapshot_id", "position"],
    )
    .references(SNAP, "snapshots", SNAP)
    .references(&["snapshot_id", "instance"], "instances", &["snapshot_id", "instance"])
}

pub fn lists() -> Table {
    Table::new("lists", "Each follow list of a seed and how much of it could be seen.", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("seed_position", Integer, "The seed or expanded account whose list it is (`seeds.position`)."),
        required("direction", String, "`following` or `followers`."),
        required("source", String, "`mastodon-api` or `activitypub`."),
        field("declared", Integer, "How many accounts the server declares."),
        required("status", String, "`complete`, `hidden` (by its owner), `not-exposed` (the server declares a count but lists no items), `refused` (authorized fetch, robots.txt, opted-out owner …) or `partial`."),
        field("failure_kind", String, "For refused and partial lists, the cause: robots, opted_out, authorized_fetch, page_cap, account_cap, loop, no_progress, bad_next, page_failed, foreign_page."),
        field("unseen", Integer, "Accounts a hidden or not-exposed list declares but does not show."),
        field("reason", String, "Why it was refused or partial (only with --include-handles)."),
        required("pages", Integer, "Pages fetched."),
        required("rows", Integer, "Rows of this list in `follows`."),
        required("opted_out", Integer, "Accounts listed that opted out of crawlers: counted here, never rows."),
    ], &["snapshot_id", "seed_position", "direction"])
    .references(&["snapshot_id", "seed_position"], "seeds", &["snapshot_id", "position"])
}

pub fn instances() -> Table {
    Table::new("instances", "Each instance of a snapshot; instances too small to be anonymous are merged into one row per AS.", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("instance", String, "The instance host, or `small instance in AS<n>` / `small instance, AS unknown` for instances under the minimum group size (fewer than min_group_members accounts or min_instance_users users, or of unknown size), or `(small groups)` for those whose AS group is under it too."),
        required("generalised", Boolean, "Whether this row merges small instances."),
        required("members", Integer, "Instances this row stands for (1 unless generalised)."),
        required("accounts", Integer, "Distinct accounts listed on it, opted-out ones included (the `accounts` weight)."),
        field("software", String, "NodeInfo software name (null when generalised)."),
        field("version", String, "NodeInfo software version (null when generalised)."),
        field("users_total", Integer, "NodeInfo `usage.users.total` (null when unknown or generalised)."),
        field("users_active_month", Integer, "NodeInfo `usage.users.activeMonth` (null when unknown or generalised)."),
        field("nodeinfo_failure_kind", String, "Why NodeInfo could not be read (null when generalised)."),
        required("bots", Integer, "Accounts of `accounts` on it that say they are bots (opted-out ones are not counted)."),
    ], &["snapshot_id", "instance"])
    .references(SNAP, "snapshots", SNAP)
}

pub fn accounts() -> Table {
    Table::new("accounts", "Each distinct account listed in a snapshot, except those that opted out of crawlers.", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("account", String, "Pseudonym of the account (keyed HMAC of its actor URI, else handle): the same in every snapshot and export of one database."),
        field("handle", String, "Pseudonym of the handle, or the handle with --include-handles."),
        field("actor_uri", String, "Pseudonym of the actor URI, or the URI with --include-handles."),
        field("display_name", String, "Pseudonym of the display name, or the name with --include-handles."),
        field("instance", String, "The instance serving it (generalised when small); null when unknown."),
        field("bot", Boolean, "The account says it is a bot: only with --precise (beside its instance it singles an account out); null by default, when `instances.bots` counts them."),
        field("moved_to", String, "Where it moved: the target's account pseudonym (its URI with --include-handles)."),
        field("hide_collections", Boolean, "It hides its own follow lists."),
        field("followers_count", Integer, "Followers, as its server says (at most 2^63-1); by default the lower bound of its band (0, 1 for 1–9, 10, 100, 1000 for 1000 or more), exact with --precise (`whohosts.precise` in datapackage.json)."),
        field("following_count", Integer, "Follows, as its server says; banded like `followers_count` unless --precise."),
        field("last_status_at", String, "ISO week of its last post (`2026-W47`) by default; with --precise the day (or time) its server says (ISO 8601). Null when the server sent no date."),
        required("fetch_failed", Boolean, "Its actor could not be fetched."),
    ], &["snapshot_id", "account"])
    .references(&["snapshot_id", "instance"], "instances", &["snapshot_id", "instance"])
}

pub fn follows() -> Table {
    Table::new("follows", "Each follow edge: an account in a seed's list (edges to opted-out accounts are counted in `lists.opted_out` and `opted_out`, not listed).", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("seed_position", Integer, "The seed or expanded account whose list it is (`seeds.position`)."),
        required("direction", String, "`following` or `followers`."),
        required("position", Integer, "Order in the list among the rows exported (0 first)."),
        required("account", String, "The account (`accounts.account`)."),
    ], &["snapshot_id", "seed_position", "direction", "position"])
    .references(&["snapshot_id", "seed_position", "direction"], "lists", &["snapshot_id", "seed_position", "direction"])
    .references(&["snapshot_id", "account"], "accounts", &["snapshot_id", "account"])
}

pub fn opted_out() -> Table {
    Table::new("opted_out", "Accounts that opted out of crawlers (noindex, indexable false, discoverable false, #nobot/#noindex), counted per instance: never rows.", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("instance", String, "The instance (generalised when small), or `(small groups)`: every instance with fewer than min_group_members opted-out accounts, merged; that row is left out when it is under the minimum too (the snapshot's total is `population.accounts_opted_out`)."),
        required("accounts", Integer, "Distinct opted-out accounts on it (at least min_group_members)."),
        required("edges", Integer, "Follow edges (seed → account, per direction) to them."),
    ], &["snapshot_id", "instance"])
    .references(SNAP, "snapshots", SNAP)
}

pub fn dns_answers() -> Table {
    Table::new(
        "dns_answers",
        "The DNS answer of each instance host (one row per member of a generalised instance; none for the members of `(small groups)`, whose answers would name their hosting).",
        vec![
            required("snapshot_id", Integer, "The snapshot."),
            required("instance", String, "The instance (generalised when small)."),
            required(
                "member",
                Integer,
                "Which host of a generalised instance (1 … members, in no meaningful order); 1 otherwise.",
            ),
            field(
                "cname_chain",
                String,
                "CNAMEs followed, as a JSON array (null when generalised: it names the host).",
            ),
            required("ttl", Integer, "Smallest TTL of the answers, seconds."),
            required(
                "resolved",
                Boolean,
                "Whether the name resolved to at least one address.",
            ),
            field("error", String, "The DNS error (only with --include-handles)."),
            field(
                "connected_address",
                String,
                "The address the crawler connected to (null when generalised).",
            ),
            field(
                "hosting_service",
                String,
                "Managed-hosting service named in the CNAME chain.",
            ),
        ],
        &["snapshot_id", "instance", "member"],
    )
    .references(&["snapshot_id", "instance"], "instances", &["snapshot_id", "instance"])
}

pub fn addresses() -> Table {
    Table::new(
        "addresses",
        "Each address of each instance host, with who hosts it.",
        vec![
            required("snapshot_id", Integer, "The snapshot."),
            required("instance", String, "The instance (generalised when small)."),
            required("member", Integer, "As in `dns_answers`."),
            required("position", Integer, "Order among the host's addresses (0 first)."),
            field("ip", String, "The address (null when generalised)."),
            required("ip_version", Integer, "4 or 6."),
            field("asn", Integer, "Autonomous system number (null: no AS found)."),
            field("as_name", String, "AS name in the database."),
            required(
                "organisation",
                String,
                "Hosting organisation (ASNs of one company merged).",
            ),
            field(
                "cdn",
                String,
                "The CDN this address is an edge of; the host is then credited to `behind CDN X, origin unknown`.",
            ),
            field(
                "range_start",
                String,
                "First address of the database range holding it (null when generalised).",
            ),
            field(
                "range_end",
                String,
                "Last address of that range (null when generalised).",
            ),
            field(
                "cidr",
                String,
                "Largest CIDR block inside the range holding the address (null when generalised).",
            ),
            field(
                "block",
                String,
                "Covering /24 (IPv4) or /48 (IPv6) (null when generalised).",
            ),
            field("country", String, "Country code, when the database has it."),
            required("source", String, "Which database or service said so."),
        ],
        &["snapshot_id", "instance", "member", "position"],
    )
    .references(
        &["snapshot_id", "instance", "member"],
        "dns_answers",
        &["snapshot_id", "instance", "member"],
    )
}

pub fn host_shares() -> Table {
    Table::new("host_shares", "How each instance's weight is shared between hosting buckets (organisation, or `behind CDN X, origin unknown`) under the address policy; sums to 1 per instance. A generalised instance's shares are its members' weighted by their accounts; `(small groups)` has none (its shares would name its members' AS).", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("instance", String, "The instance (generalised when small)."),
        required("bucket", String, "Organisation bucket; `(unresolved)` and `(no AS found)` are counted apart in the metrics."),
        required("share", Number, "Fraction of the instance's weight, 0–1."),
    ], &["snapshot_id", "instance", "bucket"])
    .references(&["snapshot_id", "instance"], "instances", &["snapshot_id", "instance"])
}

pub fn population() -> Table {
    Table::new(
        "population",
        "Who and what each snapshot counted, and what it could not (hidden, refused, opted out, unresolved …).",
        vec![
            required("snapshot_id", Integer, "The snapshot."),
            required("name", String, "The figure (see the README's population section)."),
            required("value", Integer, "Its value."),
        ],
        &["snapshot_id", "name"],
    )
    .references(SNAP, "snapshots", SNAP)
}

const LW: &[&str] = &["snapshot_id", "level", "weight"];

pub fn metric_summary() -> Table {
    Table::new("metric_summary", "Concentration at each level under each weight, as stored by the crawl (instance level re-bucketed after generalisation).", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("level", String, "`instance`, `organisation`, `as`, `range`, `block`, `country` or `hosting`; for a contacts snapshot `protocol`, `domain`, `server`, `provider`, `gateway`, `organisation`, `as` or `country`."),
        required("weight", String, "`accounts`, `edges`, `instances`, `users` or `active`; for a contacts snapshot `contacts` or `messages`."),
        required("total", Number, "Total weight W placed in buckets."),
        required("buckets", Integer, "Number of buckets."),
        required("top1", Number, "Share of the largest bucket, 0–1."),
        required("top3", Number, "Share of the 3 largest."),
        required("top5", Number, "Share of the 5 largest."),
        required("top10", Number, "Share of the 10 largest."),
        required("k50", Integer, "Fewest buckets reaching 50 % (within 1e-9): the Nakamoto coefficient."),
        required("k75", Integer, "Fewest buckets reaching 75 %."),
        required("hhi", Number, "Herfindahl–Hirschman index, Σ (100·share)², 0–10,000."),
        required("band", String, "`unconcentrated` (< 1,000), `moderate` (1,000–1,800) or `high` (> 1,800)."),
        required("entropy", Number, "Shannon entropy of the shares, nats."),
        required("effective", Number, "e^entropy: the number of equal buckets with that entropy."),
        required("gini", Number, "Gini coefficient of the bucket weights, 0–1."),
        required("rebucketed", Boolean, "Whether this level's `metric_buckets` were merged or generalised (small instances, groups under the minimum size): the figures here are those of every bucket, as the report states them, and the published buckets do not recompute them."),
    ], LW)
    .references(SNAP, "snapshots", SNAP)
}

pub fn metric_buckets() -> Table {
    Table::new("metric_buckets", "Each bucket's weight and share at a level under a weight, largest first.", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("level", String, "The level."),
        required("weight", String, "The weight."),
        required("rank", Integer, "1 = largest (ties by key)."),
        required("key", String, "The bucket: instance (generalised when small), organisation, `AS<n>`, range, block, country or service; `(small groups)` merges every bucket under the minimum group size (see Privacy)."),
        required("label", String, "What a person reads."),
        required("amount", Number, "Its weight."),
        required("share", Number, "amount / total, 0–1."),
    ], &["snapshot_id", "level", "weight", "rank"])
    .references(LW, "metric_summary", LW)
}

pub fn metric_apart() -> Table {
    Table::new("metric_apart", "Weight a level could not place, by reason (`no server`, `unresolved`, `no AS`, `no nodeinfo` …): counted apart, never dropped.", vec![
        required("snapshot_id", Integer, "The snapshot."),
        required("level", String, "The level."),
        required("weight", String, "The weight."),
        required("what", String, "The reason; `small groups`: the merged small buckets, themselves under the minimum group size, not published."),
        required("amount", Number, "Weight counted apart (instances for `no nodeinfo` / `no user count`)."),
    ], &["snapshot_id", "level", "weight", "what"])
    .references(LW, "metric_summary", LW)
}
