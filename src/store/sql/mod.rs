//! The SQL the store runs, one statement (or one batch) per file in `src/store/sql/`.

/// `src/store/sql/account_get.sql`
pub const ACCOUNT_GET: &str = include_str!("account_get.sql");
/// `src/store/sql/account_put.sql`
pub const ACCOUNT_PUT: &str = include_str!("account_put.sql");
/// `src/store/sql/address_put.sql`
pub const ADDRESS_PUT: &str = include_str!("address_put.sql");
/// `src/store/sql/addresses_of.sql`
pub const ADDRESSES_OF: &str = include_str!("addresses_of.sql");
/// `src/store/sql/asn_database_get.sql`
pub const ASN_DATABASE_GET: &str = include_str!("asn_database_get.sql");
/// `src/store/sql/asn_database_put.sql`
pub const ASN_DATABASE_PUT: &str = include_str!("asn_database_put.sql");
/// `src/store/sql/dns_answer_put.sql`
pub const DNS_ANSWER_PUT: &str = include_str!("dns_answer_put.sql");
/// `src/store/sql/dns_answers_of.sql`
pub const DNS_ANSWERS_OF: &str = include_str!("dns_answers_of.sql");
/// `src/store/sql/follow_put.sql`
pub const FOLLOW_PUT: &str = include_str!("follow_put.sql");
/// `src/store/sql/follows_of.sql`
pub const FOLLOWS_OF: &str = include_str!("follows_of.sql");
/// `src/store/sql/host_share_put.sql`
pub const HOST_SHARE_PUT: &str = include_str!("host_share_put.sql");
/// `src/store/sql/host_shares_of.sql`
pub const HOST_SHARES_OF: &str = include_str!("host_shares_of.sql");
/// `src/store/sql/instance_get.sql`
pub const INSTANCE_GET: &str = include_str!("instance_get.sql");
/// `src/store/sql/instance_put.sql`
pub const INSTANCE_PUT: &str = include_str!("instance_put.sql");
/// `src/store/sql/instance_state_put.sql`
pub const INSTANCE_STATE_PUT: &str = include_str!("instance_state_put.sql");
/// `src/store/sql/instance_states_of.sql`
pub const INSTANCE_STATES_OF: &str = include_str!("instance_states_of.sql");
/// `src/store/sql/journal_delete.sql`
pub const JOURNAL_DELETE: &str = include_str!("journal_delete.sql");
/// `src/store/sql/journal_count.sql`
pub const JOURNAL_COUNT: &str = include_str!("journal_count.sql");
/// `src/store/sql/journal_get.sql`
pub const JOURNAL_GET: &str = include_str!("journal_get.sql");
/// `src/store/sql/journal_put.sql`
pub const JOURNAL_PUT: &str = include_str!("journal_put.sql");
/// `src/store/sql/list_put.sql`
pub const LIST_PUT: &str = include_str!("list_put.sql");
/// `src/store/sql/lists_of.sql`
pub const LISTS_OF: &str = include_str!("lists_of.sql");
/// `src/store/sql/prune_keep.sql`
pub const PRUNE_KEEP: &str = include_str!("prune_keep.sql");
/// `src/store/sql/prune_older.sql`
pub const PRUNE_OLDER: &str = include_str!("prune_older.sql");
/// `src/store/sql/prune_orphans.sql`
pub const PRUNE_ORPHANS: &str = include_str!("prune_orphans.sql");
/// `src/store/sql/prune_snapshot.sql`
pub const PRUNE_SNAPSHOT: &str = include_str!("prune_snapshot.sql");
/// `src/store/sql/seed_put.sql`
pub const SEED_PUT: &str = include_str!("seed_put.sql");
/// `src/store/sql/seed_accounts_of.sql`
pub const SEED_ACCOUNTS_OF: &str = include_str!("seed_accounts_of.sql");
/// `src/store/sql/seeds_of.sql`
pub const SEEDS_OF: &str = include_str!("seeds_of.sql");
/// `src/store/sql/snapshot_complete.sql`
pub const SNAPSHOT_COMPLETE: &str = include_str!("snapshot_complete.sql");
/// `src/store/sql/snapshot_failed.sql`
pub const SNAPSHOT_FAILED: &str = include_str!("snapshot_failed.sql");
/// `src/store/sql/snapshot_give_up.sql`
pub const SNAPSHOT_GIVE_UP: &str = include_str!("snapshot_give_up.sql");
/// `src/store/sql/snapshot_get.sql`
pub const SNAPSHOT_GET: &str = include_str!("snapshot_get.sql");
/// `src/store/sql/snapshot_latest_complete.sql`
pub const SNAPSHOT_LATEST_COMPLETE: &str = include_str!("snapshot_latest_complete.sql");
/// `src/store/sql/snapshot_list.sql`
pub const SNAPSHOT_LIST: &str = include_str!("snapshot_list.sql");
/// `src/store/sql/snapshot_new.sql`
pub const SNAPSHOT_NEW: &str = include_str!("snapshot_new.sql");
/// `src/store/sql/snapshot_resumable.sql`
pub const SNAPSHOT_RESUMABLE: &str = include_str!("snapshot_resumable.sql");
/// `src/store/sql/snapshot_counts.sql`
pub const SNAPSHOT_COUNTS: &str = include_str!("snapshot_counts.sql");
/// `src/store/sql/snapshot_sent.sql`
pub const SNAPSHOT_SENT: &str = include_str!("snapshot_sent.sql");
/// `src/store/sql/snapshot_status.sql`
pub const SNAPSHOT_STATUS: &str = include_str!("snapshot_status.sql");
/// `src/store/sql/state_get.sql`
pub const STATE_GET: &str = include_str!("state_get.sql");
/// `src/store/sql/state_put.sql`
pub const STATE_PUT: &str = include_str!("state_put.sql");
/// `src/store/sql/metric_population_put.sql`
pub const METRIC_POPULATION_PUT: &str = include_str!("metric_population_put.sql");
/// `src/store/sql/metric_summary_put.sql`
pub const METRIC_SUMMARY_PUT: &str = include_str!("metric_summary_put.sql");
/// `src/store/sql/metric_bucket_put.sql`
pub const METRIC_BUCKET_PUT: &str = include_str!("metric_bucket_put.sql");
/// `src/store/sql/metric_apart_put.sql`
pub const METRIC_APART_PUT: &str = include_str!("metric_apart_put.sql");
/// `src/store/sql/metric_population_of.sql`
pub const METRIC_POPULATION_OF: &str = include_str!("metric_population_of.sql");
/// `src/store/sql/metric_summary_of.sql`
pub const METRIC_SUMMARY_OF: &str = include_str!("metric_summary_of.sql");
/// `src/store/sql/metric_bucket_of.sql`
pub const METRIC_BUCKET_OF: &str = include_str!("metric_bucket_of.sql");
/// `src/store/sql/metric_apart_of.sql`
pub const METRIC_APART_OF: &str = include_str!("metric_apart_of.sql");
/// `src/store/sql/snapshot_resume.sql`
pub const SNAPSHOT_RESUME: &str = include_str!("snapshot_resume.sql");
/// `src/store/sql/snapshot_status_of.sql`
pub const SNAPSHOT_STATUS_OF: &str = include_str!("snapshot_status_of.sql");

/// A departure of a snapshot (see migration 0004).
pub const DEPARTURE_PUT: &str =
    "INSERT OR REPLACE INTO departure (snapshot_id, account, cause, moved_to) VALUES (?1, ?2, ?3, ?4)";
/// The departures of a snapshot.
pub const DEPARTURES_OF: &str =
    "SELECT account, cause, moved_to FROM departure WHERE snapshot_id = ?1 ORDER BY account";
