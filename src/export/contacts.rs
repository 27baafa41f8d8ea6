//! Contacts snapshots in an export: who serves each domain (`contact_domains`) and each
//! contact under a pseudonym (`contacts`), with the minimum group size applied.
//!
//! The store keeps a contact only as a keyed hash of its address; the export gives the
//! pseudonym of that hash (`c-…`, under the export's key, so exports to two recipients cannot
//! be joined), whatever `--include-handles` says: the address is not there to include. A
//! domain with fewer contacts than `min_group_members` is not named: such domains are merged,
//! per protocol and who serves them, into one `(small domains)` row (its server left out when
//! it would name the domain); a merged row still under the minimum becomes `(small groups)`,
//! keeping only its protocol and whether its server was found. A named domain keeps the steps
//! taken to find its server; a merged row has none (they name the domain). Messages are banded as
//! follower counts are, unless `--precise`.

use std::collections::BTreeMap;

use super::measures::{level, small_groups, Ranking};
use super::privacy::MinGroup;
use super::pseudonym::Pseudonymiser;
use super::table::{count, field, required, Kind::*, Table, Value};
use super::{privacy::Privacy, Tables};
use crate::error::Result;
use crate::model::contact::{DomainRecord, Measurement};
use crate::store::Store;

/// `String` (the table kinds' `String` is in scope).
type Text = std::string::String;

/// The kind of snapshot these tables hold.
pub const KIND: &str = "contacts";

/// What a small domain is exported as.
pub const SMALL_DOMAINS: &str = "(small domains)";
/// What a group of small domains still under the minimum is exported as (the name every
/// level's merged small groups take).
pub use super::privacy::SMALL_GROUPS;

const KEY: &[&str] = &["snapshot_id", "protocol", "domain", "group"];

/// The tables, empty.
pub fn tables() -> Vec<Table> {
    vec![
        Table::new(
            "contact_domains",
            "Contacts snapshots: each domain (or Matrix server name) of the contacts and who serves it; domains with fewer contacts than the minimum group size merged.",
            vec![
                required("snapshot_id", Integer, "The contacts snapshot."),
                required("protocol", String, "`email`, `xmpp`, `matrix` or `fediverse`."),
                required("domain", String, "The domain, or `(small domains)` / `(small groups)` for merged rows."),
                required("group", Integer, "Tells merged rows of one domain value apart (0 for a named domain)."),
                required("domains", Integer, "Domains in the row (1 for a named domain)."),
                required("contacts", Integer, "Distinct contacts at them."),
                required("messages", Integer, "Messages exchanged with them (banded unless --precise)."),
                field("server", String, "The host that serves them (MX, XMPP or Matrix server); null when not found or when it would name a small domain."),
                field("provider", String, "The provider level's bucket: a company, `behind gateway X`, or the server's organisations (`; `-separated); null when the server was not found, and in `(small groups)` rows."),
                field("service", String, "The service a provider rule named (`Gmail`, `Microsoft 365 (inferred from SPF)`)."),
                field("gateway", String, "The filtering gateway in front of the mailbox."),
                field("organisation", String, "Who hosts the server (`; `-separated)."),
                field("asns", String, "Its autonomous systems (`; `-separated, `AS15169 GOOGLE`)."),
                field("country", String, "Its countries (`; `-separated)."),
                field("not_found", String, "Why the server was not found (null when it was)."),
                field("steps", String, "How the server was found, the steps in order, `; `-separated (`MX 10 mx1.example.org; MX 20 mx2.example.org`, `.well-known/matrix/server: matrix.example.org:443`, `no SRV _xmpp-server._tcp.example.org`); null for merged rows (they would name a domain) and for snapshots stored before the steps were kept."),
            ],
            KEY,
        )
        .references(&["snapshot_id"], "snapshots", &["snapshot_id"]),
        Table::new(
            "contacts",
            "Contacts snapshots: each contact under a pseudonym (the same in every snapshot of one export), its protocol and domain.",
            vec![
                required("snapshot_id", Integer, "The contacts snapshot."),
                required("contact", String, "The contact's pseudonym (`c-` and hex): the address itself is never stored."),
                required("protocol", String, "`email`, `xmpp`, `matrix` or `fediverse`."),
                required("domain", String, "Its domain as in `contact_domains.domain`."),
                required("messages", Integer, "Messages exchanged with it (banded unless --precise)."),
            ],
            &["snapshot_id", "contact"],
        )
        .references(&["snapshot_id"], "snapshots", &["snapshot_id"]),
    ]
}

/// One exported row of `contact_domains`, before its values are written.
#[derive(Debug, Default)]
struct Row {
    domains: u64,
    contacts: u64,
    messages: u64,
    server: Option<Text>,
    d: DomainRecord,
}

/// The rows of contacts snapshot `id` into `tables`.
///
/// # Errors
/// Store errors.
pub fn add(tables: &mut Tables, id: i64, store: &Store, keys: &Pseudonymiser, view: &Privacy<'_>) -> Result<()> {
    let min = view.min_group();
    let domains = store.contact_domains(id)?;
    let big = |contacts: u64| min.admits(contacts as f64, f64::INFINITY);
    // Contacts per server: a server that serves only small domains would name one.
    let mut per_server: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &domains {
        if let Some(s) = &d.server {
            *per_server.entry(s.as_str()).or_default() += d.contacts;
        }
    }
    let mut named: Vec<Row> = vec![];
    type Merged = (Text, Option<Text>, Option<Text>, Option<Text>, Option<Text>);
    let mut small: BTreeMap<Merged, Row> = BTreeMap::new();
    // How each stored (protocol, domain) is exported: itself, or the merged row it went to.
    let mut shown_as: BTreeMap<(Text, Text), Text> = BTreeMap::new();
    let mut merged_into: BTreeMap<(Text, Text), Merged> = BTreeMap::new();
    for d in &domains {
        if big(d.contacts) {
            shown_as.insert((d.protocol.to_string(), d.domain.clone()), d.domain.clone());
            named.push(Row {
                domains: 1,
                contacts: d.contacts,
                messages: d.messages,
                server: d.server.clone(),
                d: d.clone(),
            });
            continue;
        }
        let server = d
            .server
            .clone()
            .filter(|s| big(per_server.get(s.as_str()).copied().unwrap_or(0)) && !s.ends_with(&d.domain));
        let key = (
            d.protocol.to_string(),
            d.provider.clone(),
            d.gateway.clone(),
            d.not_found.clone(),
            server.clone(),
        );
        merged_into.insert((d.protocol.to_string(), d.domain.clone()), key.clone());
        let r = small.entry(key).or_insert_with(|| Row {
            server,
            d: DomainRecord {
                protocol: d.protocol,
                domain: SMALL_DOMAINS.to_string(),
                provider: d.provider.clone(),
                service: d.service.clone(),
                gateway: d.gateway.clone(),
                organisation: d.organisation.clone(),
                asns: d.asns.clone(),
                country: d.country.clone(),
                not_found: d.not_found.clone(),
                ..DomainRecord::default()
            },
            ..Row::default()
        });
        r.domains += 1;
        r.contacts += d.contacts;
        r.messages += d.messages;
        // Attributes the merged domains do not share are left out.
        for (mine, theirs) in [
            (&mut r.d.service, &d.service),
            (&mut r.d.organisation, &d.organisation),
            (&mut r.d.asns, &d.asns),
            (&mut r.d.country, &d.country),
        ] {
            if mine != theirs {
                *mine = None;
            }
        }
    }
    // Merged rows still under the minimum: only the protocol and whether it was found.
    let mut rows: Vec<Row> = named;
    let mut groups: BTreeMap<(Text, bool), Row> = BTreeMap::new();
    let mut label: BTreeMap<Merged, &str> = BTreeMap::new();
    for (key, r) in small {
        if big(r.contacts) {
            label.insert(key, SMALL_DOMAINS);
            rows.push(r);
            continue;
        }
        label.insert(key, SMALL_GROUPS);
        let g = groups
            .entry((r.d.protocol.to_string(), r.d.not_found.is_some()))
            .or_insert_with(|| Row {
                d: DomainRecord {
                    protocol: r.d.protocol,
                    domain: SMALL_GROUPS.to_string(),
                    not_found: r.d.not_found.as_ref().map(|_| "not found".to_string()),
                    ..DomainRecord::default()
                },
                ..Row::default()
            });
        g.domains += r.domains;
        g.contacts += r.contacts;
        g.messages += r.messages;
    }
    rows.extend(groups.into_values());
    // Which exported domain value each stored domain went to, for the contacts table.
    let mut group_of: BTreeMap<Text, i64> = BTreeMap::new();
    let table = tables.get("contact_domains");
    for r in &rows {
        let n = group_of
            .entry(format!("{}\0{}", r.d.protocol, r.d.domain))
            .or_insert(-1);
        *n += 1;
        table.push(vec![
            id.into(),
            r.d.protocol.into(),
            r.d.domain.as_str().into(),
            Value::Int(*n),
            count(r.domains),
            count(r.contacts),
            view.account_count(Some(r.messages)),
            r.server.clone().into(),
            r.d.provider.clone().into(),
            r.d.service.clone().into(),
            r.d.gateway.clone().into(),
            r.d.organisation.clone().into(),
            r.d.asns.clone().into(),
            r.d.country.clone().into(),
            r.d.not_found.clone().into(),
            (!r.d.steps.is_empty()).then(|| r.d.steps.join("; ")).into(),
        ]);
    }
    let contacts = tables.get("contacts");
    for c in store.contact_rows(id)? {
        let at = (c.protocol.clone(), c.domain.clone());
        let shown = match shown_as.get(&at) {
            Some(d) => d.clone(),
            None => merged_into
                .get(&at)
                .and_then(|k| label.get(k))
                .unwrap_or(&SMALL_GROUPS)
                .to_string(),
        };
        contacts.push(vec![
            id.into(),
            keys.pseudonym("contact", &c.hash).into(),
            c.protocol.into(),
            shown.into(),
            view.account_count(Some(c.messages)),
        ]);
    }
    measures(tables, id, &store.contacts(id)?, &domains, min);
    Ok(())
}

/// The buckets of `level` that domain `d` counts in (none when its server was not found).
fn buckets_of<'a>(d: &'a DomainRecord, level: &str) -> Vec<&'a str> {
    if d.not_found.is_some() {
        return vec![];
    }
    let split = |v: &'a Option<Text>| v.as_deref().map(|v| v.split("; ").collect()).unwrap_or_default();
    match level {
        "protocol" => vec![d.protocol],
        "domain" => vec![d.domain.as_str()],
        "server" => d.server.as_deref().into_iter().collect(),
        "provider" => split(&d.provider),
        "gateway" if d.protocol == "email" => d.gateway.as_deref().into_iter().collect(),
        "organisation" => split(&d.organisation),
        "as" => split(&d.asns),
        "country" => split(&d.country),
        _ => vec![],
    }
}

/// The concentration rows of contacts snapshot `id` (`metric_summary`, `metric_buckets`,
/// `metric_apart`, under the contacts levels' names and the measurement's weight), with the
/// minimum group size applied as to follows: a bucket's size is the number of contacts at the
/// domains it holds, so no bucket names a domain, server or provider of fewer contacts.
fn measures(tables: &mut Tables, id: i64, m: &Measurement, domains: &[DomainRecord], min: MinGroup) {
    for (name, weights) in &m.levels {
        let mut members: BTreeMap<Text, f64> = BTreeMap::new();
        for d in domains {
            for b in buckets_of(d, name) {
                *members.entry(b.to_string()).or_default() += d.contacts as f64;
            }
        }
        let ranking = Ranking::new(
            weights.iter().map(|(key, &weight)| (key.clone(), key.clone(), weight)),
            m.apart_at(name),
        );
        let unbounded: BTreeMap<Text, f64> = members.keys().map(|k| (k.clone(), f64::INFINITY)).collect();
        let (grouped, changed) = small_groups(&ranking, min, &members, &unbounded);
        level(tables, id, (name, m.weight), &grouped, &ranking.summary, changed);
    }
}
