//! Writing a finished crawl's rows: seeds, lists, follow edges, accounts, instances, DNS,
//! addresses. Everything runs inside the caller's transaction.
//!
//! Accounts and instances are looked up before they are inserted (instances, and each
//! account state met, remembered for the rest of the snapshot), and an account's state is
//! stored once per distinct content: a repeat snapshot of an unchanged world adds only its
//! edges, lists, seeds and per-instance rows. An account's identity is looked up in the
//! database (its unique index) only when one of its states is new to this snapshot, so no
//! map of every account's URI and handle is held while a million rows are written.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;

use rusqlite::{params, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

use super::kinds;
use super::sql;
use crate::model::account::{Account, FollowList, ListStatus};
use crate::model::attribution::HostAttribution;
use crate::model::snapshot::Snapshot;
use crate::model::snapshot::{Failure, InstanceReport, SeedReport};

/// A `u64` as SQLite's signed integer (bit for bit; values past `i64::MAX` read back exactly).
pub fn u64_sql(n: u64) -> i64 {
    n as i64
}

/// Account states [`Keys`] keeps in memory at most: a snapshot of a million distinct
/// accounts would otherwise hold a key for each until it is stored.
const SEEN_CACHE: usize = 1 << 16;

/// Integer keys of instances and account states met so far in this transaction.
pub struct Keys<'t> {
    tx: &'t Transaction<'t>,
    instances: HashMap<String, i64>,
    /// Account states met lately, by a (keyed, in-memory) hash of identity and state: a cache
    /// of at most [`SEEN_CACHE`] states (emptied when full), sparing the look-ups of an
    /// account met again; a state not in it is looked up in the database.
    seen: HashMap<u64, i64>,
    hasher: RandomState,
    /// Accounts that opted out are stored through this ([`super::optout`]).
    opt_out: &'t super::optout::OptOut,
}

impl<'t> Keys<'t> {
    pub fn new(tx: &'t Transaction<'t>, opt_out: &'t super::optout::OptOut) -> Self {
        Keys {
            opt_out,
            tx,
            instances: HashMap::new(),
            seen: HashMap::new(),
            hasher: RandomState::new(),
        }
    }

    /// The transaction the rows go into.
    pub fn transaction(&self) -> &'t Transaction<'t> {
        self.tx
    }

    /// The key of instance `host`, inserting it when new.
    pub fn instance(&mut self, host: &str) -> rusqlite::Result<i64> {
        if let Some(id) = self.instances.get(host) {
            return Ok(*id);
        }
        let found = self
            .tx
            .prepare_cached(sql::INSTANCE_GET)?
            .query_row([host], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                self.tx.prepare_cached(sql::INSTANCE_PUT)?.execute([host])?;
                self.tx.last_insert_rowid()
            }
        };
        self.instances.insert(host.to_string(), id);
        Ok(id)
    }

    /// The key of `account`'s identity, inserting it when new.
    fn account(&mut self, a: &Account) -> rusqlite::Result<i64> {
        let instance = match &a.server {
            Some(s) => self.instance(s.as_str())?,
            None => 0,
        };
        let (uri, handle) = (
            a.actor_uri.as_deref().unwrap_or_default(),
            a.handle.as_deref().unwrap_or_default(),
        );
        let found = self
            .tx
            .prepare_cached(sql::ACCOUNT_GET)?
            .query_row(params![uri, handle, instance], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                let server = (instance != 0).then_some(instance);
                self.tx
                    .prepare_cached(sql::ACCOUNT_PUT)?
                    .execute(params![a.actor_uri, a.handle, server])?;
                self.tx.last_insert_rowid()
            }
        };
        Ok(id)
    }

    /// The key of `account` as seen now (identity and state), inserting what is new.
    /// An account that opted out is stored as [`super::optout::OptOut::redact`] leaves it.
    pub fn state(&mut self, a: &Account) -> rusqlite::Result<i64> {
        let opt_out = self.opt_out;
        let a = &*opt_out.redact(a);
        let whole = self.hasher.hash_one((
            (&a.actor_uri, &a.handle, a.server.as_ref().map(|s| s.as_str())),
            (&a.display_name, &a.moved_to, &a.fetch_error, &a.last_status_at),
            (
                a.bot,
                a.discoverable,
                a.indexable,
                a.noindex,
                a.hide_collections,
                a.nobot_tag,
            ),
            (a.followers_count, a.following_count),
        ));
        if let Some(id) = self.seen.get(&whole) {
            return Ok(*id);
        }
        let account = self.account(a)?;
        let digest = state_digest(a);
        let found = self
            .tx
            .prepare_cached(sql::STATE_GET)?
            .query_row(params![account, digest], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                let fetch_kind = a.fetch_error.as_deref().map(|m| kinds::failure_kind("actor_fetch", m));
                self.tx.prepare_cached(sql::STATE_PUT)?.execute(params![
                    account,
                    digest,
                    a.display_name,
                    a.bot,
                    a.moved_to,
                    a.discoverable,
                    a.indexable,
                    a.noindex,
                    a.hide_collections,
                    a.followers_count.map(u64_sql),
                    a.following_count.map(u64_sql),
                    a.nobot_tag,
                    a.fetch_error,
                    fetch_kind,
                    a.last_status_at,
                ])?;
                self.tx.last_insert_rowid()
            }
        };
        if self.seen.len() >= SEEN_CACHE {
            self.seen.clear();
        }
        self.seen.insert(whole, id);
        Ok(id)
    }
}

fn put_str(h: &mut Sha256, v: Option<&str>) {
    match v {
        None => h.update([0]),
        Some(s) => {
            h.update([1]);
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
}

fn put_num(h: &mut Sha256, v: Option<u64>) {
    match v {
        None => h.update([0]),
        Some(n) => {
            h.update([1]);
            h.update(n.to_le_bytes());
        }
    }
}

/// A hash of everything an account state holds, to store each distinct state once. The
/// encoding is fixed: states stored by earlier runs are found again.
pub(super) fn state_digest(a: &Account) -> i64 {
    let mut h = Sha256::new();
    put_str(&mut h, a.display_name.as_deref());
    put_str(&mut h, a.moved_to.as_deref());
    put_str(&mut h, a.fetch_error.as_deref());
    put_str(&mut h, a.last_status_at.as_deref());
    for flag in [
        a.bot,
        a.discoverable,
        a.indexable,
        a.noindex,
        a.hide_collections,
        Some(a.nobot_tag),
    ] {
        put_num(&mut h, flag.map(u64::from));
    }
    put_num(&mut h, a.followers_count);
    put_num(&mut h, a.following_count);
    let hash = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    i64::from_le_bytes(first)
}

/// Write every row of `snap` under snapshot `id`.
///
/// # Errors
/// SQLite errors.
pub fn snapshot_rows(keys: &mut Keys<'_>, id: i64, snap: &Snapshot) -> rusqlite::Result<()> {
    // Accounts a deeper crawl expanded are stored as seeds after the command's own (with
    // their depth), so their lists and follows are ordinary rows.
    for (position, seed) in snap.crawl.all().enumerate() {
        seed_rows(keys, id, position as i64, &seed)?;
    }
    let depth = snap.crawl.depth.as_ref().map(serde_json::to_string).transpose();
    let depth = depth.map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    keys.tx
        .execute("UPDATE snapshot SET depth = ?2 WHERE id = ?1", params![id, depth])?;
    // The frontier of a deeper crawl is done with (it named accounts opted out too).
    keys.tx.execute("DELETE FROM frontier WHERE snapshot_id = ?1", [id])?;
    for (host, report) in &snap.crawl.instances {
        instance_state(keys, id, host.as_str(), report)?;
    }
    for host in snap.hosts.values() {
        host_rows(keys, id, host)?;
    }
    for d in &snap.crawl.departures {
        keys.tx
            .prepare_cached(sql::DEPARTURE_PUT)?
            .execute(rusqlite::params![id, d.account, d.cause, d.moved_to])?;
    }
    super::rehash::opted_out_since(keys.tx, keys.opt_out, &opted_out_identities(snap))?;
    Ok(())
}

/// The actor URI and handle of every account `snap` found opted out (listed, an expanded
/// account's own profile, or a departed account's actor), as it was read: earlier snapshots
/// may have named it.
fn opted_out_identities(snap: &Snapshot) -> Vec<(Option<String>, Option<String>)> {
    let mut out = std::collections::BTreeSet::new();
    out.extend(snap.crawl.departures.iter().filter_map(|d| d.opted_out_since.clone()));
    for s in snap.crawl.all() {
        let lists = [&s.following, &s.followers].into_iter().flatten();
        for a in s.account.iter().chain(lists.flat_map(|l| l.accounts.iter())) {
            if !a.may_expand() && (a.actor_uri.is_some() || a.handle.is_some()) {
                out.insert((a.actor_uri.clone(), a.handle.clone()));
            }
        }
    }
    out.into_iter().collect()
}

fn failure_columns(f: Option<&Failure>) -> (Option<String>, Option<&str>, Option<&str>) {
    match f {
        Some(f) => (
            Some(kinds::failure_kind(&f.kind, &f.message)),
            Some(f.kind.as_str()),
            Some(f.message.as_str()),
        ),
        None => (None, None, None),
    }
}

fn seed_rows(keys: &mut Keys<'_>, id: i64, position: i64, s: &SeedReport) -> rusqlite::Result<()> {
    let opt_out = keys.opt_out;
    let s = &*opt_out.redact_seed(s);
    let server = s.server.as_ref().map(|h| keys.instance(h.as_str())).transpose()?;
    let state = s.account.as_ref().map(|a| keys.state(a)).transpose()?;
    let (kind, class, message) = failure_columns(s.error.as_ref());
    keys.tx.prepare_cached(sql::SEED_PUT)?.execute(params![
        id,
        position,
        s.input,
        s.handle,
        server,
        s.actor_uri,
        state,
        kind,
        class,
        message,
        s.duplicate_of,
        s.depth
    ])?;
    for list in [&s.following, &s.followers].into_iter().flatten() {
        list_rows(keys, id, position, list)?;
    }
    Ok(())
}

fn list_rows(keys: &mut Keys<'_>, id: i64, seed: i64, l: &FollowList) -> rusqlite::Result<()> {
    let (status, unseen, reason) = match &l.status {
        ListStatus::Complete => ("complete", None, None),
        ListStatus::Hidden { unseen } => ("hidden", *unseen, None),
        ListStatus::NotExposed { unseen } => ("not-exposed", *unseen, None),
        ListStatus::Refused { reason, .. } => ("refused", None, Some(reason.as_str())),
        ListStatus::Partial { reason, .. } => ("partial", None, Some(reason.as_str())),
    };
    let skipped = (!l.skipped.is_empty()).then(|| serde_json::to_string(&l.skipped).expect("skip counts serialise"));
    keys.tx.prepare_cached(sql::LIST_PUT)?.execute(params![
        id,
        seed,
        l.direction.segment(),
        l.source,
        l.declared.map(u64_sql),
        status,
        unseen.map(u64_sql),
        kinds::list_kind(&l.status),
        reason,
        l.pages,
        skipped
    ])?;
    let list = keys.tx.last_insert_rowid();
    let tx = keys.tx;
    let mut put = tx.prepare_cached(sql::FOLLOW_PUT)?;
    for (position, a) in l.accounts.iter().enumerate() {
        let state = keys.state(a)?;
        put.execute(params![list, position as i64, state])?;
    }
    Ok(())
}

pub(super) fn instance_state(keys: &mut Keys<'_>, id: i64, host: &str, r: &InstanceReport) -> rusqlite::Result<()> {
    let instance = keys.instance(host)?;
    let n = r.nodeinfo.as_ref();
    let (kind, class, message) = failure_columns(r.nodeinfo_error.as_ref());
    keys.tx.prepare_cached(sql::INSTANCE_STATE_PUT)?.execute(params![
        id,
        instance,
        u64_sql(r.accounts),
        r.connected_address.map(|a| a.to_string()),
        n.map(|n| &n.schema),
        n.and_then(|n| n.software.as_ref()),
        n.and_then(|n| n.version.as_ref()),
        n.and_then(|n| n.users_total).map(u64_sql),
        n.and_then(|n| n.users_active_month).map(u64_sql),
        kind,
        class,
        message
    ])?;
    Ok(())
}

pub(super) fn host_rows(keys: &mut Keys<'_>, id: i64, h: &HostAttribution) -> rusqlite::Result<()> {
    let instance = keys.instance(&h.host)?;
    let chain = serde_json::to_string(&h.cnames).expect("strings serialise");
    keys.tx.prepare_cached(sql::DNS_ANSWER_PUT)?.execute(params![
        id,
        instance,
        chain,
        h.dns_ttl,
        h.dns_error.as_deref().map(kinds::dns_kind),
        h.dns_error,
        h.connected.map(|a| a.to_string()),
        h.hosting_service
    ])?;
    for (position, a) in h.addresses.iter().enumerate() {
        keys.tx.prepare_cached(sql::ADDRESS_PUT)?.execute(params![
            id,
            instance,
            position as i64,
            a.ip.to_string(),
            a.asn,
            a.as_name,
            a.organisation,
            a.cdn,
            a.range_start.map(|x| x.to_string()),
            a.range_end.map(|x| x.to_string()),
            a.cidr.map(|x| x.to_string()),
            a.cover.to_string(),
            a.country,
            a.source,
            a.lookup_error
        ])?;
    }
    for (bucket, share) in &h.shares {
        keys.tx
            .prepare_cached(sql::HOST_SHARE_PUT)?
            .execute(params![id, instance, bucket, share])?;
    }
    Ok(())
}

/// The key of an ASN database description, inserting it when new.
///
/// # Errors
/// SQLite errors.
pub fn asn_database(tx: &Transaction<'_>, d: &crate::model::attribution::DbInfo) -> rusqlite::Result<i64> {
    let values = params![
        d.sha256,
        d.file,
        d.format,
        d.date,
        d.licence,
        d.ranges_v4 as i64,
        d.ranges_v6 as i64,
        u64_sql(d.skipped_lines),
        serde_json::to_string(&d.skipped_by_file).expect("counts serialise")
    ];
    let found = tx
        .prepare_cached(sql::ASN_DATABASE_GET)?
        .query_row(values, |r| r.get(0))
        .optional()?;
    match found {
        Some(id) => Ok(id),
        None => {
            tx.prepare_cached(sql::ASN_DATABASE_PUT)?.execute(values)?;
            Ok(tx.last_insert_rowid())
        }
    }
}
