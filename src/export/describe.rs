//! The population and method sections of an export's README.md, per snapshot.

use crate::metrics::Population;
use crate::model::snapshot::Snapshot;

/// The licence of the ASN data as stored, or "not stated".
pub fn licence(stored: Option<&str>) -> String {
    match stored.map(str::trim) {
        Some(l) if !l.is_empty() && !l.to_lowercase().starts_with("unknown") => l.to_string(),
        _ => "not stated".to_string(),
    }
}

const WEIGHTS: &str = "Weights: `accounts` (distinct accounts, by actor URI else handle: one followed by two seeds or listed both ways counts once), `edges` (distinct seed → account follows, per direction), `instances` (each instance once), `users` (the instance's NodeInfo `usage.users.total`; instances without it counted apart) and `active` (in a follows snapshot, accounts whose last post is at most 90 days before the crawl ended; in a survey, kind `instances`, the instance's NodeInfo `usage.users.activeMonth`). A survey counts no accounts: it has only the `instances`, `users` and `active` weights, over the instances whose counts are trusted. Levels: instance, organisation (CDN-fronted hosts in a `behind CDN X, origin unknown` bucket, never credited to the CDN), AS, range (the database row), block (/24 or /48), country, hosting (managed-hosting service named in the CNAME chain). Per level and weight: top-1/3/5/10 shares, k50 and k75 (fewest buckets reaching 50 % / 75 %, within 1e-9), HHI (0–10,000; under 1,000 unconcentrated, 1,000–1,800 moderate, over 1,800 high), Shannon entropy (nats) and e^H, Gini. Weight a level cannot place is in `metric_apart`, never dropped.\n\n";

/// The method section: how the snapshots were attributed.
pub fn method(snapshots: &[(i64, &Snapshot)]) -> String {
    let mut s = String::from("## Method\n\n");
    s.push_str("Each instance host was resolved (A and AAAA, CNAMEs followed) by the resolver the crawler connected with; each address was looked up in an offline IP-to-ASN database and mapped to an organisation (several ASNs of one company merged). CDN edges (Cloudflare, Fastly, Akamai, CloudFront, by AS or CNAME) hide the origin: such hosts are credited to `behind CDN X, origin unknown`.\n\n");
    for (id, snap) in snapshots {
        let a = &snap.attribution;
        let (v4, v6) = snap
            .hosts
            .values()
            .flat_map(|h| &h.addresses)
            .fold(
                (0, 0),
                |(v4, v6), x| {
                    if x.ip.is_ipv4() {
                        (v4 + 1, v6)
                    } else {
                        (v4, v6 + 1)
                    }
                },
            );
        s.push_str(&format!(
            "- Snapshot {id} ({} to {}, {}): address policy {}; {v4} IPv4 and {v6} IPv6 addresses attributed; ",
            snap.crawl.started_at, snap.crawl.finished_at, snap.crawl.tool, a.address_policy
        ));
        match &a.database {
            Some(db) => s.push_str(&format!(
                "ASN database `{}` ({}, sha256 {}, dated {}, {} IPv4 and {} IPv6 ranges); credits and licence of the ASN data: {}.\n",
                super::file_name_only(&db.file),
                db.format,
                db.sha256,
                db.date,
                db.ranges_v4,
                db.ranges_v6,
                licence(Some(&db.licence))
            )),
            None if a.online_fallback => s.push_str("no ASN database: Team Cymru's DNS service (origin.asn.cymru.com) was asked; credits and licence of the ASN data: not stated.\n"),
            None => s.push_str("no ASN database and no online fallback: hosts are not attributed; credits and licence of the ASN data: not stated.\n"),
        }
    }
    s.push('\n');
    s.push_str(WEIGHTS);
    s
}

/// The population section: what each snapshot counted and what it could not, follows
/// snapshots from their [`Population`], surveys (kind `instances`) from the figures the store
/// keeps with them (`listed`, `nodeinfo_read`, `users` …).
pub fn population(snapshots: &[(i64, &Population)], surveys: &[(i64, &[(String, f64)])]) -> String {
    let mut s = String::from("## Population\n\n");
    for (id, p) in snapshots {
        s.push_str(&format!(
            "- Snapshot {id}: {} seeds ({} complete, {} failed, {} duplicate, {} opted out); {} follow lists ({} complete, {} hidden by their owner, {} whose items the server does not expose, with {} accounts declared but unseen in those, {} refused, {} partial); {} distinct accounts counted ({} opted out of crawlers: counted, never rows; {} without a known server; {} whose actor could not be fetched) over {} follow edges; {} instances ({} without NodeInfo, {} unresolved, {} not attributed).\n",
            p.seeds, p.seeds_complete, p.seeds_failed, p.seeds_duplicate, p.seeds_opted_out,
            p.lists, p.lists_complete, p.lists_hidden, p.lists_not_exposed, p.accounts_unseen, p.lists_refused, p.lists_partial,
            p.accounts, p.accounts_opted_out, p.accounts_without_server, p.accounts_fetch_failed, p.edges,
            p.instances, p.instances_without_nodeinfo, p.instances_unresolved, p.instances_not_attributed
        ));
    }
    for (id, figures) in surveys {
        let f = |name: &str| {
            figures
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| v.round() as i64)
        };
        s.push_str(&format!(
            "- Snapshot {id} (a survey of an instance list, kind `instances`): {} instances listed ({} duplicates and {} bad entries left out); NodeInfo read from {}, not from {}; {} of other software left out by the software filter; {} with implausible counts, not trusted; {} users, {} active in the last month, as the trusted instances declare them.\n",
            f("listed"), f("duplicates"), f("bad_entries"), f("nodeinfo_read"), f("failed"),
            f("other_software"), f("implausible"), f("users"), f("active")
        ));
    }
    s.push_str("\nThe `population` table holds every figure per snapshot.\n\n");
    s
}
